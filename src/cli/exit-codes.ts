import type { ErrorKind } from '../errors.js';

/** The documented exit codes (docs/exit-codes.md). One table; nothing else picks a code. */
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
  INTERRUPTED: 130,
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
  130: 'interrupted (Ctrl-C / SIGTERM)',
};

/** Error kind -> exit code. */
export function exitCodeForKind(kind: ErrorKind): ExitCode {
  switch (kind) {
    case 'usage':
    case 'config':
    case 'unknown-host':
      return EXIT.USAGE;
    case 'preflight':
      return EXIT.PREFLIGHT_REFUSED;
    case 'partial':
      return EXIT.PARTIAL;
    case 'ownership':
    case 'host-busy':
    case 'conflict':
      return EXIT.CONFLICT;
    case 'auth':
    case 'forbidden':
    case 'tls':
    case 'network':
    case 'timeout':
    case 'unavailable':
    case 'not-acceptable':
      return EXIT.CLOUD;
    case 'step-failed':
      return EXIT.STEP_FAILED;
    case 'interrupted':
      return EXIT.INTERRUPTED;
    default:
      return EXIT.UNEXPECTED;
  }
}
