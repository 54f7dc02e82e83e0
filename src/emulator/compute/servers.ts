/**
 * Nova's servers: the records (by id, and the ids on each host), the lookups
 * and state checks every server handler makes, the server view, and
 * GET /servers(/detail) and /servers/{id}. What changes a server over time
 * (boot, delete, actions, moves) is in server-lifecycle.ts and the migration
 * modules.
 */
import { createHash } from 'node:crypto';
import type { Engine } from '../engine.js';
import type { EmuRequest, EmuResponse, Obj, Route } from '../http.js';
import { fail, isObj, route } from '../http.js';
import type { HostState, RequestContext, ServerState, VmState } from '../model.js';
import { serverStatus, vAtLeast } from '../model.js';
import type { Wrap } from './api.js';
import { MAX_LIMIT, boolFromString, dbTime, isotime, limitMarker, links, naive, nextHref, ok } from './api.js';
import type { Services } from './services.js';

/** Fields a new server is given; the rest start empty (no host, no fault, no timer, not deleted). */
export type ServerInit = Omit<ServerState, 'host' | 'node' | 'progress' | 'fault' | 'deleted' | 'oldVmState' | 'pendingTimer'>;

/** A server action's handler (POST /servers/{id}/action): the server (visible to the caller), the action's argument. */
export type ServerAction = (s: ServerState, arg: unknown, ctx: RequestContext) => EmuResponse;
export type ServerActions = Record<string, ServerAction>;

export class Servers {
  readonly byId = new Map<string, ServerState>();
  /** host name -> ids of the servers on it */
  readonly byHost = new Map<string, Set<string>>();
  private nextSeq = 1;

  constructor(
    hosts: Map<string, HostState>,
    readonly engine: Engine,
  ) {
    for (const host of hosts.values()) this.byHost.set(host.name, new Set());
  }

  /** The next server's sequence number (its instance name). */
  takeSeq(): number {
    return this.nextSeq++;
  }

  /** Register a new server (not on a host yet). */
  add(init: ServerInit): ServerState {
    const s: ServerState = { ...init, host: null, node: null, progress: 0, fault: null, deleted: false, oldVmState: null, pendingTimer: null };
    this.byId.set(s.id, s);
    return s;
  }

  /** A server visible to the caller (not deleted; another project's only for admin), or 404. */
  get(id: string, ctx: RequestContext): ServerState {
    const s = this.byId.get(id);
    if (!s || s.deleted || (!ctx.isAdmin && s.projectId !== ctx.projectId)) return fail(404, `Instance ${id} could not be found.`);
    return s;
  }

  /** As get(), deleted servers included from 2.21 (instance actions). */
  getIncludingDeleted(id: string, ctx: RequestContext): ServerState {
    const s = this.byId.get(id);
    if (!s || (s.deleted && !vAtLeast(ctx.version, 21)) || (!ctx.isAdmin && s.projectId !== ctx.projectId)) return fail(404, `Instance ${id} could not be found.`);
    return s;
  }

  /** The servers on a host, deleted ones left out. */
  liveOn(host: string): ServerState[] {
    return [...this.byHost.get(host)!].map((id) => this.byId.get(id)!).filter((s) => !s.deleted);
  }

  setHost(s: ServerState, host: HostState | null): void {
    if (s.host) this.byHost.get(s.host)?.delete(s.id);
    s.host = host?.name ?? null;
    s.node = host?.hypervisorHostname ?? null;
    if (host) this.byHost.get(host.name)!.add(s.id);
  }

  touch(s: ServerState): void {
    s.updatedAt = this.engine.now;
  }

  instanceName(s: ServerState): string {
    return `instance-${s.seq.toString(16).padStart(8, '0')}`;
  }
}

/** Nova's hostId: sha224(project_id + host) hex. */
export function hostId(host: string, projectId: string): string {
  return createHash('sha224').update(projectId + host).digest('hex');
}

/** 409: the server's vm_state or task_state does not allow this action. */
export const conflictState = (action: string, s: ServerState, attr: 'vm_state' | 'task_state'): never =>
  fail(409, `Cannot '${action}' instance ${s.id} while it is in ${attr} ${attr === 'vm_state' ? s.vmState : String(s.taskState)}`);

/** The server's vm_state must be one of `vm` (any, if null), its task_state one of `task` (any, if null). */
export const checkState = (action: string, s: ServerState, vm: VmState[] | null, task: (string | null)[] | null = [null]) => {
  if (vm && !vm.includes(s.vmState)) conflictState(action, s, 'vm_state');
  if (task && !task.includes(s.taskState)) conflictState(action, s, 'task_state');
};

/** 409 for a locked server, unless the caller is admin. */
export const checkLock = (s: ServerState, ctx: RequestContext) => {
  if (s.locked && !ctx.isAdmin) fail(409, `Instance ${s.id} is locked`);
};

