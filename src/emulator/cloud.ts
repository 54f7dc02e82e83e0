/**
 * The emulated cloud's state and behaviour, independent of HTTP.
 *
 * One `Cloud` holds Keystone's users and projects, Nova's services, compute
 * nodes, servers, migrations, instance actions and server groups, and
 * Placement's providers and allocations. Everything that takes time (boot,
 * live and cold migration, stop/pause/..., heartbeats) is an event in an
 * `Engine` evaluated lazily against the clock (see engine.ts and clock.ts).
 *
 * Nova's behaviour copied here (nova 26 / Zed):
 * - live migration: accepted (conductor pre-checks and scheduling) -> queued
 *   (waiting for one of the source compute's max_concurrent_live_migrations
 *   slots; 0 = unlimited) -> preparing -> running (memory copied at the
 *   bandwidth while pages are dirtied at the dirty rate) -> post-migrating ->
 *   completed. Host changes half-way through post-migrating (the server looks
 *   ACTIVE on the destination a moment before the migration is `completed`).
 * - allocations: when scheduling succeeds, the instance's allocation on the
 *   source moves to the migration (consumer = migration uuid) and the instance
 *   gets an allocation on the destination (conductor
 *   `replace_allocation_with_migration`); on success the migration's
 *   allocation is deleted; on failure/abort it moves back to the instance.
 * - NoValidHost after 202 (2.34+): migration `error`, instance back to its
 *   vm_state on the source, instance action `live-migration` event
 *   `conductor_live_migrate_instance` result Error, details "No valid host was found. ".
 * - cold migration: pre-migrating -> migrating -> post-migrating -> finished
 *   (VERIFY_RESIZE on the destination), confirmResize -> confirming -> confirmed.
 */
import type { Clock } from '../core/clock.js';
import { Engine } from './engine.js';
import { Aggregates } from './compute/aggregates.js';
import { Flavors, flavorResources } from './compute/flavors.js';
import { InstanceActions } from './compute/actions.js';
import { ServerGroups } from './compute/groups.js';
import { Servers } from './compute/servers.js';
import { Services } from './compute/services.js';
import { Images } from './images.js';
import { Allocations, capacity } from './placement/allocations.js';
import { Identity } from './keystone.js';
import { Rng } from './rng.js';
import type { FaultBook } from './faults.js';
import type { Scenario } from './scenario.js';
import { DEFAULT_FLAVORS } from './scenario.js';
import type {
  ActionEvent,
  FlavorState,
  HostState,
  InstanceAction,
  MigrationState,
  MigrationType,
  ModelTimings,
  RequestContext,
  ServerState,
  VmState,
} from './model.js';
import type { AppCredState } from './keystone.js';
import { COLD_IN_PROGRESS, LIVE_IN_PROGRESS, MB, POWER, STATE_MAP, parseVersion, timingsFrom } from './model.js';

export interface CloudOptions {
  scenario: Scenario;
  clock: Clock;
  seed: number;
  faults: FaultBook;
}

export class Cloud {
  readonly scenario: Scenario;
  readonly clock: Clock;
  readonly engine: Engine;
  readonly rng: Rng;
  readonly faults: FaultBook;
  readonly timings: ModelTimings;
  readonly maxComputeVersion: [number, number];
  readonly maxPlacementVersion: [number, number];
  readonly membersCanMigrate: boolean;
  readonly startedAt: number;
  /** Keystone: users, projects, application credentials, the admin. */
  readonly identity: Identity;
  /** Application credentials by id (tests change them). */
  readonly appCreds: Map<string, AppCredState>;

  // nova
  /** Nova's services and compute hosts. */
  readonly services: Services;
  /** Placement's allocations (the providers are the compute hosts). */
  readonly placement: Allocations;
  /** Compute hosts by name (tests read and change them). */
  readonly hosts: Map<string, HostState>;
  readonly flavors: Flavors;
  readonly images: Images;
  /** The servers (Nova's instances). */
  readonly instances: Servers;
  /** Servers by id (tests read them). */
  readonly servers: Map<string, ServerState>;
  readonly migrations = new Map<number, MigrationState>();
  readonly migrationsByServer = new Map<string, number[]>();
  /** Instance actions and their events, by server. */
  readonly actions: InstanceActions;
  readonly groups: ServerGroups;
  readonly aggregates: Aggregates;
  private nextMigrationId = 1;

