import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { HostmaintError } from '../../../src/core/errors.js';
import { redactSecrets, shellQuote, substitute, substituteDeep } from '../../../src/steps/substitute.js';
import { VARS } from './helpers.js';

/** What /bin/sh makes of a command line: its argv, one per line. */
function shellWords(cmd: string): string[] {
  const out = execFileSync('/bin/sh', ['-c', `for a in ${cmd}; do printf '%s\\n' "$a"; done`], { encoding: 'utf8' });
  return out.split('\n').slice(0, -1);
}

describe('steps: substitute', () => {
  it('plain mode replaces every placeholder and leaves other braces alone', () => {
    const r = substitute('{host} {runId} {workflow} {step} {cloud} {reason} {other} ${HOME} {}', VARS, {}, 'plain');
    assert.equal(r.text, 'compute-01 20240101T000000Z-abcd maintenance-cycle patch prod kernel update {other} ${HOME} {}');
    assert.deepEqual(r.secrets, []);
  });

  it('shell mode quotes each value as one word', () => {
    const r = substitute('echo {host} {reason}', VARS, {}, 'shell');
    assert.equal(r.text, `echo 'compute-01' 'kernel update'`);
    assert.deepEqual(shellWords(r.text.slice('echo '.length)), ['compute-01', 'kernel update']);
    assert.equal(shellQuote(''), "''");
  });

  it('a value with quotes and shell syntax cannot break out of its word', () => {
    const evil = `x'; touch /tmp/pwned-hostmaint; echo '$(id)\`id\`"`;
    const r = substitute('{host}', { ...VARS, host: evil }, {}, 'shell');
    assert.deepEqual(shellWords(r.text), [evil]);
    const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${r.text}`], { encoding: 'utf8' });
    assert.equal(out, evil);
  });

  it('{env:NAME} takes the environment value and reports it as a secret', () => {
    const r = substitute('Bearer {env:API_TOKEN} for {host}', VARS, { API_TOKEN: 's3cr3t-token' }, 'plain');
    assert.equal(r.text, 'Bearer s3cr3t-token for compute-01');
    assert.deepEqual(r.secrets, ['s3cr3t-token']);
    const sh = substitute('curl -H {env:API_TOKEN}', VARS, { API_TOKEN: "it's" }, 'shell');
    assert.equal(sh.text, `curl -H 'it'\\''s'`);
  });

  it('a missing env var is a config error naming the variable', () => {
    assert.throws(
      () => substitute('x {env:NOPE_NOT_SET}', VARS, { OTHER: 'value-here' }, 'plain'),
      (e: unknown) => e instanceof HostmaintError && e.kind === 'config' && /NOPE_NOT_SET/.test(e.message) && !/value-here/.test(e.message),
    );
  });

  it('substituteDeep substitutes every string at any depth and keeps other values', () => {
    const payload = { host: '{host}', n: 3, ok: true, none: null, list: ['{cloud}', { deep: 'token {env:T}' }, 7], '{host}': 'key kept' };
    const r = substituteDeep(payload, VARS, { T: 'abcd1234' });
    assert.deepEqual(r.value, { host: 'compute-01', n: 3, ok: true, none: null, list: ['prod', { deep: 'token abcd1234' }, 7], '{host}': 'key kept' });
    assert.deepEqual(r.secrets, ['abcd1234']);
    assert.equal(payload.host, '{host}', 'input not modified');
    assert.deepEqual(substituteDeep('{step}', VARS, {}).value, 'patch');
  });

  it('redactSecrets replaces secrets of 4+ characters, longest first', () => {
    assert.equal(redactSecrets('a token abcd and abcdef and abc', ['abc', 'abcd', 'abcdef']), 'a token *** and *** and abc');
    assert.equal(redactSecrets('nothing', []), 'nothing');
  });
});
