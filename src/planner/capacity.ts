/**
 * Capacity arithmetic with Placement's numbers (pure), for the planner.
 *
 *   capacity = int((total - reserved) * allocation_ratio)
 *   free     = capacity - used
 *   one allocation must be <= max_unit (and >= min_unit, a multiple of step_size)
 *
 * The arithmetic and Nova's flavor -> resources rules (VCPU vs PCPU for
 * hw:cpu_policy=dedicated, DISK_GB = root + ephemeral + swap rounded up, no
 * root for a volume-backed server, `resources:` extra specs) live in
 * src/openstack/placement/capacity.ts; this module adapts them to the plan
 * (a compact JSON capacity, shortfalls for messages, consuming a placement).
 */
import { flavorResources, providerCapacity } from '../openstack/placement/capacity.js';
import type { Inventories, Server, ServerFlavor, Usages } from '../openstack/types.js';
import type { ProviderCapacity } from './types.js';
import type { ResourceAmounts } from '../machines/plan.js';

export function capacityOf(inventories: Inventories, usages: Usages): ProviderCapacity {
  const out: ProviderCapacity = {};
  for (const [rc, c] of Object.entries(providerCapacity(inventories, usages))) {
    out[rc] = { capacity: c.capacity, used: c.used, free: Math.max(0, c.free), maxUnit: c.maxUnit, minUnit: c.minUnit, stepSize: c.stepSize };
  }
  return out;
}

export function isVolumeBacked(server: Pick<Server, 'imageId'>): boolean {
  return server.imageId === null || server.imageId === '';
}

/** What one instance asks Placement for, per resource class (as Nova computes it). */
export function resourceRequest(flavor: ServerFlavor, volumeBacked: boolean): ResourceAmounts {
  return flavorResources(flavor, { bootFromVolume: volumeBacked });
}

export function requestForServer(server: Server): ResourceAmounts {
  return resourceRequest(server.flavor, isVolumeBacked(server));
}

export interface Shortfall {
  resourceClass: string;
  need: number;
  free: number;
  maxUnit: number;
  /** 'free': not enough left; 'max_unit': larger than one allocation may be; 'missing': the provider has no such inventory. */
  why: 'free' | 'max_unit' | 'missing' | 'min_unit' | 'step_size';
}

/** Every resource class this request lacks on one provider (empty: it fits). */
export function shortfalls(request: ResourceAmounts, capacity: ProviderCapacity): Shortfall[] {
  const out: Shortfall[] = [];
  for (const [rc, need] of Object.entries(request)) {
    if (need <= 0) continue;
    const c = capacity[rc];
    if (!c) {
      out.push({ resourceClass: rc, need, free: 0, maxUnit: 0, why: 'missing' });
      continue;
    }
    if (need > c.maxUnit) out.push({ resourceClass: rc, need, free: c.free, maxUnit: c.maxUnit, why: 'max_unit' });
    else if (need < c.minUnit) out.push({ resourceClass: rc, need, free: c.free, maxUnit: c.maxUnit, why: 'min_unit' });
    else if (c.stepSize > 1 && need % c.stepSize !== 0) out.push({ resourceClass: rc, need, free: c.free, maxUnit: c.maxUnit, why: 'step_size' });
    else if (need > c.free) out.push({ resourceClass: rc, need, free: c.free, maxUnit: c.maxUnit, why: 'free' });
  }
  return out;
}

export function fits(request: ResourceAmounts, capacity: ProviderCapacity): boolean {
  return shortfalls(request, capacity).length === 0;
}

/** Take an allocation out of a capacity (returns a new object). */
export function consume(capacity: ProviderCapacity, request: ResourceAmounts): ProviderCapacity {
  const out: ProviderCapacity = {};
  for (const [rc, c] of Object.entries(capacity)) {
    const take = request[rc] ?? 0;
    out[rc] = { ...c, used: c.used + take, free: Math.max(0, c.free - take) };
  }
  return out;
}

export function freeAmounts(capacity: ProviderCapacity): ResourceAmounts {
  const out: ResourceAmounts = {};
  for (const [rc, c] of Object.entries(capacity)) out[rc] = c.free;
  return out;
}

const UNITS: Record<string, string> = { MEMORY_MB: 'MB RAM', DISK_GB: 'GB disk' };

/** "8 VCPU", "16384 MB RAM", "40 GB disk". */
export function formatAmount(rc: string, n: number): string {
  return `${n} ${UNITS[rc] ?? rc}`;
}

const ORDER = ['VCPU', 'PCPU', 'MEMORY_MB', 'DISK_GB'];

export function orderedClasses(classes: Iterable<string>): string[] {
  return [...new Set(classes)].sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a.localeCompare(b);
  });
}

/** "8 VCPU, 16384 MB RAM, 40 GB disk" */
export function formatRequest(request: ResourceAmounts): string {
  return orderedClasses(Object.keys(request))
    .filter((rc) => (request[rc] ?? 0) > 0)
    .map((rc) => formatAmount(rc, request[rc]!))
    .join(', ');
}