  constructor(opts: CloudOptions) {
    const sc = opts.scenario;
    this.scenario = sc;
    this.clock = opts.clock;
    this.faults = opts.faults;
    this.rng = new Rng(opts.seed);
    this.startedAt = opts.clock.now();
    this.engine = new Engine(this.startedAt);
    this.timings = timingsFrom(sc.migration);
    this.maxComputeVersion = parseVersion(sc.nova?.max_microversion ?? '2.93');
    this.maxPlacementVersion = parseVersion(sc.placement?.max_microversion ?? '1.39');
    this.membersCanMigrate = sc.nova?.members_can_migrate ?? false;
    const now = this.startedAt;
    this.identity = new Identity(sc, this.rng);
    this.appCreds = this.identity.appCreds;
    this.services = new Services(sc, this.rng, this.engine, this.startedAt);
    this.hosts = this.services.hosts;
    this.placement = new Allocations(this.services.hostsByUuid);
    this.instances = new Servers(this.hosts, this.engine);
    this.servers = this.instances.byId;
    this.aggregates = new Aggregates(sc, this.rng, this.engine, this.hosts);
    this.flavors = new Flavors(sc.flavors ?? DEFAULT_FLAVORS, this.rng);
    this.images = new Images(sc.images ?? [{ name: 'cirros' }], this.rng, now);
    this.groups = new ServerGroups(sc, this.rng, this.identity);
    this.actions = new InstanceActions(this.engine);
    // ---- instances
    for (const spec of sc.instances ?? []) {
      const proj = spec.project ? this.identity.projectByName(spec.project)! : this.identity.adminProject;
      const flavor = this.flavors.find(spec.flavor)!;
      const state = STATE_MAP[spec.state ?? 'ACTIVE'];
      const host = spec.host ? this.hosts.get(spec.host)! : null;
      const image = spec.image ? [...this.images.byId.values()].find((i) => i.name === spec.image || i.id === spec.image)! : [...this.images.byId.values()][0]!;
      const group = spec.server_group ? [...this.groups.byId.values()].find((g) => g.name === spec.server_group)! : null;
      const id = spec.id ?? this.rng.uuid();
      const seq = this.instances.takeSeq();
      const s: ServerState = {
        id,
        seq,
        name: spec.name,
        projectId: proj.id,
        userId: this.identity.userOfProject(proj.id).id,
        flavor,
        imageId: image.id,
        host: null,
        node: null,
        requestedAz: spec.az ?? null,
        vmState: state.vm,
        taskState: spec.task_state !== undefined ? spec.task_state : state.task,
        powerState: state.power,
        locked: spec.locked ?? false,
        lockedReason: spec.locked_reason ?? null,
        lockedByAdmin: true,
        metadata: { ...(spec.metadata ?? {}) },
        groupId: group?.id ?? null,
        createdAt: now - 86_400_000 + (seq + 1) * 1000, // one past its own seq, as it always was
        updatedAt: now,
        launchedAt: state.vm === 'building' ? null : now - 86_400_000,
        progress: 0,
        fault: null,
        deleted: false,
        oldVmState: null,
        dirtyRateMbps: spec.migration?.dirty_rate_mbps ?? null,
        alwaysFailMigration: spec.migration?.fail ?? false,
        pendingTimer: null,
      };
      if (state.vm === 'error') s.fault = { code: 500, message: 'Emulated failure (scenario)', created: now };
      this.servers.set(s.id, s);
      if (group) group.members.push(s.id);
      if (host) {
        this.instances.setHost(s, host);
        this.placement.allocate(s.id, host, s.flavor, 'INSTANCE', s.projectId, s.userId);
      } else if (state.vm === 'building') {
        s.pendingTimer = this.engine.after(this.timings.bootMs, `boot ${s.name}`, () => this.finishBoot(s, null));
      }
      this.actions.record(s, 'create', this.requestId(), s.userId, s.projectId, s.createdAt);
    }
    // ---- scenario faults are added by the emulator (index.ts)
  }

