/**
 * The figures of the etcd coordination backend (issue 20), on a real etcd
 * started on loopback (bash test/etcd/install.sh first; npm run build first):
 *
 *   F1  lease acquisition: take and give back a host, N times (median, p99), next to a
 *       plain etcd put round trip on the same connection (the floor)
 *   F2  takeover after a runner dies: SIGKILL a holder (TTL T), time until another runner's
 *       `resume`-style acquire has the host, against T (the bound is T + one poll)
 *   F3  20 runners, 200 hosts in 4 zones, --max-hosts-out 2: makespan against the ideal
 *       the budget allows (200 / (4 x 2) rounds of the mean time a host is out)
 *
 *   npm run bench:fleet             all
 *   npm run bench:fleet -- f1 f2    some
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EtcdCoordination, TAKEOVER_POLL_MS } from '../src/runs/coord/etcd.js';
import { startEtcd } from '../test/etcd/cluster.js';
import { startCloud } from '../test/cli/runs-helpers.js';
import { fleetScenario, runFleet } from '../test/etcd/fleet-scenario.js';

const wanted = new Set(process.argv.slice(2).map((a) => a.toLowerCase()));
const want = (id: string) => wanted.size === 0 || wanted.has(id);
const CLOUD = 'http://bench.invalid/v3|RegionOne';
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const etcd = await startEtcd({ members: 1 });
try {
  console.log(`etcd ${etcd.endpoints.join(',')} (Debian etcd-server, one member, loopback); ${os.cpus().length} cores`);
  if (want('f1')) {
    const c = new EtcdCoordination({ endpoints: etcd.endpoints, cloudKey: CLOUD, cloudName: 'bench', ttlSeconds: 15 });
    const client = (c as unknown as { client: { put(k: string): { value(v: string): { exec(): Promise<unknown> } } } }).client;
    const puts: number[] = [];
    const takes: number[] = [];
    for (let i = 0; i < 220; i++) {
      const t0 = performance.now();
      await client.put(`/bench/k${i}`).value('x').exec();
      puts.push(performance.now() - t0);
      const t1 = performance.now();
      const lock = await c.acquireHost({ host: `h${i % 20}`, runId: `20261203T000000Z-${String(i).padStart(4, '0')}`, command: 'drain' });
      takes.push(performance.now() - t1);
      await lock.close();
    }
    puts.splice(0, 20);
    takes.splice(0, 20);
    console.log(`F1 lease acquisition (grant + create-if-absent transaction), 200 takes: median ${pct(takes, 50).toFixed(1)} ms, p99 ${pct(takes, 99).toFixed(1)} ms; one put: median ${pct(puts, 50).toFixed(1)} ms (ratio ${(pct(takes, 50) / pct(puts, 50)).toFixed(1)}x)`);
    await c.close();
  }
  if (want('f2')) {
    const ttl = 5;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const runId = `20261203T000000Z-dd${String(i).padStart(2, '0')}`;
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/etcd/holder-child.ts', etcd.endpoints.join(','), CLOUD, `t${i}`, runId, String(ttl)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => (/held/.test(d.toString()) ? resolve() : undefined)));
      const b = new EtcdCoordination({ endpoints: etcd.endpoints, cloudKey: CLOUD, cloudName: 'bench', ttlSeconds: ttl });
      child.kill('SIGKILL');
      const t0 = performance.now();
      const lock = await b.acquireHost({ host: `t${i}`, runId, command: 'drain', waitForRun: runId });
      times.push(performance.now() - t0);
      await lock.close();
      await b.close();
    }
    console.log(`F2 takeover after SIGKILL (TTL ${ttl} s, poll ${TAKEOVER_POLL_MS} ms), 5 trials: median ${(pct(times, 50) / 1000).toFixed(2)} s, worst ${(Math.max(...times) / 1000).toFixed(2)} s; bound TTL + poll = ${(ttl + TAKEOVER_POLL_MS / 1000).toFixed(1)} s (worst/bound ${(Math.max(...times) / (ttl * 1000 + TAKEOVER_POLL_MS)).toFixed(2)})`);
  }
  if (want('f3')) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-bench-fleet-'));
    const cloud = await startCloud(dir, fleetScenario(200, 4), { speed: 50 });
    try {
      const o = await runFleet(cloud, { etcdUrl: etcd.url, dir, runners: 20, maxOut: 2 });
      const ideal = (200 / 8) * o.meanOutMs;
      const bad = o.exitCodes.filter((c) => c !== 0).length;
      console.log(`F3 20 runners, 200 hosts, 4 zones, --max-hosts-out 2: makespan ${(o.makespanMs / 1000).toFixed(1)} s, ideal under the budget ${(ideal / 1000).toFixed(1)} s (25 rounds x ${(o.meanOutMs / 1000).toFixed(2)} s a host is out): ratio ${(o.makespanMs / ideal).toFixed(2)}; most out per zone ${JSON.stringify(o.maxOut)}; runners failed: ${bad}`);
    } finally {
      await cloud.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await etcd.stop();
}
