/**
 * Server groups (the scenario's, and those POSTed): their policy
 * (anti-affinity with max_server_per_host, affinity, soft-*) constrains the
 * scheduler; GET/POST/DELETE /os-server-groups.
 */
import type { Obj, Route } from '../http.js';
import { fail, isObj, route } from '../http.js';
import type { Identity } from '../keystone.js';
import { vAtLeast } from '../model.js';
import type { Rng } from '../rng.js';
import type { Scenario } from '../scenario.js';
import type { Wrap } from './api.js';
import { boolFromString, limitMarker, ok } from './api.js';
import type { Servers } from './servers.js';

export interface ServerGroupState {
  id: string;
  name: string;
  policy: 'anti-affinity' | 'affinity' | 'soft-anti-affinity' | 'soft-affinity';
  projectId: string;
  userId: string;
  members: string[];
  maxServerPerHost: number | null;
}

export class ServerGroups {
  readonly byId = new Map<string, ServerGroupState>();

  constructor(
    sc: Scenario,
    private readonly rng: Rng,
    identity: Identity,
  ) {
    for (const g of sc.server_groups ?? []) {
      const proj = g.project ? identity.projectByName(g.project)! : identity.adminProject;
      const id = g.id ?? rng.uuid();
      this.byId.set(id, {
        id,
        name: g.name,
        policy: g.policy,
        projectId: proj.id,
        userId: identity.userOfProject(proj.id).id,
        members: [],
        maxServerPerHost: g.max_server_per_host ?? null,
      });
    }
  }

  create(name: string, policy: ServerGroupState['policy'], projectId: string, userId: string, maxServerPerHost: number | null): ServerGroupState {
    const g: ServerGroupState = { id: this.rng.uuid(), name, policy, projectId, userId, members: [], maxServerPerHost };
    this.byId.set(g.id, g);
    return g;
  }
}

export function groupsRoutes(h: Wrap, groups: ServerGroups, servers: Servers): Route[] {
  const groupView = (g: ServerGroupState, v: [number, number]) => {
    const o: Obj = { id: g.id, name: g.name, members: g.members.filter((m) => !servers.byId.get(m)?.deleted), metadata: {} };
    if (vAtLeast(v, 64)) {
      o['policy'] = g.policy;
      o['rules'] = g.policy === 'anti-affinity' && g.maxServerPerHost ? { max_server_per_host: g.maxServerPerHost } : {};
      delete o['metadata'];
    } else o['policies'] = [g.policy];
    if (vAtLeast(v, 13)) {
      o['project_id'] = g.projectId;
      o['user_id'] = g.userId;
    }
    return o;
  };

  const listGroups = h((req, ctx) => {
    const all = req.query.has('all_projects') && ctx.isAdmin && boolFromString(req.query.get('all_projects') || 'true', false);
    const list = [...groups.byId.values()].filter((g) => all || g.projectId === ctx.projectId);
    const { limit } = limitMarker(req);
    const offset = Number(req.query.get('offset') ?? 0) || 0;
    return ok({ server_groups: list.slice(offset, offset + limit).map((g) => groupView(g, ctx.version)) });
  });

  const showGroup = h((req, ctx) => {
    const g = groups.byId.get(req.params['id']!);
    if (!g || (!ctx.isAdmin && g.projectId !== ctx.projectId)) return fail(404, `Instance group ${req.params['id']} could not be found.`);
    return ok({ server_group: groupView(g, ctx.version) });
  });

  const createGroup = h((req, ctx) => {
    const b = req.body;
    if (!isObj(b) || !isObj(b['server_group'])) return fail(400, "Invalid input for field/attribute server_group. 'server_group' is a required property");
    const sg = b['server_group'];
    if (typeof sg['name'] !== 'string' || sg['name'].length < 1 || sg['name'].length > 255) fail(400, "Invalid input for field/attribute name. 'name' is a required property");
    let policy: unknown;
    if (vAtLeast(ctx.version, 64)) {
      if (sg['policies'] !== undefined) fail(400, "Invalid input for field/attribute server_group. Additional properties are not allowed ('policies' was unexpected)");
      policy = sg['policy'];
    } else {
      if (!Array.isArray(sg['policies']) || sg['policies'].length !== 1) fail(400, "Invalid input for field/attribute policies. 'policies' is a required property");
      policy = (sg['policies'] as unknown[])[0];
    }
    const allowed = ['anti-affinity', 'affinity', ...(vAtLeast(ctx.version, 15) ? ['soft-anti-affinity', 'soft-affinity'] : [])];
    if (typeof policy !== 'string' || !allowed.includes(policy)) fail(400, `Invalid input for field/attribute policy. Value: ${String(policy)}. '${String(policy)}' is not one of ${JSON.stringify(allowed)}`);
    const rules = isObj(sg['rules']) ? sg['rules'] : {};
    const max = typeof rules['max_server_per_host'] === 'number' ? rules['max_server_per_host'] : null;
    const g = groups.create(sg['name'] as string, policy as 'anti-affinity', ctx.projectId, ctx.userId, max);
    return ok({ server_group: groupView(g, ctx.version) });
  });

  const deleteGroup = h((req, ctx) => {
    const g = groups.byId.get(req.params['id']!);
    if (!g || (!ctx.isAdmin && g.projectId !== ctx.projectId)) return fail(404, `Instance group ${req.params['id']} could not be found.`);
    groups.byId.delete(g.id);
    for (const s of servers.byId.values()) if (s.groupId === g.id) s.groupId = null;
    return { status: 204 };
  });

  return [
    route('GET', '/os-server-groups', listGroups),
    route('GET', '/os-server-groups/:id', showGroup),
    route('POST', '/os-server-groups', createGroup),
    route('DELETE', '/os-server-groups/:id', deleteGroup),
  ];
}
