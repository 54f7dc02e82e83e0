/**
 * Data types of the planner's own arithmetic. What ends up in a run's context
 * (classifications, plans) is src/machines/plan.ts.
 */
import type { InstancePlan, ResourceAmounts } from '../machines/plan.js';

export interface ClassifyPolicy {
  stopped: 'cold' | 'leave' | 'fail';
  shelved: 'offload' | 'leave' | 'fail';
  skipBlocked: boolean;
  /** Admins may move locked instances. */
  admin: boolean;
}

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
  /** Why a live migration may not come here (its CPU differs from the source's); absent or null when it may. */
  liveExcluded?: string | null;
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
  /**
   * anti-affinity: no target holding a member. affinity: only the targets holding a member that
   * stays put (Nova's affinity filter; the source host is never a target), all of them on one host.
   */
  policy: 'anti-affinity' | 'affinity';
  /** Members being moved off the host by this drain. */
  moving: string[];
  /** Hosts where members that stay put already run. */
  occupiedHosts: string[];
}

export interface PlanResult {
  plans: InstancePlan[];
  /** What is left free on each target after the plan. */
  remaining: Record<string, ResourceAmounts>;
}
