/** Run outcomes (their exit codes: ./exit-codes.ts) and errors as data. */

export type DrainOutcome =
  /** The host is empty and stays disabled: go do the maintenance. */
  | 'drained'
  /** Plan mode (dryRun): resolve + preflight, nothing changed, preflight passed. */
  | 'planned'
  | 'unknown-host'
  | 'preflight-refused'
  /** The host could not be emptied; the service stays disabled; leftovers listed. */
  | 'partial'
  | 'ownership-refused'
  | 'host-busy'
  /** Nova shows the service changed by another actor during the run (enabled, or another marker): the run stopped. */
  | 'ownership-lost'
  | 'interrupted'
  | 'cloud-unreachable'
  /** Something given or saved could not be used (a saved run that does not read): nothing was changed. */
  | 'bad-input'
  | 'error';

export type UndrainOutcome =
  | 'undrained'
  | 'already-enabled'
  | 'unknown-host'
  | 'ownership-refused'
  /** The service did not report `up` within waitUpTimeoutMs; nothing changed. */
  | 'service-down'
  /** Enabled, but some instances could not be moved back. */
  | 'partial'
  /** Nova shows the service changed by another actor (disabled again) after this run enabled it. */
  | 'ownership-lost'
  | 'interrupted'
  | 'cloud-unreachable'
  | 'bad-input'
  | 'error';

export type Outcome = DrainOutcome | UndrainOutcome;

/** Error kinds (src/core/errors.ts) that mean the cloud could not be reached or refused who we are. */
const CLOUD_KINDS = new Set(['auth', 'forbidden', 'tls', 'network', 'timeout', 'unavailable', 'not-acceptable']);

/** A thrown value as serialisable data (no stack, no secrets: messages are already redacted by the clients). */
export interface ErrorInfo {
  kind: string;
  message: string;
  status: number | null;
  requestId: string | null;
  hint: string | null;
}

export function toErrorInfo(e: unknown): ErrorInfo {
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const message = typeof o.message === 'string' ? o.message : String(e);
    return {
      kind: typeof o.kind === 'string' ? o.kind : 'internal',
      message,
      status: typeof o.status === 'number' ? o.status : null,
      requestId: typeof o.requestId === 'string' ? o.requestId : null,
      hint: typeof o.hint === 'string' ? o.hint : null,
    };
  }
  return { kind: 'internal', message: String(e), status: null, requestId: null, hint: null };
}

/** The outcome of a run that ended on an error. */
export function outcomeForError(info: ErrorInfo): 'cloud-unreachable' | 'bad-input' | 'error' | 'interrupted' {
  if (info.kind === 'interrupted') return 'interrupted';
  if (info.kind === 'config' || info.kind === 'usage') return 'bad-input';
  return CLOUD_KINDS.has(info.kind) ? 'cloud-unreachable' : 'error';
}
