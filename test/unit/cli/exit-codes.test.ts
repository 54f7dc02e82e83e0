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
