/**
 * Rolling maintenance: one workflow over several hosts, in waves of
 * `max-parallel` (src/machines/rolling.machine.ts), as a saved, resumable run.
 *
 * Each host's run is an ordinary workflow run (runWorkflow) with a fixed id
 * (`<rolling-id>-h<n>`): re-running a wave after a crash resumes each host's
 * run where it was, and a host whose run already finished reports its saved
 * result without touching the cloud. Before each wave the gate checks that
 * the previous wave's hosts are back (nova-compute up and enabled; only when
 * the workflow enables the host) and, for workflows that migrate, that each
 * host of the next wave can be emptied onto the hosts outside the wave.
 */
import { createActor, fromPromise, type Snapshot } from 'xstate';
import { HostmaintError, errorText, type ErrorKind } from '../core/errors.js';
import { exitCodeForKind } from '../core/exit-codes.js';
import type { CloudSession } from '../openstack/api.js';
import type { Clients, RunDeps } from '../library/drain.js';
import { rollingGate } from '../rolling/gate.js';
import { MoveBudget } from '../actors/move-budget.js';
import { checkEnvRefs } from '../workflow-file/placeholders.js';
import { checkRollingRunId } from '../rolling/ids.js';
import type { Workflow, WorkflowSource } from '../workflow-file/types.js';
import type { PolicyOverrides } from '../policies/types.js';
import { ROLLING_MACHINE_VERSION, describeRolling, rollingMachine } from '../machines/rolling.machine.js';
import type { GateInput, GateOutput, RollingContext, RollingHost, RollingOutcome, WaveInput, WaveOutput } from '../machines/rolling.types.js';
import { takeHost } from './hold.js';
import { RunRecorder, newRecordFor } from './recorder.js';
import { checkResumable, markResumed, newRunIdFor, recordingEmit, supersede, type RunOutcome, type RunnerEnv } from './runner.js';
import type { RunRecord } from './schema.js';
import { isUnfinished } from './store.js';
import { runWorkflow } from './workflow-runner.js';

type Session = CloudSession | Clients;

export interface RollingRunRequest {
  /** The hosts, already resolved and ordered (resolveHostList, orderHosts). */
  hosts: string[];
  workflow?: string;
  source?: WorkflowSource;
  overrides?: PolicyOverrides;
  workflowDirs?: string[];
  newRun?: boolean;
  adopt?: boolean;
  resumeRunId?: string;
  /** `hostmaint continue` of the rolling run: approve each host waiting at a gate, as this person (see WorkflowRunRequest). */
  approveBy?: string;
}

export interface RollingResult {
  command: 'rolling';
  workflow: string;
  runId: string;
  outcome: RollingOutcome;
  exitCode: number;
  message: string;
  hosts: RollingHost[];
  maxParallel: number;
  continueOnFailure: boolean;
  /** The command that carries on a waiting or interrupted run. */
  next: string | null;
  timings: { startedAt: string; finishedAt: string; durationMs: number };
}

/** Used as the lock's "host" and the record's host: a rolling run is not one host's. */
export const ROLLING_HOST = '*';

/** The same hosts, in any order: `--order emptiest` orders them afresh each time, and a resume keeps the saved order. */
function sameHosts(a: string[] | undefined, b: string[]): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((h) => set.has(h));
}

/** Read-only: the saved rolling run to continue (asked for, or the unfinished one of the same workflow and hosts), else null. */
async function findResumable(req: RollingRunRequest, env: RunnerEnv): Promise<{ resumeFrom: RunRecord | null; source: WorkflowSource }> {
  const { store } = env;
  const { findWorkflow } = await import('../workflow-file/load.js');
  if (req.resumeRunId) {
    const rec = await store.load(req.resumeRunId);
    await checkResumable(rec, { command: 'rolling', cloud: env.cloudName });
    return { resumeFrom: rec, source: rec.workflowFile as WorkflowSource };
  }
  const source = req.source ?? (await findWorkflow(req.workflow ?? '', { dirs: req.workflowDirs }));
  if (!req.newRun) {
    const unfinished = (await store.list()).records.filter((r) => r.command === 'rolling' && r.cloud === env.cloudName && isUnfinished(r.state));
    const same = unfinished.find((r) => r.workflowFile?.ref === source.ref && sameHosts(r.hosts, req.hosts));
    if (same) {
      await checkResumable(same, { command: 'rolling', cloud: env.cloudName });
      return { resumeFrom: same, source: same.workflowFile as WorkflowSource };
    }
  }
  return { resumeFrom: null, source };
}

