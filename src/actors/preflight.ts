/**
 * Preflight: every check, every problem reported at once (kubectl style), and
 * nothing changed. Read-only, so a restored run simply runs it again.
 *
 * Requests (independent of instances x hosts):
 *   listServersOnHost (again every poll while instances are busy)
 *   listServices(nova-compute), [listAggregates], listHypervisors, listProviders
 *   capacity: one Placement allocation-candidates call per distinct flavor
 *     (resources of the flavor, forbidden trait COMPUTE_STATUS_DISABLED); its
 *     provider summaries give capacity and usage of every host with room for
 *     it. Inventories + usages only for a usable target that has room for none
 *     of the flavors (or where Placement and the summary disagree), and, when
 *     something fits nowhere, one inventories read per target in its zone so
 *     the refusal names max_unit exactly. Placement before 1.27 (summaries
 *     without every resource class): inventories + usages per target.
 *   listServerGroups, plus getServer for anti-affinity members on other hosts
 */
import { errorText } from '../core/errors.js';
import type { CallOptions } from '../openstack/api.js';
import { compareMicroversions } from '../openstack/service-client.js';
import type { AllocationCandidates, Server, ServerGroup } from '../openstack/types.js';
import { blockedByTargets, busyAfterWait, classify, describeCategory } from '../planner/classify.js';
import { capacityOf, freeAmounts, requestForServer, shortfalls } from '../planner/capacity.js';
import { placeAll } from '../planner/place.js';
import { applyInstancePolicy } from '../planner/owner-policy.js';
import { candidateTargets } from '../planner/targets.js';
import { zoneAllows } from '../planner/targets.js';
import { blockMigrationNote, compareCpu, DEDICATED_CPU_REMEDY, dedicatedCpuProblem, type CpuComparison } from '../planner/verdicts.js';
import type { ClassifyPolicy, PlaceableInstance, PlacementGroup, PlacementTarget, ProviderCapacity } from '../planner/types.js';
import type { Classification, ResourceAmounts } from '../machines/plan.js';
import type { BlockingGroup, Finding, MovingGroup, PreflightInput, PreflightReport, TargetReport } from '../machines/actor-io.js';
import type { ActorDeps } from './deps.js';
import { mapLimit } from './limit.js';
import { netChecks, type NetChecks } from './net.js';
import { hypervisorIndex } from './service.js';

const FANOUT = 8;
/** Provider summaries list every resource class of a provider from 1.27 (before: only the requested ones). */
const SUMMARIES_ALL_CLASSES = '1.27';
const FORBIDDEN_TRAITS = '1.22';
const DISABLED_TRAIT = 'COMPUTE_STATUS_DISABLED';
const UNREACHABLE_OVERRIDE = { option: 'allowUnreachableTargets', flag: '--allow-unreachable-targets' };

/**
 * Can this target be reached, as the seed recipe asks ("both hosts must be
 * able to communicate")? From this machine, at Nova's host_ip for it (the
 * compute's my_ip, the address the computes migrate to), else at what its
 * name resolves to. An address passes a TCP probe when a probe port is set,
 * else a route lookup. The name is looked up only when host_ip is missing or
 * fails: a jump host's resolver may not know the computes, and an unknown name
 * can take a second to fail. The first address that passes wins; otherwise
 * every failed check is named.
 */
export async function reachTarget(
  net: NetChecks,
  host: string,
  hostIp: string | null,
  options: { probePort: number | null; probeTimeoutMs: number },
): Promise<{ address: string | null; via: 'name' | 'host_ip' | null; failures: string[] }> {
  const failures: string[] = [];
  const check = async (address: string): Promise<string | null> =>
    options.probePort === null
      ? net.routeTo(address)
      : (await net.probeTcp(address, options.probePort, options.probeTimeoutMs))
        ? null
        : `TCP port ${options.probePort} does not answer within ${options.probeTimeoutMs} ms`;
  if (hostIp) {
    const why = await check(hostIp);
    if (why === null) return { address: hostIp, via: 'host_ip', failures };
    failures.push(`host_ip ${hostIp}: ${why}`);
  } else failures.push('Nova reports no host_ip');
  const byName = await net.resolve(host, options.probeTimeoutMs);
  if (byName === null) failures.push(`name ${host} does not resolve`);
  else if (byName !== hostIp) {
    const why = await check(byName);
    if (why === null) return { address: byName, via: 'name', failures: [] };
    failures.push(`name ${host} (${byName}): ${why}`);
  }
  return { address: null, via: null, failures };
}

