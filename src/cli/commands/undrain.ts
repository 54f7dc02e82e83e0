import { commandWords } from './words.js';
import type { CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { runOptions } from '../global-options.js';
import type { CommandRun, CommonArgs } from '../session.js';
import { policyFlagOptions, undrainOptionsFrom } from '../../policies/policies.js';
import { hostArgument } from '../host-arg.js';
import type { ManifestEntry } from '../../machines/records.js';
import type { UndrainOptions } from '../../machines/options.js';

interface UndrainArgs extends CommonArgs {
  host: string;
  force: boolean;
  return: boolean;
  dryRun: boolean;
  yes: boolean;
  /** The policy flags (policyFlagOptions('undrain')), raw as given. */
  [policy: string]: unknown;
}

export function undrainCommand(state: CommandState): CommandModule<object, UndrainArgs> {
  return {
    ...commandWords('undrain', (y) =>
      runOptions(y)
        .option('force', { type: 'boolean', default: false, describe: 'Enable even if someone else disabled the service (libvirt AUTO:, Masakari, a colleague)' })
        .option('return', { type: 'boolean', default: false, describe: 'Move back every instance moved off the host since it was disabled (by any hostmaint run, from Nova\'s migration records), if still where it was moved' })
        .options(policyFlagOptions('undrain'))
        .option('dry-run', { type: 'boolean', default: false, describe: 'Say what undrain would do (exit 0, or 5 if it would refuse) and change nothing' })
        .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Accepted for symmetry with drain; undrain does not prompt' })),
    handler: async (argv) => {
      const host = hostArgument(argv.host);
      // Each flag given, else the undrain workflow's policy (workflows/undrain.yaml, or the operator's own).
      const { commandPolicies } = await import('../saved-runs.js');
      const p = await commandPolicies(state, 'undrain', ['enable'], argv);
      const options: UndrainOptions = { ...undrainOptionsFrom(p), force: argv.force, returnInstances: argv.return };
      const { withCommandRun } = await import('../session.js');
      if (argv.dryRun) {
        await withCommandRun(state, argv, async (run) => {
          state.exitCode = await undrainPreview(state, run, host, argv);
        });
        return;
      }
      await withCommandRun(state, argv, async (run) => {
        if (argv.return) {
          // What returns comes from Nova's migration records since the host was disabled (any run, any
          // machine); a drain saved here is the list only when the time of the disable is unknown.
          const last = await run.store.latestDrainOf(host);
          options.manifest = (last?.result?.manifest ?? []) as ManifestEntry[];
        }
        const { runUndrain } = await import('../../runs/runner.js');
        const { finishSavedRun, runnerEnv } = await import('../saved-runs.js');
        const out = await runUndrain(
          run.cloud.session,
          { host, options },
          runnerEnv(state, run),
        );
        const { rememberHosts } = await import('../hosts-cache.js');
        rememberHosts(run.store.dir, run.cloud.cloudName, out.result.outcome === 'unknown-host' ? out.result.suggestions : [host]);
        finishSavedRun(state, run, out);
      });
    },
  };
}

/**
 * `undrain --dry-run`: what undrain would do, read-only (one service lookup, plus the saved
 * manifest with --return). The exit code is the one undrain would end with: 0 it would enable
 * (or there is nothing to do), 5 it would refuse someone else's disable, 2 unknown host.
 */
async function undrainPreview(state: CommandState, run: CommandRun, host: string, argv: UndrainArgs): Promise<number> {
  const { identifyDisabler } = await import('../../machines/marker.js');
  const { EXIT } = await import('../../core/exit-codes.js');
  const { HostmaintError } = await import('../../core/errors.js');
  const [service] = (await run.cloud.session.compute.listServices({ host, binary: 'nova-compute' })).filter((s) => s.host === host);
  if (!service) {
    throw new HostmaintError('unknown-host', `no nova-compute service named '${host}'`, { hint: 'List the hosts with `openstack compute service list --service nova-compute`.' });
  }
  const disabler = service.status === 'disabled' ? identifyDisabler(service.disabledReason) : null;
  let action: 'nothing' | 'enable' | 'refuse';
  let message: string;
  if (!disabler) {
    action = 'nothing';
    message = `${host}: nova-compute is already enabled; undrain would do nothing.`;
  } else if (disabler.who === 'hostmaint' || argv.force) {
    action = 'enable';
    message = `${host}: undrain would enable nova-compute, disabled by ${disabler.description}${disabler.who === 'hostmaint' ? '' : ' (--force)'}.`;
  } else {
    action = 'refuse';
    message = `${host}: undrain would refuse: nova-compute was disabled by ${disabler.description}. --force enables it anyway.`;
  }
  let returns: unknown[] = [];
  if (argv.return && action !== 'refuse') {
    const last = await run.store.latestDrainOf(host);
    returns = (last?.result?.manifest as unknown[] | undefined) ?? [];
    message += ` With --return it would move back up to ${returns.length} instance(s) moved by ${last ? `run ${last.runId}` : 'no recorded drain'}, those still where that drain put them.`;
  }
  const exitCode = action === 'refuse' ? EXIT.CONFLICT : EXIT.OK;
  if (run.format === 'json') {
    state.io.stdout.write(`${JSON.stringify({ command: 'undrain', dryRun: true, host, action, message, exitCode, service, returnCandidates: returns }, null, 2)}\n`);
  } else {
    run.output.text.write(`${message}\nNothing was changed (--dry-run).\n`);
  }
  return exitCode;
}
