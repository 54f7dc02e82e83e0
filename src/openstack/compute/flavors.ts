/** Flavors: GET /flavors/{id} and its extra specs (inline from 2.61, else /os-extra_specs). */
import { isHttpError } from '../../core/errors.js';
import type { CallOptions } from '../api.js';
import type { Flavor, ServerFlavor } from '../types.js';
import { isRecord } from '../wire.js';
import { getJson, type ComputeContext } from './context.js';
import { flavorToServerFlavor, pick, toFlavor, type WireFlavor } from './wire.js';

export const FLAVOR_EXTRA_SPECS_INLINE_MICROVERSION = '2.61';

export async function getFlavor(ctx: ComputeContext, id: string, opts?: CallOptions): Promise<Flavor> {
  const path = `/flavors/${encodeURIComponent(id)}`;
  const data = await getJson(ctx, path, undefined, opts);
  const wire = pick<WireFlavor>(data, 'flavor', 'object', 'GET /flavors/{id}');
  if (ctx.client.atLeast(FLAVOR_EXTRA_SPECS_INLINE_MICROVERSION) && isRecord(wire.extra_specs)) {
    return toFlavor(wire);
  }
  const specs = await getJson(ctx, `${path}/os-extra_specs`, undefined, opts);
  return toFlavor(wire, pick<Record<string, string>>(specs, 'extra_specs', 'object', 'GET /flavors/{id}/os-extra_specs'));
}

/** getFlavor through the per-client cache (one request per distinct id; a failure is not cached). */
export function getFlavorCached(ctx: ComputeContext, id: string, opts?: CallOptions): Promise<Flavor> {
  let p = ctx.flavorCache.get(id);
  if (!p) {
    p = getFlavor(ctx, id, opts);
    ctx.flavorCache.set(id, p);
    p.catch(() => ctx.flavorCache.delete(id));
  }
  return p;
}

/**
 * The flavor of a server listed before 2.47 (only `{id}` on the wire). A
 * flavor deleted since the server was built cannot be fetched: the server
 * keeps the id with zero sizes and a warning is logged.
 */
export async function resolveServerFlavor(ctx: ComputeContext, id: string, opts?: CallOptions): Promise<ServerFlavor> {
  try {
    return flavorToServerFlavor(await getFlavorCached(ctx, id, opts));
  } catch (e) {
    if (!isHttpError(e, 'not-found')) throw e;
    ctx.logger.warn('flavor of a server is gone; its sizes are unknown before microversion 2.47', { flavorId: id });
    return { id, name: null, vcpus: 0, ramMb: 0, diskGb: 0, ephemeralGb: 0, swapMb: 0, extraSpecs: {} };
  }
}
