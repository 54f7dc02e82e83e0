/**
 * The Placement client: PlacementApi over a ServiceClient. Written and tested
 * for microversions 1.0 .. 1.39 (Zed's placement 8.0 goes to 1.39).
 */
import { HostmaintError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { CallOptions, PlacementApi } from '../api.js';
import type { ServiceClient, ServiceRequest } from '../service-client.js';
import type { AllocationCandidates, ConsumerAllocations, Inventories, ProviderAllocations, ResourceProvider, Usages } from '../types.js';
import {
  pick,
  toAllocationCandidates,
  toConsumerAllocations,
  toInventories,
  toProvider,
  toProviderAllocations,
  type WireInventory,
  type WireProvider,
} from './wire.js';

export const PLACEMENT_MIN_MICROVERSION = '1.0';
/** The highest placement microversion hostmaint writes and tests for (OpenStack Zed). */
export const PLACEMENT_MAX_MICROVERSION = '1.39';

/** Microversions that change what we send or read. */
export const PLACEMENT_TRAITS = '1.6';
export const PLACEMENT_ALLOCATION_CANDIDATES = '1.10';
export const PLACEMENT_AC_LIMIT = '1.16';
export const PLACEMENT_AC_REQUIRED = '1.17';
export const PLACEMENT_AC_MEMBER_OF = '1.21';
export const PLACEMENT_FORBIDDEN_TRAITS = '1.22';
export const PLACEMENT_IN_TREE = '1.14';
/** consumer_generation in allocation reads and writes. */
export const PLACEMENT_CONSUMER_GENERATIONS = '1.28';
export const PLACEMENT_AC_IN_TREE = '1.31';

type Query = NonNullable<ServiceRequest['query']>;

export function createPlacementClient(client: ServiceClient, logger: Logger): PlacementApi {
  const need = (version: string, what: string): void => {
    if (!client.atLeast(version)) {
      throw new HostmaintError('not-acceptable', `${what} needs placement microversion ${version}; this cloud speaks ${client.microversion ?? 'unknown'}.`, {
        details: { needed: version, have: client.microversion },
      });
    }
  };
  const get = async (path: string, query: Query | undefined, opts: CallOptions | undefined): Promise<unknown> =>
    (await client.request({ method: 'GET', path, query, signal: opts?.signal })).data;
  const rp = (uuid: string, sub = ''): string => `/resource_providers/${encodeURIComponent(uuid)}${sub}`;

  return {
    get microversion() {
      return client.microversion ?? PLACEMENT_MIN_MICROVERSION;
    },

    async listProviders(query, opts): Promise<ResourceProvider[]> {
      const q: Query = {};
      if (query.name !== undefined) q.name = query.name;
      if (query.uuid !== undefined) q.uuid = query.uuid;
      if (query.inTree !== undefined) {
        need(PLACEMENT_IN_TREE, 'Listing a provider tree (in_tree)');
        q.in_tree = query.inTree;
      }
      const data = await get('/resource_providers', q, opts);
      return pick<WireProvider[]>(data, 'resource_providers', 'array', 'GET /resource_providers').map(toProvider);
    },

    async getProvider(uuid, opts): Promise<ResourceProvider> {
      const data = await get(rp(uuid), undefined, opts);
      // GET /resource_providers/{uuid} answers the provider itself (no wrapper key).
      if (!data || typeof data !== 'object' || typeof (data as WireProvider).uuid !== 'string') {
        throw new HostmaintError('server-error', 'GET /resource_providers/{uuid}: the response is not a resource provider', { details: { uuid } });
      }
      return toProvider(data as WireProvider);
    },

    async getInventories(uuid, opts): Promise<Inventories> {
      const data = await get(rp(uuid, '/inventories'), undefined, opts);
      return toInventories(pick<Record<string, WireInventory>>(data, 'inventories', 'object', 'GET /resource_providers/{uuid}/inventories'));
    },

    async getUsages(uuid, opts): Promise<Usages> {
      const data = await get(rp(uuid, '/usages'), undefined, opts);
      return { ...pick<Usages>(data, 'usages', 'object', 'GET /resource_providers/{uuid}/usages') };
    },

    async getProviderAllocations(uuid, opts): Promise<ProviderAllocations> {
      const data = await get(rp(uuid, '/allocations'), undefined, opts);
      return toProviderAllocations(pick<Record<string, { resources?: Record<string, number> }>>(data, 'allocations', 'object', 'GET /resource_providers/{uuid}/allocations'));
    },

    async getConsumerAllocations(consumerUuid, opts): Promise<ConsumerAllocations> {
      const data = await get(`/allocations/${encodeURIComponent(consumerUuid)}`, undefined, opts);
      pick(data, 'allocations', 'object', 'GET /allocations/{consumer}');
      return toConsumerAllocations(data as Record<string, unknown>);
    },

    async releaseConsumer(consumerUuid, seen, opts): Promise<void> {
      need(PLACEMENT_CONSUMER_GENERATIONS, 'Releasing allocations with their consumer generation');
      await client.request({
        method: 'PUT',
        path: `/allocations/${encodeURIComponent(consumerUuid)}`,
        body: { allocations: {}, consumer_generation: seen.consumerGeneration, project_id: seen.projectId, user_id: seen.userId },
        signal: opts?.signal,
      });
    },

    async getTraits(uuid, opts): Promise<string[]> {
      need(PLACEMENT_TRAITS, 'Reading provider traits');
      const data = await get(rp(uuid, '/traits'), undefined, opts);
      return [...pick<string[]>(data, 'traits', 'array', 'GET /resource_providers/{uuid}/traits')].sort();
    },

    async getAllocationCandidates(query, opts): Promise<AllocationCandidates> {
      need(PLACEMENT_ALLOCATION_CANDIDATES, 'Asking for allocation candidates');
      const resources = Object.entries(query.resources).filter(([, n]) => n > 0);
      if (resources.length === 0) {
        throw new HostmaintError('bad-request', 'Allocation candidates need at least one resource amount above 0.', { details: { resources: query.resources } });
      }
      const q: Query = { resources: resources.map(([rc, n]) => `${rc}:${n}`).join(',') };
      const required = query.required ?? [];
      if (required.length > 0) {
        need(PLACEMENT_AC_REQUIRED, 'Required traits on allocation candidates');
        if (required.some((t) => t.startsWith('!'))) need(PLACEMENT_FORBIDDEN_TRAITS, `Forbidden traits (${required.filter((t) => t.startsWith('!')).join(',')})`);
        q.required = required.join(',');
      }
      if (query.memberOf !== undefined && query.memberOf.length > 0) {
        need(PLACEMENT_AC_MEMBER_OF, 'member_of on allocation candidates');
        q.member_of = query.memberOf.length === 1 ? query.memberOf[0]! : `in:${query.memberOf.join(',')}`;
      }
      if (query.inTree !== undefined) {
        need(PLACEMENT_AC_IN_TREE, 'in_tree on allocation candidates');
        q.in_tree = query.inTree;
      }
      if (query.limit !== undefined) {
        if (client.atLeast(PLACEMENT_AC_LIMIT)) q.limit = query.limit;
        else logger.debug('allocation candidates limit needs placement 1.16; asking for all', { microversion: client.microversion });
      }
      const data = await get('/allocation_candidates', q, opts);
      if (!data || typeof data !== 'object') throw new HostmaintError('server-error', 'GET /allocation_candidates: empty response');
      return toAllocationCandidates(data as Record<string, unknown>);
    },
  };
}

export { providerCapacity, fits, flavorResources } from './capacity.js';
export type { ResourceCapacity, FitResult, FlavorResourceOptions } from './capacity.js';
