/**
 * Nova's migration records, live and cold: ids, the per-server index, what
 * counts as in progress, status changes, the copy's progress (progress.ts),
 * the destination claim in Placement, and freezing the moves of a host whose
 * compute service died. GET /os-migrations and GET /servers/{id}/migrations
 * (/{id}). The moves themselves are in live-migration.ts and cold-migration.ts.
 */
import type { Engine } from '../engine.js';
import type { Obj, Route } from '../http.js';
import { fail, route } from '../http.js';
import type { HostState, MigrationState, MigrationType, ModelTimings, RequestContext, ServerState, VmState } from '../model.js';
import { MB, vAtLeast } from '../model.js';
import type { Allocations } from '../placement/allocations.js';
import type { Rng } from '../rng.js';
import type { Wrap } from './api.js';
import { MAX_LIMIT, base, dbTime, limitMarker, naive, nextHref, ok } from './api.js';
import type { Progress } from './progress.js';
import { progress, startSegment } from './progress.js';
import type { Servers } from './servers.js';

/** The statuses in which a live or a cold migration is still in progress. */
const LIVE_IN_PROGRESS = ['accepted', 'queued', 'preparing', 'running', 'post-migrating'];
const COLD_IN_PROGRESS = ['pre-migrating', 'migrating', 'post-migrating', 'finished', 'confirming', 'reverting'];

/** Live migration statuses GET /servers/{id}/migrations shows (and os-migrations links to). */
const LIVE_SHOWN = ['queued', 'preparing', 'running', 'post-migrating'];

/** Statuses in which a dead compute service freezes a move. */
const FREEZABLE = ['preparing', 'running', 'post-migrating', 'pre-migrating', 'migrating'];

/** The `host` of a move action's body: null, or a host name (400 otherwise). */
export function hostArg(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || v.length < 1 || v.length > 255) return fail(400, `Invalid input for field/attribute host. Value: ${String(v)}. ${JSON.stringify(v)} is not of type 'string', 'null'`);
  return v;
}

export class Migrations {
  readonly byId = new Map<number, MigrationState>();
  /** server id -> its migration ids, oldest first */
  readonly byServer = new Map<string, number[]>();
  private nextId = 1;

  constructor(
    private readonly rng: Rng,
    readonly engine: Engine,
    private readonly timings: ModelTimings,
    private readonly hosts: Map<string, HostState>,
    private readonly placement: Allocations,
  ) {}

  get now(): number {
    return this.engine.now;
  }

  /** A new migration of `s` from its host (to `requested`, or the scheduler's choice). */
  create(s: ServerState, type: MigrationType, status: string, ctx: RequestContext, requested: string | null, prior: VmState): MigrationState {
    const memTotal = type === 'live-migration' ? s.flavor.ram * MB : 0;
    const diskTotal = type === 'live-migration' && !this.timings.sharedStorage ? (s.flavor.disk + s.flavor.ephemeral) * 1024 * MB : 0;
    const m: MigrationState = {
      id: this.nextId++,
      uuid: this.rng.uuid(),
      serverId: s.id,
      type,
      status,
      sourceCompute: s.host!,
      sourceNode: s.node!,
      destCompute: requested,
      destNode: requested ? (this.hosts.get(requested)?.hypervisorHostname ?? null) : null,
      destHost: null,
      requestedHost: requested,
      projectId: ctx.projectId,
      userId: ctx.userId,
      createdAt: this.now,
      updatedAt: this.now,
      requestId: ctx.requestId,
      memTotal,
      memProcessed: 0,
      memRemaining: memTotal,
      diskTotal,
      diskProcessed: 0,
      diskRemaining: diskTotal,
      seg: null,
      fault: null,
      timer: null,
      frozen: false,
      priorVmState: prior,
    };
    this.byId.set(m.id, m);
    const list = this.byServer.get(s.id) ?? [];
    list.push(m.id);
    this.byServer.set(s.id, list);
    return m;
  }

  inProgress(serverId: string): MigrationState[] {
    return (this.byServer.get(serverId) ?? [])
      .map((id) => this.byId.get(id)!)
      .filter((m) => (m.type === 'live-migration' ? LIVE_IN_PROGRESS : COLD_IN_PROGRESS).includes(m.status));
  }

