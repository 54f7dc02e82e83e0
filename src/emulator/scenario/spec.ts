/**
 * What a scenario file says: the shapes of its sections, the host defaults
 * and the default flavors. Loading and validation are in ../scenario.ts.
 */
import type { FaultSpec } from '../faults.js';

export type InstanceStateName =
  | 'ACTIVE'
  | 'PAUSED'
  | 'SHUTOFF'
  | 'SUSPENDED'
  | 'SHELVED'
  | 'SHELVED_OFFLOADED'
  | 'ERROR'
  | 'BUILD'
  | 'RESCUE';

export interface HostSpec {
  /** nova-compute service host, e.g. compute-01. */
  name: string;
  /** Hypervisor (compute node) hostname; default = name. Can be an FQDN. */
  hypervisor_hostname?: string;
  az?: string;
  aggregates?: string[];
  vcpus?: number;
  pcpus?: number;
  ram_mb?: number;
  disk_gb?: number;
  cpu_allocation_ratio?: number;
  ram_allocation_ratio?: number;
  disk_allocation_ratio?: number;
  reserved_vcpus?: number;
  reserved_host_memory_mb?: number;
  reserved_host_disk_gb?: number;
  max_concurrent_live_migrations?: number;
  status?: 'enabled' | 'disabled';
  disabled_reason?: string | null;
  state?: 'up' | 'down';
  forced_down?: boolean;
  /** host_ip of the hypervisor (for reachability checks); null: Nova has none (ComputeNode.host_ip is nullable). Default 127.0.0.1. */
  address?: string | null;
  port?: number;
  hypervisor_type?: string;
  traits?: string[];
  /** The host CPU the hypervisor's cpu_info shows; each field defaults to HOST_CPU's. */
  cpu_info?: { vendor?: string; model?: string; arch?: string };
}

/** The CPU every emulated host has unless its cpu_info says otherwise. */
export const HOST_CPU = { vendor: 'Intel', model: 'Nehalem', arch: 'x86_64' } as const;

export interface FlavorSpec {
  name: string;
  id?: string;
  vcpus: number;
  ram_mb: number;
  disk_gb?: number;
  ephemeral_gb?: number;
  swap_mb?: number;
  is_public?: boolean;
  extra_specs?: Record<string, string>;
}

export interface ImageSpec {
  name: string;
  id?: string;
}

export interface UserSpec {
  name: string;
  id?: string;
  password: string;
  /** Role names on the project: admin, member, reader. Default [member]. */
  roles?: string[];
  domain?: string;
}

export interface ProjectSpec {
  name: string;
  id?: string;
  domain?: string;
  users?: UserSpec[];
}

export interface AppCredentialSpec {
  id?: string;
  name: string;
  secret: string;
  /** User name (any project's user, or the admin user). */
  user: string;
  /** Project name the credential is scoped to (default: the user's project). */
  project?: string;
}

export interface ServerGroupSpec {
  name: string;
  id?: string;
  policy: 'anti-affinity' | 'affinity' | 'soft-anti-affinity' | 'soft-affinity';
  project?: string;
  /** max_server_per_host rule (anti-affinity, 2.64+). */
  max_server_per_host?: number;
}

export interface InstanceMigrationBehaviour {
  /** Page dirtying rate in MB/s; >= bandwidth never converges (stalls). */
  dirty_rate_mbps?: number;
  /** Every live migration of this instance fails while running (rolls back). */
  fail?: boolean;
}

export interface InstanceSpec {
  name: string;
  id?: string;
  project?: string;
  flavor: string;
  /** Required for every state but SHELVED_OFFLOADED (and BUILD, which the scheduler places). */
  host?: string;
  state?: InstanceStateName;
  task_state?: string | null;
  locked?: boolean;
  locked_reason?: string;
  server_group?: string;
  /** Availability zone the instance was booted into (constrains moves). */
  az?: string;
  metadata?: Record<string, string>;
  image?: string;
  migration?: InstanceMigrationBehaviour;
  /** Booted with a config drive (config_drive "True" in the server's view). */
  config_drive?: boolean;
  /** Expand into N instances; `{i}` in the name is replaced by 1..N (zero-padded to 2). */
  count?: number;
}