/** Each instance's project name, when Keystone gives it (best effort: the id stays shown otherwise). */
async function nameProjects(deps: ActorDeps, classes: Classification[], opts: CallOptions): Promise<void> {
  if (!deps.projects || classes.length === 0) return;
  try {
    const names = await deps.projects.names(classes.map((c) => c.projectId), opts);
    for (const c of classes) c.projectName = names.get(c.projectId) ?? null;
  } catch (e) {
    deps.logger.debug('project names not available', { error: errorText(e) });
  }
}

async function classifyHost(deps: ActorDeps, input: PreflightInput, policy: ClassifyPolicy, opts: CallOptions, signal?: AbortSignal) {
  const { ref, options } = input;
  const started = deps.clock.now();
  let servers = await deps.compute.listServersOnHost(ref.host, opts);
  let classes = servers.map((s) => classify(s, policy));
  while (classes.some((c) => c.class === 'wait')) {
    const left = started + options.waitTimeoutMs - deps.clock.now();
    if (left <= 0) break;
    const busy = classes.filter((c) => c.class === 'wait').map((c) => c.name);
    deps.logger.info(`waiting for ${busy.length} busy instance(s) on ${ref.host}`, { servers: busy });
    await deps.clock.sleep(Math.min(options.pollIntervalMs, left), signal);
    servers = await deps.compute.listServersOnHost(ref.host, opts);
    classes = servers.map((s) => classify(s, policy));
  }
  const waitedMs = deps.clock.now() - started;
  const byId = new Map(servers.map((s) => [s.id, s]));
  classes = classes.map((c) => applyInstancePolicy(busyAfterWait(c, waitedMs, policy), byId.get(c.serverId)!, options.instancePolicies ?? ['live', 'cold']));
  return { servers, classes, waitedMs };
}

interface Targets {
  reports: TargetReport[];
  placement: PlacementTarget[];
  /** Hosts whose capacity came from allocation-candidate summaries (max_unit, min_unit, step_size not known). */
  fromSummaries: Set<string>;
  /** Each usable target's CPU against the source's (from the same hypervisor listing). */
  cpu: Map<string, CpuComparison>;
}

/** One key per distinct request (the same flavor asks the same). */
function requestKey(r: ResourceAmounts): string {
  return Object.entries(r)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([rc, n]) => `${rc}:${n}`)
    .join(',');
}

/** Capacity from a provider summary: capacity and used are Placement's; the per-allocation limits are not in a summary. */
function capacityFromSummary(resources: Record<string, { capacity: number; used: number }>): ProviderCapacity {
  const out: ProviderCapacity = {};
  for (const [rc, r] of Object.entries(resources)) {
    // Placeholders: allocation candidates already applied the real max_unit/min_unit/step_size for each flavor asked.
    out[rc] = { capacity: r.capacity, used: r.used, free: Math.max(0, r.capacity - r.used), maxUnit: r.capacity, minUnit: 1, stepSize: 1 };
  }
  return out;
}

async function exactCapacity(deps: ActorDeps, uuid: string, opts: CallOptions): Promise<ProviderCapacity> {
  const [inv, usages] = await Promise.all([deps.placement.getInventories(uuid, opts), deps.placement.getUsages(uuid, opts)]);
  return capacityOf(inv, usages);
}

/**
 * Capacity of every usable target: one allocation-candidates call per
 * distinct request; exact reads only where the summaries cannot tell.
 */
