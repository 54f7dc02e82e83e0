/**
 * Classify every instance on a host: what a drain will do with it, or why it
 * cannot, with the remedy and the option that overrides it. Pure: a server in,
 * a verdict out (kubectl drain's filters, one function per concern).
 */
import type { Server } from '../openstack/types.js';
import type { ClassifyPolicy } from './types.js';
import type { BlockCategory, Classification, InstanceClass, OverrideHint } from '../machines/plan.js';
import { instanceNotes } from './verdicts.js';

export const DEFAULT_CLASSIFY_POLICY: ClassifyPolicy = { stopped: 'cold', shelved: 'offload', skipBlocked: false, admin: true };

const SKIP_BLOCKED: OverrideHint = { option: 'skipBlocked', flag: '--skip-blocked' };
const STOPPED_OVERRIDE: OverrideHint = { option: 'stopped', flag: '--stopped=cold|leave' };
const SHELVED_OVERRIDE: OverrideHint = { option: 'shelved', flag: '--shelved=offload|leave' };

/**
 * Flavor extra specs that tie an instance to its host's hardware. `live`: a live
 * migration is refused; `cold`: a cold migration is refused too.
 */
interface HardwareRule {
  key: string;
  /** Keys other than `key` the rule reads (granular request groups: resources1:VGPU ...). */
  match?: RegExp;
  applies(value: string): boolean;
  label: string;
  live: boolean;
  cold: boolean;
}

const HARDWARE_RULES: HardwareRule[] = [
  { key: 'pci_passthrough:alias', applies: (v) => v.trim() !== '', label: 'PCI passthrough', live: true, cold: false },
  { key: 'hw:tpm_version', applies: (v) => v.trim() !== '', label: 'vTPM', live: true, cold: false },
  { key: 'hw:tpm_model', applies: (v) => v.trim() !== '', label: 'vTPM', live: true, cold: false },
  { key: 'hw:mem_encryption', applies: (v) => /^(true|1|yes)$/i.test(v.trim()), label: 'SEV memory encryption', live: true, cold: false },
  { key: 'accel:device_profile', applies: (v) => v.trim() !== '', label: 'accelerator (Cyborg device profile)', live: true, cold: true },
  {
    key: 'resources:VGPU',
    match: /^resources[a-zA-Z0-9_-]{0,64}:VGPU$/,
    applies: (v) => /^\s*\+?\d+\s*$/.test(v) && Number.parseInt(v, 10) > 0,
    label: "vGPU (mediated device; Nova's libvirt driver refuses to live-migrate it before Xena)",
    live: true,
    cold: false,
  },
];

export interface HardwareFinding {
  key: string;
  label: string;
  blocksLive: boolean;
  blocksCold: boolean;
}

export function hardwareFeatures(extraSpecs: Record<string, string>): HardwareFinding[] {
  const out: HardwareFinding[] = [];
  for (const rule of HARDWARE_RULES) {
    const keys = rule.match ? Object.keys(extraSpecs).filter((k) => rule.match!.test(k)).sort() : [rule.key];
    const key = keys.find((k) => extraSpecs[k] !== undefined && rule.applies(extraSpecs[k]!));
    if (key !== undefined) out.push({ key, label: rule.label, blocksLive: rule.live, blocksCold: rule.cold });
  }
  return out;
}

/** Task states that mean a live migration of this server is already under way. */
export const LIVE_MIGRATING_TASKS = new Set(['migrating']);

/** The server metadata `hostmaint:priority`, when it is an integer (-1000..1000); else null. */
export function priorityOf(server: Pick<Server, 'metadata'>): number | null {
  const v = (server.metadata ?? {})['hostmaint:priority'];
  if (typeof v !== 'string' || !/^-?\d{1,4}$/.test(v.trim())) return null;
  const n = Number(v.trim());
  return n >= -1000 && n <= 1000 ? n : null;
}

function base(server: Server): Omit<Classification, 'class' | 'reason' | 'category' | 'remedy' | 'override' | 'blocking' | 'adopt'> {
  return {
    serverId: server.id,
    name: server.name,
    projectId: server.projectId,
    priority: priorityOf(server),
    status: server.status,
    vmState: server.vmState,
    taskState: server.taskState,
    locked: server.locked,
    hardware: [],
    notes: [],
  };
}

function verdict(
  server: Server,
  cls: InstanceClass,
  reason: string,
  extra: Partial<Pick<Classification, 'category' | 'remedy' | 'override' | 'blocking' | 'hardware' | 'adopt' | 'notes'>> = {},
): Classification {
  return {
    ...base(server),
    class: cls,
    reason,
    category: extra.category ?? null,
    remedy: extra.remedy ?? null,
    override: extra.override ?? null,
    blocking: extra.blocking ?? false,
    hardware: extra.hardware ?? [],
    adopt: extra.adopt ?? false,
    notes: extra.notes ?? [],
  };
}

