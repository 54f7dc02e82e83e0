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
import type { Options } from 'yargs';
import { BUDGET_SCOPES, type BudgetScope } from '../runs/coord/types.js';
import type { BudgetOptions } from '../runs/hold.js';
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
export function runnerEnv(state: CommandState, run: CommandRun, argv: Record<string, unknown> = {}): RunnerEnv {
  const budget = budgetFromArgv(argv);
  return {
    coord: run.coord,
    onLockLost: (host, why) => run.lockLost(host, why),
    ...(budget ? { budget } : {}),
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

/** --max-hosts-out N [--budget-scope S] [--no-wait]: the disruption budget, or null when not asked for. */
export function budgetFromArgv(argv: Record<string, unknown>): BudgetOptions | null {
  const raw = argv['max-hosts-out'];
  const scope = (argv['budget-scope'] ?? 'availability-zone') as BudgetScope;
  if (raw === undefined) {
    if (argv['budget-scope'] !== undefined || argv['wait'] === false) {
      throw usageError(`${argv['budget-scope'] !== undefined ? '--budget-scope' : '--no-wait'} needs --max-hosts-out`, 'Give the budget, e.g. --max-hosts-out 2 --budget-scope availability-zone.');
    }
    return null;
  }
  const max = Number(raw);
  if (!Number.isInteger(max) || max < 1 || max > 10000) throw usageError(`--max-hosts-out ${String(raw)} is not a whole number from 1 to 10000`, 'For example --max-hosts-out 2: at most two hosts out of service per availability zone at once.');
  if (!BUDGET_SCOPES.includes(scope)) throw usageError(`--budget-scope ${String(scope)} is not one of ${BUDGET_SCOPES.join(', ')}`, 'For example --budget-scope availability-zone (the default).');
  return { max, scope, wait: argv['wait'] !== false };
}

/** The flags of the disruption budget (drain, run). */
export const budgetOptions: Record<string, Options> = {
  'max-hosts-out': { type: 'number', group: 'Coordination:', describe: 'Disruption budget: wait until fewer than N hosts of this host\'s scope are out of service (disabled in Nova, or being taken out by any runner), e.g. --max-hosts-out 2' },
  'budget-scope': { choices: ['cloud', 'availability-zone', 'aggregate'], group: 'Coordination:', describe: 'Where --max-hosts-out counts: the whole cloud, the host\'s availability zone (default), or each aggregate the host is in' },
  wait: { type: 'boolean', group: 'Coordination:', describe: 'With --max-hosts-out: wait for room (default); --no-wait refuses at once (exit 5, nothing changed)' },
};

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
  // Not here: with --coordination etcd, a run another runner saved is brought in from etcd.
  const { coordinationUrl } = await import('../runs/coord/index.js');
  const { url } = coordinationUrl(argv['coordination'] as string | undefined, state.io.env);
  if (url !== null && /^no run /.test((lastError as Error | null)?.message ?? '')) {
    const { parseEtcdUrl, findSharedRun, EtcdCoordination } = await import('../runs/coord/etcd.js');
    const endpoints = parseEtcdUrl(url);
    const found = await findSharedRun(endpoints, runId);
    if (found) {
      const coord = new EtcdCoordination({ endpoints, cloudKey: found.cloudKey, cloudName: found.cloud });
      try {
        const store = new RunStore(base);
        store.ensureSync();
        await coord.pullRuns(store, { runId });
        return { store, record: await store.load(runId) };
      } finally {
        await coord.close();
      }
    }
  }
  throw lastError;
}
