/**
 * The wait-for-service step against the emulated cloud, with hostmaint's real
 * session. The emulator's heartbeats tick on its report_interval grid (10 s)
 * of the shared VirtualClock; a host is taken down with a `host-down` fault
 * and brought back by clearing its heartbeatStoppedAt in the live model
 * (`emu.state.cloud`), as a restarted nova-compute would.
 */
import assert from 'node:assert/strict';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import { memoryLogger } from '../../src/core/log.js';
import type { MemoryLogger } from '../../src/core/log.js';
import { connect } from '../../src/openstack/session.js';
import type { HostmaintSession } from '../../src/openstack/session.js';
import { waitForService, type WaitProgress } from '../../src/steps/wait-service.js';
import type { WaitForServiceStep } from '../../src/workflow-file/types.js';
import { emulatorCloud } from './helpers.js';

const scenario: Scenario = {
  name: 'wait-service',
  nova: { service_down_time_s: 60, report_interval_s: 10 },
  hosts: [{ name: 'compute-01' }, { name: 'compute-02' }],
  instances: [],
};

const MIN = 60_000;

function step(o: Partial<WaitForServiceStep> = {}): WaitForServiceStep {
  return { type: 'wait-for-service', name: 'wait-up', description: null, onFailure: 'stop', timeoutMs: 20 * MIN, pollIntervalMs: 5000, fresh: false, expectRestart: false, stallAfterMs: 30_000, ...o };
}

