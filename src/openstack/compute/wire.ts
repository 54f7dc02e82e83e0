/**
 * Nova's wire JSON and its translation into hostmaint's domain model
 * (src/openstack/types.ts). Every wire name (`OS-EXT-SRV-ATTR:host`,
 * `OS-EXT-STS:vm_state`, `tenant_id`, `instance_uuid` ...) is read here and
 * nowhere else. Shapes checked against nova 26 (Zed) api/openstack/compute.
 */
import type {
  Aggregate,
  AvailabilityZone,
  ComputeService,
  CpuInfo,
  Flavor,
  Hypervisor,
  HypervisorServerRef,
  InstanceAction,
  InstanceActionEvent,
  Migration,
  MigrationHosts,
  Server,
  ServerFault,
  ServerFlavor,
  ServerGroup,
  ServerMigration,
  ServiceState,
  ServiceStatus,
} from '../types.js';
import { isRecord, pickFrom } from '../wire.js';

// ------------------------------------------------------------------ wire shapes

export interface WireLink {
  rel?: string;
  href?: string;
}

export interface WireService {
  id: string | number;
  binary: string;
  host: string;
  zone?: string | null;
  status: string;
  state?: string;
  updated_at?: string | null;
  disabled_reason?: string | null;
  forced_down?: boolean;
}

export interface WireHypervisor {
  id: string | number;
  hypervisor_hostname: string;
  state?: string;
  status?: string;
  hypervisor_type?: string | null;
  host_ip?: string | null;
  service?: { id?: string | number; host?: string; disabled_reason?: string | null };
  servers?: Array<{ name: string; uuid: string }>;
  /** A dict from 2.28, a JSON string before; gone from 2.88. */
  cpu_info?: Record<string, unknown> | string | null;
}

/** Embedded flavor (2.47+) or a reference `{id, links}` (before). */
export interface WireServerFlavor {
  id?: string;
  original_name?: string;
  vcpus?: number;
  ram?: number;
  disk?: number;
  ephemeral?: number;
  swap?: number | string;
  extra_specs?: Record<string, string>;
}

export interface WireServer {
  id: string;
  name?: string;
  status?: string;
  tenant_id?: string;
  user_id?: string;
  metadata?: Record<string, string>;
  image?: { id?: string } | string | null;
  flavor?: WireServerFlavor;
  created?: string | null;
  updated?: string | null;
  fault?: { code?: number; message?: string; created?: string | null };
  'OS-EXT-SRV-ATTR:host'?: string | null;
  'OS-EXT-SRV-ATTR:hypervisor_hostname'?: string | null;
  'OS-EXT-SRV-ATTR:instance_name'?: string | null;
  'OS-EXT-STS:vm_state'?: string | null;
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-STS:power_state'?: number | null;
  'OS-EXT-AZ:availability_zone'?: string | null;
  'os-extended-volumes:volumes_attached'?: Array<{ id: string; delete_on_termination?: boolean }>;
  locked?: boolean;
  locked_reason?: string | null;
  host_status?: string | null;
  /** "" without one; "True" (or a drive's id) with one. */
  config_drive?: string | boolean | null;
}

/** The hosts of a migration, in both migration listings. */
export interface WireMigrationHosts {
  source_compute?: string | null;
  dest_compute?: string | null;
  source_node?: string | null;
  dest_node?: string | null;
  dest_host?: string | null;
}

/** A row of GET /os-migrations (fields per microversion: uuid 2.59+, migration_type 2.23+, user/project 2.80+). */
export interface WireMigration extends WireMigrationHosts {
  id: number;
  uuid?: string;
  instance_uuid: string;
  migration_type?: string;
  status: string;
  old_instance_type_id?: number | null;
  new_instance_type_id?: number | null;
  project_id?: string | null;
  user_id?: string | null;
  created_at?: string | null;
  updated_at?: string | null;
}

/** A row of GET /servers/{id}/migrations (2.23+). */
export interface WireServerMigration extends WireMigrationHosts {
  id: number;
  uuid?: string;
  server_uuid: string;
  status: string;
  memory_total_bytes?: number | null;
  memory_processed_bytes?: number | null;
  memory_remaining_bytes?: number | null;
  disk_total_bytes?: number | null;
  disk_processed_bytes?: number | null;
  disk_remaining_bytes?: number | null;
  created_at?: string | null;
  updated_at?: string | null;
}

