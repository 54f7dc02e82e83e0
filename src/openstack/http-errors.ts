/**
 * From a failed request to the project's typed HttpError: the service's own
 * fault message, the error kind of a status, the words and hints of every
 * failure (status, redirect, TLS, timeout, lost connection, cancellation).
 *
 * A transport failure is first reduced to facts (`classify`): no AxiosError
 * (which carries the request headers, and so the token) is ever kept. The
 * request an error names is described by its redacted URL only.
 */
import { HttpError, type ErrorKind, type HttpErrorFacts } from '../core/errors.js';
import { redactUrl } from './redact.js';
import type { HttpMethod } from './service-client.js';

const SERVICE_LABEL: Record<string, string> = { compute: 'Nova', placement: 'Placement', identity: 'Keystone', image: 'Glance', network: 'Neutron' };
export const serviceLabel = (t: string): string => SERVICE_LABEL[t] ?? t;

// ------------------------------------------------------------------ transport failures

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'HOSTNAME_MISMATCH',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);
/** Connection failures after which the request may have reached the server. */
const MAYBE_SENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Statuses that mean "try again": retried for idempotent requests, marked retryable otherwise. */
export const RETRY_STATUSES = new Set([502, 503, 504]);

/** A request that got no response, as facts. */
export interface WireFailure {
  ok: false;
  failure: 'timeout' | 'aborted' | 'tls' | 'network';
  code: string;
  message: string;
  /** The request may have reached the server before the connection failed. */
  maybeSent: boolean;
}

/** The transport failure, stripped to facts (no axios config, request or headers). */
export class TransportFailure extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'TransportFailure';
    this.code = code;
  }
}

/** Reduce an axios/node error to facts; never keep the error itself (it holds the headers). */
export function classify(e: unknown, timedOut: boolean): WireFailure {
  const err = (e ?? {}) as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = typeof err.code === 'string' ? err.code : typeof err.cause?.code === 'string' ? err.cause.code : 'EUNKNOWN';
  const message = typeof err.message === 'string' && err.message ? err.message : String(e);
  if (timedOut) return { ok: false, failure: 'timeout', code: 'ETIMEDOUT', message: 'no answer in time', maybeSent: true };
  if (code === 'ERR_CANCELED') return { ok: false, failure: 'aborted', code, message: 'cancelled', maybeSent: true };
  if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(message)) return { ok: false, failure: 'tls', code, message, maybeSent: false };
  if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') return { ok: false, failure: 'timeout', code, message, maybeSent: true };
  return { ok: false, failure: 'network', code, message, maybeSent: MAYBE_SENT_CODES.has(code) || /socket hang up/i.test(message) };
}

// ------------------------------------------------------------------ what services say

/**
 * The service's own error text from an error body:
 * Nova `{"conflictingRequest": {"message": ...}}`, Placement/Keystone
 * `{"errors": [{"detail": ..., "title": ...}]}`, Keystone `{"error": {"message": ...}}`.
 */
export function faultMessage(data: unknown): string | undefined {
  const clean = (s: string) => s.replace(/\s+/g, ' ').trim();
  if (typeof data === 'string') {
    const text = clean(data.replace(/<[^>]*>/g, ' '));
    return text ? text.slice(0, 300) : undefined;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const obj = data as Record<string, unknown>;
  if (Array.isArray(obj.errors)) {
    const parts = obj.errors
      .map((e) => {
        const er = (e ?? {}) as Record<string, unknown>;
        const detail = typeof er.detail === 'string' ? er.detail : '';
        const title = typeof er.title === 'string' ? er.title : '';
        // Placement's detail starts with the generic title text, then the real reason.
        return clean(detail || title);
      })
      .filter(Boolean);
    if (parts.length) return parts.join('; ');
  }
  const error = obj.error as Record<string, unknown> | undefined;
  if (error && typeof error === 'object' && typeof error.message === 'string') return clean(error.message);
  if (typeof obj.message === 'string') return clean(obj.message);
  if (typeof obj.title === 'string' && typeof obj.description === 'string') return clean(obj.description);
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const inner = obj[keys[0] as string] as Record<string, unknown> | undefined;
    if (inner && typeof inner === 'object' && typeof inner.message === 'string') return clean(inner.message);
  }
  return undefined;
}

export function kindForStatus(status: number): ErrorKind {
  if (status === 400) return 'bad-request';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 406) return 'not-acceptable';
  if (status === 409) return 'conflict';
  if (status === 503 || status === 429) return 'unavailable';
  if (status >= 500) return 'server-error';
  return 'bad-request';
}

/** What a TLS error code means, in words. */
export function tlsReason(code: string): string {
  if (code === 'CERT_HAS_EXPIRED') return "the server's certificate has expired";
  if (code === 'CERT_NOT_YET_VALID') return "the server's certificate is not valid yet";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return "the server's certificate is not valid for this host name";
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'the TLS handshake failed (is it really https?)';
  return "the server's certificate is not signed by a trusted CA";
}

const TLS_HINT =
  "Pass the CA bundle that signed the cloud's certificate with --os-cacert FILE (or OS_CACERT, or cacert: in clouds.yaml); " +
  'as a last resort, --insecure turns verification off.';

