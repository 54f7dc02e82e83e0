/**
 * Saved, locked, resumable runs: what `hostmaint drain|undrain|resume` do
 * around drainHost()/undrainHost().
 *
 *   1. take the host's lock (a live holder: host-busy, exit 5; a dead one: taken over);
 *   2. find the host's unfinished runs: `drain` resumes an unfinished drain (and supersedes
 *      an unfinished undrain), `undrain` the reverse; `resume <id>` names the run;
 *   3. refuse a saved run that is not valid or from another workflow version, whole;
 *   4. run the workflow with a RunRecorder (snapshot after every step, journal of events
 *      and decisions), then save the outcome and release the lock.
 *
 * The runner does not call Nova: the machine reads the service and decides whose it is (a
 * marker of a run this machine does not know may be a live run elsewhere: exit 5 unless
 * `adopt`). The runner only tells it what the saved runs know of a run id. A resumed drain that
 * finds its service enabled meanwhile (stale) ends before it acts; `drain` then starts a new
 * run, `resume` says so (exit 5).
 *
 * Library users get the same behaviour as the CLI by calling runDrain / runUndrain.
 */
import os from 'node:os';
import { savedOptionsProblem } from '../policies/policies.js';
import { HostmaintError, errorText } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { CloudSession } from '../openstack/api.js';
import type { Clients, PersistedRun, RunDeps } from '../library/drain.js';
import type { MoveBudget } from '../actors/move-budget.js';
import type { DrainEvent } from '../machines/events.js';
import type { DrainOptions, UndrainOptions } from '../machines/options.js';
import type { DrainResult, UndrainResult } from '../machines/results.js';
import type { RunLookup } from '../actors/deps.js';
import type { HostLock } from './lock.js';
import type { Coordination } from './coord/types.js';
import { holdBudget, takeHost, type BudgetOptions } from './hold.js';
import { RunRecorder, describeProgress, machineOf, newRecordFor, poolProgress } from './recorder.js';
import { snapshotProblems, type RunRecord } from './schema.js';
import { isUnfinished, type RunStore } from './store.js';

export interface RunnerEnv {
  store: RunStore;
  logger: Logger;
  clock: Clock;
  /** The cloud's name, recorded and checked on resume. */
  cloudName: string;
  user: string | null;
  /** "alice@ops-laptop". */
  who: string;
  /** The command line (secrets redacted), recorded. */
  argv: string[];
  emit?: (e: DrainEvent) => void;
  /** Lines for the operator (resuming, superseding, adopting), e.g. to stderr. */
  notice?: (line: string) => void;
  signal?: AbortSignal;
  /** Called once the run's record and lock exist: a signal handler can save it and release the lock synchronously. */
  onActive?: (active: ActiveRun) => void;
  /** The environment workflow steps see (exec's environment, {env:NAME}); default process.env. */
  processEnv?: NodeJS.ProcessEnv;
  /** The cloud's secrets (password, token ...), redacted from what workflow steps report. */
  secrets?: readonly string[];
  /** A rolling run's --max-total, shared by the drains of its hosts (set by the rolling runner). */
  moves?: MoveBudget;
  /** Test hook: every persisted snapshot, after the recorder saw it. */
  onSnapshot?: (p: PersistedRun) => void;
  /** Where hosts are locked and runs shared (default: the local backend on the store's directory). */
  coord?: Coordination;
  /** The host's lock or lease was lost (etcd): the session stops the run, resumable. */
  onLockLost?: (host: string, why: string) => void;
  /** --max-hosts-out: the disruption budget every drain of this command waits for. */
  budget?: BudgetOptions;
  /** Between two looks at a full budget (ms; tests). */
  budgetPollMs?: number;
}

export interface ActiveRun {
  record: RunRecord;
  /** Mark interrupted and write the record now. */
  saveInterrupted(reason: string): void;
  /** Flush and release the lock (synchronous: for a hard exit). */
  abandon(reason: string): void;
}

export interface RunOutcome<R> {
  result: R;
  /** null when nothing was saved (the host has no nova-compute service). */
  record: RunRecord | null;
  /** This call resumed a saved run. */
  resumed: boolean;
  /** The run can be resumed (interrupted, or stopped by a cloud that could not be reached). */
  resumable: boolean;
}