function blocked(server: Server, policy: ClassifyPolicy, category: BlockCategory, reason: string, remedy: string, hardware: string[] = []): Classification {
  return verdict(server, 'blocked', reason, {
    category,
    remedy,
    override: SKIP_BLOCKED,
    blocking: !policy.skipBlocked,
    hardware,
    notes: policy.skipBlocked ? ['left on the host (--skip-blocked)'] : [],
  });
}

/**
 * The class of one server on the host being drained.
 * Order matters: deleted and busy states first, then locks, then the status.
 */
export function classify(server: Server, policy: ClassifyPolicy = DEFAULT_CLASSIFY_POLICY): Classification {
  const status = (server.status ?? '').toUpperCase();
  const id = server.id;
  const task = server.taskState;

  if (status === 'SHELVED_OFFLOADED') return verdict(server, 'none', 'SHELVED_OFFLOADED: has no host, needs nothing');
  if (status === 'SOFT_DELETED' || status === 'DELETED') {
    return blocked(server, policy, 'soft-deleted', `${status}: still holds resources on the host`, `restore it (openstack server restore ${id}) or delete it for good (openstack server delete --force ${id})`);
  }

  // A task in progress: someone (maybe an earlier run) is already acting on it.
  if (task) {
    if (LIVE_MIGRATING_TASKS.has(task) && (status === 'MIGRATING' || status === 'ACTIVE' || status === 'PAUSED')) {
      return verdict(server, 'live', `already live-migrating (task_state ${task}): will watch it, not send a second request`, { adopt: true });
    }
    return verdict(server, 'wait', `task_state ${task} in progress`, {
      category: 'busy',
      remedy: `wait for task ${task} to finish (openstack server show ${id})`,
    });
  }
  if (status === 'BUILD' || status === 'REBUILD' || status === 'RESIZE' || status === 'MIGRATING' || status === 'REBOOT' || status === 'HARD_REBOOT' || status === 'PASSWORD') {
    return verdict(server, 'wait', `${status} in progress`, { category: 'busy', remedy: `wait for it to finish (openstack server show ${id})` });
  }

  const lockedBlocks = server.locked && !policy.admin;
  const lockNote = server.locked && policy.admin ? [`locked${server.lockedReason ? ` (${server.lockedReason})` : ''}: moved as admin`] : [];
  const hw = hardwareFeatures(server.flavor.extraSpecs ?? {});

  switch (status) {
    case 'ACTIVE':
    case 'PAUSED': {
      if (lockedBlocks) return blocked(server, policy, 'locked', `${status} but locked${server.lockedReason ? ` (${server.lockedReason})` : ''}`, `unlock it (openstack server unlock ${id}) or run as admin`);
      const live = hw.filter((h) => h.blocksLive);
      if (live.length > 0) {
        const labels = [...new Set(live.map((h) => h.label))].join(', ');
        return blocked(
          server,
          policy,
          'hardware',
          `${status} with ${labels}: cannot be live-migrated`,
          live.some((h) => h.blocksCold)
            ? `accelerators cannot be moved at all: plan its downtime, or leave it with --skip-blocked`
            : `let it move cold (openstack server set --property hostmaint:policy=cold ${id}; or stop it: openstack server stop ${id}), or leave it with --skip-blocked`,
          live.map((h) => h.key),
        );
      }
      return verdict(server, 'live', `${status}: live migration`, { notes: [...lockNote, ...instanceNotes(server, 'live')] });
    }
    case 'SHUTOFF': {
      if (policy.stopped === 'leave') return verdict(server, 'leave', 'SHUTOFF: left on the host (--stopped=leave)');
      if (policy.stopped === 'fail') {
        return verdict(server, 'blocked', 'SHUTOFF and --stopped=fail', {
          category: 'stopped-policy',
          remedy: `start it (openstack server start ${id}) or choose --stopped=cold / --stopped=leave`,
          override: STOPPED_OVERRIDE,
          blocking: true,
        });
      }
      if (lockedBlocks) return blocked(server, policy, 'locked', `SHUTOFF but locked${server.lockedReason ? ` (${server.lockedReason})` : ''}`, `unlock it (openstack server unlock ${id}) or run as admin`);
      const cold = hw.filter((h) => h.blocksCold);
      if (cold.length > 0) {
        return blocked(server, policy, 'hardware', `SHUTOFF with ${cold.map((h) => h.label).join(', ')}: cannot be moved`, `leave it with --skip-blocked, or delete and recreate it elsewhere`, cold.map((h) => h.key));
      }
      return verdict(server, 'cold', 'SHUTOFF: cold migration, then confirm', { notes: [...lockNote, ...instanceNotes(server, 'cold')] });
    }
    case 'SHELVED': {
      if (policy.shelved === 'leave') return verdict(server, 'leave', 'SHELVED: left on the host (--shelved=leave)');
      if (policy.shelved === 'fail') {
        return verdict(server, 'blocked', 'SHELVED and --shelved=fail', {
          category: 'shelved-policy',
          remedy: `offload it (openstack server shelve --offload ${id}) or choose --shelved=offload / --shelved=leave`,
          override: SHELVED_OVERRIDE,
          blocking: true,
        });
      }
      if (lockedBlocks) return blocked(server, policy, 'locked', `SHELVED but locked`, `unlock it (openstack server unlock ${id}) or run as admin`);
      return verdict(server, 'offload', 'SHELVED: shelve-offload (frees the host)', { notes: lockNote });
    }
    case 'SUSPENDED':
      return blocked(server, policy, 'suspended', 'SUSPENDED: cannot be migrated', `resume it (openstack server resume ${id}) or stop it (then it is cold-migrated)`);
    case 'RESCUE':
      return blocked(server, policy, 'rescue', 'RESCUE: cannot be migrated', `unrescue it (openstack server unrescue ${id})`);
    case 'ERROR': {
      const fault = server.fault?.message ? `: ${server.fault.message}` : '';
      return blocked(server, policy, 'error', `ERROR${fault}`, `inspect it (openstack server show ${id}); if it is healthy reset its state (openstack server set --state active ${id}), else rebuild or delete it`);
    }
    case 'VERIFY_RESIZE':
      return blocked(server, policy, 'verify-resize', 'VERIFY_RESIZE: a resize or migration awaits confirmation', `confirm it (openstack server resize confirm ${id}) or revert it (openstack server resize revert ${id})`);
    default:
      return blocked(server, policy, 'unsupported-state', `${status || 'unknown status'}: hostmaint does not know how to move it`, `bring it to ACTIVE or SHUTOFF (openstack server show ${id})`);
  }
}

