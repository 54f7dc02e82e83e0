import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { EXIT_DESCRIPTIONS, exitCodeForKind } from '../../../src/core/exit-codes.js';
import { describeError } from '../../../src/cli/errors.js';
import { HostmaintError, HttpError } from '../../../src/core/errors.js';

describe('exit codes', () => {
  it('docs/exit-codes.md lists exactly the codes of the table', () => {
    const doc = readFileSync(new URL('../../../docs/exit-codes.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    const table = Object.keys(EXIT_DESCRIPTIONS).map(Number).sort((a, b) => a - b);
    assert.deepEqual(documented, table);
  });

  it('maps each error kind class to its code', () => {
    assert.equal(exitCodeForKind('unknown-host'), 2);
    assert.equal(exitCodeForKind('config'), 2);
    assert.equal(exitCodeForKind('preflight'), 3);
    assert.equal(exitCodeForKind('partial'), 4);
    assert.equal(exitCodeForKind('ownership'), 5);
    assert.equal(exitCodeForKind('auth'), 6);
    assert.equal(exitCodeForKind('network'), 6);
    assert.equal(exitCodeForKind('interrupted'), 130);
    assert.equal(exitCodeForKind('internal'), 1);
  });

  it('the funnel says what, why and what to do for an HTTP error', () => {
    const err = new HttpError('conflict', 'Nova refused the live migration of vm-1', {
      status: 409, method: 'POST', url: 'http://127.0.0.1:8774/v2.1/servers/x/action', service: 'compute',
      requestId: 'req-123', faultMessage: "Cannot 'os-migrateLive' instance x while it is in vm_state stopped",
    }, { hint: 'Cold-migrate stopped instances (--stopped cold).' });
    const r = describeError(err);
    assert.equal(r.exitCode, 5);
    assert.match(r.text, /^hostmaint: Nova refused/);
    assert.match(r.text, /why: POST http:\/\/127\.0\.0\.1:8774\/v2\.1\/servers\/x\/action answered 409: Cannot 'os-migrateLive'.*\(request id req-123\)/);
    assert.match(r.text, /what to do: Cold-migrate/);
    assert.equal((r.json.error as Record<string, unknown>).requestId, 'req-123');
  });

  it('an unknown exception is exit 1 and says it is likely a bug', () => {
    const r = describeError(new TypeError('x is undefined'));
    assert.equal(r.exitCode, 1);
    assert.match(r.text, /unexpected error: x is undefined/);
    assert.equal(describeError(new HostmaintError('usage', 'bad')).exitCode, 2);
  });
});

describe('exit codes: every exit path is documented (a scan of src/ and bin/)', () => {
  it('every code the program can produce is in docs/exit-codes.md', async () => {
    const { readdirSync, statSync } = await import('node:fs');
    const path = await import('node:path');
    const { EXIT } = await import('../../../src/core/exit-codes.js');
    const root = new URL('../../../', import.meta.url).pathname;
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = path.join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|js)$/.test(n)) files.push(p);
      }
    };
    walk(path.join(root, 'src'));
    walk(path.join(root, 'bin'));
    const doc = readFileSync(path.join(root, 'docs/exit-codes.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1])));
    const found = new Map<number, string>();
    const names = EXIT as Record<string, number>;
    for (const file of files) {
      // The emulator is a cloud, not hostmaint's exit paths (it never ends the process).
      if (file.includes(`${path.sep}emulator${path.sep}`)) continue;
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(root, file);
      const at = (code: number, why: string) => {
        if (!found.has(code)) found.set(code, `${rel}: ${why}`);
      };
      for (const m of text.matchAll(/process\.exit\(([^)]*)\)/g)) {
        const arg = (m[1] ?? '').trim();
        if (/^\d+$/.test(arg)) at(Number(arg), m[0]);
        else if (/^EXIT\.\w+$/.test(arg)) at(names[arg.slice(5)]!, m[0]);
        else assert.fail(`${rel}: ${m[0]}: an exit path whose code the scan cannot read; use a number or EXIT.NAME`);
      }
      for (const m of text.matchAll(/exitCode\s*[:=]\s*(\d+)\b/g)) at(Number(m[1]), m[0]);
      for (const m of text.matchAll(/\bEXIT\.([A-Z_]+)\b/g)) {
        assert.ok(m[1]! in names, `${rel}: EXIT.${m[1]} is not in the table`);
        at(names[m[1]!]!, m[0]);
      }
    }
    assert.ok(found.size >= 9, `the scan found only ${[...found.keys()].join(', ')}`);
    const undocumented = [...found].filter(([code]) => !documented.has(code)).map(([code, where]) => `${code} (${where})`);
    assert.deepEqual(undocumented, [], 'exit codes the program can produce that docs/exit-codes.md does not document');
  });

  it('bin/hostmaint.js never ends with Node\'s own exit 13 (a command that never settles): it reports exit 1', () => {
    const bin = readFileSync(new URL('../../../bin/hostmaint.js', import.meta.url), 'utf8');
    assert.match(bin, /process\.on\('beforeExit'[\s\S]*process\.exit\(1\)/);
  });
});
