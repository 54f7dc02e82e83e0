/**
 * Preflight: every check, every problem reported at once (kubectl style), and
 * nothing changed. Read-only, so a restored run simply runs it again.
 *
 * Requests (independent of instances x hosts):
 *   listServersOnHost (again every poll while instances are busy)
 *   listServices(nova-compute), [listAggregates], listHypervisors, listProviders
 *   per usable candidate: getInventories + getUsages
 *   listServerGroups, plus getServer for anti-affinity members on other hosts
 */
import { errorText } from '../errors.js';
import type { CallOptions } from '../openstack/api.js';
import type { Server, ServerGroup } from '../openstack/types.js';
import { busyAfterWait, classify, describeCategory } from '../planner/classify.js';
import { capacityOf, freeAmounts, requestForServer } from '../planner/capacity.js';
import { placeAll } from '../planner/place.js';
import { candidateTargets } from '../planner/targets.js';
import type { Classification, ClassifyPolicy, PlaceableInstance, PlacementGroup, PlacementTarget } from '../planner/types.js';
import type { BlockingGroup, Finding, PreflightInput, PreflightReport, TargetReport } from '../workflow/types.js';
import type { ActorDeps } from './deps.js';
import { mapLimit } from './limit.js';
import { probeTcpConnect, resolveHostDns } from './net.js';
import { pickHypervisor } from './service.js';

const FANOUT = 8;

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
  classes = classes.map((c) => busyAfterWait(c, waitedMs, policy));
  return { servers, classes, waitedMs };
}

interface Targets {
  reports: TargetReport[];
  placement: PlacementTarget[];
}

async function checkTargets(deps: ActorDeps, input: PreflightInput, findings: Finding[], warnings: string[], opts: CallOptions): Promise<Targets> {
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

  const resolver = deps.resolveHost ?? resolveHostDns;
  const prober = deps.probeTcp ?? probeTcpConnect;
  const addresses = new Map<string, string | null>();
  await mapLimit(
    verdicts.filter((v) => v.usable),
    FANOUT,
    async (v) => {
      let r: boolean | string;
      try {
        r = await resolver(v.host);
      } catch {
        r = false;
      }
      if (r === false) {
        v.usable = false;
        v.reasons.push(`hostname ${v.host} does not resolve`);
        return;
      }
      addresses.set(v.host, typeof r === 'string' ? r : null);
      if (options.probePort !== null) {
        let ok = false;
        try {
          ok = await prober(v.host, options.probePort, options.probeTimeoutMs);
        } catch {
          ok = false;
        }
        if (!ok) {
          v.usable = false;
          v.reasons.push(`TCP port ${options.probePort} does not answer within ${options.probeTimeoutMs} ms`);
        }
      }
    },
  );

  const providerOf = new Map<string, string>();
  const caps = new Map<string, ReturnType<typeof capacityOf>>();
  if (verdicts.some((v) => v.usable)) {
    const [hypervisors, providers] = await Promise.all([deps.compute.listHypervisors(opts), deps.placement.listProviders({}, opts)]);
    for (const v of verdicts.filter((x) => x.usable)) {
      const hv = pickHypervisor(hypervisors, v.host);
      const p = hv ? providers.find((x) => x.name === hv.hostname && (x.parentProviderUuid === null || x.rootProviderUuid === x.uuid)) : undefined;
      if (!p) {
        v.usable = false;
        v.reasons.push(hv ? `no Placement resource provider named ${hv.hostname}` : 'no hypervisor found');
        continue;
      }
      providerOf.set(v.host, p.uuid);
    }
    await mapLimit(
      verdicts.filter((v) => v.usable),
      FANOUT,
      async (v) => {
        const uuid = providerOf.get(v.host)!;
        const [inv, usages] = await Promise.all([deps.placement.getInventories(uuid, opts), deps.placement.getUsages(uuid, opts)]);
        caps.set(v.host, capacityOf(inv, usages));
      },
    );
  }

  const reports: TargetReport[] = verdicts.map((v) => ({
    host: v.host,
    zone: v.zone,
    usable: v.usable,
    reasons: v.reasons,
    providerUuid: providerOf.get(v.host) ?? null,
    free: caps.has(v.host) ? freeAmounts(caps.get(v.host)!) : {},
    freeAfterPlan: null,
    address: addresses.get(v.host) ?? null,
  }));
  for (const r of reports.filter((x) => !x.usable)) {
    const named = options.targets?.includes(r.host) ?? false;
    warnings.push(`${named ? 'named ' : ''}target ${r.host} is not usable: ${r.reasons.join('; ')}`);
  }
  const placement: PlacementTarget[] = reports
    .filter((r) => r.usable && caps.has(r.host))
    .map((r) => ({ host: r.host, zone: r.zone, providerUuid: r.providerUuid!, capacity: caps.get(r.host)! }));
  return { reports, placement };
}

