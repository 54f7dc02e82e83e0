/**
 * The contracts between hostmaint's workflow and OpenStack. The real clients
 * (src/openstack/compute, src/openstack/placement) implement these over HTTP;
 * tests may implement them with fakes. Every method throws HostmaintError /
 * HttpError (src/errors.ts), never a raw library error.
 */
import type {
  Aggregate,
  AllocationCandidates,
  AvailabilityZone,
  ComputeService,
  ConsumerAllocations,
  Flavor,
  Hypervisor,
  InstanceAction,
  Inventories,
  Migration,
  ProviderAllocations,
  ResourceProvider,
  Server,
  ServerGroup,
  ServerMigration,
  Usages,
} from './types.js';

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** What an accepted asynchronous action returned (202): the request id to find its instance action. */
export interface Accepted {
  requestId: string | null;
}

export interface MigrationQuery {
  host?: string;
  sourceCompute?: string;
  migrationType?: string;
  status?: string;
  instanceUuid?: string;
  /** ISO time; needs 2.59+ (ignored with a debug log before). */
  changesSince?: string;
}

export interface ComputeApi {
  /** The negotiated compute microversion, e.g. "2.93". */
  readonly microversion: string;

  listServices(query: { host?: string; binary?: string }, opts?: CallOptions): Promise<ComputeService[]>;
  /** Disables with a reason (1-255 chars). Uses PUT /os-services/{id} from 2.53, disable-log-reason before. */
  disableService(service: ComputeService, reason: string, opts?: CallOptions): Promise<ComputeService>;
  enableService(service: ComputeService, opts?: CallOptions): Promise<ComputeService>;

  /** Pattern search, then exact filtering: only hypervisors whose hostname or service host equals `host`
   *  (or whose hostname's first label equals it). */
  findHypervisors(host: string, opts?: CallOptions & { withServers?: boolean }): Promise<Hypervisor[]>;
  listHypervisors(opts?: CallOptions): Promise<Hypervisor[]>;

  /** Every server on the host, in every state, all projects, following pagination. */
  listServersOnHost(host: string, opts?: CallOptions): Promise<Server[]>;
  listServers(query: { allProjects?: boolean; host?: string; status?: string; name?: string; projectId?: string; deleted?: boolean }, opts?: CallOptions): Promise<Server[]>;
  getServer(id: string, opts?: CallOptions): Promise<Server>;

  /** os-migrateLive with block_migration "auto" (2.25+) and host null (scheduler) or a host (validated, never forced).
   *  A timeout or network error here is an `unknown-outcome` error: the caller must reconcile. */
  liveMigrate(id: string, args: { host?: string | null }, opts?: CallOptions): Promise<Accepted>;
  /** migrate action; `host` needs 2.56+. */
  coldMigrate(id: string, args: { host?: string | null }, opts?: CallOptions): Promise<Accepted>;
  confirmResize(id: string, opts?: CallOptions): Promise<Accepted>;
  shelveOffload(id: string, opts?: CallOptions): Promise<Accepted>;
  /** os-stop / os-start: the instance policy `stop` stops a server before its cold migration and starts it after. */
  stopServer(id: string, opts?: CallOptions): Promise<Accepted>;
  startServer(id: string, opts?: CallOptions): Promise<Accepted>;

  listServerMigrations(serverId: string, opts?: CallOptions): Promise<ServerMigration[]>;
  getServerMigration(serverId: string, migrationId: number, opts?: CallOptions): Promise<ServerMigration>;
  forceCompleteMigration(serverId: string, migrationId: number, opts?: CallOptions): Promise<Accepted>;
  abortMigration(serverId: string, migrationId: number, opts?: CallOptions): Promise<Accepted>;

  listMigrations(query: MigrationQuery, opts?: CallOptions): Promise<Migration[]>;

  listInstanceActions(serverId: string, opts?: CallOptions): Promise<InstanceAction[]>;
  /** With events (and event details from 2.84). */
  getInstanceAction(serverId: string, requestId: string, opts?: CallOptions): Promise<InstanceAction>;

  listServerGroups(opts?: CallOptions & { allProjects?: boolean }): Promise<ServerGroup[]>;
  getServerGroup(id: string, opts?: CallOptions): Promise<ServerGroup>;
  listAvailabilityZones(opts?: CallOptions): Promise<AvailabilityZone[]>;
  listAggregates(opts?: CallOptions): Promise<Aggregate[]>;
  getFlavor(id: string, opts?: CallOptions): Promise<Flavor>;
}

export interface PlacementApi {
  readonly microversion: string;

  listProviders(query: { name?: string; inTree?: string; uuid?: string }, opts?: CallOptions): Promise<ResourceProvider[]>;
  getProvider(uuid: string, opts?: CallOptions): Promise<ResourceProvider>;
  getInventories(uuid: string, opts?: CallOptions): Promise<Inventories>;
  getUsages(uuid: string, opts?: CallOptions): Promise<Usages>;
  getProviderAllocations(uuid: string, opts?: CallOptions): Promise<ProviderAllocations>;
  getConsumerAllocations(consumerUuid: string, opts?: CallOptions): Promise<ConsumerAllocations>;
  /**
   * PUT /allocations/{consumer} with no allocations (1.28+): release all of a consumer's
   * allocations, only if its generation is still `consumerGeneration` (409 otherwise: someone
   * changed them since they were read).
   */
  releaseConsumer(consumerUuid: string, seen: { consumerGeneration: number; projectId: string; userId: string }, opts?: CallOptions): Promise<void>;
  getTraits(uuid: string, opts?: CallOptions): Promise<string[]>;
  getAllocationCandidates(
    query: { resources: Record<string, number>; required?: string[]; limit?: number; inTree?: string; memberOf?: string[] },
    opts?: CallOptions,
  ): Promise<AllocationCandidates>;
}

/** Project names for project ids (identity/projects.ts asks Keystone). */
export interface ProjectNames {
  /** id -> name for the ids Keystone would name; the others are left out. */
  names(ids: readonly string[], opts?: CallOptions): Promise<Map<string, string>>;
}

/** An authenticated connection to one cloud. */
export interface CloudSession {
  readonly cloudName: string;
  readonly compute: ComputeApi;
  readonly placement: PlacementApi;
  /** Project names for project ids (Keystone), best effort; absent: ids are shown. */
  readonly projects?: ProjectNames;
  /** Who we are: for run records ("who ran it"). Never the token. */
  readonly identity: { userName: string | null; userId: string; projectName: string | null; projectId: string; roles: string[]; authUrl: string; regionName: string | null };
  /** Number of HTTP requests sent so far, by service (for budgets and benchmarks). */
  requestCount(): Record<string, number>;
  close(): Promise<void>;
}
