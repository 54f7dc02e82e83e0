/**
 * A workflow on one host (`hostmaint run <workflow> <host>`) as a saved,
 * locked, resumable run, like runDrain() for the drain command:
 *
 *   1. take the host's lock;
 *   2. find the run to continue: the one named (resume / continue, or the
 *      deterministic id a rolling run gives each host), else this cloud's
 *      unfinished run of the same workflow on the host (none with newRun);
 *      another unfinished run of the host (a drain, an undrain, another
 *      workflow) is a conflict unless newRun supersedes it;
 *   3. a new run: the host must have a nova-compute service, and a marker of
 *      another hostmaint run on it is a conflict unless `adopt`; the workflow
 *      file is read and validated, and its text and hash go into the record;
 *      a resumed run uses the recorded text (and says when the file changed);
 *   4. run the workflow machine; the nested drain/undrain of each unit saves
 *      its own snapshot into the record, so a resumed unit carries on where it
 *      was; an approve step saves the run as `waiting` (exit 8) until
 *      `hostmaint continue <run-id>` records an approval and resumes it.
 */
import { createActor, type Snapshot } from 'xstate';
import { createHash } from 'node:crypto';
import { HostmaintError, errorText } from '../core/errors.js';
import type { CloudSession } from '../openstack/api.js';
import type { Clients, PersistedRun, RunDeps } from '../library/drain.js';
import { createWorkflowActors } from '../library/workflow-actors.js';
import { resolveHostRef } from '../actors/service.js';
import type { Workflow, WorkflowSource } from '../workflow-file/types.js';
import type { PolicyOverrides } from '../policies/types.js';
import { drainDecision, readService } from '../machines/ownership.js';
import { checkEnvRefs } from '../workflow-file/placeholders.js';
import type { DrainEvent } from '../machines/events.js';
import type { ManifestEntry } from '../machines/records.js';
import type { RunTimings } from '../machines/results.js';
import { WORKFLOW_MACHINE_VERSION, describeWorkflow, workflowMachine, type StepResult, type WorkflowContext, type WorkflowOutcome } from '../machines/workflow.machine.js';
import type { HostLock } from './lock.js';
import { holdBudget, takeHost } from './hold.js';
import { RunRecorder, newRecordFor, valueText } from './recorder.js';
import { checkResumable, loadIfSaved, markResumed, runLookup, newRunIdFor, prepareSnapshot, recordingEmit, supersede, type RunOutcome, type RunnerEnv } from './runner.js';
import type { RunRecord } from './schema.js';
import { isUnfinished, type RunStore } from './store.js';

type Session = CloudSession | Clients;

export interface WorkflowRunRequest {
  host: string;
  /** The workflow's name or path (a new run). */
  workflow?: string;
  /** The workflow already read (a rolling run reads it once for all hosts). */
  source?: WorkflowSource;
  /** Policy flags (file keys, raw values) of a new run. */
  overrides?: PolicyOverrides;
  /** Where to look for workflow names first (--workflows-dir). */
  workflowDirs?: string[];
  adopt?: boolean;
  newRun?: boolean;
  /** Resume exactly this run (resume / continue). */
  resumeRunId?: string;
  /** This host's run inside a rolling run: a fixed id (resumed if saved, its result reused if finished) and the parent's id. */
  runId?: string;
  parentRunId?: string;
  /**
   * `hostmaint continue`: approve the gate the run waits at, as this person. Recorded under the host's
   * lock, only once the run is found waiting and its host still disabled by it: a refused continue records
   * nothing, and a gate has one approval.
   */
  approveBy?: string;
}

export interface WorkflowResult {
  command: 'run';
  workflow: string;
  runId: string;
  host: string;
  outcome: WorkflowOutcome;
  exitCode: number;
  message: string;
  steps: StepResult[];
  failure: WorkflowContext['failure'];
  approval: WorkflowContext['approval'];
  manifest: ManifestEntry[];
  workflowFile: { ref: string; path: string | null; sha256: string; changedSinceStart: boolean };
  /** The command that carries on a waiting or interrupted run. */
  next: string | null;
  timings: Pick<RunTimings, 'startedAt' | 'finishedAt' | 'durationMs'>;
}