export interface DrainRunRequest {
  host: string;
  /** Options of a new run (a resumed run keeps its own). */
  options: DrainOptions;
  /** Carry on under another hostmaint run's marker on the service. */
  adopt?: boolean;
  /** Start a new run even if an unfinished one exists (which is superseded). */
  newRun?: boolean;
  /** Resume exactly this run (hostmaint resume). */
  resumeRunId?: string;
}

export interface UndrainRunRequest {
  host: string;
  options: UndrainOptions;
  newRun?: boolean;
  resumeRunId?: string;
}

type Session = CloudSession | Clients;

function workflowVersions(): Promise<Record<RunRecord['workflow']['name'], number>> {
  return Promise.all([import('../machines/drain.machine.js'), import('../machines/undrain.machine.js'), import('../machines/workflow.machine.js'), import('../machines/rolling.machine.js')]).then(([d, u, w, r]) => ({
    drain: d.DRAIN_MACHINE_VERSION,
    undrain: u.UNDRAIN_MACHINE_VERSION,
    workflow: w.WORKFLOW_MACHINE_VERSION,
    rolling: r.ROLLING_MACHINE_VERSION,
  }));
}

/**
 * Refuse, whole, a saved run that cannot be resumed safely: wrong command or
 * host, over, of another workflow version, or with a snapshot that does not
 * validate.
 */
export async function checkResumable(rec: RunRecord, expect: { command?: RunRecord['command']; host?: string; cloud?: string }): Promise<void> {
  if (expect.command && rec.command !== expect.command) {
    throw new HostmaintError('usage', `run ${rec.runId} is a${rec.command === 'undrain' ? 'n' : ''} ${rec.command}, not a ${expect.command}`, { hint: `Resume it with \`hostmaint resume ${rec.runId}\`.` });
  }
  if (expect.host && rec.host !== expect.host) {
    throw new HostmaintError('usage', `run ${rec.runId} is for host ${rec.host}, not ${expect.host}`);
  }
  if (!isUnfinished(rec.state)) {
    throw new HostmaintError('usage', `run ${rec.runId} (${rec.command} of ${rec.host}) is ${rec.state}${rec.outcome ? ` (${rec.outcome})` : ''}: there is nothing to resume`, {
      hint: `Start a new run: \`${newRunCommand(rec)}\`. \`hostmaint status ${rec.runId}\` shows how it ended.`,
    });
  }
  if (expect.cloud !== undefined && rec.cloud !== expect.cloud) {
    throw new HostmaintError('usage', `run ${rec.runId} ran on cloud '${rec.cloud}', not '${expect.cloud}'`, {
      hint: `Resume it against the same cloud: --os-cloud ${rec.cloud}.`,
    });
  }
  const versions = await workflowVersions();
  const current = versions[rec.workflow.name];
  if (rec.workflow.name !== machineOf(rec.command) || rec.workflow.version !== current) {
    throw new HostmaintError('config', `run ${rec.runId} was saved by ${rec.workflow.name} workflow version ${rec.workflow.version}; this hostmaint runs version ${current} and cannot resume it`, {
      hint: `Nothing was restored. Finish it with the hostmaint that saved it, or start a new run (${newRunCommand(rec)} --new-run): the new run reconciles with what the cloud shows.`,
      details: { runId: rec.runId, savedVersion: rec.workflow.version, currentVersion: current },
    });
  }
  // The options are checked by the same bounds as the flags (a record edited to pollIntervalMs: 0 would flood the cloud).
  if (rec.command === 'drain' || rec.command === 'undrain') {
    const saved = [rec.options, ...(rec.snapshot !== null ? [(rec.snapshot as { context?: { options?: unknown } }).context?.options] : [])];
    for (const o of saved) {
      const problem = o === undefined ? null : savedOptionsProblem(o);
      if (problem !== null) {
        throw new HostmaintError('config', `the saved run ${rec.runId} has options out of range: ${problem}`, {
          hint: `Nothing was restored and nothing was sent to the cloud. Start a new run (${newRunCommand(rec)} --new-run): it reconciles with what the cloud shows.`,
        });
      }
    }
  }
  if (rec.snapshot !== null) {
    const snapshotProblem = snapshotProblems(rec.snapshot, rec.workflow.name) ?? (await unknownStateProblem(rec.snapshot, rec.workflow.name));
    if (snapshotProblem !== null) {
      throw new HostmaintError('config', `the saved snapshot of run ${rec.runId} is not valid: ${snapshotProblem}`, {
        hint: `Nothing was restored. Start a new run (${newRunCommand(rec)} --new-run): it reconciles with what the cloud shows.`,
      });
    }
    const ctx = (rec.snapshot as { context: { runId: string; host: string } }).context;
    if (ctx.runId !== rec.runId || (rec.command !== 'rolling' && ctx.host !== rec.host)) {
      throw new HostmaintError('config', `the saved snapshot of run ${rec.runId} belongs to run ${ctx.runId} of ${ctx.host}`, {
        hint: 'Nothing was restored. The record was edited or mixed up; move it away and start a new run.',
      });
    }
  }
}

