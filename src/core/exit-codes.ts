/**
 * Error kinds to exit codes. The codes themselves are one table in
 * src/machines/exit-codes.ts (the machines end their runs with them).
 */
import { EXIT, type ExitCode } from '../machines/exit-codes.js';
import type { ErrorKind } from './errors.js';

export { EXIT, EXIT_DESCRIPTIONS, type ExitCode } from '../machines/exit-codes.js';

/** Error kind -> exit code, one line per code; a kind not named is unexpected (exit 1). */
const CODE_OF_KIND: Partial<Record<ErrorKind, ExitCode>> = {
  usage: EXIT.USAGE, config: EXIT.USAGE, 'unknown-host': EXIT.USAGE,
  preflight: EXIT.PREFLIGHT_REFUSED,
  partial: EXIT.PARTIAL,
  ownership: EXIT.CONFLICT, 'host-busy': EXIT.CONFLICT, conflict: EXIT.CONFLICT,
  auth: EXIT.CLOUD, forbidden: EXIT.CLOUD, tls: EXIT.CLOUD, network: EXIT.CLOUD, timeout: EXIT.CLOUD, unavailable: EXIT.CLOUD, 'not-acceptable': EXIT.CLOUD,
  'step-failed': EXIT.STEP_FAILED,
  interrupted: EXIT.INTERRUPTED,
  'not-confirmed': EXIT.NOT_CONFIRMED,
};

/** Error kind -> exit code. */
export function exitCodeForKind(kind: ErrorKind): ExitCode {
  return Object.hasOwn(CODE_OF_KIND, kind) ? CODE_OF_KIND[kind]! : EXIT.UNEXPECTED;
}