const loadFile = () => import('../workflow-file/load.js');

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The workflow of a saved run, from its recorded text; a notice when the file on disk changed since. */
async function recordedWorkflow(rec: RunRecord, env: RunnerEnv, dirs: string[] | undefined): Promise<{ workflow: Workflow; source: WorkflowSource; changed: boolean }> {
  const saved = rec.workflowFile;
  if (!saved) throw new HostmaintError('config', `run ${rec.runId} has no recorded workflow: it cannot be resumed`, { hint: 'Start a new run with --new-run.' });
  if (sha256(saved.content) !== saved.sha256) {
    throw new HostmaintError('config', `the recorded workflow of run ${rec.runId} does not match its hash: the record was edited`, { hint: 'Nothing was restored. Move the record away and start a new run.' });
  }
  const { workflowFromSource, findWorkflow } = await loadFile();
  const source: WorkflowSource = { ...saved };
  let changed = false;
  try {
    const now = await findWorkflow(saved.path ?? saved.ref, { dirs });
    changed = now.sha256 !== saved.sha256;
  } catch {
    changed = true;
  }
  if (changed) {
    (env.notice ?? (() => undefined))(
      `hostmaint: the workflow file ${saved.path ?? saved.ref} changed (or is gone) since run ${rec.runId} started; resuming with the version recorded then (sha256 ${saved.sha256.slice(0, 12)}).`,
    );
  }
  return { workflow: workflowFromSource(source, (rec.overrides ?? {}) as PolicyOverrides).workflow, source, changed };
}

