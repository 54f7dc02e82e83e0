/** Run ids of a rolling run and its children. */
import { HostmaintError } from '../core/errors.js';
import { isValidRunId } from '../machines/marker.js';
import { childRunId } from '../machines/rolling.machine.js';

/**
 * Throws a usage error unless `runId` and every child id derived from it
 * (`${runId}-h${n}`, see childRunId) is a valid run id (at most 64 characters:
 * the child ids go into the service's disable marker).
 */
export function checkRollingRunId(runId: string, hostCount: number): void {
  const longest = childRunId(runId, Math.max(0, hostCount - 1));
  if (!isValidRunId(runId) || !isValidRunId(longest)) {
    throw new HostmaintError('usage', `invalid rolling run id '${runId}': letters, digits, '.', '_' and '-' only, and short enough that '${longest}' has at most 64 characters`);
  }
}