/** After the wait bound: an instance still busy is blocked. */
export function busyAfterWait(c: Classification, waitedMs: number, policy: ClassifyPolicy): Classification {
  if (c.class !== 'wait') return c;
  return {
    ...c,
    class: 'blocked',
    reason: `${c.reason}, still busy after ${Math.round(waitedMs / 1000)}s`,
    category: 'busy',
    override: SKIP_BLOCKED,
    blocking: !policy.skipBlocked,
    remedy: `${c.remedy ?? 'wait for it to finish'}, or wait longer (--wait-timeout)`,
    notes: policy.skipBlocked ? [...c.notes, 'left on the host (--skip-blocked)'] : c.notes,
  };
}

/**
 * After the targets are known: an instance that none of them can take (its
 * dedicated CPUs) is blocked, with the same override as every blocker.
 */
export function blockedByTargets(c: Classification, category: BlockCategory, reason: string, remedy: string, policy: ClassifyPolicy): Classification {
  return {
    ...c,
    class: 'blocked',
    reason: `${c.status}: ${reason}`,
    category,
    remedy,
    override: SKIP_BLOCKED,
    blocking: !policy.skipBlocked,
    notes: policy.skipBlocked ? [...c.notes, 'left on the host (--skip-blocked)'] : c.notes,
  };
}

/** Human summary of a blocking group, kubectl style. */
export function describeCategory(category: BlockCategory): string {
  switch (category) {
    case 'suspended':
      return 'SUSPENDED instances cannot be migrated';
    case 'rescue':
      return 'instances in RESCUE cannot be migrated';
    case 'error':
      return 'instances in ERROR cannot be migrated';
    case 'locked':
      return 'locked instances cannot be moved without admin';
    case 'hardware':
      return 'instances with host-bound hardware cannot be live-migrated';
    case 'dedicated-cpu':
      return 'instances with dedicated CPUs that no target has PCPU for';
    case 'busy':
      return 'instances still busy with another task';
    case 'verify-resize':
      return 'instances awaiting resize confirmation';
    case 'soft-deleted':
      return 'soft-deleted instances still hold the host';
    case 'unsupported-state':
      return 'instances in a state hostmaint cannot move';
    case 'stopped-policy':
      return 'stopped instances refused by --stopped=fail';
    case 'shelved-policy':
      return 'shelved instances refused by --shelved=fail';
    case 'instance-policy':
      return 'instances --instance-policies allows no way to move';
  }
}
