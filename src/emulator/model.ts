/**
 * The records several resource modules share: compute hosts (service, compute
 * node and resource provider in one), flavors, servers and migrations; and the
 * small pure helpers they share (Nova's status from vm_state and task_state,
 * microversion checks, the scenario's timings). A record only one module keeps
 * (instance actions, server groups, aggregates, allocations, Keystone's) is
 * declared in that module.
 */
import type { Timer } from './engine.js';
import type { MigrationFault } from './faults.js';
import type { InstanceStateName, MigrationModel } from './scenario.js';

export const MB = 1024 * 1024;

export type VmState =
  | 'active'
  | 'building'
  | 'paused'
  | 'suspended'
  | 'stopped'
  | 'rescued'
  | 'resized'
  | 'soft-delete'
  | 'deleted'
  | 'error'
  | 'shelved'
  | 'shelved_offloaded';

export const POWER = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;

export interface Inventory {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

export type Resources = Record<string, number>;

export interface HostState {
  name: string;
  hypervisorHostname: string;
  az: string;
  aggregates: string[];
  serviceId: number;
  serviceUuid: string;
  computeNodeId: number;
  /** Compute node uuid = resource provider uuid (as in Nova). */
  uuid: string;
  rpGeneration: number;
  inventories: Record<string, Inventory>;
  baseTraits: string[];
  maxConcurrent: number;
  disabled: boolean;
  disabledReason: string | null;
  forcedDown: boolean;
  /** Model time the service stopped heartbeating (process died), or null. */
  heartbeatStoppedAt: number | null;
  /** host_ip (nullable in Nova's ComputeNode). */
  address: string | null;
  port: number | null;
  hypervisorType: string;
  /** The host CPU as cpu_info shows it (vendor, model, arch). */
  cpuInfo: { vendor: string; model: string; arch: string };
  /** Live migrations running from this host (slots in use). */
  activeOut: Set<string>;
  /** Live migrations waiting for a slot, FIFO. */
  queue: string[];
  createdAt: number;
  updatedAt: number;
}

export interface FlavorState {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  isPublic: boolean;
  extraSpecs: Record<string, string>;
}

export interface ServerFault {
  code: number;
  message: string;
  created: number;
  details?: string;
}

export interface ServerState {
  id: string;
  seq: number;
  name: string;
  projectId: string;
  userId: string;
  flavor: FlavorState;
  imageId: string;
  host: string | null;
  node: string | null;
  /** AZ the user asked for at boot (constrains the scheduler), or null. */
  requestedAz: string | null;
  /** host:node forced at boot by admin ("nova:compute-01"). */
  vmState: VmState;
  taskState: string | null;
  powerState: number;
  locked: boolean;
  lockedReason: string | null;
  lockedByAdmin: boolean;
  metadata: Record<string, string>;
  groupId: string | null;
  createdAt: number;
  updatedAt: number;
  launchedAt: number | null;
  progress: number;
  fault: ServerFault | null;
  deleted: boolean;
  /** vm_state before a cold migration, restored on confirm. */
  oldVmState: VmState | null;
  dirtyRateMbps: number | null;
  alwaysFailMigration: boolean;
  /** Booted with a config drive (config_drive "True"). */
  configDrive?: boolean;
  pendingTimer: Timer | null;
}

export type MigrationType = 'live-migration' | 'migration';

export interface MigrationState {
  id: number;
  uuid: string;
  serverId: string;
  type: MigrationType;
  status: string;
  sourceCompute: string;
  sourceNode: string;
  destCompute: string | null;
  destNode: string | null;
  destHost: string | null;
  /** Host asked for in the request (null: scheduler's choice). */
  requestedHost: string | null;
  projectId: string;
  userId: string;
  createdAt: number;
  updatedAt: number;
  requestId: string;
  memTotal: number;
  memProcessed: number;
  memRemaining: number;
  diskTotal: number;
  diskProcessed: number;
  diskRemaining: number;
  /** Progress segment: values at `segStart`, with rates in bytes/ms. */
  seg: { start: number; memP: number; memR: number; diskP: number; diskR: number; bw: number; dirty: number } | null;
  fault: MigrationFault | null;
  timer: Timer | null;
  frozen: boolean;
  /** vm_state when the move began (active / paused / stopped). */
  priorVmState: VmState;
}

export interface RequestContext {
  userId: string;
  projectId: string;
  isAdmin: boolean;
  requestId: string;
  /** Negotiated compute microversion as [major, minor]. */
  version: [number, number];
}

export function vAtLeast(v: [number, number], minor: number): boolean {
  return v[0] > 2 || (v[0] === 2 && v[1] >= minor);
}

export const STATE_MAP: Record<InstanceStateName, { vm: VmState; power: number; task: string | null }> = {
  ACTIVE: { vm: 'active', power: POWER.RUNNING, task: null },
  PAUSED: { vm: 'paused', power: POWER.PAUSED, task: null },
  SHUTOFF: { vm: 'stopped', power: POWER.SHUTDOWN, task: null },
  SUSPENDED: { vm: 'suspended', power: POWER.SUSPENDED, task: null },
  SHELVED: { vm: 'shelved', power: POWER.SHUTDOWN, task: null },
  SHELVED_OFFLOADED: { vm: 'shelved_offloaded', power: POWER.SHUTDOWN, task: null },
  ERROR: { vm: 'error', power: POWER.NOSTATE, task: null },
  BUILD: { vm: 'building', power: POWER.NOSTATE, task: 'scheduling' },
  RESCUE: { vm: 'rescued', power: POWER.RUNNING, task: null },
};

/** Nova's status_from_state (nova/api/openstack/common.py). */
export function serverStatus(vm: VmState, task: string | null): string {
  const t = task ?? '';
  switch (vm) {
    case 'active':
      if (t === 'migrating') return 'MIGRATING';
      if (['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish'].includes(t)) return 'RESIZE';
      if (t.startsWith('reboot')) return 'REBOOT';
      if (t.startsWith('rebuild')) return 'REBUILD';
      return 'ACTIVE';
    case 'building':
      return 'BUILD';
    case 'stopped':
      if (['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish'].includes(t)) return 'RESIZE';
      return 'SHUTOFF';
    case 'resized':
      return t === 'resize_reverting' ? 'REVERT_RESIZE' : 'VERIFY_RESIZE';
    case 'paused':
      return t === 'migrating' ? 'MIGRATING' : 'PAUSED';
    case 'suspended':
      return 'SUSPENDED';
    case 'rescued':
      return 'RESCUE';
    case 'error':
      return 'ERROR';
    case 'deleted':
      return 'DELETED';
    case 'soft-delete':
      return 'SOFT_DELETED';
    case 'shelved':
      return 'SHELVED';
    case 'shelved_offloaded':
      return 'SHELVED_OFFLOADED';
  }
  return 'UNKNOWN';
}

export interface ModelTimings {
  bandwidthMbps: number;
  dirtyRateMbps: number;
  scheduleMs: number;
  preparingMs: number;
  postMigratingMs: number;
  maxDowntimeMs: number;
  sharedStorage: boolean;
  coldMigrationMs: number;
  confirmMs: number;
  bootMs: number;
  actionMs: number;
  deleteMs: number;
}

export function timingsFrom(m: MigrationModel | undefined): ModelTimings {
  return {
    bandwidthMbps: m?.bandwidth_mbps ?? 1000,
    dirtyRateMbps: m?.dirty_rate_mbps ?? 50,
    scheduleMs: m?.schedule_ms ?? 300,
    preparingMs: m?.preparing_ms ?? 1000,
    postMigratingMs: m?.post_migrating_ms ?? 1000,
    maxDowntimeMs: m?.max_downtime_ms ?? 500,
    sharedStorage: m?.shared_storage ?? true,
    coldMigrationMs: m?.cold_migration_ms ?? 5000,
    confirmMs: m?.confirm_ms ?? 1000,
    bootMs: m?.boot_ms ?? 2000,
    actionMs: m?.action_ms ?? 500,
    deleteMs: m?.delete_ms ?? 500,
  };
}

export function parseVersion(v: string): [number, number] {
  const [a = '0', b = '0'] = v.split('.');
  return [Number.parseInt(a, 10), Number.parseInt(b, 10)];
}
