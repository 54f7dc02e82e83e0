/**
 * Error kinds to exit codes. The codes themselves are one table in
 * src/machines/exit-codes.ts (the machines end their runs with them).
 */
import { EXIT, type ExitCode } from '../machines/exit-codes.js';
import type { ErrorKind } from './errors.js';

export { EXIT, EXIT_DESCRIPTIONS, type ExitCode } from '../machines/exit-codes.js';

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
    case 'not-confirmed':
      return EXIT.NOT_CONFIRMED;
    default:
      return EXIT.UNEXPECTED;
  }
}
