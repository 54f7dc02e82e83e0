/**
 * The checks between two waves of a rolling run: are the previous wave's
 * hosts back (nova-compute up and enabled), and is there room for each host
 * of the next wave on the hosts that stay in service. Read-only.
 */
import type { Clock } from '../core/clock.js';
import { drainHost, type RunDeps } from '../library/drain.js';
import type { Logger } from '../core/log.js';
import type { ComputeApi, PlacementApi } from '../openstack/api.js';
import type { ServiceState, ServiceStatus } from '../openstack/types.js';
import type { DrainResult } from '../machines/results.js';
import { drainOptionsFrom } from '../policies/policies.js';
import type { WorkflowPolicies } from '../policies/types.js';
import { placeAll } from '../planner/place.js';
import type { PlaceableInstance, PlacementGroup, PlacementTarget, ProviderCapacity } from '../planner/types.js';

export interface NotBack {
  host: string;
  /** null: no nova-compute service by that name any more. */
  state: ServiceState | null;
  status: ServiceStatus | null;
  /** Why it does not count as back, for the operator. */
  reason: string;
}

export interface HostsBack {
  ok: boolean;
  notBack: NotBack[];
}

/** Each host's nova-compute is up, not forced down, and enabled. One listServices call (none for no hosts). */
export async function checkHostsBack(compute: ComputeApi, hosts: string[], opts: { signal?: AbortSignal } = {}): Promise<HostsBack> {
  if (hosts.length === 0) return { ok: true, notBack: [] };
  const services = await compute.listServices({ binary: 'nova-compute' }, { signal: opts.signal });
  const byHost = new Map(services.filter((s) => s.binary === 'nova-compute').map((s) => [s.host, s] as const));
  const notBack: NotBack[] = [];
  for (const host of hosts) {
    const s = byHost.get(host);
    if (!s) {
      notBack.push({ host, state: null, status: null, reason: 'no nova-compute service by that name' });
      continue;
    }
    const why: string[] = [];
    if (s.state !== 'up') why.push('nova-compute is down');
    if (s.forcedDown) why.push('nova-compute is forced down');
    if (s.status !== 'enabled') why.push(`nova-compute is disabled${s.disabledReason ? ` (${s.disabledReason})` : ''}`);
    if (why.length > 0) notBack.push({ host, state: s.state, status: s.status, reason: why.join('; ') });
  }
  return { ok: notBack.length === 0, notBack };
}

export interface WaitHostsBackOptions {
  timeoutMs: number;
  pollIntervalMs: number;
  clock: Clock;
  signal?: AbortSignal;
}

export interface WaitedHostsBack extends HostsBack {
  waitedMs: number;
  /** How many times the services were read. */
  checks: number;
}

/** checkHostsBack until ok or `timeoutMs` has passed (then the last answer, not ok). An aborted signal rejects with its reason. */
export async function waitHostsBack(compute: ComputeApi, hosts: string[], opts: WaitHostsBackOptions): Promise<WaitedHostsBack> {
  const started = opts.clock.now();
  let checks = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    const r = await checkHostsBack(compute, hosts, { signal: opts.signal });
    checks++;
    const waitedMs = opts.clock.now() - started;
    const left = opts.timeoutMs - waitedMs;
    if (r.ok || left <= 0) return { ...r, waitedMs, checks };
    await opts.clock.sleep(Math.max(1, Math.min(opts.pollIntervalMs, left)), opts.signal);
  }
}

export interface CapacityCheck {
  ok: boolean;
  /** 0 when there is room; the plan's exit code (3: preflight refused, 2: unknown host) otherwise. */
  exitCode: number;
  message: string;
  /** The read-only plan; null when no target was left to plan onto (nothing was asked of the cloud beyond the services). */
  result: DrainResult | null;
  /** The targets the plan was allowed to use. */
  targets: string[];
}

export type CapacityDeps = Pick<RunDeps, 'logger' | 'clock' | 'net' | 'signal'> & { logger: Logger; clock: Clock };

