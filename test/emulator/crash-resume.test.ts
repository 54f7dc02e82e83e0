/**
 * Saved runs against the emulated cloud (shared VirtualClock): a run saved
 * while migrations were in flight resumes without a second request for any of
 * them; a crash at any step (the state directory as a SIGKILL leaves it, the
 * lock's holder dead) resumes to an empty host; a run stopped by a cloud that
 * went away resumes when it is back; an incompatible record is refused whole.
 */
import { strict as assert } from 'node:assert';
import { emulatorCloud } from './helpers.js';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { PersistedRun } from '../../src/library/drain.js';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator, FaultSpec, Scenario } from '../../src/emulator/index.js';
import { memoryLogger } from '../../src/core/log.js';
import { connect, type HostmaintSession } from '../../src/openstack/session.js';
import { lockFileFor } from '../../src/runs/lock.js';
import { runDrain, runUndrain, resumeRun, type RunnerEnv } from '../../src/runs/runner.js';
import { RunStore } from '../../src/runs/store.js';
import type { DrainOptions } from '../../src/machines/options.js';
import type { DrainResult } from '../../src/machines/results.js';
import type { InstanceRun } from '../../src/machines/actor-io.js';
import { HostmaintError } from '../../src/core/errors.js';
import { captureOriginals, checkInvariants, doubleMoves } from './crash-helpers.js';

const FAST = { schedule_ms: 300, preparing_ms: 500, post_migrating_ms: 500, cold_migration_ms: 4000, confirm_ms: 500, bandwidth_mbps: 200, dirty_rate_mbps: 20 };

function scenario(o: Partial<Scenario> & Pick<Scenario, 'instances'>, maxConcurrent = 1): Scenario {
  return {
    name: 'crash-test',
    migration: FAST,
    defaults: { host: { vcpus: 32, ram_mb: 65536, disk_gb: 2000, max_concurrent_live_migrations: maxConcurrent } },
    hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
    ...o,
  } as Scenario;
}

interface Env {
  emu: Emulator;
  session: HostmaintSession;
  dir: string;
  runner(store?: RunStore, over?: Partial<RunnerEnv>): RunnerEnv;
  close(): Promise<void>;
}

