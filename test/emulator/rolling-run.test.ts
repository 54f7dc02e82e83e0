/**
 * Rolling runs (hostmaint run <workflow> h1 h2 h3) against the emulated
 * cloud: a three-host maintenance cycle host by host, a failure that stops
 * the next hosts (and --continue-on-failure that does not), and a rolling run
 * interrupted on its second host that resumes there, without redoing the
 * first host or moving any instance twice at once.
 */
import { strict as assert } from 'node:assert';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import { runRolling } from '../../src/runs/rolling-runner.js';
import type { DrainEvent } from '../../src/machines/events.js';
import { doubleMoves } from './crash-helpers.js';
import { FAST_MIGRATIONS, openRunEnv, type RunEnv } from './run-env.js';


const SCENARIO: Scenario = {
  name: 'rolling-test',
  migration: FAST_MIGRATIONS,
  defaults: { host: { vcpus: 32, ram_mb: 65536, disk_gb: 2000, max_concurrent_live_migrations: 2 } },
  hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }, { name: 'compute-04' }],
  instances: [
    { name: 'a-{i}', flavor: 'm1.small', host: 'compute-01', count: 2 },
    { name: 'b-{i}', flavor: 'm1.small', host: 'compute-02', count: 2 },
    { name: 'c-{i}', flavor: 'm1.small', host: 'compute-03', count: 2 },
  ],
} as Scenario;

const CYCLE = (exec: string, extra = '') => `version: 1
name: cycle
policies:
  poll-interval: 2s
  stall-timeout: 1m
  reason: rolling test
${extra}steps:
  - type: disable
  - type: preflight
  - type: migrate
  - type: verify-empty
  - type: exec
    name: maintain
    command: ${exec}
  - type: wait-for-service
    fresh: false
    poll-interval: 1s
  - type: enable
  - type: return-instances
`;

type Env = RunEnv;
const open = () => openRunEnv(SCENARIO, 'hm-roll-');

let n = 0;
const writeWorkflow = (env: Env, text: string) => env.file(`wf-${++n}.yaml`, text);

/** The rolling run over compute-01..03, interrupted (as Ctrl-C) once `host`'s drain has a migration running. */
async function interruptedOn(env: Env, host: string, wf: string) {
  const stop = new AbortController();
  return runRolling(env.session, { hosts: ['compute-01', 'compute-02', 'compute-03'], workflow: wf }, env.runner({
    signal: stop.signal,
    emit: (e) => {
      env.events.push(e);
      if (e.type === 'migration-started' && e.host === host && !stop.signal.aborted) stop.abort('test interrupt');
    },
  }));
}

function enabled(emu: Emulator, host: string): boolean {
  return !emu.state.cloud.hosts.get(host)!.disabled;
}

/** The order in which hosts were disabled by the run (from the service-changed events). */
function drainOrder(events: DrainEvent[]): string[] {
  return events.filter((e) => e.type === 'service-changed' && e.action === 'disabled').map((e) => e.host);
}

