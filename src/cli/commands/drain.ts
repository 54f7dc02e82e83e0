import type { Argv, CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { commandPolicies, finishSavedRun, flagOr, runnerEnv } from '../saved-runs.js';
import type { CommonArgs } from '../session.js';
import { parseDuration, parseIntFlag } from '../../core/durations.js';
import { usageError } from '../../core/errors.js';
import { EXIT } from '../../core/exit-codes.js';
import type { DrainOptions } from '../../machines/options.js';
import type { DrainResult } from '../../machines/results.js';
import type { WorkflowPolicies } from '../../policies/types.js';

/** Policy flags are undefined when not given: the drain workflow's policy applies. */
interface DrainArgs extends CommonArgs {
  host: string;
  reason?: string;
  concurrency?: number;
  target?: string[];
  aggregate?: string;
  availabilityZone?: string;
  stopped?: 'cold' | 'leave' | 'fail';
  shelved?: 'offload' | 'leave' | 'fail';
  skipBlocked?: boolean;
  waitTimeout?: string;
  migrationTimeout?: string;
  stallTimeout?: string;
  onTimeout?: 'abort' | 'force-complete' | 'wait';
  retries?: number;
  pollInterval?: string;
  probePort?: number;
  probeTimeout?: string;
  pinToPlan?: boolean;
  allowUnreachableTargets?: boolean;
  dryRun: boolean;
  yes: boolean;
  adopt: boolean;
  newRun: boolean;
}

function drainFlags(y: Argv): Argv {
  return y
    .positional('host', { type: 'string', describe: 'The nova-compute host (service host name, exact match)' })
    .option('reason', { type: 'string', group: 'Drain:', describe: 'Why: stamped on the service as "hostmaint:<run-id>: <reason>" [default: from the drain workflow, shipped maintenance]' })
    .option('concurrency', { type: 'number', group: 'Drain:', describe: "Migration requests kept queued in Nova ahead of the source compute's free slots (Nova runs max_concurrent_live_migrations per compute; at most 16 in flight) [default: from the drain workflow, shipped 2]" })
    .option('target', { type: 'string', array: true, group: 'Targets:', describe: 'Only these hosts may receive instances (Nova still validates; never forced)' })
    .option('aggregate', { type: 'string', group: 'Targets:', describe: 'Only hosts of this host aggregate (name or id)' })
    .option('availability-zone', { type: 'string', group: 'Targets:', describe: 'Only hosts in this availability zone' })
    .option('pin-to-plan', { type: 'boolean', group: 'Targets:', describe: 'Request the planned host for each instance instead of letting the scheduler choose [default: from the drain workflow, shipped false]' })
    .option('probe-port', { type: 'number', group: 'Targets:', describe: "TCP port each target must answer on, at its name or Nova's host_ip (e.g. 16509 for libvirt, 22 for ssh) [default: a route check to the address]" })
    .option('allow-unreachable-targets', { type: 'boolean', group: 'Targets:', describe: "Use targets this machine cannot reach (their name does not resolve here and Nova's host_ip fails the check) instead of refusing: from a jump host the computes may still reach each other [default: from the drain workflow, shipped false]" })
    .option('probe-timeout', { type: 'string', group: 'Targets:', describe: 'Timeout of one TCP probe [default: from the drain workflow, shipped 3s]' })
    .option('stopped', { choices: ['cold', 'leave', 'fail'] as const, group: 'Instances:', describe: 'SHUTOFF instances: cold-migrate (then confirm), leave them, or refuse [default: from the drain workflow, shipped cold]' })
    .option('shelved', { choices: ['offload', 'leave', 'fail'] as const, group: 'Instances:', describe: 'SHELVED instances: shelve-offload, leave them, or refuse [default: from the drain workflow, shipped offload]' })
    .option('skip-blocked', { type: 'boolean', group: 'Instances:', describe: 'Leave instances that cannot move (SUSPENDED, ERROR, RESCUE, locked, PCI...) instead of refusing [default: from the drain workflow, shipped false]' })
    .option('wait-timeout', { type: 'string', group: 'Instances:', describe: 'How long to wait for busy instances (task in progress, BUILD) before calling them blocked [default: from the drain workflow, shipped 5m]' })
    .option('migration-timeout', { type: 'string', group: 'Migrations:', describe: 'A migration running longer than this gets the --on-timeout policy [default: from the drain workflow, shipped 1h]' })
    .option('stall-timeout', { type: 'string', group: 'Migrations:', describe: 'A migration with no memory progress for this long gets the --on-timeout policy [default: from the drain workflow, shipped 5m]' })
    .option('on-timeout', { choices: ['abort', 'force-complete', 'wait'] as const, group: 'Migrations:', describe: 'What to do with a stalled or overlong migration (abort: it stays on the source, then is retried) [default: from the drain workflow, shipped abort]' })
    .option('retries', { type: 'number', group: 'Migrations:', describe: 'Extra attempts after a failed migration [default: from the drain workflow, shipped 2]' })
    .option('poll-interval', { type: 'string', group: 'Migrations:', describe: 'How often to look at the migrations (a constant number of API calls per poll) [default: from the drain workflow, shipped 2s]' })
    .option('adopt', { type: 'boolean', default: false, group: 'Runs:', describe: 'Carry on under another hostmaint run\'s marker on the service (a run this machine does not know may still be live elsewhere)' })
    .option('new-run', { type: 'boolean', default: false, group: 'Runs:', describe: 'Start a new run even if an unfinished one of this host is saved (it is marked superseded)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Only plan: the same as `hostmaint plan` (changes nothing)' })
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation (never asked when not on a terminal)' });
}

/** The command's options: each flag given, else the drain workflow's policy (workflows/drain.yaml, or the operator's own drain.yaml). */
function drainOptions(argv: DrainArgs, dryRun: boolean, p: WorkflowPolicies): DrainOptions {
  const host = String(argv.host ?? '').trim();
  if (!host || /\s/.test(host)) throw usageError(`'${argv.host}' is not a host name`, 'Give the nova-compute host as `openstack compute service list` shows it.');
  const given = (argv.target ?? []).flatMap((t) => String(t).split(',')).map((t) => t.trim()).filter(Boolean);
  const targets = given.length > 0 ? given : p.targets;
  if (targets?.includes(host)) throw usageError(`--target ${host} is the host being drained`, 'Name other hosts as targets.');
  const reason = argv.reason ?? p.reason;
  if (reason.trim().length === 0) throw usageError('--reason is empty', 'Say why the host is drained, e.g. --reason "kernel update CHG-1234".');
  const flag = flagOr;
  return {
    reason: reason.trim(),
    dryRun,
    concurrency: flag(argv.concurrency, (v) => parseIntFlag('concurrency', v, 1, 64), p.concurrency),
    targets: targets && targets.length > 0 ? targets : null,
    aggregate: argv.aggregate ?? p.aggregate,
    availabilityZone: argv.availabilityZone ?? p.availabilityZone,
    pinToPlan: argv.pinToPlan ?? p.pinToPlan,
    allowUnreachableTargets: argv.allowUnreachableTargets ?? p.allowUnreachableTargets,
    probePort: argv.probePort === undefined ? p.probePort : parseIntFlag('probe-port', argv.probePort, 1, 65535),
    probeTimeoutMs: flag(argv.probeTimeout, (v) => parseDuration('probe-timeout', v, { minMs: 100, maxMs: 60_000 }), p.probeTimeoutMs),
    stopped: argv.stopped ?? p.stopped,
    shelved: argv.shelved ?? p.shelved,
    skipBlocked: argv.skipBlocked ?? p.skipBlocked,
    waitTimeoutMs: flag(argv.waitTimeout, (v) => parseDuration('wait-timeout', v, { maxMs: 24 * 3_600_000 }), p.waitTimeoutMs),
    migrationTimeoutMs: flag(argv.migrationTimeout, (v) => parseDuration('migration-timeout', v, { minMs: 10_000, maxMs: 48 * 3_600_000 }), p.migrationTimeoutMs),
    stallTimeoutMs: flag(argv.stallTimeout, (v) => parseDuration('stall-timeout', v, { minMs: 5_000, maxMs: 24 * 3_600_000 }), p.stallTimeoutMs),
    onTimeout: argv.onTimeout ?? p.onTimeout,
    retries: flag(argv.retries, (v) => parseIntFlag('retries', v, 0, 10), p.retries),
    pollIntervalMs: flag(argv.pollInterval, (v) => parseDuration('poll-interval', v, { minMs: 200, maxMs: 600_000 }), p.pollIntervalMs),
  };
}

async function runDrain(state: CommandState, argv: DrainArgs, dryRun: boolean): Promise<void> {
  const policies = await commandPolicies(state, 'drain', ['disable', 'preflight', 'migrate', 'verify-empty']);
  const options = drainOptions(argv, dryRun, policies);
  if (dryRun && (argv.adopt || argv.newRun)) {
    throw usageError(`${argv.adopt ? '--adopt' : '--new-run'} cannot be used with a plan (--dry-run / hostmaint plan)`, 'A plan changes nothing and saves no run; drop the flag, or run `hostmaint drain` without --dry-run.');
  }
  const { withCommandRun } = await import('../session.js');
  await withCommandRun(state, argv, async (run) => {
    const { drainHost } = await import('../../library/drain.js');
    const host = String(argv.host).trim();
    const deps = { logger: run.logger, clock: run.cloud.clock, emit: run.output.emit, signal: run.signal };
    if (dryRun) {
      const unfinished = (await run.store.unfinishedFor(host)).filter((r) => r.command === 'drain' && r.cloud === run.cloud.cloudName);
      if (unfinished[0]) state.io.stderr.write(`hostmaint: note: run ${unfinished[0].runId} (drain of ${host}) is unfinished; \`hostmaint drain ${host}\` resumes it.\n`);
      const result = await drainHost(run.cloud.session, host, options, deps);
      run.output.result(result, { apiRequests: run.cloud.session.requestCount() });
      state.exitCode = result.exitCode;
      return;
    }
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
        state.exitCode = EXIT.UNEXPECTED;
        return;
      }
    }
    const { runDrain: runSaved } = await import('../../runs/runner.js');
    const reason = `${options.reason} (by ${run.who})`;
    const out = await runSaved(
      run.cloud.session,
      { host, options: { ...options, reason }, adopt: argv.adopt, newRun: argv.newRun },
      runnerEnv(state, run),
    );
    if (out.resumed) warnIgnoredFlags(state, options, out.result);
    finishSavedRun(state, run, out);
  });
}

