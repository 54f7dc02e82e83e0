import type { ListingFormat } from '../../report/listing.js';
import { listingOptions } from '../global-options.js';
import { commandWords } from './words.js';
import type { Argv, CommandModule } from 'yargs';
import type { CommandState } from '../state.js';
import { EXIT } from '../../core/exit-codes.js';
import { policyFlagOptions } from '../../policies/policies.js';

interface WorkflowArgs {
  format?: 'table' | 'json';
  json?: boolean;
  workflowsDir?: string[];
  [key: string]: unknown;
}

interface ValidateArgs extends WorkflowArgs {
  file: string[];
}

interface ShowArgs extends WorkflowArgs {
  file: string;
}

function jsonWanted(argv: WorkflowArgs): boolean {
  return argv.json === true || argv.format === 'json';
}

/** What every workflow command takes; `list` is a listing (-f table|json|yaml|value|csv, -c COLUMN). */
function common(y: Argv, opts: { listing?: boolean } = {}): Argv {
  const withFormat: Argv = opts.listing ? y.options(listingOptions) : y.option('format', { alias: 'f', choices: ['table', 'json'], default: 'table', describe: 'Text or one JSON document' });
  return withFormat
    .option('json', { type: 'boolean', describe: 'Print JSON instead of text (the same as -f json)' })
    .option('workflows-dir', { type: 'string', array: true, describe: 'Look up workflow names in this directory first (then $HOSTMAINT_WORKFLOWS_DIR, ~/.config/hostmaint/workflows, the shipped ones)' });
}

function findOpts(state: CommandState, argv: WorkflowArgs) {
  return { dirs: argv.workflowsDir ?? [], env: state.io.env };
}

async function validate(state: CommandState, argv: ValidateArgs): Promise<void> {
  const { findWorkflow, parseWorkflow, formatProblem, sourceLabel } = await import('../../workflow-file/load.js');
  const { HostmaintError } = await import('../../core/errors.js');
  const out = state.io.stdout;
  const results: Array<{ ref: string; path: string | null; valid: boolean; problems: unknown[] }> = [];
  let allValid = true;
  for (const ref of argv.file) {
    try {
      const source = await findWorkflow(ref, findOpts(state, argv));
      const r = parseWorkflow(source);
      const valid = !r.problems.some((p) => p.severity === 'error');
      allValid &&= valid;
      results.push({ ref, path: source.path, valid, problems: r.problems });
      if (!jsonWanted(argv)) {
        const label = sourceLabel(source);
        const errors = r.problems.filter((p) => p.severity === 'error').length;
        out.write(valid ? `${label}: valid\n` : `${label}: ${errors} error${errors === 1 ? '' : 's'}\n`);
        for (const p of r.problems) out.write(`  ${formatProblem(p, label)}\n`);
      }
    } catch (err) {
      if (!(err instanceof HostmaintError)) throw err;
      allValid = false;
      results.push({ ref, path: null, valid: false, problems: [{ path: '', line: null, column: null, message: err.message, expected: err.hint ?? null, severity: 'error' }] });
      if (!jsonWanted(argv)) out.write(`${ref}: ${err.message}\n${err.hint ? `  what to do: ${err.hint}\n` : ''}`);
    }
  }
  if (jsonWanted(argv)) out.write(`${JSON.stringify({ valid: allValid, files: results }, null, 2)}\n`);
  state.exitCode = allValid ? EXIT.OK : EXIT.USAGE;
}

async function show(state: CommandState, argv: ShowArgs): Promise<void> {
  const { loadWorkflow } = await import('../../workflow-file/load.js');
  const { policyOverridesFromArgv } = await import('../../policies/policies.js');
  const { formatWorkflow, workflowJson } = await import('../../workflow-file/show.js');
  const loaded = await loadWorkflow(argv.file, { ...findOpts(state, argv), overrides: policyOverridesFromArgv(argv, 'run') });
  if (jsonWanted(argv)) {
    state.io.stdout.write(`${JSON.stringify(workflowJson(loaded.workflow, loaded.source, loaded.policySources, loaded.problems), null, 2)}\n`);
  } else {
    state.io.stdout.write(formatWorkflow(loaded.workflow, loaded.source, loaded.policySources));
    const { formatProblem, sourceLabel } = await import('../../workflow-file/load.js');
    for (const p of loaded.problems) state.io.stderr.write(`hostmaint: ${formatProblem(p, sourceLabel(loaded.source))}\n`);
  }
  state.exitCode = EXIT.OK;
}

async function list(state: CommandState, argv: WorkflowArgs): Promise<void> {
  const { listWorkflows } = await import('../../workflow-file/load.js');
  const { formatListing } = await import('../../report/listing.js');
  const found = await listWorkflows(findOpts(state, argv));
  if (jsonWanted(argv)) {
    state.io.stdout.write(`${JSON.stringify({ workflows: found }, null, 2)}\n`);
  } else if (found.length === 0 && argv.format === 'table') {
    state.io.stdout.write('No workflows found.\n');
  } else {
    const rows = found.map((w) => [w.shadowed ? `${w.name} (hidden)` : w.name, w.where, w.description ?? '', w.path]);
    state.io.stdout.write(formatListing(['NAME', 'WHERE', 'DESCRIPTION', 'FILE'], rows, argv.format as Exclude<ListingFormat, 'json'>, argv.column as string[] | undefined));
  }
  state.exitCode = EXIT.OK;
}

/** `hostmaint workflow validate|show|list`: check, explain and find workflow files (never calls the cloud). */
export function workflowCommand(state: CommandState): CommandModule<object, WorkflowArgs> {
  const sub = (y: Argv) =>
    y
      .command({ ...commandWords('workflow validate', (yy) => common(yy)), handler: (argv) => validate(state, argv as unknown as ValidateArgs) })
      .command({ ...commandWords('workflow show', (yy) => common(yy).options(policyFlagOptions('run'))), handler: (argv) => show(state, argv as unknown as ShowArgs) })
      .command({ ...commandWords('workflow list', (yy) => common(yy, { listing: true })), handler: (argv) => list(state, argv as unknown as WorkflowArgs) })
      .demandCommand(1, 'Name a workflow command: validate, show, list.');
  return {
    ...commandWords('workflow', sub),
    handler: () => undefined,
  };
}
