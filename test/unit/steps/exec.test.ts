import assert from 'node:assert/strict';
import { realClock } from '../../../src/core/clock.js';
import { memoryLogger } from '../../../src/core/log.js';
import { runExecStep, TAIL_BYTES } from '../../../src/steps/exec.js';
import type { ExecStep } from '../../../src/workflow-file/types.js';
import { alive, VARS } from './helpers.js';

function step(command: string | string[], o: Partial<ExecStep> = {}): ExecStep {
  return { type: 'exec', name: 'patch', description: null, onFailure: 'stop', command, timeoutMs: 10_000, retries: 0, env: {}, passEnv: [], ...o };
}

const deps = () => ({ clock: realClock, logger: memoryLogger() });
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

describe('steps: exec', () => {
  it('`true` is ok with exit 0', async () => {
    const r = await runExecStep(step('true'), { vars: VARS, env: ENV }, deps());
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.exitCode, 0);
    assert.equal(r.detail.exitCode, 0);
    assert.equal(r.detail.attempts, 1);
    assert.equal(r.detail.timedOut, false);
    assert.equal(typeof r.detail.durationMs, 'number');
  });

  it('a non-zero exit fails with exit code 7 and the last stderr line', async () => {
    const r = await runExecStep(step(`echo starting; echo 'disk full' >&2; exit 3`), { vars: VARS, env: ENV }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 7);
    assert.equal(r.detail.exitCode, 3);
    assert.match(r.message, /^exec patch: exited 3 after \S+ \(attempt 1\/1\): disk full$/);
    assert.equal(r.detail.stdoutTail, 'starting\n');
    assert.equal(r.detail.command, `echo starting; echo 'disk full' >&2; exit 3`);
  });

  it('placeholders reach the shell quoted, HOSTMAINT_* and step env reach the child', async () => {
    const lines: string[] = [];
    const s = step(`printf '%s|' {host} {reason} "$HOSTMAINT_HOST" "$HOSTMAINT_RUN_ID" "$HOSTMAINT_WORKFLOW" "$HOSTMAINT_STEP" "$HOSTMAINT_CLOUD" "$EXTRA"`, {
      env: { EXTRA: 'on {host} for {reason}' },
    });
    const r = await runExecStep(s, { vars: { ...VARS, reason: "it's $(reboot)" }, env: ENV, onOutput: (_s, l) => lines.push(l) }, deps());
    assert.equal(r.status, 'ok', r.message);
    const expected = `compute-01|it's $(reboot)|compute-01|20240101T000000Z-abcd|maintenance-cycle|patch|prod|on compute-01 for it's $(reboot)|`;
    assert.equal(r.detail.stdoutTail, expected);
    assert.deepEqual(lines, [expected]);
    assert.match(String(r.detail.command), /\{host\} \{reason\}/, 'the template, not the substituted text');
  });

  it('the cloud\'s credentials are not in the child\'s environment, and the cloud\'s secrets are redacted from what it prints', async () => {
    const env = { PATH: process.env.PATH, OS_CLOUD: 'prod', OS_PASSWORD: 'pw-7a1c9e', OS_TOKEN: 'tok-5d2b8f', OS_APPLICATION_CREDENTIAL_SECRET: 'acs-4e6f0a', SAVED: 'pw-7a1c9e' };
    // pass-env '*': all of hostmaint's environment but the cloud's credentials (the default passes far less: see below).
    const r = await runExecStep(step('env | grep ^OS_ | sort; echo "from a file: $SAVED"; exit 1', { passEnv: ['*'] }), { vars: VARS, env, secrets: ['pw-7a1c9e'] }, { clock: realClock, logger: memoryLogger() });
    const all = JSON.stringify(r);
    assert.match(String(r.detail.stdoutTail), /OS_CLOUD=prod/);
    for (const secret of ['pw-7a1c9e', 'tok-5d2b8f', 'acs-4e6f0a']) assert.ok(!all.includes(secret), `${secret} in ${all}`);
    assert.doesNotMatch(String(r.detail.stdoutTail), /OS_PASSWORD|OS_TOKEN|OS_APPLICATION_CREDENTIAL_SECRET/);
    assert.match(String(r.detail.stdoutTail), /from a file: \*\*\*/);
  });

  it('by default the child gets PATH, HOME, LANG, HOSTMAINT_* and the names in pass-env only (issue 21)', async () => {
    const env = { PATH: process.env.PATH, HOME: '/home/op', LANG: 'C.UTF-8', MYTOKEN: 'tok123', SSH_AUTH_SOCK: '/tmp/agent', HOSTMAINT_MAINTENANCE_COMMAND: 'reboot', OS_CLOUD: 'prod' };
    const r = await runExecStep(step('env | sort'), { vars: VARS, env }, deps());
    const names = String(r.detail.stdoutTail).split('\n').filter(Boolean).map((l) => l.split('=')[0]);
    assert.deepEqual(names.filter((n) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(n!)), ['HOME', 'HOSTMAINT_CLOUD', 'HOSTMAINT_HOST', 'HOSTMAINT_MAINTENANCE_COMMAND', 'HOSTMAINT_RUN_ID', 'HOSTMAINT_STEP', 'HOSTMAINT_WORKFLOW', 'LANG', 'PATH']);
    const passed = await runExecStep(step('echo "$SSH_AUTH_SOCK|$MYTOKEN"', { passEnv: ['SSH_AUTH_SOCK'] }), { vars: VARS, env }, deps());
    assert.equal(passed.detail.stdoutTail, '/tmp/agent|\n');
  });

  it('the argv form runs without a shell, each element substituted as is', async () => {
    const r = await runExecStep(step(['printf', '%s|', '{host}', '$HOME', '{reason}; ls']), { vars: VARS, env: ENV }, deps());
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.detail.stdoutTail, 'compute-01|$HOME|kernel update; ls|');
  });

  it('a timeout kills the whole process group (the child too) and is retried', async function () {
    this.timeout(15_000);
    const pids: number[] = [];
    const s = step(`sleep 30 & echo $!; wait`, { timeoutMs: 300, retries: 1 });
    const r = await runExecStep(s, { vars: VARS, env: ENV, onOutput: (_s, l) => pids.push(Number(l)) }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.detail.timedOut, true);
    assert.equal(r.detail.attempts, 2);
    assert.match(r.message, /^exec patch: timed out after 300ms \(attempt 2\/2\)/);
    assert.equal(pids.length, 2);
    for (const pid of pids) {
      // SIGTERM is immediate for sleep; allow the kernel a moment.
      for (let i = 0; i < 50 && (await alive(pid)); i++) await new Promise((res) => setTimeout(res, 20));
      assert.equal(await alive(pid), false, `child ${pid} still running`);
    }
  });

  it('a group that ignores SIGTERM is killed after the grace', async function () {
    this.timeout(15_000);
    const pids: number[] = [];
    const s = step(`trap '' TERM; sh -c 'trap "" TERM; sleep 30' & echo $!; wait`, { timeoutMs: 300 });
    const r = await runExecStep(s, { vars: VARS, env: ENV, onOutput: (_s, l) => pids.push(Number(l)) }, { ...deps(), killGraceMs: 200 });
    assert.equal(r.detail.timedOut, true);
    assert.equal(r.status, 'failed');
    for (let i = 0; i < 100 && (await alive(pids[0]!)); i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(await alive(pids[0]!), false);
  });

  it('retries after a non-zero exit: attempts counted, ok once it passes', async () => {
    const marker = `/tmp/hostmaint-exec-test-${process.pid}-${Date.now()}`;
    const s = step(`if [ -e ${marker} ]; then rm ${marker}; exit 0; else touch ${marker}; exit 1; fi`, { retries: 3 });
    const r = await runExecStep(s, { vars: VARS, env: ENV }, deps());
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.detail.attempts, 2);
    const f = await runExecStep(step('exit 2', { retries: 2 }), { vars: VARS, env: ENV }, deps());
    assert.equal(f.detail.attempts, 3);
    assert.match(f.message, /attempt 3\/3/);
  });

  it('keeps only the last 4 KiB of each stream', async () => {
    const r = await runExecStep(step(`i=0; while [ $i -lt 2000 ]; do echo "line $i"; echo "err $i" >&2; i=$((i+1)); done`), { vars: VARS, env: ENV }, deps());
    assert.equal(r.status, 'ok', r.message);
    const out = String(r.detail.stdoutTail);
    const err = String(r.detail.stderrTail);
    assert.ok(Buffer.byteLength(out) <= TAIL_BYTES && Buffer.byteLength(out) > TAIL_BYTES - 20, String(out.length));
    assert.ok(Buffer.byteLength(err) <= TAIL_BYTES);
    assert.ok(out.endsWith('line 1999\n'));
    assert.ok(err.endsWith('err 1999\n'));
    assert.ok(!out.includes('line 0\n'));
  });

  it('a secret from {env:NAME} is redacted from tails, lines, message and logs', async () => {
    const secret = 'tok-9f8e7d6c5b4a';
    const lines: string[] = [];
    const d = deps();
    const r = await runExecStep(step(`echo auth {env:API_TOKEN}; echo failed with {env:API_TOKEN} >&2; exit 1`), {
      vars: VARS,
      env: { ...ENV, API_TOKEN: secret },
      onOutput: (_s, l) => lines.push(l),
    }, d);
    assert.equal(r.status, 'failed');
    const all = JSON.stringify(r) + lines.join('\n') + d.logger.text();
    assert.ok(!all.includes(secret), all);
    assert.equal(r.detail.stdoutTail, 'auth ***\n');
    assert.match(r.message, /failed with \*\*\*/);
  });

  it('a missing {env:NAME} fails without running anything, naming the variable', async () => {
    const r = await runExecStep(step('echo {env:HOSTMAINT_TEST_UNSET}'), { vars: VARS, env: ENV }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 7);
    assert.match(r.message, /HOSTMAINT_TEST_UNSET is not set/);
    assert.equal(r.detail.error, 'config');
  });

  it('a command that cannot start (ENOENT) fails with a clear message', async () => {
    const r = await runExecStep(step(['/nonexistent/patch-tool', '{host}']), { vars: VARS, env: ENV }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 7);
    assert.equal(r.message, 'exec patch: cannot start /nonexistent/patch-tool: not found (ENOENT)');
    assert.equal(r.detail.attempts, 1);
  });

  it('an argument the OS cannot take (a NUL byte) fails instead of throwing', async () => {
    const r = await runExecStep(step(['echo', '{reason}']), { vars: { ...VARS, reason: 'a\u0000b' }, env: ENV }, deps());
    assert.equal(r.status, 'failed');
    assert.match(r.message, /^exec patch: cannot start echo: /);
  });

  it('a throwing output listener does not break the step', async () => {
    const r = await runExecStep(step('echo hi'), { vars: VARS, env: ENV, onOutput: () => { throw new Error('listener bug'); } }, deps());
    assert.equal(r.status, 'ok', r.message);
  });

  it('an abort kills the command, returns interrupted and does not retry', async function () {
    this.timeout(10_000);
    const ac = new AbortController();
    const pids: number[] = [];
    const started = Date.now();
    const p = runExecStep(step(`sleep 30 & echo $!; wait`, { retries: 3 }), {
      vars: VARS,
      env: ENV,
      signal: ac.signal,
      onOutput: (_s, l) => {
        pids.push(Number(l));
        ac.abort(new Error('stop'));
      },
    }, deps());
    const r = await p;
    assert.equal(r.status, 'failed');
    assert.equal(r.message, 'interrupted');
    assert.equal(r.detail.interrupted, true);
    assert.equal(r.detail.attempts, 1);
    assert.ok(Date.now() - started < 5000);
    for (let i = 0; i < 50 && (await alive(pids[0]!)); i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(await alive(pids[0]!), false);
    const pre = await runExecStep(step('true'), { vars: VARS, env: ENV, signal: ac.signal }, deps());
    assert.equal(pre.message, 'interrupted');
    assert.equal(pre.detail.attempts, 0);
  });
});
