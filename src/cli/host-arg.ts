/** A host name given on the command line, checked before anything is opened (exit 2 naming it). */
import { usageError } from '../core/errors.js';
import { hostNameProblem } from '../machines/marker.js';

/** `raw` trimmed, or a usage error saying why it cannot be a nova-compute host name. */
export function hostArgument(raw: unknown, hint = 'Give the nova-compute host as `openstack compute service list` shows it.'): string {
  const host = String(raw ?? '').trim();
  const why = hostNameProblem(host);
  if (why === null) return host;
  const chars = [...String(raw ?? '')];
  const shown = JSON.stringify(chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : chars.join('')).slice(1, -1);
  throw usageError(`'${shown}' is not a host name: ${why}`, hint);
}