/** Under the run's lock: mark the resumed run as ours, or create the new one. */
async function prepare(req: RollingRunRequest, env: RunnerEnv, found: { resumeFrom: RunRecord | null; source: WorkflowSource }, runId: string): Promise<{ record: RunRecord; workflow: Workflow; resumed: boolean }> {
  const { store, clock } = env;
  const now = () => clock.now();
  const notice = env.notice ?? (() => undefined);
  const { workflowFromSource } = await import('../workflow-file/load.js');
  const { resumeFrom, source } = found;
  // Every host's run needs the same environment: a missing {env:NAME} stops the rolling run before its first host.
  checkEnvRefs(workflowFromSource(source, (resumeFrom?.overrides ?? req.overrides ?? {}) as PolicyOverrides).workflow, env.processEnv ?? process.env);
  if (resumeFrom) {
    const rec = await store.load(resumeFrom.runId);
    await checkResumable(rec, { command: 'rolling', cloud: env.cloudName });
    const workflow = workflowFromSource(source, (rec.overrides ?? {}) as PolicyOverrides).workflow;
    notice(`hostmaint: resuming rolling run ${rec.runId} (${workflow.name} over ${rec.hosts?.length ?? 0} hosts; ${rec.state === 'running' ? 'its process died' : rec.state}), started ${rec.startedAt} by ${rec.who}.`);
    markResumed(store, rec, now(), {});
    return { record: rec, workflow, resumed: true };
  }
  const workflow = workflowFromSource(source, req.overrides ?? {}).workflow;
  const record = newRecordFor(env, { runId, command: 'rolling', host: ROLLING_HOST, startedAt: new Date(now()).toISOString(), workflowVersion: ROLLING_MACHINE_VERSION, options: { workflow: workflow.name, policies: workflow.policies } });
  record.workflowFile = { ref: source.ref, path: source.path, sha256: source.sha256, content: source.content, format: source.format };
  record.overrides = { ...(req.overrides ?? {}) };
  record.hosts = [...req.hosts];
  store.writeSync(record);
  store.appendJournalSync(runId, { kind: 'decision', time: record.startedAt, runId, host: ROLLING_HOST, pid: process.pid, decision: 'run-created', detail: { command: 'rolling', workflow: workflow.name, hosts: req.hosts, overrides: record.overrides } });
  if (req.newRun) {
    // The replaced rolling run goes with its hosts' unfinished runs (else they would hold their hosts).
    const { records } = await store.list();
    for (const r of records.filter((x) => x.command === 'rolling' && x.cloud === env.cloudName && isUnfinished(x.state) && x.runId !== runId)) {
      if (r.workflowFile?.ref !== source.ref || !sameHosts(r.hosts, req.hosts)) continue;
      const why = `replaced by rolling run ${runId} (--new-run)`;
      supersede(store, r, why, now);
      for (const child of records.filter((x) => x.parentRunId === r.runId && isUnfinished(x.state))) supersede(store, child, why, now);
      notice(`hostmaint: unfinished rolling run ${r.runId} and its hosts' unfinished runs are superseded: ${why}.`);
    }
  }
  return { record, workflow, resumed: false };
}

/** Run (or resume) a workflow over several hosts. */
export async function runRolling(session: Session, req: RollingRunRequest, env: RunnerEnv): Promise<RunOutcome<RollingResult>> {
  env.store.ensureSync();
  if (req.hosts.length === 0 && !req.resumeRunId) throw new HostmaintError('usage', 'no hosts to run the workflow on', { hint: 'Name hosts, or give --hosts-file, --hosts-from-aggregate or --hosts-from-zone.' });
  const found = await findResumable(req, env);
  const runId = found.resumeFrom?.runId ?? (await newRunIdFor(env.clock));
  if (!found.resumeFrom) checkRollingRunId(runId, req.hosts.length);
  // One process per rolling run: the lock comes before the record is touched.
  const lock = await takeHost(env, { host: `rolling-${runId}`, runId, command: 'rolling', resumeRunId: req.resumeRunId });
  try {
    const { record, workflow, resumed } = await prepare(req, env, found, runId);
    return await execute(session, env, record, workflow, resumed, req.approveBy);
  } finally {
    await lock.close();
  }
}

