/**
 * Binds a running workflow to its saved run: every persisted snapshot the
 * machine reports (drainHost's `onSnapshot`) becomes the record's resumable
 * snapshot, every progress event and every decision a journal line.
 *
 * Writes are coalesced (at most one record write per FLUSH_MS: a burst of
 * steps costs one fsync), and `flush()` writes the last one synchronously —
 * called when the run ends, on a signal and before a hard exit, so the last
 * state is always on disk. A SIGKILL can lose at most the last FLUSH_MS of
 * steps; that is safe because every actor reconciles with the cloud before
 * acting (a resumed step that already happened is recognised, not repeated).
 */
import os from 'node:os';
import type { PersistedRun } from '../library/drain.js';
import type { DrainEvent } from '../machines/events.js';
import type { DrainResult, UndrainResult } from '../machines/results.js';
import type { InstanceRun } from '../machines/actor-io.js';
import type { RunRecord } from './schema.js';
import type { RunStore } from './store.js';

export const FLUSH_MS = 25;

/** "migrating.waiting" from { migrating: 'waiting' }. */
export function valueText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') {
    const [k, v] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (k === undefined) return null;
    const rest = valueText(v);
    return rest ? `${k}.${rest}` : k;
  }
  return String(value);
}

export interface PoolProgress {
  total: number;
  done: number;
  failed: number;
  inFlight: number;
  pending: number;
}

export function poolOf(snapshot: unknown): InstanceRun[] {
  const pool = (snapshot as { context?: { pool?: unknown } } | null)?.context?.pool;
  return Array.isArray(pool) ? (pool as InstanceRun[]) : [];
}

export function poolProgress(snapshot: unknown): PoolProgress {
  const pool = poolOf(snapshot);
  const p = { total: pool.length, done: 0, failed: 0, inFlight: 0, pending: 0 };
  for (const r of pool) {
    if (r.phase === 'done') p.done++;
    else if (r.phase === 'failed') p.failed++;
    else if (r.phase === 'pending') p.pending++;
    else p.inFlight++;
  }
  return p;
}

export function describeProgress(p: PoolProgress): string {
  if (p.total === 0) return 'no migrations planned yet';
  const parts = [`${p.done} of ${p.total} moved`];
  if (p.inFlight) parts.push(`${p.inFlight} in flight`);
  if (p.failed) parts.push(`${p.failed} failed`);
  return parts.join(', ');
}

function isRestoring(value: unknown): boolean {
  return valueText(value)?.startsWith('restoringService') ?? false;
}

export class RunRecorder {
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly requestIds = new Map<string, string>();
  private closed = false;
  private lastTop: string | null = null;

