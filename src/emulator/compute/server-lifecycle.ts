/**
 * A server's life: the scenario's instances as the emulator starts, boot
 * (POST /servers: scheduling, then spawning on the host), delete (DELETE
 * /servers/{id}, which ends any move in progress), and the actions that only
 * change its state after action_ms (stop, start, pause, unpause, suspend,
 * resume, shelve, shelveOffload) or at once (lock, unlock).
 */
import type { EmuResponse, Route } from '../http.js';
import { fail, isObj, route } from '../http.js';
import type { Images } from '../images.js';
import type { Identity } from '../keystone.js';
import type { FlavorState, RequestContext, ServerState, VmState } from '../model.js';
import { POWER, STATE_MAP, vAtLeast } from '../model.js';
import type { Scenario } from '../scenario.js';
import type { Wrap } from './api.js';
import { accepted, links, ok } from './api.js';
import type { Flavors } from './flavors.js';
import type { LiveMigrations } from './live-migration.js';
import type { NovaParts } from './parts.js';
import { NovaPart } from './parts.js';
import { endSegment } from './progress.js';
import type { ServerActions } from './servers.js';
import { checkLock, checkState } from './servers.js';

const NO_VALID_HOST = 'No valid host was found. There are not enough hosts available.';

export class ServerLifecycle extends NovaPart {
  constructor(
    p: NovaParts,
    private readonly live: LiveMigrations,
  ) {
    super(p);
  }

  /** The scenario's instances, on their hosts (BUILD ones, placed or not, finish booting after boot_ms). */
  load(sc: Scenario, identity: Identity, flavors: Flavors, images: Images): void {
    const now = this.now;
    for (const spec of sc.instances ?? []) {
      const proj = spec.project ? identity.projectByName(spec.project)! : identity.adminProject;
      const flavor = flavors.find(spec.flavor)!;
      const state = STATE_MAP[spec.state ?? 'ACTIVE'];
      const host = spec.host ? this.services.hosts.get(spec.host)! : null;
      const image = spec.image ? [...images.byId.values()].find((i) => i.name === spec.image || i.id === spec.image)! : [...images.byId.values()][0]!;
      const group = spec.server_group ? [...this.groups.byId.values()].find((g) => g.name === spec.server_group)! : null;
      const id = spec.id ?? this.rng.uuid();
      const seq = this.servers.takeSeq();
      const s = this.servers.add({
        id,
        seq,
        name: spec.name,
        projectId: proj.id,
        userId: identity.userOfProject(proj.id).id,
        flavor,
        imageId: image.id,
        requestedAz: spec.az ?? null,
        vmState: state.vm,
        taskState: spec.task_state !== undefined ? spec.task_state : state.task,
        powerState: state.power,
        locked: spec.locked ?? false,
        lockedReason: spec.locked_reason ?? null,
        lockedByAdmin: true,
        metadata: { ...(spec.metadata ?? {}) },
        groupId: group?.id ?? null,
        createdAt: now - 86_400_000 + (seq + 1) * 1000, // the sequence counter after taking this seq
        updatedAt: now,
        launchedAt: state.vm === 'building' ? null : now - 86_400_000,
        dirtyRateMbps: spec.migration?.dirty_rate_mbps ?? null,
        alwaysFailMigration: spec.migration?.fail ?? false,
        ...(spec.config_drive ? { configDrive: true } : {}),
      });
      if (state.vm === 'error') s.fault = { code: 500, message: 'Emulated failure (scenario)', created: now };
      if (group) group.members.push(s.id);
      if (host) {
        this.servers.setHost(s, host);
        this.placement.allocate(s.id, host, s.flavor, 'INSTANCE', s.projectId, s.userId);
        // Building on its host (task_state spawning): the spawn ends ACTIVE, as compute's _build_and_run_instance does.
        if (state.vm === 'building') s.pendingTimer = this.engine.after(this.timings.bootMs, `spawn ${s.name}`, () => ((s.pendingTimer = null), this.finishBoot(s, null)));
      } else if (state.vm === 'building') {
        s.pendingTimer = this.engine.after(this.timings.bootMs, `boot ${s.name}`, () => this.finishBoot(s, null));
      }
      this.actions.record(s, 'create', `req-${this.rng.uuid()}`, s.userId, s.projectId, s.createdAt);
    }
  }