async function targetCapacities(
  deps: ActorDeps,
  hosts: Array<{ host: string; uuid: string }>,
  requests: ResourceAmounts[],
  opts: CallOptions,
): Promise<{ caps: Map<string, ProviderCapacity>; fromSummaries: Set<string> }> {
  const caps = new Map<string, ProviderCapacity>();
  const fromSummaries = new Set<string>();
  const mv = deps.placement.microversion;
  const distinct = [...new Map(requests.map((r) => [requestKey(r), r] as const)).entries()].filter(([k]) => k !== '');
  if (compareMicroversions(mv, SUMMARIES_ALL_CLASSES) < 0 || distinct.length === 0) {
    await mapLimit(hosts, FANOUT, async (h) => caps.set(h.host, await exactCapacity(deps, h.uuid, opts)));
    return { caps, fromSummaries };
  }
  const required = compareMicroversions(mv, FORBIDDEN_TRAITS) >= 0 ? [`!${DISABLED_TRAIT}`] : [];
  const answers = await mapLimit(distinct, FANOUT, async ([, resources]) => deps.placement.getAllocationCandidates({ resources, required }, opts));
  const summaries = new Map<string, AllocationCandidates['providerSummaries'][string]>();
  const candidates: Array<Set<string>> = answers.map((a) => {
    const set = new Set<string>();
    for (const req of a.allocationRequests) for (const rp of Object.keys(req)) set.add(rp);
    for (const [rp, sum] of Object.entries(a.providerSummaries)) summaries.set(rp, sum);
    return set;
  });
  const exact: Array<{ host: string; uuid: string }> = [];
  for (const h of hosts) {
    const sum = summaries.get(h.uuid);
    if (!sum) {
      exact.push(h); // room for none of the flavors: its numbers come from inventories + usages
      continue;
    }
    const cap = capacityFromSummary(sum.resources);
    // Placement said no where the summary says it fits (max_unit, min_unit, step_size, a trait): take the exact numbers.
    const disagrees = distinct.some(([, r], i) => !candidates[i]!.has(h.uuid) && shortfalls(r, cap).length === 0);
    if (disagrees) exact.push(h);
    else {
      caps.set(h.host, cap);
      fromSummaries.add(h.host);
    }
  }
  await mapLimit(exact, FANOUT, async (h) => caps.set(h.host, await exactCapacity(deps, h.uuid, opts)));
  return { caps, fromSummaries };
}