interface StateNodeLike {
  states: Record<string, StateNodeLike>;
}

/** Null when the snapshot's state value names states of its machine, else which one it does not know. */
async function unknownStateProblem(snapshot: unknown, machine: RunRecord['workflow']['name']): Promise<string | null> {
  const m =
    machine === 'drain' ? (await import('../machines/drain.machine.js')).drainMachine
    : machine === 'undrain' ? (await import('../machines/undrain.machine.js')).undrainMachine
    : machine === 'workflow' ? (await import('../machines/workflow.machine.js')).workflowMachine
    : (await import('../machines/rolling.machine.js')).rollingMachine;
  const walk = (node: StateNodeLike, value: unknown, at: string): string | null => {
    if (typeof value === 'string') return node.states[value] ? null : `it is in state '${at}${value}', which the ${machine} workflow does not have`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return `its state value ${JSON.stringify(value)} is not a state`;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const child = node.states[k];
      if (!child) return `it is in state '${at}${k}', which the ${machine} workflow does not have`;
      const p = walk(child, v, `${at}${k}.`);
      if (p !== null) return p;
    }
    return null;
  };
  return walk((m as unknown as { root: StateNodeLike }).root, (snapshot as { value?: unknown }).value, '');
}

/** The command that starts a run like this one again. */
function newRunCommand(rec: RunRecord): string {
  if (rec.command === 'run') return `hostmaint run ${rec.workflowFile?.ref ?? '<workflow>'} ${rec.host}`;
  if (rec.command === 'rolling') return `hostmaint run ${rec.workflowFile?.ref ?? '<workflow>'} ${(rec.hosts ?? []).join(' ')}`;
  return `hostmaint ${rec.command} ${rec.host}`;
}

/** A deep copy of the snapshot, ready to restore: a fresh process gets a fresh budget of failed polls. */
export function prepareSnapshot(snapshot: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(snapshot)) as { context: { pollErrors: number } };
  copy.context.pollErrors = 0;
  return copy;
}

/** This process carries the saved run on: running again, here, one more resume, in the journal with what it was. */
export function markResumed(store: RunStore, rec: RunRecord, now: number, detail: Record<string, unknown>): void {
  const previous = { state: rec.state, stateReason: rec.stateReason, pid: rec.pid, machine: rec.machine, phase: rec.phase };
  rec.state = 'running';
  rec.stateReason = null;
  rec.pid = process.pid;
  rec.machine = os.hostname();
  rec.resumes += 1;
  rec.updatedAt = new Date(now).toISOString();
  store.writeSync(rec);
  store.appendJournalSync(rec.runId, { kind: 'decision', time: rec.updatedAt, runId: rec.runId, host: rec.host, pid: process.pid, decision: 'resumed', detail: { previous, ...detail } });
}

/** A run's progress events: into its journal (a failed write is logged, never fatal), then to the caller. */
export function recordingEmit(recorder: RunRecorder, env: Pick<RunnerEnv, 'logger' | 'emit'>): (e: DrainEvent) => void {
  return (e) => {
    try {
      recorder.onEvent(e);
    } catch (err) {
      env.logger.warn('could not write the journal', { error: errorText(err) });
    }
    env.emit?.(e);
  };
}

export function supersede(store: RunStore, rec: RunRecord, reason: string, now: () => number): void {
  rec.state = 'superseded';
  rec.stateReason = reason;
  rec.updatedAt = new Date(now()).toISOString();
  rec.finishedAt = rec.updatedAt;
  store.writeSync(rec);
  store.appendJournalSync(rec.runId, { kind: 'decision', time: rec.updatedAt, runId: rec.runId, host: rec.host, pid: process.pid, decision: 'superseded', detail: { reason } });
}

