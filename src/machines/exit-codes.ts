/**
 * The exit codes of hostmaint: the one table (docs/exit-codes.md). The machines
 * end their runs with these; src/core/exit-codes.ts maps error kinds onto them,
 * and nothing else picks a number.
 */
import type { Outcome } from './outcome.js';

export const EXIT = {
  OK: 0,
  UNEXPECTED: 1,
  USAGE: 2,
  PREFLIGHT_REFUSED: 3,
  PARTIAL: 4,
  CONFLICT: 5,
  CLOUD: 6,
  STEP_FAILED: 7,
  AWAITING_APPROVAL: 8,
  NOT_CONFIRMED: 9,
  FINDINGS: 10,
  INTERRUPTED: 130,
  PIPE_CLOSED: 141,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_DESCRIPTIONS: Record<ExitCode, string> = {
  0: 'done: the host is drained (or undrained), or there was nothing to do',
  1: 'unexpected error (a bug, or a cloud answer hostmaint does not understand)',
  2: 'usage, configuration or unknown host: nothing was changed',
  3: 'preflight refused: nothing was moved, the service is back in its prior state',
  4: 'partial: the host is not empty; the service stays disabled; the output lists what is left and why',
  5: 'conflict: the service was disabled by someone else, or another run holds the host',
  6: 'cannot reach or authenticate to the cloud (or not allowed: admin role needed)',
  7: 'a workflow step failed (exec, http or wait-for-service): the run stopped there, or went on per its on-failure policy; the output says which step and why',
  8: 'waiting for approval: the run is saved at an approve step; `hostmaint continue <run-id>` carries on',
  9: 'not confirmed: the question before a change was answered no; nothing was changed',
  10: 'doctor found something to fix: each finding is listed with its evidence and the commands that fix it',
  130: 'interrupted (Ctrl-C / SIGTERM)',
  141: 'the reader of stdout or stderr went away (`| head`): ended quietly, as a process killed by SIGPIPE',
};

/** Each run outcome's exit code. */
export const EXIT_CODES: Record<Outcome, ExitCode> = {
  drained: EXIT.OK,
  planned: EXIT.OK,
  undrained: EXIT.OK,
  'already-enabled': EXIT.OK,
  error: EXIT.UNEXPECTED,
  'unknown-host': EXIT.USAGE,
  'bad-input': EXIT.USAGE,
  'preflight-refused': EXIT.PREFLIGHT_REFUSED,
  partial: EXIT.PARTIAL,
  'ownership-refused': EXIT.CONFLICT,
  'host-busy': EXIT.CONFLICT,
  'ownership-lost': EXIT.CONFLICT,
  'service-down': EXIT.CONFLICT,
  'cloud-unreachable': EXIT.CLOUD,
  interrupted: EXIT.INTERRUPTED,
};

export function exitCodeFor(outcome: Outcome): ExitCode {
  return EXIT_CODES[outcome];
}