export interface WireInstanceActionEvent {
  event: string;
  start_time?: string | null;
  finish_time?: string | null;
  result?: string | null;
  traceback?: string | null;
  host?: string | null;
  details?: string | null;
}

export interface WireInstanceAction {
  action: string;
  instance_uuid: string;
  request_id: string;
  message?: string | null;
  start_time?: string | null;
  updated_at?: string | null;
  events?: WireInstanceActionEvent[];
}

export interface WireServerGroup {
  id: string;
  name: string;
  policy?: string;
  policies?: string[];
  members?: string[];
  project_id?: string;
  rules?: Record<string, unknown>;
}

export interface WireAggregate {
  id: number;
  uuid?: string;
  name: string;
  availability_zone?: string | null;
  hosts?: string[] | null;
  metadata?: Record<string, string> | null;
}

export interface WireAvailabilityZone {
  zoneName: string;
  zoneState?: { available?: boolean };
  hosts?: Record<string, unknown> | null;
}

export interface WireFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  swap?: number | string;
  'OS-FLV-EXT-DATA:ephemeral'?: number;
  'os-flavor-access:is_public'?: boolean;
  extra_specs?: Record<string, string>;
}

// ------------------------------------------------------------------ helpers

/** Read `body[key]` and insist it is of the expected JSON kind; a wrong shape is a server error, never a crash later. */
export function pick<T>(body: unknown, key: string, what: 'array' | 'object', context: string): T {
  return pickFrom<T>('The service', body, key, what, context);
}

/** The `marker` of a `rel: next` link in a Nova `*_links` array, or null when there is no next page. */
export function nextMarker(links: unknown): string | null {
  if (!Array.isArray(links)) return null;
  for (const l of links as WireLink[]) {
    if (l && l.rel === 'next' && typeof l.href === 'string') {
      try {
        const marker = new URL(l.href, 'http://x/').searchParams.get('marker');
        return marker ?? null;
      } catch {
        return null;
      }
    }
  }
  return null;
}

/**
 * A time as Nova gives it, made explicit: Nova's times are UTC, and its os-migrations and server
 * migrations give them without a zone ("2026-12-03T14:29:37.000000"), which Date.parse would read
 * as local time. A zone is added when there is none.
 */
function utc(v: unknown): string | null {
  const t = str(v);
  if (t === null || !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(t)) return t;
  return `${t}Z`;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : v === null || v === undefined ? null : String(v);
}

function int(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return 0; // Nova sends swap as "" when a flavor has none (before 2.75)
}

function numOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function state(v: unknown): ServiceState {
  return v === 'up' ? 'up' : 'down';
}

function status(v: unknown): ServiceStatus {
  return v === 'disabled' ? 'disabled' : 'enabled';
}

// ------------------------------------------------------------------ translators

export function toService(w: WireService): ComputeService {
  return {
    id: String(w.id),
    binary: w.binary,
    host: w.host,
    zone: str(w.zone),
    status: status(w.status),
    state: state(w.state),
    disabledReason: str(w.disabled_reason),
    forcedDown: w.forced_down === true,
    updatedAt: str(w.updated_at),
  };
}

export function toHypervisor(w: WireHypervisor, withServers: boolean): Hypervisor {
  const h: Hypervisor = {
    id: String(w.id),
    hostname: w.hypervisor_hostname,
    serviceHost: w.service?.host ?? w.hypervisor_hostname,
    state: state(w.state),
    status: status(w.status),
    hypervisorType: str(w.hypervisor_type),
    hostIp: str(w.host_ip),
  };
  if (w.cpu_info !== undefined) h.cpuInfo = toCpuInfo(w.cpu_info);
  // Before 2.75 Nova leaves `servers` out when a hypervisor has none.
  if (withServers) h.servers = (w.servers ?? []).map((s): HypervisorServerRef => ({ id: s.uuid, name: s.name }));
  return h;
}

