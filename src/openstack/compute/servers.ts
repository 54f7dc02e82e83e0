/** Servers: list (all states, all projects, paged), get, and the move actions. */
import { HostmaintError } from '../../core/errors.js';
import type { Accepted, CallOptions } from '../api.js';
import type { Server, ServerFlavor } from '../types.js';
import { getAllPages, getJson, rethrowConflict, type ComputeContext, type Query } from './context.js';
import { resolveServerFlavor } from './flavors.js';
import { isEmbeddedFlavor, pick, toServer, type WireServer } from './wire.js';

export const EMBEDDED_FLAVOR_MICROVERSION = '2.47';
export const LIVE_MIGRATE_AUTO_BLOCK_MICROVERSION = '2.25';
export const COLD_MIGRATE_HOST_MICROVERSION = '2.56';

export interface ServerQuery {
  allProjects?: boolean;
  host?: string;
  status?: string;
  name?: string;
  projectId?: string;
  /** With status SOFT_DELETED: the soft-deleted ones (deleted=true, admin-only), as listServersOnHost asks. */
  deleted?: boolean;
}

/**
 * Every server on `host`, all projects, every state, following pagination:
 * GET /servers/detail?all_tenants=1&host=H. Nova returns every non-deleted
 * state without a `status` filter, except SOFT_DELETED (the DB query drops
 * soft-deleted rows unless asked), yet a soft-deleted server still sits on its
 * host with allocations until it is reclaimed. So a second query asks for those:
 * status=SOFT_DELETED&deleted=true (admin-only, documented filters).
 */
export async function listServersOnHost(ctx: ComputeContext, host: string, opts?: CallOptions): Promise<Server[]> {
  const live = await listWire(ctx, { all_tenants: '1', host }, opts);
  const soft = await listWire(ctx, { all_tenants: '1', host, status: 'SOFT_DELETED', deleted: 'true' }, opts);
  const ids = new Set(live.map((s) => s.id));
  return translate(ctx, [...live, ...soft.filter((s) => !ids.has(s.id))], opts);
}

export async function listServers(ctx: ComputeContext, query: ServerQuery, opts?: CallOptions): Promise<Server[]> {
  const q: Query = {};
  if (query.allProjects) q.all_tenants = '1';
  if (query.host !== undefined) q.host = query.host;
  if (query.status !== undefined) q.status = query.status;
  if (query.name !== undefined) q.name = query.name;
  if (query.deleted === true) q.deleted = 'true';
  // tenant_id only counts with all_tenants (Nova ignores it otherwise).
  if (query.projectId !== undefined) {
    q.all_tenants = '1';
    q.tenant_id = query.projectId;
  }
  return translate(ctx, await listWire(ctx, q, opts), opts);
}

export async function getServer(ctx: ComputeContext, id: string, opts?: CallOptions): Promise<Server> {
  const data = await getJson(ctx, `/servers/${encodeURIComponent(id)}`, undefined, opts);
  const [server] = await translate(ctx, [pick<WireServer>(data, 'server', 'object', 'GET /servers/{id}')], opts);
  return server!;
}

function listWire(ctx: ComputeContext, query: Query, opts: CallOptions | undefined): Promise<WireServer[]> {
  return getAllPages<WireServer>(ctx, { path: '/servers/detail', query, key: 'servers', linksKey: 'servers_links', paged: true, opts });
}

/** Before 2.47 a server only names its flavor's id: fetch each distinct flavor once (cached per client). */
async function translate(ctx: ComputeContext, wire: WireServer[], opts: CallOptions | undefined): Promise<Server[]> {
  const flavors = new Map<string, ServerFlavor>();
  for (const w of wire) {
    const id = w.flavor?.id;
    if (!isEmbeddedFlavor(w.flavor) && typeof id === 'string' && !flavors.has(id)) {
      flavors.set(id, await resolveServerFlavor(ctx, id, opts));
    }
  }
  return wire.map((w) => {
    const id = w.flavor?.id;
    return toServer(w, !isEmbeddedFlavor(w.flavor) && typeof id === 'string' ? flavors.get(id) : undefined);
  });
}

async function action(ctx: ComputeContext, id: string, body: unknown, opts: CallOptions | undefined): Promise<Accepted> {
  try {
    const res = await ctx.client.request({ method: 'POST', path: `/servers/${encodeURIComponent(id)}/action`, body, idempotent: false, signal: opts?.signal });
    return { requestId: res.requestId };
  } catch (e) {
    return rethrowConflict(e);
  }
}

/**
 * os-migrateLive. From 2.25: block_migration "auto", no disk_over_commit.
 * Before: block_migration false, disk_over_commit false (shared storage assumed,
 * Nova's own default). `force` is never sent: a named host is still checked
 * by the scheduler (2.30+). A timeout comes back as `unknown-outcome` untouched.
 */
export function liveMigrate(ctx: ComputeContext, id: string, args: { host?: string | null }, opts?: CallOptions): Promise<Accepted> {
  const host = args.host ?? null;
  const body = ctx.client.atLeast(LIVE_MIGRATE_AUTO_BLOCK_MICROVERSION)
    ? { 'os-migrateLive': { host, block_migration: 'auto' } }
    : { 'os-migrateLive': { host, block_migration: false, disk_over_commit: false } };
  return action(ctx, id, body, opts);
}

/** migrate action; a target host needs 2.56 (refused here before sending otherwise). */
export function coldMigrate(ctx: ComputeContext, id: string, args: { host?: string | null }, opts?: CallOptions): Promise<Accepted> {
  const host = args.host ?? null;
  if (host !== null && !ctx.client.atLeast(COLD_MIGRATE_HOST_MICROVERSION)) {
    return Promise.reject(
      new HostmaintError('bad-request', `Cold migration to a named host needs compute microversion ${COLD_MIGRATE_HOST_MICROVERSION}; this cloud speaks ${ctx.client.microversion ?? 'unknown'}.`, {
        hint: 'Let the scheduler choose (no target host) on this cloud.',
        details: { serverId: id, host },
      }),
    );
  }
  return action(ctx, id, { migrate: host === null ? null : { host } }, opts);
}

export function confirmResize(ctx: ComputeContext, id: string, opts?: CallOptions): Promise<Accepted> {
  return action(ctx, id, { confirmResize: null }, opts);
}

export function shelveOffload(ctx: ComputeContext, id: string, opts?: CallOptions): Promise<Accepted> {
  return action(ctx, id, { shelveOffload: null }, opts);
}

/** POST /servers/{id}/action {"os-stop": null}: a graceful shutdown, then SHUTOFF (409 unless ACTIVE or ERROR). */
export function stopServer(ctx: ComputeContext, id: string, opts?: CallOptions): Promise<Accepted> {
  return action(ctx, id, { 'os-stop': null }, opts);
}

/** POST /servers/{id}/action {"os-start": null}: SHUTOFF to ACTIVE (409 unless SHUTOFF). */
export function startServer(ctx: ComputeContext, id: string, opts?: CallOptions): Promise<Accepted> {
  return action(ctx, id, { 'os-start': null }, opts);
}
