/**
 * hostmaint's command line. Declarations live in src/cli/commands/, one file
 * per command; every error ends in the funnel (errors.ts) that prints what,
 * why and what to do and picks the exit code. Heavy modules (HTTP, xstate,
 * the emulator) are imported inside handlers, so `--help` starts fast.
 */
import yargs from 'yargs';
import { describeError } from './errors.js';
import { usageError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { cloudOptions, outputOptions } from './global-options.js';
import { rewordUsage } from './usage-words.js';
import { POLICIES, flagName } from '../policies/policies.js';
import type { CliIO } from '../report/io.js';
import type { CommandState } from './state.js';
import { COMMAND_NAMES, withCommands } from './commands/index.js';
import { VERSION } from '../version.js';

/** Every exit code, in a few words each (the table is src/machines/exit-codes.ts; docs/exit-codes.md). */
const EXIT_FOOTER = '0 done, 1 unexpected error, 2 usage/config/unknown host, 3 preflight refused, 4 partial (host not empty), 5 conflict, 6 cloud unreachable or auth failed, 7 workflow step failed, 8 waiting for approval, 9 not confirmed, 10 doctor found something to fix, 130 interrupted, 141 output pipe closed';

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const state: CommandState = { io, argv, exitCode: EXIT.OK, format: argv.some((a, i) => a === '--format=json' || ((a === '-f' || a === '--format') && argv[i + 1] === 'json')) ? 'json' : 'table' };
  const base = yargs(argv)
    .scriptName('hostmaint')
    .usage('hostmaint: drain an OpenStack compute host for maintenance, safely, and give it back.\n\nUsage: $0 <command> [options]');
  const parser = withCommands(base, state)
    .demandCommand(1, `Name a command: ${COMMAND_NAMES.join(', ')}.`)
    .recommendCommands()
    .strict()
    .example('$0 plan compute-01', 'Show what a drain of compute-01 would do (changes nothing)')
    .example('$0 drain compute-01 --reason "kernel update CHG-1234"', 'Disable compute-01, move every instance off, verify it is empty')
    .example('$0 undrain compute-01 --return', 'Re-enable compute-01 and move back what the drain moved')
    .example('$0 drain compute-01 --os-cloud demo', 'Try it on the built-in emulated cloud')
    .epilogue(
      `Exit codes: ${EXIT_FOOTER}.\nDocs: docs/ in the hostmaint repository (docs/getting-started.md).`,
    )
    .version(VERSION)
    .alias('h', 'help')
    // On a terminal, wrapped to it; piped, not wrapped at all (a long example stays one line, never split mid-word).
    .wrap(process.stdout.isTTY ? Math.min(110, process.stdout.columns || 100) : null)
    .env(false)
    .exitProcess(false)
    .fail((msg, err, yi) => {
      if (err) throw err;
      const keys = Object.keys((yi as unknown as { getOptions?: () => { key?: Record<string, unknown> } })?.getOptions?.().key ?? {});
      const known = [...new Set([...keys, ...Object.keys(cloudOptions), ...Object.keys(outputOptions), ...POLICIES.flatMap((p) => [flagName(p), p.key])])].filter((k) => !k.includes('$') && !/[A-Z]/.test(k));
      const r = rewordUsage(msg ?? 'invalid command line', argv, known, COMMAND_NAMES);
      throw usageError(r.message, r.hint ?? undefined);
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    const report = describeError(err);
    if (state.format === 'json') io.stdout.write(`${JSON.stringify(report.json, null, 2)}\n`);
    io.stderr.write(`${report.text}\n`);
    return report.exitCode;
  }
  return state.exitCode;
}
