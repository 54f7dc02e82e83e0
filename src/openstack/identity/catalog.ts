/**
 * The service catalog of a Keystone v3 token, and finding an endpoint in it by
 * service type, interface and region, with errors that say what the catalog
 * does have.
 */
import { HostmaintError } from '../../core/errors.js';
import type { EndpointInterface } from '../../config/cloud-types.js';

export interface CatalogEndpoint {
  id: string | null;
  url: string;
  interface: string;
  /** `region_id`, or the older `region`, or null. */
  region: string | null;
}

export interface CatalogService {
  type: string;
  name: string | null;
  id: string | null;
  endpoints: CatalogEndpoint[];
}

const s = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Parse `token.catalog`; entries without a type or url are dropped. */
export function parseCatalog(raw: unknown): CatalogService[] {
  if (!Array.isArray(raw)) return [];
  const out: CatalogService[] = [];
  for (const entry of raw) {
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const type = s(e.type);
    if (!type) continue;
    const endpoints: CatalogEndpoint[] = [];
    for (const ep of Array.isArray(e.endpoints) ? e.endpoints : []) {
      if (!ep || typeof ep !== 'object') continue;
      const p = ep as Record<string, unknown>;
      const url = s(p.url);
      if (!url) continue;
      endpoints.push({ id: s(p.id), url, interface: s(p.interface) ?? 'public', region: s(p.region_id) ?? s(p.region) });
    }
    out.push({ type, name: s(e.name), id: s(e.id), endpoints });
  }
  return out;
}

const list = (xs: Iterable<string>): string => [...new Set(xs)].sort().join(', ');

/**
 * The URL of the `serviceType` endpoint for `iface` in `region` (any region
 * when null, as long as only one has it). Throws `config` errors:
 * "the catalog has no 'compute' endpoint for interface public in region
 * RegionTwo (regions with compute: RegionOne)".
 */
export function findEndpoint(catalog: CatalogService[], serviceType: string, iface: EndpointInterface, region: string | null): string {
  const services = catalog.filter((c) => c.type === serviceType);
  if (services.length === 0) {
    const types = catalog.map((c) => c.type);
    throw new HostmaintError(
      'config',
      catalog.length === 0
        ? `The catalog is empty: the token gives no endpoints at all, so there is no '${serviceType}' endpoint`
        : `The catalog has no '${serviceType}' service (services in the catalog: ${list(types)})`,
      {
        hint:
          catalog.length === 0
            ? 'The user probably has no role in the project (a token without a role assignment has an empty catalog).'
            : `This cloud does not register ${serviceType} in Keystone, or the user cannot see it; check \`openstack catalog list\`.`,
        details: { serviceType, services: [...new Set(types)] },
      },
    );
  }
  const endpoints = services.flatMap((c) => c.endpoints);
  const regions = [...new Set(endpoints.map((e) => e.region ?? '(none)'))];
  if (region !== null) {
    const inRegion = endpoints.filter((e) => e.region === region);
    if (inRegion.length === 0) {
      throw new HostmaintError(
        'config',
        `The catalog has no '${serviceType}' endpoint for interface ${iface} in region ${region} (regions with ${serviceType}: ${list(regions)})`,
        {
          hint: `Set --os-region-name / OS_REGION_NAME / region_name to one of: ${list(regions)}.`,
          details: { serviceType, interface: iface, region, regions },
        },
      );
    }
    const match = inRegion.find((e) => e.interface === iface);
    if (!match) {
      const ifaces = inRegion.map((e) => e.interface);
      throw new HostmaintError(
        'config',
        `The catalog has no '${serviceType}' endpoint for interface ${iface} in region ${region} (interfaces there: ${list(ifaces)})`,
        {
          hint: `Set --os-interface / OS_INTERFACE / interface to one of: ${list(ifaces)}.`,
          details: { serviceType, interface: iface, region, interfaces: [...new Set(ifaces)] },
        },
      );
    }
    return match.url.replace(/\/+$/, '');
  }
  const matches = endpoints.filter((e) => e.interface === iface);
  if (matches.length === 0) {
    const ifaces = endpoints.map((e) => e.interface);
    throw new HostmaintError(
      'config',
      `The catalog has no '${serviceType}' endpoint for interface ${iface} (interfaces it has: ${list(ifaces)})`,
      {
        hint: `Set --os-interface / OS_INTERFACE / interface to one of: ${list(ifaces)}.`,
        details: { serviceType, interface: iface, interfaces: [...new Set(ifaces)] },
      },
    );
  }
  const matchRegions = [...new Set(matches.map((e) => e.region ?? '(none)'))];
  if (matchRegions.length > 1) {
    throw new HostmaintError(
      'config',
      `The catalog has '${serviceType}' endpoints for interface ${iface} in several regions (${list(matchRegions)}) and no region was chosen`,
      {
        hint: `Set --os-region-name / OS_REGION_NAME / region_name to one of: ${list(matchRegions)}.`,
        details: { serviceType, interface: iface, regions: matchRegions },
      },
    );
  }
  return (matches[0] as CatalogEndpoint).url.replace(/\/+$/, '');
}