  // ------------------------------------------------------------- helpers

  requestId(): string {
    return `req-${this.rng.uuid()}`;
  }

  /** Evaluate the model at the clock's current time. */
  sync(): number {
    this.engine.advance(this.clock.now());
    return this.engine.now;
  }

  get now(): number {
    return this.engine.now;
  }

  /** Stop a compute service's heartbeats at model time `at`; its migrations freeze then (see Services.stopHeartbeats). */
  stopHeartbeats(h: HostState, at: number, immediate = false, upAfterMs: number | null = null): void {
    this.services.stopHeartbeats(h, at, immediate, upAfterMs, () => {
      for (const m of this.migrations.values()) {
        if (m.frozen) continue;
        if (m.sourceCompute !== h.name && m.destCompute !== h.name) continue;
        if (!['preparing', 'running', 'post-migrating', 'pre-migrating', 'migrating'].includes(m.status)) continue;
        this.freeze(m);
      }
    });
  }

  // ------------------------------------------------------------- scheduler

  /**
   * Choose a destination like Nova's filter scheduler would: compute service
   * enabled and up, AZ (if the instance asked for one), server group policy,
   * capacity from Placement. Weigh by free RAM (spread), then name. Returns
   * the host or null (NoValidHost).
   */
  schedule(s: ServerState, opts: { exclude?: string | null; requested?: string | null; force?: boolean } = {}): HostState | null {
    const res = flavorResources(s.flavor);
    const group = s.groupId ? this.groups.byId.get(s.groupId) : undefined;
    const groupHosts = new Map<string, number>();
    if (group) {
      for (const mid of group.members) {
        if (mid === s.id) continue;
        const m = this.servers.get(mid);
        if (!m || m.deleted) continue;
        const hs = new Set<string>();
        if (m.host) hs.add(m.host);
        for (const mg of this.inProgressMigrations(mid)) if (mg.destCompute) hs.add(mg.destCompute);
        for (const h of hs) groupHosts.set(h, (groupHosts.get(h) ?? 0) + 1);
      }
    }
    const candidates: Array<{ h: HostState; freeRam: number; soft: number }> = [];
    const pool = opts.requested ? [this.hosts.get(opts.requested)].filter((x): x is HostState => !!x) : [...this.hosts.values()];
    for (const h of pool) {
      if (opts.exclude && h.name === opts.exclude) continue;
      // A forced host ("nova:compute-01" at boot) skips the filters but not Placement's capacity check.
      if (!opts.force && (h.disabled || !this.services.serviceIsUp(h))) continue;
      if (!opts.force && s.requestedAz && h.az !== s.requestedAz) continue;
      if (group && !opts.force) {
        const n = groupHosts.get(h.name) ?? 0;
        if (group.policy === 'anti-affinity' && n >= (group.maxServerPerHost ?? 1)) continue;
        if (group.policy === 'affinity' && groupHosts.size > 0 && n === 0) continue;
      }
      const usage = this.placement.usage(h);
      if (!this.placement.fits(h, res, usage)) continue;
      const inv = h.inventories['MEMORY_MB']!;
      let soft = 0;
      if (group?.policy === 'soft-anti-affinity') soft = -(groupHosts.get(h.name) ?? 0);
      if (group?.policy === 'soft-affinity') soft = groupHosts.get(h.name) ?? 0;
      candidates.push({ h, freeRam: capacity(inv) - (usage['MEMORY_MB'] ?? 0), soft });
    }
    candidates.sort((a, b) => b.soft - a.soft || b.freeRam - a.freeRam || a.h.name.localeCompare(b.h.name));
    return candidates[0]?.h ?? null;
  }