async function execute(session: Session, env: RunnerEnv, record: RunRecord, workflow: Workflow, resumed: boolean, approveBy?: string): Promise<RunOutcome<RollingResult>> {
  const { clock, logger } = env;
  const startedAt = clock.now();
  const recorder = new RunRecorder(env.store, record, () => clock.now());
  const source = record.workflowFile as WorkflowSource;
  const overrides = (record.overrides ?? {}) as PolicyOverrides;
  const enables = workflow.steps.some((s) => s.type === 'enable');
  const migrates = workflow.steps.some((s) => s.type === 'migrate');
  const notice = env.notice ?? (() => undefined);
  const emit = recordingEmit(recorder, env);
  const pending = new Set<Promise<unknown>>();

  const gate = fromPromise<GateOutput, GateInput>(async ({ input, signal }) => {
    // Only a workflow that enables the host brings it back; only one that migrates needs room elsewhere.
    const previous = enables ? input.previous : [];
    if (!migrates && previous.length === 0) return { ok: true, exitCode: 0, message: 'nothing to check before this wave', skip: [] };
    const next = migrates ? input.next : [];
    const out = await rollingGate(session, { previous, next }, workflow.policies, { logger, clock, signal });
    notice(`hostmaint: before ${input.next.join(', ')}: ${out.message}`);
    return out;
  });

  // --max-total: the moves in flight of every host's drain, counted together (this process).
  const maxTotal = workflow.policies.maxTotal ?? null;
  const moves = maxTotal !== null ? new MoveBudget(maxTotal) : undefined;
  const runWave = fromPromise<WaveOutput, WaveInput>(({ input, signal }) => {
    const wave = Promise.all(
      input.hosts.map(async ({ host, childRunId }) => {
        try {
          const out = await runWorkflow(session, { host, source, overrides, runId: childRunId, parentRunId: record.runId, ...(approveBy !== undefined ? { approveBy } : {}) }, { ...env, signal, onActive: undefined, emit, ...(moves ? { moves } : {}) });
          const r = out.result;
          const status: 'done' | 'failed' | 'waiting' = r.exitCode === 0 ? 'done' : r.outcome === 'waiting-approval' ? 'waiting' : 'failed';
          return { host, status, exitCode: r.exitCode, message: r.message };
        } catch (e) {
          const kind = (e as { kind?: ErrorKind }).kind;
          return { host, status: 'failed' as const, exitCode: kind ? exitCodeForKind(kind) : 1, message: errorText(e) };
        }
      }),
    ).then((results) => ({ results }));
    pending.add(wave);
    void wave.finally(() => pending.delete(wave));
    return wave;
  });

  const machine = rollingMachine.provide({ actors: { gate, runWave } });
  const snapshot = resumed && record.snapshot !== null ? (JSON.parse(JSON.stringify(record.snapshot)) as Snapshot<unknown>) : undefined;
  const actor = createActor(machine, {
    input: { runId: record.runId, hosts: record.hosts ?? [], maxParallel: workflow.policies.maxParallel, continueOnFailure: workflow.policies.continueOnFailure },
    ...(snapshot ? { snapshot } : {}),
  });
  env.onActive?.({ record, saveInterrupted: (reason) => recorder.markInterrupted(reason), abandon: (reason) => recorder.abandon(reason) });
  const { runToEnd, PhaseClock } = await import('../library/drain.js');
  const deps: RunDeps = { logger, clock, emit, ...(env.signal ? { signal: env.signal } : {}), onSnapshot: (p) => recorder.onSnapshot({ ...p, host: ROLLING_HOST }) };
  let ctx: RollingContext;
  try {
    const out = await runToEnd<RollingContext & { host: string }>(
      { actor, context: () => ({ ...(actor.getSnapshot().context as RollingContext), host: ROLLING_HOST }) },
      'rolling',
      ROLLING_MACHINE_VERSION,
      deps,
      new PhaseClock(clock),
    );
    ctx = out.context;
    if (out.crashed) ctx = { ...ctx, outcome: 'error', exitCode: 1, error: `rolling run error: ${errorText(out.crashed)}` };
  } catch (e) {
    recorder.abandon(`the rolling run stopped on an error: ${errorText(e)}`);
    throw e;
  }
  // An interrupt stops the wave: let its hosts' runs save themselves before this run is saved.
  await Promise.allSettled([...pending]);
  const outcome = ctx.outcome ?? 'error';
  const message = describeRolling(ctx);
  const state = outcome === 'waiting-approval' ? 'waiting' : outcome === 'interrupted' ? 'interrupted' : 'finished';
  const now = clock.now();
  const result: RollingResult = {
    command: 'rolling',
    workflow: workflow.name,
    runId: record.runId,
    outcome,
    exitCode: ctx.exitCode ?? 1,
    message,
    hosts: ctx.hosts,
    maxParallel: ctx.maxParallel,
    continueOnFailure: ctx.continueOnFailure,
    next: state === 'waiting' ? `hostmaint continue ${record.runId}` : state === 'interrupted' ? `hostmaint resume ${record.runId}` : null,
    timings: { startedAt: new Date(startedAt).toISOString(), finishedAt: new Date(now).toISOString(), durationMs: now - startedAt },
  };
  const saved = recorder.finishWith({ outcome, exitCode: result.exitCode, message, result: result as unknown as Record<string, unknown>, state, stateReason: state === 'finished' ? null : message });
  logger.info(message, { runId: record.runId, outcome, exitCode: result.exitCode });
  return { result, record: saved, resumed, resumable: state !== 'finished' };
}