/** The vm_state (and task_state) a status filter of GET /servers stands for. */
const STATUS_TO_STATE: Record<string, { vm: VmState[]; task?: (string | null)[] }> = {
  ACTIVE: { vm: ['active'] },
  BUILD: { vm: ['building'] },
  SHUTOFF: { vm: ['stopped'] },
  PAUSED: { vm: ['paused'] },
  SUSPENDED: { vm: ['suspended'] },
  RESCUE: { vm: ['rescued'] },
  ERROR: { vm: ['error'] },
  VERIFY_RESIZE: { vm: ['resized'] },
  SHELVED: { vm: ['shelved'] },
  SHELVED_OFFLOADED: { vm: ['shelved_offloaded'] },
  DELETED: { vm: ['deleted'] },
  MIGRATING: { vm: ['active', 'paused'], task: ['migrating'] },
  RESIZE: { vm: ['active', 'stopped'], task: ['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish'] },
};

/** POST /servers/{id}/action: one action per body, handled by the module that owns it. */
export function serverActionRoute(h: Wrap, servers: Servers, actions: ServerActions): Route {
  return route(
    'POST',
    '/servers/:id/action',
    h((req, ctx) => {
      const s = servers.get(req.params['id']!, ctx);
      const b = req.body;
      if (!isObj(b) || Object.keys(b).length !== 1) return fail(400, 'There is either no action or more than one action in the request body.');
      const action = Object.keys(b)[0]!;
      const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!handler) return fail(400, `There is no such action: ${action}`);
      return handler(s, b[action], ctx);
    }),
  );
}

