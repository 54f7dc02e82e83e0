/**
 * Place every instance of a host onto a target (pure), with Placement's real
 * numbers, anti-affinity groups and availability zones, largest first.
 * An instance that fits nowhere is named with the reason.
 *
 * The plan is a feasibility check: by default Nova's scheduler still chooses
 * (host null); with pinned targets the planned host is requested (and Nova
 * still validates it).
 */
import { consume, formatAmount, formatRequest, orderedClasses, shortfalls } from './capacity.js';
import { zoneAllows } from './targets.js';
import type { PlaceableInstance, PlacementGroup, PlacementTarget, PlanResult, ProviderCapacity } from './types.js';
import type { InstancePlan, ResourceAmounts } from '../machines/plan.js';
import { freeAmounts } from './capacity.js';

function cpu(r: ResourceAmounts): number {
  return (r.VCPU ?? 0) + (r.PCPU ?? 0);
}

/** Largest first: CPUs, then RAM, then disk; then name for a stable order. */
export function largestFirst<T extends { name: string; serverId: string; request: ResourceAmounts }>(instances: T[]): T[] {
  return [...instances].sort(
    (a, b) =>
      cpu(b.request) - cpu(a.request) ||
      (b.request.MEMORY_MB ?? 0) - (a.request.MEMORY_MB ?? 0) ||
      (b.request.DISK_GB ?? 0) - (a.request.DISK_GB ?? 0) ||
      a.name.localeCompare(b.name) ||
      a.serverId.localeCompare(b.serverId),
  );
}

/** Higher is better: spread like Nova's default RAM weigher (most RAM left after placing). */
function score(cap: ProviderCapacity, request: ResourceAmounts): number[] {
  const ram = (cap.MEMORY_MB?.free ?? 0) - (request.MEMORY_MB ?? 0);
  const vcpu = (cap.VCPU?.free ?? 0) + (cap.PCPU?.free ?? 0) - cpu(request);
  return [ram, vcpu];
}

