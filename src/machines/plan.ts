/**
 * The planner's findings as the machines keep them in their context: how
 * each instance is classified and where it is planned to go. Plain JSON.
 * (The planner itself, src/planner/, computes them.)
 */

/** What a drain will do with one instance. */
export type InstanceClass =
  /** ACTIVE / PAUSED: live-migrate. */
  | 'live'
  /** SHUTOFF (policy stopped=cold): cold-migrate, then confirm. */
  | 'cold'
  /** SHELVED, not offloaded (policy shelved=offload): shelve-offload. */
  | 'offload'
  /** A task is in progress (or BUILD): wait up to a bound, then classify again. */
  | 'wait'
  /** Cannot be moved as it is; the remedy says what to do. */
  | 'blocked'
  /** Left where it is on purpose (policy stopped=leave / shelved=leave). */
  | 'leave'
  /** Needs nothing (SHELVED_OFFLOADED has no host). */
  | 'none';

/** Why an instance is blocked (or refused by a policy); findings are grouped by it. */
export type BlockCategory =
  | 'suspended'
  | 'rescue'
  | 'error'
  | 'locked'
  | 'hardware'
  /** Dedicated CPUs (a PCPU request) that no target has PCPU inventory or room for. */
  | 'dedicated-cpu'
  | 'busy'
  | 'verify-resize'
  | 'soft-deleted'
  | 'unsupported-state'
  | 'stopped-policy'
  | 'shelved-policy'
  | 'instance-policy';

/** The option (library) and flag (CLI) that lets the operator override a blocking class. */
export interface OverrideHint {
  option: string;
  flag: string;
}

export interface Classification {
  serverId: string;
  name: string;
  projectId: string;
  /** The project's name, when Keystone gave it (the preflight asks; absent in older saved runs). */
  projectName?: string | null;
  /** The owner's `hostmaint:priority` server metadata, an integer (higher moves first with --instance-order priority); null when absent or not an integer. */
  priority?: number | null;
  status: string;
  vmState: string | null;
  taskState: string | null;
  locked: boolean;
  class: InstanceClass;
  /** Short human reason for the class ("ACTIVE: live migration"). */
  reason: string;
  /** Set for blocked / policy-refused instances. */
  category: BlockCategory | null;
  /** What the operator can do (commands to run), when blocked. */
  remedy: string | null;
  override: OverrideHint | null;
  /** True when this instance makes the preflight fail. */
  blocking: boolean;
  /** Hardware features that prevent a live migration (extra spec keys). */
  hardware: string[];
  /** The instance is already being moved (task_state migrating): watch it, do not send a request. */
  adopt: boolean;
  /** Non-blocking remarks (e.g. locked, moved as admin). */
  notes: string[];
  /**
   * How it moves and who decided: the operator's default (live for a running instance, --stopped,
   * --shelved), the owner's `hostmaint:policy` metadata within --instance-policies, or the
   * operator's --instance-policies alone. Absent in older saved runs.
   */
  policy?: { value: string; source: 'default' | 'owner' | 'operator' } | null;
  /** Policy stop: stopped before its cold migration, started again after it. */
  stopFirst?: boolean;
  /** Moved live, and allowed to fall back to this if its live migration fails for good (with --fallback). */
  fallback?: 'cold' | 'stop' | null;
}

/** Resource class -> amount (VCPU, PCPU, MEMORY_MB, DISK_GB, ...). */
export type ResourceAmounts = Record<string, number>;

/** Where one instance is expected to go. */
export interface InstancePlan {
  serverId: string;
  name: string;
  method: 'live' | 'cold';
  request: ResourceAmounts;
  /** The instance's availability zone (null: any); absent in plans of older versions. */
  availabilityZone?: string | null;
  /** Chosen target, or null when it fits nowhere. */
  target: string | null;
  /** Other hosts it would also fit on at the moment it was placed (retries may use them when pinned). */
  alternatives: string[];
  fits: boolean;
  /** Why it fits nowhere ("needs 8 VCPU, 16384 MB RAM; largest free: 4 VCPU on compute-03"). */
  reason: string | null;
  /** Remarks on the move (a block migration's estimated copy time); absent when none (and in older saved runs). */
  notes?: string[];
}
