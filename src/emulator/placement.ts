/**
 * Emulated Placement API (microversions 1.0 - 1.39 by default): one resource
 * provider per compute node (uuid = compute node uuid, name = hypervisor
 * hostname), inventories, usages, allocations that follow the instances (and
 * the migration consumers during moves), traits (COMPUTE_STATUS_DISABLED while
 * the compute service is disabled) and allocation candidates.
 */
import type { EmuRequest, Obj, Route } from './http.js';
import { fail, route } from './http.js';
import type { TokenStore } from './keystone.js';
import { at, ok, placementRoot, placementWrap } from './placement/api.js';
import type { Cloud } from './cloud.js';
import type { HostState, Resources } from './model.js';

export function placementRoutes(cloud: Cloud, tokens: TokenStore): Route[] {
  const h = placementWrap(cloud.maxPlacementVersion, tokens);

  const provider = (uuid: string): HostState => cloud.services.hostsByUuid.get(uuid) ?? fail(404, `No resource provider with uuid ${uuid} found`);

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

  const parseResources = (s: string, what = 'resources'): Resources => {
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
  };

  const listProviders = h((req, v) => {
    const q = req.query;
    let list = [...cloud.hosts.values()];
    const name = q.get('name');
    const uuid = q.get('uuid');
    const inTree = at(v, 14) ? q.get('in_tree') : null;
    const required = at(v, 18) ? q.getAll('required').flatMap((x) => x.split(',')) : [];
    const resources = at(v, 4) && q.get('resources') ? parseResources(q.get('resources')!) : null;
    if (name) list = list.filter((x) => x.hypervisorHostname === name);
    if (uuid) list = list.filter((x) => x.uuid === uuid);
    if (inTree) {
      if (!cloud.services.hostsByUuid.has(inTree)) list = [];
      else list = list.filter((x) => x.uuid === inTree);
    }
    for (const t of required) {
      const neg = t.startsWith('!');
      const name2 = neg ? t.slice(1) : t;
      list = list.filter((x) => cloud.traits(x).includes(name2) !== neg);
    }
    if (resources) list = list.filter((x) => cloud.fits(x, resources));
    list.sort((a, b) => a.computeNodeId - b.computeNodeId);
    return ok({ resource_providers: list.map((x) => providerView(req, x, v)) });
  });

  const showProvider = h((req, v) => ok(providerView(req, provider(req.params['uuid']!), v)));

  const inventoryView = (hst: HostState) =>
    Object.fromEntries(Object.entries(hst.inventories).map(([rc, inv]) => [rc, { ...inv }]));

  const inventories = h((req) => {
    const hst = provider(req.params['uuid']!);
    return ok({ resource_provider_generation: hst.rpGeneration, inventories: inventoryView(hst) });
  });

  const inventory = h((req) => {
    const hst = provider(req.params['uuid']!);
    const rc = req.params['rc']!;
    const inv = hst.inventories[rc] ?? fail(404, `No inventory of class ${rc} for ${hst.uuid}`);
    return ok({ resource_provider_generation: hst.rpGeneration, ...inv });
  });

  const usages = h((req) => {
    const hst = provider(req.params['uuid']!);
    return ok({ resource_provider_generation: hst.rpGeneration, usages: cloud.usage(hst) });
  });

  const rpAllocations = h((req, v) => {
    const hst = provider(req.params['uuid']!);
    const out: Obj = {};
    for (const [consumer, res] of cloud.rpAllocations.get(hst.uuid)!) {
      const o: Obj = { resources: { ...res } };
      if (at(v, 28)) o['consumer_generation'] = cloud.consumers.get(consumer)?.generation ?? null;
      out[consumer] = o;
    }
    return ok({ resource_provider_generation: hst.rpGeneration, allocations: out });
  });

  const traits = h((req) => {
    const hst = provider(req.params['uuid']!);
    return ok({ resource_provider_generation: hst.rpGeneration, traits: cloud.traits(hst) });
  }, { min: 6 });

  const aggregates = h((req, v) => {
    const hst = provider(req.params['uuid']!);
    const aggs = cloud.aggregates.list.filter((a) => a.hosts.includes(hst.name)).map((a) => a.uuid);
    return ok(at(v, 19) ? { resource_provider_generation: hst.rpGeneration, aggregates: aggs } : { aggregates: aggs });
  }, { min: 1 });

  const consumerAllocations = h((req, v) => {
    const consumer = req.params['consumer']!;
    const c = cloud.consumers.get(consumer);
    const allocations: Obj = {};
    if (c) {
      for (const [rp, res] of c.byRp) {
        const hst = cloud.services.hostsByUuid.get(rp);
        allocations[rp] = { generation: hst?.rpGeneration ?? 0, resources: { ...res } };
      }
    }
    const body: Obj = { allocations };
    if (at(v, 12) && c) {
      body['project_id'] = c.projectId;
      body['user_id'] = c.userId;
    }
    if (at(v, 28) && c) body['consumer_generation'] = c.generation;
    if (at(v, 38) && c) body['consumer_type'] = c.consumerType;
    return ok(body);
  });

  const candidates = h((req, v) => {
    const q = req.query;
    const resStr = q.get('resources');
    if (!resStr) fail(400, "Invalid query string parameters: 'resources' is a required property");
    const want = parseResources(resStr!);
    const required = q.getAll('required').flatMap((x) => x.split(','));
    if (!at(v, 22) && required.some((t) => t.startsWith('!'))) fail(400, `Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC.`);
    const inTree = at(v, 31) ? q.get('in_tree') : null;
    const limitS = at(v, 16) ? q.get('limit') : null;
    const limit = limitS !== null ? Number(limitS) : null;
    if (limitS !== null && (!Number.isInteger(limit) || limit! < 1)) fail(400, `Invalid query string parameters: '${limitS}' does not match '^[1-9][0-9]*$'`);
    let list = [...cloud.hosts.values()].sort((a, b) => a.computeNodeId - b.computeNodeId);
    if (inTree) list = list.filter((x) => x.uuid === inTree);
    list = list.filter((x) => {
      const tr = cloud.traits(x);
      for (const t of required) {
        if (t.startsWith('!') ? tr.includes(t.slice(1)) : !tr.includes(t)) return false;
      }
      return cloud.fits(x, want);
    });
    if (limit !== null) list = list.slice(0, limit);
    const allocationRequests = list.map((x) => {
      if (!at(v, 12)) return { allocations: [{ resource_provider: { uuid: x.uuid }, resources: { ...want } }] };
      const o: Obj = { allocations: { [x.uuid]: { resources: { ...want } } } };
      if (at(v, 34)) o['mappings'] = { '': [x.uuid] };
      return o;
    });
    const summaries: Obj = {};
    for (const x of list) {
      const usage = cloud.usage(x);
      const rcs = at(v, 27) ? Object.keys(x.inventories) : Object.keys(want);
      const resources: Obj = {};
      for (const rc of rcs) {
        const inv = x.inventories[rc];
        if (inv) resources[rc] = { capacity: cloud.capacity(inv), used: usage[rc] ?? 0 };
      }
      const s: Obj = { resources };
      if (at(v, 17)) s['traits'] = cloud.traits(x);
      if (at(v, 29)) {
        s['parent_provider_uuid'] = null;
        s['root_provider_uuid'] = x.uuid;
      }
      summaries[x.uuid] = s;
    }
    return ok({ allocation_requests: allocationRequests, provider_summaries: summaries });
  }, { min: 10 });

  return [
    route('GET', '/', (req) => placementRoot(cloud.maxPlacementVersion, req)),
    route('GET', '/resource_providers', listProviders),
    route('GET', '/resource_providers/:uuid', showProvider),
    route('GET', '/resource_providers/:uuid/inventories', inventories),
    route('GET', '/resource_providers/:uuid/inventories/:rc', inventory),
    route('GET', '/resource_providers/:uuid/usages', usages),
    route('GET', '/resource_providers/:uuid/allocations', rpAllocations),
    route('GET', '/resource_providers/:uuid/traits', traits),
    route('GET', '/resource_providers/:uuid/aggregates', aggregates),
    route('GET', '/allocations/:consumer', consumerAllocations),
    route('GET', '/allocation_candidates', candidates),
  ];
}