  /** POST /servers after validation. `forcedHost`: "nova:host" given by admin. */
  boot(args: {
    name: string;
    flavor: FlavorState;
    imageId: string;
    ctx: RequestContext;
    az: string | null;
    forcedHost: string | null;
    metadata: Record<string, string>;
    groupId: string | null;
  }): ServerState {
    const s = this.servers.add({
      id: this.rng.uuid(),
      seq: this.servers.takeSeq(),
      name: args.name,
      projectId: args.ctx.projectId,
      userId: args.ctx.userId,
      flavor: args.flavor,
      imageId: args.imageId,
      requestedAz: args.az,
      vmState: 'building',
      taskState: 'scheduling',
      powerState: POWER.NOSTATE,
      locked: false,
      lockedReason: null,
      lockedByAdmin: false,
      metadata: args.metadata,
      groupId: args.groupId,
      createdAt: this.now,
      updatedAt: this.now,
      launchedAt: null,
      dirtyRateMbps: null,
      alwaysFailMigration: false,
    });
    if (args.groupId) this.groups.byId.get(args.groupId)?.members.push(s.id);
    const action = this.actions.record(s, 'create', args.ctx.requestId, args.ctx.userId, args.ctx.projectId);
    const ev = this.actions.startEvent(action, 'conductor_schedule_and_build_instances', 'controller');
    const third = this.timings.bootMs / 3;
    s.pendingTimer = this.engine.after(third, `schedule ${s.name}`, () => {
      s.pendingTimer = null;
      if (s.deleted) return;
      const host = this.scheduler.schedule(s, args.forcedHost ? { requested: args.forcedHost, force: true } : {});
      if (!host) {
        this.noValidHost(s);
        this.actions.finishEvent(action, ev, false, NO_VALID_HOST);
        return;
      }
      this.actions.finishEvent(action, ev, true);
      this.servers.setHost(s, host);
      this.placement.allocate(s.id, host, s.flavor, 'INSTANCE', s.projectId, s.userId);
      s.taskState = 'spawning';
      this.servers.touch(s);
      const e2 = this.actions.startEvent(action, 'compute_build_and_run_instance', host.name);
      s.pendingTimer = this.engine.after(this.timings.bootMs - third, `spawn ${s.name}`, () => {
        s.pendingTimer = null;
        this.finishBoot(s, null);
        this.actions.finishEvent(action, e2, true);
      });
    });
    return s;
  }

  private finishBoot(s: ServerState, _unused: null): void {
    if (s.deleted) return;
    if (!s.host) {
      const host = this.scheduler.schedule(s, {});
      if (!host) return this.noValidHost(s);
      this.servers.setHost(s, host);
      this.placement.allocate(s.id, host, s.flavor, 'INSTANCE', s.projectId, s.userId);
    }
    s.vmState = 'active';
    s.taskState = null;
    s.powerState = POWER.RUNNING;
    s.launchedAt = this.now;
    this.servers.touch(s);
  }

  /** DELETE /servers/{id}. */
  delete(s: ServerState, ctx: RequestContext): void {
    this.actions.record(s, 'delete', ctx.requestId, ctx.userId, ctx.projectId);
    this.engine.cancel(s.pendingTimer);
    for (const m of this.migrations.inProgress(s.id)) {
      this.engine.cancel(m.timer);
      m.timer = null;
      endSegment(m, this.now);
      this.placement.deallocate(m.uuid);
      this.migrations.setStatus(m, m.type === 'live-migration' ? 'error' : 'error');
      this.live.releaseSlot(m);
    }
    s.taskState = 'deleting';
    this.servers.touch(s);
    s.pendingTimer = this.engine.after(this.timings.deleteMs, `delete ${s.name}`, () => {
      s.pendingTimer = null;
      this.placement.deallocate(s.id);
      this.servers.setHost(s, null);
      s.deleted = true;
      s.vmState = 'deleted';
      s.taskState = null;
      this.servers.touch(s);
      if (s.groupId) {
        const g = this.groups.byId.get(s.groupId);
        if (g) g.members = g.members.filter((x) => x !== s.id);
      }
    });
  }

