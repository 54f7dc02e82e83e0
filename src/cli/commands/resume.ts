import type { CommandModule } from 'yargs';
import type { CommandState } from '../main.js';
import type { CommonArgs } from '../session.js';
import { usageError } from '../errors.js';

interface ResumeArgs extends CommonArgs {
  runId: string;
  adopt: boolean;
}

/** `hostmaint resume <run-id>`: carry on a saved drain or undrain that did not finish. */
export function resumeCommand(state: CommandState): CommandModule<object, ResumeArgs> {
  return {
    command: 'resume <run-id>',
    describe: 'Carry on a saved drain or undrain that was interrupted (Ctrl-C, a killed process, a cloud that went away); safe to repeat',
    builder: (y) =>
      y
        .positional('run-id', { type: 'string', describe: 'The run id, as `hostmaint status` lists it' })
        .option('adopt', { type: 'boolean', default: false, describe: 'Resume even though the service now carries another hostmaint run\'s marker' })
        .example('$0 resume 20240101T093000Z-3f2a', 'Carry on where the run stopped (its own cloud and options)')
        .example('$0 resume 20240101T093000Z-3f2a --state-dir /srv/hostmaint -f json', 'A run kept in another state directory, JSON result') as never,
    handler: async (argv) => {
      const runId = String(argv.runId ?? '').trim();
      if (!runId) throw usageError('a run id is required', 'List runs with `hostmaint status`.');
      const path = await import('node:path');
      const { defaultStateDir, RunStore } = await import('../../runs/store.js');
      const { checkResumable } = await import('../../runs/runner.js');
      const { checkStateDirFlag, withCommandRun } = await import('../session.js');
      const base = argv.stateDir !== undefined ? checkStateDirFlag(argv.stateDir) : defaultStateDir(state.io.env);
      // Runs on the built-in demo cloud live under <state-dir>/demo.
      let found = null;
      let lastError: unknown = null;
      for (const dir of [base, path.join(base, 'demo')]) {
        try {
          found = await new RunStore(dir).load(runId);
          break;
        } catch (e) {
          if (!lastError || !/^no run /.test((e as Error).message)) lastError = e;
        }
      }
      if (!found) throw lastError;
      // Refuse a finished run, or one of another workflow version, before touching the cloud.
      await checkResumable(found, {});
      const record = found;
      await withCommandRun(
        state,
        argv,
        async (run) => {
          const { resumeRun } = await import('../../runs/runner.js');
          const { finishSavedRun, runnerEnv } = await import('./drain.js');
          const out = await resumeRun(
            run.cloud.session,
            runId,
            runnerEnv(state, run),
            { adopt: argv.adopt },
          );
          finishSavedRun(state, run, out);
        },
        { defaultCloud: record.cloud },
      );
    },
  };
}