export async function newRunIdFor(clock: Clock): Promise<string> {
  const { newRunId } = await import('../library/drain.js');
  return newRunId(clock);
}

/** The saved run of that id, null when there is none; a saved run that cannot be read is an error (never guessed around). */
export async function loadIfSaved(store: RunStore, runId: string): Promise<RunRecord | null> {
  try {
    return await store.load(runId);
  } catch (e) {
    if (e instanceof HostmaintError && e.kind === 'usage') return null;
    throw e;
  }
}

/** What the saved runs know of a run id, for the machine's ownership decision. */
export function runLookup(store: RunStore): RunLookup {
  return {
    lookup: async (runId) => {
      const r = await loadIfSaved(store, runId);
      return r ? { runId: r.runId, command: r.command, host: r.host, finished: !isUnfinished(r.state), state: r.state, who: r.who, startedAt: r.startedAt } : null;
    },
  };
}

interface Prepared {
  /** null: the host has no nova-compute service; the workflow reports it, nothing is saved. */
  record: RunRecord | null;
  snapshot: unknown;
  resumed: boolean;
}

/**
 * The saved run to continue: the one asked for (`resume`), else this cloud's newest unfinished run
 * of the same command for the host (none with --new-run). The host's other unfinished runs are
 * superseded, with a notice saying why.
 */
async function chooseRunToResume(
  command: 'drain' | 'undrain',
  req: { host: string; resumeRunId?: string | undefined; newRun?: boolean | undefined },
  env: RunnerEnv,
): Promise<RunRecord | null> {
  const { store } = env;
  const where = { command, host: req.host, cloud: env.cloudName };
  if (req.resumeRunId) {
    const asked = await store.load(req.resumeRunId);
    await checkResumable(asked, where);
    return asked;
  }
  // Only this cloud's runs: the same host name on another cloud is another host.
  const unfinished = (await store.unfinishedFor(req.host)).filter((r) => r.cloud === env.cloudName);
  const candidate = req.newRun ? null : (unfinished.find((r) => r.command === command) ?? null);
  if (candidate) await checkResumable(candidate, where);
  const started = command === 'drain' ? `a drain of ${req.host} was started after it` : `an undrain of ${req.host} was started after it`;
  // An unfinished workflow run (e.g. waiting for approval in the middle of a maintenance cycle) is not
  // silently replaced by a drain: say whose it is. An undrain is the operator ending it, and supersedes it.
  const workflowRun = command === 'drain' && !req.newRun ? unfinished.find((r) => r.command === 'run') : undefined;
  if (workflowRun) {
    throw new HostmaintError('host-busy', `${req.host} is in workflow run ${workflowRun.runId} (${workflowRun.workflowFile?.ref ?? 'workflow'}, ${workflowRun.state}${workflowRun.stateReason ? `: ${workflowRun.stateReason}` : ''}), started ${workflowRun.startedAt} by ${workflowRun.who}`, {
      hint: `Carry it on (\`hostmaint ${workflowRun.state === 'waiting' ? 'continue' : 'resume'} ${workflowRun.runId}\`), or start a drain anyway with --new-run (the workflow run is then superseded).`,
      details: { runId: workflowRun.runId },
    });
  }
  for (const r of unfinished) {
    if (r === candidate) continue;
    const why = r.command !== command ? started : req.newRun ? 'replaced by a new run (--new-run)' : `a newer ${command} of the same host is resumed instead`;
    supersede(store, r, why, () => env.clock.now());
    (env.notice ?? (() => undefined))(`hostmaint: unfinished ${r.command} run ${r.runId} of ${req.host} is superseded: ${why}.`);
  }
  return candidate;
}

/** What differs between a drain's and an undrain's saved run as it is prepared. */
interface PrepareSpec {
  command: 'drain' | 'undrain';
  req: { host: string; resumeRunId?: string | undefined; newRun?: boolean | undefined; options: object };
  /** More facts for the journal when a saved run is resumed. */
  resumedDetail: Record<string, unknown>;
  /** More facts for the journal when a run is created. */
  createdDetail: Record<string, unknown>;
  /** The options as the journal shows them (the undrain's manifest as a count). */
  journalOptions: (options: Record<string, unknown>) => Record<string, unknown>;
}

