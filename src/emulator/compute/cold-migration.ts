/**
 * Cold migration (migrate, then confirmResize), as Nova 26 (Zed) runs it:
 * pre-migrating (scheduling) -> migrating -> post-migrating -> finished, the
 * server VERIFY_RESIZE on the destination; confirmResize -> confirming ->
 * confirmed, the server back in the vm_state it had. Allocations move as for
 * a live migration (see live-migration.ts).
 */
import type { EmuResponse } from '../http.js';
import { fail, isObj } from '../http.js';
import type { MigrationState, RequestContext, ServerState } from '../model.js';
import { POWER, vAtLeast } from '../model.js';
import { accepted } from './api.js';
import { hostArg } from './migrations.js';
import type { NovaParts } from './parts.js';
import { NovaPart } from './parts.js';
import type { ServerActions } from './servers.js';
import { checkLock, checkState } from './servers.js';

export class ColdMigrations extends NovaPart {
  /** POST migrate (cold), after API checks. */
  start(s: ServerState, ctx: RequestContext, requested: string | null): MigrationState {
    const prior = s.vmState;
    s.taskState = 'resize_prep';
    s.oldVmState = prior;
    this.servers.touch(s);
    const action = this.actions.record(s, 'migrate', ctx.requestId, ctx.userId, ctx.projectId);
    const m = this.migrations.create(s, 'migration', 'pre-migrating', ctx, requested, prior);
    const ev = this.actions.startEvent(action, 'conductor_migrate_server', 'controller');
    const source = this.services.hosts.get(s.host!)!;
    const third = this.timings.coldMigrationMs / 3;
    m.timer = this.engine.after(Math.min(this.timings.scheduleMs, third), `cold-schedule ${m.id}`, () => {
      m.timer = null;
      const dest = this.scheduler.schedule(s, { exclude: source.name, requested });
      if (!dest) {
        this.migrations.setStatus(m, 'error');
        s.taskState = null;
        s.oldVmState = null;
        this.servers.touch(s);
        this.actions.finishEvent(action, ev, false, 'No valid host was found. No valid host found for cold migrate');
        return;
      }
      this.migrations.claim(s, m, dest);
      this.actions.finishEvent(action, ev, true);
      const e1 = this.actions.startEvent(action, 'compute_prep_resize', dest.name);
      this.actions.finishEvent(action, e1, true);
      this.migrations.setStatus(m, 'migrating');
      s.taskState = 'resize_migrating';
      this.servers.touch(s);
      const e2 = this.actions.startEvent(action, 'compute_resize_instance', source.name);
      m.timer = this.engine.after(third, `cold-post ${m.id}`, () => {
        this.actions.finishEvent(action, e2, true);
        this.migrations.setStatus(m, 'post-migrating');
        s.taskState = 'resize_migrated';
        this.servers.touch(s);
        const e3 = this.actions.startEvent(action, 'compute_finish_resize', dest.name);
        m.timer = this.engine.after(Math.max(0, this.timings.coldMigrationMs - 2 * third), `cold-finish ${m.id}`, () => {
          m.timer = null;
          this.servers.setHost(s, dest);
          s.taskState = null;
          s.vmState = 'resized';
          this.servers.touch(s);
          this.actions.finishEvent(action, e3, true);
          this.migrations.setStatus(m, 'finished');
        });
      });
    });
    return m;
  }

  /**
   * The source's nova-compute started again mid-move (Nova's init_host finds RESIZE_MIGRATING and
   * reverts for safety): the instance stays on the source in its old state, task_state None, the
   * allocations back to it; the emulator marks the migration error (real Nova leaves its status).
   */
  resetOnRestart(host: string): void {
    for (const m of [...this.migrations.byId.values()]) {
      if (m.type !== 'migration' || m.sourceCompute !== host || !m.frozen) continue;
      const s = this.servers.byId.get(m.serverId);
      if (!s) continue;
      m.frozen = false;
      this.engine.cancel(m.timer);
      m.timer = null;
      if (this.placement.consumers.has(m.uuid)) {
        this.placement.deallocate(s.id);
        this.placement.moveAllocations(m.uuid, s.id, 'INSTANCE');
      }
      if (s.host !== host) this.servers.setHost(s, this.services.hosts.get(host)!);
      s.taskState = null;
      s.vmState = s.oldVmState ?? s.vmState;
      s.oldVmState = null;
      this.servers.touch(s);
      this.migrations.setStatus(m, 'error');
    }
  }

  /** confirmResize, after checks. */
  confirm(s: ServerState, m: MigrationState, ctx: RequestContext): void {
    const action = this.actions.record(s, 'confirmResize', ctx.requestId, ctx.userId, ctx.projectId);
    const ev = this.actions.startEvent(action, 'compute_confirm_resize', m.sourceCompute);
    this.migrations.setStatus(m, 'confirming');
    m.timer = this.engine.after(this.timings.confirmMs, `confirm ${m.id}`, () => {
      m.timer = null;
      this.placement.deallocate(m.uuid);
      this.migrations.setStatus(m, 'confirmed');
      s.vmState = s.oldVmState ?? 'active';
      s.powerState = s.vmState === 'stopped' ? POWER.SHUTDOWN : POWER.RUNNING;
      s.oldVmState = null;
      s.taskState = null;
      this.servers.touch(s);
      this.actions.finishEvent(action, ev, true);
    });
  }
}

/** The migrate and confirmResize server actions. */
export function coldMigrationActions(cold: ColdMigrations, p: NovaParts): ServerActions {
  const { services, migrations, membersCanMigrate } = p;
  return {
    migrate: (s, arg, ctx): EmuResponse => {
      const v = ctx.version;
      if (!ctx.isAdmin && !membersCanMigrate) fail(403, "Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed.");
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
        if (!services.hosts.has(host)) fail(400, `Compute host ${host} could not be found.`);
        if (host === s.host) fail(400, 'The target host can\'t be the same one.');
      }
      cold.start(s, ctx, host);
      return accepted();
    },
    confirmResize: (s, _arg, ctx): EmuResponse => {
      checkLock(s, ctx);
      checkState('confirmResize', s, ['resized'], null);
      const m = migrations.inProgress(s.id).find((x) => x.type === 'migration' && x.status === 'finished');
      if (!m) fail(400, 'Instance has not been resized.');
      cold.confirm(s, m!, ctx);
      return { status: 204 };
    },
  };
}
