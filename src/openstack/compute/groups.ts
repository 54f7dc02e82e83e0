/** Server groups: offset paging (Nova's `limited()`: limit + offset, no links). */
import type { CallOptions } from '../api.js';
import type { ServerGroup } from '../types.js';
import { getJson, type ComputeContext, type Query } from './context.js';
import { pick, toServerGroup, type WireServerGroup } from './wire.js';

export async function listServerGroups(ctx: ComputeContext, opts?: CallOptions & { allProjects?: boolean }): Promise<ServerGroup[]> {
  const out: WireServerGroup[] = [];
  for (let offset = 0; ; offset += ctx.pageSize) {
    const q: Query = { limit: ctx.pageSize, offset };
    if (opts?.allProjects !== false) q.all_projects = 'true';
    const page = pick<WireServerGroup[]>(await getJson(ctx, '/os-server-groups', q, opts), 'server_groups', 'array', 'GET /os-server-groups');
    out.push(...page);
    if (page.length < ctx.pageSize) break;
  }
  return out.map(toServerGroup);
}

export async function getServerGroup(ctx: ComputeContext, id: string, opts?: CallOptions): Promise<ServerGroup> {
  const data = await getJson(ctx, `/os-server-groups/${encodeURIComponent(id)}`, undefined, opts);
  return toServerGroup(pick<WireServerGroup>(data, 'server_group', 'object', 'GET /os-server-groups/{id}'));
}
