/**
 * What the live view shows, folded from the event stream: the phase, every
 * instance with its state, progress, transfer rate and ETA, the counts for
 * the overall bar, and the last notable events. Pure: `apply(event)` is the
 * only input, times come from the events, so a recorded stream renders the
 * same frame every time (the snapshot tests rely on it).
 */
import type { DrainEvent, DrainPhase } from '../machines/events.js';
import type { MoveMethod } from '../machines/records.js';
import { clean } from './ansi.js';
import { EXIT } from '../core/exit-codes.js';

export type InstanceState =
  /** To be moved, not requested yet. */
  | 'waiting'
  /** Request sent, no migration record yet. */
  | 'requested'
  /** Accepted / queued / preparing: waiting for the source compute's migration slot. */
  | 'queued'
  /** Memory being copied (live), or the cold migration / offload in progress. */
  | 'running'
  /** An attempt failed; the next one is coming. */
  | 'retrying'
  | 'moved'
  | 'failed'
  /** Cannot move (blocked), or left by policy / nothing to do. */
  | 'blocked'
  | 'left';

export interface InstanceView {
  serverId: string;
  name: string;
  /** Project id, when the events carry it (instance-classified / migration-started `projectId`). */
  projectId: string | null;
  /** The project's name, when Keystone gave it (instance-classified `projectName`). */
  projectName: string | null;
  cls: string | null;
  method: MoveMethod | null;
  from: string | null;
  /** Host requested for the move (pinned), null: the scheduler chooses. */
  target: string | null;
  /** Where it went (or is going, once the events say). */
  to: string | null;
  state: InstanceState;
  migrationStatus: string | null;
  attempt: number;
  adopted: boolean;
  firstStartedAt: number | null;
  attemptStartedAt: number | null;
  queuedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  percent: number | null;
  memoryTotalBytes: number | null;
  memoryProcessedBytes: number | null;
  memoryRemainingBytes: number | null;
  /** Bytes per second copied (smoothed), from two or more successive progress samples of the same migration. */
  rateBps: number | null;
  /** Time left at `lastSampleAt`, from how fast the remaining memory shrinks. */
  etaMs: number | null;
  stalledForMs: number;
  lastSampleAt: number | null;
  migrationId: number | null;
  error: string | null;
  reason: string | null;
  /** Not requested yet: what it waits for (instance-waiting), null once requested. */
  waitingFor: { kind: string; detail: string } | null;
  order: number;
}

export type NotableKind = 'info' | 'ok' | 'warn' | 'error';

export interface NotableEvent {
  at: number;
  kind: NotableKind;
  text: string;
}

export interface ViewCounts {
  /** Instances this run has to move (blocked and left-alone ones not included). */
  total: number;
  moved: number;
  failed: number;
  inFlight: number;
  /** Of those in flight: copying now (Nova's migration running). */
  running: number;
  /** Of those in flight: requested from Nova and not running yet (no record, queued, accepted, preparing), or about to be retried. */
  queued: number;
  /** Not requested yet: waiting in hostmaint for a slot under --concurrency. */
  waiting: number;
  /** Blocked or left on the host on purpose. */
  notMoving: number;
}

const NOTABLE_KEEP = 50;

/** A workflow run (hostmaint run): which step (or unit of steps started together: a drain, an undrain) is running. */
export interface WorkflowView {
  name: string;
  /** The steps started together and not all finished yet (or the last such group). */
  current: {
    first: string;
    last: string;
    type: string;
    index: number;
    count: number;
    state: 'running' | 'ok' | 'failed' | 'waiting';
    /** A wait-for-service step: what it waits for, and until when (step-waiting). */
    waitingFor?: { text: string; deadline: number } | null;
  } | null;
  /** Steps started and not finished. */
  open: number;
  done: number;
  failed: number;
  approval: { step: string; message: string } | null;
}

/** A rolling run over several hosts: each host's state, and the host whose run the view follows. */
export interface RollingView {
  hosts: Map<string, { status: string; childRunId: string; wave: number; step: string | null }>;
  focus: string | null;
  wave: number;
}

/** The drain's phases in order, for the phase line. */
export const DRAIN_STEPS: DrainPhase[] = ['resolving', 'disablingService', 'preflight', 'migrating', 'verifyingEmpty'];
export const UNDRAIN_STEPS: DrainPhase[] = ['resolving', 'waitingForUp', 'enablingService', 'selectingReturns', 'returning'];