  constructor(
    private readonly store: RunStore,
    readonly record: RunRecord,
    private readonly now: () => number,
  ) {
    for (const r of poolOf(record.snapshot)) if (r.requestId) this.requestIds.set(r.serverId, r.requestId);
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Write the record now (and fsync the journal). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.dirty) return;
    this.dirty = false;
    this.store.writeSync(this.record);
    this.store.syncJournalSync(this.record.runId);
  }

  private touch(): void {
    this.record.updatedAt = this.iso();
    this.dirty = true;
    if (!this.timer && !this.closed) {
      this.timer = setTimeout(() => {
        this.timer = null;
        try {
          this.flush();
        } catch {
          /* reported by the next synchronous flush */
        }
      }, FLUSH_MS);
      this.timer.unref();
    }
  }

  decision(decision: string, detail: Record<string, unknown> = {}): void {
    this.store.appendJournalSync(this.record.runId, {
      kind: 'decision',
      time: this.iso(),
      runId: this.record.runId,
      host: this.record.host,
      pid: process.pid,
      decision,
      detail,
    });
  }

  /** For RunDeps.onSnapshot. */
  readonly onSnapshot = (p: PersistedRun): void => {
    if (this.closed) return;
    this.record.phase = valueText(p.value);
    if (p.status === 'active' && !isRestoring(p.value)) this.record.snapshot = p.snapshot;
    const top = this.record.phase?.split('.')[0] ?? null;
    for (const r of poolOf(p.snapshot)) {
      if (r.requestId && this.requestIds.get(r.serverId) !== r.requestId) {
        this.requestIds.set(r.serverId, r.requestId);
        this.decision('migration-requested', { serverId: r.serverId, name: r.name, method: r.method, attempt: r.attempts, requestId: r.requestId, pinnedHost: r.pinnedHosts.length ? r.pinnedHosts[(r.attempts - 1 + r.pinnedHosts.length) % r.pinnedHosts.length] : null });
      }
    }
    this.touch();
    if (top !== this.lastTop) {
      // A new phase is written before its first request can leave: a resume never re-runs a finished
      // phase (e.g. a preflight after migrations were requested, which would no longer see an instance
      // that already left the host).
      this.lastTop = top;
      this.flush();
    }
  };

  /** For RunDeps.emit: every progress event goes to the journal. */
  readonly onEvent = (e: DrainEvent): void => {
    if (this.closed) return;
    this.store.appendJournalSync(this.record.runId, { kind: 'event', pid: process.pid, ...(e as unknown as Record<string, unknown>) });
  };

  /** Record a signal: the run is saved as interrupted (resumable) right away, before the workflow even stops. */
  markInterrupted(reason: string): void {
    if (this.closed) return;
    this.record.state = 'interrupted';
    this.record.stateReason = reason;
    this.decision('interrupted', { reason });
    this.dirty = true;
    this.flush();
  }

  /** The run ended (any outcome): decide whether it can be resumed, save, stop recording. */
  finish(result: DrainResult | UndrainResult): RunRecord {
    const rec = this.record;
    const outcome = result.outcome;
    const restored = result.command === 'drain' ? result.service.restored : false;
    const resumable =
      rec.snapshot !== null &&
      (outcome === 'interrupted' || ((outcome === 'cloud-unreachable' || outcome === 'error') && !restored && result.command === 'drain') || (outcome === 'cloud-unreachable' && result.command === 'undrain'));
    return this.finishWith({
      outcome,
      exitCode: result.exitCode,
      message: result.message,
      error: result.error ?? null,
      result: result as unknown as Record<string, unknown>,
      state: resumable ? 'interrupted' : 'finished',
      stateReason: !resumable ? null : outcome === 'interrupted' ? (result.error?.message ?? 'interrupted') : `stopped: ${result.error?.message ?? result.message}`,
    });
  }

  /** The run ended or paused: save how (interrupted and waiting runs keep their snapshot to resume from). */
  finishWith(o: { outcome: string; exitCode: number; message: string; error?: unknown; result: Record<string, unknown>; state: 'interrupted' | 'waiting' | 'finished'; stateReason: string | null }): RunRecord {
    const rec = this.record;
    rec.outcome = o.outcome;
    rec.exitCode = o.exitCode;
    rec.result = o.result;
    rec.state = o.state;
    rec.stateReason = o.stateReason;
    if (o.state !== 'finished') {
      rec.phase = valueText((rec.snapshot as { value?: unknown } | null)?.value ?? null);
      rec.finishedAt = null;
    } else rec.finishedAt = this.iso();
    this.decision(o.state === 'interrupted' ? 'stopped-resumable' : o.state === 'waiting' ? 'waiting-for-approval' : 'finished', {
      outcome: o.outcome,
      exitCode: o.exitCode,
      message: o.message,
      error: o.error ?? null,
    });
    this.dirty = true;
    this.flush();
    this.closed = true;
    return rec;
  }

  /** Change the record (e.g. a nested run's snapshot); `now` writes it at once (a new phase must be on disk before it acts). */
  update(change: (rec: RunRecord) => void, now = false): void {
    if (this.closed) return;
    change(this.record);
    this.touch();
    if (now) this.flush();
  }

  /** The workflow threw (a bug or a store failure): keep what we have as resumable. */
  abandon(reason: string): void {
    if (this.closed) return;
    this.record.state = 'interrupted';
    this.record.stateReason = reason;
    try {
      this.decision('stopped-resumable', { reason });
      this.dirty = true;
      this.flush();
    } catch {
      /* the store itself failed; nothing more to do */
    }
    this.closed = true;
  }
}

/** The machine that runs each kind of run. */
export function machineOf(command: RunRecord['command']): RunRecord['workflow']['name'] {
  return command === 'run' ? 'workflow' : command;
}

/** A new run's record, with who ran it, where and how taken from the runner's environment. */
export function newRecordFor(
  env: { cloudName: string; user: string | null; who: string; argv: string[] },
  init: { runId: string; command: RunRecord['command']; host: string; startedAt: string; workflowVersion: number; options: Record<string, unknown> },
): RunRecord {
  return newRecord({ ...init, cloud: env.cloudName, user: env.user, who: env.who, argv: env.argv });
}

export function newRecord(init: {
  runId: string;
  command: RunRecord['command'];
  host: string;
  cloud: string;
  user: string | null;
  who: string;
  argv: string[];
  startedAt: string;
  workflowVersion: number;
  options: Record<string, unknown>;
}): RunRecord {
  return {
    schemaVersion: 2,
    runId: init.runId,
    command: init.command,
    host: init.host,
    cloud: init.cloud,
    user: init.user,
    who: init.who,
    argv: init.argv,
    pid: process.pid,
    machine: os.hostname(),
    startedAt: init.startedAt,
    updatedAt: init.startedAt,
    finishedAt: null,
    state: 'running',
    stateReason: null,
    phase: null,
    outcome: null,
    exitCode: null,
    workflow: { name: machineOf(init.command), version: init.workflowVersion },
    options: init.options,
    snapshot: null,
    resumes: 0,
    result: null,
  };
}
