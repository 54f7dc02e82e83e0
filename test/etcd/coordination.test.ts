/**
 * The etcd coordination backend (src/coord/etcd.ts) against a real etcd
 * (Debian's etcd-server on loopback ports of its own): leases, takeover,
 * --adopt, losing the lease, fenced shared runs, and budgets.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { EtcdCoordination, TAKEOVER_POLL_MS, type EtcdLock } from '../../src/runs/coord/etcd.js';
import type { ServiceOut } from '../../src/runs/coord/types.js';
import { HostmaintError } from '../../src/core/errors.js';
import { RunStore } from '../../src/runs/store.js';
import { newRecord } from '../../src/runs/recorder.js';
import { etcdAvailable, requireEtcd, startEtcd, type EtcdCluster } from './cluster.js';

const CLOUD = 'http://keystone.test/v3|RegionOne';

function coordOf(c: EtcdCluster, ttl = 3, cloudKey = CLOUD): EtcdCoordination {
  return new EtcdCoordination({ endpoints: c.endpoints, cloudKey, cloudName: 'test', ttlSeconds: ttl, callTimeoutMs: 2000 });
}

async function rejectsKind(p: Promise<unknown>, kind: string): Promise<HostmaintError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HostmaintError, String(e));
    assert.equal(e.kind, kind, e.message);
    return e;
  }
  assert.fail(`expected a ${kind} error`);
}

function record(runId: string, host: string, extra: Record<string, unknown> = {}) {
  const r = newRecord({ runId, command: 'drain', host, cloud: 'test', user: 'admin', who: 'a@b', argv: [], startedAt: new Date().toISOString(), workflowVersion: 1, options: {} });
  return { ...r, ...extra };
}

describe('etcd coordination backend (real etcd)', function () {
  this.timeout(60_000);
  let cluster: EtcdCluster;
  const opened: EtcdCoordination[] = [];
  let dir: string;
  before(async function () {
    requireEtcd.call(this);
    if (!etcdAvailable()) return;
    cluster = await startEtcd({ members: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hm-coord-'));
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (ttl = 3, cloudKey = CLOUD) => {
    const c = coordOf(cluster, ttl, cloudKey);
    opened.push(c);
    return c;
  };

  it('one holder per host and cloud: a second runner gets host-busy naming the holder and its lease; another cloud\'s host of the same name is free', async () => {
    const a = open();
    const b = open();
    const lock = await a.acquireHost({ host: 'compute-01', runId: '20261203T000000Z-aaaa', command: 'drain' });
    const e = await rejectsKind(b.acquireHost({ host: 'compute-01', runId: '20261203T000000Z-bbbb', command: 'drain' }), 'host-busy');
    assert.match(e.message, /run 20261203T000000Z-aaaa \(drain\)/);
    assert.match(e.message, /lease [0-9a-f]+ \(expires in \d+s/);
    const other = open(3, 'http://other.test/v3|RegionOne');
    const l2 = await other.acquireHost({ host: 'compute-01', runId: '20261203T000000Z-cccc', command: 'drain' });
    await l2.close();
    await lock.close();
    const l3 = await b.acquireHost({ host: 'compute-01', runId: '20261203T000000Z-bbbb', command: 'drain' });
    await l3.close();
  });

  it('a runner SIGKILLed frees the host after its TTL; a resume of its run waits for that and takes over within TTL + one poll', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/etcd/holder-child.ts', cluster.endpoints.join(','), CLOUD, 'compute-02', '20261203T000000Z-dead', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => (/held/.test(d.toString()) ? resolve() : undefined));
      child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
    });
    const b = open(2);
    await rejectsKind(b.acquireHost({ host: 'compute-02', runId: '20261203T000000Z-bbbb', command: 'drain' }), 'host-busy');
    child.kill('SIGKILL');
    const t0 = Date.now();
    const taken = await b.acquireHost({ host: 'compute-02', runId: '20261203T000000Z-dead', command: 'drain', waitForRun: '20261203T000000Z-dead' });
    const took = Date.now() - t0;
    assert.ok(took <= 2000 + TAKEOVER_POLL_MS + 500, `taken over ${took} ms after the holder died (TTL 2 s + one poll)`);
    assert.ok(took >= 500, `not before the lease ran out (${took} ms)`);
    await taken.close();
  });

  it('--adopt revokes a live holder\'s lease: the holder learns it lost the host, and its fenced writes are refused', async () => {
    const a = open(3);
    const b = open(3);
    const store = new RunStore(path.join(dir, 'a'));
    store.ensureSync();
    const lock = (await a.acquireHost({ host: 'compute-03', runId: '20261203T000000Z-aaaa', command: 'drain' })) as EtcdLock;
    a.share(store, lock);
    const lost = new Promise<string>((resolve) => lock.onLost(resolve));
    const taken = await b.acquireHost({ host: 'compute-03', runId: '20261203T000000Z-aaaa', command: 'drain', adopt: true });
    assert.equal(taken.tookOverFrom?.runId, '20261203T000000Z-aaaa');
    const why = await Promise.race([lost, new Promise<string>((r) => setTimeout(() => r('not lost'), 4000))]);
    assert.notEqual(why, 'not lost');
    assert.equal(await a.fenced(lock, []), false, 'a write fenced by the revoked lease is refused');
    await taken.close();
  });

  it('etcd gone: the holder counts its lease lost before it can expire in etcd (TTL minus a margin), and says why', async () => {
    const solo = await startEtcd({ members: 1 });
    try {
      const a = coordOf(solo, 3);
      opened.push(a);
      const lock = (await a.acquireHost({ host: 'compute-04', runId: '20261203T000000Z-aaaa', command: 'drain' })) as EtcdLock;
      const t0 = Date.now();
      const lost = new Promise<string>((resolve) => lock.onLost(resolve));
      await solo.kill(solo.members[0]!);
      const why = await lost;
      const after = Date.now() - t0;
      assert.ok(after <= 3000, `lost after ${after} ms, within the TTL of 3 s`);
      assert.match(why, /keepalive|lease/);
      assert.equal(lock.valid(), false);
    } finally {
      await solo.stop();
    }
  });

  it('shared runs: the record and journal written under the lease are read back by another runner; a long journal is split and compacted, in order; a big record goes in parts', async () => {
    const a = open();
    const storeA = new RunStore(path.join(dir, 'a'));
    storeA.ensureSync();
    const runId = '20261203T000000Z-0001';
    const lock = (await a.acquireHost({ host: 'compute-05', runId, command: 'drain' })) as EtcdLock;
    a.share(storeA, lock);
    const big = 'x'.repeat(1_300_000);
    storeA.writeSync(record(runId, 'compute-05', { options: { big } }) as never);
    for (let i = 0; i < 400; i++) {
      storeA.appendJournalSync(runId, { kind: 'decision', time: new Date().toISOString(), runId, host: 'compute-05', pid: 1, decision: `d${i}`, detail: {} });
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 1)); // many flushes: many chunks
    }
    await lock.close();
    const b = open();
    const storeB = new RunStore(path.join(dir, 'b'));
    storeB.ensureSync();
    const { pulled } = await b.pullRuns(storeB, { host: 'compute-05' });
    assert.equal(pulled, 1);
    const rec = await storeB.load(runId);
    assert.equal((rec.options as { big: string }).big.length, big.length);
    const { entries } = await storeB.readJournal(runId);
    assert.deepEqual(entries.map((e) => (e as { decision: string }).decision), Array.from({ length: 400 }, (_, i) => `d${i}`));
    const chunks = await (b as unknown as { client: { getAll(): { prefix(p: string): { keys(): Promise<string[]> } } } }).client.getAll().prefix(b.key('runs', runId, 'journal') + '/').keys();
    assert.ok(chunks.length <= 64, `${chunks.length} journal chunks after compaction`);
  });

  it('a budget of 1 per zone: a second host of the zone is refused with --no-wait, naming the host out; a host of another zone is not; Nova\'s disabled hosts count too', async () => {
    const a = open();
    const services: ServiceOut[] = [
      { host: 'h1', zone: 'az1', aggregates: [], disabled: false },
      { host: 'h2', zone: 'az1', aggregates: [], disabled: false },
      { host: 'h3', zone: 'az2', aggregates: [], disabled: false },
      { host: 'h4', zone: 'az2', aggregates: [], disabled: true },
    ];
    const svc = async () => services;
    const l1 = await a.acquireHost({ host: 'h1', runId: '20261203T000000Z-0h01', command: 'drain' });
    const c1 = await a.claimBudget({ host: 'h1', runId: l1.holder.runId, max: 1, scope: 'availability-zone', wait: false, services: svc });
    assert.deepEqual(c1.scopes, ['availability-zone:az1']);
    const b = open();
    const l2 = await b.acquireHost({ host: 'h2', runId: '20261203T000000Z-0h02', command: 'drain' });
    const e = await rejectsKind(b.claimBudget({ host: 'h2', runId: l2.holder.runId, max: 1, scope: 'availability-zone', wait: false, services: svc }), 'host-busy');
    assert.match(e.message, /availability-zone:az1 has 1 of 1 hosts out of service \(h1\)/);
    const l3 = await b.acquireHost({ host: 'h3', runId: '20261203T000000Z-0h03', command: 'drain' });
    const e3 = await rejectsKind(b.claimBudget({ host: 'h3', runId: l3.holder.runId, max: 1, scope: 'availability-zone', wait: false, services: svc }), 'host-busy');
    assert.match(e3.message, /\(h4\)/, 'h4 is disabled in Nova: it counts');
    // h1's claim released while h1 is now disabled in Nova: still counts; enabled again: room.
    services[0]!.disabled = true;
    await c1.release();
    await rejectsKind(b.claimBudget({ host: 'h2', runId: l2.holder.runId, max: 1, scope: 'availability-zone', wait: false, services: svc }), 'host-busy');
    services[0]!.disabled = false;
    const c2 = await b.claimBudget({ host: 'h2', runId: l2.holder.runId, max: 1, scope: 'availability-zone', wait: false, services: svc });
    await c2.release();
    for (const l of [l1, l2, l3]) await l.close();
  });

  it('a budget of 2 in the cloud, 12 runners claiming at once and waiting: never more than 2 claims at a time, every host gets its turn', async () => {
    const hosts = Array.from({ length: 12 }, (_, i) => `b${String(i).padStart(2, '0')}`);
    const services: ServiceOut[] = hosts.map((h) => ({ host: h, zone: 'az1', aggregates: [], disabled: false }));
    let inside = 0;
    let most = 0;
    const served: string[] = [];
    await Promise.all(
      hosts.map(async (h, i) => {
        const c = open();
        const l = await c.acquireHost({ host: h, runId: `20261203T000000Z-${String(i).padStart(4, '0')}`, command: 'drain' });
        const claim = await c.claimBudget({ host: h, runId: l.holder.runId, max: 2, scope: 'cloud', wait: true, pollMs: 50, services: async () => services });
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 30));
        inside--;
        served.push(h);
        await claim.release();
        await l.close();
      }),
    );
    assert.equal(most, 2, `at most 2 at once (saw ${most})`);
    assert.deepEqual(served.sort(), hosts);
  });
});