async function serverGroups(
  deps: ActorDeps,
  moving: Classification[],
  onHost: Map<string, Server>,
  warnings: string[],
  opts: CallOptions,
): Promise<PlacementGroup[]> {
  if (moving.length === 0) return [];
  let groups: ServerGroup[];
  try {
    groups = await deps.compute.listServerGroups({ ...opts, allProjects: true });
  } catch (e) {
    warnings.push(`could not read server groups (anti-affinity not checked): ${errorText(e)}`);
    return [];
  }
  const movingIds = new Set(moving.map((c) => c.serverId));
  const out: PlacementGroup[] = [];
  const elsewhere = new Map<string, string[]>();
  for (const g of groups) {
    const here = g.members.filter((m) => movingIds.has(m));
    if (here.length === 0) continue;
    const policy = g.policy.toLowerCase();
    if (policy === 'anti-affinity') {
      out.push({ id: g.id, name: g.name, policy: 'anti-affinity', moving: here, occupiedHosts: [] });
      elsewhere.set(g.id, g.members.filter((m) => !onHost.has(m)));
    } else if (policy === 'soft-anti-affinity') {
      warnings.push(`server group '${g.name}' (soft-anti-affinity): Nova will try, not promise, to keep ${here.length} member(s) apart`);
    } else if (policy === 'affinity') {
      warnings.push(
        `server group '${g.name}' (affinity): Nova only places members next to each other; moving ${here.length} member(s) one at a time may fail with NoValidHost`,
      );
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
  return out;
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
      else message = f.kind;
      g = { kind: f.kind, category: f.category, message, override: f.override, servers: [] };
      groups.set(key, g);
    }
    if (f.serverId) g.servers.push({ id: f.serverId, name: f.serverName ?? f.serverId, reason: f.message, remedy: f.remedy });
  }
  for (const g of groups.values()) {
    if (g.servers.length > 0) g.message = `${g.message}: ${g.servers.map((s) => s.name).join(', ')}`;
    if (g.override) g.message += ` (override: ${g.override.flag})`;
  }
  return [...groups.values()];
}

export async function runPreflight(deps: ActorDeps, input: PreflightInput, signal?: AbortSignal): Promise<PreflightReport> {
  const { ref, options } = input;
  const opts: CallOptions = { signal };
  const policy: ClassifyPolicy = { stopped: options.stopped, shelved: options.shelved, skipBlocked: options.skipBlocked, admin: options.admin };
  const findings: Finding[] = [];
  const warnings: string[] = [];

  // 1. every instance on the host, any project, any state
  const { servers, classes, waitedMs } = await classifyHost(deps, input, policy, opts, signal);
  const onHost = new Map(servers.map((s) => [s.id, s]));
  for (const c of classes) {
    if (c.class === 'blocked') {
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
    } else {
      for (const n of c.notes) warnings.push(`${c.name}: ${n}`);
    }
  }

  // 2. targets and 3. capacity — only when something needs a target
  const toPlace = classes.filter((c) => (c.class === 'live' || c.class === 'cold') && !c.adopt);
  let reports: TargetReport[] = [];
  let plan: PreflightReport['plan'] = [];
  if (toPlace.length > 0) {
    const t = await checkTargets(deps, input, findings, warnings, opts);
    reports = t.reports;
    const groups = await serverGroups(deps, toPlace, onHost, warnings, opts);
    const placeable: PlaceableInstance[] = toPlace.map((c) => {
      const s = onHost.get(c.serverId)!;
      return { serverId: c.serverId, name: c.name, method: c.class as 'live' | 'cold', request: requestForServer(s), availabilityZone: s.availabilityZone };
    });
    const result = placeAll(placeable, t.placement, groups);
    plan = result.plans;
    for (const r of reports) r.freeAfterPlan = result.remaining[r.host] ?? null;
    if (t.placement.length === 0) {
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

  const blocking = groupBlocking(findings);
  return { ok: blocking.length === 0, instances: classes, targets: reports, plan, findings, blocking, warnings, waitedMs };
}
