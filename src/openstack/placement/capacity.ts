/**
 * Capacity arithmetic exactly as Placement defines it, and the resources a
 * flavor asks for exactly as Nova computes them. Pure functions, no I/O.
 *
 * Placement (placement/objects/inventory.py, allocation.py):
 *   capacity = int((total - reserved) * allocation_ratio)
 *   an allocation of n on a provider is accepted when
 *     min_unit <= n <= max_unit, n % step_size == 0, used + n <= capacity.
 *
 * Nova (nova/scheduler/utils.py ResourceRequest.from_request_spec, Zed):
 *   `resources[$S]:$RC=$N` extra specs come first (any group, summed);
 *   hw:cpu_policy=dedicated turns the vCPUs into PCPU (+1 with
 *   hw:emulator_threads_policy=isolate), mixed splits them by
 *   hw:cpu_dedicated_mask (or the realtime mask);
 *   VCPU, MEMORY_MB and DISK_GB come from the flavor only when no extra spec
 *   (or pinning) already named them: DISK_GB = ephemeral + ceil(swap MB / 1024)
 *   + root (root left out for a volume-backed server);
 *   hw:mem_encryption adds MEM_ENCRYPTION_CONTEXT=1, hw:pmem adds
 *   CUSTOM_PMEM_NAMESPACE_<label> per label; zero amounts are dropped.
 */
import type { Inventories, ServerFlavor, Usages } from '../types.js';

export interface ResourceCapacity {
  total: number;
  reserved: number;
  allocationRatio: number;
  /** int((total - reserved) * allocation_ratio) */
  capacity: number;
  used: number;
  /** capacity - used (may be negative on an over-committed provider after a ratio change) */
  free: number;
  minUnit: number;
  maxUnit: number;
  stepSize: number;
}

export type FitResult = { ok: true } | { ok: false; reasons: string[] };

/** Python's int() on a float: truncation toward zero. */
function pyInt(x: number): number {
  return Math.trunc(x);
}

export function capacityOf(inv: { total: number; reserved: number; allocationRatio: number }): number {
  return pyInt((inv.total - inv.reserved) * inv.allocationRatio);
}

/** Capacity, usage and limits per resource class of one provider (classes without inventory are left out). */
export function providerCapacity(inventories: Inventories, usages: Usages): Record<string, ResourceCapacity> {
  const out: Record<string, ResourceCapacity> = {};
  for (const [rc, inv] of Object.entries(inventories)) {
    const capacity = capacityOf(inv);
    const used = usages[rc] ?? 0;
    out[rc] = {
      total: inv.total,
      reserved: inv.reserved,
      allocationRatio: inv.allocationRatio,
      capacity,
      used,
      free: capacity - used,
      minUnit: inv.minUnit,
      maxUnit: inv.maxUnit,
      stepSize: inv.stepSize,
    };
  }
  return out;
}

/** Does `request` (resource class -> amount) fit on a provider with capacity `cap`? Every reason is reported. */
export function fits(request: Record<string, number>, cap: Record<string, ResourceCapacity>): FitResult {
  const reasons: string[] = [];
  for (const [rc, n] of Object.entries(request)) {
    if (n <= 0) continue;
    const c = cap[rc];
    if (!c) {
      reasons.push(`needs ${n} ${rc}, has no ${rc} inventory`);
      continue;
    }
    if (n > c.free) reasons.push(`needs ${n} ${rc}, has ${Math.max(c.free, 0)} free`);
    if (n > c.maxUnit) reasons.push(`needs ${n} ${rc}, at most ${c.maxUnit} in one allocation (max_unit)`);
    if (n < c.minUnit) reasons.push(`needs ${n} ${rc}, at least ${c.minUnit} in one allocation (min_unit)`);
    if (c.stepSize > 0 && n % c.stepSize !== 0) reasons.push(`needs ${n} ${rc}, not a multiple of ${c.stepSize} (step_size)`);
  }
  return reasons.length === 0 ? { ok: true } : { ok: false, reasons };
}