/** cpu_info: a dict from 2.28, a JSON string before (the libvirt driver's {"arch", "model", "vendor", ...}); null when unreadable. */
export function toCpuInfo(v: unknown): CpuInfo | null {
  let d: unknown = v;
  if (typeof v === 'string') {
    try {
      d = JSON.parse(v);
    } catch {
      return null;
    }
  }
  if (!isRecord(d)) return null;
  const rec = d;
  const field = (k: string): string | null => {
    const x = rec[k];
    return typeof x === 'string' && x.trim() !== '' ? x.trim() : null;
  };
  const info: CpuInfo = { vendor: field('vendor'), model: field('model'), arch: field('arch') };
  return info.vendor === null && info.model === null && info.arch === null ? null : info;
}

/** True when the embedded flavor carries sizes (2.47+), false for a bare `{id, links}` reference. */
export function isEmbeddedFlavor(f: WireServerFlavor | undefined): boolean {
  return f !== undefined && typeof f.vcpus === 'number';
}

export function toServerFlavor(f: WireServerFlavor | undefined): ServerFlavor {
  return {
    id: f?.id ?? null,
    name: f?.original_name ?? null,
    vcpus: int(f?.vcpus),
    ramMb: int(f?.ram),
    diskGb: int(f?.disk),
    ephemeralGb: int(f?.ephemeral),
    swapMb: int(f?.swap),
    extraSpecs: { ...(f?.extra_specs ?? {}) },
  };
}

export function flavorToServerFlavor(f: Flavor): ServerFlavor {
  return {
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    ramMb: f.ramMb,
    diskGb: f.diskGb,
    ephemeralGb: f.ephemeralGb,
    swapMb: f.swapMb,
    extraSpecs: { ...f.extraSpecs },
  };
}

function toFault(f: WireServer['fault']): ServerFault | null {
  if (!f) return null;
  return { code: int(f.code), message: f.message ?? '', created: str(f.created) };
}

/** config_drive: "" (or absent) without one; "True", true or a drive's id with one. */
function hasConfigDrive(v: WireServer['config_drive']): boolean {
  if (typeof v === 'boolean') return v;
  return typeof v === 'string' && v.trim() !== '' && !/^(false|0|no)$/i.test(v.trim());
}

/** Translate a server; `flavor` replaces the wire flavor (used before 2.47 once the flavor was fetched). */
export function toServer(w: WireServer, flavor?: ServerFlavor): Server {
  const image = w.image;
  return {
    id: w.id,
    name: w.name ?? '',
    projectId: w.tenant_id ?? '',
    userId: w.user_id ?? '',
    status: w.status ?? 'UNKNOWN',
    vmState: str(w['OS-EXT-STS:vm_state']),
    taskState: str(w['OS-EXT-STS:task_state']),
    powerState: numOrNull(w['OS-EXT-STS:power_state']),
    host: str(w['OS-EXT-SRV-ATTR:host']),
    hypervisorHostname: str(w['OS-EXT-SRV-ATTR:hypervisor_hostname']),
    instanceName: str(w['OS-EXT-SRV-ATTR:instance_name']),
    // Nova answers '' when it knows no zone; the model says null.
    availabilityZone: w['OS-EXT-AZ:availability_zone'] ? w['OS-EXT-AZ:availability_zone'] : null,
    locked: w.locked === true,
    lockedReason: str(w.locked_reason),
    flavor: flavor ?? toServerFlavor(w.flavor),
    hostStatus: w.host_status === undefined ? null : str(w.host_status),
    // Boot-from-volume servers have image "" (no image).
    imageId: isRecord(image) && typeof image.id === 'string' && image.id !== '' ? image.id : null,
    volumeIds: (w['os-extended-volumes:volumes_attached'] ?? []).map((v) => v.id),
    ...(hasConfigDrive(w.config_drive) ? { configDrive: true } : {}),
    metadata: { ...(w.metadata ?? {}) },
    fault: toFault(w.fault),
    createdAt: str(w.created),
    updatedAt: str(w.updated),
  };
}

