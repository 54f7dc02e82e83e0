/**
 * Live migration, as Nova 26 (Zed) runs it: accepted (conductor pre-checks
 * and scheduling) -> queued (waiting for one of the source compute's
 * max_concurrent_live_migrations slots; 0 = unlimited) -> preparing ->
 * running (memory copied at the bandwidth while pages are dirtied at the dirty
 * rate; see progress.ts) -> post-migrating -> completed. The host changes
 * half-way through post-migrating (the server looks ACTIVE on the destination
 * a moment before the migration is `completed`).
 *
 * - allocations: when scheduling succeeds, the instance's allocation on the
 *   source moves to the migration (consumer = migration uuid) and the instance
 *   gets an allocation on the destination (conductor
 *   `replace_allocation_with_migration`); on success the migration's
 *   allocation is deleted; on failure/abort it moves back to the instance.
 * - NoValidHost after 202 (2.34+): migration `error`, instance back to its
 *   vm_state on the source, instance action `live-migration` event
 *   `conductor_live_migrate_instance` result Error, details "No valid host was found. ".
 * - faults (faults.ts) fail the pre-check, fail or error the copy half-way, or
 *   stall it (it never converges until forced to complete).
 *
 * The os-migrateLive action, POST .../migrations/{id}/action force_complete
 * and DELETE .../migrations/{id} (abort).
 */
import type { EmuResponse, Route } from '../http.js';
import { fail, isObj, route } from '../http.js';
import type { HostState, MigrationState, RequestContext, ServerState, VmState } from '../model.js';
import type { ActionEvent, InstanceAction } from './actions.js';
import { MB, POWER, vAtLeast } from '../model.js';
import type { Wrap } from './api.js';
import { accepted } from './api.js';
import { hostArg } from './migrations.js';
import type { NovaParts } from './parts.js';
import { NovaPart } from './parts.js';
import { endSegment, startSegment } from './progress.js';
import type { ServerActions } from './servers.js';
import { checkLock, checkState, conflictState } from './servers.js';

/** The compute_live_migration event of a live-migration action while it runs. */
const openLiveEvent = (action: InstanceAction | undefined): ActionEvent | null =>
  action?.events.find((x) => x.event === 'compute_live_migration' && x.finishTime === null) ?? null;

export class LiveMigrations extends NovaPart {
  /** POST os-migrateLive, after the API checks passed (202 given). */
  start(s: ServerState, ctx: RequestContext, requested: string | null): MigrationState {
    const prior = s.vmState;
    s.taskState = 'migrating';
    this.servers.touch(s);
    const action = this.actions.record(s, 'live-migration', ctx.requestId, ctx.userId, ctx.projectId);
    const m = this.migrations.create(s, 'live-migration', 'accepted', ctx, requested, prior);
    m.fault = this.faults.forMigration(s);
    if (!m.fault && s.alwaysFailMigration) m.fault = { kind: 'migration-fail', phase: 'running', message: `Live migration of ${s.name} failed (scenario)` };
    const ev = this.actions.startEvent(action, 'conductor_live_migrate_instance', 'controller');
    m.timer = this.engine.after(this.timings.scheduleMs, `precheck ${m.id}`, () => this.livePrecheck(s, m, action, ev));
    return m;
  }

  private failPrecheck(s: ServerState, m: MigrationState, action: InstanceAction | undefined, ev: ActionEvent | null, details: string, vm: VmState = m.priorVmState): void {
    this.migrations.setStatus(m, 'error');
    s.taskState = null;
    s.vmState = vm;
    if (vm === 'error') s.fault = { code: 500, message: details, created: this.now };
    this.servers.touch(s);
    this.actions.finishEvent(action, ev, false, details);
  }