async function checkTargets(deps: ActorDeps, input: PreflightInput, requests: ResourceAmounts[], findings: Finding[], warnings: string[], opts: CallOptions): Promise<Targets> {
  const { ref, options } = input;
  const services = await deps.compute.listServices({ binary: 'nova-compute' }, opts);
  let aggregateHosts: string[] | null = null;
  if (options.aggregate !== null) {
    const aggregates = await deps.compute.listAggregates(opts);
    const agg = aggregates.find((a) => a.name === options.aggregate || String(a.id) === options.aggregate || a.uuid === options.aggregate);
    if (!agg) {
      findings.push({
        severity: 'error',
        kind: 'aggregate',
        category: null,
        serverId: null,
        serverName: null,
        host: null,
        message: `no host aggregate named '${options.aggregate}'`,
        remedy: 'list them with: openstack aggregate list',
        override: null,
      });
    }
    aggregateHosts = agg?.hosts ?? [];
  }
  const { verdicts, unknownNamed } = candidateTargets(services, ref.host, {
    targets: options.targets,
    aggregateHosts,
    availabilityZone: options.availabilityZone,
  });
  for (const n of unknownNamed) {
    findings.push({
      severity: 'error',
      kind: 'target',
      category: null,
      serverId: null,
      serverName: null,
      host: n,
      message: n === ref.host ? `target ${n} is the host being drained` : `target ${n} is not a nova-compute host`,
      remedy: 'list them with: openstack compute service list --service nova-compute',
      override: null,
    });
  }

  // Hypervisors first: a target's host_ip (Nova's my_ip of the compute) is the fallback of its name.
  const enabled = verdicts.filter((v) => v.usable);
  const [hypervisors, providers] = enabled.length > 0 ? await Promise.all([deps.compute.listHypervisors(opts), deps.placement.listProviders({}, opts)]) : [[], []];
  const net = netChecks(deps);
  // One index over the listing: every target looks itself up (1,000 targets: not 1,000 scans of 1,000).
  const hvOf = hypervisorIndex(hypervisors);
  const addresses = new Map<string, { address: string; via: 'name' | 'host_ip' }>();
  const reached = await mapLimit(enabled, FANOUT, (v) => reachTarget(net, v.host, hvOf(v.host)?.hostIp ?? null, options));
  enabled.forEach((v, i) => {
    const r = reached[i]!;
    if (r.address !== null) {
      addresses.set(v.host, { address: r.address, via: r.via! });
      return;
    }
    const why = r.failures.join('; ');
    if (options.allowUnreachableTargets) {
      warnings.push(`target ${v.host} was not reached from here (${why}); used anyway (--allow-unreachable-targets)`);
      return;
    }
    v.usable = false;
    v.reasons.push(`not reachable from here: ${why}`);
    findings.push({
      severity: 'error',
      kind: 'unreachable',
      category: null,
      serverId: null,
      serverName: null,
      host: v.host,
      message: `${v.host}: ${why}`,
      remedy: `make ${v.host} resolve on this machine, or check the address Nova migrates to (openstack hypervisor show ${v.host} -c host_ip)`,
      override: UNREACHABLE_OVERRIDE,
    });
  });

  // The CPU of each target against the source's: a different vendor or arch cannot take a live guest.
  const cpu = new Map<string, CpuComparison>();
  const sourceCpu = hvOf(ref.host)?.cpuInfo;
  for (const v of verdicts.filter((x) => x.usable)) {
    const c = compareCpu(sourceCpu, hvOf(v.host)?.cpuInfo, { source: ref.host, target: v.host });
    cpu.set(v.host, c);
    if (c.excludeLive) v.reasons.push(c.excludeLive);
  }

  const providerOf = new Map<string, string>();
  let caps = new Map<string, ProviderCapacity>();
  let fromSummaries = new Set<string>();
  if (verdicts.some((v) => v.usable)) {
    const providerByName = new Map<string, (typeof providers)[number]>();
    for (const x of providers) {
      if ((x.parentProviderUuid === null || x.rootProviderUuid === x.uuid) && !providerByName.has(x.name)) providerByName.set(x.name, x);
    }
    for (const v of verdicts.filter((x) => x.usable)) {
      const hv = hvOf(v.host);
      const p = hv ? providerByName.get(hv.hostname) : undefined;
      if (!p) {
        v.usable = false;
        v.reasons.push(hv ? `no Placement resource provider named ${hv.hostname}` : 'no hypervisor found');
        continue;
      }
      providerOf.set(v.host, p.uuid);
    }
    ({ caps, fromSummaries } = await targetCapacities(
      deps,
      verdicts.filter((v) => v.usable).map((v) => ({ host: v.host, uuid: providerOf.get(v.host)! })),
      requests,
      opts,
    ));
  }

  const reports: TargetReport[] = verdicts.map((v) => ({
    host: v.host,
    zone: v.zone,
    usable: v.usable,
    reasons: v.reasons,
    providerUuid: providerOf.get(v.host) ?? null,
    free: caps.has(v.host) ? freeAmounts(caps.get(v.host)!) : {},
    freeAfterPlan: null,
    address: addresses.get(v.host)?.address ?? null,
    reachedVia: addresses.get(v.host)?.via ?? null,
  }));
  for (const r of reports.filter((x) => !x.usable && !findings.some((f) => f.kind === 'unreachable' && f.host === x.host))) {
    const named = options.targets?.includes(r.host) ?? false;
    warnings.push(`${named ? 'named ' : ''}target ${r.host} is not usable: ${r.reasons.join('; ')}`);
  }
  const placement: PlacementTarget[] = reports
    .filter((r) => r.usable && caps.has(r.host))
    .map((r) => ({ host: r.host, zone: r.zone, providerUuid: r.providerUuid!, capacity: caps.get(r.host)!, liveExcluded: cpu.get(r.host)?.excludeLive ?? null }));
  return { reports, placement, fromSummaries, cpu };
}

