/**
 * Emulated Nova compute API (v2.1 with microversions up to the scenario's
 * maximum, 2.93 by default). Wire shapes, status codes and messages follow
 * nova/api/openstack/compute/*.py of nova 26 (Zed).
 */
import type { EmuRequest, EmuResponse, Obj, Route } from './http.js';
import { fail, isObj, route } from './http.js';
import type { TokenStore } from './keystone.js';
import { MAX_LIMIT, accepted, base, computeWrap, limitMarker, links, naive, nextHref, ok, versionDoc, versionList } from './compute/api.js';
import type { Cloud } from './cloud.js';
import { actionsRoutes } from './compute/actions.js';
import { groupsRoutes } from './compute/groups.js';
import { hypervisorsRoutes } from './compute/hypervisors.js';
import { quotasRoutes } from './compute/quotas.js';
import { checkLock, checkState, conflictState, serversRoutes } from './compute/servers.js';
import { servicesRoutes } from './compute/services.js';
import { zonesRoutes } from './compute/zones.js';
import { aggregatesRoutes } from './compute/aggregates.js';
import { flavorsRoutes } from './compute/flavors.js';
import { novaImagesRoutes } from './images.js';
import type { MigrationState, ServerState, VmState } from './model.js';
import { COLD_IN_PROGRESS, LIVE_IN_PROGRESS, POWER, vAtLeast } from './model.js';

