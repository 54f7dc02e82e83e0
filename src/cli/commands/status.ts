import type { CommandModule } from 'yargs';
import type { CommandState } from '../main.js';
import type { RunRecord } from '../../runs/store.js';
import { usageError } from '../errors.js';
import { EXIT } from '../exit-codes.js';

interface StatusArgs {
  target?: string;
  stateDir?: string;
  format: 'table' | 'json';
}

/** `hostmaint status [host|run-id]`: what hostmaint knows of its runs, from the state directory only. */
export function statusCommand(state: CommandState): CommandModule<object, StatusArgs> {
  return {
    command: 'status [target]',
    describe: 'List hostmaint runs, or show one (by host or run id); reads the state directory, never calls the cloud',
    builder: (y) =>
      y
        .positional('target', { type: 'string', describe: 'A host name or a run id' })
        .example('$0 status', 'All runs, newest first')
        .example('$0 status compute-01', 'The latest run for compute-01, in detail')
        .example('$0 status compute-01 -f json', 'The same, as JSON') as never,
    handler: async (argv) => {
      const { defaultStateDir, RunStore } = await import('../../runs/store.js');
      const { table } = await import('../../report/result.js');
      const store = new RunStore(argv.stateDir ?? defaultStateDir(state.io.env));
      const { records, problems } = await store.list();
      const out = state.io.stdout;
      for (const p of problems) state.io.stderr.write(`hostmaint: warning: ${p}\n`);
      if (!argv.target) {
        if (argv.format === 'json') {
          out.write(`${JSON.stringify({ stateDir: store.dir, runs: records.map(summary) }, null, 2)}\n`);
        } else if (records.length === 0) {
          out.write(`No runs recorded in ${store.dir}.\n`);
        } else {
          out.write(table(['RUN', 'COMMAND', 'HOST', 'OUTCOME', 'EXIT', 'STARTED', 'CLOUD'], records.map((r) => [r.runId, r.command, r.host, r.outcome, String(r.exitCode), r.startedAt, r.cloud])));
        }
        state.exitCode = EXIT.OK;
        return;
      }
      const match = records.find((r) => r.runId === argv.target) ?? records.find((r) => r.host === argv.target);
      if (!match) {
        throw usageError(`hostmaint has no run for '${argv.target}' in ${store.dir}`, 'List runs with `hostmaint status`; pass --state-dir if runs were kept elsewhere.');
      }
      if (argv.format === 'json') out.write(`${JSON.stringify(match, null, 2)}\n`);
      else {
        const s = summary(match);
        for (const [k, v] of Object.entries(s)) out.write(`${k.padEnd(12)} ${String(v)}\n`);
        const instances = (match.result.instances ?? []) as Array<Record<string, unknown>>;
        if (instances.length) {
          out.write('\n');
          out.write(table(['INSTANCE', 'FROM', 'TO', 'METHOD', 'RESULT'], instances.map((i) => [String(i.name ?? i.serverId), String(i.from ?? ''), String(i.to ?? ''), String(i.method ?? ''), String(i.status ?? i.result ?? '')])));
        }
      }
      state.exitCode = EXIT.OK;
    },
  };
}

function summary(r: RunRecord): Record<string, unknown> {
  return { runId: r.runId, command: r.command, host: r.host, outcome: r.outcome, exitCode: r.exitCode, startedAt: r.startedAt, finishedAt: r.finishedAt, cloud: r.cloud, user: r.user };
}
