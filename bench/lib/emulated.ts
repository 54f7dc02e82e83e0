/**
 * Shared helpers for the emulator benchmarks: start an emulated cloud, connect
 * hostmaint's real session to it (HTTP over loopback, exactly as against a
 * real cloud), and scenario builders for the figures.
 */
import type { ResolvedCloud } from '../../src/config/cloud.js';
import type { Clock } from '../../src/core/clock.js';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import { memoryLogger } from '../../src/core/log.js';
import { connect, type HostmaintSession } from '../../src/openstack/session.js';

export interface Env {
  emu: Emulator;
  session: HostmaintSession;
}

export function cloudFor(authUrl: string, c: Emulator['credentials'], regionName = 'RegionOne'): ResolvedCloud {
  return {
    name: 'emulator',
    authUrl,
    auth: { type: 'password', username: c.username, password: c.password, userDomainName: c.userDomainName },
    projectName: c.projectName,
    projectDomainName: c.projectDomainName,
    regionName,
    interface: 'public',
    cacert: null,
    insecure: false,
    warnings: [],
    source: 'emulator',
  };
}

export async function openEmulated(scenario: Scenario | string, clock: Clock = new VirtualClock()): Promise<Env> {
  const emu = await startEmulator({ scenario, clock });
  const session = await connect(cloudFor(emu.authUrl, emu.credentials, emu.regionName), { logger: memoryLogger(), clock: emu.clock, timeoutMs: 60_000 });
  return { emu, session };
}

export async function closeEmulated(env: Env): Promise<void> {
  await env.session.close();
  await env.emu.stop();
}

export const MIXED_FLAVORS = ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge'];

/**
 * P1/P2: `n` instances of mixed sizes (m1.tiny .. m1.xlarge, round robin) on
 * compute-01, five roomy targets, every compute running `perCompute` live
 * migrations at once (Nova's max_concurrent_live_migrations). Memory is
 * copied at `bandwidthMbps` MB/s per migration while the guest dirties
 * `dirtyMbps` MB/s; Nova's fixed phases (scheduling, pre-live-migration,
 * post-live-migration) as in the emulator's defaults.
 */
export function mixedHostScenario(n: number, perCompute: number, o: { bandwidthMbps?: number; dirtyMbps?: number; flavors?: string[] } = {}): Scenario {
  const flavors = o.flavors ?? MIXED_FLAVORS;
  const hosts = [{ name: 'compute-01', vcpus: 128, ram_mb: 1_048_576, disk_gb: 40_000 }];
  for (let i = 2; i <= 6; i++) hosts.push({ name: `compute-0${i}`, vcpus: 128, ram_mb: 524_288, disk_gb: 20_000 });
  return {
    name: `bench-mixed-${n}`,
    migration: {
      bandwidth_mbps: o.bandwidthMbps ?? 1000,
      dirty_rate_mbps: o.dirtyMbps ?? 50,
      schedule_ms: 300,
      preparing_ms: 1000,
      post_migrating_ms: 1000,
    },
    defaults: { host: { max_concurrent_live_migrations: perCompute } },
    hosts,
    instances: Array.from({ length: n }, (_, i) => ({
      name: `vm-${String(i + 1).padStart(3, '0')}`,
      flavor: flavors[i % flavors.length]!,
      host: 'compute-01',
    })),
  } as Scenario;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}