async function serverGroups(
  deps: ActorDeps,
  moving: Classification[],
  onHost: Map<string, Server>,
  warnings: string[],
  opts: CallOptions,
): Promise<{ placement: PlacementGroup[]; moving: MovingGroup[] }> {
  if (moving.length === 0) return { placement: [], moving: [] };
  let groups: ServerGroup[];
  try {
    groups = await deps.compute.listServerGroups({ ...opts, allProjects: true });
  } catch (e) {
    warnings.push(`could not read server groups (anti-affinity not checked): ${errorText(e)}`);
    return { placement: [], moving: [] };
  }
  const movingIds = new Set(moving.map((c) => c.serverId));
  const out: PlacementGroup[] = [];
  const apart: MovingGroup[] = [];
  const elsewhere = new Map<string, string[]>();
  for (const g of groups) {
    const here = g.members.filter((m) => movingIds.has(m));
    if (here.length === 0) continue;
    const policy = g.policy.toLowerCase();
    // Kept apart while moving too: Nova's scheduler does not count a member still migrating to a host (bug 1821755).
    if ((policy === 'anti-affinity' || policy === 'soft-anti-affinity') && here.length > 1) apart.push({ id: g.id, name: g.name, policy, members: here });
    if (policy === 'anti-affinity' || policy === 'affinity') {
      out.push({ id: g.id, name: g.name, policy, moving: here, occupiedHosts: [] });
      elsewhere.set(g.id, g.members.filter((m) => !onHost.has(m)));
    } else if (policy === 'soft-anti-affinity') {
      warnings.push(`server group '${g.name}' (soft-anti-affinity): Nova will try, not promise, to keep ${here.length} member(s) apart; hostmaint moves them one at a time`);
    }
  }
  // Where do members that stay put live? One getServer per member, bounded by the groups, not the hosts.
  const ids = [...new Set([...elsewhere.values()].flat())];
  const hostOf = new Map<string, string | null>();
  await mapLimit(ids, FANOUT, async (id) => {
    try {
      const s = await deps.compute.getServer(id, opts);
      hostOf.set(id, s.host);
    } catch {
      hostOf.set(id, null);
    }
  });
  for (const g of out) {
    g.occupiedHosts = [...new Set((elsewhere.get(g.id) ?? []).map((m) => hostOf.get(m)).filter((h): h is string => !!h))].sort();
  }
  return { placement: out, moving: apart };
}

function groupBlocking(findings: Finding[]): BlockingGroup[] {
  const groups = new Map<string, BlockingGroup>();
  for (const f of findings.filter((x) => x.severity === 'error')) {
    const key = `${f.kind}:${f.category ?? ''}`;
    let g = groups.get(key);
    if (!g) {
      let message: string;
      if (f.kind === 'instance' && f.category) message = describeCategory(f.category);
      else if (f.kind === 'capacity') message = 'instances that fit on no target';
      else if (f.kind === 'no-targets') message = 'no usable target host';
      else if (f.kind === 'target') message = 'named targets that are no usable compute host';
      else if (f.kind === 'aggregate') message = 'unknown aggregate';
      else if (f.kind === 'unreachable') message = 'target hosts this machine cannot reach';
      else message = f.kind;
      g = { kind: f.kind, category: f.category, message, override: f.override, servers: [], hosts: [] };
      groups.set(key, g);
    }
    if (f.serverId) g.servers.push({ id: f.serverId, name: f.serverName ?? f.serverId, reason: f.message, remedy: f.remedy });
    else if (f.kind === 'unreachable') g.hosts.push(f.message);
  }
  for (const g of groups.values()) {
    if (g.servers.length > 0) g.message = `${g.message}: ${g.servers.map((s) => s.name).join(', ')}`;
    if (g.override) g.message += ` (override: ${g.override.flag})`;
  }
  return [...groups.values()];
}