// ------------------------------------------------------------------ flavor -> resources

/** What a flavor's resources are computed from (a ServerFlavor, or a Flavor). */
export type FlavorLike = Pick<ServerFlavor, 'vcpus' | 'ramMb' | 'diskGb' | 'ephemeralGb' | 'swapMb' | 'extraSpecs'>;

export interface FlavorResourceOptions {
  /** The server boots from a volume: the root disk is not on the host (no root DISK_GB). */
  bootFromVolume?: boolean;
  /** Image properties (hw_cpu_policy, hw_mem_encryption, hw_cpu_realtime_mask) when known. */
  imageProperties?: Record<string, string>;
}

/** os_resource_classes.STANDARDS (os-resource-classes 1.1, Zed). */
export const STANDARD_RESOURCE_CLASSES: ReadonlySet<string> = new Set([
  'VCPU', 'MEMORY_MB', 'DISK_GB', 'PCI_DEVICE', 'SRIOV_NET_VF', 'NUMA_SOCKET', 'NUMA_CORE', 'NUMA_THREAD', 'NUMA_MEMORY_MB',
  'IPV4_ADDRESS', 'VGPU', 'VGPU_DISPLAY_HEAD', 'NET_BW_EGR_KILOBIT_PER_SEC', 'NET_BW_IGR_KILOBIT_PER_SEC', 'PCPU',
  'MEM_ENCRYPTION_CONTEXT', 'FPGA', 'PGPU', 'NET_PACKET_RATE_KILOPACKET_PER_SEC', 'NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC',
  'NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC',
]);

const XS_KEYPAT = /^(resources|trait)([a-zA-Z0-9_-]{1,64})?:(.*)$/;

/** oslo strutils.bool_from_string (non-strict). */
function truthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 't', 'true', 'on', 'y', 'yes'].includes(v.trim().toLowerCase());
}

/** Python int() of an extra spec amount; null when Nova would skip it (not an integer, negative). */
function amount(v: string): number | null {
  const s = v.trim();
  if (!/^[+-]?\d+$/.test(s)) return null;
  const n = Number.parseInt(s, 10);
  return n < 0 ? null : n;
}

/** os_resource_classes.normalize_name */
export function normalizeResourceClass(name: string): string {
  return `CUSTOM_${name.replace(/[^0-9A-Za-z]+/g, '_').toUpperCase()}`;
}

function strictInt(s: string, what: string, rule: string): number {
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new Error(`Invalid ${what} expression ${rule}`);
  return Number.parseInt(t, 10);
}

/** nova.virt.hardware.parse_cpu_spec: "1-4,^3,6" -> {1, 2, 4, 6}. */
export function parseCpuSpec(spec: string): Set<number> {
  const ids = new Set<number>();
  const reject = new Set<number>();
  for (const raw of spec.split(',')) {
    const rule = raw.trim();
    if (rule.length < 1) continue;
    const dash = rule.indexOf('-');
    if (dash >= 0) {
      let start = rule.slice(0, dash);
      const isReject = start.startsWith('^');
      if (isReject) start = start.slice(1);
      const a = strictInt(start, 'range', rule);
      const b = strictInt(rule.slice(dash + 1), 'range', rule);
      if (a > b) throw new Error(`Invalid range expression ${rule}`);
      for (let i = a; i <= b; i++) (isReject ? reject : ids).add(i);
    } else if (rule.startsWith('^')) {
      reject.add(strictInt(rule.slice(1), 'exclusion', rule));
    } else {
      ids.add(strictInt(rule, 'inclusion', rule));
    }
  }
  for (const r of reject) ids.delete(r);
  return ids;
}

function maskCount(mask: string | undefined, vcpus: number): number {
  if (!mask) return 0;
  const set = mask.trim().startsWith('^') ? parseCpuSpec(`0-${vcpus - 1},${mask}`) : parseCpuSpec(mask);
  return set.size;
}

