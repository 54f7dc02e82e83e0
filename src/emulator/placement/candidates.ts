/**
 * GET /allocation_candidates (1.10+): the providers with the required traits
 * where the requested resources fit, with their allocation requests and
 * provider summaries.
 */
import type { Obj, Route } from '../http.js';
import { fail, route } from '../http.js';
import type { Allocations } from './allocations.js';
import { capacity } from './allocations.js';
import type { PlacementWrap } from './api.js';
import { at, ok } from './api.js';
import { parseResources, traits } from './providers.js';

export function candidatesRoutes(h: PlacementWrap, allocations: Allocations): Route[] {
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
    let list = [...allocations.hostsByUuid.values()].sort((a, b) => a.computeNodeId - b.computeNodeId);
    if (inTree) list = list.filter((x) => x.uuid === inTree);
    list = list.filter((x) => {
      const tr = traits(x);
      for (const t of required) {
        if (t.startsWith('!') ? tr.includes(t.slice(1)) : !tr.includes(t)) return false;
      }
      return allocations.fits(x, want);
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
      const usage = allocations.usage(x);
      const rcs = at(v, 27) ? Object.keys(x.inventories) : Object.keys(want);
      const resources: Obj = {};
      for (const rc of rcs) {
        const inv = x.inventories[rc];
        if (inv) resources[rc] = { capacity: capacity(inv), used: usage[rc] ?? 0 };
      }
      const s: Obj = { resources };
      if (at(v, 17)) s['traits'] = traits(x);
      if (at(v, 29)) {
        s['parent_provider_uuid'] = null;
        s['root_provider_uuid'] = x.uuid;
      }
      summaries[x.uuid] = s;
    }
    return ok({ allocation_requests: allocationRequests, provider_summaries: summaries });
  }, { min: 10 });

  return [route('GET', '/allocation_candidates', candidates)];
}