function hintForStatus(status: number, serviceType: string): string | undefined {
  switch (kindForStatus(status)) {
    case 'forbidden':
      return 'hostmaint needs the admin role in the project (or a policy that allows this call).';
    case 'not-acceptable':
      return `The ${serviceType} API refused the requested microversion.`;
    case 'unavailable':
      return 'The service is overloaded or restarting; try again shortly.';
    case 'server-error':
      return `${serviceLabel(serviceType)} failed; its log has the details under the request id.`;
    case 'auth':
      return 'The token was rejected even after re-authenticating: check the credentials and that Keystone and the service agree (service token, clock).';
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------ the errors

/** The request an error is about. */
export interface FailedRequest {
  /** Catalog service type. */
  service: string;
  method: HttpMethod;
  /** The URL, redacted. */
  url: string;
}

/** `Nova GET https://.../servers/detail`: how messages name a request. */
export function requestName(r: FailedRequest): string {
  return `${serviceLabel(r.service)} ${r.method} ${r.url}`;
}

function facts(r: FailedRequest, status: number, requestId?: string | null, fault?: string): HttpErrorFacts {
  return { status, method: r.method, url: r.url, service: r.service, requestId: requestId ?? undefined, faultMessage: fault };
}

/** Cancelled by the caller's or the run's signal; `sent`: after it went out. */
export function interruptedError(r: FailedRequest, sent: boolean, idempotent: boolean): HttpError {
  return new HttpError(
    'interrupted',
    `${requestName(r)} was cancelled${sent && !idempotent ? ' after it was sent: it may or may not have been applied' : ''}`,
    facts(r, 0),
    { details: { idempotent } },
  );
}

/** A response that is not a success (a redirect included: hostmaint never follows one). */
export function statusError(
  r: FailedRequest,
  res: { status: number; statusText: string; data: unknown; requestId: string | null; location: string | undefined },
  opts: { reauthenticated: boolean; attempts: number },
): HttpError {
  const what = requestName(r);
  const { status, requestId } = res;
  const fault = faultMessage(res.data);
  if (status >= 300 && status < 400) {
    return new HttpError('bad-request', `${what} answered with a redirect (${status}${res.location ? ` to ${redactUrl(res.location)}` : ''}), which hostmaint does not follow`, facts(r, status, requestId, fault), {
      hint: 'Check the endpoint URL (the catalog, or the auth URL): it should point at the API itself.',
    });
  }
  const kind = kindForStatus(status);
  const reason = res.statusText ? ` ${res.statusText}` : '';
  const again = status === 401 && opts.reauthenticated ? ' (after re-authenticating)' : '';
  return new HttpError(kind, `${what} failed: ${status}${reason}${again}${fault ? `: ${fault}` : ''}`, facts(r, status, requestId, fault), {
    retryable: RETRY_STATUSES.has(status) || status === 429,
    hint: hintForStatus(status, r.service),
    details: { attempts: opts.attempts },
  });
}

export function tlsError(r: FailedRequest, f: WireFailure): HttpError {
  return new HttpError('tls', `TLS verification failed for ${requestName(r)}: ${tlsReason(f.code)} (${f.code})`, facts(r, 0), {
    cause: new TransportFailure(f.message, f.code),
    hint: TLS_HINT,
    details: { code: f.code },
  });
}

/** A non-idempotent request that timed out or lost its connection after it was sent. */
export function unknownOutcomeError(r: FailedRequest, f: WireFailure, timeoutMs: number): HttpError {
  const how = f.failure === 'timeout' ? `timed out after ${timeoutMs} ms` : `lost its connection (${f.code})`;
  return new HttpError(
    'unknown-outcome',
    `${requestName(r)} ${how} after it was sent: the request may or may not have been applied. It is not retried; the caller must check the resource's state (reconcile) before acting again.`,
    facts(r, 0),
    {
      cause: new TransportFailure(f.message, f.code),
      retryable: false,
      hint: 'Check the state of the resource (server, migration, service) before trying again.',
      details: { code: f.code },
    },
  );
}

export function timeoutError(r: FailedRequest, f: WireFailure, timeoutMs: number, attempts: number): HttpError {
  return new HttpError('timeout', `${requestName(r)} timed out after ${timeoutMs} ms${attempts > 1 ? ` (${attempts} attempts)` : ''}`, facts(r, 0), {
    cause: new TransportFailure(f.message, f.code),
    retryable: true,
    hint: `The service did not answer in time; check its health, or raise the timeout (--timeout).`,
    details: { code: f.code, attempts, timeoutMs },
  });
}

/** No connection to `host` (refused, reset, DNS ...). */
export function networkError(r: FailedRequest, f: WireFailure, host: string, attempts: number): HttpError {
  return new HttpError('network', `Cannot reach ${serviceLabel(r.service)} at ${host} for ${r.method} ${r.url}: ${f.message} (${f.code})${attempts > 1 ? ` after ${attempts} attempts` : ''}`, facts(r, 0), {
    cause: new TransportFailure(f.message, f.code),
    retryable: true,
    hint: `Check that ${host} is reachable from here (VPN, firewall, DNS) and that the URL is right (auth URL, --os-interface, --os-region-name).`,
    details: { code: f.code, attempts },
  });
}
