import assert from 'node:assert/strict';
import axios from 'axios';
import { etcdAvailable, startEtcd, type EtcdCluster, type EtcdMember } from './cluster.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/** Put through the v3 HTTP JSON gateway of one member. */
async function put(endpoint: string, key: string, value: string): Promise<void> {
  const r = await axios.post(`${endpoint}/v3/kv/put`, { key: b64(key), value: b64(value) }, { timeout: 5000 });
  assert.equal(r.status, 200);
}

/** Linearizable get through the gateway; undefined when the key is absent. */
async function get(endpoint: string, key: string): Promise<string | undefined> {
  const r = await axios.post<{ kvs?: { key: string; value?: string }[] }>(`${endpoint}/v3/kv/range`, { key: b64(key) }, { timeout: 5000 });
  assert.equal(r.status, 200);
  const kv = r.data.kvs?.[0];
  return kv === undefined ? undefined : unb64(kv.value ?? '');
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('etcd test harness (real etcd on loopback)', function () {
  this.timeout(60_000);

  before(function () {
    if (!etcdAvailable()) {
      console.warn('    skipped: /usr/bin/etcd not installed (run: bash test/etcd/install.sh)');
      this.skip();
    }
  });

  describe('one member', () => {
    let cluster: EtcdCluster | undefined;
    after(async () => cluster?.stop());

    it('starts healthy on 127.0.0.1 and round-trips a put/get through the JSON gateway', async () => {
      cluster = await startEtcd({ name: 'single' });
      assert.equal(cluster.members.length, 1);
      const m = cluster.members[0]!;
      assert.match(m.clientUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(m.peerUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(typeof m.pid, 'number');
      assert.deepEqual(cluster.endpoints, [m.clientUrl]);
      assert.equal(cluster.url, `etcd3+${m.clientUrl}`);

      const health = await axios.get(`${m.clientUrl}/health`);
      assert.equal(health.data.health, 'true');

      await put(m.clientUrl, '/hostmaint/test/one', 'héllo wörld');
      assert.equal(await get(m.clientUrl, '/hostmaint/test/one'), 'héllo wörld');
      assert.equal(await get(m.clientUrl, '/hostmaint/test/absent'), undefined);
      assert.equal((await cluster.leader()).name, m.name);
    });
  });

  describe('three members', () => {
    let cluster: EtcdCluster;
    let killed: EtcdMember;

    before(async () => {
      cluster = await startEtcd({ members: 3, name: 'trio' });
    });
    after(async () => cluster?.stop());

    it('starts three healthy members on distinct ports', async () => {
      assert.equal(cluster.members.length, 3);
      const ports = cluster.members.flatMap((m) => [m.clientUrl, m.peerUrl]);
      assert.equal(new Set(ports).size, 6);
      assert.equal(cluster.url, `etcd3+http://${cluster.endpoints.map((e) => e.replace('http://', '')).join(',')}`);
      for (const e of cluster.endpoints) assert.equal((await axios.get(`${e}/health`)).data.health, 'true');
    });

    it('leader() names one member', async () => {
      const leader = await cluster.leader();
      assert.ok(cluster.members.includes(leader));
    });

    it('after kill(leader) another member is elected within 5 s and writes still succeed', async () => {
      killed = await cluster.leader();
      const pid = killed.pid!;
      await cluster.kill(killed);
      assert.equal(killed.pid, null);
      assert.ok(processGone(pid), `pid ${pid} still alive`);

      const t0 = Date.now();
      const next = await cluster.leader({ timeoutMs: 5000 });
      const took = Date.now() - t0;
      assert.notEqual(next.name, killed.name);
      assert.ok(took <= 5000, `re-election took ${took} ms`);

      const survivor = cluster.members.find((m) => m !== killed && m !== next)!;
      await put(survivor.clientUrl, '/hostmaint/test/after-kill', 'still-writable');
      assert.equal(await get(next.clientUrl, '/hostmaint/test/after-kill'), 'still-writable');
    });

    it('restart() brings the killed member back healthy with the cluster data', async () => {
      await cluster.restart(killed);
      assert.equal(typeof killed.pid, 'number');
      assert.equal((await axios.get(`${killed.clientUrl}/health`)).data.health, 'true');
      assert.equal(await get(killed.clientUrl, '/hostmaint/test/after-kill'), 'still-writable');
      await assert.rejects(cluster.restart(killed), /still running/);
    });

    it('stop() leaves no etcd process behind and is safe to call twice', async () => {
      const pids = cluster.members.map((m) => m.pid);
      assert.ok(pids.every((p) => typeof p === 'number'));
      await cluster.stop();
      for (const p of pids) assert.ok(processGone(p!), `etcd pid ${p} still alive after stop()`);
      assert.ok(cluster.members.every((m) => m.pid === null));
      await cluster.stop();
    });
  });
});
