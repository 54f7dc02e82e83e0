/** Shell completion (from yargs) and --help / --version. */
import { COMMAND_NAMES } from '../../src/cli/commands/index.js';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { builtCliReady } from './runs-helpers.js';
import { VERSION } from '../../src/version.js';

const root = path.resolve('.');
const commandsIn = (file: string) => [...readFileSync(path.join(root, file), 'utf8').matchAll(/\.command\((\w+)\(state\)\)/g)].map((m) => m[1]).sort();

describe('CLI: completion, help, version', function () {
  this.timeout(60_000);

  it('completion bash / zsh print scripts that ask hostmaint for the words', async () => {
    const bash = await hostmaint(['completion', 'bash']);
    assert.equal(bash.code, 0);
    assert.match(bash.stdout, /^complete -o bashdefault -o default -F _hostmaint_completions hostmaint$/m);
    assert.match(bash.stdout, /hostmaint completion --words -- /);
    const zsh = await hostmaint(['completion', 'zsh']);
    assert.match(zsh.stdout, /^#compdef hostmaint$/m);
    const fish = await hostmaint(['completion', 'fish']);
    assert.equal(fish.code, 2);
  });

  it('completes commands, flags of the command typed, and the choices of a flag', async () => {
    const words = async (...w: string[]) => (await hostmaint(['completion', '--words', '--', 'hostmaint', ...w])).stdout.trim().split('\n');
    assert.deepEqual((await words('')).sort(), ['completion', 'continue', 'drain', 'emulator', 'history', 'plan', 'resume', 'run', 'status', 'undrain', 'workflow']);
    const drainFlags = await words('drain', 'compute-01', '--');
    for (const f of ['--reason', '--concurrency', '--stopped', '--skip-blocked', '--os-cloud', '--report', '--quiet']) assert.ok(drainFlags.includes(f), f);
    assert.ok(!drainFlags.includes('--return'), 'undrain flags are not drain flags');
    assert.deepEqual(await words('drain', 'compute-01', '--on-timeout', ''), ['abort', 'force-complete', 'wait']);
    assert.ok((await words('undrain', 'x', '--')).includes('--return'));
  });

  it('completion knows every command main.ts registers', () => {
    assert.deepEqual(commandsIn('src/cli/commands/completion.ts'), commandsIn('src/cli/main.ts'));
  });

  it('bash: sourcing the script completes with the real executable', function () {
    const ready = builtCliReady();
    if (!ready.ok || spawnSync('sh', ['-c', 'command -v bash']).status !== 0) this.skip();
    const dir = tempDir('hm-comp-');
    try {
      writeFileSync(path.join(dir, 'hostmaint'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'bin/hostmaint.js')}" "$@"\n`);
      chmodSync(path.join(dir, 'hostmaint'), 0o755);
      const script = 'source <(hostmaint completion bash); COMP_WORDS=(hostmaint drain compute-01 --on-timeout f); COMP_CWORD=4; _hostmaint_completions; echo "${COMPREPLY[@]}"; COMP_WORDS=(hostmaint hi); COMP_CWORD=1; _hostmaint_completions; echo "${COMPREPLY[@]}"';
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
      assert.equal(r.stdout, 'force-complete\nhistory\n', r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every command\'s --help has examples; --version prints the version', function () {
    const ready = builtCliReady();
    if (!ready.ok) this.skip();
    for (const cmd of COMMAND_NAMES) {
      const r = spawnSync(process.execPath, [path.join(root, 'bin/hostmaint.js'), cmd, '--help'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, /^Examples:$/m, `${cmd} --help has no examples`);
    }
    const v = spawnSync(process.execPath, [path.join(root, 'bin/hostmaint.js'), '--version'], { encoding: 'utf8' });
    assert.equal(v.stdout.trim(), VERSION);
  });
});