  byUuid(uuid: string): MigrationState | undefined {
    for (const m of this.byId.values()) if (m.uuid === uuid) return m;
    return undefined;
  }

  /** Migration `mid` of server `s`, or 404 with `notFound(mid)`. */
  ofServer(s: ServerState, mid: string, notFound: (id: string) => string): MigrationState {
    const m = this.byId.get(Number(mid));
    if (!/^\d+$/.test(mid) || !m || m.serverId !== s.id) return fail(404, notFound(mid));
    return m;
  }

  setStatus(m: MigrationState, status: string): void {
    m.status = status;
    m.updatedAt = this.now;
  }

  /** Progress numbers at the current model time. */
  progress(m: MigrationState): Progress {
    return progress(m, this.now);
  }

  /**
   * Scheduling found `dest` (conductor's replace_allocation_with_migration):
   * the migration now holds the source allocation, the instance one on the
   * destination.
   */
  claim(s: ServerState, m: MigrationState, dest: HostState): void {
    this.placement.moveAllocations(s.id, m.uuid, 'MIGRATION');
    this.placement.allocate(s.id, dest, s.flavor, 'INSTANCE', s.projectId, s.userId);
    m.destCompute = dest.name;
    m.destNode = dest.hypervisorHostname;
    m.destHost = dest.address;
  }

  /** The compute service of `host` died: every move from or to it stops where it is. */
  freezeOn(host: string): void {
    for (const m of this.byId.values()) {
      if (m.frozen) continue;
      if (m.sourceCompute !== host && m.destCompute !== host) continue;
      if (!FREEZABLE.includes(m.status)) continue;
      m.frozen = true;
      if (m.status === 'running') startSegment(m, this.now, 0, 0, this.timings.maxDowntimeMs);
      this.engine.cancel(m.timer);
      m.timer = null;
    }
  }
}