const PREFLIGHT_REFUSED = 3;

/**
 * A fresh read-only plan of `host` (drainHost with dryRun: the same preflight
 * and capacity check as `hostmaint plan`), whose targets exclude every host
 * of the current wave: hosts drained together must not count as room for each
 * other. Targets: policies.targets minus the wave when set; otherwise every
 * nova-compute host that is up and enabled, minus the wave.
 *
 * Each host alone; waveFit then plans the wave's hosts together.
 */
export async function checkCapacityFor(
  session: { compute: ComputeApi; placement: PlacementApi },
  host: string,
  wave: string[],
  policies: WorkflowPolicies,
  deps: CapacityDeps,
): Promise<CapacityCheck> {
  const excluded = new Set([host, ...wave]);
  let targets: string[];
  if (policies.targets !== null) {
    targets = policies.targets.filter((t) => !excluded.has(t));
  } else {
    const services = await session.compute.listServices({ binary: 'nova-compute' }, { signal: deps.signal });
    targets = services
      .filter((s) => s.binary === 'nova-compute' && s.state === 'up' && !s.forcedDown && s.status === 'enabled' && !excluded.has(s.host))
      .map((s) => s.host)
      .sort();
  }
  if (targets.length === 0) {
    const others = wave.filter((h) => h !== host);
    return {
      ok: false,
      exitCode: PREFLIGHT_REFUSED,
      message: `no target host left for ${host}: ${policies.targets !== null ? 'every named target' : 'every nova-compute host that is up and enabled'} is in this wave${others.length > 0 ? ` (${others.join(', ')})` : ''} or out of service`,
      result: null,
      targets,
    };
  }
  const result = await drainHost(
    session,
    host,
    { ...drainOptionsFrom(policies), dryRun: true, targets },
    { logger: deps.logger, clock: deps.clock, net: deps.net, signal: deps.signal },
  );
  return { ok: result.exitCode === 0, exitCode: result.exitCode, message: result.message, result, targets };
}

/**
 * The wave's joint plan: every instance of every host of the wave placed at once on the targets
 * outside the wave, with the server groups of all of them (an anti-affinity member moving off
 * one host of the wave and one off another are kept apart too). Each host is planned alone first
 * (checkCapacityFor: its own blockers, its own reasons); then the hosts are added in the wave's
 * order while everything so far still fits, and a host whose instances do not fit with those of
 * the hosts before it is refused, with the first instance that fits nowhere and why. Pure: the
 * plans' own reads (free capacity of each target before any plan) are the input.
 */
export function waveFit(plans: Array<{ host: string; result: DrainResult | null }>, wave: string[]): Array<{ host: string; message: string }> {
  const inWave = new Set(wave);
  const targets = new Map<string, PlacementTarget>();
  for (const { result } of plans) {
    for (const t of result?.preflight?.targets ?? []) {
      if (!t.usable || inWave.has(t.host) || targets.has(t.host) || t.providerUuid === null) continue;
      const capacity: ProviderCapacity = {};
      for (const [rc, free] of Object.entries(t.free)) capacity[rc] = { capacity: free, used: 0, free, maxUnit: Number.MAX_SAFE_INTEGER, minUnit: 1, stepSize: 1 };
      targets.set(t.host, { host: t.host, zone: t.zone, providerUuid: t.providerUuid, capacity });
    }
  }
  let accepted: PlaceableInstance[] = [];
  let groups = new Map<string, PlacementGroup>();
  const fitted: string[] = [];
  const refused: Array<{ host: string; message: string }> = [];
  for (const { host, result } of plans) {
    const report = result?.preflight;
    if (!report) continue;
    const mine: PlaceableInstance[] = report.plan
      .filter((p) => p.fits)
      .map((p) => ({ serverId: p.serverId, name: p.name, method: p.method, request: p.request, availabilityZone: p.availabilityZone ?? null }));
    const merged = new Map([...groups].map(([id, g]) => [id, { ...g, moving: [...g.moving], occupiedHosts: [...g.occupiedHosts] }]));
    for (const g of report.placementGroups ?? []) {
      const m = merged.get(g.id) ?? { ...g, moving: [], occupiedHosts: [] };
      m.moving = [...new Set([...m.moving, ...g.moving])];
      // Members on a host of the wave are moving with it: only the hosts outside the wave hold them.
      m.occupiedHosts = [...new Set([...m.occupiedHosts, ...g.occupiedHosts.filter((h) => !inWave.has(h))])].sort();
      merged.set(g.id, m);
    }
    const r = placeAll([...accepted, ...mine], [...targets.values()], [...merged.values()]);
    const nowhere = r.plans.find((p) => !p.fits);
    if (!nowhere) {
      accepted = [...accepted, ...mine];
      groups = merged;
      fitted.push(host);
      continue;
    }
    refused.push({ host, message: `no room for ${host} together with ${fitted.join(', ')} (the wave is planned at once): ${nowhere.name}: ${nowhere.reason}` });
  }
  return refused;
}

