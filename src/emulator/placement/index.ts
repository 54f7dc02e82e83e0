/**
 * Emulated Placement API (microversions 1.0 - 1.39 by default): the router
 * that registers each resource's handlers. Providers are the compute nodes;
 * allocations follow the instances (and the migration consumers during moves).
 */
import type { Route } from '../http.js';
import { route } from '../http.js';
import type { TokenStore } from '../keystone.js';
import type { Aggregates } from '../compute/aggregates.js';
import type { Allocations } from './allocations.js';
import { allocationsRoutes } from './allocations.js';
import type { Version } from './api.js';
import { placementRoot, placementWrap } from './api.js';
import { candidatesRoutes } from './candidates.js';
import { providersRoutes } from './providers.js';

export function placementRoutes(max: Version, tokens: TokenStore, allocations: Allocations, aggregates: Aggregates): Route[] {
  const h = placementWrap(max, tokens);
  return [
    route('GET', '/', (req) => placementRoot(max, req)),
    ...providersRoutes(h, allocations, aggregates),
    ...allocationsRoutes(h, allocations),
    ...candidatesRoutes(h, allocations),
  ];
}