  // ------------------------------------------------------------- migrations

  inProgressMigrations(serverId: string): MigrationState[] {
    return (this.migrationsByServer.get(serverId) ?? [])
      .map((id) => this.migrations.get(id)!)
      .filter((m) => (m.type === 'live-migration' ? LIVE_IN_PROGRESS : COLD_IN_PROGRESS).includes(m.status));
  }

  private newMigration(s: ServerState, type: MigrationType, status: string, ctx: RequestContext, requested: string | null, prior: VmState): MigrationState {
    const memTotal = type === 'live-migration' ? s.flavor.ram * MB : 0;
    const diskTotal = type === 'live-migration' && !this.timings.sharedStorage ? (s.flavor.disk + s.flavor.ephemeral) * 1024 * MB : 0;
    const m: MigrationState = {
      id: this.nextMigrationId++,
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
    this.migrations.set(m.id, m);
    const list = this.migrationsByServer.get(s.id) ?? [];
    list.push(m.id);
    this.migrationsByServer.set(s.id, list);
    return m;
  }

  private setStatus(m: MigrationState, status: string): void {
    m.status = status;
    m.updatedAt = this.now;
  }

  /** Progress numbers at the current model time (running migrations are piecewise linear). */
  progress(m: MigrationState): { memP: number; memR: number; diskP: number; diskR: number } {
    if (!m.seg) return { memP: m.memProcessed, memR: m.memRemaining, diskP: m.diskProcessed, diskR: m.diskRemaining };
    return this.progressAt(m, this.now);
  }

  private plateau(m: MigrationState, bw: number, dirty: number): number {
    // A migration whose dirty rate >= bandwidth never converges: after the
    // first pass, what is left stays at a working set proportional to the rates.
    return Math.min(m.memTotal, Math.ceil(m.memTotal * Math.min(0.9, 0.3 * (dirty / Math.max(bw, 1e-9)))));
  }

  private progressAt(m: MigrationState, t: number): { memP: number; memR: number; diskP: number; diskR: number } {
    const g = m.seg!;
    let dt = Math.max(0, t - g.start);
    let diskP = g.diskP;
    let diskR = g.diskR;
    if (diskR > 0 && g.bw > 0) {
      const need = diskR / g.bw;
      const used = Math.min(dt, need);
      diskP += used * g.bw;
      diskR -= used * g.bw;
      dt -= used;
    } else if (diskR > 0) dt = 0;
    let memP = g.memP;
    let memR = g.memR;
    if (dt > 0 && g.bw > 0) {
      memP += g.bw * dt;
      if (g.dirty < g.bw) memR = Math.max(0, memR - (g.bw - g.dirty) * dt);
      else {
        const p = this.plateau(m, g.bw, g.dirty);
        if (memR > p) memR = Math.max(p, memR - g.bw * dt);
      }
    }
    return { memP: Math.round(memP), memR: Math.round(memR), diskP: Math.round(diskP), diskR: Math.round(diskR) };
  }

  /** Start a new progress segment from now with these rates (MB/s); schedules convergence. */
  private segment(m: MigrationState, bwMbps: number, dirtyMbps: number): void {
    const cur = m.seg ? this.progressAt(m, this.now) : { memP: m.memProcessed, memR: m.memRemaining, diskP: m.diskProcessed, diskR: m.diskRemaining };
    Object.assign(m, { memProcessed: cur.memP, memRemaining: cur.memR, diskProcessed: cur.diskP, diskRemaining: cur.diskR });
    const bw = (bwMbps * MB) / 1000; // bytes per ms
    const dirty = (dirtyMbps * MB) / 1000;
    m.seg = { start: this.now, memP: cur.memP, memR: cur.memR, diskP: cur.diskP, diskR: cur.diskR, bw, dirty };
    this.engine.cancel(m.timer);
    m.timer = null;
    if (bw <= 0 || dirty >= bw) return; // frozen or never converges
    const threshold = bw * this.timings.maxDowntimeMs;
    const diskMs = cur.diskR / bw;
    const memMs = Math.max(0, (cur.memR - threshold) / (bw - dirty));
    m.timer = this.engine.after(diskMs + memMs, `converge ${m.id}`, () => this.converged(m));
  }

  private freeze(m: MigrationState): void {
    m.frozen = true;
    if (m.status === 'running') this.segment(m, 0, 0);
    this.engine.cancel(m.timer);
    m.timer = null;
  }

  private endSegment(m: MigrationState): void {
    if (m.seg) {
      const cur = this.progressAt(m, this.now);
      Object.assign(m, { memProcessed: cur.memP, memRemaining: cur.memR, diskProcessed: cur.diskP, diskRemaining: cur.diskR });
    }
    m.seg = null;
  }

  /** POST os-migrateLive, after the API checks passed (202 given). */
  liveMigrate(s: ServerState, ctx: RequestContext, requested: string | null): MigrationState {
    const prior = s.vmState;
    s.taskState = 'migrating';
    this.instances.touch(s);
    const action = this.actions.record(s, 'live-migration', ctx.requestId, ctx.userId, ctx.projectId);
    const m = this.newMigration(s, 'live-migration', 'accepted', ctx, requested, prior);
    m.fault = this.faults.forMigration(s);
    if (!m.fault && s.alwaysFailMigration) m.fault = { kind: 'migration-fail', phase: 'running', message: `Live migration of ${s.name} failed (scenario)` };
    const ev = this.actions.startEvent(action, 'conductor_live_migrate_instance', 'controller');
    m.timer = this.engine.after(this.timings.scheduleMs, `precheck ${m.id}`, () => this.livePrecheck(s, m, action, ev));
    return m;
  }

  private failPrecheck(s: ServerState, m: MigrationState, action: InstanceAction | undefined, ev: ActionEvent | null, details: string, vm: VmState = m.priorVmState): void {
    this.setStatus(m, 'error');
    s.taskState = null;
    s.vmState = vm;
    if (vm === 'error') s.fault = { code: 500, message: details, created: this.now };
    this.instances.touch(s);
    this.actions.finishEvent(action, ev, false, details);
  }

  private livePrecheck(s: ServerState, m: MigrationState, action: InstanceAction | undefined, ev: ActionEvent | null): void {
    m.timer = null;
    if (s.deleted) return this.setStatus(m, 'error');
    const source = this.hosts.get(m.sourceCompute)!;
    if (!this.services.serviceIsUp(source)) {
      return this.failPrecheck(s, m, action, ev, `Compute service of ${source.name} is unavailable at this time.`);
    }
    if (m.requestedHost === m.sourceCompute) {
      return this.failPrecheck(s, m, action, ev, `Unable to migrate instance (${s.id}) to current host (${source.name}).`);
    }
    if (m.fault?.kind === 'migration-fail' && m.fault.phase === 'precheck') {
      return this.failPrecheck(s, m, action, ev, m.fault.message ?? `Migration pre-check error: Emulated pre-check failure for instance ${s.id}`);
    }
    const dest = this.schedule(s, { exclude: source.name, requested: m.requestedHost });
    if (!dest) return this.failPrecheck(s, m, action, ev, 'No valid host was found. ');
    // replace_allocation_with_migration: the migration holds the source, the instance the destination.
    this.placement.moveAllocations(s.id, m.uuid, 'MIGRATION');
    this.placement.allocate(s.id, dest, s.flavor, 'INSTANCE', s.projectId, s.userId);
    m.destCompute = dest.name;
    m.destNode = dest.hypervisorHostname;
    m.destHost = dest.address;
    const e1 = this.actions.startEvent(action, 'compute_check_can_live_migrate_destination', dest.name);
    this.actions.finishEvent(action, e1, true);
    const e2 = this.actions.startEvent(action, 'compute_check_can_live_migrate_source', source.name);
    this.actions.finishEvent(action, e2, true);
    this.actions.finishEvent(action, ev, true);
    this.setStatus(m, 'queued');
    source.queue.push(m.uuid);
    this.pumpQueue(source);
  }

  private migrationByUuid(uuid: string): MigrationState | undefined {
    for (const m of this.migrations.values()) if (m.uuid === uuid) return m;
    return undefined;
  }

  /** Start queued live migrations while the source has free slots. */
  private pumpQueue(source: HostState): void {
    if (!this.services.serviceIsUp(source) && source.heartbeatStoppedAt !== null && source.heartbeatStoppedAt <= this.now) return;
    while (source.queue.length > 0 && (source.maxConcurrent === 0 || source.activeOut.size < source.maxConcurrent)) {
      const m = this.migrationByUuid(source.queue.shift()!);
      if (!m || m.status !== 'queued') continue;
      source.activeOut.add(m.uuid);
      const s = this.servers.get(m.serverId)!;
      const action = this.actions.find(s.id, m.requestId);
      this.setStatus(m, 'preparing');
      const ev = this.actions.startEvent(action, 'compute_pre_live_migration', m.destCompute);
      m.timer = this.engine.after(this.timings.preparingMs, `running ${m.id}`, () => {
        m.timer = null;
        this.actions.finishEvent(action, ev, true);
        this.startRunning(s, m);
      });
    }
  }

  private startRunning(s: ServerState, m: MigrationState): void {
    this.setStatus(m, 'running');
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
    const s = this.servers.get(m.serverId)!;
    this.endSegment(m);
    m.memProcessed += m.memRemaining;
    m.memRemaining = 0;
    m.diskProcessed += m.diskRemaining;
    m.diskRemaining = 0;
    this.setStatus(m, 'post-migrating');
    const half = this.timings.postMigratingMs / 2;
    m.timer = this.engine.after(half, `post-dest ${m.id}`, () => {
      // post_live_migration_at_destination: the instance now lives on the destination.
      const action = this.actions.find(s.id, m.requestId);
      const e = this.actions.startEvent(action, 'compute_post_live_migration_at_destination', m.destCompute);
      this.instances.setHost(s, this.hosts.get(m.destCompute!)!);
      s.taskState = null;
      s.vmState = m.priorVmState;
      s.powerState = m.priorVmState === 'paused' ? POWER.PAUSED : POWER.RUNNING;
      this.instances.touch(s);
      this.actions.finishEvent(action, e, true);
      const live = action?.events.find((x) => x.event === 'compute_live_migration' && x.finishTime === null) ?? null;
      this.actions.finishEvent(action, live, true);
      m.timer = this.engine.after(this.timings.postMigratingMs - half, `complete ${m.id}`, () => {
        m.timer = null;
        this.placement.deallocate(m.uuid);
        this.setStatus(m, 'completed');
        this.releaseSlot(m);
      });
    });
  }

  private releaseSlot(m: MigrationState): void {
    const src = this.hosts.get(m.sourceCompute);
    if (!src) return;
    src.activeOut.delete(m.uuid);
    const qi = src.queue.indexOf(m.uuid);
    if (qi >= 0) src.queue.splice(qi, 1);
    this.pumpQueue(src);
  }

  /** Roll back to the source: allocations back to the instance, task_state None. */
  private rollback(s: ServerState, m: MigrationState, status: string, vm: VmState = m.priorVmState): void {
    this.engine.cancel(m.timer);
    m.timer = null;
    this.endSegment(m);
    if (this.placement.consumers.has(m.uuid)) {
      this.placement.deallocate(s.id);
      this.placement.moveAllocations(m.uuid, s.id, 'INSTANCE');
    }
    if (s.host !== m.sourceCompute) this.instances.setHost(s, this.hosts.get(m.sourceCompute)!);
    s.taskState = null;
    s.vmState = vm;
    if (vm === 'error') s.powerState = POWER.NOSTATE;
    this.instances.touch(s);
    this.setStatus(m, status);
    this.releaseSlot(m);
  }

  private failRunning(s: ServerState, m: MigrationState): void {
    m.timer = null;
    const action = this.actions.find(s.id, m.requestId);
    const live = action?.events.find((x) => x.event === 'compute_live_migration' && x.finishTime === null) ?? null;
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
      const mig = this.actions.find(s.id, m.requestId);
      this.rollback(s, m, 'cancelled');
      void mig;
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
      const live = action?.events.find((x) => x.event === 'compute_live_migration' && x.finishTime === null) ?? null;
      this.actions.finishEvent(action, live, false, 'Migration was cancelled');
      this.rollback(s, m, 'cancelled');
    });
  }

  /** POST migrate (cold), after API checks. */
  coldMigrate(s: ServerState, ctx: RequestContext, requested: string | null): MigrationState {
    const prior = s.vmState;
    s.taskState = 'resize_prep';
    s.oldVmState = prior;
    this.instances.touch(s);
    const action = this.actions.record(s, 'migrate', ctx.requestId, ctx.userId, ctx.projectId);
    const m = this.newMigration(s, 'migration', 'pre-migrating', ctx, requested, prior);
    const ev = this.actions.startEvent(action, 'conductor_migrate_server', 'controller');
    const source = this.hosts.get(s.host!)!;
    const third = this.timings.coldMigrationMs / 3;
    m.timer = this.engine.after(Math.min(this.timings.scheduleMs, third), `cold-schedule ${m.id}`, () => {
      m.timer = null;
      const dest = this.schedule(s, { exclude: source.name, requested });
      if (!dest) {
        this.setStatus(m, 'error');
        s.taskState = null;
        s.oldVmState = null;
        this.instances.touch(s);
        this.actions.finishEvent(action, ev, false, 'No valid host was found. No valid host found for cold migrate');
        return;
      }
      this.placement.moveAllocations(s.id, m.uuid, 'MIGRATION');
      this.placement.allocate(s.id, dest, s.flavor, 'INSTANCE', s.projectId, s.userId);
      m.destCompute = dest.name;
      m.destNode = dest.hypervisorHostname;
      m.destHost = dest.address;
      this.actions.finishEvent(action, ev, true);
      const e1 = this.actions.startEvent(action, 'compute_prep_resize', dest.name);
      this.actions.finishEvent(action, e1, true);
      this.setStatus(m, 'migrating');
      s.taskState = 'resize_migrating';
      this.instances.touch(s);
      const e2 = this.actions.startEvent(action, 'compute_resize_instance', source.name);
      m.timer = this.engine.after(third, `cold-post ${m.id}`, () => {
        this.actions.finishEvent(action, e2, true);
        this.setStatus(m, 'post-migrating');
        s.taskState = 'resize_migrated';
        this.instances.touch(s);
        const e3 = this.actions.startEvent(action, 'compute_finish_resize', dest.name);
        m.timer = this.engine.after(Math.max(0, this.timings.coldMigrationMs - 2 * third), `cold-finish ${m.id}`, () => {
          m.timer = null;
          this.instances.setHost(s, dest);
          s.taskState = null;
          s.vmState = 'resized';
          this.instances.touch(s);
          this.actions.finishEvent(action, e3, true);
          this.setStatus(m, 'finished');
        });
      });
    });
    return m;
  }

  /** confirmResize, after checks. */
  confirmResize(s: ServerState, m: MigrationState, ctx: RequestContext): void {
    const action = this.actions.record(s, 'confirmResize', ctx.requestId, ctx.userId, ctx.projectId);
    const ev = this.actions.startEvent(action, 'compute_confirm_resize', m.sourceCompute);
    this.setStatus(m, 'confirming');
    m.timer = this.engine.after(this.timings.confirmMs, `confirm ${m.id}`, () => {
      m.timer = null;
      this.placement.deallocate(m.uuid);
      this.setStatus(m, 'confirmed');
      s.vmState = s.oldVmState ?? 'active';
      s.powerState = s.vmState === 'stopped' ? POWER.SHUTDOWN : POWER.RUNNING;
      s.oldVmState = null;
      s.taskState = null;
      this.instances.touch(s);
      this.actions.finishEvent(action, ev, true);
    });
  }

  // ------------------------------------------------------------- servers

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
    const s: ServerState = {
      id: this.rng.uuid(),
      seq: this.instances.takeSeq(),
      name: args.name,
      projectId: args.ctx.projectId,
      userId: args.ctx.userId,
      flavor: args.flavor,
      imageId: args.imageId,
      host: null,
      node: null,
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
      progress: 0,
      fault: null,
      deleted: false,
      oldVmState: null,
      dirtyRateMbps: null,
      alwaysFailMigration: false,
      pendingTimer: null,
    };
    this.servers.set(s.id, s);
    if (args.groupId) this.groups.byId.get(args.groupId)?.members.push(s.id);
    const action = this.actions.record(s, 'create', args.ctx.requestId, args.ctx.userId, args.ctx.projectId);
    const ev = this.actions.startEvent(action, 'conductor_schedule_and_build_instances', 'controller');
    const third = this.timings.bootMs / 3;
    s.pendingTimer = this.engine.after(third, `schedule ${s.name}`, () => {
      s.pendingTimer = null;
      if (s.deleted) return;
      const host = this.schedule(s, args.forcedHost ? { requested: args.forcedHost, force: true } : {});
      if (!host) {
        s.vmState = 'error';
        s.taskState = null;
        s.fault = { code: 500, message: 'No valid host was found. There are not enough hosts available.', created: this.now };
        this.instances.touch(s);
        this.actions.finishEvent(action, ev, false, 'No valid host was found. There are not enough hosts available.');
        return;
      }
      this.actions.finishEvent(action, ev, true);
      this.instances.setHost(s, host);
      this.placement.allocate(s.id, host, s.flavor, 'INSTANCE', s.projectId, s.userId);
      s.taskState = 'spawning';
      this.instances.touch(s);
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
      const host = this.schedule(s, {});
      if (!host) {
        s.vmState = 'error';
        s.taskState = null;
        s.fault = { code: 500, message: 'No valid host was found. There are not enough hosts available.', created: this.now };
        this.instances.touch(s);
        return;
      }
      this.instances.setHost(s, host);
      this.placement.allocate(s.id, host, s.flavor, 'INSTANCE', s.projectId, s.userId);
    }
    s.vmState = 'active';
    s.taskState = null;
    s.powerState = POWER.RUNNING;
    s.launchedAt = this.now;
    this.instances.touch(s);
  }

  /** DELETE /servers/{id}. */
  deleteServer(s: ServerState, ctx: RequestContext): void {
    this.actions.record(s, 'delete', ctx.requestId, ctx.userId, ctx.projectId);
    this.engine.cancel(s.pendingTimer);
    for (const m of this.inProgressMigrations(s.id)) {
      this.engine.cancel(m.timer);
      m.timer = null;
      this.endSegment(m);
      this.placement.deallocate(m.uuid);
      this.setStatus(m, m.type === 'live-migration' ? 'error' : 'error');
      this.releaseSlot(m);
    }
    s.taskState = 'deleting';
    this.instances.touch(s);
    s.pendingTimer = this.engine.after(this.timings.deleteMs, `delete ${s.name}`, () => {
      s.pendingTimer = null;
      this.placement.deallocate(s.id);
      this.instances.setHost(s, null);
      s.deleted = true;
      s.vmState = 'deleted';
      s.taskState = null;
      this.instances.touch(s);
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
    this.instances.touch(s);
    s.pendingTimer = this.engine.after(this.timings.actionMs, `${action} ${s.name}`, () => {
      s.pendingTimer = null;
      if (s.deleted) return;
      s.taskState = null;
      end();
      this.instances.touch(s);
      this.actions.finishEvent(a, e, true);
    });
  }

  shelveOffload(s: ServerState): void {
    this.placement.deallocate(s.id);
    this.instances.setHost(s, null);
    s.vmState = 'shelved_offloaded';
    s.powerState = POWER.SHUTDOWN;
  }
}