export const PHASE_LABEL: Record<DrainPhase, string> = {
  resolving: 'resolve',
  disablingService: 'disable',
  preflight: 'preflight',
  migrating: 'migrate',
  verifyingEmpty: 'verify',
  restoringService: 'restore',
  waitingForUp: 'wait up',
  enablingService: 'enable',
  selectingReturns: 'select',
  returning: 'return',
  done: 'done',
};

function ms(iso: string): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : 0;
}

function optString(e: object, key: string): string | null {
  const v = (e as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

function secs(msValue: number | null): string {
  return msValue === null ? '' : `${Math.round(msValue / 100) / 10}s`;
}

export class RunView {
  command: 'drain' | 'undrain' | null = null;
  runId: string | null = null;
  host: string | null = null;
  dryRun = false;
  phase: DrainPhase | null = null;
  /** Phases seen, in order, with when they began. */
  phases: Array<{ phase: DrainPhase; at: number }> = [];
  startedAt: number | null = null;
  lastEventAt: number | null = null;
  readonly instances = new Map<string, InstanceView>();
  preflight: { ok: boolean; blocking: number; warnings: number; planned: number; unplaced: number } | null = null;
  service: { action: string; status: string; reason: string | null } | null = null;
  notable: NotableEvent[] = [];
  verification: { empty: boolean; leftovers: number } | null = null;
  finished: { outcome: string; exitCode: number; message: string; at: number } | null = null;
  /** A workflow run's number of steps, a rolling run's hosts in order, when the caller knows them (the events do not say). */
  stepTotal: number | null = null;
  hostList: string[] | null = null;
  workflow: WorkflowView | null = null;
  rolling: RollingView | null = null;
  /** Inside a workflow run: a drain/undrain is running (its run-started seen, not its run-finished). */
  innerActive = false;
  /** Events applied (for tests and the "waiting for the first event" frame). */
  events = 0;
  /** The last measured rate of each migration that completed (bytes/s), for the drain's ETA. */
  completedRates: number[] = [];
  /** The most migrations seen copying at once: how many the source compute moves in parallel. */
  peakRunning = 0;

  apply(e: DrainEvent): void {
    const at = ms(e.time);
    this.events += 1;
    this.runId ??= e.runId;
    this.host ??= e.host;
    if (this.lastEventAt === null || at > this.lastEventAt) this.lastEventAt = at;
    if (this.applyWorkflow(e, at)) return;
    switch (e.type) {
      case 'run-started':
        if (this.workflow) {
          // A drain or undrain inside a workflow run: a fresh phase line and table for it.
          this.resetRun();
          this.command = e.command;
          this.innerActive = true;
          this.note(at, 'info', `${e.command} started`);
          break;
        }
        this.command = e.command;
        this.dryRun = e.dryRun;
        this.startedAt = at;
        this.runId = e.runId;
        this.host = e.host;
        this.note(at, 'info', `${e.command}${e.dryRun ? ' (plan only)' : ''} started, run ${e.runId}`);
        break;
      case 'phase-changed':
        this.phase = e.phase;
        this.phases.push({ phase: e.phase, at });
        break;
      case 'service-changed':
        this.service = { action: e.action, status: e.status, reason: e.reason };
        this.note(at, e.action === 'foreign' ? 'warn' : 'info', `service ${e.action}: ${e.status}${e.note ? ` - ${e.note}` : ''}`);
        break;
      case 'instance-classified': {
        const v = this.instance(e.serverId, e.name);
        v.cls = e.class;
        v.reason = e.reason;
        v.projectId = optString(e, 'projectId') ?? v.projectId;
        v.projectName = optString(e, 'projectName') ?? v.projectName;
        if (v.state === 'waiting' || v.state === 'blocked' || v.state === 'left') {
          v.state = e.blocking || e.class === 'blocked' ? 'blocked' : e.class === 'leave' || e.class === 'none' ? 'left' : 'waiting';
        }
        if (e.class === 'live' || e.class === 'cold') v.method = e.class;
        else if (e.class === 'offload') v.method = 'offload';
        if (e.blocking) this.note(at, 'error', `${e.name} blocked: ${e.reason}`);
        else if (e.class === 'blocked') this.note(at, 'warn', `${e.name} left (skip-blocked): ${e.reason}`);
        break;
      }
      case 'preflight-finished':
        this.preflight = { ok: e.ok, blocking: e.blocking, warnings: e.warnings, planned: e.planned, unplaced: e.unplaced };
        this.note(at, e.ok ? 'ok' : 'error', `preflight ${e.ok ? 'passed' : 'REFUSED'}: ${e.planned} planned, ${e.unplaced} unplaced, ${e.blocking} blocking, ${e.warnings} warning(s)`);
        break;
      case 'instance-waiting': {
        const v = this.instance(e.serverId, e.name);
        v.waitingFor = { kind: e.waitingFor, detail: e.detail };
        if (e.waitingFor !== 'source-slot') this.note(at, 'info', `${e.name} waits: ${e.detail}`);
        break;
      }
      case 'migration-fallback': {
        const v = this.instance(e.serverId, e.name);
        v.state = 'retrying';
        v.attempt = 0;
        this.note(at, 'warn', `${e.name}: live migration failed (${e.error}); falling back to ${e.to === 'stop' ? 'stop, cold-migrate, start' : 'a cold migration'} (--fallback)`);
        break;
      }
      case 'migration-started': {
        const v = this.instance(e.serverId, e.name);
        v.waitingFor = null;
        v.method = e.method;
        v.attempt = e.attempt;
        v.target = e.target;
        v.adopted = e.adopted;
        v.projectId = optString(e, 'projectId') ?? v.projectId;
        v.state = 'requested';
        v.migrationStatus = null;
        v.attemptStartedAt = at;
        v.firstStartedAt ??= at;
        v.queuedAt = null;
        v.percent = null;
        v.rateBps = null;
        v.etaMs = null;
        v.lastSampleAt = null;
        v.memoryProcessedBytes = null;
        v.memoryRemainingBytes = null;
        v.stalledForMs = 0;
        if (v.from === null && this.command !== 'undrain') v.from = e.host;
        if (e.adopted) this.note(at, 'info', `${e.name} already moving; watching it`);
        break;
      }
      case 'migration-queued': {
        const v = this.instance(e.serverId, e.name);
        v.state = 'queued';
        v.migrationStatus = e.status;
        v.migrationId = e.migrationId;
        v.queuedAt = at;
        v.to = optString(e, 'to') ?? v.to;
        break;
      }
      case 'migration-progress': {
        const v = this.instance(e.serverId, e.name);
        v.state = 'running';
        v.migrationStatus = e.status;
        v.to = optString(e, 'to') ?? v.to;
        v.stalledForMs = e.stalledForMs;
        this.sample(v, at, e.migrationId, e.memoryTotalBytes, e.memoryProcessedBytes, e.memoryRemainingBytes);
        v.percent = e.percent;
        this.peakRunning = Math.max(this.peakRunning, [...this.instances.values()].filter((x) => x.state === 'running').length);
        break;
      }
      case 'migration-stalled': {
        const v = this.instance(e.serverId, e.name);
        v.stalledForMs = e.stalledForMs;
        this.note(at, 'warn', `${e.name}: ${e.reason}; ${e.action}${e.step !== undefined && e.steps !== undefined && e.steps > 1 ? ` (step ${e.step}/${e.steps})` : ''}`);
        break;
      }
      case 'migration-completed': {
        const v = this.instance(e.serverId, e.name);
        v.state = 'moved';
        v.method = e.method;
        v.from = e.from;
        v.to = e.to;
        v.finishedAt = at;
        v.durationMs = e.durationMs;
        v.percent = e.method === 'live' ? 100 : v.percent;
        if (v.rateBps !== null && v.rateBps > 0) this.completedRates.push(v.rateBps);
        const where = e.method === 'offload' ? 'offloaded' : `moved ${e.from} -> ${e.to ?? '?'}`;
        this.note(at, 'ok', `${e.name} ${where} (${e.method}${e.durationMs !== null ? `, ${secs(e.durationMs)}` : ''})`);
        break;
      }
      case 'migration-retried': {
        const v = this.instance(e.serverId, e.name);
        v.state = 'retrying';
        v.error = e.error;
        v.attempt = e.attempt;
        v.rateBps = null;
        v.etaMs = null;
        v.percent = null;
        v.stalledForMs = 0;
        v.migrationStatus = null;
        this.note(at, 'warn', `${e.name}: attempt ${e.attempt} failed (${e.error}); retrying`);
        break;
      }
      case 'migration-failed': {
        const v = this.instance(e.serverId, e.name);
        v.state = 'failed';
        v.error = e.error;
        v.finishedAt = at;
        this.note(at, 'error', `${e.name} FAILED after ${e.attempts} attempt(s): ${e.error}`);
        break;
      }
      case 'source-down':
        this.note(at, 'error', `source nova-compute DOWN since ${e.since.slice(11, 19)}: nothing new is requested; stops if not back within ${Math.round(e.graceMs / 1000)}s`);
        break;
      case 'source-up':
        this.note(at, 'ok', 'source nova-compute is up again: the drain goes on');
        break;
      case 'verification':
        this.verification = { empty: e.empty, leftovers: e.leftovers.length };
        this.note(at, e.empty ? 'ok' : 'error', e.empty ? 'verified: the host is empty' : `verification: NOT empty, ${e.leftovers.length} left`);
        break;
      case 'run-finished':
        if (this.workflow) {
          this.innerActive = false;
          this.phase = 'done';
          this.note(at, e.exitCode === 0 ? 'ok' : 'error', `${this.command ?? 'run'} finished: ${e.outcome} (exit ${e.exitCode})`);
          break;
        }
        this.finished = { outcome: e.outcome, exitCode: e.exitCode, message: e.message, at };
        this.phase = 'done';
        this.note(at, e.exitCode === EXIT.OK ? 'ok' : e.exitCode === EXIT.INTERRUPTED ? 'warn' : 'error', `finished: ${e.outcome} (exit ${e.exitCode})`);
        break;
      default:
        break;
    }
  }

  /** The workflow and rolling events; true when the event is dealt with (or belongs to a host the view does not follow). */
  private applyWorkflow(e: DrainEvent, at: number): boolean {
    const r = this.rolling;
    if (r && e.type !== 'host-started' && e.type !== 'host-finished' && e.type !== 'rolling-finished' && e.host !== r.focus) {
      // Another host of the wave (max-parallel > 1): only its current step is shown.
      const h = r.hosts.get(e.host);
      if (h && e.type === 'step-started') h.step = e.step;
      return true;
    }
    switch (e.type) {
      case 'step-started': {
        this.startedAt ??= at;
        const w = (this.workflow ??= { name: e.workflow, current: null, open: 0, done: 0, failed: 0, approval: null });
        if (w.open > 0 && w.current) {
          w.current.last = e.step;
          w.current.count += 1;
        } else {
          w.current = { first: e.step, last: e.step, type: e.stepType, index: e.index, count: 1, state: 'running' };
        }
        w.open += 1;
        if (r?.focus) {
          const h = r.hosts.get(r.focus);
          if (h) h.step = e.step;
        }
        return true;
      }
      case 'step-finished': {
        const w = (this.workflow ??= { name: e.workflow, current: null, open: 0, done: 0, failed: 0, approval: null });
        w.open = Math.max(0, w.open - 1);
        if (e.status === 'ok') w.done += 1;
        if (e.status === 'failed') w.failed += 1;
        if (w.current && (e.status !== 'ok' || w.open === 0)) w.current.state = e.status === 'ok' ? (w.current.state === 'running' ? 'ok' : w.current.state) : e.status;
        if (e.status === 'ok' && e.stepType === 'approve') w.approval = null;
        if (e.status === 'failed') this.note(at, 'error', `step ${e.step} FAILED (exit ${e.exitCode}): ${e.message}`);
        else if (w.open === 0) this.note(at, 'ok', `step ${e.step}: ${e.message}`);
        return true;
      }
      case 'step-waiting': {
        const w = this.workflow;
        if (w?.current) w.current.waitingFor = { text: e.waitingFor, deadline: Date.parse(e.deadline) };
        this.note(at, 'info', `${e.step}: waiting for ${e.waitingFor}`);
        return true;
      }
      case 'approval-required': {
        const w = (this.workflow ??= { name: e.workflow, current: null, open: 0, done: 0, failed: 0, approval: null });
        w.approval = { step: e.step, message: e.message };
        if (w.current) w.current.state = 'waiting';
        this.note(at, 'warn', `waiting for approval at ${e.step}: ${e.message}`);
        return true;
      }
      case 'workflow-finished':
        if (!r) {
          this.finished = { outcome: e.outcome, exitCode: e.exitCode, message: e.message, at };
          this.phase = 'done';
        }
        this.note(at, e.exitCode === EXIT.OK ? 'ok' : e.exitCode === EXIT.AWAITING_APPROVAL || e.exitCode === EXIT.INTERRUPTED ? 'warn' : 'error', `workflow ${e.workflow}: ${e.outcome} (exit ${e.exitCode})`);
        return true;
      case 'host-started': {
        this.startedAt ??= at;
        const roll = (this.rolling ??= { hosts: new Map(), focus: null, wave: 0 });
        roll.hosts.set(e.host, { status: 'running', childRunId: e.childRunId, wave: e.wave, step: null });
        roll.focus = e.host;
        roll.wave = e.wave;
        this.runId ??= e.runId;
        this.workflow = null;
        this.resetRun();
        this.note(at, 'info', `host ${e.host} started (wave ${e.wave})`);
        return true;
      }
      case 'host-finished': {
        const roll = (this.rolling ??= { hosts: new Map(), focus: null, wave: 0 });
        const h = roll.hosts.get(e.host);
        if (h) h.status = e.status;
        else roll.hosts.set(e.host, { status: e.status, childRunId: '', wave: roll.wave, step: null });
        if (roll.focus === e.host) roll.focus = [...roll.hosts.entries()].find(([, x]) => x.status === 'running')?.[0] ?? e.host;
        this.note(at, e.status === 'done' ? 'ok' : e.status === 'waiting' ? 'warn' : 'error', `host ${e.host}: ${e.status}${e.status === 'done' ? '' : ` (exit ${e.exitCode ?? '?'})`}`);
        return true;
      }
      case 'rolling-finished':
        this.finished = { outcome: e.outcome, exitCode: e.exitCode, message: e.message, at };
        this.phase = 'done';
        this.innerActive = false;
        this.note(at, e.exitCode === EXIT.OK ? 'ok' : e.exitCode === EXIT.AWAITING_APPROVAL || e.exitCode === EXIT.INTERRUPTED ? 'warn' : 'error', `rolling run: ${e.outcome} (exit ${e.exitCode})`);
        return true;
      default:
        return false;
    }
  }

  /** Forget the previous drain/undrain of a workflow run (or the previous host's). */
  private resetRun(): void {
    this.command = null;
    this.dryRun = false;
    this.phase = null;
    this.phases = [];
    this.instances.clear();
    this.preflight = null;
    this.service = null;
    this.verification = null;
    this.innerActive = false;
    this.completedRates = [];
    this.peakRunning = 0;
  }

  counts(): ViewCounts {
    const c: ViewCounts = { total: 0, moved: 0, failed: 0, inFlight: 0, running: 0, queued: 0, waiting: 0, notMoving: 0 };
    for (const v of this.instances.values()) {
      if (v.state === 'blocked' || v.state === 'left') {
        c.notMoving += 1;
        continue;
      }
      c.total += 1;
      if (v.state === 'moved') c.moved += 1;
      else if (v.state === 'failed') c.failed += 1;
      else if (v.state === 'waiting') c.waiting += 1;
      else {
        c.inFlight += 1;
        if (v.state === 'running') c.running += 1;
        else c.queued += 1;
      }
    }
    return c;
  }

  /**
   * Time left for the whole drain at `now` (ms), or null until a transfer rate has been measured.
   * Memory left: for a migration copying, what its last sample left minus what its rate copied
   * since; for one not copying yet, its size when known, else the mean size of the moved ones (or
   * of any whose size is known). Divided by the mean measured per-migration rate (completed and
   * running) times how many have copied at once; never less than the slowest running one's ETA.
   */
  drainEtaMs(now: number): number | null {
    const all = [...this.instances.values()];
    const rates = [...this.completedRates, ...all.filter((v) => v.state === 'running' && v.rateBps !== null && v.rateBps > 0).map((v) => v.rateBps as number)];
    if (rates.length === 0) return null;
    const meanRate = rates.reduce((a, b) => a + b, 0) / rates.length;
    const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    const movedSizes = all.filter((v) => v.state === 'moved' && v.memoryTotalBytes !== null).map((v) => v.memoryTotalBytes as number);
    const meanSize = mean(movedSizes) ?? mean(all.filter((v) => v.memoryTotalBytes !== null).map((v) => v.memoryTotalBytes as number)) ?? 0;
    let left = 0;
    let longest = 0;
    let pending = 0;
    for (const v of all) {
      if (v.state === 'moved' || v.state === 'failed' || v.state === 'blocked' || v.state === 'left') continue;
      pending += 1;
      if (v.state === 'running' && v.memoryRemainingBytes !== null && v.lastSampleAt !== null) {
        const since = Math.max(0, now - v.lastSampleAt) / 1000;
        left += Math.max(0, v.memoryRemainingBytes - (v.rateBps ?? 0) * since);
        if (v.etaMs !== null) longest = Math.max(longest, v.etaMs - (now - v.lastSampleAt));
      } else {
        left += v.memoryTotalBytes ?? meanSize;
      }
    }
    if (pending === 0) return 0;
    const parallel = Math.max(1, Math.min(this.peakRunning, pending));
    return Math.max(0, longest, Math.round((left / (meanRate * parallel)) * 1000));
  }

  /** Instances being moved right now (requested, queued, running, retrying), oldest request first. */
  inFlight(): InstanceView[] {
    return [...this.instances.values()]
      .filter((v) => v.state === 'requested' || v.state === 'queued' || v.state === 'running' || v.state === 'retrying')
      .sort((a, b) => (a.firstStartedAt ?? 0) - (b.firstStartedAt ?? 0) || a.order - b.order);
  }

  private instance(serverId: string, name: string): InstanceView {
    let v = this.instances.get(serverId);
    if (!v) {
      v = {
        serverId,
        name: clean(name),
        projectId: null,
        projectName: null,
        cls: null,
        method: null,
        from: this.command === 'undrain' ? null : this.host,
        target: null,
        to: null,
        state: 'waiting',
        migrationStatus: null,
        attempt: 0,
        adopted: false,
        firstStartedAt: null,
        attemptStartedAt: null,
        queuedAt: null,
        finishedAt: null,
        durationMs: null,
        percent: null,
        memoryTotalBytes: null,
        memoryProcessedBytes: null,
        memoryRemainingBytes: null,
        rateBps: null,
        etaMs: null,
        stalledForMs: 0,
        lastSampleAt: null,
        migrationId: null,
        error: null,
        reason: null,
        waitingFor: null,
        order: this.instances.size,
      };
      this.instances.set(serverId, v);
    }
    return v;
  }

  /** Transfer rate and ETA from two successive samples of the same migration (smoothed). */
  private sample(v: InstanceView, at: number, migrationId: number | null, total: number | null, processed: number | null, remaining: number | null): void {
    if (migrationId !== v.migrationId) {
      v.migrationId = migrationId;
      v.lastSampleAt = null;
      v.rateBps = null;
      v.etaMs = null;
    }
    const prevAt = v.lastSampleAt;
    const prevProcessed = v.memoryProcessedBytes;
    const prevRemaining = v.memoryRemainingBytes;
    if (prevAt !== null && at > prevAt) {
      const dt = (at - prevAt) / 1000;
      if (processed !== null && prevProcessed !== null && processed >= prevProcessed) {
        const rate = (processed - prevProcessed) / dt;
        v.rateBps = v.rateBps === null ? rate : 0.5 * v.rateBps + 0.5 * rate;
      }
      if (remaining !== null && prevRemaining !== null) {
        const shrink = (prevRemaining - remaining) / dt;
        v.etaMs = shrink > 0 ? Math.round((remaining / shrink) * 1000) : null;
      }
    }
    // One sample says how far it got, not how fast: when the copy began is not in the events
    // (it sat queued behind the compute's slot for an unknown part of the time). No rate, no ETA yet.
    v.memoryTotalBytes = total;
    v.memoryProcessedBytes = processed;
    v.memoryRemainingBytes = remaining;
    v.lastSampleAt = at;
  }

  private note(at: number, kind: NotableKind, text: string): void {
    this.notable.push({ at, kind, text: clean(text) });
    if (this.notable.length > NOTABLE_KEEP) this.notable.splice(0, this.notable.length - NOTABLE_KEEP);
  }
}
