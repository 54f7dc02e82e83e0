/**
 * A fleet run for the tests and bench/fleet.ts: RUNNERS hostmaint processes
 * (node bin/hostmaint.js), each a rolling run over its share of the hosts of
 * one emulated cloud, all coordinated through one etcd with --max-hosts-out.
 * A sampler reads Nova's service table every SAMPLE_MS while they run.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Scenario } from '../../src/emulator/index.js';
import { FAST_MIGRATIONS, spawnHostmaint, type TestCloud } from '../cli/runs-helpers.js';

export const SAMPLE_MS = 20;

export function fleetScenario(hosts: number, zones: number): Scenario {
  const names = Array.from({ length: hosts }, (_, i) => `cmp-${String(i + 1).padStart(3, '0')}`);
  return {
    name: 'fleet',
    migration: { ...FAST_MIGRATIONS },
    defaults: { host: { vcpus: 64, ram_mb: 262144, disk_gb: 4000, max_concurrent_live_migrations: 1 } },
    hosts: names.map((name, i) => ({ name, az: `az${(i % zones) + 1}` })),
    flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }],
    projects: [{ name: 'tenant-a' }],
    instances: names.map((host, i) => ({ name: `vm-${i + 1}`, project: 'tenant-a', flavor: 'm1.small', host })),
  } as unknown as Scenario;
}

export interface FleetOutcome {
  makespanMs: number;
  /** The most hosts of one zone disabled at once, by zone, as the sampler saw Nova's services. */
  maxOut: Record<string, number>;
  /** Per host: how many times the sampler saw it go disabled, and enabled again. */
  disabled: Map<string, number>;
  enabled: Map<string, number>;
  /** Per host: PUT os-services requests that disabled it (from the emulator's request log). */
  disableRequests: Map<string, number>;
  exitCodes: number[];
  stderr: string[];
  samples: number;
  /** Mean time a host was out (disabled), ms. */
  meanOutMs: number;
}

/** Run `runners` rolling runs over the hosts (host i goes to runner i % runners). */
export async function runFleet(cloud: TestCloud, o: { etcdUrl: string; dir: string; runners: number; maxOut: number; ttl?: number }): Promise<FleetOutcome> {
  const model = cloud.emu.state.cloud.hosts;
  const hosts = [...model.keys()].sort();
  const zoneOf = new Map(hosts.map((h) => [h, model.get(h)!.az]));
  // Nova's service table as the emulator holds it (what GET /os-services answers), read directly: cheap enough to sample often.
  const statusOf = (h: string) => (model.get(h)!.disabled ? 'disabled' : 'enabled');
  const wf = path.join(o.dir, 'cycle.yaml');
  writeFileSync(wf, 'version: 1\nname: cycle\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: exec\n    command: ["sleep", "0.3"]\n  - type: enable\n');
  const shares = Array.from({ length: o.runners }, (_, r) => hosts.filter((_, i) => i % o.runners === r));
  const maxOut: Record<string, number> = {};
  const disabled = new Map<string, number>();
  const enabled = new Map<string, number>();
  const last = new Map(hosts.map((h) => [h, statusOf(h)]));
  const outSince = new Map<string, number>();
  let outTotal = 0;
  let outCount = 0;
  let samples = 0;
  const sample = () => {
    samples++;
    const now: Record<string, number> = {};
    for (const h of hosts) {
      const st = statusOf(h);
      if (st === 'disabled') now[zoneOf.get(h)!] = (now[zoneOf.get(h)!] ?? 0) + 1;
      const before = last.get(h);
      if (before !== st) {
        if (st === 'disabled') {
          disabled.set(h, (disabled.get(h) ?? 0) + 1);
          outSince.set(h, Date.now());
        } else {
          enabled.set(h, (enabled.get(h) ?? 0) + 1);
          outTotal += Date.now() - (outSince.get(h) ?? Date.now());
          outCount++;
        }
        last.set(h, st);
      }
    }
    for (const [z, n] of Object.entries(now)) maxOut[z] = Math.max(maxOut[z] ?? 0, n);
  };
  const timer = setInterval(sample, SAMPLE_MS);
  const t0 = Date.now();
  const env = { ...cloud.env, ...(o.ttl ? { HOSTMAINT_LEASE_TTL: String(o.ttl) } : {}) };
  const children = shares.map((share, r) =>
    spawnHostmaint(['run', wf, ...share, ...cloud.args, '--yes', '-q', '--state-dir', path.join(o.dir, `runner-${r}`), '--poll-interval', '200ms', '--coordination', o.etcdUrl, '--max-hosts-out', String(o.maxOut), '--budget-scope', 'availability-zone'], env),
  );
  const exits = await Promise.all(children.map((c) => c.exited));
  const makespanMs = Date.now() - t0;
  clearInterval(timer);
  sample();
  const disableRequests = new Map<string, number>();
  const idOf = new Map([...model.values()].flatMap((h) => [[String(h.serviceId), h.name], [h.serviceUuid, h.name]] as Array<[string, string]>));
  for (const r of cloud.emu.requests.records) {
    if (r.method !== 'PUT' || !/os-services/.test(r.path)) continue;
    const body = r.body as { status?: string; host?: string } | null;
    if (body?.status !== 'disabled') continue;
    const host = body.host ?? idOf.get(r.path.split('/').pop() ?? '') ?? '?';
    disableRequests.set(host, (disableRequests.get(host) ?? 0) + 1);
  }
  return {
    makespanMs,
    maxOut,
    disabled,
    enabled,
    disableRequests,
    exitCodes: exits.map((e) => e.code ?? -1),
    stderr: children.map((c) => c.stderr()),
    samples,
    meanOutMs: outCount ? outTotal / outCount : 0,
  };
}
