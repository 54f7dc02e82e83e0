/**
 * Migratability verdicts beyond an instance's state (pure): what its flavor,
 * its disks and its config drive mean for a move, whether any target can hold
 * its dedicated CPUs, and which targets a live migration cannot use because
 * their CPU differs from the source's. Fed by what the preflight already reads
 * (the servers with their embedded flavors, the hypervisor listing, the
 * targets' Placement capacity); nothing here asks the cloud.
 */
import type { CpuInfo, Server } from '../openstack/types.js';
import { formatAmount, isVolumeBacked, shortfalls } from './capacity.js';
import { zoneAllows } from './targets.js';
import type { PlaceableInstance, PlacementTarget } from './types.js';

/** The copy rate the block-migration estimate assumes (nothing measures it): 1 Gbit/s. */
export const ASSUMED_COPY_BITS_PER_SECOND = 1e9;

const GIB = 1024 ** 3;

/**
 * hw:mem_page_size values that ask for huge pages: large, any, or a size
 * (a number of KiB, or with a unit: 2MB, 1GB, 2048KiB). `small` asks for none.
 */
const HUGE_PAGES = /^(large|any|\d+\s*([kmg]i?b?)?)$/i;

/** The NUMA and huge-page notes of a flavor: Nova's scheduler and the target's compute check them; hostmaint does not. */
export function topologyNotes(extraSpecs: Record<string, string>): string[] {
  const out: string[] = [];
  const numa = (extraSpecs['hw:numa_nodes'] ?? '').trim();
  if (numa !== '') out.push(`NUMA topology (hw:numa_nodes=${numa}): the target must have matching NUMA cells; Nova checks it, hostmaint does not`);
  const pages = (extraSpecs['hw:mem_page_size'] ?? '').trim();
  if (pages !== '' && HUGE_PAGES.test(pages)) {
    out.push(`huge pages (hw:mem_page_size=${pages}): the target must have enough free huge pages of that size; Nova checks it, hostmaint does not`);
  }
  return out;
}

/** A live migration of a server with a config drive: what it needs of the computes. */
export function configDriveNote(server: Pick<Server, 'configDrive'>): string | null {
  return server.configDrive ? 'config drive: live migration needs config_drive_format=vfat or block migration of the iso9660 drive' : null;
}

/** Every note of one instance for a move by `method` (the hardware and state verdicts are classify's). */
export function instanceNotes(server: Pick<Server, 'flavor' | 'configDrive'>, method: 'live' | 'cold'): string[] {
  const out = topologyNotes(server.flavor.extraSpecs ?? {});
  const drive = method === 'live' ? configDriveNote(server) : null;
  if (drive) out.push(drive);
  return out;
}

/** GB on the host's local disk: the root disk unless volume-backed, ephemeral, and swap (MB, rounded up to a GB). */
export function localDiskGb(server: Pick<Server, 'flavor' | 'imageId'>): number {
  const f = server.flavor;
  return (isVolumeBacked(server) ? 0 : f.diskGb) + f.ephemeralGb + Math.ceil(f.swapMb / 1024);
}

