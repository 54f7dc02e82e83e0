/**
 * Runners on different machines (state directories that share nothing) on one
 * emulated cloud, coordinated through a real etcd: what an operator sees.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from '../cli/helpers.js';
import { isMigrationStarted, requireBuiltCli, runsScenario, spawnHostmaint, startCloud, whenJournal, type TestCloud } from '../cli/runs-helpers.js';
import { captureOriginals, checkInvariants, doubleMoves } from '../emulator/crash-helpers.js';
import { requireEtcd, startEtcd, type EtcdCluster } from './cluster.js';

describe('runners on several machines, coordinated through etcd (CLI, emulated cloud, real etcd)', function () {
  this.timeout(120_000);
  let etcd: EtcdCluster;
  let dir: string;
  let A: string;
  let B: string;
  let cloud: TestCloud | null = null;
  before(async function () {
    requireEtcd.call(this);
    etcd = await startEtcd({ members: 1 });
  });
  after(async () => {
    await etcd?.stop();
  });
  beforeEach(() => {
    dir = tempDir('hm-fleet-');
    A = path.join(dir, 'runner-a');
    B = path.join(dir, 'runner-b');
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });
  const coordination = () => ['--coordination', etcd.url];
  const cmd = (verb: string, host: string, state: string, extra: string[] = []) => [verb, host, ...cloud!.args, '--yes', '--state-dir', state, '--poll-interval', '200ms', ...coordination(), ...extra];
  const moveRequests = () => cloud!.emu.requests.records.filter((r) => r.method === 'POST' && (r.action === 'os-migrateLive' || r.action === 'migrate')).length;

  it('a second runner on the same host gets exit 5 naming the run and its lease; any runner lists the run from etcd afterwards', async () => {
    cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 60 } }));
    const drainA = hostmaint(cmd('drain', 'compute-01', A, ['-f', 'json']), cloud.env);
    await whenJournal(A, isMigrationStarted);
    const busy = await hostmaint(cmd('drain', 'compute-01', B), cloud.env);
    assert.equal(busy.code, 5, busy.stderr);
    assert.match(busy.stderr, /run \d{8}T\d{6}Z-\w+ \(drain\)/);
    assert.match(busy.stderr, /etcd key .*hosts\/compute-01 under lease/);
    const fleet = await hostmaint(['status', '--fleet', ...coordination(), '-f', 'json']);
    assert.equal(fleet.code, 0, fleet.stderr);
    const leases = fleet.json<{ fleets: Array<{ leases: Array<{ host: string; ttl: number | null }> }> }>().fleets.flatMap((f) => f.leases);
    assert.ok(leases.some((l) => l.host === 'compute-01' && l.ttl !== null && l.ttl > 0), JSON.stringify(leases));
    const a = await drainA;
    assert.equal(a.code, 0, a.stderr);
    const runId = a.json<{ runId: string }>().runId;
    const status = await hostmaint(['status', runId, '--state-dir', B, ...coordination()]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /state\s+finished/);
    assert.match(status.stdout, /outcome\s+drained \(exit 0\)/);
    const history = await hostmaint(['history', 'compute-01', '--state-dir', path.join(dir, 'runner-c'), ...coordination(), '-f', 'value', '-c', 'run']);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, new RegExp(runId), 'a third runner\'s history has the run');
  });

  it('a runner SIGKILLed mid-drain: another runner\'s `resume RUN` waits for its lease to run out, then finishes the run; nothing moves twice', async function () {
    requireBuiltCli.call(this);
    cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 30 } }));
    const originals = captureOriginals(cloud.emu, 'compute-01');
    const env = { ...cloud.env, HOSTMAINT_LEASE_TTL: '3' };
    const child = spawnHostmaint(cmd('drain', 'compute-01', A, ['-f', 'json']), env);
    const started = await whenJournal(A, isMigrationStarted);
    const runId = String(started.runId);
    child.proc.kill('SIGKILL');
    await child.exited;
    const killedAt = Date.now();
    const movesBefore = moveRequests();
    const b = await hostmaint(['resume', runId, ...cloud.args, '--state-dir', B, ...coordination(), '-f', 'json'], env);
    const tookMs = Date.now() - killedAt;
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /waiting up to 6s for its lease to run out/);
    assert.equal(b.json<{ runId: string; outcome: string }>().runId, runId, 'the same run, carried on');
    assert.equal(b.json<{ outcome: string }>().outcome, 'drained');
    assert.deepEqual(doubleMoves(cloud.emu), [], 'no instance moved twice');
    assert.deepEqual(checkInvariants(cloud.emu, 'compute-01', originals), []);
    assert.ok(moveRequests() - movesBefore <= originals.length, 'no more move requests than instances');
    assert.ok(tookMs < 60_000, `took ${tookMs} ms`);
  });

  it('a runner paused past its TTL (SIGSTOP): another runner takes the run over; woken, the paused one stops (exit 6) without undoing or repeating anything', async function () {
    requireBuiltCli.call(this);
    cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 40 }, instances: [{ name: 'vm-{i}', count: 5, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }] }));
    const originals = captureOriginals(cloud.emu, 'compute-01');
    const env = { ...cloud.env, HOSTMAINT_LEASE_TTL: '3' };
    const a = spawnHostmaint(cmd('drain', 'compute-01', A, ['-f', 'json']), env);
    const started = await whenJournal(A, isMigrationStarted);
    const runId = String(started.runId);
    a.proc.kill('SIGSTOP');
    let woke = false;
    const b = await hostmaint(['resume', runId, ...cloud.args, '--state-dir', B, ...coordination(), '-f', 'json'], env, {
      onStderr: (s) => {
        if (!woke && /resuming drain run/.test(s)) {
          woke = true;
          a.proc.kill('SIGCONT');
        }
      },
    });
    const aDone = await a.exited;
    assert.ok(woke, 'B resumed the run while A was paused');
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.json<{ outcome: string }>().outcome, 'drained');
    assert.equal(aDone.code, 6, a.stderr());
    assert.match(a.stderr(), /lost the hold on compute-01/);
    assert.deepEqual(doubleMoves(cloud.emu), [], 'no instance moved twice');
    assert.deepEqual(checkInvariants(cloud.emu, 'compute-01', originals), []);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'disabled', 'the paused runner did not undo the drain');
  });

  it('etcd unreachable at start: exit 6, the cloud untouched', async () => {
    cloud = await startCloud(dir, runsScenario());
    const r = await hostmaint([...cmd('drain', 'compute-01', A).filter((x) => x !== etcd.url && x !== '--coordination'), '--coordination', 'etcd3+http://127.0.0.1:9'], cloud.env);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /cannot reach the coordination backend \(etcd 127\.0\.0\.1:9\)/);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled');
    assert.equal(moveRequests(), 0);
  });

  it('etcd lost mid-drain: the runner stops starting moves, exits 6 with the run saved resumable; once etcd is back, resume finishes it', async () => {
    const solo = await startEtcd({ members: 1 });
    try {
      cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 40 }, instances: [{ name: 'vm-{i}', count: 6, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }] }));
      const env = { ...cloud.env, HOSTMAINT_LEASE_TTL: '3' };
      const args = ['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', A, '--poll-interval', '200ms', '--coordination', solo.url, '-f', 'json'];
      const drain = hostmaint(args, env);
      await whenJournal(A, isMigrationStarted);
      await solo.kill(solo.members[0]!);
      const t0 = Date.now();
      const r = await drain;
      console.log(`      (stopped ${Date.now() - t0} ms after etcd was killed)`);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /lost the hold on compute-01/);
      const requestsAtStop = moveRequests();
      assert.ok(requestsAtStop < 6, `stopped before moving all (${requestsAtStop} requested)`);
      const runId = r.json<{ runId: string }>().runId;
      await solo.restart(solo.members[0]!);
      const resumed = await hostmaint(['resume', runId, ...cloud.args, '--state-dir', A, '--coordination', solo.url, '-f', 'json'], env);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.json<{ outcome: string }>().outcome, 'drained');
      assert.deepEqual(doubleMoves(cloud.emu), []);
    } finally {
      await solo.stop();
    }
  });

  it('--max-hosts-out 1 per zone across runners: B refused with --no-wait naming A\'s host (nothing changed); B waits without it, and goes once A\'s host is back', async () => {
    cloud = await startCloud(dir, runsScenario({
      hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }, { name: 'compute-04' }],
      instances: [{ name: 'a-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }, { name: 'b-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-02' }],
    }));
    const a = await hostmaint(cmd('drain', 'compute-01', A, ['--max-hosts-out', '1']), cloud.env);
    assert.equal(a.code, 0, a.stderr);
    const refused = await hostmaint(cmd('drain', 'compute-02', B, ['--max-hosts-out', '1', '--no-wait']), cloud.env);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /availability-zone:nova has 1 of 1 hosts out of service \(compute-01\)/);
    assert.equal(cloud.emu.state.host('compute-02')!.status, 'enabled', 'nothing changed');
    let sawWait = false;
    const waiting = hostmaint(cmd('drain', 'compute-02', B, ['--max-hosts-out', '1']), cloud.env, { onStderr: (s) => (sawWait ||= /waits for room in the disruption budget/.test(s)) });
    await new Promise((r) => setTimeout(r, 3000));
    assert.ok(sawWait, 'says what it waits for');
    assert.equal(cloud.emu.state.host('compute-02')!.status, 'enabled', 'still waiting: untouched');
    const back = await hostmaint(cmd('undrain', 'compute-01', A), cloud.env);
    assert.equal(back.code, 0, back.stderr);
    const b = await waiting;
    assert.equal(b.code, 0, b.stderr);
    assert.equal(cloud.emu.state.host('compute-02')!.status, 'disabled');
  });
});