/**
 * Cold migrations off this host awaiting their resize confirm (VERIFY_RESIZE on the destination): a
 * run stopped between the move and the confirm left them. The server is no longer listed on this
 * host, but the migration still holds its allocation here. One migration listing, one server read
 * each.
 */
async function leftToConfirm(deps: ActorDeps, host: string, warnings: string[], opts: CallOptions): Promise<NonNullable<PreflightReport['awaitingConfirm']>> {
  const migrations = (await deps.compute.listMigrations({ sourceCompute: host, status: 'finished' }, opts)).filter(
    (m) => m.sourceCompute === host && m.status === 'finished' && (m.migrationType === 'migration' || m.migrationType === 'resize') && m.destCompute,
  );
  const out: NonNullable<PreflightReport['awaitingConfirm']> = [];
  const theirs: string[] = [];
  await mapLimit(migrations, FANOUT, async (m) => {
    try {
      const s = await deps.compute.getServer(m.serverId, opts);
      if (s.status !== 'VERIFY_RESIZE' || s.host !== m.destCompute) return;
      // A cold migration off the host is a move (hostmaint's, or one an operator started to empty it): confirm it.
      if (m.migrationType === 'migration' && m.destCompute !== host) out.push({ serverId: s.id, name: s.name, migrationId: m.id, to: m.destCompute! });
      // An owner's resize is theirs to confirm or revert; until then it holds resources on this host.
      else theirs.push(`${s.name}: a resize (migration ${m.id}) awaits its owner's confirm and holds resources on ${host} until then: openstack server resize confirm ${s.id} (or revert: openstack server resize revert ${s.id})`);
    } catch (e) {
      deps.logger.debug('a server awaiting confirm could not be read', { serverId: m.serverId, error: errorText(e) });
    }
  });
  warnings.push(...theirs.sort());
  return out.sort((a, b) => a.migrationId - b.migrationId);
}