/** "~6 min", "~45 s", "~1 h 12 min". */
export function formatCopyTime(seconds: number): string {
  if (seconds < 60) return `~${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `~${minutes} min`;
  return `~${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Seconds to copy `gb` GB (GiB, as Nova's disk sizes) at the assumed rate. */
export function copySeconds(gb: number, bitsPerSecond = ASSUMED_COPY_BITS_PER_SECOND): number {
  return (gb * GIB * 8) / bitsPerSecond;
}

/**
 * The disk copy a move needs when the host's storage is not shared: every
 * local disk goes over the network (a block migration for a live move).
 * Null when nothing is local (volume-backed, no ephemeral, no swap).
 */
export function blockMigrationNote(server: Pick<Server, 'flavor' | 'imageId'>, method: 'live' | 'cold'): string | null {
  const gb = localDiskGb(server);
  if (gb <= 0) return null;
  const what = method === 'live' ? 'block migration' : 'disk copy';
  return `${what} unless storage is shared: ~${gb} GB local disk, ${formatCopyTime(copySeconds(gb))} at 1 Gbit/s (assumed)`;
}

function list(hosts: string[], max = 4): string {
  if (hosts.length <= max) return hosts.join(', ');
  return `${hosts.slice(0, max).join(', ')} and ${hosts.length - max} more`;
}

/**
 * An instance with dedicated CPUs (a PCPU request, from hw:cpu_policy=dedicated
 * or mixed) that no target in its zone can hold: why, naming the targets; null
 * when one can (or it asks no PCPU, or there are no targets: that is its own refusal).
 */
export function dedicatedCpuProblem(inst: PlaceableInstance, policy: string | undefined, targets: PlacementTarget[]): string | null {
  const need = inst.request['PCPU'] ?? 0;
  if (need <= 0) return null;
  const inZone = targets.filter((t) => zoneAllows(inst.availabilityZone, t.zone));
  if (inZone.length === 0) return null;
  if (inZone.some((t) => shortfalls({ PCPU: need }, t.capacity).length === 0)) return null;
  const needs = `needs ${need} dedicated CPUs (hw:cpu_policy=${policy ?? 'dedicated'})`;
  const withPcpu = inZone.filter((t) => (t.capacity['PCPU']?.capacity ?? 0) > 0);
  if (withPcpu.length === 0) return `${needs}; no target has PCPU inventory: ${list(inZone.map((t) => t.host))}`;
  const best = [...withPcpu].sort((a, b) => b.capacity['PCPU']!.free - a.capacity['PCPU']!.free || a.host.localeCompare(b.host))[0]!;
  const others = inZone.length - withPcpu.length;
  return `${needs}; largest free: ${formatAmount('PCPU', best.capacity['PCPU']!.free)} on ${best.host}${others > 0 ? ` (${others} target(s) without PCPU inventory)` : ''}`;
}

/** The remedy of a dedicated-CPU refusal. */
export const DEDICATED_CPU_REMEDY = 'add PCPU inventory on a target (nova-compute [compute] cpu_dedicated_set) or name one that has it with --target';

export interface CpuComparison {
  /** Why a live migration to this target is refused (vendor or arch differ); null when it is not. */
  excludeLive: string | null;
  /** A caveat that does not exclude the target (the model differs); null when none. */
  warning: string | null;
}

/**
 * The source's CPU against a target's, as Nova's libvirt driver will compare
 * them: a different vendor or architecture cannot take a live guest; a
 * different model may, depending on the guest's CPU mode. Unknown on either
 * side: nothing is said.
 */
export function compareCpu(source: CpuInfo | null | undefined, target: CpuInfo | null | undefined, names: { source: string; target: string }): CpuComparison {
  if (!source || !target) return { excludeLive: null, warning: null };
  const differ = (k: 'vendor' | 'arch') => source[k] !== null && target[k] !== null && source[k]!.toLowerCase() !== target[k]!.toLowerCase();
  const problems: string[] = [];
  if (differ('vendor')) problems.push(`CPU vendor ${target.vendor} differs from ${names.source}'s ${source.vendor}`);
  if (differ('arch')) problems.push(`CPU architecture ${target.arch} differs from ${names.source}'s ${source.arch}`);
  if (problems.length > 0) return { excludeLive: `${problems.join('; ')}: excluded for live migration`, warning: null };
  if (source.model !== null && target.model !== null && source.model !== target.model) {
    return {
      excludeLive: null,
      warning: `target ${names.target}: CPU model ${target.model} differs from ${names.source}'s ${source.model}: Nova's libvirt driver compares CPUs; a host-passthrough or host-model guest may fail`,
    };
  }
  return { excludeLive: null, warning: null };
}