function toMigrationHosts(w: WireMigrationHosts): MigrationHosts {
  return {
    sourceCompute: str(w.source_compute),
    destCompute: str(w.dest_compute),
    sourceNode: str(w.source_node),
    destNode: str(w.dest_node),
    destHost: str(w.dest_host),
  };
}

/**
 * `knownType`: the migration_type the listing was filtered on. Before 2.23
 * Nova filters on it but does not show it; otherwise a changed flavor means a
 * resize and anything else is 'unknown'.
 */
export function toMigration(w: WireMigration, knownType?: string): Migration {
  let migrationType: string = w.migration_type ?? knownType ?? 'unknown';
  if (w.migration_type === undefined && knownType === undefined && w.old_instance_type_id != null && w.new_instance_type_id != null && w.old_instance_type_id !== w.new_instance_type_id) {
    migrationType = 'resize';
  }
  return {
    id: w.id,
    uuid: str(w.uuid),
    serverId: w.instance_uuid,
    migrationType,
    status: w.status,
    ...toMigrationHosts(w),
    projectId: str(w.project_id),
    userId: str(w.user_id),
    createdAt: utc(w.created_at),
    updatedAt: utc(w.updated_at),
  };
}

export function toServerMigration(w: WireServerMigration): ServerMigration {
  return {
    id: w.id,
    uuid: str(w.uuid),
    serverId: w.server_uuid,
    status: w.status,
    ...toMigrationHosts(w),
    memoryTotalBytes: numOrNull(w.memory_total_bytes),
    memoryProcessedBytes: numOrNull(w.memory_processed_bytes),
    memoryRemainingBytes: numOrNull(w.memory_remaining_bytes),
    diskTotalBytes: numOrNull(w.disk_total_bytes),
    diskProcessedBytes: numOrNull(w.disk_processed_bytes),
    diskRemainingBytes: numOrNull(w.disk_remaining_bytes),
    createdAt: utc(w.created_at),
    updatedAt: utc(w.updated_at),
  };
}

export function toInstanceActionEvent(w: WireInstanceActionEvent): InstanceActionEvent {
  return {
    event: w.event,
    startTime: str(w.start_time),
    finishTime: str(w.finish_time),
    result: str(w.result),
    details: str(w.details),
    traceback: str(w.traceback),
    host: str(w.host),
  };
}

export function toInstanceAction(w: WireInstanceAction): InstanceAction {
  return {
    action: w.action,
    requestId: w.request_id,
    serverId: w.instance_uuid,
    message: str(w.message),
    startTime: str(w.start_time),
    updatedAt: str(w.updated_at),
    events: (w.events ?? []).map(toInstanceActionEvent),
  };
}

export function toServerGroup(w: WireServerGroup): ServerGroup {
  return {
    id: w.id,
    name: w.name,
    // 2.64+: `policy`; before: `policies` (a list of one).
    policy: w.policy ?? w.policies?.[0] ?? '',
    members: [...(w.members ?? [])],
    projectId: str(w.project_id),
    rules: { ...(w.rules ?? {}) },
  };
}

export function toAggregate(w: WireAggregate): Aggregate {
  return {
    id: w.id,
    uuid: str(w.uuid),
    name: w.name,
    availabilityZone: str(w.availability_zone),
    hosts: [...(w.hosts ?? [])],
    metadata: { ...(w.metadata ?? {}) },
  };
}

export function toAvailabilityZone(w: WireAvailabilityZone): AvailabilityZone {
  return {
    name: w.zoneName,
    available: w.zoneState?.available === true,
    hosts: Object.keys(w.hosts ?? {}).sort(),
  };
}

export function toFlavor(w: WireFlavor, extraSpecs?: Record<string, string>): Flavor {
  return {
    id: String(w.id),
    name: w.name,
    vcpus: int(w.vcpus),
    ramMb: int(w.ram),
    diskGb: int(w.disk),
    ephemeralGb: int(w['OS-FLV-EXT-DATA:ephemeral']),
    swapMb: int(w.swap),
    isPublic: w['os-flavor-access:is_public'] !== false,
    extraSpecs: { ...(extraSpecs ?? w.extra_specs ?? {}) },
  };
}
