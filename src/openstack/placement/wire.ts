/** Placement's wire JSON and its translation into the domain model (src/openstack/types.ts). */
import type { AllocationCandidates, ConsumerAllocations, Inventories, ProviderAllocations, ProviderSummary, ResourceProvider } from '../types.js';
import { isRecord, pickFrom } from '../wire.js';

export interface WireProvider {
  uuid: string;
  name: string;
  generation: number;
  /** 1.14+ */
  root_provider_uuid?: string;
  parent_provider_uuid?: string | null;
}

export interface WireInventory {
  total: number;
  reserved?: number;
  min_unit?: number;
  max_unit?: number;
  step_size?: number;
  allocation_ratio?: number;
}

export type WireAllocationRequest =
  /** 1.12+: dict by provider */
  | { allocations: Record<string, { resources: Record<string, number> }> }
  /** 1.10 - 1.11: list */
  | { allocations: Array<{ resource_provider: { uuid: string }; resources: Record<string, number> }> };

export interface WireProviderSummary {
  resources?: Record<string, { capacity: number; used: number }>;
  traits?: string[];
  parent_provider_uuid?: string | null;
  root_provider_uuid?: string | null;
}

export function pick<T>(body: unknown, key: string, what: 'array' | 'object', context: string): T {
  return pickFrom<T>('Placement', body, key, what, context);
}

export function toProvider(w: WireProvider): ResourceProvider {
  return {
    uuid: w.uuid,
    name: w.name,
    generation: w.generation,
    // Before 1.14 there are no trees: every provider is its own root.
    rootProviderUuid: w.root_provider_uuid ?? w.uuid,
    parentProviderUuid: w.parent_provider_uuid ?? null,
  };
}

/** Placement's defaults for fields an inventory leaves out. */
export function toInventories(w: Record<string, WireInventory>): Inventories {
  const out: Inventories = {};
  for (const [rc, inv] of Object.entries(w)) {
    out[rc] = {
      total: inv.total,
      reserved: inv.reserved ?? 0,
      minUnit: inv.min_unit ?? 1,
      maxUnit: inv.max_unit ?? inv.total,
      stepSize: inv.step_size ?? 1,
      allocationRatio: inv.allocation_ratio ?? 1.0,
    };
  }
  return out;
}

export function toProviderAllocations(w: Record<string, { resources?: Record<string, number> }>): ProviderAllocations {
  const out: ProviderAllocations = {};
  for (const [consumer, a] of Object.entries(w)) out[consumer] = { ...(a.resources ?? {}) };
  return out;
}

export function toConsumerAllocations(body: Record<string, unknown>): ConsumerAllocations {
  const allocs = isRecord(body.allocations) ? (body.allocations as Record<string, { resources?: Record<string, number> }>) : {};
  const allocations: Record<string, Record<string, number>> = {};
  for (const [rp, a] of Object.entries(allocs)) allocations[rp] = { ...(a.resources ?? {}) };
  return {
    allocations,
    projectId: typeof body.project_id === 'string' ? body.project_id : null,
    userId: typeof body.user_id === 'string' ? body.user_id : null,
    consumerGeneration: typeof body.consumer_generation === 'number' ? body.consumer_generation : null,
  };
}

export function toAllocationCandidates(body: Record<string, unknown>): AllocationCandidates {
  const requests = pick<WireAllocationRequest[]>(body, 'allocation_requests', 'array', 'GET /allocation_candidates');
  const summaries = pick<Record<string, WireProviderSummary>>(body, 'provider_summaries', 'object', 'GET /allocation_candidates');
  const allocationRequests = requests.map((r) => {
    const out: Record<string, Record<string, number>> = {};
    if (Array.isArray(r.allocations)) {
      for (const a of r.allocations) out[a.resource_provider.uuid] = { ...(out[a.resource_provider.uuid] ?? {}), ...a.resources };
    } else {
      for (const [rp, a] of Object.entries(r.allocations)) out[rp] = { ...a.resources };
    }
    return out;
  });
  const providerSummaries: Record<string, ProviderSummary> = {};
  for (const [rp, s] of Object.entries(summaries)) {
    const resources: ProviderSummary['resources'] = {};
    for (const [rc, v] of Object.entries(s.resources ?? {})) resources[rc] = { capacity: v.capacity, used: v.used };
    providerSummaries[rp] = {
      resources,
      traits: [...(s.traits ?? [])],
      rootProviderUuid: s.root_provider_uuid ?? null,
      parentProviderUuid: s.parent_provider_uuid ?? null,
    };
  }
  return { allocationRequests, providerSummaries };
}
