/**
 * Resolve a host; disable, restore and enable its nova-compute service. Every
 * function re-reads the service before writing (reconcile, then act), so a
 * restored run can call it again safely.
 */
import { HostmaintError, errorText, isHttpError } from '../core/errors.js';
import type { CallOptions } from '../openstack/api.js';
import type { ComputeService, Hypervisor } from '../openstack/types.js';
import { identifyDisabler, makeMarker, parseMarker } from '../machines/marker.js';
import type { DisableInput, DisableOutput, EnableInput, EnableOutput, ReadServiceInput, ResolveOutput, RestoreInput, RestoreOutput, WaitUpInput, WaitUpOutput } from '../machines/actor-io.js';
import type { KnownRun } from '../machines/ownership.js';
import type { ServiceRecord } from '../machines/records.js';
import { toComputeService, toServiceRecord, type ActorDeps } from './deps.js';

const COMPUTE = 'nova-compute';

/** The nova-compute service of exactly this host (not a pattern match). */
export async function findComputeService(deps: ActorDeps, host: string, opts?: CallOptions): Promise<ComputeService | null> {
  const services = await deps.compute.listServices({ host, binary: COMPUTE }, opts);
  return services.find((s) => s.host === host && s.binary === COMPUTE) ?? null;
}

async function reread(deps: ActorDeps, service: ServiceRecord, opts?: CallOptions): Promise<ComputeService | null> {
  const services = await deps.compute.listServices({ host: service.host, binary: COMPUTE }, opts);
  return services.find((s) => s.id === service.id) ?? services.find((s) => s.host === service.host && s.binary === COMPUTE) ?? null;
}

/** The hypervisor of a service host: the service host first, then the FQDN / short-name forms. */
/** pickHypervisor for many hosts over one listing: the same answers, each in constant time. */
export function hypervisorIndex(hypervisors: Hypervisor[]): (host: string) => Hypervisor | null {
  const byService = new Map<string, Hypervisor>();
  const byName = new Map<string, Hypervisor>();
  const byShort = new Map<string, Hypervisor>();
  for (const h of hypervisors) {
    if (!byService.has(h.serviceHost)) byService.set(h.serviceHost, h);
    if (!byName.has(h.hostname)) byName.set(h.hostname, h);
    const short = h.hostname.split('.')[0]!;
    if (!byShort.has(short)) byShort.set(short, h);
  }
  return (host) => byService.get(host) ?? byName.get(host) ?? byShort.get(host) ?? null;
}

export function pickHypervisor(hypervisors: Hypervisor[], host: string): Hypervisor | null {
  return (
    hypervisors.find((h) => h.serviceHost === host) ??
    hypervisors.find((h) => h.hostname === host) ??
    hypervisors.find((h) => h.hostname.split('.')[0] === host) ??
    null
  );
}

/** Levenshtein distance (short host names only). */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

export function suggestHosts(host: string, known: string[]): string[] {
  const h = host.toLowerCase();
  const short = h.split('.')[0]!;
  const scored = known
    .filter((k) => k !== host)
    .map((k) => {
      const l = k.toLowerCase();
      const ks = l.split('.')[0]!;
      let score = 0;
      if (ks === short) score = 3;
      else if (l.startsWith(h) || h.startsWith(l)) score = 2;
      else if (l.includes(short) || short.includes(ks)) score = 1;
      else if (editDistance(ks, short) <= 2) score = 1 - editDistance(ks, short) / 10;
      return { k, score };
    })
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || a.k.localeCompare(b.k));
  return scored.slice(0, 3).map((x) => x.k);
}

export async function resolveHostRef(deps: ActorDeps, host: string, opts?: CallOptions): Promise<ResolveOutput> {
  const service = await findComputeService(deps, host, opts);
  if (!service) {
    let suggestions: string[] = [];
    try {
      const all = await deps.compute.listServices({ binary: COMPUTE }, opts);
      suggestions = suggestHosts(host, all.map((s) => s.host));
    } catch (e) {
      deps.logger.debug('could not list compute services for suggestions', { error: errorText(e) });
    }
    return { found: false, ref: null, suggestions, warnings: [], markerRun: null };
  }
  const warnings: string[] = [];
  const hv = pickHypervisor(await deps.compute.findHypervisors(host, opts), host);
  if (!hv) warnings.push(`no hypervisor found for ${host}: the hypervisor server list is not checked`);
  let provider: { uuid: string; name: string } | null = null;
  if (hv) {
    const providers = await deps.placement.listProviders({ name: hv.hostname }, opts);
    const p = providers.find((x) => x.name === hv.hostname);
    if (p) provider = { uuid: p.uuid, name: p.name };
    else warnings.push(`no Placement resource provider named ${hv.hostname}: its allocations are not checked`);
  }
  return {
    found: true,
    ref: { host, service: toServiceRecord(service), hypervisor: hv ? { id: hv.id, hostname: hv.hostname } : null, provider },
    suggestions: [],
    warnings,
    markerRun: await markerRunOf(deps, service),
  };
}

/** What this machine's saved runs know of the run named by the service's hostmaint marker. */
async function markerRunOf(deps: ActorDeps, svc: Pick<ServiceRecord, 'status' | 'disabledReason'>): Promise<KnownRun | null> {
  const marker = svc.status === 'disabled' ? parseMarker(svc.disabledReason) : null;
  if (!marker || !deps.runs) return null;
  // A saved run that cannot be read is an error, never guessed around (it may be the live run of this host).
  return deps.runs.lookup(marker.runId);
}

