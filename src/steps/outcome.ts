/**
 * Building the StepOutcome of the exec, http and wait-for-service steps:
 * ok (exit 0) or failed (exit 7, EXIT.STEP_FAILED). An interrupt is a failed
 * outcome with message 'interrupted' and detail.interrupted true; the caller
 * maps it to the run's interrupted state.
 */
import { EXIT } from '../core/exit-codes.js';
import { errorText, isHostmaintError } from '../core/errors.js';
import type { StepOutcome } from '../workflow-file/types.js';
import { redactSecrets } from './substitute.js';

export function stepOk(message: string, detail: Record<string, unknown>): StepOutcome {
  return { status: 'ok', exitCode: EXIT.OK, message, detail };
}

export function stepFailed(message: string, detail: Record<string, unknown>): StepOutcome {
  return { status: 'failed', exitCode: EXIT.STEP_FAILED, message, detail };
}

export function stepInterrupted(detail: Record<string, unknown>): StepOutcome {
  return stepFailed('interrupted', { ...detail, interrupted: true });
}

/** A failed outcome for an error thrown while preparing a step (a missing {env:NAME}: a config error). */
export function stepSetupFailed(prefix: string, e: unknown, secrets: readonly string[], detail: Record<string, unknown>): StepOutcome {
  const kind = isHostmaintError(e) ? e.kind : 'internal';
  return stepFailed(`${prefix}: ${redactSecrets(errorText(e), secrets)}`, { ...detail, error: kind });
}

/** The last non-empty line of `text`, at most `max` characters. */
export function lastLine(text: string, max = 200): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const line = lines[lines.length - 1] ?? '';
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}