export function serversRoutes(h: Wrap, servers: Servers, services: Services): Route[] {
  const flavorView = (req: EmuRequest, s: ServerState, v: [number, number], isAdmin: boolean) => {
    const f = s.flavor;
    if (vAtLeast(v, 47)) {
      const d: Obj = { vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral, swap: f.swap, original_name: f.name };
      if (isAdmin) d['extra_specs'] = { ...f.extraSpecs };
      return d;
    }
    return { id: f.id, links: [{ rel: 'bookmark', href: `${req.baseUrl}/compute/flavors/${f.id}` }] };
  };

  const serverView = (req: EmuRequest, s: ServerState, ctx: RequestContext): Obj => {
    const v = ctx.version;
    const status = serverStatus(s.vmState, s.taskState);
    const host = s.host ? services.hosts.get(s.host) : undefined;
    const out: Obj = {
      id: s.id,
      name: s.name,
      status,
      tenant_id: s.projectId,
      user_id: s.userId,
      metadata: { ...s.metadata },
      hostId: s.host ? hostId(s.host, s.projectId) : '',
      image: { id: s.imageId, links: [{ rel: 'bookmark', href: `${req.baseUrl}/compute/images/${s.imageId}` }] },
      flavor: flavorView(req, s, v, ctx.isAdmin),
      created: isotime(servers.engine.wall(s.createdAt)),
      updated: isotime(servers.engine.wall(s.updatedAt)),
      addresses: {},
      accessIPv4: '',
      accessIPv6: '',
      links: links(req, 'servers', s.id),
      'OS-DCF:diskConfig': 'MANUAL',
    };
    if ((status === 'ERROR' || status === 'DELETED') && s.fault) {
      const f: Obj = { code: s.fault.code, created: isotime(servers.engine.wall(s.fault.created)), message: s.fault.message };
      if (ctx.isAdmin) f['details'] = s.fault.details ?? `Traceback (most recent call last):\n  (emulated)\n${s.fault.message}\n`;
      out['fault'] = f;
    }
    if (['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING'].includes(status)) out['progress'] = s.progress;
    out['OS-EXT-AZ:availability_zone'] = host?.az ?? s.requestedAz ?? '';
    out['config_drive'] = s.configDrive ? 'True' : '';
    out['key_name'] = null;
    out['OS-SRV-USG:launched_at'] = naive(s.launchedAt === null ? null : servers.engine.wall(s.launchedAt));
    out['OS-SRV-USG:terminated_at'] = s.deleted ? naive(servers.engine.wall(s.updatedAt)) : null;
    if (ctx.isAdmin) {
      out['OS-EXT-SRV-ATTR:host'] = s.host;
      out['OS-EXT-SRV-ATTR:instance_name'] = servers.instanceName(s);
      out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = s.node;
      if (vAtLeast(v, 3)) {
        out['OS-EXT-SRV-ATTR:reservation_id'] = `r-${s.id.slice(0, 8)}`;
        out['OS-EXT-SRV-ATTR:launch_index'] = 0;
        out['OS-EXT-SRV-ATTR:hostname'] = s.name.toLowerCase().replace(/[^a-z0-9-]/g, '-');
        out['OS-EXT-SRV-ATTR:kernel_id'] = '';
        out['OS-EXT-SRV-ATTR:ramdisk_id'] = '';
        out['OS-EXT-SRV-ATTR:root_device_name'] = '/dev/vda';
        out['OS-EXT-SRV-ATTR:user_data'] = null;
      }
    }
    out['OS-EXT-STS:task_state'] = s.taskState;
    out['OS-EXT-STS:vm_state'] = s.vmState;
    out['OS-EXT-STS:power_state'] = s.powerState;
    out['os-extended-volumes:volumes_attached'] = [];
    if (vAtLeast(v, 16) && ctx.isAdmin) out['host_status'] = services.hostStatus(s);
    if (vAtLeast(v, 9)) out['locked'] = s.locked;
    if (vAtLeast(v, 73)) out['locked_reason'] = s.locked ? s.lockedReason : null;
    if (vAtLeast(v, 19)) out['description'] = null;
    if (vAtLeast(v, 26)) out['tags'] = [];
    if (vAtLeast(v, 63)) out['trusted_image_certificates'] = null;
    if (vAtLeast(v, 90) && !ctx.isAdmin) out['OS-EXT-SRV-ATTR:hostname'] = s.name.toLowerCase();
    if (vAtLeast(v, 71) && req.params['id']) out['server_groups'] = s.groupId ? [s.groupId] : [];
    // No security_groups: servers booted with networks "none" have no ports, so Nova lists none.
    return out;
  };

  const listServers = (detail: boolean) =>
    h((req, ctx) => {
      const q = req.query;
      let allTenants = false;
      if (q.has('all_tenants')) {
        const at = q.get('all_tenants')!;
        allTenants = at === '' ? true : boolFromString(at);
        if (allTenants && !ctx.isAdmin) fail(403, `Policy doesn't allow os_compute_api:servers:${detail ? 'detail' : 'index'}:get_all_tenants to be performed.`);
      }
      let project: string | null = ctx.projectId;
      if (allTenants) project = q.get('project_id') ?? q.get('tenant_id') ?? null;
      const host = ctx.isAdmin ? q.get('host') : null;
      const node = ctx.isAdmin ? q.get('node') : null;
      const statuses = q.getAll('status').map((x) => x.toUpperCase());
      const name = q.get('name');
      const nameRe = name ? new RegExp(name) : null;
      const locked = q.get('locked');
      const changesSince = q.get('changes-since');
      const since = changesSince ? Date.parse(changesSince) : null;
      if (changesSince && Number.isNaN(since)) fail(400, `Invalid input for query parameters changes-since. Value: ${changesSince}. '${changesSince}' is not a 'date-time'`);
      const vmState = q.getAll('vm_state');
      const showDeleted = (since !== null || (q.get('deleted') !== null && boolFromString(q.get('deleted')!, false))) && ctx.isAdmin;
      const pool = host !== null ? [...(servers.byHost.get(host) ?? [])].map((id) => servers.byId.get(id)!) : [...servers.byId.values()];
      let list = pool.filter((s) => {
        if (s.deleted && !showDeleted) return false;
        if (project && s.projectId !== project) return false;
        if (node && s.node !== node) return false;
        if (statuses.length > 0) {
          const st = serverStatus(s.vmState, s.taskState);
          if (!statuses.some((want) => want === st || (STATUS_TO_STATE[want]?.vm.includes(s.vmState) && (!STATUS_TO_STATE[want]!.task || STATUS_TO_STATE[want]!.task!.includes(s.taskState))))) return false;
        }
        if (vmState.length > 0 && !vmState.includes(s.vmState)) return false;
        if (nameRe && !nameRe.test(s.name)) return false;
        if (locked !== null && vAtLeast(ctx.version, 73) && s.locked !== boolFromString(locked)) return false;
        if (since !== null && dbTime(servers.engine.wall(s.updatedAt)) < since) return false;
        return true;
      });
      // Nova's default sort: created_at desc, id desc.
      list.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      const { limit, marker } = limitMarker(req);
      if (marker !== null) {
        const idx = list.findIndex((s) => s.id === marker);
        if (idx < 0) fail(400, `marker [${marker}] not found`);
        list = list.slice(idx + 1);
      }
      list = list.slice(0, limit);
      const body: Obj = {
        servers: list.map((s) => (detail ? serverView(req, s, ctx) : { id: s.id, name: s.name, links: links(req, 'servers', s.id) })),
      };
      const maxItems = Math.min(Number(q.get('limit') ?? MAX_LIMIT), MAX_LIMIT);
      if (maxItems && list.length === maxItems) body['servers_links'] = [{ rel: 'next', href: nextHref(req, list[list.length - 1]!.id) }];
      return ok(body);
    });

  const showServer = h((req, ctx) => ok({ server: serverView(req, servers.get(req.params['id']!, ctx), ctx) }));

  return [route('GET', '/servers', listServers(false)), route('GET', '/servers/detail', listServers(true)), route('GET', '/servers/:id', showServer)];
}