/** Steps 2-3 for a drain or an undrain, under the lock: resume the saved run, or create one. */
async function prepare(spec: PrepareSpec, env: RunnerEnv, lock: HostLock, version: number): Promise<Prepared> {
  const { command, req } = spec;
  const { store, clock } = env;
  const now = () => clock.now();
  const notice = env.notice ?? (() => undefined);
  const resumeFrom = await chooseRunToResume(command, req, env);

  if (resumeFrom) {
    const rec = resumeFrom;
    lock.setRunId(rec.runId);
    const p = poolProgress(rec.snapshot);
    const progress = command === 'drain' || p.total > 0 ? `; ${describeProgress(p)}` : '';
    notice(
      `hostmaint: resuming ${rec.command} run ${rec.runId} of ${rec.host} (${rec.state === 'running' ? 'its process died' : rec.state}${rec.stateReason ? `: ${rec.stateReason}` : ''}; at ${rec.phase ?? 'the start'}${progress}), started ${rec.startedAt} by ${rec.who}.`,
    );
    markResumed(store, rec, now(), { tookOverLockFrom: lock.tookOverFrom, ...spec.resumedDetail });
    return { record: rec, snapshot: rec.snapshot === null ? undefined : prepareSnapshot(rec.snapshot), resumed: true };
  }

  const runId = lock.holder.runId;
  const record = newRecordFor(env, { runId, command, host: req.host, startedAt: new Date(now()).toISOString(), workflowVersion: version, options: { ...req.options, runId } as Record<string, unknown> });
  store.writeSync(record);
  store.appendJournalSync(runId, {
    kind: 'decision', time: record.startedAt, runId, host: req.host, pid: process.pid, decision: 'run-created',
    detail: { command, options: spec.journalOptions(record.options), ...spec.createdDetail, tookOverLockFrom: lock.tookOverFrom },
  });
  return { record, snapshot: undefined, resumed: false };
}

async function execute<R extends DrainResult | UndrainResult>(
  command: 'drain' | 'undrain',
  env: RunnerEnv,
  lock: HostLock,
  prepared: Prepared,
  options: Record<string, unknown>,
  call: (deps: RunDeps, runOptions: Record<string, unknown>) => Promise<R>,
): Promise<RunOutcome<R>> {
  const { record } = prepared;
  const baseDeps: RunDeps = { logger: env.logger, clock: env.clock, signal: env.signal, runs: runLookup(env.store) };
  if (record === null) {
    // Unknown host: nothing to save or resume; the workflow says what exists.
    const result = await call({ ...baseDeps, emit: env.emit, onSnapshot: env.onSnapshot }, options);
    return { result, record: null, resumed: false, resumable: false };
  }
  const recorder = new RunRecorder(env.store, record, () => env.clock.now());
  if (lock.tookOverFrom) recorder.decision('lock-taken-over', { from: lock.tookOverFrom });
  env.onActive?.({
    record,
    saveInterrupted: (reason) => recorder.markInterrupted(reason),
    abandon: (reason) => {
      recorder.abandon(reason);
      lock.release();
    },
  });
  const deps: RunDeps = {
    ...baseDeps,
    snapshot: prepared.snapshot,
    emit: recordingEmit(recorder, env),
    onSnapshot: (p: PersistedRun) => {
      recorder.onSnapshot(p);
      env.onSnapshot?.(p);
    },
  };
  let result: R;
  try {
    // A resumed snapshot carries its own options; without one (died before the first step) the saved options start it again.
    const runOptions = prepared.snapshot !== undefined ? { runId: record.runId } : { ...record.options, runId: record.runId };
    result = await call(deps, runOptions);
  } catch (e) {
    recorder.abandon(`the ${command} stopped on an error: ${errorText(e)}`);
    throw e;
  }
  if (result.outcome === 'unknown-host' && !prepared.resumed) {
    // Nothing of a host that does not exist is worth keeping: no run is saved (the output says which hosts exist).
    env.store.discardSync(record.runId);
    return { result, record: null, resumed: false, resumable: false };
  }
  const saved = recorder.finish(result);
  return { result, record: saved, resumed: prepared.resumed, resumable: saved.state === 'interrupted' };
}

