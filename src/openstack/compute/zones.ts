/** Availability zones (detailed, with hosts) and host aggregates. */
import type { CallOptions } from '../api.js';
import type { Aggregate, AvailabilityZone } from '../types.js';
import { getJson, type ComputeContext } from './context.js';
import { pick, toAggregate, toAvailabilityZone, type WireAggregate, type WireAvailabilityZone } from './wire.js';

/**
 * GET /os-availability-zone/detail. Nova lists only hosts whose services are
 * enabled: a disabled host (one being drained) is absent, and a zone whose
 * every host is disabled shows as unavailable with no hosts. The zone of a
 * given host is its service's `zone` (listServices), whatever its status.
 */
export async function listAvailabilityZones(ctx: ComputeContext, opts?: CallOptions): Promise<AvailabilityZone[]> {
  const data = await getJson(ctx, '/os-availability-zone/detail', undefined, opts);
  return pick<WireAvailabilityZone[]>(data, 'availabilityZoneInfo', 'array', 'GET /os-availability-zone/detail').map(toAvailabilityZone);
}

export async function listAggregates(ctx: ComputeContext, opts?: CallOptions): Promise<Aggregate[]> {
  const data = await getJson(ctx, '/os-aggregates', undefined, opts);
  return pick<WireAggregate[]>(data, 'aggregates', 'array', 'GET /os-aggregates').map(toAggregate);
}