describe('steps: wait-for-service (emulator)', () => {
  let emu: Emulator;
  let clock: VirtualClock;
  let session: HostmaintSession;
  let logger: MemoryLogger;
  beforeEach(async () => {
    clock = new VirtualClock();
    emu = await startEmulator({ scenario, clock });
    logger = memoryLogger();
    session = await connect(emulatorCloud(emu), { logger, clock, timeoutMs: 10_000 });
  });
  afterEach(async () => {
    await session.close();
    await emu.stop();
  });

  const deps = () => ({ compute: session.compute, clock, logger });
  const host = (name: string) => emu.state.cloud.hosts.get(name)!;
  /** nova-compute on `name` heartbeats again (restarted). */
  const bringUp = (name: string) => {
    host(name).heartbeatStoppedAt = null;
  };
  const later = async (ms: number, fn: () => void) => {
    await clock.sleep(ms);
    fn();
  };

  it('a host that is up is ok at once (fresh: false), whatever its enabled status', async () => {
    host('compute-01').disabled = true;
    const r = await waitForService(step(), { host: 'compute-01' }, deps());
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.exitCode, 0);
    assert.equal(r.detail.polls, 1);
    assert.equal(r.detail.waitedMs, 0);
    assert.equal(r.detail.lastState, 'up');
    assert.equal(r.detail.lastStatus, 'disabled');
    assert.match(r.message, /^nova-compute on compute-01 is up/);
  });

  it('a host that is down is waited for, and ok once it reports up again', async () => {
    emu.inject({ kind: 'host-down', host: 'compute-01', immediate: true });
    const [r] = await Promise.all([waitForService(step(), { host: 'compute-01' }, deps()), later(3 * MIN, () => bringUp('compute-01'))]);
    assert.equal(r.status, 'ok', r.message);
    assert.ok(Number(r.detail.waitedMs) >= 3 * MIN && Number(r.detail.waitedMs) <= 3 * MIN + 5000, String(r.detail.waitedMs));
    assert.ok(Number(r.detail.polls) >= 36, String(r.detail.polls));
  });

  it('fresh: a host still "up" on its last report is not enough; a new heartbeat is', async () => {
    // nova-compute died (a reboot): Nova still says up until service_down_time passes.
    emu.inject({ kind: 'host-down', host: 'compute-01' });
    await clock.sleep(1000);
    const stale = await waitForService(step({ fresh: false }), { host: 'compute-01' }, deps());
    assert.equal(stale.status, 'ok', 'without fresh the stale report counts');

    const [r] = await Promise.all([waitForService(step({ fresh: true }), { host: 'compute-01' }, deps()), later(30_000, () => bringUp('compute-01'))]);
    assert.equal(r.status, 'ok', r.message);
    assert.ok(Number(r.detail.waitedMs) >= 30_000, `waited ${String(r.detail.waitedMs)}`);
    assert.equal(typeof r.detail.baseline, 'string');
    assert.ok(Date.parse(String(r.detail.lastUpdatedAt)) > Date.parse(String(r.detail.baseline)), JSON.stringify(r.detail));
  });

  it('fresh on a healthy host: ok at the next heartbeat (within a report interval)', async () => {
    const r = await waitForService(step({ fresh: true }), { host: 'compute-02' }, deps());
    assert.equal(r.status, 'ok', r.message);
    assert.ok(Number(r.detail.waitedMs) > 0 && Number(r.detail.waitedMs) <= 10_000, String(r.detail.waitedMs));
    assert.ok(Number(r.detail.polls) >= 2);
  });

  it('expect-restart: a command that returned before the host went down; the old heartbeats do not count, only the ones after it stopped', async () => {
    // t=0: the reboot was asked for; the old nova-compute still reports at t=10 s, then dies at t=15 s; back at t=3 min.
    const reboot = async () => {
      await later(15_000, () => emu.inject({ kind: 'host-down', host: 'compute-01', immediate: true }));
      await later(3 * MIN - 15_000, () => bringUp('compute-01'));
    };
    const [early] = await Promise.all([waitForService(step({ fresh: true }), { host: 'compute-01' }, deps()), reboot()]);
    assert.equal(early.status, 'ok');
    assert.ok(Number(early.detail.waitedMs) < 3 * MIN, `fresh alone passed on the old process's heartbeat at ${String(early.detail.waitedMs)} ms`);
    await clock.sleep(MIN);
    const [r] = await Promise.all([waitForService(step({ fresh: true, expectRestart: true, stallAfterMs: 30_000 }), { host: 'compute-01' }, deps()), reboot()]);
    assert.equal(r.status, 'ok', r.message);
    assert.ok(Number(r.detail.waitedMs) >= 3 * MIN, `waited ${String(r.detail.waitedMs)} ms`);
    assert.equal(r.detail.seenStopped, true);
    assert.match(logger.text(), /nova-compute stopped/);
  });

  it('expect-restart: Nova reporting it down counts as stopped at once', async () => {
    const [r] = await Promise.all([
      waitForService(step({ expectRestart: true }), { host: 'compute-01' }, deps()),
      later(5_000, () => {
        host('compute-01').forcedDown = true;
      }).then(() => later(MIN, () => {
        host('compute-01').forcedDown = false;
      })),
    ]);
    assert.equal(r.status, 'ok', r.message);
    assert.ok(Number(r.detail.waitedMs) >= MIN, String(r.detail.waitedMs));
  });

  it('expect-restart: a host that never stops fails at the timeout and says what to change', async function () {
    this.timeout(10_000);
    const r = await waitForService(step({ expectRestart: true, timeoutMs: 5 * MIN }), { host: 'compute-02' }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 7);
    assert.match(r.message, /never stopped within 5m .*set expect-restart: false/);
  });

  it('a resumed step compares with the baseline recorded before', async () => {
    const now = (await session.compute.listServices({ host: 'compute-02', binary: 'nova-compute' }))[0]!.updatedAt;
    const r = await waitForService(step({ fresh: true }), { host: 'compute-02', baseline: now }, deps());
    assert.equal(r.status, 'ok');
    assert.equal(r.detail.baseline, now);
    assert.notEqual(r.detail.lastUpdatedAt, now);
    assert.ok(Number(r.detail.waitedMs) > 0);
    // An older baseline: the current heartbeat is already newer.
    await clock.sleep(30_000);
    const r2 = await waitForService(step({ fresh: true }), { host: 'compute-02', baseline: now }, deps());
    assert.equal(r2.status, 'ok');
    assert.equal(r2.detail.polls, 1);
  });

  it('times out on the virtual clock with the last state in the message', async function () {
    this.timeout(10_000);
    emu.inject({ kind: 'host-down', host: 'compute-01', immediate: true });
    const realStart = Date.now();
    const r = await waitForService(step({ timeoutMs: 20 * MIN, pollIntervalMs: 30_000 }), { host: 'compute-01' }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 7);
    assert.match(r.message, /^nova-compute on compute-01 did not report up within 20m \(last seen: down, updated \d{4}-\d\d-\d\dT[\d:.]+Z?\)$/);
    assert.equal(r.detail.waitedMs, 20 * MIN);
    assert.equal(r.detail.polls, 41);
    assert.equal(r.detail.lastState, 'down');
    assert.ok(Date.now() - realStart < 5000);
  });

  it('forced down never counts as up', async () => {
    host('compute-01').forcedDown = true;
    const r = await waitForService(step({ timeoutMs: MIN }), { host: 'compute-01' }, deps());
    assert.equal(r.status, 'failed');
    assert.match(r.message, /last seen: down, forced down/);
    assert.equal(r.detail.forcedDown, true);
  });

  it('an unknown host fails at once with a clear message', async () => {
    const r = await waitForService(step(), { host: 'compute-99' }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 7);
    assert.match(r.message, /nova-compute on compute-99: no such service/);
    assert.equal(r.detail.polls, 1);
  });

  it('failed polls are logged and retried until the service answers', async () => {
    emu.inject({ kind: 'http-error', status: 500, count: 2, match: { method: 'GET', path: '/os-services' } });
    const r = await waitForService(step(), { host: 'compute-01' }, deps());
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.detail.polls, 3);
    assert.equal(logger.records.filter((l) => l.level === 'warn' && /poll failed/.test(l.message)).length, 2);
    assert.equal(r.detail.lastError, undefined);
  });

  it('an interrupt stops the wait', async () => {
    emu.inject({ kind: 'host-down', host: 'compute-01', immediate: true });
    const ac = new AbortController();
    const [r] = await Promise.all([waitForService(step(), { host: 'compute-01', signal: ac.signal }, deps()), later(MIN, () => ac.abort(new Error('stop')))]);
    assert.equal(r.status, 'failed');
    assert.equal(r.message, 'interrupted');
    assert.equal(r.detail.interrupted, true);
  });

  describe('a resumed step continues from its saved progress (issue 21)', () => {
    const cycle = () => step({ fresh: true, expectRestart: true, stallAfterMs: 30_000, timeoutMs: 30 * MIN });
    /** Run the step until `killAt` (virtual ms) and abort it there, as a SIGKILL would; what it saved last. */
    async function runUntil(killAt: number): Promise<WaitProgress> {
      const ac = new AbortController();
      let saved: WaitProgress | null = null;
      const [r] = await Promise.all([
        waitForService(cycle(), { host: 'compute-01', signal: ac.signal, onProgress: (p) => (saved = p) }, deps()),
        later(killAt, () => ac.abort(new Error('killed'))),
      ]);
      assert.equal(r.status, 'failed');
      assert.ok(saved, 'it saved its progress');
      return saved as WaitProgress;
    }

    it('killed after it saw the stop, resumed after the host came back: back at once (it was "never stopped" before)', async () => {
      emu.inject({ kind: 'host-down', host: 'compute-01', in_ms: 5_000, up_after_ms: 3 * MIN });
      const saved = await runUntil(2 * MIN);
      assert.equal(saved.seenStopped, true);
      await clock.sleep(5 * MIN);
      const r = await waitForService(cycle(), { host: 'compute-01', progress: saved }, deps());
      assert.equal(r.status, 'ok', r.message);
      assert.equal(r.detail.seenStopped, true);
      assert.equal(r.detail.stopNotSeen, undefined);
      assert.equal(r.detail.resumes, 1);
      assert.ok(Number(r.detail.polls) <= 2, String(r.detail.polls));
    });

    it('killed after it saw the stop, resumed while the host is still down: waits for the new heartbeat', async () => {
      emu.inject({ kind: 'host-down', host: 'compute-01', in_ms: 5_000, up_after_ms: 10 * MIN });
      const saved = await runUntil(2 * MIN);
      assert.equal(saved.seenStopped, true);
      const r = await waitForService(cycle(), { host: 'compute-01', progress: saved }, deps());
      assert.equal(r.status, 'ok', r.message);
      // From the first start: the host was back 10 min after it stopped (5 s in).
      assert.ok(Number(r.detail.waitedMs) >= 10 * MIN, String(r.detail.waitedMs));
    });

    it('killed before the stop, the host down and back while no hostmaint ran: back after stall-after, said in the detail', async () => {
      emu.inject({ kind: 'host-down', host: 'compute-01', in_ms: 60_000, up_after_ms: 3 * MIN });
      const saved = await runUntil(20_000);
      assert.equal(saved.seenStopped, false);
      assert.equal(saved.polled, true);
      await clock.sleep(10 * MIN);
      const r = await waitForService(cycle(), { host: 'compute-01', progress: saved }, deps());
      assert.equal(r.status, 'ok', r.message);
      assert.equal(r.detail.stopNotSeen, true);
      assert.match(logger.text(), /resumed without having seen nova-compute stop/);
    });

    it('killed before the stop, resumed before the host goes down (within stall-after): it still sees the stop and waits for the real return', async () => {
      emu.inject({ kind: 'host-down', host: 'compute-01', in_ms: 15_000, up_after_ms: 5 * MIN });
      const saved = await runUntil(10_000);
      assert.equal(saved.seenStopped, false);
      const r = await waitForService(cycle(), { host: 'compute-01', progress: saved }, deps());
      assert.equal(r.status, 'ok', r.message);
      assert.equal(r.detail.seenStopped, true);
      assert.equal(r.detail.stopNotSeen, undefined);
      assert.ok(Number(r.detail.waitedMs) >= 15_000 + 5 * MIN, String(r.detail.waitedMs));
    });

    it('killed before its first poll: the resumed step keeps the first start (the timeout counts from it)', async () => {
      const saved: WaitProgress = { firstStartedAt: new Date(clock.now() - 29 * MIN).toISOString(), polled: false, firstHeartbeat: null, seenStopped: false, baseline: null, resumes: 0 };
      const r = await waitForService(cycle(), { host: 'compute-02', progress: saved }, deps());
      // compute-02 never stops: it is counted back only after stall-after of watching, once its heartbeat is newer than the first seen.
      assert.equal(r.status, 'ok', r.message);
      assert.equal(r.detail.stopNotSeen, true);
      assert.ok(Number(r.detail.waitedMs) >= 29 * MIN + 30_000, String(r.detail.waitedMs));
      assert.ok(Number(r.detail.waitedMs) < 31 * MIN, String(r.detail.waitedMs));
    });
  });
});