export function novaRoutes(cloud: Cloud, tokens: TokenStore): { routes: Route[]; versions: (req: EmuRequest) => EmuResponse } {
  const h = computeWrap(cloud.maxComputeVersion, tokens);

  // ------------------------------------------------------------------ servers

  const createServer = h((req, ctx) => {
    const b = req.body;
    if (!isObj(b) || !isObj(b['server'])) return fail(400, "Invalid input for field/attribute server. Value: None. 'server' is a required property");
    const sv = b['server'];
    if (typeof sv['name'] !== 'string' || sv['name'].length < 1 || sv['name'].length > 255) fail(400, "Invalid input for field/attribute name. 'name' is a required property");
    if (typeof sv['flavorRef'] !== 'string' && typeof sv['flavorRef'] !== 'number') fail(400, "Invalid input for field/attribute flavorRef. 'flavorRef' is a required property");
    if (vAtLeast(ctx.version, 37) && sv['networks'] === undefined) fail(400, "Invalid input for field/attribute server. Value: ... 'networks' is a required property");
    const flavor = cloud.flavors.find(String(sv['flavorRef'])) ?? fail(400, `Flavor ${String(sv['flavorRef'])} could not be found.`);
    const imageRef = typeof sv['imageRef'] === 'string' ? sv['imageRef'] : '';
    const imgId = imageRef.includes('/') ? imageRef.slice(imageRef.lastIndexOf('/') + 1) : imageRef;
    const image = cloud.images.byId.get(imgId) ?? [...cloud.images.byId.values()].find((i) => i.name === imgId);
    if (!image) fail(400, imageRef ? `Image ${imageRef} could not be found.` : 'Can not find requested image');
    let az: string | null = null;
    let forced: string | null = null;
    if (typeof sv['availability_zone'] === 'string' && sv['availability_zone']) {
      const [zone = '', hostPart] = sv['availability_zone'].split(':');
      if (hostPart !== undefined && hostPart !== '') {
        if (!ctx.isAdmin) fail(403, "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.");
        if (!cloud.hosts.has(hostPart)) fail(400, `Compute host ${hostPart} could not be found.`);
        forced = hostPart;
      }
      if (zone) {
        const zones = new Set([...cloud.hosts.values()].map((x) => x.az));
        if (!zones.has(zone)) fail(400, `The requested availability zone is not available`);
        az = zone;
      }
    }
    let groupId: string | null = null;
    const hints = b['os:scheduler_hints'] ?? b['OS-SCH-HNT:scheduler_hints'];
    if (isObj(hints) && typeof hints['group'] === 'string') {
      if (!cloud.groups.byId.has(hints['group'])) fail(400, `Invalid input for field/attribute group. Value: ${hints['group']}. Group ${hints['group']} could not be found.`);
      groupId = hints['group'];
    }
    const metadata: Record<string, string> = {};
    if (isObj(sv['metadata'])) for (const [k, val] of Object.entries(sv['metadata'])) metadata[k] = String(val);
    const s = cloud.boot({ name: sv['name'] as string, flavor, imageId: image!.id, ctx, az, forcedHost: forced, metadata, groupId });
    return ok(
      {
        server: {
          id: s.id,
          links: links(req, 'servers', s.id),
          'OS-DCF:diskConfig': 'MANUAL',
          security_groups: [{ name: 'default' }],
          adminPass: cloud.rng.hex(12),
        },
      },
      202,
    );
  });

  const deleteServer = h((req, ctx) => {
    const s = cloud.instances.get(req.params['id']!, ctx);
    if (s.locked && !ctx.isAdmin) fail(409, `Instance ${s.id} is locked`);
    if (s.taskState === 'deleting') return { status: 204 };
    cloud.deleteServer(s, ctx);
    return { status: 204 };
  });

  // ------------------------------------------------------------------ actions

  const hostArg = (v: unknown): string | null => {
    if (v === null || v === undefined) return null;
    if (typeof v !== 'string' || v.length < 1 || v.length > 255) return fail(400, `Invalid input for field/attribute host. Value: ${String(v)}. ${JSON.stringify(v)} is not of type 'string', 'null'`);
    return v;
  };

  const serverAction = h((req, ctx) => {
    const s = cloud.instances.get(req.params['id']!, ctx);
    const b = req.body;
    if (!isObj(b) || Object.keys(b).length !== 1) return fail(400, 'There is either no action or more than one action in the request body.');
    const action = Object.keys(b)[0]!;
    const arg = b[action];
    const v = ctx.version;
    const simple = (name: string, vm: VmState[], task: string, endVm: VmState, power: number, event: string) => {
      checkLock(s, ctx);
      checkState(name, s, vm);
      cloud.simpleAction(s, ctx, name, task, () => {
        s.vmState = endVm;
        s.powerState = power;
      }, event);
      return accepted();
    };
    switch (action) {
      case 'os-migrateLive': {
        if (!ctx.isAdmin && !cloud.membersCanMigrate) fail(403, "Policy doesn't allow os_compute_api:os-migrate-server:migrate_live to be performed.");
        if (!isObj(arg)) return fail(400, "Invalid input for field/attribute os-migrateLive. Value: None. None is not of type 'object'");
        const allowed = ['host', 'block_migration', ...(vAtLeast(v, 25) ? [] : ['disk_over_commit']), ...(vAtLeast(v, 30) && !vAtLeast(v, 68) ? ['force'] : [])];
        for (const k of Object.keys(arg)) if (!allowed.includes(k)) fail(400, `Invalid input for field/attribute os-migrateLive. Value: ${JSON.stringify(arg)}. Additional properties are not allowed ('${k}' was unexpected)`);
        for (const k of ['block_migration', 'host', ...(vAtLeast(v, 25) ? [] : ['disk_over_commit'])]) {
          if (!(k in arg)) fail(400, `Invalid input for field/attribute os-migrateLive. Value: ${JSON.stringify(arg)}. '${k}' is a required property`);
        }
        const bm = arg['block_migration'];
        const okBm = typeof bm === 'boolean' || (typeof bm === 'string' && (['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(bm.toLowerCase()) || (bm === 'auto' && vAtLeast(v, 25))));
        if (!okBm) fail(400, `Invalid input for field/attribute block_migration. Value: ${String(bm)}. ${JSON.stringify(bm)} is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'${vAtLeast(v, 25) ? ", 'auto'" : ''}]`);
        const host = hostArg(arg['host']);
        if (arg['force'] === true && !host) fail(400, "Can't force to a non-provided destination");
        checkLock(s, ctx);
        checkState('os-migrateLive', s, ['active', 'paused']);
        if (host !== null && !cloud.hosts.has(host)) fail(400, `Compute host ${host} could not be found.`);
        if (!vAtLeast(v, 34)) {
          // Before 2.34 the pre-checks are synchronous: NoValidHost and friends are 400s.
          const src = cloud.hosts.get(s.host!)!;
          if (host === s.host) fail(400, `Unable to migrate instance (${s.id}) to current host (${s.host}).`);
          if (!cloud.services.serviceIsUp(src)) fail(400, `Compute service of ${src.name} is unavailable at this time.`);
          if (!cloud.schedule(s, { exclude: s.host, requested: host })) fail(400, 'No valid host was found. ');
        }
        cloud.liveMigrate(s, ctx, arg['force'] === true ? host : host);
        return accepted();
      }
      case 'migrate': {
        if (!ctx.isAdmin && !cloud.membersCanMigrate) fail(403, "Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed.");
        let host: string | null = null;
        if (vAtLeast(v, 56)) {
          if (arg !== null && !isObj(arg)) fail(400, `Invalid input for field/attribute migrate. Value: ${String(arg)}. ${JSON.stringify(arg)} is not of type 'object', 'null'`);
          if (isObj(arg)) {
            for (const k of Object.keys(arg)) if (k !== 'host') fail(400, `Invalid input for field/attribute migrate. Additional properties are not allowed ('${k}' was unexpected)`);
            host = hostArg(arg['host']);
          }
        }
        checkLock(s, ctx);
        checkState('migrate', s, ['active', 'stopped']);
        if (host !== null) {
          if (!cloud.hosts.has(host)) fail(400, `Compute host ${host} could not be found.`);
          if (host === s.host) fail(400, 'The target host can\'t be the same one.');
        }
        cloud.coldMigrate(s, ctx, host);
        return accepted();
      }
      case 'confirmResize': {
        checkLock(s, ctx);
        checkState('confirmResize', s, ['resized'], null);
        const m = cloud.inProgressMigrations(s.id).find((x) => x.type === 'migration' && x.status === 'finished');
        if (!m) fail(400, 'Instance has not been resized.');
        cloud.confirmResize(s, m!, ctx);
        return { status: 204 };
      }
      case 'os-stop':
        return simple('stop', ['active', 'error'], 'powering-off', 'stopped', POWER.SHUTDOWN, 'compute_stop_instance');
      case 'os-start':
        return simple('start', ['stopped'], 'powering-on', 'active', POWER.RUNNING, 'compute_start_instance');
      case 'pause':
        return simple('pause', ['active'], 'pausing', 'paused', POWER.PAUSED, 'compute_pause_instance');
      case 'unpause':
        return simple('unpause', ['paused'], 'unpausing', 'active', POWER.RUNNING, 'compute_unpause_instance');
      case 'suspend':
        return simple('suspend', ['active'], 'suspending', 'suspended', POWER.SUSPENDED, 'compute_suspend_instance');
      case 'resume':
        return simple('resume', ['suspended'], 'resuming', 'active', POWER.RUNNING, 'compute_resume_instance');
      case 'shelve':
        return simple('shelve', ['active', 'stopped', 'paused', 'suspended'], 'shelving', 'shelved', POWER.SHUTDOWN, 'compute_shelve_instance');
      case 'shelveOffload': {
        if (!ctx.isAdmin) fail(403, "Policy doesn't allow os_compute_api:os-shelve:shelve_offload to be performed.");
        checkLock(s, ctx);
        checkState('shelveOffload', s, ['shelved']);
        cloud.simpleAction(s, ctx, 'shelveOffload', 'shelving_offloading', () => cloud.shelveOffload(s), 'compute_shelve_offload_instance');
        return accepted();
      }
      case 'lock': {
        let reason: string | null = null;
        if (isObj(arg) && vAtLeast(v, 73) && typeof arg['locked_reason'] === 'string') reason = arg['locked_reason'];
        s.locked = true;
        s.lockedReason = reason;
        s.lockedByAdmin = ctx.isAdmin;
        s.updatedAt = cloud.now;
        cloud.actions.record(s, 'lock', ctx.requestId, ctx.userId, ctx.projectId);
        return accepted();
      }
      case 'unlock': {
        if (s.locked && s.lockedByAdmin && !ctx.isAdmin) fail(403, "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.");
        s.locked = false;
        s.lockedReason = null;
        s.updatedAt = cloud.now;
        cloud.actions.record(s, 'unlock', ctx.requestId, ctx.userId, ctx.projectId);
        return accepted();
      }
      default:
        return fail(400, `There is no such action: ${action}`);
    }
  });

  // ------------------------------------------------------------------ server migrations

  const migrationProgressView = (m: MigrationState, v: [number, number]) => {
    const p = cloud.progress(m);
    const out: Obj = {
      created_at: naive(m.createdAt),
      dest_compute: m.destCompute,
      dest_host: m.destHost,
      dest_node: m.destNode,
      disk_processed_bytes: m.diskTotal ? p.diskP : 0,
      disk_remaining_bytes: m.diskTotal ? p.diskR : 0,
      disk_total_bytes: m.diskTotal,
      id: m.id,
      memory_processed_bytes: m.status === 'running' || m.status === 'post-migrating' ? p.memP : 0,
      memory_remaining_bytes: m.status === 'running' || m.status === 'post-migrating' ? p.memR : m.memTotal,
      memory_total_bytes: m.memTotal,
      server_uuid: m.serverId,
      source_compute: m.sourceCompute,
      source_node: m.sourceNode,
      status: m.status,
      updated_at: naive(m.updatedAt),
    };
    if (vAtLeast(v, 59)) out['uuid'] = m.uuid;
    if (vAtLeast(v, 80)) {
      out['user_id'] = m.userId;
      out['project_id'] = m.projectId;
    }
    return out;
  };

  const LIVE_SHOWN = ['queued', 'preparing', 'running', 'post-migrating'];

  const listServerMigrations = h(
    (req, ctx) => {
      const s = cloud.instances.get(req.params['id']!, ctx);
      const list = (cloud.migrationsByServer.get(s.id) ?? [])
        .map((id) => cloud.migrations.get(id)!)
        .filter((m) => m.type === 'live-migration' && LIVE_SHOWN.includes(m.status));
      return ok({ migrations: list.map((m) => migrationProgressView(m, ctx.version)) });
    },
    { admin: 'os_compute_api:servers:migrations:index', minVersion: 23 },
  );

  const findServerMigration = (s: ServerState, mid: string, notFound: (id: string) => string): MigrationState => {
    const m = cloud.migrations.get(Number(mid));
    if (!/^\d+$/.test(mid) || !m || m.serverId !== s.id) return fail(404, notFound(mid));
    return m;
  };

  const showServerMigration = h(
    (req, ctx) => {
      const s = cloud.instances.get(req.params['id']!, ctx);
      const mid = req.params['mid']!;
      const m = findServerMigration(s, mid, (id) => `In-progress live migration ${id} is not found for server ${s.id}.`);
      if (m.type !== 'live-migration') fail(404, `Migration ${mid} for server ${s.id} is not live-migration.`);
      if (!LIVE_SHOWN.includes(m.status)) fail(404, `Live migration ${mid} for server ${s.id} is not in progress.`);
      return ok({ migration: migrationProgressView(m, ctx.version) });
    },
    { admin: 'os_compute_api:servers:migrations:show', minVersion: 23 },
  );

  const forceComplete = h(
    (req, ctx) => {
      const s = cloud.instances.get(req.params['id']!, ctx);
      const b = req.body;
      if (!isObj(b) || !('force_complete' in b) || b['force_complete'] !== null || Object.keys(b).length !== 1) {
        fail(400, "Invalid input for field/attribute force_complete. 'force_complete' is a required property");
      }
      const mid = req.params['mid']!;
      checkLock(s, ctx);
      checkState('force_complete', s, ['active'], ['migrating']);
      const m = findServerMigration(s, mid, (id) => `Migration ${id} not found for instance ${s.id}`);
      if (m.type !== 'live-migration') fail(400, `Migration ${mid} not found for instance ${s.id}`);
      if (m.status !== 'running') fail(400, `Migration ${mid} state of instance ${s.id} is ${m.status}. Cannot force complete while the migration is in this state.`);
      cloud.forceComplete(s, m, ctx);
      return accepted();
    },
    { admin: 'os_compute_api:servers:migrations:force_complete', minVersion: 22 },
  );

  const abortMigration = h(
    (req, ctx) => {
      const s = cloud.instances.get(req.params['id']!, ctx);
      const mid = req.params['mid']!;
      checkLock(s, ctx);
      if (s.taskState !== 'migrating') conflictState('abort live migration', s, 'task_state');
      const m = findServerMigration(s, mid, (id) => `Migration ${id} not found for instance ${s.id}`);
      if (m.type !== 'live-migration') fail(404, `Migration ${mid} not found for instance ${s.id}`);
      const allowed = ['running', ...(vAtLeast(ctx.version, 65) ? ['queued', 'preparing'] : [])];
      if (!allowed.includes(m.status)) fail(400, `Migration ${mid} state of instance ${s.id} is ${m.status}. Cannot abort live migration while the migration is in this state.`);
      cloud.abort(s, m, ctx);
      return accepted();
    },
    { admin: 'os_compute_api:servers:migrations:delete', minVersion: 24 },
  );

  // ------------------------------------------------------------------ os-migrations

  const listMigrations = h(
    (req, ctx) => {
      const v = ctx.version;
      const q = req.query;
      let list = [...cloud.migrations.values()];
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
          list = list.filter((m) => m.updatedAt >= t);
        }
        if (vAtLeast(v, 66)) {
          const cb = q.get('changes-before');
          if (cb) {
            const t = Date.parse(cb);
            if (Number.isNaN(t)) fail(400, `Invalid input for query parameters changes-before. Value: ${cb}. '${cb}' is not a 'date-time'`);
            list = list.filter((m) => m.updatedAt <= t);
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
            created_at: naive(m.createdAt),
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
            updated_at: naive(m.updatedAt),
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

  const routes: Route[] = [
    route('GET', '/', (req) => ok({ version: versionDoc(cloud.maxComputeVersion, req.baseUrl) })),
    ...servicesRoutes(h, cloud.services),
    ...hypervisorsRoutes(h, cloud.services, cloud.placement, cloud.instances),
    ...serversRoutes(h, cloud.instances, cloud.services),
    route('POST', '/servers', createServer),
    route('DELETE', '/servers/:id', deleteServer),
    route('POST', '/servers/:id/action', serverAction),
    route('GET', '/servers/:id/migrations', listServerMigrations),
    route('GET', '/servers/:id/migrations/:mid', showServerMigration),
    route('POST', '/servers/:id/migrations/:mid/action', forceComplete),
    route('DELETE', '/servers/:id/migrations/:mid', abortMigration),
    ...actionsRoutes(h, cloud.actions, cloud.instances),
    route('GET', '/os-migrations', listMigrations),
    ...groupsRoutes(h, cloud.groups, cloud.instances),
    ...aggregatesRoutes(h, cloud.aggregates, cloud.hosts),
    ...zonesRoutes(h, cloud.services),
    ...flavorsRoutes(h, cloud.flavors),
    ...novaImagesRoutes(h, cloud.images),
    ...quotasRoutes(h),
  ];

  const versions = (req: EmuRequest): EmuResponse => versionList(cloud.maxComputeVersion, req);
  return { routes, versions };
}

export { LIVE_IN_PROGRESS, COLD_IN_PROGRESS };
