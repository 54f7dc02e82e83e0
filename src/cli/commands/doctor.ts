/**
 * `hostmaint doctor HOST [--repair]`: what a drain (anyone's) left behind on a host, read from
 * Nova and Placement, each finding with its evidence and the commands that fix it
 * (src/library/doctor.ts). Read-only, unless --repair: then only what is safe and hostmaint's own
 * (confirming the resize of a cold migration a saved run of this state directory requested), and
 * the host is diagnosed again before the result.
 */
import { commandWords } from './words.js';
import type { CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { runOptions } from '../global-options.js';
import { EXIT } from '../../core/exit-codes.js';
import { hostArgument } from '../host-arg.js';
import type { CommonArgs } from '../session.js';

interface DoctorArgs extends CommonArgs {
  host: string;
  repair: boolean;
  since: string;
  stuckAfter: string;
}

export function doctorCommand(state: CommandState): CommandModule<object, DoctorArgs> {
  return {
    ...commandWords('doctor', (y) =>
      runOptions(y)
        .option('repair', { type: 'boolean', default: false, describe: 'Apply the fixes that are safe and that hostmaint\'s own runs caused (confirm the resize of its own cold migration; release its own migration\'s leftover Placement hold, with the consumer generation); everything else stays for a person' })
        .option('since', { type: 'string', default: '168h', describe: 'Read Nova\'s migration records of this long back (default 168h: a week)' })
        .option('stuck-after', { type: 'string', default: '10m', describe: 'A migration queued or preparing for this long is stuck' })),
    handler: async (argv) => {
      const host = hostArgument(argv.host);
      const { parseDuration } = await import('../../core/durations.js');
      const sinceMs = parseDuration('since', argv.since, { minMs: 60_000, maxMs: 90 * 24 * 3_600_000 });
      const stuckAfterMs = parseDuration('stuck-after', argv.stuckAfter, { minMs: 1_000, maxMs: 7 * 24 * 3_600_000 });
      const { withCommandRun } = await import('../session.js');
      await withCommandRun(state, argv, async (run) => {
        const { diagnoseHost, repairFindings } = await import('../../library/doctor.js');
        const { runLookup } = await import('../../runs/runner.js');
        const { poolOf } = await import('../../runs/recorder.js');
        const { rememberHosts } = await import('../hosts-cache.js');
        const session = run.cloud.session;
        const deps = { compute: session.compute, placement: session.placement, logger: run.logger, clock: run.cloud.clock, runs: runLookup(run.store) };
        // hostmaint's own cold moves on this host: the servers the saved runs of this state directory
        // planned to cold-migrate, from when the earliest such run started (a run killed just after
        // its request saved the plan, not the request).
        const own = new Map<string, number>();
        const ownMigrations = new Set<number>();
        for (const r of (await run.store.list()).records) {
          if (r.host !== host || r.cloud !== run.cloud.cloudName) continue;
          const started = Date.parse(r.startedAt);
          if (!Number.isFinite(started)) continue;
          for (const i of poolOf(r.snapshot)) {
            for (const id of i.migrationIds ?? []) ownMigrations.add(id);
            if (i.method === 'cold') own.set(i.serverId, Math.min(own.get(i.serverId) ?? Infinity, started));
          }
        }
        const opts = { now: run.cloud.clock.now(), sinceMs, stuckAfterMs, ownColdMoves: own, ownMigrations, signal: run.signal };
        let report = await diagnoseHost(deps, host, opts);
        rememberHosts(run.store.dir, run.cloud.cloudName, [host]);
        let repaired: typeof report.findings = [];
        if (argv.repair && report.findings.some((f) => f.repairable)) {
          await repairFindings(deps, report, { signal: run.signal });
          repaired = report.findings.filter((f) => f.repaired !== null);
          // Read back: what Nova and Placement show now is the result.
          report = await diagnoseHost(deps, host, { ...opts, now: run.cloud.clock.now() });
        }
        const exitCode = report.findings.length === 0 ? EXIT.OK : EXIT.FINDINGS;
        if (argv.format === 'json') {
          state.io.stdout.write(`${JSON.stringify({ ...report, repaired, exitCode }, null, 2)}\n`);
        } else {
          const { formatDoctorReport } = await import('../../report/doctor.js');
          state.io.stdout.write(formatDoctorReport(report, repaired, { repairAsked: argv.repair }));
        }
        state.exitCode = exitCode;
      });
    },
  };
}