function compareScore(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (b[i] ?? 0) - (a[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function list(hosts: string[], max = 4): string {
  if (hosts.length <= max) return hosts.join(', ');
  return `${hosts.slice(0, max).join(', ')} and ${hosts.length - max} more`;
}

export function placeAll(instances: PlaceableInstance[], targets: PlacementTarget[], groups: PlacementGroup[] = []): PlanResult {
  const caps = new Map<string, ProviderCapacity>(targets.map((t) => [t.host, t.capacity]));
  const groupHosts = new Map<string, Set<string>>(groups.map((g) => [g.id, new Set(g.occupiedHosts)]));
  const groupsOf = new Map<string, PlacementGroup[]>();
  for (const g of groups) {
    for (const m of g.moving) groupsOf.set(m, [...(groupsOf.get(m) ?? []), g]);
  }

  const plans: InstancePlan[] = [];
  for (const inst of largestFirst(instances)) {
    const myGroups = groupsOf.get(inst.serverId) ?? [];
    const inZone = targets.filter((t) => zoneAllows(inst.availabilityZone, t.zone));
    const forMethod = inst.method === 'live' ? inZone.filter((t) => !t.liveExcluded) : inZone;
    const allowed = forMethod.filter((t) => myGroups.every((g) => (g.policy === 'affinity' ? groupHosts.get(g.id)!.has(t.host) : !groupHosts.get(g.id)!.has(t.host))));
    const fitting = allowed
      .filter((t) => shortfalls(inst.request, caps.get(t.host)!).length === 0)
      .sort((a, b) => compareScore(score(caps.get(a.host)!, inst.request), score(caps.get(b.host)!, inst.request)) || a.host.localeCompare(b.host));

    if (fitting.length > 0) {
      const chosen = fitting[0]!;
      caps.set(chosen.host, consume(caps.get(chosen.host)!, inst.request));
      for (const g of myGroups) groupHosts.get(g.id)!.add(chosen.host);
      plans.push({
        serverId: inst.serverId,
        name: inst.name,
        method: inst.method,
        request: inst.request,
        availabilityZone: inst.availabilityZone,
        target: chosen.host,
        alternatives: fitting.slice(1).map((t) => t.host),
        fits: true,
        reason: null,
      });
      continue;
    }
    plans.push({
      serverId: inst.serverId,
      name: inst.name,
      method: inst.method,
      request: inst.request,
      availabilityZone: inst.availabilityZone,
      target: null,
      alternatives: [],
      fits: false,
      reason: whyNowhere(inst, targets, inZone, forMethod, allowed, myGroups, groupHosts, caps),
    });
  }
  const remaining: Record<string, ResourceAmounts> = {};
  for (const [host, cap] of caps) remaining[host] = freeAmounts(cap);
  return { plans, remaining };
}

function whyNowhere(
  inst: PlaceableInstance,
  targets: PlacementTarget[],
  inZone: PlacementTarget[],
  forMethod: PlacementTarget[],
  allowed: PlacementTarget[],
  myGroups: PlacementGroup[],
  groupHosts: Map<string, Set<string>>,
  caps: Map<string, ProviderCapacity>,
): string {
  const needs = `needs ${formatRequest(inst.request)}`;
  if (targets.length === 0) return `${needs}; no usable target host`;
  if (inZone.length === 0) return `${needs}; no usable target in availability zone ${inst.availabilityZone}`;
  if (forMethod.length === 0) return `${needs}; no target can take it live: ${inZone.map((t) => `${t.host}: ${t.liveExcluded}`).join('; ')}`;
  const affinity = myGroups.filter((g) => g.policy === 'affinity');
  if (allowed.length === 0 && affinity.length > 0) {
    const names = affinity.map((g) => `'${g.name}'`).join(', ');
    const hosts = [...new Set(affinity.flatMap((g) => [...groupHosts.get(g.id)!]))].sort();
    return hosts.length === 0
      ? `${needs}; affinity group ${names} has every member on this host: Nova's affinity filter admits no other host for the first one to move`
      : `${needs}; affinity group ${names} admits only ${list(hosts)}, which is not a usable target with room for it`;
  }
  if (allowed.length === 0) {
    const names = myGroups.map((g) => `'${g.name}'`).join(', ');
    const taken = [...new Set(myGroups.flatMap((g) => [...groupHosts.get(g.id)!]))].filter((h) => inZone.some((t) => t.host === h)).sort();
    return `${needs}; anti-affinity group ${names} already has a member on every possible target (${list(taken)})`;
  }
  const parts: string[] = [];
  const maxUnitProblems: string[] = [];
  for (const rc of orderedClasses(Object.keys(inst.request))) {
    const need = inst.request[rc]!;
    let best: { host: string; free: number } | null = null;
    let maxUnitEverywhere = true;
    for (const t of allowed) {
      const c = caps.get(t.host)![rc];
      const free = c?.free ?? 0;
      if (!c || need <= c.maxUnit) maxUnitEverywhere = false;
      if (!best || free > best.free) best = { host: t.host, free };
    }
    if (maxUnitEverywhere) {
      const mu = Math.max(...allowed.map((t) => caps.get(t.host)![rc]?.maxUnit ?? 0));
      maxUnitProblems.push(`${rc} max_unit is ${mu}`);
    }
    if (best && best.free < need) parts.push(`${formatAmount(rc, best.free)} on ${best.host}`);
  }
  let msg = needs;
  if (parts.length > 0) msg += `; largest free: ${parts.join(', ')}`;
  else if (maxUnitProblems.length === 0) msg += `; no single target has all of it free at once`;
  if (maxUnitProblems.length > 0) msg += `${parts.length > 0 ? ' (' : '; '}larger than one allocation may be: ${maxUnitProblems.join(', ')}${parts.length > 0 ? ')' : ''}`;
  const excluded: string[] = [];
  const byZone = targets.length - inZone.length;
  const byCpu = inZone.length - forMethod.length;
  const byGroup = forMethod.length - allowed.length;
  if (byZone > 0) excluded.push(`${byZone} in other availability zones`);
  if (byCpu > 0) excluded.push(`${byCpu} for live migration by their CPU (${inZone.filter((t) => t.liveExcluded).map((t) => t.host).join(', ')})`);
  if (byGroup > 0) excluded.push(`${byGroup} by ${myGroups.map((g) => `${g.policy} group '${g.name}'`).join(', ')}`);
  if (excluded.length > 0) msg += ` (targets excluded: ${excluded.join(', ')})`;
  return msg;
}
