/**
 * GET/PUT /os-quota-sets/{project_id}: Nova's default quotas (a PUT answers
 * with the values given, nothing is enforced).
 */
import type { Obj, Route } from '../http.js';
import { fail, isObj, route } from '../http.js';
import type { Wrap } from './api.js';
import { ok } from './api.js';

export function quotasRoutes(h: Wrap): Route[] {
  const quotaSet = h((req, ctx) => {
    const pid = req.params['pid']!;
    const defaults: Obj = { instances: 10, cores: 20, ram: 51200, key_pairs: 100, metadata_items: 128, server_groups: 10, server_group_members: 10 };
    if (req.method === 'PUT') {
      if (!ctx.isAdmin) fail(403, "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.");
      const b = isObj(req.body) && isObj(req.body['quota_set']) ? req.body['quota_set'] : {};
      return ok({ quota_set: { ...defaults, ...b } });
    }
    return ok({ quota_set: { id: pid, ...defaults } });
  });

  return [route('GET', '/os-quota-sets/:pid', quotaSet), route('PUT', '/os-quota-sets/:pid', quotaSet)];
}