  /**
   * A simple state-changing server action (os-stop, pause, ...): set the
   * transitional task_state now, the end state after `action_ms`.
   */
  simpleAction(s: ServerState, ctx: RequestContext, action: string, task: string, end: () => void, eventName: string): void {
    const a = this.actions.record(s, action, ctx.requestId, ctx.userId, ctx.projectId);
    const e = this.actions.startEvent(a, eventName, s.host);
    s.taskState = task;
    this.servers.touch(s);
    s.pendingTimer = this.engine.after(this.timings.actionMs, `${action} ${s.name}`, () => {
      s.pendingTimer = null;
      if (s.deleted) return;
      s.taskState = null;
      end();
      this.servers.touch(s);
      this.actions.finishEvent(a, e, true);
    });
  }

  shelveOffload(s: ServerState): void {
    this.placement.deallocate(s.id);
    this.servers.setHost(s, null);
    s.vmState = 'shelved_offloaded';
    s.powerState = POWER.SHUTDOWN;
  }

  private noValidHost(s: ServerState): void {
    s.vmState = 'error';
    s.taskState = null;
    s.fault = { code: 500, message: NO_VALID_HOST, created: this.now };
    this.servers.touch(s);
  }
}

/** The actions that set a transitional task_state, then the end state after action_ms: [allowed vm_states, task_state, end vm_state, power state, compute event]. */
const TIMED_ACTIONS: Record<string, [string, VmState[], string, VmState, number, string]> = {
  'os-stop': ['stop', ['active', 'error'], 'powering-off', 'stopped', POWER.SHUTDOWN, 'compute_stop_instance'],
  'os-start': ['start', ['stopped'], 'powering-on', 'active', POWER.RUNNING, 'compute_start_instance'],
  pause: ['pause', ['active'], 'pausing', 'paused', POWER.PAUSED, 'compute_pause_instance'],
  unpause: ['unpause', ['paused'], 'unpausing', 'active', POWER.RUNNING, 'compute_unpause_instance'],
  suspend: ['suspend', ['active'], 'suspending', 'suspended', POWER.SUSPENDED, 'compute_suspend_instance'],
  resume: ['resume', ['suspended'], 'resuming', 'active', POWER.RUNNING, 'compute_resume_instance'],
  shelve: ['shelve', ['active', 'stopped', 'paused', 'suspended'], 'shelving', 'shelved', POWER.SHUTDOWN, 'compute_shelve_instance'],
};

/** The power, shelve and lock server actions. */
export function lifecycleActions(life: ServerLifecycle, p: NovaParts): ServerActions {
  const { servers, actions } = p;
  const timed: ServerActions = {};
  for (const [key, [name, vm, task, endVm, power, event]] of Object.entries(TIMED_ACTIONS)) {
    timed[key] = (s, _arg, ctx) => {
      checkLock(s, ctx);
      checkState(name, s, vm);
      life.simpleAction(
        s,
        ctx,
        name,
        task,
        () => {
          s.vmState = endVm;
          s.powerState = power;
        },
        event,
      );
      return accepted();
    };
  }
  return {
    ...timed,
    shelveOffload: (s, _arg, ctx): EmuResponse => {
      if (!ctx.isAdmin) fail(403, "Policy doesn't allow os_compute_api:os-shelve:shelve_offload to be performed.");
      checkLock(s, ctx);
      checkState('shelveOffload', s, ['shelved']);
      life.simpleAction(s, ctx, 'shelveOffload', 'shelving_offloading', () => life.shelveOffload(s), 'compute_shelve_offload_instance');
      return accepted();
    },
    lock: (s, arg, ctx): EmuResponse => {
      let reason: string | null = null;
      if (isObj(arg) && vAtLeast(ctx.version, 73) && typeof arg['locked_reason'] === 'string') reason = arg['locked_reason'];
      s.locked = true;
      s.lockedReason = reason;
      s.lockedByAdmin = ctx.isAdmin;
      servers.touch(s);
      actions.record(s, 'lock', ctx.requestId, ctx.userId, ctx.projectId);
      return accepted();
    },
    unlock: (s, _arg, ctx): EmuResponse => {
      if (s.locked && s.lockedByAdmin && !ctx.isAdmin) fail(403, "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.");
      s.locked = false;
      s.lockedReason = null;
      servers.touch(s);
      actions.record(s, 'unlock', ctx.requestId, ctx.userId, ctx.projectId);
      return accepted();
    },
  };
}