/** hardware.get_cpu_policy_constraint, without the conflict errors Nova's API already raised at boot. */
function cpuPolicy(specs: Record<string, string>, image: Record<string, string>): string | null {
  const f = specs['hw:cpu_policy'];
  const i = image['hw_cpu_policy'];
  if (f === 'dedicated' || f === 'mixed' || f === 'shared') return f;
  if (i === 'dedicated' || i === 'mixed' || i === 'shared') return i;
  return null;
}

/** What a server of this flavor holds in Placement (resource class -> amount), as Nova computes it. */
export function flavorResources(flavor: FlavorLike, opts: FlavorResourceOptions = {}): Record<string, number> {
  const specs = flavor.extraSpecs ?? {};
  const image = opts.imageProperties ?? {};
  // Request groups: '' is the unsuffixed group.
  const groups = new Map<string, Map<string, number>>();
  const add = (rc: string, n: number, group = ''): void => {
    if (!rc.startsWith('CUSTOM_') && !STANDARD_RESOURCE_CLASSES.has(rc)) return; // Nova: warning, skipped
    let g = groups.get(group);
    if (!g) groups.set(group, (g = new Map()));
    g.set(rc, n);
  };
  const merged = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const g of groups.values()) for (const [rc, n] of g) m.set(rc, (m.get(rc) ?? 0) + n);
    return m;
  };

  // 1. resources[$S]:$RC extra specs
  for (const [key, val] of Object.entries(specs)) {
    const m = XS_KEYPAT.exec(key);
    if (!m || m[1] !== 'resources') continue;
    const n = amount(val);
    if (n === null) continue;
    add(m[3]!, n, m[2] ?? '');
  }

  // 2. CPU pinning policies
  const policy = cpuPolicy(specs, image);
  let pcpus = 0;
  if (policy === 'dedicated') pcpus = flavor.vcpus;
  if (policy === 'mixed') {
    const realtime = truthy(specs['hw:cpu_realtime']) ? image['hw_cpu_realtime_mask'] ?? specs['hw:cpu_realtime_mask'] : undefined;
    pcpus = maskCount(specs['hw:cpu_dedicated_mask'], flavor.vcpus) || maskCount(realtime, flavor.vcpus);
    add('VCPU', flavor.vcpus - pcpus);
  }
  if (policy === 'dedicated' || policy === 'mixed') {
    if (specs['hw:emulator_threads_policy'] === 'isolate') pcpus += 1;
    add('PCPU', pcpus);
  }

  // 3. the flavor's own sizes, where nothing above named the class
  const m = merged();
  if (!m.has('VCPU') && !m.has('PCPU')) add('VCPU', flavor.vcpus);
  if (!m.has('MEMORY_MB')) add('MEMORY_MB', flavor.ramMb);
  if (!m.has('DISK_GB')) {
    let disk = flavor.ephemeralGb + Math.ceil((flavor.swapMb || 0) / 1024);
    if (!opts.bootFromVolume) disk += flavor.diskGb;
    if (disk) add('DISK_GB', disk);
  }

  // 4. memory encryption, persistent memory
  if (truthy(specs['hw:mem_encryption']) || truthy(image['hw_mem_encryption'])) add('MEM_ENCRYPTION_CONTEXT', 1);
  const pmem = (specs['hw:pmem'] ?? '').split(',').map((l) => l.trim()).filter((l) => l !== '');
  const byRc = new Map<string, number>();
  for (const label of pmem) {
    const rc = normalizeResourceClass(`PMEM_NAMESPACE_${label}`);
    byRc.set(rc, (byRc.get(rc) ?? 0) + 1);
  }
  for (const [rc, n] of byRc) add(rc, n);

  // 5. zeros are dropped
  const out: Record<string, number> = {};
  for (const [rc, n] of merged()) if (n > 0) out[rc] = n;
  return out;
}
