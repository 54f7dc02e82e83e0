import type { Argv } from 'yargs';
import type { CommandState } from '../state.js';
import { drainCommand, planCommand } from './drain.js';
import { undrainCommand } from './undrain.js';
import { statusCommand } from './status.js';
import { resumeCommand } from './resume.js';
import { emulatorCommand } from './emulator.js';
import { historyCommand } from './history.js';
import { completionCommand } from './completion.js';
import { runCommand } from './run.js';
import { continueCommand } from './continue.js';
import { workflowCommand } from './workflow.js';
import { doctorCommand } from './doctor.js';

/** Every command, in the order --help lists them. The CLI and the completion script both register this one list. */
export function withCommands<T>(y: Argv<T>, state: CommandState): Argv<T> {
  return y
    .command(drainCommand(state))
    .command(undrainCommand(state))
    .command(planCommand(state))
    .command(runCommand(state))
    .command(continueCommand(state))
    .command(workflowCommand(state))
    .command(statusCommand(state))
    .command(resumeCommand(state))
    .command(doctorCommand(state))
    .command(emulatorCommand(state))
    .command(historyCommand(state))
    .command(completionCommand(state, withCommands)) as Argv<T>;
}

export const COMMAND_NAMES = ['drain', 'undrain', 'plan', 'run', 'continue', 'workflow', 'status', 'resume', 'doctor', 'emulator', 'history', 'completion'] as const;