/** Steps 2-3 under the lock: the record to run (new or resumed), or a finished one to report as it is. */
async function prepare(
  session: Session,
  req: WorkflowRunRequest,
  env: RunnerEnv,
  lock: HostLock,
): Promise<{ record: RunRecord; workflow: Workflow; changed: boolean; resumed: boolean; finished: boolean }> {
  const { store, clock } = env;
  const now = () => clock.now();
  const notice = env.notice ?? (() => undefined);
  const where = { command: 'run' as const, host: req.host, cloud: env.cloudName };

  let resumeFrom: RunRecord | null = null;
  if (req.resumeRunId) {
    resumeFrom = await store.load(req.resumeRunId);
    await checkResumable(resumeFrom, where);
  } else if (req.runId) {
    const saved = await loadIfSaved(store, req.runId);
    if (saved && (saved.state === 'superseded' || (!isUnfinished(saved.state) && saved.result === null))) {
      throw new HostmaintError('conflict', `run ${saved.runId} of ${saved.host} was ${saved.state === 'superseded' ? `superseded (${saved.stateReason ?? 'by another run'})` : 'ended without a result'}: it is not redone`, {
        hint: `\`hostmaint status ${saved.runId}\` shows it; run the workflow on ${saved.host} again by itself if it still needs it.`,
      });
    }
    if (saved && !isUnfinished(saved.state)) {
      const { workflow, changed } = await recordedWorkflow(saved, env, req.workflowDirs);
      return { record: saved, workflow, changed, resumed: false, finished: true };
    }
    if (saved) {
      await checkResumable(saved, where);
      resumeFrom = saved;
    }
  }

  // New source (also decides which workflow an unfinished run must match).
  let fresh: { workflow: Workflow; source: WorkflowSource } | null = null;
  if (!resumeFrom) {
    const { findWorkflow, workflowFromSource } = await loadFile();
    const source = req.source ?? (await findWorkflow(req.workflow ?? '', { dirs: req.workflowDirs }));
    fresh = { workflow: workflowFromSource(source, req.overrides ?? {}).workflow, source };
    checkEnvRefs(fresh.workflow, env.processEnv ?? process.env);
  }

  const unfinished = (await store.unfinishedFor(req.host)).filter((r) => r.cloud === env.cloudName && r !== resumeFrom && r.runId !== resumeFrom?.runId);
  if (!resumeFrom && !req.newRun && !req.runId) {
    const same = unfinished.find((r) => r.command === 'run' && r.workflowFile?.ref === fresh!.source.ref);
    if (same) {
      await checkResumable(same, where);
      resumeFrom = same;
    }
  }
  for (const r of unfinished) {
    if (r === resumeFrom || r.runId === resumeFrom?.runId) continue;
    if (r.parentRunId && r.parentRunId === req.parentRunId) continue;
    if (!req.newRun) {
      const what = r.command === 'run' ? `workflow ${r.workflowFile?.ref ?? '?'}` : r.command;
      throw new HostmaintError('host-busy', `${req.host} has an unfinished ${what} run ${r.runId} (${r.state}, started ${r.startedAt} by ${r.who})`, {
        hint: `Finish it first (\`hostmaint resume ${r.runId}\`${r.state === 'waiting' ? ` or \`hostmaint continue ${r.runId}\`` : ''}), or pass --new-run to supersede it.`,
        details: { runId: r.runId },
      });
    }
    const why = 'replaced by a new workflow run (--new-run)';
    supersede(store, r, why, now);
    notice(`hostmaint: unfinished ${r.command} run ${r.runId} of ${req.host} is superseded: ${why}.`);
  }

  if (resumeFrom) {
    const rec = resumeFrom;
    lock.setRunId(rec.runId);
    // A continue of a run that is not waiting (any more) changes nothing.
    if (req.approveBy !== undefined && !req.runId) approvalGate(rec);
    await checkStillDisabled(session, rec, req, env);
    if (req.approveBy !== undefined && rec.state === 'waiting') {
      const { step, recorded, by } = recordApproval(store, rec, req.approveBy, now());
      notice(recorded ? `hostmaint: approved step ${step} of ${rec.host} (run ${rec.runId}) as ${by}.` : `hostmaint: step ${step} of ${rec.host} (run ${rec.runId}) was already approved by ${by}: carrying on with that approval.`);
    }
    const { workflow, changed } = await recordedWorkflow(rec, env, req.workflowDirs);
    checkEnvRefs(workflow, env.processEnv ?? process.env);
    notice(`hostmaint: resuming workflow run ${rec.runId} (${workflow.name} on ${rec.host}; ${rec.state === 'running' ? 'its process died' : rec.state}${rec.stateReason ? `: ${rec.stateReason}` : ''}; at ${rec.phase ?? 'the start'}), started ${rec.startedAt} by ${rec.who}.`);
    markResumed(store, rec, now(), { workflowChanged: changed, tookOverLockFrom: lock.tookOverFrom });
    return { record: rec, workflow, changed, resumed: true, finished: false };
  }

  // A new run: the host must exist, and must not carry another live hostmaint run's marker. A workflow's
  // steps before its drain (a check, a notice) may act, so this is decided before the first step, the way
  // the drain machine decides it (machines/ownership.ts).
  const runId = lock.holder.runId;
  const found = await resolveHostRef({ compute: session.compute, placement: session.placement, logger: env.logger, clock: env.clock, runs: runLookup(store) }, req.host);
  if (!found.found || !found.ref) {
    throw new HostmaintError('unknown-host', `${req.host} has no nova-compute service`, {
      hint: found.suggestions.length ? `Did you mean ${found.suggestions.join(', ')}? Nothing was changed.` : 'Give the host as `openstack compute service list --service nova-compute` shows it. Nothing was changed.',
    });
  }
  const decision = drainDecision(readService(found.ref.service, runId, found.markerRun), req.adopt ?? false, req.host);
  if (decision.action === 'refuse') throw new HostmaintError('host-busy', decision.message, { hint: decision.hint });
  const { workflow, source } = fresh!;
  const record = newRecordFor(env, { runId, command: 'run', host: req.host, startedAt: new Date(now()).toISOString(), workflowVersion: WORKFLOW_MACHINE_VERSION, options: { workflow: workflow.name, policies: workflow.policies } });
  record.workflowFile = { ref: source.ref, path: source.path, sha256: source.sha256, content: source.content, format: source.format };
  record.overrides = { ...(req.overrides ?? {}) };
  record.inner = {};
  record.approvals = [];
  record.parentRunId = req.parentRunId ?? null;
  store.writeSync(record);
  store.appendJournalSync(runId, {
    kind: 'decision', time: record.startedAt, runId, host: req.host, pid: process.pid, decision: 'run-created',
    detail: { command: 'run', workflow: workflow.name, file: source.path ?? source.ref, sha256: source.sha256, overrides: record.overrides, parentRunId: record.parentRunId, adopt: req.adopt === true, tookOverLockFrom: lock.tookOverFrom },
  });
  return { record, workflow, changed: false, resumed: false, finished: false };
}

/**
 * A saved run past its disable (and not yet at its enable) carries on only if the service is still
 * disabled by it: if someone enabled it meanwhile (instances may have landed), the steps after the drain
 * (the reboot ...) must not run. The run is then stale: superseded, exit 5.
 */
async function checkStillDisabled(session: Session, rec: RunRecord, req: WorkflowRunRequest, env: RunnerEnv): Promise<void> {
  const ctx = (rec.snapshot as { context?: WorkflowContext } | null)?.context;
  // A compensation, or the run's own enable, in flight when it stopped may have enabled the host itself: that unit reconciles.
  if (!ctx || ctx.compensation || ctx.units[ctx.cursor]?.kind === 'undrain') return;
  const results = ctx.results.filter((r) => !r.compensation);
  const lastOk = (type: string) => results.map((r, i) => (r.type === type && r.status === 'ok' ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
  if (lastOk('disable') <= lastOk('enable')) return;
  const found = await resolveHostRef({ compute: session.compute, placement: session.placement, logger: env.logger, clock: env.clock, runs: runLookup(env.store) }, rec.host);
  if (!found.found || !found.ref) throw new HostmaintError('unknown-host', `${rec.host} has no nova-compute service any more: run ${rec.runId} cannot be carried on`);
  const service = found.ref.service;
  if (service.status === 'enabled') {
    const why = `nova-compute on ${rec.host} was enabled again after this run disabled it (by someone, or an undrain): instances may have landed on it`;
    supersede(env.store, rec, `${why}; the run is stale`, () => env.clock.now());
    throw new HostmaintError('conflict', `run ${rec.runId} is not carried on: ${why}`, {
      hint: `Nothing was done. Start a new run, which drains the host again: hostmaint run ${rec.workflowFile?.ref ?? '<workflow>'} ${rec.host} --new-run.`,
      details: { runId: rec.runId },
    });
  }
  const decision = drainDecision(readService(service, rec.runId, found.markerRun), req.adopt ?? false, rec.host);
  if (decision.action === 'refuse') throw new HostmaintError('host-busy', decision.message, { hint: decision.hint });
}

function isRestoring(p: PersistedRun): boolean {
  return valueText(p.value)?.startsWith('restoringService') ?? false;
}

export function continueCommand(runId: string): string {
  return `hostmaint continue ${runId}`;
}

function toResult(ctx: WorkflowContext, rec: RunRecord, changed: boolean, startedAt: number, now: number): WorkflowResult {
  const outcome = ctx.outcome ?? 'error';
  const next = outcome === 'waiting-approval' ? continueCommand(rec.runId) : outcome === 'interrupted' || outcome === 'cloud-unreachable' ? `hostmaint resume ${rec.runId}` : null;
  return {
    command: 'run',
    workflow: ctx.workflow,
    runId: rec.runId,
    host: rec.host,
    outcome,
    exitCode: ctx.exitCode ?? 1,
    message: ctx.message ?? describeWorkflow(ctx),
    steps: ctx.results,
    failure: ctx.failure,
    approval: ctx.approval,
    manifest: ctx.manifest,
    workflowFile: { ref: rec.workflowFile?.ref ?? '?', path: rec.workflowFile?.path ?? null, sha256: rec.workflowFile?.sha256 ?? '', changedSinceStart: changed },
    next,
    timings: { startedAt: new Date(startedAt).toISOString(), finishedAt: new Date(now).toISOString(), durationMs: now - startedAt },
  };
}

/** Run (or resume) a workflow on one host as a saved, locked run. */
export async function runWorkflow(session: Session, req: WorkflowRunRequest, env: RunnerEnv): Promise<RunOutcome<WorkflowResult>> {
  env.store.ensureSync();
  const lock = await takeHost(env, { host: req.host, runId: req.resumeRunId ?? req.runId ?? (await newRunIdFor(env.clock)), command: 'run', adopt: req.adopt === true && req.resumeRunId !== undefined, resumeRunId: req.resumeRunId });
  let claim: Awaited<ReturnType<typeof holdBudget>> = null;
  try {
    const prepared = await prepare(session, req, env, lock);
    if (prepared.finished) {
      const saved = prepared.record.result as unknown as WorkflowResult;
      return { result: saved, record: prepared.record, resumed: false, resumable: false };
    }
    // A workflow that takes the host out of service waits for room in the disruption budget first.
    if (prepared.workflow.steps.some((s) => s.type === 'disable')) claim = await holdBudget(session, env, lock, req.host);
    return await execute(session, env, prepared.record, prepared.workflow, prepared.changed, prepared.resumed, req.adopt ?? false);
  } finally {
    await claim?.release();
    await lock.close();
  }
}

async function execute(session: Session, env: RunnerEnv, record: RunRecord, workflow: Workflow, changed: boolean, resumed: boolean, adopt: boolean): Promise<RunOutcome<WorkflowResult>> {
  const { clock, logger } = env;
  const startedAt = clock.now();
  const recorder = new RunRecorder(env.store, record, () => clock.now());
  env.onActive?.({
    record,
    saveInterrupted: (reason) => recorder.markInterrupted(reason),
    abandon: (reason) => recorder.abandon(reason),
  });
  // The values of the variables the workflow declares secret: scrubbed from the record and the journal, and from what steps report.
  const processEnv = env.processEnv ?? process.env;
  const declared = workflow.secrets.map((n) => processEnv[n]).filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  env.store.addSecrets(declared);
  const secrets = [...(env.secrets ?? []), ...declared];
  const emit = recordingEmit(recorder, env);
  const innerTop = new Map<string, string | null>();
  const actors = createWorkflowActors({
    compute: session.compute,
    placement: session.placement,
    workflow,
    logger,
    clock,
    cloud: env.cloudName,
    who: env.who,
    runs: runLookup(env.store),
    ...(env.moves ? { moves: env.moves } : {}),
    adopt,
    secrets,
    emit,
    ...(env.processEnv ? { env: env.processEnv } : {}),
    inner: {
      load: (key) => {
        const saved = record.inner?.[key];
        return saved ? prepareSnapshot(saved.snapshot) : undefined;
      },
      save: (key, p) => {
        if (p.status !== 'active' || isRestoring(p)) return;
        const top = valueText(p.value)?.split('.')[0] ?? null;
        const changedPhase = innerTop.get(key) !== top;
        innerTop.set(key, top);
        // A new phase of the nested drain is on disk before its first request leaves (see RunRecorder).
        recorder.update((rec) => {
          rec.inner = { ...(rec.inner ?? {}), [key]: { machine: p.machine, snapshot: p.snapshot } };
        }, changedPhase);
      },
      loadStep: (key) => record.inner?.[key]?.snapshot,
      saveStep: (key, machine, progress) => {
        recorder.update((rec) => {
          rec.inner = { ...(rec.inner ?? {}), [key]: { machine, snapshot: progress } };
        }, true);
        recorder.decision('step-progress', { step: key, machine, progress });
      },
    },
  });
  const machine = workflowMachine.provide({ actors });
  const snapshot = resumed && record.snapshot !== null ? (JSON.parse(JSON.stringify(record.snapshot)) as Snapshot<unknown>) : undefined;
  const actor = createActor(machine, {
    input: { runId: record.runId, host: record.host, workflow: workflow.name, steps: workflow.steps.map(refOf), compensations: Object.fromEntries(Object.entries(workflow.compensations).map(([k, v]) => [k, v.map(refOf)])) },
    ...(snapshot ? { snapshot } : {}),
  });
  // A run saved at an approve step: carry on only with an approval recorded for that step.
  const waitingAt = snapshot && valueText((snapshot as unknown as { value: unknown }).value) === 'awaitingApproval' ? ((snapshot as unknown as { context: WorkflowContext }).context.approval?.step ?? null) : null;
  const approval = waitingAt ? (record.approvals ?? []).find((a) => a.step === waitingAt) : undefined;
  const afterStart = approval ? [{ type: 'approve', by: approval.by, at: approval.at }] : [];
  if (approval) recorder.decision('approval-used', { step: approval.step, by: approval.by, at: approval.at });

  const { runToEnd, PhaseClock } = await import('../library/drain.js');
  let lastWhere: string | null = null;
  let journaled = snapshot ? ((snapshot as unknown as { context: WorkflowContext }).context.results.length) : 0;
  // The workflow machine's own events (step-started/finished ...) go out (to this run's journal, and to
  // the caller: the output, a rolling run's journal) only once the snapshot they belong to is saved:
  // nothing says a step finished before the record does.
  const pendingJournal: DrainEvent[] = [];
  const writePending = () => {
    for (const e of pendingJournal.splice(0)) emit(e);
  };
  const deps: RunDeps = {
    logger,
    clock,
    emit: (e) => {
      pendingJournal.push(e);
    },
    ...(env.signal ? { signal: env.signal } : {}),
    onSnapshot: (p) => {
      recorder.onSnapshot(p);
      // Each step's outcome goes into the journal as it lands (an exec step's exit status and output tails).
      const context = (p.snapshot as { context?: WorkflowContext } | null)?.context;
      const results = (context?.results ?? []) as StepResult[];
      for (const r of results.slice(journaled)) recorder.decision('step-result', { step: r.name, type: r.type, compensation: r.compensation ?? null, status: r.status, exitCode: r.exitCode, message: r.message, detail: r.detail });
      journaled = Math.max(journaled, results.length);
      // A step that ended is on disk before the next one starts (its first await comes after this):
      // a crash then never runs a finished exec or http step again.
      const where = `${context?.cursor ?? 0}:${context?.compensation?.cursor ?? '-'}:${results.length}`;
      if (where !== lastWhere) {
        lastWhere = where;
        recorder.update(() => undefined, true);
      }
      writePending();
      env.onSnapshot?.(p);
    },
  };
  let ctx: WorkflowContext;
  let paused: boolean;
  try {
    const out = await runToEnd<WorkflowContext>(
      { actor, context: () => actor.getSnapshot().context as WorkflowContext, pauseWhen: (v) => v === 'awaitingApproval', afterStart },
      'workflow',
      WORKFLOW_MACHINE_VERSION,
      deps,
      new PhaseClock(clock),
    );
    ctx = out.context;
    paused = out.paused;
    if (out.crashed) {
      logger.error('the workflow crashed', { error: errorText(out.crashed) });
      ctx = { ...ctx, outcome: 'error', exitCode: 1, failure: { step: '?', exitCode: 1, message: `workflow error: ${errorText(out.crashed)}` } };
    }
  } catch (e) {
    recorder.abandon(`the workflow stopped on an error: ${errorText(e)}`);
    throw e;
  }
  writePending();
  if (paused) ctx = { ...ctx, outcome: 'waiting-approval', exitCode: 8, message: describeWorkflow({ ...ctx, outcome: 'waiting-approval' }) };
  const result = toResult(ctx, record, changed, startedAt, clock.now());
  const state = result.outcome === 'waiting-approval' ? 'waiting' : result.outcome === 'interrupted' || result.outcome === 'cloud-unreachable' ? 'interrupted' : 'finished';
  const saved = recorder.finishWith({
    outcome: result.outcome,
    exitCode: result.exitCode,
    message: result.message,
    error: result.failure,
    result: result as unknown as Record<string, unknown>,
    state,
    stateReason: state === 'waiting' ? `waiting for approval at step ${ctx.approval?.step ?? '?'}` : state === 'interrupted' ? result.message : null,
  });
  logger.info(result.message, { runId: result.runId, host: result.host, outcome: result.outcome, exitCode: result.exitCode });
  return { result, record: saved, resumed, resumable: state !== 'finished' };
}

function refOf(s: Workflow['steps'][number]): { name: string; type: string; onFailure: string; message?: string } {
  return s.type === 'approve' ? { name: s.name, type: s.type, onFailure: s.onFailure, message: s.message } : { name: s.name, type: s.type, onFailure: s.onFailure };
}

/** The step a saved run waits at, if it may be approved now; else why not (nothing is changed). */
export function approvalGate(rec: RunRecord): string {
  const runId = rec.runId;
  if (rec.command !== 'run') throw new HostmaintError('usage', `run ${runId} is a ${rec.command} run: only a workflow run waits for approval`, { hint: `\`hostmaint status ${runId}\` shows it.` });
  if (rec.state !== 'waiting') {
    throw new HostmaintError('usage', `run ${runId} is not waiting for approval (it is ${rec.state}${rec.outcome ? `, ${rec.outcome}` : ''})`, {
      hint: isUnfinished(rec.state) ? `Resume it with \`hostmaint resume ${runId}\`.` : `\`hostmaint status ${runId}\` shows how it ended.`,
    });
  }
  const ctx = (rec.snapshot as { context?: WorkflowContext } | null)?.context;
  const step = ctx?.approval?.step;
  if (!step) throw new HostmaintError('config', `run ${runId} is saved as waiting but its snapshot names no approval step`, { hint: 'The record may have been edited; `hostmaint status` shows it.' });
  return step;
}

/** Record one approval for the gate the run waits at (none if it already has one: that one stands). */
function recordApproval(store: RunStore, rec: RunRecord, by: string, now: number): { step: string; recorded: boolean; by: string } {
  const step = approvalGate(rec);
  const existing = (rec.approvals ?? []).find((a) => a.step === step);
  if (existing) return { step, recorded: false, by: existing.by };
  const at = new Date(now).toISOString();
  rec.approvals = [...(rec.approvals ?? []), { step, by, at }];
  rec.updatedAt = at;
  store.writeSync(rec);
  store.appendJournalSync(rec.runId, { kind: 'decision', time: at, runId: rec.runId, host: rec.host, pid: process.pid, decision: 'approved', detail: { step, by } });
  return { step, recorded: true, by };
}

/**
 * Record an approval for the step the run waits at, without running it (tests; `hostmaint continue`
 * approves inside runWorkflow, under the host's lock: WorkflowRunRequest.approveBy).
 */
export async function approveRun(store: RunStore, runId: string, by: string, now: number): Promise<{ record: RunRecord; step: string }> {
  const rec = await store.load(runId);
  const { step } = recordApproval(store, rec, by, now);
  return { record: rec, step };
}
