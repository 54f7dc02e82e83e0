import { commandWords } from './words.js';
import { hostArgument } from '../host-arg.js';
import type { Argv, CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { finishWorkflowRun } from '../saved-runs.js';
import type { CommandRun, CommonArgs } from '../session.js';
import { runOptions } from '../global-options.js';
import { budgetOptions } from '../saved-runs.js';
import { HostmaintError, usageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import { policyFlagOptions } from '../../policies/policies.js';

interface RunArgs extends CommonArgs {
  workflow: string;
  hosts?: string[];
  hostsFile?: string;
  hostsFromAggregate?: string;
  hostsFromZone?: string;
  workflowsDir?: string[];
  adopt: boolean;
  newRun: boolean;
  dryRun: boolean;
  yes: boolean;
  [key: string]: unknown;
}

function hostArgs(argv: RunArgs): string[] {
  const hosts = (argv.hosts ?? []).flatMap((h) => String(h).split(',')).map((h) => h.trim()).filter(Boolean);
  return hosts.map((h) => hostArgument(h, 'Give nova-compute hosts as `openstack compute service list` shows them.'));
}

/** One host and no host-list flag: a workflow run; otherwise a rolling run (even of one host from a list). */
function isRolling(argv: RunArgs, hosts: string[]): boolean {
  return hosts.length !== 1 || argv.hostsFile !== undefined || argv.hostsFromAggregate !== undefined || argv.hostsFromZone !== undefined;
}

async function runHandler(state: CommandState, argv: RunArgs): Promise<void> {
  const hosts = hostArgs(argv);
  if (hosts.length === 0 && argv.hostsFile === undefined && argv.hostsFromAggregate === undefined && argv.hostsFromZone === undefined) {
    throw usageError('no host given', 'Name the hosts (hostmaint run maintenance-cycle compute-01 compute-02), or give --hosts-file, --hosts-from-aggregate or --hosts-from-zone.');
  }
  if (argv.adopt && isRolling(argv, hosts)) throw usageError('--adopt applies to one host', 'Run the workflow on that host alone with --adopt, then the others.');
  // The workflow and the flags are checked before anything touches the cloud.
  const { findWorkflow, workflowFromSource } = await import('../../workflow-file/load.js');
  const { policyOverridesFromArgv } = await import('../../policies/policies.js');
  const overrides = policyOverridesFromArgv(argv, 'run');
  const source = await findWorkflow(String(argv.workflow), { dirs: argv.workflowsDir ?? [], env: state.io.env });
  const loaded = workflowFromSource(source, overrides);
  const { formatProblem, sourceLabel } = await import('../../workflow-file/load.js');
  for (const p of loaded.problems) state.io.stderr.write(`hostmaint: ${formatProblem(p, sourceLabel(source))}\n`);
  const workflow = loaded.workflow;
  const { checkEnvRefs } = await import('../../workflow-file/placeholders.js');
  // A missing {env:NAME} refuses the run before anything happens; a dry run shows its plan and says so.
  let refused: string | null = null;
  // On the demo cloud, the demo's own maintenance command (a reboot of the emulated host) stands in for an unset one.
  const { isBuiltinDemo } = await import('../../config/index.js');
  const { cloudOverrides } = await import('../global-options.js');
  const { withDemoEnv } = await import('../demo-env.js');
  const checkedEnv = isBuiltinDemo(cloudOverrides(argv), state.io.env) ? withDemoEnv(state.io.env) : state.io.env;
  try {
    checkEnvRefs(workflow, checkedEnv);
  } catch (e) {
    if (!argv.dryRun) throw e;
    refused = (e as Error).message;
  }

  const { withCommandRun } = await import('../session.js');
  await withCommandRun(state, argv, async (run) => {
    const { runnerEnv } = await import('../saved-runs.js');
    const env = runnerEnv(state, run, argv as Record<string, unknown>);
    // Target names the cloud does not know: exit 2 before any step runs (reads only), as for drain.
    const { checkTargetNames } = await import('../../library/drain.js');
    await checkTargetNames(run.cloud.session, workflow.policies, { signal: run.signal });
    if (!isRolling(argv, hosts)) {
      const host = hosts[0]!;
      if (argv.dryRun) return dryRun(state, run, workflow.name, [host], workflow.policies, {}, refused);
      if (!(await confirmed(state, argv, `Run workflow ${workflow.name} (${workflow.steps.map((s) => s.name).join(', ')}) on ${host}?`))) return;
      const { runWorkflow } = await import('../../runs/workflow-runner.js');
      const out = await runWorkflow(run.cloud.session, { host, source, overrides, adopt: argv.adopt, newRun: argv.newRun, workflowDirs: argv.workflowsDir ?? [] }, env);
      finishWorkflowRun(state, run, out);
      return;
    }
    const { resolveHostList } = await import('../../rolling/hosts.js');
    const { orderHosts } = await import('../../rolling/order.js');
    const list = await resolveHostList(run.cloud.session.compute, { hosts, file: argv.hostsFile ?? null, aggregate: argv.hostsFromAggregate ?? null, availabilityZone: argv.hostsFromZone ?? null });
    for (const w of list.warnings) state.io.stderr.write(`hostmaint: warning: ${w}\n`);
    const ordered = await orderHosts(run.cloud.session.compute, list.hosts, workflow.policies.order);
    if (argv.dryRun) return dryRun(state, run, workflow.name, ordered.hosts, workflow.policies, ordered.sizes, refused);
    if (!(await confirmed(state, argv, `Run workflow ${workflow.name} on ${ordered.hosts.length} host(s), ${workflow.policies.maxParallel} at a time: ${ordered.hosts.join(', ')}?`))) return;
    const { runRolling } = await import('../../runs/rolling-runner.js');
    const out = await runRolling(run.cloud.session, { hosts: ordered.hosts, source, overrides, newRun: argv.newRun, workflowDirs: argv.workflowsDir ?? [] }, env);
    finishWorkflowRun(state, run, out);
  }, { progress: { steps: workflow.steps.length, hosts: hosts.length > 1 && argv.hostsFile === undefined && argv.hostsFromAggregate === undefined && argv.hostsFromZone === undefined ? hosts : null } });
}

async function confirmed(state: CommandState, argv: RunArgs, question: string): Promise<boolean> {
  if (argv.yes || !state.io.interactive || !state.io.confirm) return true;
  if (await state.io.confirm(question)) return true;
  state.io.stderr.write('Not confirmed: nothing was changed.\n');
  state.exitCode = EXIT.NOT_CONFIRMED;
  return false;
}

/** --dry-run: the hosts in the order they would be taken, each host's read-only plan; changes nothing. */
async function dryRun(
  state: CommandState,
  run: CommandRun,
  name: string,
  hosts: string[],
  policies: import('../../policies/types.js').WorkflowPolicies,
  sizes: Record<string, number> = {},
  refused: string | null = null,
): Promise<void> {
  const { checkCapacityFor } = await import('../../rolling/gate.js');
  const { bulkViews, readThroughSession } = await import('../../openstack/read-cache.js');
  // Read-only: the cloud-wide reads are asked once for all the hosts, and the per-host
  // lookups (service, hypervisor, provider, finished migrations) are served from them.
  const session = bulkViews(readThroughSession(run.cloud.session));
  const { waveFit } = await import('../../rolling/gate.js');
  const rows: Array<{ host: string; instances: number | null; ok: boolean; exitCode: number; message: string }> = [];
  const warnings: string[] = [];
  let wavePlans: Array<{ host: string; result: import('../../machines/results.js').DrainResult | null }> = [];
  for (const [i, host] of hosts.entries()) {
    if (run.signal.aborted) throw new HostmaintError('interrupted', `dry run interrupted after ${i} of ${hosts.length} host(s)`, { hint: 'Nothing was changed.' });
    const wave = hosts.slice(Math.floor(i / policies.maxParallel) * policies.maxParallel, (Math.floor(i / policies.maxParallel) + 1) * policies.maxParallel);
    const c = await checkCapacityFor(session, host, wave, policies, { logger: run.logger, clock: run.cloud.clock, signal: run.signal });
    rows.push({ host, instances: sizes[host] ?? c.result?.plan.length ?? null, ok: c.ok, exitCode: c.exitCode, message: c.message });
    wavePlans.push({ host, result: c.ok ? c.result : null });
    if (wavePlans.length === policies.maxParallel || i === hosts.length - 1) {
      // The wave planned at once, as the run's gate does: a host that fits alone but not with the ones before it.
      for (const r of waveFit(wavePlans, wave)) {
        const row = rows.find((x) => x.host === r.host)!;
        Object.assign(row, { ok: false, exitCode: 3, message: r.message });
      }
      wavePlans = [];
    }
  }
  const exitCode = refused !== null ? EXIT.USAGE : (rows.find((r) => !r.ok)?.exitCode ?? 0);
  if (run.format === 'json') {
    state.io.stdout.write(`${JSON.stringify({ command: 'run', dryRun: true, workflow: name, maxParallel: policies.maxParallel, hosts: rows, warnings, refused, exitCode }, null, 2)}\n`);
  } else {
    run.output.text.write(`Workflow ${name} would run on ${hosts.length} host(s), ${policies.maxParallel} at a time, in this order (nothing was changed):\n`);
    for (const [i, r] of rows.entries()) run.output.text.write(`  ${String(i + 1).padStart(3)}. ${r.host.padEnd(24)} ${r.ok ? 'ok  ' : 'NO  '} ${r.message}\n`);
  }
  for (const w of warnings) state.io.stderr.write(`hostmaint: warning: ${w}\n`);
  if (refused !== null) state.io.stderr.write(`hostmaint: the run would be refused: ${refused}\n`);
  state.exitCode = exitCode;
}

function runFlags(y: Argv): Argv {
  return runOptions(y)
    .options(budgetOptions)
    .option('hosts-file', { type: 'string', group: 'Hosts:', describe: 'Also take hosts from this file: one per line, # comments' })
    .option('hosts-from-aggregate', { type: 'string', group: 'Hosts:', describe: 'Also take every host of this host aggregate (name or id)' })
    .option('hosts-from-zone', { type: 'string', group: 'Hosts:', describe: 'Also take every compute host of this availability zone' })
    .option('workflows-dir', { type: 'string', array: true, group: 'Workflow:', describe: 'Look up workflow names in this directory first (then $HOSTMAINT_WORKFLOWS_DIR, ~/.config/hostmaint/workflows, the shipped ones)' })
    .option('adopt', { type: 'boolean', default: false, group: 'Runs:', describe: "One host: carry on under another hostmaint run's marker on the service" })
    .option('new-run', { type: 'boolean', default: false, group: 'Runs:', describe: 'Start a new run even if an unfinished one of the same workflow (and hosts) is saved; it is marked superseded' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Show the hosts in the order they would be taken and whether each one can be emptied now; changes nothing' })
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation (never asked when not on a terminal)' });
}

export function runCommand(state: CommandState): CommandModule<object, RunArgs> {
  return {
    ...commandWords('run', (y) =>
      runFlags(y)
        .options(policyFlagOptions('run'))),
    handler: (argv) => runHandler(state, argv),
  };
}