export interface MigrationModel {
  /** Memory copy bandwidth, MB/s. */
  bandwidth_mbps?: number;
  /** Default page dirtying rate, MB/s. */
  dirty_rate_mbps?: number;
  /** Conductor pre-checks and scheduling (status accepted), ms. */
  schedule_ms?: number;
  /** Status preparing (pre_live_migration on the destination), ms. */
  preparing_ms?: number;
  /** Status post-migrating, ms. */
  post_migrating_ms?: number;
  /** Switch-over threshold: converge when remaining <= bandwidth * max_downtime_ms. */
  max_downtime_ms?: number;
  /** Shared storage (default) or block migration of the root disk (disk_* bytes then advance first). */
  shared_storage?: boolean;
  /** Cold migration, request to VERIFY_RESIZE, ms. */
  cold_migration_ms?: number;
  /** confirmResize, ms. */
  confirm_ms?: number;
  /** POST /servers to ACTIVE, ms. */
  boot_ms?: number;
  /** os-stop, pause, shelve ... to their end state, ms. */
  action_ms?: number;
  /** DELETE /servers/{id} to gone, ms. */
  delete_ms?: number;
}

export interface Scenario {
  name?: string;
  description?: string;
  /** Suggested clock speed for a real-time demo (scaledClock(speed)). */
  speed?: number;
  region?: string;
  keystone?: {
    token_lifetime_s?: number;
    admin?: { username?: string; password?: string; project?: string; domain?: string };
  };
  nova?: {
    max_microversion?: string;
    service_down_time_s?: number;
    report_interval_s?: number;
    /** Let non-admin project members live-migrate (a custom policy), so the lock check (409) is reachable. */
    members_can_migrate?: boolean;
  };
  placement?: { max_microversion?: string };
  migration?: MigrationModel;
  defaults?: { host?: Omit<HostSpec, 'name'> };
  hosts: HostSpec[];
  aggregates?: Array<{ name: string; az?: string; metadata?: Record<string, string> }>;
  flavors?: FlavorSpec[];
  images?: ImageSpec[];
  projects?: ProjectSpec[];
  application_credentials?: AppCredentialSpec[];
  server_groups?: ServerGroupSpec[];
  instances?: InstanceSpec[];
  faults?: FaultSpec[];
  /** Build the rest in code (see GENERATORS). Fields given here override the generated ones. */
  generator?: { name: string; [param: string]: unknown };
}

export const INSTANCE_STATES: InstanceStateName[] = [
  'ACTIVE',
  'PAUSED',
  'SHUTOFF',
  'SUSPENDED',
  'SHELVED',
  'SHELVED_OFFLOADED',
  'ERROR',
  'BUILD',
  'RESCUE',
];

/** Defaults every host gets unless the scenario says otherwise. */
export const HOST_DEFAULTS = {
  vcpus: 16,
  pcpus: 0,
  ram_mb: 32768,
  disk_gb: 500,
  cpu_allocation_ratio: 4.0,
  ram_allocation_ratio: 1.0,
  disk_allocation_ratio: 1.0,
  reserved_vcpus: 0,
  reserved_host_memory_mb: 512,
  reserved_host_disk_gb: 0,
  max_concurrent_live_migrations: 1,
  hypervisor_type: 'QEMU',
} as const;

export const DEFAULT_FLAVORS: FlavorSpec[] = [
  { name: 'm1.tiny', id: '1', vcpus: 1, ram_mb: 512, disk_gb: 1 },
  { name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 },
  { name: 'm1.medium', id: '3', vcpus: 2, ram_mb: 4096, disk_gb: 40 },
  { name: 'm1.large', id: '4', vcpus: 4, ram_mb: 8192, disk_gb: 80 },
  { name: 'm1.xlarge', id: '5', vcpus: 8, ram_mb: 16384, disk_gb: 160 },
];

/** Effective host spec: defaults < scenario defaults < the host's own fields. */
export function hostWithDefaults(sc: Scenario, h: HostSpec): Required<Omit<HostSpec, 'address' | 'port' | 'az' | 'disabled_reason' | 'traits' | 'cpu_info'>> & HostSpec {
  return { ...HOST_DEFAULTS, status: 'enabled', state: 'up', forced_down: false, aggregates: [], hypervisor_hostname: h.name, ...(sc.defaults?.host ?? {}), ...h } as never;
}