describe('rolling runs on the emulated cloud', function () {
  this.timeout(120_000);
  let env: Env;
  afterEach(async () => env?.close());

  it('runs the maintenance cycle on three hosts one after the other, each back before the next starts', async () => {
    env = await open();
    const before = Object.fromEntries(['compute-01', 'compute-02', 'compute-03'].map((h) => [h, env.emu.state.serversOn(h).map((s) => s.name).sort()]));
    const wf = writeWorkflow(env, CYCLE(`['true']`));
    const { result, record } = await runRolling(env.session, { hosts: ['compute-01', 'compute-02', 'compute-03'], workflow: wf }, env.runner());
    assert.equal(result.outcome, 'completed', result.message);
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.hosts.map((h) => [h.host, h.status]), [['compute-01', 'done'], ['compute-02', 'done'], ['compute-03', 'done']]);
    assert.deepEqual(drainOrder(env.events), ['compute-01', 'compute-02', 'compute-03']);
    // Never two hosts out at once: each host was enabled again before the next one was disabled.
    const seq = env.events.filter((e) => e.type === 'service-changed' && (e.action === 'disabled' || e.action === 'enabled')).map((e) => `${e.type === 'service-changed' ? e.action : ''}:${e.host}`);
    assert.deepEqual(seq, ['disabled:compute-01', 'enabled:compute-01', 'disabled:compute-02', 'enabled:compute-02', 'disabled:compute-03', 'enabled:compute-03']);
    for (const h of ['compute-01', 'compute-02', 'compute-03']) {
      assert.ok(enabled(env.emu, h), `${h} enabled`);
      assert.deepEqual(env.emu.state.serversOn(h).map((s) => s.name).sort(), before[h], `${h} has its instances back`);
    }
    assert.deepEqual(doubleMoves(env.emu), []);
    assert.equal(record?.state, 'finished');
    const kids = await Promise.all(result.hosts.map((h) => env.runner().store.load(h.childRunId)));
    assert.deepEqual(kids.map((k) => [k.command, k.parentRunId, k.state]), kids.map(() => ['run', result.runId, 'finished']));
  });

  it('stops starting hosts after a failure (exit of the failed host), and goes on with --continue-on-failure', async () => {
    env = await open();
    // The exec fails on compute-02 only.
    const exec = `'test {host} != compute-02'`;
    const stop = await runRolling(env.session, { hosts: ['compute-01', 'compute-02', 'compute-03'], workflow: writeWorkflow(env, CYCLE(exec)) }, env.runner());
    assert.equal(stop.result.outcome, 'failed');
    assert.equal(stop.result.exitCode, 7);
    assert.deepEqual(stop.result.hosts.map((h) => [h.host, h.status]), [['compute-01', 'done'], ['compute-02', 'failed'], ['compute-03', 'not-started']]);
    assert.equal(enabled(env.emu, 'compute-03'), true);
    assert.equal(env.emu.state.serversOn('compute-03').length, 2, 'compute-03 untouched');
    assert.equal(enabled(env.emu, 'compute-02'), false, 'the failed host stays disabled for a human');
  });

  it('with continue-on-failure, reports each host and goes on', async () => {
    env = await open();
    const exec = `'test {host} != compute-02'`;
    const wf = writeWorkflow(env, CYCLE(exec, '  continue-on-failure: true\n'));
    const { result } = await runRolling(env.session, { hosts: ['compute-01', 'compute-02', 'compute-03'], workflow: wf }, env.runner());
    assert.equal(result.outcome, 'failed');
    assert.equal(result.exitCode, 7);
    assert.deepEqual(result.hosts.map((h) => [h.host, h.status]), [['compute-01', 'done'], ['compute-02', 'failed'], ['compute-03', 'done']]);
    assert.ok(enabled(env.emu, 'compute-03'));
  });

  it('resumes an interrupted rolling run on the host it was on, without redoing the hosts before it', async () => {
    env = await open();
    const wf = writeWorkflow(env, CYCLE(`['true']`));
    const first = await interruptedOn(env, 'compute-02', wf);
    assert.equal(first.result.outcome, 'interrupted');
    assert.equal(first.result.exitCode, 130);
    assert.equal(first.record?.state, 'interrupted');
    const kid2 = await env.runner().store.load(first.result.hosts[1]!.childRunId);
    assert.equal(kid2.state, 'interrupted');
    env.events.length = 0;
    // `hostmaint run` with the same workflow and hosts continues it.
    const second = await runRolling(env.session, { hosts: ['compute-01', 'compute-02', 'compute-03'], workflow: wf }, env.runner());
    assert.equal(second.result.runId, first.result.runId);
    assert.equal(second.result.outcome, 'completed', second.result.message);
    assert.deepEqual(drainOrder(env.events), ['compute-03'], 'compute-01 not redone; compute-02 resumed under its marker');
    assert.deepEqual(doubleMoves(env.emu), []);
    for (const h of ['compute-01', 'compute-02', 'compute-03']) {
      assert.ok(enabled(env.emu, h));
      assert.equal(env.emu.state.serversOn(h).length, 2, `${h} has its 2 instances back`);
    }
  });

  it('a host whose run was superseded meanwhile (another run with --new-run) is reported failed, not redone, and stops the rolling run (exit 5)', async () => {
    env = await open();
    const wf = writeWorkflow(env, CYCLE(`['true']`));
    const first = await interruptedOn(env, 'compute-02', wf);
    assert.equal(first.result.exitCode, 130);
    // Someone finishes compute-02 by hand with a new run, superseding the rolling run's.
    const { runWorkflow } = await import('../../src/runs/workflow-runner.js');
    const byHand = await runWorkflow(env.session, { host: 'compute-02', workflow: wf, newRun: true, adopt: true }, env.runner());
    assert.equal(byHand.result.outcome, 'completed', byHand.result.message);
    const again = await runRolling(env.session, { hosts: ['compute-01', 'compute-02', 'compute-03'], workflow: wf }, env.runner());
    assert.equal(again.result.exitCode, 5, again.result.message);
    assert.deepEqual(again.result.hosts.map((h) => h.status), ['done', 'failed', 'not-started']);
    assert.match(again.result.hosts[1]!.message ?? '', /superseded/);
    assert.equal(env.emu.state.serversOn('compute-03').length, 2, 'compute-03 untouched');
  });

  it('the same hosts in another order (e.g. --order emptiest afresh) resume the unfinished rolling run in its saved order', async () => {
    env = await open();
    const wf = writeWorkflow(env, CYCLE(`['true']`));
    const first = await interruptedOn(env, 'compute-02', wf);
    assert.equal(first.result.exitCode, 130);
    const again = await runRolling(env.session, { hosts: ['compute-02', 'compute-03', 'compute-01'], workflow: wf }, env.runner());
    assert.equal(again.result.runId, first.result.runId);
    assert.equal(again.result.outcome, 'completed', again.result.message);
    assert.deepEqual(again.result.hosts.map((h) => h.host), ['compute-01', 'compute-02', 'compute-03']);
  });

  it('--new-run replaces a rolling run waiting for approval together with its hosts\' unfinished runs', async () => {
    env = await open();
    const gate = writeWorkflow(env, `version: 1\nname: gate\nsteps:\n  - type: disable\n  - type: approve\n  - type: enable\n`);
    const first = await runRolling(env.session, { hosts: ['compute-01', 'compute-02'], workflow: gate }, env.runner());
    assert.equal(first.result.exitCode, 8);
    const child = first.result.hosts[0]!.childRunId;
    const second = await runRolling(env.session, { hosts: ['compute-01', 'compute-02'], workflow: gate, newRun: true }, env.runner());
    assert.notEqual(second.result.runId, first.result.runId);
    assert.equal(second.result.exitCode, 8, second.result.message);
    assert.equal(second.result.hosts[0]!.status, 'waiting');
    assert.equal((await env.store.load(first.result.runId)).state, 'superseded');
    assert.equal((await env.store.load(child)).state, 'superseded');
    assert.ok(env.notices.some((n) => /its hosts' unfinished runs are superseded/.test(n)), env.notices.join('\n'));
  });
});
