/**
 * The disable marker: `hostmaint:<run-id>: <reason>` in the service's
 * disabled_reason, and who else disables nova-compute services (so we know
 * whose disable it is and never re-enable someone else's).
 */

export const MARKER_PREFIX = 'hostmaint:';
/** Nova's limit on disabled_reason. */
export const MAX_REASON_LENGTH = 255;

const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidRunId(runId: string): boolean {
  return RUN_ID_RE.test(runId);
}

/** `hostmaint:<run-id>: <reason>`, truncated to Nova's 255 characters (code points, ending in an ellipsis). */
export function makeMarker(runId: string, reason: string): string {
  if (!isValidRunId(runId)) throw new Error(`invalid run id '${runId}': letters, digits, '.', '_' and '-' only`);
  const text = reason.replace(/\s+/g, ' ').trim() || 'maintenance';
  const full = [...`${MARKER_PREFIX}${runId}: ${text}`];
  // Nova counts code points (jsonschema maxLength), so do we; never split a surrogate pair.
  if (full.length <= MAX_REASON_LENGTH) return full.join('');
  return `${full.slice(0, MAX_REASON_LENGTH - 1).join('')}…`;
}

export interface ParsedMarker {
  runId: string;
  reason: string;
}

/** The run id and reason of a hostmaint marker, or null when the text is not one. */
export function parseMarker(disabledReason: string | null | undefined): ParsedMarker | null {
  if (!disabledReason) return null;
  const m = /^hostmaint:([A-Za-z0-9][A-Za-z0-9._-]{0,63}):\s?([\s\S]*)$/.exec(disabledReason.trim());
  if (!m) return null;
  return { runId: m[1]!, reason: m[2]! };
}

export function isHostmaintReason(disabledReason: string | null | undefined): boolean {
  return parseMarker(disabledReason) !== null;
}

export type Disabler = 'hostmaint' | 'libvirt' | 'masakari' | 'watcher' | 'unknown';

export interface DisablerInfo {
  who: Disabler;
  /** For hostmaint markers. */
  runId: string | null;
  /** One sentence for messages: "Nova's libvirt driver (AUTO: ...)". */
  description: string;
}

/** Who disabled a service, judging by its reason. */
export function identifyDisabler(disabledReason: string | null | undefined): DisablerInfo {
  const reason = (disabledReason ?? '').trim();
  const marker = parseMarker(reason);
  if (marker) return { who: 'hostmaint', runId: marker.runId, description: `hostmaint run ${marker.runId} ("${marker.reason}")` };
  if (/^AUTO:/i.test(reason)) return { who: 'libvirt', runId: null, description: `Nova's libvirt driver ("${reason}"); it re-enables the service itself when the hypervisor is back` };
  if (/masakari/i.test(reason)) return { who: 'masakari', runId: null, description: `Masakari host monitoring ("${reason}"): the host was seen failed` };
  if (/watcher/i.test(reason)) return { who: 'watcher', runId: null, description: `OpenStack Watcher ("${reason}")` };
  if (reason === '') return { who: 'unknown', runId: null, description: 'someone, without a reason' };
  return { who: 'unknown', runId: null, description: `someone else ("${reason}")` };
}

/** Nova's limit on a service's host name (the services.host column). */
export const MAX_HOST_LENGTH = 255;

/** Why `host` cannot be a nova-compute host name, or null when it can. */
export function hostNameProblem(host: string): string | null {
  if (host === '') return 'it is empty';
  if (/\s/.test(host)) return 'it holds white space';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(host)) return 'it holds a control character';
  if ([...host].length > MAX_HOST_LENGTH) return `it is ${[...host].length} characters long; Nova's host names have at most ${MAX_HOST_LENGTH}`;
  return null;
}