  private livePrecheck(s: ServerState, m: MigrationState, action: InstanceAction | undefined, ev: ActionEvent | null): void {
    m.timer = null;
    if (s.deleted) return this.migrations.setStatus(m, 'error');
    const source = this.services.hosts.get(m.sourceCompute)!;
    if (!this.services.serviceIsUp(source)) {
      return this.failPrecheck(s, m, action, ev, `Compute service of ${source.name} is unavailable at this time.`);
    }
    if (m.requestedHost === m.sourceCompute) {
      return this.failPrecheck(s, m, action, ev, `Unable to migrate instance (${s.id}) to current host (${source.name}).`);
    }
    if (m.fault?.kind === 'migration-fail' && m.fault.phase === 'precheck') {
      return this.failPrecheck(s, m, action, ev, m.fault.message ?? `Migration pre-check error: Emulated pre-check failure for instance ${s.id}`);
    }
    const dest = this.scheduler.schedule(s, { exclude: source.name, requested: m.requestedHost });
    if (!dest) return this.failPrecheck(s, m, action, ev, 'No valid host was found. ');
    this.migrations.claim(s, m, dest);
    const e1 = this.actions.startEvent(action, 'compute_check_can_live_migrate_destination', dest.name);
    this.actions.finishEvent(action, e1, true);
    const e2 = this.actions.startEvent(action, 'compute_check_can_live_migrate_source', source.name);
    this.actions.finishEvent(action, e2, true);
    this.actions.finishEvent(action, ev, true);
    this.migrations.setStatus(m, 'queued');
    source.queue.push(m.uuid);
    this.pumpQueue(source);
  }

  /** Start queued live migrations while the source has free slots. */
  private pumpQueue(source: HostState): void {
    if (!this.services.serviceIsUp(source) && source.heartbeatStoppedAt !== null && source.heartbeatStoppedAt <= this.now) return;
    while (source.queue.length > 0 && (source.maxConcurrent === 0 || source.activeOut.size < source.maxConcurrent)) {
      const m = this.migrations.byUuid(source.queue.shift()!);
      if (!m || m.status !== 'queued') continue;
      source.activeOut.add(m.uuid);
      const s = this.servers.byId.get(m.serverId)!;
      const action = this.actions.find(s.id, m.requestId);
      this.migrations.setStatus(m, 'preparing');
      const ev = this.actions.startEvent(action, 'compute_pre_live_migration', m.destCompute);
      m.timer = this.engine.after(this.timings.preparingMs, `running ${m.id}`, () => {
        m.timer = null;
        this.actions.finishEvent(action, ev, true);
        this.startRunning(s, m);
      });
    }
  }

  private startRunning(s: ServerState, m: MigrationState): void {
    this.migrations.setStatus(m, 'running');
    const action = this.actions.find(s.id, m.requestId);
    this.actions.startEvent(action, 'compute_live_migration', m.sourceCompute);
    let dirty = s.dirtyRateMbps ?? this.timings.dirtyRateMbps;
    const bw = this.timings.bandwidthMbps;
    if (m.fault?.kind === 'migration-stall') dirty = Math.max(dirty, bw * 2);
    this.segment(m, bw, dirty);
    if (m.fault && (m.fault.kind === 'migration-error' || (m.fault.kind === 'migration-fail' && m.fault.phase !== 'precheck'))) {
      // Fail half-way through the expected transfer (at most after 1 s of model time when it would never converge).
      const expected = dirty < bw ? (m.memRemaining + m.diskRemaining) / (((bw - dirty) * MB) / 1000) : 2000;
      this.engine.cancel(m.timer);
      m.timer = this.engine.after(Math.max(1, Math.min(expected / 2, expected - 1)), `fail ${m.id}`, () => this.failRunning(s, m));
    }
  }

  private converged(m: MigrationState): void {
    m.timer = null;
    const s = this.servers.byId.get(m.serverId)!;
    endSegment(m, this.now);
    m.memProcessed += m.memRemaining;
    m.memRemaining = 0;
    m.diskProcessed += m.diskRemaining;
    m.diskRemaining = 0;
    this.migrations.setStatus(m, 'post-migrating');
    const half = this.timings.postMigratingMs / 2;
    m.timer = this.engine.after(half, `post-dest ${m.id}`, () => {
      // post_live_migration_at_destination: the instance now lives on the destination.
      const action = this.actions.find(s.id, m.requestId);
      const e = this.actions.startEvent(action, 'compute_post_live_migration_at_destination', m.destCompute);
      this.servers.setHost(s, this.services.hosts.get(m.destCompute!)!);
      s.taskState = null;
      s.vmState = m.priorVmState;
      s.powerState = m.priorVmState === 'paused' ? POWER.PAUSED : POWER.RUNNING;
      this.servers.touch(s);
      this.actions.finishEvent(action, e, true);
      const live = openLiveEvent(action);
      this.actions.finishEvent(action, live, true);
      m.timer = this.engine.after(this.timings.postMigratingMs - half, `complete ${m.id}`, () => {
        m.timer = null;
        this.placement.deallocate(m.uuid);
        this.migrations.setStatus(m, 'completed');
        this.releaseSlot(m);
      });
    });
  }