async function open(sc: Scenario | string, faults: FaultSpec[] = []): Promise<Env> {
  const emu = await startEmulator({ scenario: sc, clock: new VirtualClock(), faults });
  const resolved = emulatorCloud(emu);
  const session = await connect(resolved, { logger: memoryLogger(), clock: emu.clock, timeoutMs: 30_000 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-crash-'));
  const defaultStore = new RunStore(path.join(dir, 'state'));
  return {
    emu,
    session,
    dir,
    runner: (store = defaultStore, over = {}) => ({
      store,
      logger: memoryLogger(),
      clock: emu.clock,
      cloudName: 'emulator',
      user: 'admin',
      who: 'test@box',
      argv: ['drain', 'compute-01'],
      ...over,
    }),
    close: async () => {
      await session.close();
      await emu.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const OPTS: DrainOptions = { pollIntervalMs: 2000, stallTimeoutMs: 60_000, reason: 'crash test' };
const IN_FLIGHT = new Set(['requested', 'queued', 'running', 'confirming']);

function poolOf(p: PersistedRun): InstanceRun[] {
  return (p.snapshot as { context: { pool: InstanceRun[] } }).context.pool;
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
}

/** What a SIGKILL leaves behind: the state directory as it is on disk now, with a lock whose holder is dead. */
function crashCopy(from: string, to: string, host: string): void {
  cpSync(from, to, { recursive: true });
  const lock = lockFileFor(path.join(to, 'locks'), host);
  if (existsSync(lock)) writeFileSync(lock, JSON.stringify({ ...JSON.parse(readFileSync(lock, 'utf8')), pid: deadPid() }));
}

describe('saved runs: crash and resume against the emulator', function () {
  this.timeout(120_000);
  let env: Env | null = null;
  afterEach(async () => {
    await env?.close();
    env = null;
  });

  it('a run saved while three migrations were in flight resumes without a second live-migrate request for any of them', async () => {
    env = await open(scenario({ instances: [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: 5 }] }, 3));
    const { emu, session } = env;
    const originals = captureOriginals(emu, 'compute-01');
    const stop = new AbortController();
    let inFlightAtSave: InstanceRun[] = [];
    const first = await runDrain(session, { host: 'compute-01', options: { ...OPTS, concurrency: 3 } }, env.runner(undefined, {
      signal: stop.signal,
      onSnapshot: (p) => {
        const flying = poolOf(p).filter((r) => IN_FLIGHT.has(r.phase));
        if (inFlightAtSave.length === 0 && flying.length === 3 && flying.every((r) => r.requestId)) {
          inFlightAtSave = flying;
          stop.abort(new Error('operator pressed Ctrl-C'));
        }
      },
    }));
    assert.equal(first.result.outcome, 'interrupted');
    assert.equal(first.record?.state, 'interrupted');
    assert.equal(inFlightAtSave.length, 3);
    const saved = poolOf({ snapshot: first.record!.snapshot } as PersistedRun);
    assert.deepEqual(saved.filter((r) => IN_FLIGHT.has(r.phase)).map((r) => r.serverId).sort(), inFlightAtSave.map((r) => r.serverId).sort(), 'the saved snapshot is the one with three in flight');
    const requestsBefore = new Map(inFlightAtSave.map((r) => [r.serverId, emu.requests.count({ action: 'os-migrateLive', serverId: r.serverId })]));
    assert.deepEqual([...requestsBefore.values()], [1, 1, 1]);

    const resumed = await resumeRun(session, first.record!.runId, env.runner());
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.result.outcome, 'drained', resumed.result.message);
    assert.equal(resumed.result.runId, first.record!.runId);
    for (const r of inFlightAtSave) {
      assert.equal(emu.requests.count({ action: 'os-migrateLive', serverId: r.serverId }), 1, `${r.name}: a second live-migrate request was sent`);
      const moved: DrainResult = resumed.result as DrainResult;
      assert.equal(moved.instances.find((i) => i.serverId === r.serverId)?.status, 'moved');
    }
    assert.deepEqual(checkInvariants(emu, 'compute-01', originals, { exactlyOneRequest: true }), []);
    assert.equal(resumed.record?.state, 'finished');
    assert.equal(resumed.record?.resumes, 1);
    const journal = await env.runner().store.readJournal(first.record!.runId);
    assert.deepEqual(journal.problems, []);
    const decisions = journal.entries.filter((e) => e.kind === 'decision').map((e) => (e as { decision: string }).decision);
    assert.deepEqual([decisions[0], decisions.includes('interrupted') || decisions.includes('stopped-resumable'), decisions.includes('resumed'), decisions[decisions.length - 1]], ['run-created', true, true, 'finished']);
    assert.equal(decisions.filter((d) => d === 'migration-requested').length, 5, 'one request id per instance in the journal');
  });

  it('a crash at any step (state dir as SIGKILL leaves it, lock holder dead) resumes to an empty host, nothing moved twice', async () => {
    const sc = scenario({
      instances: [
        { name: 'web-{i}', flavor: 'm1.small', host: 'compute-01', count: 3 },
        { name: 'db-1', flavor: 'm1.small', host: 'compute-01', state: 'PAUSED' },
        { name: 'batch-1', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' },
      ],
    });
    // How many steps a whole drain takes.
    env = await open(sc);
    let steps = 0;
    const whole = await runDrain(env.session, { host: 'compute-01', options: OPTS }, env.runner(undefined, { onSnapshot: () => steps++ }));
    assert.equal(whole.result.outcome, 'drained');
    await env.close();
    env = null;
    assert.ok(steps > 10, `steps: ${steps}`);
    const points = [1, 2, 3, 4, 5, 6, Math.floor(steps / 4), Math.floor(steps / 2), Math.floor((3 * steps) / 4), steps - 3, steps - 1];
    const tally: string[] = [];
    for (const k of points) {
      const e = await open(sc);
      try {
        const originals = captureOriginals(e.emu, 'compute-01');
        const stop = new AbortController();
        const crashDir = path.join(e.dir, `crash-${k}`);
        let n = 0;
        let phase = '';
        await runDrain(e.session, { host: 'compute-01', options: OPTS }, e.runner(undefined, {
          signal: stop.signal,
          onSnapshot: (p) => {
            n++;
            if (n === k) {
              phase = JSON.stringify(p.value);
              crashCopy(path.join(e.dir, 'state'), crashDir, 'compute-01');
              stop.abort(new Error('SIGKILL'));
            }
          },
        }));
        const store = new RunStore(crashDir);
        const before = (await store.list()).records[0]!;
        const again = await runDrain(e.session, { host: 'compute-01', options: OPTS }, e.runner(store));
        assert.equal(again.result.outcome, 'drained', `crash at step ${k} (${phase}): ${again.result.message} ${JSON.stringify(again.result.leftovers)} ${JSON.stringify(again.result.instances.map((i) => [i.name, i.status, i.reason, i.to]))}`);
        assert.equal(again.resumed, true, `crash at step ${k}: the saved run was not resumed`);
        assert.equal(again.result.runId, before.runId);
        const problems = checkInvariants(e.emu, 'compute-01', originals);
        assert.deepEqual(problems, [], `crash at step ${k} (${phase})`);
        const journal = await store.readJournal(before.runId);
        assert.ok(journal.entries.some((x) => x.kind === 'decision' && (x as { decision: string }).decision === 'lock-taken-over'), 'the dead holder\'s lock was taken over');
        tally.push(`${k}:${phase}`);
      } finally {
        await e.close();
      }
    }
    assert.equal(tally.length, points.length);
  });

  it('a cloud that goes away mid-drain stops the run resumable (exit 6); once it is back, the same drain resumes and finishes', async () => {
    env = await open(scenario({ instances: [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: 4 }] }));
    const { emu, session } = env;
    const originals = captureOriginals(emu, 'compute-01');
    let injected = false;
    const first = await runDrain(session, { host: 'compute-01', options: { ...OPTS, maxPollErrors: 3 } }, env.runner(undefined, {
      onSnapshot: (p) => {
        if (!injected && poolOf(p).some((r) => r.phase === 'done')) {
          injected = true;
          emu.inject({ kind: 'http-error', status: 503, match: { service: 'compute', method: 'GET' }, name: 'bad minute' });
        }
      },
    }));
    assert.equal(first.result.outcome, 'cloud-unreachable', first.result.message);
    assert.equal(first.result.exitCode, 6);
    assert.equal(first.resumable, true);
    assert.equal(first.record?.state, 'interrupted');
    assert.match(first.record?.stateReason ?? '', /polls in a row failed/);
    assert.equal(emu.state.host('compute-01')!.status, 'disabled', 'instances left: the service stays disabled');
    emu.clearFaults();
    const again = await runDrain(session, { host: 'compute-01', options: OPTS }, env.runner());
    assert.equal(again.resumed, true);
    assert.equal(again.result.outcome, 'drained', again.result.message);
    assert.equal(again.result.manifest.length, 4, 'the resumed run\'s manifest covers the whole drain (undrain --return moves all back)');
    assert.deepEqual(checkInvariants(emu, 'compute-01', originals, { exactlyOneRequest: true }), []);
  });

  it('a saved run of another workflow version, or with a snapshot that does not validate, is refused whole: nothing touched', async () => {
    env = await open(scenario({ instances: [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: 2 }] }));
    const { emu, session } = env;
    const stop = new AbortController();
    const first = await runDrain(session, { host: 'compute-01', options: OPTS }, env.runner(undefined, {
      signal: stop.signal,
      onSnapshot: (p) => {
        if (poolOf(p).some((r) => r.phase !== 'pending')) stop.abort(new Error('stop'));
      },
    }));
    const store = env.runner().store;
    const file = store.recordFile(first.record!.runId);
    const good = readFileSync(file, 'utf8');
    const writesBefore = emu.requests.records.filter((r) => r.method !== 'GET' && r.service !== 'identity').length;

    writeFileSync(file, JSON.stringify({ ...JSON.parse(good), workflow: { name: 'drain', version: 99 } }));
    await assert.rejects(runDrain(session, { host: 'compute-01', options: OPTS }, env.runner()), (e: unknown) => e instanceof HostmaintError && e.kind === 'config' && /workflow version 99; this hostmaint runs version \d+ and cannot resume it/.test(e.message));
    const bad = JSON.parse(good);
    bad.snapshot.context.pool[0].phase = 'teleporting';
    writeFileSync(file, JSON.stringify(bad));
    await assert.rejects(resumeRun(session, first.record!.runId, env.runner()), (e: unknown) => e instanceof HostmaintError && e.kind === 'config' && /saved snapshot of run .* is not valid: \/context\/pool\/0\/phase/.test(e.message));
    writeFileSync(file, '{"schemaVersion": 2, "runId": ');
    // The service carries that run's marker: the drain reads the run it names, finds it unreadable, and refuses (exit 2).
    const corrupt = await runDrain(session, { host: 'compute-01', options: OPTS }, env.runner());
    assert.equal(corrupt.result.outcome, 'bad-input');
    assert.equal(corrupt.result.exitCode, 2);
    assert.match(corrupt.result.message, /corrupt/);
    assert.equal(emu.requests.records.filter((r) => r.method !== 'GET' && r.service !== 'identity').length, writesBefore, 'no write reached the cloud');
    assert.equal(existsSync(lockFileFor(store.locksDir, 'compute-01')), false, 'the lock is released after a refusal');
  });

  it('a saved drain whose service was re-enabled meanwhile is stale: `drain` starts a new run, `resume` refuses (exit 5)', async () => {
    env = await open(scenario({ instances: [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: 2 }] }));
    const { emu, session } = env;
    const stop = new AbortController();
    const first = await runDrain(session, { host: 'compute-01', options: OPTS }, env.runner(undefined, {
      signal: stop.signal,
      onSnapshot: (p) => {
        if (poolOf(p).length > 0) stop.abort(new Error('stop'));
      },
    }));
    assert.equal(first.record?.state, 'interrupted');
    // Someone enables it again (undrain elsewhere, a colleague).
    const h = emu.state.cloud.hosts.get('compute-01')!;
    h.disabled = false;
    h.disabledReason = null;
    const writes = () => emu.requests.records.filter((r) => r.method !== 'GET' && r.service !== 'identity').length;
    const before = writes();
    await assert.rejects(resumeRun(session, first.record!.runId, env.runner()), (e: unknown) => e instanceof HostmaintError && e.kind === 'conflict' && /enabled .*stale/.test(e.message));
    assert.equal(writes(), before, 'the stale run acted on nothing');
    assert.equal((await env.runner().store.load(first.record!.runId)).state, 'superseded');
    const again = await runDrain(session, { host: 'compute-01', options: OPTS }, env.runner());
    assert.equal(again.resumed, false);
    assert.notEqual(again.result.runId, first.record!.runId);
    assert.equal(again.result.outcome, 'drained', again.result.message);
  });

  it('`drain` of a host whose saved drain is stale (its service enabled meanwhile) says so and starts a new run', async () => {
    env = await open(scenario({ instances: [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: 2 }] }));
    const { emu, session } = env;
    const stop = new AbortController();
    const first = await runDrain(session, { host: 'compute-01', options: OPTS }, env.runner(undefined, {
      signal: stop.signal,
      onSnapshot: (p) => {
        if (poolOf(p).length > 0) stop.abort(new Error('stop'));
      },
    }));
    const h = emu.state.cloud.hosts.get('compute-01')!;
    h.disabled = false;
    h.disabledReason = null;
    const notices: string[] = [];
    const again = await runDrain(session, { host: 'compute-01', options: OPTS }, env.runner(undefined, { notice: (l) => notices.push(l) }));
    assert.equal(again.resumed, false);
    assert.notEqual(again.result.runId, first.record!.runId);
    assert.equal(again.result.outcome, 'drained', again.result.message);
    assert.ok(notices.some((l) => /is not resumed: .*enabled.*stale/.test(l)), notices.join('\n'));
    assert.equal((await env.runner().store.load(first.record!.runId)).state, 'superseded');
  });

  it('an undrain --return interrupted while moving instances back resumes: every instance back once, none moved twice', async () => {
    env = await open(scenario({ instances: [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: 4 }, { name: 'p-1', flavor: 'm1.small', host: 'compute-01', state: 'PAUSED' }] }, 2));
    const { emu, session } = env;
    const originals = captureOriginals(emu, 'compute-01');
    const drained = await runDrain(session, { host: 'compute-01', options: { ...OPTS, concurrency: 2 } }, env.runner());
    assert.equal(drained.result.outcome, 'drained');
    const stop = new AbortController();
    const undo = { host: 'compute-01', options: { returnInstances: true, manifest: drained.result.manifest, pollIntervalMs: 2000, concurrency: 2 } };
    const first = await runUndrain(session, undo, env.runner(undefined, {
      signal: stop.signal,
      onSnapshot: (p) => {
        if (poolOf(p).filter((r) => IN_FLIGHT.has(r.phase)).length >= 2) stop.abort(new Error('Ctrl-C'));
      },
    }));
    assert.equal(first.result.outcome, 'interrupted');
    assert.equal(first.record?.state, 'interrupted');
    const again = await runUndrain(session, { host: 'compute-01', options: {} }, env.runner());
    assert.equal(again.resumed, true);
    assert.equal(again.result.runId, first.record!.runId);
    assert.equal(again.result.outcome, 'undrained', again.result.message);
    assert.equal(emu.state.host('compute-01')!.status, 'enabled');
    for (const o of originals) {
      const s = emu.state.server(o.id)!;
      assert.deepEqual([s.host, s.status], ['compute-01', o.status], o.name);
      const done = emu.state.migrations({ serverId: o.id }).filter((m) => m.status === 'completed');
      assert.equal(done.length, 2, `${o.name}: out and back, once each`);
    }
    assert.deepEqual(doubleMoves(emu), []);
  });

  it('undrain supersedes an unfinished drain of the host, and a later drain does not resume it', async () => {
    env = await open(scenario({ instances: [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: 2 }] }));
    const { emu, session } = env;
    const stop = new AbortController();
    const first = await runDrain(session, { host: 'compute-01', options: OPTS }, env.runner(undefined, {
      signal: stop.signal,
      onSnapshot: (p) => {
        if (poolOf(p).some((r) => r.phase === 'done')) stop.abort(new Error('stop'));
      },
    }));
    assert.equal(first.record?.state, 'interrupted');
    const back = await runUndrain(session, { host: 'compute-01', options: {} }, env.runner());
    assert.equal(back.result.outcome, 'undrained', back.result.message);
    assert.equal((await env.runner().store.load(first.record!.runId)).state, 'superseded');
    assert.equal(emu.state.host('compute-01')!.status, 'enabled');
    const again = await runDrain(session, { host: 'compute-01', options: OPTS }, env.runner());
    assert.equal(again.resumed, false);
    assert.equal(again.result.outcome, 'drained');
  });
});
