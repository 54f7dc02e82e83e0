/**
 * The compute (Nova) client: ComputeApi over a ServiceClient. Wire names are
 * translated once (wire.ts); each microversion branch lives in the function
 * that needs it. Written and tested for microversions 2.1 .. 2.93 (Zed).
 */
import type { Logger } from '../../core/log.js';
import type { ComputeApi } from '../api.js';
import type { ServiceClient } from '../service-client.js';
import type { Flavor } from '../types.js';
import { getInstanceAction, listInstanceActions } from './actions.js';
import type { ComputeContext } from './context.js';
import { getFlavor } from './flavors.js';
import { getServerGroup, listServerGroups } from './groups.js';
import { findHypervisors, listHypervisors } from './hypervisors.js';
import { abortMigration, forceCompleteMigration, getServerMigration, listMigrations, listServerMigrations } from './migrations.js';
import { coldMigrate, confirmResize, getServer, listServers, listServersOnHost, liveMigrate, shelveOffload, startServer, stopServer } from './servers.js';
import { disableService, enableService, listServices } from './services.js';
import { listAggregates, listAvailabilityZones } from './zones.js';

export const COMPUTE_MIN_MICROVERSION = '2.1';
/** The highest compute microversion hostmaint writes and tests for (OpenStack Zed). */
export const COMPUTE_MAX_MICROVERSION = '2.93';

export interface ComputeClientOptions {
  /** `limit` sent on paged listings (default 1000, Nova's default max_limit). */
  pageSize?: number;
}

export function createComputeClient(client: ServiceClient, logger: Logger, options: ComputeClientOptions = {}): ComputeApi {
  const ctx: ComputeContext = {
    client,
    logger,
    flavorCache: new Map<string, Promise<Flavor>>(),
    pageSize: options.pageSize ?? 1000,
  };
  return {
    get microversion() {
      return client.microversion ?? COMPUTE_MIN_MICROVERSION;
    },
    listServices: (q, o) => listServices(ctx, q, o),
    disableService: (s, r, o) => disableService(ctx, s, r, o),
    enableService: (s, o) => enableService(ctx, s, o),
    findHypervisors: (h, o) => findHypervisors(ctx, h, o),
    listHypervisors: (o) => listHypervisors(ctx, o),
    listServersOnHost: (h, o) => listServersOnHost(ctx, h, o),
    listServers: (q, o) => listServers(ctx, q, o),
    getServer: (id, o) => getServer(ctx, id, o),
    liveMigrate: (id, a, o) => liveMigrate(ctx, id, a, o),
    coldMigrate: (id, a, o) => coldMigrate(ctx, id, a, o),
    confirmResize: (id, o) => confirmResize(ctx, id, o),
    shelveOffload: (id, o) => shelveOffload(ctx, id, o),
    stopServer: (id, o) => stopServer(ctx, id, o),
    startServer: (id, o) => startServer(ctx, id, o),
    listServerMigrations: (id, o) => listServerMigrations(ctx, id, o),
    getServerMigration: (id, mid, o) => getServerMigration(ctx, id, mid, o),
    forceCompleteMigration: (id, mid, o) => forceCompleteMigration(ctx, id, mid, o),
    abortMigration: (id, mid, o) => abortMigration(ctx, id, mid, o),
    listMigrations: (q, o) => listMigrations(ctx, q, o),
    listInstanceActions: (id, o) => listInstanceActions(ctx, id, o),
    getInstanceAction: (id, rid, o) => getInstanceAction(ctx, id, rid, o),
    listServerGroups: (o) => listServerGroups(ctx, o),
    getServerGroup: (id, o) => getServerGroup(ctx, id, o),
    listAvailabilityZones: (o) => listAvailabilityZones(ctx, o),
    listAggregates: (o) => listAggregates(ctx, o),
    getFlavor: (id, o) => getFlavor(ctx, id, o),
  };
}

export { hypervisorMatchesHost } from './hypervisors.js';
export { validateDisabledReason, DISABLED_REASON_MAX } from './services.js';