/** POST /servers and DELETE /servers/{id}. */
export function lifecycleRoutes(h: Wrap, life: ServerLifecycle, p: NovaParts, flavors: Flavors, images: Images): Route[] {
  const { services, servers, groups, rng } = p;
  const createServer = h((req, ctx) => {
    const b = req.body;
    if (!isObj(b) || !isObj(b['server'])) return fail(400, "Invalid input for field/attribute server. Value: None. 'server' is a required property");
    const sv = b['server'];
    if (typeof sv['name'] !== 'string' || sv['name'].length < 1 || sv['name'].length > 255) fail(400, "Invalid input for field/attribute name. 'name' is a required property");
    if (typeof sv['flavorRef'] !== 'string' && typeof sv['flavorRef'] !== 'number') fail(400, "Invalid input for field/attribute flavorRef. 'flavorRef' is a required property");
    if (vAtLeast(ctx.version, 37) && sv['networks'] === undefined) fail(400, "Invalid input for field/attribute server. Value: ... 'networks' is a required property");
    const flavor = flavors.find(String(sv['flavorRef'])) ?? fail(400, `Flavor ${String(sv['flavorRef'])} could not be found.`);
    const imageRef = typeof sv['imageRef'] === 'string' ? sv['imageRef'] : '';
    const imgId = imageRef.includes('/') ? imageRef.slice(imageRef.lastIndexOf('/') + 1) : imageRef;
    const image = images.byId.get(imgId) ?? [...images.byId.values()].find((i) => i.name === imgId);
    if (!image) fail(400, imageRef ? `Image ${imageRef} could not be found.` : 'Can not find requested image');
    let az: string | null = null;
    let forced: string | null = null;
    if (typeof sv['availability_zone'] === 'string' && sv['availability_zone']) {
      const [zone = '', hostPart] = sv['availability_zone'].split(':');
      if (hostPart !== undefined && hostPart !== '') {
        if (!ctx.isAdmin) fail(403, "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.");
        if (!services.hosts.has(hostPart)) fail(400, `Compute host ${hostPart} could not be found.`);
        forced = hostPart;
      }
      if (zone) {
        const zones = new Set([...services.hosts.values()].map((x) => x.az));
        if (!zones.has(zone)) fail(400, `The requested availability zone is not available`);
        az = zone;
      }
    }
    let groupId: string | null = null;
    const hints = b['os:scheduler_hints'] ?? b['OS-SCH-HNT:scheduler_hints'];
    if (isObj(hints) && typeof hints['group'] === 'string') {
      if (!groups.byId.has(hints['group'])) fail(400, `Invalid input for field/attribute group. Value: ${hints['group']}. Group ${hints['group']} could not be found.`);
      groupId = hints['group'];
    }
    const metadata: Record<string, string> = {};
    if (isObj(sv['metadata'])) for (const [k, val] of Object.entries(sv['metadata'])) metadata[k] = String(val);
    const s = life.boot({ name: sv['name'] as string, flavor, imageId: image!.id, ctx, az, forcedHost: forced, metadata, groupId });
    return ok(
      {
        server: {
          id: s.id,
          links: links(req, 'servers', s.id),
          'OS-DCF:diskConfig': 'MANUAL',
          security_groups: [{ name: 'default' }],
          adminPass: rng.hex(12),
        },
      },
      202,
    );
  });

  const deleteServer = h((req, ctx) => {
    const s = servers.get(req.params['id']!, ctx);
    checkLock(s, ctx);
    if (s.taskState === 'deleting') return { status: 204 };
    life.delete(s, ctx);
    return { status: 204 };
  });

  return [route('POST', '/servers', createServer), route('DELETE', '/servers/:id', deleteServer)];
}
