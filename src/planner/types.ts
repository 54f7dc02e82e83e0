/**
 * Data types of the planner. Everything here is plain JSON: classifications,
 * capacities and plans end up in the workflow's context and in the result.
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
  | 'busy'
  | 'verify-resize'
  | 'soft-deleted'
  | 'unsupported-state'
  | 'stopped-policy'
  | 'shelved-policy';

/** The option (library) and flag (CLI) that lets the operator override a blocking class. */
export interface OverrideHint {
  option: string;
  flag: string;
}

export interface Classification {
  serverId: string;
  name: string;
  projectId: string;
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
}

export interface ClassifyPolicy {
  stopped: 'cold' | 'leave' | 'fail';
  shelved: 'offload' | 'leave' | 'fail';
  skipBlocked: boolean;
  /** Admins may move locked instances. */
  admin: boolean;
}

/** Resource class -> amount (VCPU, PCPU, MEMORY_MB, DISK_GB, ...). */
export type ResourceAmounts = Record<string, number>;

export interface ResourceCapacity {
  /** floor((total - reserved) * allocation_ratio) */
  capacity: number;
  used: number;
  /** capacity - used (never below 0). */
  free: number;
  /** One allocation may not exceed this. */
  maxUnit: number;
  minUnit: number;
  stepSize: number;
}

export type ProviderCapacity = Record<string, ResourceCapacity>;

/** A possible destination, with what it has free. */
export interface PlacementTarget {
  host: string;
  zone: string | null;
  providerUuid: string;
  capacity: ProviderCapacity;
}

/** An instance the planner must place. */
export interface PlaceableInstance {
  serverId: string;
  name: string;
  method: 'live' | 'cold';
  request: ResourceAmounts;
  /** Same AZ as the instance unless this is null. */
  availabilityZone: string | null;
}

/** A server group limiting where members may go. */
export interface PlacementGroup {
  id: string;
  name: string;
  policy: 'anti-affinity';
  /** Members being moved off the host by this drain. */
  moving: string[];
  /** Hosts where members that stay put already run. */
  occupiedHosts: string[];
}

/** Where one instance is expected to go. */
export interface InstancePlan {
  serverId: string;
  name: string;
  method: 'live' | 'cold';
  request: ResourceAmounts;
  /** Chosen target, or null when it fits nowhere. */
  target: string | null;
  /** Other hosts it would also fit on at the moment it was placed (retries may use them when pinned). */
  alternatives: string[];
  fits: boolean;
  /** Why it fits nowhere ("needs 8 VCPU, 16384 MB RAM; largest free: 4 VCPU on compute-03"). */
  reason: string | null;
}

export interface PlanResult {
  plans: InstancePlan[];
  /** What is left free on each target after the plan. */
  remaining: Record<string, ResourceAmounts>;
}