  /** A live migration is over (or gone): its slot on the source frees, the next queued one may start. */
  releaseSlot(m: MigrationState): void {
    const src = this.services.hosts.get(m.sourceCompute);
    if (!src) return;
    src.activeOut.delete(m.uuid);
    const qi = src.queue.indexOf(m.uuid);
    if (qi >= 0) src.queue.splice(qi, 1);
    this.pumpQueue(src);
  }

  /**
   * The source's nova-compute started again (Nova's _reset_live_migration in init_host): a live
   * migration it was running is aborted and set to error, the instance stays on the source with
   * task_state None; one still waiting in its queue is cancelled.
   */
  resetOnRestart(host: string): void {
    for (const m of [...this.migrations.byId.values()]) {
      if (m.type !== 'live-migration' || m.sourceCompute !== host) continue;
      const s = this.servers.byId.get(m.serverId);
      if (!s) continue;
      if (m.frozen && ['preparing', 'running', 'post-migrating'].includes(m.status)) {
        m.frozen = false;
        this.rollback(s, m, 'error');
      } else if (m.status === 'queued' || m.status === 'accepted') this.rollback(s, m, 'cancelled');
    }
  }

  /** Roll back to the source: allocations back to the instance, task_state None. */
  private rollback(s: ServerState, m: MigrationState, status: string, vm: VmState = m.priorVmState): void {
    this.engine.cancel(m.timer);
    m.timer = null;
    endSegment(m, this.now);
    if (this.placement.consumers.has(m.uuid)) {
      this.placement.deallocate(s.id);
      this.placement.moveAllocations(m.uuid, s.id, 'INSTANCE');
    }
    if (s.host !== m.sourceCompute) this.servers.setHost(s, this.services.hosts.get(m.sourceCompute)!);
    s.taskState = null;
    s.vmState = vm;
    if (vm === 'error') s.powerState = POWER.NOSTATE;
    this.servers.touch(s);
    this.migrations.setStatus(m, status);
    this.releaseSlot(m);
  }

  private failRunning(s: ServerState, m: MigrationState): void {
    m.timer = null;
    const action = this.actions.find(s.id, m.requestId);
    const live = openLiveEvent(action);
    if (m.fault?.kind === 'migration-error') {
      const msg = m.fault.message ?? `Unexpected error during live migration of ${s.id}: internal error: qemu unexpectedly closed the monitor`;
      this.actions.finishEvent(action, live, false, msg);
      s.fault = { code: 500, message: msg, created: this.now };
      this.rollback(s, m, 'error', 'error');
      return;
    }
    const msg = (m.fault?.kind === 'migration-fail' ? m.fault.message : undefined) ?? `Live Migration failure: operation failed: migration of domain ${s.id} failed (emulated)`;
    this.actions.finishEvent(action, live, false, msg);
    const e = this.actions.startEvent(action, 'compute_rollback_live_migration_at_destination', m.destCompute);
    this.actions.finishEvent(action, e, true);
    this.rollback(s, m, 'failed');
  }

  /** POST .../migrations/{id}/action force_complete (already validated: status running). */
  forceComplete(s: ServerState, m: MigrationState, ctx: RequestContext): void {
    const a = this.actions.record(s, 'live_migration_force_complete', ctx.requestId, ctx.userId, ctx.projectId);
    const e = this.actions.startEvent(a, 'compute_live_migration_force_complete', m.sourceCompute);
    this.actions.finishEvent(a, e, true);
    if (m.frozen) return;
    // libvirt pauses the guest: no more dirty pages, the copy converges at full bandwidth.
    if (m.fault?.kind === 'migration-stall') m.fault = null;
    if (m.fault && (m.fault.kind === 'migration-fail' || m.fault.kind === 'migration-error')) return; // it will fail anyway
    this.segment(m, this.timings.bandwidthMbps, 0);
  }

  /** DELETE .../migrations/{id} (already validated). */
  abort(s: ServerState, m: MigrationState, ctx: RequestContext): void {
    const a = this.actions.record(s, 'live_migration_cancel', ctx.requestId, ctx.userId, ctx.projectId);
    const e = this.actions.startEvent(a, 'compute_live_migration_abort', m.sourceCompute);
    if (m.status === 'queued') {
      this.actions.finishEvent(a, e, true);
      this.rollback(s, m, 'cancelled');
      return;
    }
    // preparing / running: the compute aborts the job; rollback completes shortly after.
    this.engine.cancel(m.timer);
    m.timer = null;
    if (m.status === 'running') this.segment(m, 0, 0);
    m.timer = this.engine.after(Math.min(500, this.timings.actionMs), `abort ${m.id}`, () => {
      m.timer = null;
      this.actions.finishEvent(a, e, true);
      const action = this.actions.find(s.id, m.requestId);
      const live = openLiveEvent(action);
      this.actions.finishEvent(action, live, false, 'Migration was cancelled');
      this.rollback(s, m, 'cancelled');
    });
  }