export interface RollingGateOptions {
  /** How long to wait for the previous wave's hosts to be back. Default: policies.waitUpTimeoutMs, or 0 (one check) when that is null. */
  backTimeoutMs?: number;
  /** Default: policies.pollIntervalMs. */
  pollIntervalMs?: number;
}

/** A wait-for-service that timed out is a failed workflow step (src/cli/exit-codes.ts). */
const STEP_FAILED = 7;

/**
 * The rolling machine's `gate` actor body (src/machines/rolling.machine.ts):
 * wait for `previous` to be back (not back in time: not ok, exit 7), then
 * check capacity for each host of `next` on its own with the whole wave
 * excluded from the targets, then for the wave at once (waveFit) (no room:
 * listed in `skip` with the plan's code).
 */
export async function rollingGate(
  session: { compute: ComputeApi; placement: PlacementApi },
  input: { previous: string[]; next: string[] },
  policies: WorkflowPolicies,
  deps: CapacityDeps,
  opts: RollingGateOptions = {},
): Promise<{ ok: boolean; exitCode: number; message: string; skip: Array<{ host: string; exitCode: number; message: string }> }> {
  if (input.previous.length > 0) {
    const back = await waitHostsBack(session.compute, input.previous, {
      timeoutMs: opts.backTimeoutMs ?? policies.waitUpTimeoutMs ?? 0,
      pollIntervalMs: opts.pollIntervalMs ?? policies.pollIntervalMs,
      clock: deps.clock,
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    if (!back.ok) {
      const what = back.notBack.map((n) => `${n.host}: ${n.reason}`).join('; ');
      return { ok: false, exitCode: STEP_FAILED, message: `the previous wave is not back after ${Math.round(back.waitedMs / 1000)} s (${what})`, skip: [] };
    }
  }
  const skip: Array<{ host: string; exitCode: number; message: string }> = [];
  const plans: Array<{ host: string; result: DrainResult | null }> = [];
  for (const host of input.next) {
    const c = await checkCapacityFor(session, host, input.next, policies, deps);
    if (!c.ok) skip.push({ host, exitCode: c.exitCode, message: c.message });
    else plans.push({ host, result: c.result });
  }
  // Hosts that fit alone but not together with the ones before them in the wave wait for a later wave's room: skipped.
  for (const r of waveFit(plans, input.next)) skip.push({ host: r.host, exitCode: PREFLIGHT_REFUSED, message: r.message });
  const message =
    skip.length === 0
      ? `room for ${input.next.join(', ')} outside the wave${input.previous.length > 0 ? `; ${input.previous.join(', ')} back` : ''}`
      : `no room for ${skip.map((s) => s.host).join(', ')} outside the wave`;
  return { ok: true, exitCode: skip.length === 0 ? 0 : skip[0]!.exitCode, message, skip };
}
