/**
 * docs/getting-started.md, followed as a newcomer would: every `hostmaint`
 * command of its sections 1 and 2 (install check, completion, the demo cloud),
 * taken from the page itself, run in order in a shell with a fresh HOME and
 * `hostmaint` on PATH (bin/hostmaint.js: `npm run build` first, npm test does),
 * each with the exit code the page leads one to expect. A command added to or
 * changed on the page is run as written.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers.js';
import { requireBuiltCli } from './runs-helpers.js';

/** The shell lines of the page's ```sh blocks between two headings (comments kept: bash ignores them). */
function shellLines(doc: string, fromHeading: RegExp, toHeading: RegExp): string[] {
  const lines = doc.split('\n');
  const from = lines.findIndex((l) => fromHeading.test(l));
  const to = lines.findIndex((l, i) => i > from && toHeading.test(l));
  const out: string[] = [];
  let inSh = false;
  for (const l of lines.slice(from, to)) {
    if (l.startsWith('```')) {
      inSh = !inSh && l.trim() === '```sh';
      continue;
    }
    if (inSh && l.trim()) out.push(l);
  }
  return out;
}

describe('docs/getting-started.md on the demo cloud, command by command (bin/hostmaint.js)', function () {
  this.timeout(300_000);
  before(requireBuiltCli);

  it('every command of "Install" and "Try it on the demo cloud" runs as written, in order, with the exit code the page gives', () => {
    const doc = readFileSync(path.resolve('docs/getting-started.md'), 'utf8');
    // Install: the clone and npm steps are this checkout; the alias is a PATH shim (aliases do not reach bash -c).
    const lines = [
      ...shellLines(doc, /^## 1\. Install/, /^## 2\./).filter((l) => /^(hostmaint|mkdir|source)\b/.test(l)),
      ...shellLines(doc, /^## 2\. Try it/, /^## 3\./),
    ];
    assert.ok(lines.length >= 9, `commands found: ${lines.join('\n')}`);
    const home = tempDir('hm-guide-');
    const bin = path.join(home, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'hostmaint'), `#!/bin/sh\nexec "${process.execPath}" "${path.resolve('bin/hostmaint.js')}" "$@"\n`);
    chmodSync(path.join(bin, 'hostmaint'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: home, HOSTMAINT_DEMO_SPEED: '50', LANG: 'C.UTF-8' };
    try {
      for (const line of lines) {
        // The page says the demo-failures drain ends partial (exit 4); every other command succeeds.
        const expected = /demo-failures/.test(line) ? 4 : 0;
        // A zsh line (`source <(hostmaint completion zsh)`) needs zsh: bash runs the script's generation only.
        const cmd = /#\s*zsh\b/.test(line) ? line.replace(/^source <\((.*?)\)/, '$1 > /dev/null') : line;
        const r = spawnSync('bash', ['-c', cmd], { env, cwd: home, encoding: 'utf8', timeout: 240_000 });
        assert.equal(r.status, expected, `\`${line}\` exited ${r.status} (${r.signal ?? ''}):\n${r.stdout}\n${r.stderr}`);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