/** The service now, or an unknown-host error when it is gone. */
async function current(deps: ActorDeps, service: ServiceRecord, opts?: CallOptions): Promise<ServiceRecord> {
  const fresh = await reread(deps, service, opts);
  if (!fresh) throw new HostmaintError('unknown-host', `the nova-compute service of ${service.host} is gone`);
  return toServiceRecord(fresh);
}

/** Read the service (the undrain's last look, a drain's poll). */
export function readServiceFor(deps: ActorDeps, input: ReadServiceInput, opts?: CallOptions): Promise<ServiceRecord> {
  return current(deps, input.service, opts);
}

function sameService(a: ServiceRecord, b: ServiceRecord): boolean {
  return a.status === b.status && a.disabledReason === b.disabledReason;
}

/**
 * Disable the service with this run's marker when the machine decided to, then read it back: the
 * result is what Nova shows, not what the PUT answered (nothing in Nova stops two writers, so the
 * read says who won). A restored run reads first: if the service is not as the decision saw it,
 * the machine decides again on what it is now.
 */
export async function disableServiceFor(deps: ActorDeps, input: DisableInput, opts?: CallOptions): Promise<DisableOutput> {
  let seen = input.service;
  if (!input.fresh) {
    seen = await current(deps, input.service, opts);
    if (!sameService(seen, input.service)) return { kind: 'changed', service: seen, markerRun: await markerRunOf(deps, seen) };
  }
  let changed = false;
  if (input.intent === 'disable' && seen.status === 'enabled') {
    try {
      await deps.compute.disableService(toComputeService(seen), makeMarker(input.runId, input.reason), opts);
    } catch (e) {
      if (!isHttpError(e, 'unknown-outcome')) throw e;
      // Did it land? The read back below says; if it shows anything but this run's marker, the request failed.
      const check = await reread(deps, input.service, opts);
      if (!check || parseMarker(check.disabledReason)?.runId !== input.runId) throw e;
    }
    changed = true;
  }
  const after = await current(deps, input.service, opts);
  // This run's own marker found on the service (it disabled it before a restart): the prior state was enabled.
  const before = parseMarker(seen.disabledReason)?.runId === input.runId && seen.status === 'disabled' ? { ...seen, status: 'enabled' as const, disabledReason: null } : seen;
  return { kind: 'done', before, after, changed };
}

/**
 * Put the service back after a refused preflight or a failure. Enables only
 * when allowed (nothing moved) and the service still carries this run's marker:
 * never someone else's disable, never an adopted one.
 */
export async function restoreServiceFor(deps: ActorDeps, input: RestoreInput, opts?: CallOptions): Promise<RestoreOutput> {
  const fresh = await reread(deps, input.service, opts);
  if (!fresh) return { after: null, action: 'none', note: `the nova-compute service of ${input.service.host} is gone` };
  const seen = toServiceRecord(fresh);
  if (fresh.status === 'enabled') return { after: seen, action: 'already-enabled', note: null };
  const marker = parseMarker(fresh.disabledReason);
  if (!marker) return { after: seen, action: 'left-foreign', note: null };
  if (marker.runId !== input.runId) return { after: seen, action: 'left-disabled', note: null };
  if (!input.mayEnable) return { after: seen, action: 'left-disabled', note: 'the service stays disabled: instances have already left (or may be leaving) the host' };
  await deps.compute.enableService(fresh, opts);
  return { after: await current(deps, input.service, opts), action: 'enabled', note: null };
}

/**
 * Enable for undrain: read first, and enable only if the service is as it was when the machine
 * decided (someone may have disabled or enabled it since); then read it back.
 */
export async function enableServiceFor(deps: ActorDeps, input: EnableInput, opts?: CallOptions): Promise<EnableOutput> {
  const seen = await current(deps, input.service, opts);
  if (!sameService(seen, input.service)) {
    const now = seen.status === 'enabled' ? 'enabled' : `disabled by ${identifyDisabler(seen.disabledReason).description}`;
    return { after: seen, changed: false, refused: now };
  }
  if (seen.status === 'enabled') return { after: seen, changed: false, refused: null };
  try {
    await deps.compute.enableService(toComputeService(seen), opts);
  } catch (e) {
    if (!isHttpError(e, 'unknown-outcome')) throw e;
    const check = await reread(deps, input.service, opts);
    if (!check || check.status !== 'enabled') throw e;
  }
  return { after: await current(deps, input.service, opts), changed: true, refused: null };
}

/** Wait until the service reports `up` (its heartbeat), bounded. */
export async function waitServiceUp(deps: ActorDeps, input: WaitUpInput, signal?: AbortSignal): Promise<WaitUpOutput> {
  const started = deps.clock.now();
  const deadline = started + input.timeoutMs;
  let last = input.service;
  for (;;) {
    const fresh = await reread(deps, last, { signal });
    if (fresh) last = toServiceRecord(fresh);
    if (last.state === 'up') return { up: true, service: last, waitedMs: deps.clock.now() - started };
    const left = deadline - deps.clock.now();
    if (left <= 0) return { up: false, service: last, waitedMs: deps.clock.now() - started };
    await deps.clock.sleep(Math.min(input.pollIntervalMs, left), signal);
  }
}

export { toComputeService };