export async function runPreflight(deps: ActorDeps, input: PreflightInput, signal?: AbortSignal): Promise<PreflightReport> {
  const { options } = input;
  const opts: CallOptions = { signal };
  const policy: ClassifyPolicy = { stopped: options.stopped, shelved: options.shelved, skipBlocked: options.skipBlocked, admin: options.admin };
  const findings: Finding[] = [];
  const warnings: string[] = [];

  // 1. every instance on the host, any project, any state
  const { servers, classes, waitedMs } = await classifyHost(deps, input, policy, opts, signal);
  await nameProjects(deps, classes, opts);
  const onHost = new Map(servers.map((s) => [s.id, s]));
  const blockedFinding = (c: Classification): void => {
    findings.push({
      severity: c.blocking ? 'error' : 'warning',
      kind: 'instance',
      category: c.category,
      serverId: c.serverId,
      serverName: c.name,
      host: null,
      message: `${c.name} (${c.serverId}): ${c.reason}`,
      remedy: c.remedy,
      override: c.override,
    });
    if (!c.blocking) warnings.push(`${c.name}: ${c.reason}; left on the host (--skip-blocked)`);
  };
  for (const c of classes) {
    if (c.class === 'blocked') blockedFinding(c);
    else for (const n of c.notes) warnings.push(`${c.name}: ${n}`);
  }

  // 2. targets and 3. capacity — only when something needs a target
  let toPlace = classes.filter((c) => (c.class === 'live' || c.class === 'cold') && !c.adopt);
  let reports: TargetReport[] = [];
  let plan: PreflightReport['plan'] = [];
  let movingGroups: MovingGroup[] = [];
  let placementGroups: PlacementGroup[] = [];
  if (toPlace.length > 0) {
    let placeable: PlaceableInstance[] = toPlace.map((c) => {
      const s = onHost.get(c.serverId)!;
      return { serverId: c.serverId, name: c.name, method: c.class as 'live' | 'cold', request: requestForServer(s), availabilityZone: s.availabilityZone };
    });
    const t = await checkTargets(deps, input, placeable.map((p) => p.request), findings, warnings, opts);
    reports = t.reports;
    if (placeable.some((p) => p.method === 'live')) {
      for (const [host, c] of t.cpu) {
        if (c.excludeLive) warnings.push(`target ${host}: ${c.excludeLive}`);
        if (c.warning) warnings.push(c.warning);
      }
    }
    // Dedicated CPUs no target can hold: blocked (named with the targets), not placed.
    const pinned = new Map<string, string>();
    for (const p of t.placement.length > 0 ? placeable : []) {
      const why = dedicatedCpuProblem(p, onHost.get(p.serverId)!.flavor.extraSpecs['hw:cpu_policy'], t.placement);
      if (why) pinned.set(p.serverId, why);
    }
    if (pinned.size > 0) {
      for (let i = 0; i < classes.length; i++) {
        const why = pinned.get(classes[i]!.serverId);
        if (why === undefined) continue;
        classes[i] = blockedByTargets(classes[i]!, 'dedicated-cpu', why, DEDICATED_CPU_REMEDY, policy);
        blockedFinding(classes[i]!);
      }
      placeable = placeable.filter((p) => !pinned.has(p.serverId));
      toPlace = toPlace.filter((c) => !pinned.has(c.serverId));
    }
    const found = await serverGroups(deps, toPlace, onHost, warnings, opts);
    const groups = found.placement;
    movingGroups = found.moving;
    placementGroups = found.placement;
    let result = placeAll(placeable, t.placement, groups);
    const unplaced = result.plans.filter((p) => !p.fits);
    if (unplaced.length > 0 && t.fromSummaries.size > 0) {
      // Something fits nowhere: name max_unit exactly in the reason, with the inventories of the targets it could have used.
      const zones = placeable.filter((p) => unplaced.some((u) => u.serverId === p.serverId)).map((p) => p.availabilityZone);
      const relevant = t.placement.filter((x) => t.fromSummaries.has(x.host) && zones.some((z) => zoneAllows(z, x.zone)));
      await mapLimit(relevant, FANOUT, async (x) => {
        const inv = await deps.placement.getInventories(x.providerUuid, opts);
        const used: Record<string, number> = {};
        for (const [rc, c] of Object.entries(x.capacity)) used[rc] = c.used;
        x.capacity = capacityOf(inv, used);
      });
      if (relevant.length > 0) result = placeAll(placeable, t.placement, groups);
    }
    plan = result.plans;
    for (const p of plan) {
      const note = blockMigrationNote(onHost.get(p.serverId)!, p.method);
      if (note) p.notes = [note];
    }
    for (const r of reports) r.freeAfterPlan = result.remaining[r.host] ?? null;
    if (t.placement.length === 0) {
      // Every target unreachable: that refusal already names each one.
      if (!findings.some((f) => f.kind === 'unreachable')) {
        const why = reports.length === 0 ? 'no other enabled, up nova-compute host matches' : reports.map((r) => `${r.host}: ${r.reasons.join('; ')}`).join('; ');
        findings.push({
          severity: 'error',
          kind: 'no-targets',
          category: null,
          serverId: null,
          serverName: null,
          host: null,
          message: `no usable target host for ${toPlace.length} instance(s): ${why}`,
          remedy: 'enable or repair a target, or widen --targets / --aggregate / --availability-zone',
          override: null,
        });
      }
    } else {
      for (const p of plan.filter((x) => !x.fits)) {
        findings.push({
          severity: 'error',
          kind: 'capacity',
          category: null,
          serverId: p.serverId,
          serverName: p.name,
          host: null,
          message: `${p.name} (${p.serverId}): ${p.reason}`,
          remedy: 'free capacity on a target, add targets, or move/stop this instance first',
          override: null,
        });
      }
    }
  }

  const awaitingConfirm = await leftToConfirm(deps, input.ref.host, warnings, opts);
  for (const a of awaitingConfirm) warnings.push(`${a.name}: its cold migration to ${a.to} (migration ${a.migrationId}) was never confirmed: the drain confirms it`);
  const blocking = groupBlocking(findings);
  return { ok: blocking.length === 0, instances: classes, targets: reports, plan, findings, blocking, warnings, waitedMs, awaitingConfirm, groups: movingGroups, placementGroups };
}
