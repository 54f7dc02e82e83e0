import { commandWords } from './words.js';
import type { CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { runOptions } from '../global-options.js';
import type { CommonArgs } from '../session.js';
import type { RunRecord } from '../../runs/schema.js';
import { usageError } from '../../core/errors.js';

interface ContinueArgs extends CommonArgs {
  runId: string;
}

/**
 * `hostmaint continue <run-id>`: approve the step a workflow run waits at, and carry the run on.
 * The id may be the host's run or its rolling run (every waiting host of it is approved).
 */
export function continueCommand(state: CommandState): CommandModule<object, ContinueArgs> {
  return {
    ...commandWords('continue', (y) => runOptions(y)),
    handler: async (argv) => {
      const runId = String(argv.runId ?? '').trim();
      if (!runId) throw usageError('a run id is required', 'List waiting runs with `hostmaint status`.');
      const { loadRunAnywhere } = await import('../saved-runs.js');
      const { store, record } = await loadRunAnywhere(state, argv, runId);
      const { approvalGate } = await import('../../runs/workflow-runner.js');
      const { HostmaintError } = await import('../../core/errors.js');
      const { withCommandRun } = await import('../session.js');
      const { runnerEnv } = await import('../saved-runs.js');
      // Checked before opening the cloud (a run that is not waiting is refused, nothing recorded); the approval
      // itself is recorded by the run, under the host's lock, once it finds the host still disabled by it.
      const who = `${state.io.env['USER'] ?? 'unknown'}@${(await import('node:os')).hostname()}`;
      let top = record;
      if (record.command === 'rolling') {
        const kids = await Promise.all(((record.snapshot as { context?: { hosts?: Array<{ childRunId: string }> } } | null)?.context?.hosts ?? []).map((h) => store.load(h.childRunId).catch(() => null)));
        const waiting = kids.filter((k): k is RunRecord => k !== null && k.state === 'waiting');
        if (waiting.length === 0) throw new HostmaintError('usage', `rolling run ${runId} has no host waiting for approval (it is ${record.state})`, { hint: `\`hostmaint status ${runId}\` shows it; \`hostmaint resume ${runId}\` carries on an interrupted one.` });
        for (const k of waiting) approvalGate(k);
      } else {
        approvalGate(record);
        if (record.parentRunId) top = await store.load(record.parentRunId);
      }
      await withCommandRun(
        state,
        argv,
        async (run) => {
          const env = runnerEnv(state, run);
          const { finishWorkflowRun } = await import('../saved-runs.js');
          if (top.command === 'rolling') {
            const { runRolling } = await import('../../runs/rolling-runner.js');
            finishWorkflowRun(state, run, await runRolling(run.cloud.session, { hosts: top.hosts ?? [], resumeRunId: top.runId, approveBy: who }, env));
          } else {
            const { runWorkflow } = await import('../../runs/workflow-runner.js');
            finishWorkflowRun(state, run, await runWorkflow(run.cloud.session, { host: top.host, resumeRunId: top.runId, approveBy: who }, env));
          }
        },
        { defaultCloud: record.cloud },
      );
    },
  };
}
