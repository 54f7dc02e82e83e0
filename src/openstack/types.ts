/**
 * hostmaint's clean model of the OpenStack resources it uses. Wire names
 * (`OS-EXT-SRV-ATTR:host`, `OS-EXT-STS:vm_state`, `disabled_reason` ...) are
 * translated to these once, in the compute and placement clients; nothing
 * outside src/openstack/ sees a wire name. Every type here is plain JSON.
 */

// ---------------------------------------------------------------- compute

export type ServiceStatus = 'enabled' | 'disabled';
export type ServiceState = 'up' | 'down';

export interface ComputeService {
  /** UUID from microversion 2.53, the integer id as a string before. */
  id: string;
  binary: string;
  host: string;
  zone: string | null;
  status: ServiceStatus;
  state: ServiceState;
  disabledReason: string | null;
  forcedDown: boolean;
  updatedAt: string | null;
}

export interface HypervisorServerRef {
  id: string;
  name: string;
}

export interface Hypervisor {
  /** UUID from 2.53. */
  id: string;
  hostname: string;
  /** The nova-compute service host that owns it (may differ from hostname: FQDN vs short). */
  serviceHost: string;
  state: ServiceState;
  status: ServiceStatus;
  hypervisorType: string | null;
  /** The compute's my_ip: the address other computes migrate to (detailed views only). */
  hostIp: string | null;
  /** Present when asked `withServers`; empty list when it has none. */
  servers?: HypervisorServerRef[];
  /** The host CPU as Nova's cpu_info gives it (detailed views before 2.88); absent when not shown, null when unreadable. */
  cpuInfo?: CpuInfo | null;
}

/** A hypervisor's CPU (Nova's cpu_info: a dict from 2.28, a JSON string before); a field is null when Nova does not say. */
export interface CpuInfo {
  vendor: string | null;
  model: string | null;
  arch: string | null;
}

export interface ServerFlavor {
  /** The flavor's id (before 2.47) or null when only the embedded copy is known. */
  id: string | null;
  /** original_name from 2.47. */
  name: string | null;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  ephemeralGb: number;
  swapMb: number;
  extraSpecs: Record<string, string>;
}

export interface ServerFault {
  code: number;
  message: string;
  created: string | null;
}

export interface Server {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  /** ACTIVE, PAUSED, SHUTOFF, SUSPENDED, SHELVED, SHELVED_OFFLOADED, ERROR, BUILD, MIGRATING, VERIFY_RESIZE, RESCUE, ... */
  status: string;
  /** OS-EXT-STS:vm_state: active, paused, stopped, suspended, shelved, shelved_offloaded, error, building, rescued, resized ... */
  vmState: string | null;
  /** OS-EXT-STS:task_state: null when idle; migrating, resize_migrating, ... */
  taskState: string | null;
  powerState: number | null;
  /** OS-EXT-SRV-ATTR:host: the nova-compute service host, null when offloaded. */
  host: string | null;
  /** OS-EXT-SRV-ATTR:hypervisor_hostname. */
  hypervisorHostname: string | null;
  instanceName: string | null;
  availabilityZone: string | null;
  locked: boolean;
  lockedReason: string | null;
  flavor: ServerFlavor;
  /** host_status (2.16+): UP, DOWN, MAINTENANCE, UNKNOWN, '' ; null when not shown. */
  hostStatus: string | null;
  imageId: string | null;
  /** Attached volume ids (os-extended-volumes). */
  volumeIds: string[];
  /** The server has a config drive (config_drive non-empty); absent otherwise. */
  configDrive?: boolean;
  metadata: Record<string, string>;
  fault: ServerFault | null;
  createdAt: string | null;
  updatedAt: string | null;
}

export type MigrationType = 'live-migration' | 'migration' | 'resize' | 'evacuation';

/** Where a migration goes from and to, as both migration listings give it. */
export interface MigrationHosts {
  sourceCompute: string | null;
  destCompute: string | null;
  sourceNode: string | null;
  destNode: string | null;
  destHost: string | null;
}

/** A row of `GET /os-migrations`. */
export interface Migration extends MigrationHosts {
  id: number;
  uuid: string | null;
  serverId: string;
  migrationType: MigrationType | string;
  /** Live: accepted, queued, preparing, running, post-migrating, completed, failed, error, cancelled.
   *  Cold: pre-migrating, migrating, post-migrating, finished, confirming, confirmed, reverted, error. */
  status: string;
  projectId: string | null;
  userId: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/** A row of `GET /servers/{id}/migrations` (in-progress live migrations, with progress). */
export interface ServerMigration extends MigrationHosts {
  id: number;
  uuid: string | null;
  serverId: string;
  status: string;
  memoryTotalBytes: number | null;
  memoryProcessedBytes: number | null;
  memoryRemainingBytes: number | null;
  diskTotalBytes: number | null;
  diskProcessedBytes: number | null;
  diskRemainingBytes: number | null;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface InstanceActionEvent {
  event: string;
  startTime: string | null;
  finishTime: string | null;
  result: string | null;
  /** 2.84+: e.g. "No valid host was found. " */
  details: string | null;
  traceback: string | null;
  host: string | null;
}

export interface InstanceAction {
  action: string;
  requestId: string;
  serverId: string;
  message: string | null;
  startTime: string | null;
  updatedAt: string | null;
  events: InstanceActionEvent[];
}

export interface ServerGroup {
  id: string;
  name: string;
  /** 2.64+: single policy; older clouds: first of `policies`. */
  policy: string;
  members: string[];
  projectId: string | null;
  rules: Record<string, unknown>;
}

export interface Aggregate {
  id: number;
  uuid: string | null;
  name: string;
  availabilityZone: string | null;
  hosts: string[];
  metadata: Record<string, string>;
}

export interface AvailabilityZone {
  name: string;
  available: boolean;
  /** Hosts in the zone (detailed listing, admin). */
  hosts: string[];
}

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  ephemeralGb: number;
  swapMb: number;
  isPublic: boolean;
  extraSpecs: Record<string, string>;
}

// -------------------------------------------------------------- placement

export interface ResourceProvider {
  uuid: string;
  name: string;
  generation: number;
  rootProviderUuid: string;
  parentProviderUuid: string | null;
}

export interface Inventory {
  total: number;
  reserved: number;
  minUnit: number;
  maxUnit: number;
  stepSize: number;
  allocationRatio: number;
}

/** Resource class -> inventory, e.g. { VCPU: {...}, MEMORY_MB: {...}, DISK_GB: {...} } */
export type Inventories = Record<string, Inventory>;
/** Resource class -> amount used. */
export type Usages = Record<string, number>;
/** Consumer uuid (instance or migration) -> resource class -> amount, on one provider. */
export type ProviderAllocations = Record<string, Record<string, number>>;

export interface ConsumerAllocations {
  /** Provider uuid -> resource class -> amount. */
  allocations: Record<string, Record<string, number>>;
  projectId: string | null;
  userId: string | null;
  consumerGeneration: number | null;
}

export interface ProviderSummary {
  resources: Record<string, { capacity: number; used: number }>;
  traits: string[];
  rootProviderUuid: string | null;
  parentProviderUuid: string | null;
}

export interface AllocationCandidates {
  /** Each request: provider uuid -> resource class -> amount. */
  allocationRequests: Array<Record<string, Record<string, number>>>;
  providerSummaries: Record<string, ProviderSummary>;
}