  /** Start a new progress segment from now with these rates (MB/s); schedules convergence. */
  private segment(m: MigrationState, bwMbps: number, dirtyMbps: number): void {
    const ms = startSegment(m, this.now, bwMbps, dirtyMbps, this.timings.maxDowntimeMs);
    this.engine.cancel(m.timer);
    m.timer = null;
    if (ms !== null) m.timer = this.engine.after(ms, `converge ${m.id}`, () => this.converged(m));
  }
}

/** The os-migrateLive server action. */
export function liveMigrationActions(live: LiveMigrations, p: NovaParts): ServerActions {
  const { services, scheduler, membersCanMigrate } = p;
  return {
    'os-migrateLive': (s, arg, ctx): EmuResponse => {
      const v = ctx.version;
      if (!ctx.isAdmin && !membersCanMigrate) fail(403, "Policy doesn't allow os_compute_api:os-migrate-server:migrate_live to be performed.");
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
      if (host !== null && !services.hosts.has(host)) fail(400, `Compute host ${host} could not be found.`);
      if (!vAtLeast(v, 34)) {
        // Before 2.34 the pre-checks are synchronous: NoValidHost and friends are 400s.
        const src = services.hosts.get(s.host!)!;
        if (host === s.host) fail(400, `Unable to migrate instance (${s.id}) to current host (${s.host}).`);
        if (!services.serviceIsUp(src)) fail(400, `Compute service of ${src.name} is unavailable at this time.`);
        if (!scheduler.schedule(s, { exclude: s.host, requested: host })) fail(400, 'No valid host was found. ');
      }
      live.start(s, ctx, arg['force'] === true ? host : host);
      return accepted();
    },
  };
}

/** Force-complete and abort of a running live migration. */
export function liveMigrationRoutes(h: Wrap, live: LiveMigrations, p: NovaParts): Route[] {
  const { servers, migrations } = p;
  const forceComplete = h(
    (req, ctx) => {
      const s = servers.get(req.params['id']!, ctx);
      const b = req.body;
      if (!isObj(b) || !('force_complete' in b) || b['force_complete'] !== null || Object.keys(b).length !== 1) {
        fail(400, "Invalid input for field/attribute force_complete. 'force_complete' is a required property");
      }
      const mid = req.params['mid']!;
      checkLock(s, ctx);
      checkState('force_complete', s, ['active'], ['migrating']);
      const m = migrations.ofServer(s, mid, (id) => `Migration ${id} not found for instance ${s.id}`);
      if (m.type !== 'live-migration') fail(400, `Migration ${mid} not found for instance ${s.id}`);
      if (m.status !== 'running') fail(400, `Migration ${mid} state of instance ${s.id} is ${m.status}. Cannot force complete while the migration is in this state.`);
      live.forceComplete(s, m, ctx);
      return accepted();
    },
    { admin: 'os_compute_api:servers:migrations:force_complete', minVersion: 22 },
  );

  const abortMigration = h(
    (req, ctx) => {
      const s = servers.get(req.params['id']!, ctx);
      const mid = req.params['mid']!;
      checkLock(s, ctx);
      if (s.taskState !== 'migrating') conflictState('abort live migration', s, 'task_state');
      const m = migrations.ofServer(s, mid, (id) => `Migration ${id} not found for instance ${s.id}`);
      if (m.type !== 'live-migration') fail(404, `Migration ${mid} not found for instance ${s.id}`);
      const allowed = ['running', ...(vAtLeast(ctx.version, 65) ? ['queued', 'preparing'] : [])];
      if (!allowed.includes(m.status)) fail(400, `Migration ${mid} state of instance ${s.id} is ${m.status}. Cannot abort live migration while the migration is in this state.`);
      live.abort(s, m, ctx);
      return accepted();
    },
    { admin: 'os_compute_api:servers:migrations:delete', minVersion: 24 },
  );

  return [route('POST', '/servers/:id/migrations/:mid/action', forceComplete), route('DELETE', '/servers/:id/migrations/:mid', abortMigration)];
}
