import { commandWords } from './words.js';
import type { Argv, CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { budgetFromArgv, budgetOptions, commandPolicies, finishSavedRun, runnerEnv } from '../saved-runs.js';
import { drainOptionsFrom, parseFlagValue, POLICIES, policyFlagOptions, policyOverridesFromArgv } from '../../policies/policies.js';
import type { CommandRun, CommonArgs } from '../session.js';
import { rememberHosts } from '../hosts-cache.js';
import { runOptions } from '../global-options.js';
import type { ListingFormat } from '../../report/listing.js';
import { usageError } from '../../core/errors.js';
import { hostArgument } from '../host-arg.js';
import { EXIT } from '../../core/exit-codes.js';
import type { DrainOptions } from '../../machines/options.js';
import type { DrainResult } from '../../machines/results.js';
import type { WorkflowPolicies } from '../../policies/types.js';

interface DrainArgs extends CommonArgs {
  host: string;
  dryRun: boolean;
  yes: boolean;
  adopt: boolean;
  newRun: boolean;
  /** The policy flags (policyFlagOptions('drain')), raw as given. */
  [policy: string]: unknown;
}

/** What a plan does not read: asked for, or used only while moving. Accepted (a drain's flags can be tried on a plan), not shown. */
const NOT_READ_BY_PLAN = new Set(['yes', 'adopt', 'new-run', 'dry-run', 'reason', 'concurrency', 'retries', 'migration-timeout', 'stall-timeout', 'on-timeout', 'poll-interval', 'report', 'events', 'max-hosts-out', 'budget-scope', 'wait']);

/** drain's flags a plan reads, and a listing's output (-f table|json|yaml|value|csv, -c COLUMN), as openstackclient's. */
function planFlags(y: Argv): Argv {
  const shown = drainFlags(y, { listing: true });
  for (const k of NOT_READ_BY_PLAN) shown.hide(k);
  return shown;
}

function drainFlags(y: Argv, output: { listing?: boolean } = {}): Argv {
  return runOptions(y, output)
    .options(policyFlagOptions('drain'))
    .options(budgetOptions)
    .option('adopt', { type: 'boolean', default: false, group: 'Runs:', describe: 'Carry on under another hostmaint run\'s marker on the service (a run this machine does not know may still be live elsewhere)' })
    .option('new-run', { type: 'boolean', default: false, group: 'Runs:', describe: 'Start a new run even if an unfinished one of this host is saved (it is marked superseded)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Only plan: the same as `hostmaint plan` (changes nothing)' })
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation (never asked when not on a terminal)' });
}

/** The command's options: the drain workflow's effective policies (workflows/drain.yaml, or the operator's own drain.yaml), its flags applied. */
function drainOptions(argv: DrainArgs, dryRun: boolean, p: WorkflowPolicies): DrainOptions {
  const host = hostArgument(argv.host);
  if (p.targets?.includes(host)) throw usageError(`--target ${host} is the host being drained`, 'Name other hosts as targets.');
  return { ...drainOptionsFrom(p), dryRun };
}

async function runDrain(state: CommandState, argv: DrainArgs, dryRun: boolean): Promise<void> {
  const policies = await commandPolicies(state, 'drain', ['disable', 'preflight', 'migrate', 'verify-empty'], argv);
  const options = drainOptions(argv, dryRun, policies);
  if (!dryRun) budgetFromArgv(argv); // a malformed budget is a usage error before the cloud is asked anything
  if (dryRun && (argv.adopt || argv.newRun)) {
    throw usageError(`${argv.adopt ? '--adopt' : '--new-run'} cannot be used with a plan (--dry-run / hostmaint plan)`, 'A plan changes nothing and saves no run; drop the flag, or run `hostmaint drain` without --dry-run.');
  }
  if (dryRun && Array.isArray(argv.column) && argv.column.length > 0) {
    // An unknown -c column is a usage error before the cloud is asked anything.
    const [{ pickColumns }, { PLAN_LISTING_HEADERS }] = await Promise.all([import('../../report/listing.js'), import('../../report/result.js')]);
    pickColumns(PLAN_LISTING_HEADERS, argv.column as string[]);
  }
  const { withCommandRun } = await import('../session.js');
  await withCommandRun(state, argv, async (run) => {
    const { drainHost, checkTargetNames } = await import('../../library/drain.js');
    const host = String(argv.host).trim();
    const deps = { logger: run.logger, clock: run.cloud.clock, emit: run.output.emit, signal: run.signal };
    // Names of targets the cloud does not know: exit 2 before anything changes (reads only).
    await checkTargetNames(run.cloud.session, options, { signal: run.signal });
    if (dryRun) {
      const unfinished = (await run.store.unfinishedFor(host)).filter((r) => r.command === 'drain' && r.cloud === run.cloud.cloudName);
      if (unfinished[0]) state.io.stderr.write(`hostmaint: note: run ${unfinished[0].runId} (drain of ${host}) is unfinished; \`hostmaint drain ${host}\` resumes it.\n`);
      const result = await drainHost(run.cloud.session, host, options, deps);
      rememberHostsOf(run, host, result);
      run.output.result(result, { apiRequests: run.cloud.session.requestCount() }, await planAsListing(argv, result));
      state.exitCode = result.exitCode;
      return;
    }
    await run.coord.pullRuns(run.store, { host });
    const willResume = !argv.newRun && (await run.store.unfinishedFor(host)).some((r) => r.command === 'drain' && r.cloud === run.cloud.cloudName);
    if (!willResume && !argv.yes && state.io.interactive && state.io.confirm) {
      const { formatDrainResult } = await import('../../report/result.js');
      const plan = await drainHost(run.cloud.session, host, { ...options, dryRun: true }, { ...deps, emit: undefined });
      state.io.stderr.write(formatDrainResult(plan));
      if (plan.exitCode !== EXIT.OK) {
        state.exitCode = plan.exitCode;
        return;
      }
      const n = plan.plan.length;
      if (!(await state.io.confirm(`Disable nova-compute on ${host} and move ${n} instance(s) off it?`))) {
        state.io.stderr.write('Not confirmed: nothing was changed.\n');
        state.exitCode = EXIT.NOT_CONFIRMED;
        return;
      }
    }
    const { runDrain: runSaved } = await import('../../runs/runner.js');
    const reason = `${options.reason} (by ${run.who})`;
    const out = await runSaved(
      run.cloud.session,
      { host, options: { ...options, reason }, adopt: argv.adopt, newRun: argv.newRun },
      runnerEnv(state, run, argv),
    );
    if (out.resumed) warnIgnoredFlags(state, argv, out.result);
    rememberHostsOf(run, host, out.result);
    finishSavedRun(state, run, out);
  });
}

/** `plan -f yaml|value|csv`, or `-c COLUMN`: the plan's instances as a listing; otherwise undefined (the usual result). */
async function planAsListing(argv: DrainArgs, result: DrainResult): Promise<string | undefined> {
  const format = String(argv.format);
  const columns = argv.column as string[] | undefined;
  if (format === 'json' || (format === 'table' && (columns === undefined || columns.length === 0))) return undefined;
  const [{ formatListing }, { planListing }] = await Promise.all([import('../../report/listing.js'), import('../../report/result.js')]);
  const { headers, rows } = planListing(result);
  return formatListing(headers, rows, format as Exclude<ListingFormat, 'json'>, columns);
}

/** The compute hosts a drain or plan saw (the host, its targets, the names Nova suggested), for completion. */
function rememberHostsOf(run: CommandRun, host: string, result: DrainResult): void {
  const seen = [...(result.preflight?.targets ?? []).map((t) => t.host), ...result.suggestions];
  rememberHosts(run.store.dir, run.cloud.cloudName, result.outcome === 'unknown-host' ? seen : [host, ...seen]);
}

/** On resume the saved run's options apply: say which policy flags given differ from them. */
function warnIgnoredFlags(state: CommandState, argv: DrainArgs, result: DrainResult): void {
  const saved = result.options as unknown as Record<string, unknown>;
  const given = policyOverridesFromArgv(argv, 'drain');
  const differ = POLICIES.filter((p) => p.key !== 'reason' && given[p.key] !== undefined && JSON.stringify(parseFlagValue(p, given[p.key])) !== JSON.stringify(saved[p.model] ?? null));
  if (differ.length > 0) {
    state.io.stderr.write(`hostmaint: note: the resumed run kept its own options; these given ones differ and were not applied: ${differ.map((p) => p.key).join(', ')} (use --new-run to start over with them).\n`);
  }
}

export function drainCommand(state: CommandState): CommandModule<object, DrainArgs> {
  return {
    ...commandWords('drain', (y) => drainFlags(y)),
    handler: (argv) => runDrain(state, argv, argv.dryRun),
  };
}

export function planCommand(state: CommandState): CommandModule<object, DrainArgs> {
  return {
    ...commandWords('plan', (y) => planFlags(y)),
    handler: (argv) => runDrain(state, argv, true),
  };
}
