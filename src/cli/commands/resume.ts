import { commandWords } from './words.js';
import type { CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { runOptions } from '../global-options.js';
import { budgetOptions, loadRunAnywhere } from '../saved-runs.js';
import type { CommonArgs } from '../session.js';
import { usageError } from '../../core/errors.js';

interface ResumeArgs extends CommonArgs {
  runId: string;
  adopt: boolean;
}

/** `hostmaint resume <run-id>`: carry on a saved drain or undrain that did not finish. */
export function resumeCommand(state: CommandState): CommandModule<object, ResumeArgs> {
  return {
    ...commandWords('resume', (y) =>
      runOptions(y)
        .options(budgetOptions)
        .option('adopt', { type: 'boolean', default: false, describe: 'Resume even though the service now carries another hostmaint run\'s marker; with etcd, also take the host from its runner at once (its lease is revoked: only when you know that runner is gone)' })),
    handler: async (argv) => {
      const runId = String(argv.runId ?? '').trim();
      if (!runId) throw usageError('a run id is required', 'List runs with `hostmaint status`.');
      const { checkResumable } = await import('../../runs/runner.js');
      const { withCommandRun } = await import('../session.js');
      const { record } = await loadRunAnywhere(state, argv, runId);
      // Refuse a finished run, or one of another workflow version, before touching the cloud.
      await checkResumable(record, {});
      await withCommandRun(
        state,
        argv,
        async (run) => {
          const { finishSavedRun, runnerEnv } = await import('../saved-runs.js');
          const env = runnerEnv(state, run, argv as Record<string, unknown>);
          if (record.command === 'run' || record.command === 'rolling') {
            const { finishWorkflowRun } = await import('../saved-runs.js');
            if (record.command === 'rolling') {
              const { runRolling } = await import('../../runs/rolling-runner.js');
              finishWorkflowRun(state, run, await runRolling(run.cloud.session, { hosts: record.hosts ?? [], resumeRunId: runId }, env));
            } else {
              const { runWorkflow } = await import('../../runs/workflow-runner.js');
              finishWorkflowRun(state, run, await runWorkflow(run.cloud.session, { host: record.host, resumeRunId: runId, adopt: argv.adopt }, env));
            }
            return;
          }
          const { resumeRun } = await import('../../runs/runner.js');
          finishSavedRun(state, run, await resumeRun(run.cloud.session, runId, env, { adopt: argv.adopt }));
        },
        { defaultCloud: record.cloud },
      );
    },
  };
}
