/**
 * Emulated Nova compute API (v2.1 with microversions up to the scenario's
 * maximum, 2.93 by default): the router that registers each resource's
 * handlers, and the server actions of each module under the one
 * POST /servers/{id}/action.
 */
import type { Cloud } from '../cloud.js';
import type { EmuRequest, EmuResponse, Route } from '../http.js';
import { route } from '../http.js';
import { novaImagesRoutes } from '../images.js';
import type { TokenStore } from '../keystone.js';
import { actionsRoutes } from './actions.js';
import { aggregatesRoutes } from './aggregates.js';
import { computeWrap, ok, versionDoc, versionList } from './api.js';
import { coldMigrationActions } from './cold-migration.js';
import { flavorsRoutes } from './flavors.js';
import { groupsRoutes } from './groups.js';
import { hypervisorsRoutes } from './hypervisors.js';
import { liveMigrationActions, liveMigrationRoutes } from './live-migration.js';
import { migrationsRoutes } from './migrations.js';
import { quotasRoutes } from './quotas.js';
import { lifecycleActions, lifecycleRoutes } from './server-lifecycle.js';
import { serverActionRoute, serversRoutes } from './servers.js';
import { servicesRoutes } from './services.js';
import { zonesRoutes } from './zones.js';

export function novaRoutes(cloud: Cloud, tokens: TokenStore): { routes: Route[]; versions: (req: EmuRequest) => EmuResponse } {
  const max = cloud.maxComputeVersion;
  const h = computeWrap(max, tokens);
  const p = cloud.nova;
  const serverActions = {
    ...liveMigrationActions(cloud.live, p),
    ...coldMigrationActions(cloud.cold, p),
    ...lifecycleActions(cloud.lifecycle, p),
  };
  const routes: Route[] = [
    route('GET', '/', (req) => ok({ version: versionDoc(max, req.baseUrl) })),
    ...servicesRoutes(h, p.services),
    ...hypervisorsRoutes(h, p.services, p.placement, p.servers),
    ...serversRoutes(h, p.servers, p.services),
    ...lifecycleRoutes(h, cloud.lifecycle, p, cloud.flavors, cloud.images),
    serverActionRoute(h, p.servers, serverActions),
    ...migrationsRoutes(h, p.migrations, p.servers),
    ...liveMigrationRoutes(h, cloud.live, p),
    ...actionsRoutes(h, p.actions, p.servers),
    ...groupsRoutes(h, p.groups, p.servers),
    ...aggregatesRoutes(h, cloud.aggregates, p.services.hosts),
    ...zonesRoutes(h, p.services),
    ...flavorsRoutes(h, cloud.flavors),
    ...novaImagesRoutes(h, cloud.images),
    ...quotasRoutes(h),
  ];
  return { routes, versions: (req) => versionList(max, req) };
}
