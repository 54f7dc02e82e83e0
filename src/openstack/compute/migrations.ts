/** Migrations: the per-server in-progress view (2.22-2.24+) and GET /os-migrations. */
import type { Accepted, CallOptions, MigrationQuery } from '../api.js';
import type { Migration, ServerMigration } from '../types.js';
import { HostmaintError } from '../../core/errors.js';
import { getAllPages, getJson, rethrowConflict, type ComputeContext, type Query } from './context.js';
import { pick, toMigration, toServerMigration, type WireMigration, type WireServerMigration } from './wire.js';

export const FORCE_COMPLETE_MICROVERSION = '2.22';
export const SERVER_MIGRATIONS_MICROVERSION = '2.23';
export const ABORT_MIGRATION_MICROVERSION = '2.24';
/** os-migrations: paging (limit/marker), changes-since, uuid in rows. */
export const MIGRATIONS_PAGING_MICROVERSION = '2.59';

function need(ctx: ComputeContext, version: string, what: string): void {
  if (!ctx.client.atLeast(version)) {
    throw new HostmaintError('not-acceptable', `${what} needs compute microversion ${version}; this cloud speaks ${ctx.client.microversion ?? 'unknown'}.`, {
      details: { needed: version, have: ctx.client.microversion },
    });
  }
}

function base(serverId: string): string {
  return `/servers/${encodeURIComponent(serverId)}/migrations`;
}

export async function listServerMigrations(ctx: ComputeContext, serverId: string, opts?: CallOptions): Promise<ServerMigration[]> {
  need(ctx, SERVER_MIGRATIONS_MICROVERSION, 'Listing a server\'s migrations');
  const data = await getJson(ctx, base(serverId), undefined, opts);
  return pick<WireServerMigration[]>(data, 'migrations', 'array', 'GET /servers/{id}/migrations').map(toServerMigration);
}

/** Only an in-progress live migration (queued, preparing, running, post-migrating) is found; any other is a 404 (not-found). */
export async function getServerMigration(ctx: ComputeContext, serverId: string, migrationId: number, opts?: CallOptions): Promise<ServerMigration> {
  need(ctx, SERVER_MIGRATIONS_MICROVERSION, 'Reading a server migration');
  const data = await getJson(ctx, `${base(serverId)}/${migrationId}`, undefined, opts);
  return toServerMigration(pick<WireServerMigration>(data, 'migration', 'object', 'GET /servers/{id}/migrations/{mid}'));
}

export async function forceCompleteMigration(ctx: ComputeContext, serverId: string, migrationId: number, opts?: CallOptions): Promise<Accepted> {
  need(ctx, FORCE_COMPLETE_MICROVERSION, 'Force-completing a live migration');
  try {
    const res = await ctx.client.request({ method: 'POST', path: `${base(serverId)}/${migrationId}/action`, body: { force_complete: null }, idempotent: false, signal: opts?.signal });
    return { requestId: res.requestId };
  } catch (e) {
    return rethrowConflict(e);
  }
}

export async function abortMigration(ctx: ComputeContext, serverId: string, migrationId: number, opts?: CallOptions): Promise<Accepted> {
  need(ctx, ABORT_MIGRATION_MICROVERSION, 'Aborting a live migration');
  try {
    const res = await ctx.client.request({ method: 'DELETE', path: `${base(serverId)}/${migrationId}`, idempotent: false, signal: opts?.signal });
    return { requestId: res.requestId };
  } catch (e) {
    return rethrowConflict(e);
  }
}

/**
 * GET /os-migrations with only documented filters. From 2.59: paging with
 * limit/marker (marker = migration uuid, newest first) and changes-since;
 * before, changes-since is dropped with a debug log (Nova would ignore it).
 */
export async function listMigrations(ctx: ComputeContext, query: MigrationQuery, opts?: CallOptions): Promise<Migration[]> {
  const paged = ctx.client.atLeast(MIGRATIONS_PAGING_MICROVERSION);
  const q: Query = {};
  if (query.host !== undefined) q.host = query.host;
  if (query.sourceCompute !== undefined) q.source_compute = query.sourceCompute;
  if (query.migrationType !== undefined) q.migration_type = query.migrationType;
  if (query.status !== undefined) q.status = query.status;
  if (query.instanceUuid !== undefined) q.instance_uuid = query.instanceUuid;
  if (query.changesSince !== undefined) {
    if (paged) q['changes-since'] = query.changesSince;
    else ctx.logger.debug('changes-since needs compute microversion 2.59; listing all migrations', { microversion: ctx.client.microversion });
  }
  const wire = await getAllPages<WireMigration>(ctx, { path: '/os-migrations', query: q, key: 'migrations', linksKey: 'migrations_links', paged, opts });
  return wire.map((w) => toMigration(w, query.migrationType));
}