export function migrationsRoutes(h: Wrap, migrations: Migrations, servers: Servers): Route[] {
  const migrationProgressView = (m: MigrationState, v: [number, number]) => {
    const p = migrations.progress(m);
    const copying = m.status === 'running' || m.status === 'post-migrating';
    const out: Obj = {
      created_at: naive(migrations.engine.wall(m.createdAt)),
      dest_compute: m.destCompute,
      dest_host: m.destHost,
      dest_node: m.destNode,
      // Before libvirt's job starts (queued, preparing) Nova has no figures: null, as the lab shows.
      disk_processed_bytes: copying ? (m.diskTotal ? p.diskP : 0) : null,
      disk_remaining_bytes: copying ? (m.diskTotal ? p.diskR : 0) : null,
      disk_total_bytes: copying ? m.diskTotal : null,
      id: m.id,
      memory_processed_bytes: copying ? p.memP : null,
      memory_remaining_bytes: copying ? p.memR : null,
      memory_total_bytes: copying ? m.memTotal : null,
      server_uuid: m.serverId,
      source_compute: m.sourceCompute,
      source_node: m.sourceNode,
      status: m.status,
      updated_at: naive(migrations.engine.wall(m.updatedAt)),
    };
    if (vAtLeast(v, 59)) out['uuid'] = m.uuid;
    if (vAtLeast(v, 80)) {
      out['user_id'] = m.userId;
      out['project_id'] = m.projectId;
    }
    return out;
  };

  const listServerMigrations = h(
    (req, ctx) => {
      const s = servers.get(req.params['id']!, ctx);
      const list = (migrations.byServer.get(s.id) ?? [])
        .map((id) => migrations.byId.get(id)!)
        .filter((m) => m.type === 'live-migration' && LIVE_SHOWN.includes(m.status));
      return ok({ migrations: list.map((m) => migrationProgressView(m, ctx.version)) });
    },
    { admin: 'os_compute_api:servers:migrations:index', minVersion: 23 },
  );

  const showServerMigration = h(
    (req, ctx) => {
      const s = servers.get(req.params['id']!, ctx);
      const mid = req.params['mid']!;
      const m = migrations.ofServer(s, mid, (id) => `In-progress live migration ${id} is not found for server ${s.id}.`);
      if (m.type !== 'live-migration') fail(404, `Migration ${mid} for server ${s.id} is not live-migration.`);
      if (!LIVE_SHOWN.includes(m.status)) fail(404, `Live migration ${mid} for server ${s.id} is not in progress.`);
      return ok({ migration: migrationProgressView(m, ctx.version) });
    },
    { admin: 'os_compute_api:servers:migrations:show', minVersion: 23 },
  );

  const listMigrations = h(
    (req, ctx) => {
      const v = ctx.version;
      const q = req.query;
      let list = [...migrations.byId.values()];
      const host = q.get('host');
      const source = q.get('source_compute');
      const status = q.getAll('status');
      const type = q.get('migration_type');
      const inst = q.get('instance_uuid');
      if (host) list = list.filter((m) => m.sourceCompute === host || m.destCompute === host);
      else if (source) list = list.filter((m) => m.sourceCompute === source);
      if (status.length > 0) list = list.filter((m) => status.includes(m.status));
      if (type) list = list.filter((m) => m.type === type);
      if (inst) list = list.filter((m) => m.serverId === inst);
      if (vAtLeast(v, 80)) {
        const u = q.get('user_id');
        const p = q.get('project_id');
        if (u) list = list.filter((m) => m.userId === u);
        if (p) list = list.filter((m) => m.projectId === p);
      }
      if (vAtLeast(v, 59)) {
        const cs = q.get('changes-since');
        if (cs) {
          const t = Date.parse(cs);
          if (Number.isNaN(t)) fail(400, `Invalid input for query parameters changes-since. Value: ${cs}. '${cs}' is not a 'date-time'`);
          list = list.filter((m) => dbTime(migrations.engine.wall(m.updatedAt)) >= t);
        }
        if (vAtLeast(v, 66)) {
          const cb = q.get('changes-before');
          if (cb) {
            const t = Date.parse(cb);
            if (Number.isNaN(t)) fail(400, `Invalid input for query parameters changes-before. Value: ${cb}. '${cb}' is not a 'date-time'`);
            list = list.filter((m) => dbTime(migrations.engine.wall(m.updatedAt)) <= t);
          }
        }
      }
      let linksOut: Obj[] | undefined;
      if (vAtLeast(v, 59)) {
        list.sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
        const { limit, marker } = limitMarker(req);
        if (marker !== null) {
          const idx = list.findIndex((m) => m.uuid === marker);
          if (idx < 0) fail(400, `Marker ${marker} could not be found.`);
          list = list.slice(idx + 1);
        }
        list = list.slice(0, limit);
        const maxItems = Math.min(Number(q.get('limit') ?? MAX_LIMIT), MAX_LIMIT);
        if (maxItems && list.length === maxItems) linksOut = [{ rel: 'next', href: nextHref(req, list[list.length - 1]!.uuid) }];
      } else list.sort((a, b) => a.id - b.id);
      const body: Obj = {
        migrations: list.map((m) => {
          const o: Obj = {
            created_at: naive(migrations.engine.wall(m.createdAt)),
            dest_compute: m.destCompute,
            dest_host: m.destHost,
            dest_node: m.destNode,
            id: m.id,
            instance_uuid: m.serverId,
            new_instance_type_id: 1,
            old_instance_type_id: 1,
            source_compute: m.sourceCompute,
            source_node: m.sourceNode,
            status: m.status,
            updated_at: naive(migrations.engine.wall(m.updatedAt)),
          };
          if (vAtLeast(v, 23)) {
            o['migration_type'] = m.type;
            if (m.type === 'live-migration' && LIVE_SHOWN.includes(m.status)) {
              o['links'] = [
                { rel: 'self', href: `${base(req)}/servers/${m.serverId}/migrations/${m.id}` },
                { rel: 'bookmark', href: `${req.baseUrl}/compute/servers/${m.serverId}/migrations/${m.id}` },
              ];
            }
          }
          if (vAtLeast(v, 59)) o['uuid'] = m.uuid;
          if (vAtLeast(v, 80)) {
            o['user_id'] = m.userId;
            o['project_id'] = m.projectId;
          }
          return o;
        }),
      };
      if (linksOut) body['migrations_links'] = linksOut;
      return ok(body);
    },
    { admin: 'os_compute_api:os-migrations:index' },
  );

  return [
    route('GET', '/servers/:id/migrations', listServerMigrations),
    route('GET', '/servers/:id/migrations/:mid', showServerMigration),
    route('GET', '/os-migrations', listMigrations),
  ];
}
