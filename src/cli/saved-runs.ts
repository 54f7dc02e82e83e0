/**
 * What the commands that run saved runs share (drain, undrain, resume, run,
 * continue): the policies of the command's workflow, the runner's environment,
 * a saved run found by id, and how a finished run is printed with how to go on.
 */
import { withDemoEnv } from './demo-env.js';
import type { CommandState } from './state.js';
import type { CommandRun, CommonArgs } from './session.js';
import { usageError } from '../core/errors.js';
import type { RunnerEnv, RunOutcome } from '../runs/runner.js';
import type { RunRecord, RunStore } from '../runs/store.js';
import type { WorkflowResult } from '../runs/workflow-runner.js';
import type { RollingResult } from '../runs/rolling-runner.js';
import type { DrainResult, UndrainResult } from '../machines/results.js';
import type { WorkflowPolicies } from '../policies/types.js';

/**
 * The effective policies of the workflow a command runs, its policy flags applied (`drain` -> drain.yaml, `undrain` -> undrain.yaml),
 * looked up like any workflow name, so an operator's own drain.yaml sets the defaults. Its steps
 * must be the command's own: other steps belong in a workflow run with `hostmaint run`.
 */
export async function commandPolicies(state: CommandState, name: 'drain' | 'undrain', steps: string[], argv: Record<string, unknown>): Promise<WorkflowPolicies> {
  const { loadWorkflow, sourceLabel } = await import('../workflow-file/load.js');
  const { policyOverridesFromArgv } = await import('../policies/policies.js');
  const loaded = await loadWorkflow(name, { env: state.io.env, overrides: policyOverridesFromArgv(argv, name) });
  const types = loaded.workflow.steps.map((s) => s.type);
  if (types.join(',') !== steps.join(',')) {
    throw usageError(
      `the ${name} workflow ${sourceLabel(loaded.source)} has the steps ${types.join(', ')}; \`hostmaint ${name}\` runs exactly ${steps.join(', ')}`,
      `Keep ${name}.yaml's steps as shipped (change its policies freely), and put other steps in a workflow of your own: \`hostmaint run <your-workflow> <host>\`.`,
    );
  }
  return loaded.workflow.policies;
}

/** What the saved-run runner needs from a command's run (the same for drain, undrain and resume). */
export function runnerEnv(state: CommandState, run: CommandRun): RunnerEnv {
  return {
    store: run.store,
    logger: run.logger,
    clock: run.cloud.clock,
    cloudName: run.cloud.cloudName,
    user: run.cloud.session.identity.userName,
    who: run.who,
    argv: run.argv,
    emit: run.output.emit,
    notice: (line) => state.io.stderr.write(`${line}\n`),
    signal: run.signal,
    onActive: run.track,
    processEnv: run.cloud.demo ? withDemoEnv(state.io.env, run.cloud.childEnv) : state.io.env,
    secrets: run.cloud.secrets,
  };
}

/** Print the result of a saved run, and how to resume it when it can be. */
export function finishSavedRun(
  state: CommandState,
  run: CommandRun,
  out: { result: DrainResult | UndrainResult; record: RunRecord | null; resumed: boolean; resumable: boolean },
): void {
  const { result, record } = out;
  const apiRequests = run.cloud.session.requestCount();
  run.logger.info('API requests', apiRequests);
  const runInfo = record
    ? { runId: record.runId, state: record.state, resumed: out.resumed, resumes: record.resumes, stateDir: run.store.dir, resumeCommand: out.resumable ? run.resumeHint(record.runId) : null }
    : null;
  run.output.result(result, { apiRequests, run: runInfo });
  if (record) run.logger.info(`run saved: ${run.store.recordFile(record.runId)}`);
  if (record && out.resumable) {
    state.io.stderr.write(`hostmaint: run ${record.runId} is saved (${record.stateReason ?? record.state}). Resume it with:\n  ${run.resumeHint(record.runId)}\n(or run \`hostmaint ${record.command} ${record.host}\` again).\n`);
  }
  state.exitCode = result.exitCode;
}

/** Print the result of a workflow or rolling run, and how to carry it on when it can be. */
export function finishWorkflowRun(state: CommandState, run: CommandRun, out: RunOutcome<WorkflowResult | RollingResult>): void {
  const { result, record } = out;
  const apiRequests = run.cloud.session.requestCount();
  const runInfo = record ? { runId: record.runId, state: record.state, resumed: out.resumed, resumes: record.resumes, stateDir: run.store.dir, resumeCommand: out.resumable ? run.resumeHint(record.runId) : null } : null;
  run.output.result(result, { apiRequests, run: runInfo });
  if (record && record.state === 'waiting') {
    state.io.stderr.write(`hostmaint: run ${record.runId} is saved, waiting for approval. When it may go on:\n  ${run.resumeHint(record.runId).replace(/^hostmaint resume /, 'hostmaint continue ')}\n`);
  } else if (record && out.resumable) {
    state.io.stderr.write(`hostmaint: run ${record.runId} is saved (${record.stateReason ?? record.state}). Resume it with:\n  ${run.resumeHint(record.runId)}\n`);
  }
  state.exitCode = result.exitCode;
}

/** A saved run by id, from --state-dir (or the default) or its demo/ subdirectory (runs on the built-in demo cloud). */
export async function loadRunAnywhere(state: CommandState, argv: CommonArgs, runId: string): Promise<{ store: RunStore; record: RunRecord }> {
  const path = await import('node:path');
  const { defaultStateDir, RunStore } = await import('../runs/store.js');
  const { checkStateDirFlag } = await import('./session.js');
  const base = argv.stateDir !== undefined ? checkStateDirFlag(argv.stateDir) : defaultStateDir(state.io.env);
  let lastError: unknown = null;
  for (const dir of [base, path.join(base, 'demo')]) {
    const store = new RunStore(dir);
    try {
      return { store, record: await store.load(runId) };
    } catch (e) {
      if (!lastError || !/^no run /.test((e as Error).message)) lastError = e;
    }
  }
  throw lastError;
}