/** Drain a host as a saved, locked, resumable run (new, or resuming the host's unfinished drain). */
export async function runDrain(session: Session, req: DrainRunRequest, env: RunnerEnv): Promise<RunOutcome<DrainResult>> {
  if (req.options.dryRun) throw new HostmaintError('usage', 'a plan (dry run) is not a saved run: call drainHost() directly');
  env.store.ensureSync();
  const versions = await workflowVersions();
  // `resume RUN --adopt` also takes the host from a live holder at once (etcd: its lease is revoked).
  const lock = await takeHost(env, { host: req.host, runId: req.resumeRunId ?? (await newRunIdFor(env.clock)), command: 'drain', adopt: req.adopt === true && req.resumeRunId !== undefined, resumeRunId: req.resumeRunId });
  let out: RunOutcome<DrainResult>;
  let claim: Awaited<ReturnType<typeof holdBudget>> = null;
  try {
    const adopt = req.adopt === true;
    const prepared = await prepare(
      { command: 'drain', req, resumedDetail: { adopt, explicit: req.resumeRunId !== undefined }, createdDetail: { adopt }, journalOptions: (o) => o },
      env, lock, versions.drain,
    );
    claim = await holdBudget(session, env, lock, req.host);
    const { drainHost } = await import('../library/drain.js');
    out = await execute('drain', env, lock, prepared, { ...req.options }, (deps, opts) => drainHost(session, req.host, { ...(opts as DrainOptions), adopt: req.adopt ?? false }, deps));
  } finally {
    await claim?.release();
    await lock.close();
  }
  if (out.resumed && out.result.stale && out.record) {
    // The saved run found its service changed (enabled again by someone, or an undrain) before it acted: it is over.
    const why = `${out.result.message}; the saved run is stale`;
    supersede(env.store, out.record, why, () => env.clock.now());
    if (req.resumeRunId) {
      throw new HostmaintError('conflict', `run ${out.result.runId} cannot be resumed: ${why}`, { hint: `Nothing was done. Start a new drain: hostmaint drain ${req.host}.`, details: { runId: out.result.runId } });
    }
    (env.notice ?? (() => undefined))(`hostmaint: unfinished drain run ${out.result.runId} of ${req.host} is not resumed: ${why}. Starting a new run.`);
    return runDrain(session, req, env);
  }
  return out;
}

/** Undrain a host as a saved, locked, resumable run. */
export async function runUndrain(session: Session, req: UndrainRunRequest, env: RunnerEnv): Promise<RunOutcome<UndrainResult>> {
  env.store.ensureSync();
  const versions = await workflowVersions();
  const lock = await takeHost(env, { host: req.host, runId: req.resumeRunId ?? (await newRunIdFor(env.clock)), command: 'undrain', resumeRunId: req.resumeRunId });
  try {
    const manifest = `${(req.options.manifest ?? []).length} entries`;
    const prepared = await prepare({ command: 'undrain', req, resumedDetail: {}, createdDetail: {}, journalOptions: (o) => ({ ...o, manifest }) }, env, lock, versions.undrain);
    const { undrainHost } = await import('../library/drain.js');
    return await execute('undrain', env, lock, prepared, { ...req.options }, (deps, opts) => undrainHost(session, req.host, opts as UndrainOptions, deps));
  } finally {
    await lock.close();
  }
}

/** Resume a saved run by id (`hostmaint resume <run-id>`). */
export async function resumeRun(session: Session, runId: string, env: RunnerEnv, opts: { adopt?: boolean } = {}): Promise<RunOutcome<DrainResult | UndrainResult>> {
  await (env.coord?.pullRuns(env.store, { runId }) ?? Promise.resolve());
  const rec = await env.store.load(runId);
  await checkResumable(rec, { cloud: env.cloudName });
  if (rec.command === 'drain') return runDrain(session, { host: rec.host, options: {}, resumeRunId: runId, adopt: opts.adopt ?? false }, env);
  return runUndrain(session, { host: rec.host, options: {}, resumeRunId: runId }, env);
}

/** The command that resumes a run, for messages ("hostmaint resume R --state-dir D --os-cloud C"). */
export function resumeCommand(runId: string, extra: string[] = []): string {
  return ['hostmaint', 'resume', runId, ...extra].join(' ');
}