/** On resume the saved run's options apply: say which given flags differ from them. */
function warnIgnoredFlags(state: CommandState, given: DrainOptions, result: DrainResult): void {
  const saved = result.options as unknown as Record<string, unknown>;
  const keys: Array<keyof DrainOptions> = ['concurrency', 'stopped', 'shelved', 'skipBlocked', 'targets', 'aggregate', 'availabilityZone', 'pinToPlan', 'allowUnreachableTargets', 'retries', 'stallTimeoutMs', 'migrationTimeoutMs', 'onTimeout', 'pollIntervalMs'];
  const differ = keys.filter((k) => given[k] !== undefined && JSON.stringify(given[k]) !== JSON.stringify(saved[k as string] ?? null));
  if (differ.length > 0) {
    state.io.stderr.write(`hostmaint: note: the resumed run kept its own options; these given ones differ and were not applied: ${differ.join(', ')} (use --new-run to start over with them).\n`);
  }
}

export function drainCommand(state: CommandState): CommandModule<object, DrainArgs> {
  return {
    command: 'drain <host>',
    describe: 'Disable a compute host, move every instance off it, verify it is empty, and hand it over',
    builder: (y) =>
      drainFlags(y)
        .example('$0 drain compute-01 --reason "kernel update CHG-1234"', 'Drain with a reason recorded on the service')
        .example('$0 drain compute-01 --target compute-02 compute-03 --concurrency 4', 'Only onto these hosts, 4 requests queued ahead')
        .example('$0 drain compute-01 --yes -f json > result.json', 'From a runbook: no prompt, JSON result (exit code says what happened)')
        .example('$0 drain compute-01 --stopped leave --skip-blocked', 'Leave SHUTOFF and unmovable instances where they are')
        .example('$0 drain compute-01', 'Again after a crash, Ctrl-C or a lost cloud: resumes the saved run (see `hostmaint status`)')
        .example('$0 drain compute-01 --adopt', 'Carry on a drain another machine started (its marker is on the service)')
        .example('$0 drain compute-01 --os-cloud demo', 'Try it on the built-in emulated cloud') as never,
    handler: (argv) => runDrain(state, argv, argv.dryRun),
  };
}

export function planCommand(state: CommandState): CommandModule<object, DrainArgs> {
  return {
    command: 'plan <host>',
    describe: 'Show what a drain would do: every instance classified, every target checked, a placement plan. Changes nothing',
    builder: (y) =>
      drainFlags(y)
        .example('$0 plan compute-01', 'Would a drain of compute-01 succeed, and where would each instance go?')
        .example('$0 plan compute-01 --target compute-02 -f json', 'The plan onto one target, as JSON') as never,
    handler: (argv) => runDrain(state, argv, true),
  };
}
