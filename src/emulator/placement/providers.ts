/**
 * Placement's resource providers: one per compute node (uuid = compute node
 * uuid, name = hypervisor hostname, the generation and inventories kept on the
 * host's record), their traits (COMPUTE_STATUS_DISABLED while the compute
 * service is disabled) and aggregates. GET /resource_providers(/{uuid}),
 * .../inventories(/{rc}), .../traits, .../aggregates.
 */
import type { EmuRequest, Obj, Route } from '../http.js';
import { fail, route } from '../http.js';
import type { HostState, Resources } from '../model.js';
import type { Aggregates } from '../compute/aggregates.js';
import type { Allocations } from './allocations.js';
import type { PlacementWrap } from './api.js';
import { at, ok, provider } from './api.js';

/** A provider's traits, sorted: the host's own, and COMPUTE_STATUS_DISABLED while its service is disabled. */
export function traits(h: HostState): string[] {
  const t = [...h.baseTraits];
  if (h.disabled) t.push('COMPUTE_STATUS_DISABLED');
  return t.sort();
}

/** Parse `VCPU:2,MEMORY_MB:1024` (400 otherwise). */
export function parseResources(s: string, what = 'resources'): Resources {
  const out: Resources = {};
  for (const part of s.split(',')) {
    const [rc, amt] = part.split(':');
    const n = Number(amt);
    if (!rc || !/^[A-Z0-9_]+$/.test(rc) || !Number.isInteger(n) || n < 0) {
      fail(400, `Badly formed ${what} parameter. Expected ${what} query string parameter in form: ?${what}=VCPU:2,MEMORY_MB:1024. Got: ${s}.`);
    }
    out[rc!] = n;
  }
  return out;
}

export function providersRoutes(h: PlacementWrap, allocations: Allocations, aggregates: Aggregates): Route[] {
  const hostsByUuid = allocations.hostsByUuid;

  const providerView = (req: EmuRequest, hst: HostState, v: [number, number]) => {
    const base = `/placement/resource_providers/${hst.uuid}`;
    const linkList = [
      { rel: 'self', href: base },
      { rel: 'inventories', href: `${base}/inventories` },
      { rel: 'usages', href: `${base}/usages` },
    ];
    if (at(v, 1)) linkList.push({ rel: 'aggregates', href: `${base}/aggregates` });
    if (at(v, 6)) linkList.push({ rel: 'traits', href: `${base}/traits` });
    if (at(v, 11)) linkList.push({ rel: 'allocations', href: `${base}/allocations` });
    const o: Obj = { uuid: hst.uuid, name: hst.hypervisorHostname, generation: hst.rpGeneration, links: linkList };
    if (at(v, 14)) {
      o['parent_provider_uuid'] = null;
      o['root_provider_uuid'] = hst.uuid;
    }
    void req;
    return o;
  };

  const listProviders = h((req, v) => {
    const q = req.query;
    let list = [...hostsByUuid.values()];
    const name = q.get('name');
    const uuid = q.get('uuid');
    const inTree = at(v, 14) ? q.get('in_tree') : null;
    const required = at(v, 18) ? q.getAll('required').flatMap((x) => x.split(',')) : [];
    const resources = at(v, 4) && q.get('resources') ? parseResources(q.get('resources')!) : null;
    if (name) list = list.filter((x) => x.hypervisorHostname === name);
    if (uuid) list = list.filter((x) => x.uuid === uuid);
    if (inTree) {
      if (!hostsByUuid.has(inTree)) list = [];
      else list = list.filter((x) => x.uuid === inTree);
    }
    for (const t of required) {
      const neg = t.startsWith('!');
      const name2 = neg ? t.slice(1) : t;
      list = list.filter((x) => traits(x).includes(name2) !== neg);
    }
    if (resources) list = list.filter((x) => allocations.fits(x, resources));
    list.sort((a, b) => a.computeNodeId - b.computeNodeId);
    return ok({ resource_providers: list.map((x) => providerView(req, x, v)) });
  });

  const showProvider = h((req, v) => ok(providerView(req, provider(hostsByUuid, req.params['uuid']!), v)));

  const inventoryView = (hst: HostState) =>
    Object.fromEntries(Object.entries(hst.inventories).map(([rc, inv]) => [rc, { ...inv }]));

  const inventories = h((req) => {
    const hst = provider(hostsByUuid, req.params['uuid']!);
    return ok({ resource_provider_generation: hst.rpGeneration, inventories: inventoryView(hst) });
  });

  const inventory = h((req) => {
    const hst = provider(hostsByUuid, req.params['uuid']!);
    const rc = req.params['rc']!;
    const inv = hst.inventories[rc] ?? fail(404, `No inventory of class ${rc} for ${hst.uuid}`);
    return ok({ resource_provider_generation: hst.rpGeneration, ...inv });
  });

  const providerTraits = h((req) => {
    const hst = provider(hostsByUuid, req.params['uuid']!);
    return ok({ resource_provider_generation: hst.rpGeneration, traits: traits(hst) });
  }, { min: 6 });

  const providerAggregates = h((req, v) => {
    const hst = provider(hostsByUuid, req.params['uuid']!);
    const aggs = aggregates.list.filter((a) => a.hosts.includes(hst.name)).map((a) => a.uuid);
    return ok(at(v, 19) ? { resource_provider_generation: hst.rpGeneration, aggregates: aggs } : { aggregates: aggs });
  }, { min: 1 });

  return [
    route('GET', '/resource_providers', listProviders),
    route('GET', '/resource_providers/:uuid', showProvider),
    route('GET', '/resource_providers/:uuid/inventories', inventories),
    route('GET', '/resource_providers/:uuid/inventories/:rc', inventory),
    route('GET', '/resource_providers/:uuid/traits', providerTraits),
    route('GET', '/resource_providers/:uuid/aggregates', providerAggregates),
  ];
}
