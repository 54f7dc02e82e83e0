import { PassThrough } from 'node:stream';
import yargs from 'yargs';
import { describeError } from '../../../src/cli/errors.js';
import { usageError } from '../../../src/core/errors.js';
import { EXIT } from '../../../src/core/exit-codes.js';
import { cloudOptions, outputOptions } from '../../../src/cli/global-options.js';
import type { CommandState } from '../../../src/cli/state.js';
import { workflowCommand } from '../../../src/cli/commands/workflow.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `hostmaint workflow ...` in this process, parsed as src/cli/main.ts parses (global options, strict,
 * the error funnel), with only the workflow command registered (it is not in commands/index.ts yet).
 */
export async function hostmaintWorkflow(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const state: CommandState = { io: { stdout: out, stderr: err, env: { HOME: process.env.HOME, ...env }, interactive: false }, exitCode: EXIT.OK, format: 'table' };
  const parser = yargs()
    .scriptName('hostmaint')
    .options(cloudOptions)
    .options(outputOptions)
    .command(workflowCommand(state))
    .demandCommand(1)
    .strict()
    .env(false)
    .exitProcess(false)
    .fail((msg, e) => {
      if (e) throw e;
      throw usageError(msg ?? 'invalid command line');
    });
  let code: number;
  try {
    // With a callback yargs hands --help text to it instead of printing it.
    await parser.parseAsync(args, {}, (_e: unknown, _argv: unknown, output: string) => {
      if (output) stdout += `${output}\n`;
    });
    code = state.exitCode;
  } catch (e) {
    const report = describeError(e);
    err.write(`${report.text}\n`);
    code = report.exitCode;
  }
  return { code, stdout, stderr };
}
