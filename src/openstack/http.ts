/**
 * The HTTP core: the ServiceClient implementation every typed client stands on.
 *
 * - one axios instance per endpoint, sharing keep-alive agents and TLS settings
 *   (verification on; a CA bundle from `cacert`; `insecure` turns it off, loudly);
 * - `OpenStack-API-Version: <service> X.Y` (and Nova's legacy header) when a
 *   microversion is set; `User-Agent: hostmaint/<version>`;
 * - a per-request timeout and the caller's AbortSignal;
 * - retries only for idempotent requests (GET/HEAD or `idempotent: true`) on
 *   connection errors, timeouts and 502/503/504, with bounded exponential
 *   backoff and jitter, slept on the injected Clock;
 * - a non-idempotent request that timed out or lost its connection after it was
 *   sent is an `unknown-outcome` error: never retried, the caller reconciles;
 * - 401: one forced re-authentication through the token source, one repeat;
 * - every failure mapped to an HttpError with the service's own fault message
 *   and the request id; no AxiosError (which carries the request headers, and
 *   so the token) ever leaves this file;
 * - a debug log line per attempt (method, redacted URL, status, request id,
 *   duration, attempt), never a token or a secret.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { realClock, type Clock } from '../core/clock.js';
import { HostmaintError, HttpError, type ErrorKind } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { redact, redactUrl } from './redact.js';
import { compareMicroversions, type HttpMethod, type ServiceClient, type ServiceRequest, type ServiceResponse } from './service-client.js';

// ------------------------------------------------------------------ options

export interface RetryPolicy {
  /** Total attempts for a retryable request (1 = no retry). */
  attempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 250, capMs: 4000 };
export const DEFAULT_TIMEOUT_MS = 60_000;

/** Where a ServiceClient gets its token (src/openstack/identity TokenProvider implements it). */
export interface TokenSource {
  /**
   * A valid token. With `force`, a new one, unless the token passed as `stale`
   * has already been replaced (then the replacement: parallel 401s re-auth once).
   */
  token(opts?: { force?: boolean; stale?: string | null; signal?: AbortSignal | undefined }): Promise<string>;
}

export interface HttpTransportOptions {
  logger: Logger;
  /** For retry backoff sleeps (tests inject a virtual clock). */
  clock?: Clock;
  /** Default per-request timeout. */
  timeoutMs?: number;
  /** Default `hostmaint/<package version>`. */
  userAgent?: string;
  /** Path of a PEM CA bundle to verify TLS against (instead of the system CAs). */
  cacert?: string | null;
  /** Do not verify TLS certificates. */
  insecure?: boolean;
  retry?: Partial<RetryPolicy>;
  /** Jitter source in [0, 1) (tests make it deterministic). */
  random?: () => number;
  /** Aborts every request of this transport (e.g. the whole run). */
  signal?: AbortSignal;
}

export interface ServiceClientOptions {
  /** Catalog service type: 'compute', 'placement', 'identity'. */
  serviceType: string;
  endpoint: string;
  microversion?: string | null;
  /** Null for unauthenticated calls (Keystone's POST /auth/tokens). */
  tokens?: TokenSource | null;
}

const SERVICE_LABEL: Record<string, string> = { compute: 'Nova', placement: 'Placement', identity: 'Keystone', image: 'Glance', network: 'Neutron' };
export const serviceLabel = (t: string): string => SERVICE_LABEL[t] ?? t;

let cachedVersion: string | null = null;

/** hostmaint's version from its package.json (found by walking up from this file). */
export function hostmaintVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'hostmaint' && pkg.version) return (cachedVersion = pkg.version);
    } catch {
      // keep walking up
    }
    dir = path.dirname(dir);
  }
  return (cachedVersion = '0.0.0');
}

// ------------------------------------------------------------------ transport

/**
 * What the clients of one session share: TLS agents, the axios instance of
 * each endpoint, request counters, logger, clock and retry policy.
 */
export class HttpTransport {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly retry: RetryPolicy;
  readonly random: () => number;
  readonly signal: AbortSignal | undefined;
  readonly insecure: boolean;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** Agents without keep-alive, for requests that must not be retried (see freshAgents()). */
  private readonly freshHttpAgent: http.Agent;
  private readonly freshHttpsAgent: https.Agent;
  private readonly instances = new Map<string, AxiosInstance>();
  private readonly counts: Record<string, number> = {};
  private closed = false;

  constructor(opts: HttpTransportOptions) {
    this.logger = opts.logger;
    this.clock = opts.clock ?? realClock;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.userAgent = opts.userAgent ?? `hostmaint/${hostmaintVersion()}`;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.random = opts.random ?? Math.random;
    this.signal = opts.signal;
    this.insecure = opts.insecure === true;
    let ca: string | undefined;
    if (opts.cacert && !this.insecure) ca = readCaBundle(opts.cacert);
    this.httpAgent = new http.Agent({ keepAlive: true });
    const tls = { rejectUnauthorized: !this.insecure, ...(ca !== undefined ? { ca } : {}) };
    this.httpsAgent = new https.Agent({ keepAlive: true, ...tls });
    this.freshHttpAgent = new http.Agent({ keepAlive: false });
    this.freshHttpsAgent = new https.Agent({ keepAlive: false, ...tls });
    if (this.insecure) {
      this.logger.warn(
        'TLS certificate verification is OFF (--insecure / OS_INSECURE / verify: false): anyone on the path can read the token and impersonate the cloud. Use --os-cacert with the cloud\'s CA instead.',
      );
    }
  }

  /** A ServiceClient bound to one endpoint (clients of the same endpoint share one axios instance). */
  client(opts: ServiceClientOptions): ServiceClient {
    return new HttpServiceClient(this, opts);
  }

  /** @internal */
  axiosFor(endpoint: string): AxiosInstance {
    const key = new URL(endpoint).origin + new URL(endpoint).pathname.replace(/\/+$/, '');
    let inst = this.instances.get(key);
    if (!inst) {
      inst = axios.create({
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        // Redirects would forward X-Auth-Token to wherever they point: never follow them.
        maxRedirects: 0,
        validateStatus: () => true,
        timeout: 0,
        transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: true },
      });
      this.instances.set(key, inst);
    }
    return inst;
  }

  /**
   * @internal
   * A pooled keep-alive socket can be closed by the server just as a request is
   * written to it; the request then fails with ECONNRESET although the server
   * never saw it. For a GET that is one more retry; for a live-migrate POST it
   * would be a false `unknown-outcome`. So non-idempotent requests get a new
   * connection of their own.
   */
  freshAgents(): { httpAgent: http.Agent; httpsAgent: https.Agent } {
    return { httpAgent: this.freshHttpAgent, httpsAgent: this.freshHttpsAgent };
  }

  /** @internal */
  countRequest(serviceType: string): void {
    this.counts[serviceType] = (this.counts[serviceType] ?? 0) + 1;
  }

  /** HTTP requests sent so far (every attempt counts), by service type. */
  requestCount(): Record<string, number> {
    return { ...this.counts };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Close the keep-alive connections. */
  close(): void {
    this.closed = true;
    for (const a of [this.httpAgent, this.httpsAgent, this.freshHttpAgent, this.freshHttpsAgent]) a.destroy();
  }
}

export function createTransport(opts: HttpTransportOptions): HttpTransport {
  return new HttpTransport(opts);
}

/** A ServiceClient for one endpoint, on a transport. */
export function createServiceClient(transport: HttpTransport, opts: ServiceClientOptions): ServiceClient {
  return transport.client(opts);
}

function readCaBundle(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new HostmaintError('config', `Cannot read the CA bundle ${file} (${code})`, {
      hint: 'Check the path given with --os-cacert / OS_CACERT / cacert in clouds.yaml.',
      details: { file },
    });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new HostmaintError('config', `The CA bundle ${file} contains no PEM certificate`, {
      hint: 'It must hold one or more "-----BEGIN CERTIFICATE-----" blocks (convert DER with `openssl x509 -inform der`).',
      details: { file },
    });
  }
  return text;
}

// ------------------------------------------------------------------ the client

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
/** Connection failures worth retrying (idempotent requests only). */
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE']);
const RETRY_STATUSES = new Set([502, 503, 504]);

/** The transport failure, stripped to facts (no axios config, request or headers). */
export class TransportFailure extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'TransportFailure';
    this.code = code;
  }
}

type Attempt =
  | { ok: true; response: AxiosResponse }
  | { ok: false; failure: 'timeout' | 'aborted' | 'tls' | 'network'; code: string; message: string; maybeSent: boolean };

function joinUrl(endpoint: string, p: string, query: ServiceRequest['query']): string {
  const base = endpoint.replace(/\/+$/, '');
  let url = p === '' ? base : `${base}/${p.replace(/^\/+/, '')}`;
  if (p.endsWith('/') && !url.endsWith('/')) url += '/';
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) qs.append(k, item);
      else qs.append(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  return url;
}

function plainHeaders(h: AxiosResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = typeof (h as { toJSON?: unknown }).toJSON === 'function' ? (h as { toJSON(): Record<string, unknown> }).toJSON() : (h as Record<string, unknown>);
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function requestIdOf(headers: Record<string, string>): string | null {
  return headers['x-openstack-request-id'] ?? headers['x-compute-request-id'] ?? null;
}

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

class HttpServiceClient implements ServiceClient {
  readonly serviceType: string;
  readonly endpoint: string;
  readonly microversion: string | null;
  private readonly tokens: TokenSource | null;
  private readonly axios: AxiosInstance;

  constructor(
    private readonly transport: HttpTransport,
    opts: ServiceClientOptions,
  ) {
    this.serviceType = opts.serviceType;
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.microversion = opts.microversion ?? null;
    this.tokens = opts.tokens ?? null;
    this.axios = transport.axiosFor(this.endpoint);
  }

  atLeast(v: string): boolean {
    return this.microversion !== null && compareMicroversions(this.microversion, v) >= 0;
  }

  async request<T = unknown>(req: ServiceRequest): Promise<ServiceResponse<T>> {
    const t = this.transport;
    const method: HttpMethod = req.method;
    const idempotent = req.idempotent ?? (method === 'GET' || method === 'HEAD');
    const url = joinUrl(this.endpoint, req.path, req.query);
    const safeUrl = redactUrl(url);
    const microversion = req.microversion ?? this.microversion;
    const timeoutMs = req.timeoutMs ?? t.timeoutMs;
    const signals = [req.signal, t.signal].filter((s): s is AbortSignal => s !== undefined);
    const facts = (status: number, requestId?: string | null, fault?: string) => ({
      status,
      method,
      url: safeUrl,
      service: this.serviceType,
      requestId: requestId ?? undefined,
      faultMessage: fault,
    });
    const what = `${serviceLabel(this.serviceType)} ${method} ${safeUrl}`;

    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': t.userAgent };
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      if (!/^x-auth-token$/i.test(k)) headers[k] = v;
    }
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    if (microversion) {
      headers['OpenStack-API-Version'] = `${this.serviceType} ${microversion}`;
      if (this.serviceType === 'compute') headers['X-OpenStack-Nova-API-Version'] = microversion;
    }

    const interrupted = (sent: boolean) =>
      new HttpError(
        'interrupted',
        `${what} was cancelled${sent && !idempotent ? ' after it was sent: it may or may not have been applied' : ''}`,
        facts(0),
        { details: { idempotent } },
      );

    let token: string | null = null;
    if (this.tokens) token = await this.tokens.token({ signal: req.signal ?? t.signal });
    let reauthenticated = false;
    let failures = 0;
    let attempt = 0;

    for (;;) {
      if (signals.some((s) => s.aborted)) throw interrupted(false);
      attempt++;
      if (token !== null) headers['X-Auth-Token'] = token;
      const started = performance.now();
      const result = await this.send(url, method, headers, req.body, timeoutMs, signals, idempotent);
      const durationMs = Math.round(performance.now() - started);
      t.countRequest(this.serviceType);

      if (result.ok) {
        const res = result.response;
        const resHeaders = plainHeaders(res.headers);
        const requestId = requestIdOf(resHeaders);
        t.logger.debug(`${method} ${safeUrl} -> ${res.status}`, {
          service: this.serviceType,
          method,
          url: safeUrl,
          status: res.status,
          requestId,
          durationMs,
          attempt,
          ...(microversion ? { microversion } : {}),
          ...(req.body !== undefined ? { body: redact(req.body) } : {}),
        });
        const status = res.status;
        if (status >= 200 && status < 300) {
          return { status, data: (res.data === '' ? null : res.data) as T, headers: resHeaders, requestId };
        }
        if (status === 401 && this.tokens && !reauthenticated) {
          reauthenticated = true;
          t.logger.info(`${what}: the token was rejected (401); re-authenticating and repeating the request once`, { requestId });
          token = await this.tokens.token({ force: true, stale: token, signal: req.signal ?? t.signal });
          continue;
        }
        if (idempotent && RETRY_STATUSES.has(status) && failures + 1 < t.retry.attempts) {
          failures++;
          await this.backoff(failures, what, `${status}`, resHeaders['retry-after'], signals, attempt);
          continue;
        }
        const fault = faultMessage(res.data);
        if (status >= 300 && status < 400) {
          throw new HttpError('bad-request', `${what} answered with a redirect (${status}${resHeaders.location ? ` to ${redactUrl(resHeaders.location)}` : ''}), which hostmaint does not follow`, facts(status, requestId, fault), {
            hint: 'Check the endpoint URL (the catalog, or the auth URL): it should point at the API itself.',
          });
        }
        const kind = kindForStatus(status);
        const reason = res.statusText ? ` ${res.statusText}` : '';
        const again = status === 401 && reauthenticated ? ' (after re-authenticating)' : '';
        throw new HttpError(kind, `${what} failed: ${status}${reason}${again}${fault ? `: ${fault}` : ''}`, facts(status, requestId, fault), {
          retryable: RETRY_STATUSES.has(status) || status === 429,
          hint: hintForStatus(status, this.serviceType),
          details: { attempts: attempt },
        });
      }

      // No response.
      t.logger.debug(`${method} ${safeUrl} -> ${result.failure} (${result.code})`, {
        service: this.serviceType,
        method,
        url: safeUrl,
        status: 0,
        requestId: null,
        error: result.code,
        durationMs,
        attempt,
        ...(microversion ? { microversion } : {}),
        ...(req.body !== undefined ? { body: redact(req.body) } : {}),
      });
      const cause = new TransportFailure(result.message, result.code);
      if (result.failure === 'aborted') throw interrupted(true);
      if (result.failure === 'tls') {
        throw new HttpError('tls', `TLS verification failed for ${what}: ${tlsReason(result.code)} (${result.code})`, facts(0), {
          cause,
          hint: TLS_HINT,
          details: { code: result.code },
        });
      }
      const retryable = result.failure === 'timeout' || RETRY_CODES.has(result.code);
      if (!idempotent && result.maybeSent) {
        const how = result.failure === 'timeout' ? `timed out after ${timeoutMs} ms` : `lost its connection (${result.code})`;
        throw new HttpError(
          'unknown-outcome',
          `${what} ${how} after it was sent: the request may or may not have been applied. It is not retried; the caller must check the resource's state (reconcile) before acting again.`,
          facts(0),
          { cause, retryable: false, hint: 'Check the state of the resource (server, migration, service) before trying again.', details: { code: result.code } },
        );
      }
      if (idempotent && retryable && failures + 1 < t.retry.attempts) {
        failures++;
        await this.backoff(failures, what, result.code, undefined, signals, attempt);
        continue;
      }
      if (result.failure === 'timeout') {
        throw new HttpError('timeout', `${what} timed out after ${timeoutMs} ms${attempt > 1 ? ` (${attempt} attempts)` : ''}`, facts(0), {
          cause,
          retryable: true,
          hint: `The service did not answer in time; check its health, or raise the timeout (--timeout).`,
          details: { code: result.code, attempts: attempt, timeoutMs },
        });
      }
      const host = new URL(url).host;
      throw new HttpError('network', `Cannot reach ${serviceLabel(this.serviceType)} at ${host} for ${method} ${safeUrl}: ${result.message} (${result.code})${attempt > 1 ? ` after ${attempt} attempts` : ''}`, facts(0), {
        cause,
        retryable: true,
        hint: `Check that ${host} is reachable from here (VPN, firewall, DNS) and that the URL is right (auth URL, --os-interface, --os-region-name).`,
        details: { code: result.code, attempts: attempt },
      });
    }
  }

  private async backoff(failures: number, what: string, why: string, retryAfter: string | undefined, signals: AbortSignal[], attempt: number): Promise<void> {
    const t = this.transport;
    const exp = Math.min(t.retry.capMs, t.retry.baseMs * 2 ** (failures - 1));
    // "Equal jitter": half fixed, half random, so retries never collapse to zero delay.
    let delay = Math.round(exp / 2 + (exp / 2) * t.random());
    const ra = retryAfter !== undefined ? Number(retryAfter) : NaN;
    if (Number.isFinite(ra) && ra >= 0) delay = Math.min(t.retry.capMs, Math.max(delay, ra * 1000));
    t.logger.info(`${what}: ${why}; retrying in ${delay} ms (attempt ${attempt + 1} of ${t.retry.attempts})`, { delayMs: delay, attempt: attempt + 1 });
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    try {
      await t.clock.sleep(delay, signal);
    } catch {
      throw new HostmaintError('interrupted', `${what} was cancelled while waiting to retry`);
    }
  }

  private async send(
    url: string,
    method: HttpMethod,
    headers: Record<string, string>,
    body: unknown,
    timeoutMs: number,
    signals: AbortSignal[],
    idempotent: boolean,
  ): Promise<Attempt> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs) : null;
    const onAbort = () => controller.abort();
    for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await this.axios.request({
        url,
        method,
        headers,
        data: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        ...(idempotent ? {} : this.transport.freshAgents()),
      });
      return { ok: true, response };
    } catch (e) {
      return classify(e, timedOut);
    } finally {
      if (timer) clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', onAbort);
    }
  }
}

/** Reduce an axios/node error to facts; never keep the error itself (it holds the headers). */
function classify(e: unknown, timedOut: boolean): Attempt {
  const err = (e ?? {}) as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const code = typeof err.code === 'string' ? err.code : typeof err.cause?.code === 'string' ? err.cause.code : 'EUNKNOWN';
  const message = typeof err.message === 'string' && err.message ? err.message : String(e);
  if (timedOut) return { ok: false, failure: 'timeout', code: 'ETIMEDOUT', message: 'no answer in time', maybeSent: true };
  if (code === 'ERR_CANCELED') return { ok: false, failure: 'aborted', code, message: 'cancelled', maybeSent: true };
  if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(message)) return { ok: false, failure: 'tls', code, message, maybeSent: false };
  if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') return { ok: false, failure: 'timeout', code, message, maybeSent: true };
  return { ok: false, failure: 'network', code, message, maybeSent: MAYBE_SENT_CODES.has(code) || /socket hang up/i.test(message) };
}

// ------------------------------------------------------------------ microversions

export interface VersionRange {
  min: string;
  max: string;
}

/**
 * The microversion range a service advertises in its version document:
 * Nova's `{"version": {"version": "2.93", "min_version": "2.1"}}` at the
 * endpoint, or a `{"versions": [...]}` list (Placement's root, Nova's root).
 * Null when the document names no microversions.
 */
export function parseVersionDocument(data: unknown): VersionRange | null {
  if (data === null || typeof data !== 'object') return null;
  const obj = data as Record<string, unknown>;
  let v: Record<string, unknown> | undefined;
  if (obj.version && typeof obj.version === 'object') v = obj.version as Record<string, unknown>;
  else {
    const list = Array.isArray(obj.versions)
      ? obj.versions
      : obj.versions && typeof obj.versions === 'object' && Array.isArray((obj.versions as { values?: unknown }).values)
        ? ((obj.versions as { values: unknown[] }).values)
        : [];
    const entries = list.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
    const withMax = entries.filter((x) => typeof (x.max_version ?? x.version) === 'string' && (x.max_version ?? x.version) !== '');
    v = withMax.find((x) => x.status === 'CURRENT') ?? withMax.sort((a, b) => compareMicroversions(String(b.max_version ?? b.version), String(a.max_version ?? a.version)))[0];
  }
  if (!v) return null;
  const max = typeof v.max_version === 'string' && v.max_version ? v.max_version : typeof v.version === 'string' ? v.version : '';
  const min = typeof v.min_version === 'string' && v.min_version ? v.min_version : max;
  if (!/^\d+\.\d+$/.test(max) || !/^\d+\.\d+$/.test(min)) return null;
  return { min, max };
}

/**
 * The highest microversion both the server and hostmaint support (never above
 * hostmaint's max). A `not-acceptable` error naming both ranges when they do
 * not overlap.
 */
export function chooseMicroversion(serviceType: string, server: VersionRange, code: VersionRange): string {
  const chosen = compareMicroversions(server.max, code.max) < 0 ? server.max : code.max;
  const floor = compareMicroversions(server.min, code.min) > 0 ? server.min : code.min;
  if (compareMicroversions(chosen, floor) < 0) {
    const tooOld = compareMicroversions(server.max, code.min) < 0;
    throw new HostmaintError(
      'not-acceptable',
      `The cloud's ${serviceType} API supports microversions ${server.min} to ${server.max}, and hostmaint speaks ${code.min} to ${code.max}: ` +
        (tooOld ? `the cloud is too old (hostmaint needs at least ${code.min}).` : `the cloud no longer accepts any microversion hostmaint knows.`),
      {
        hint: tooOld ? `Upgrade ${serviceLabel(serviceType)}, or use an older hostmaint.` : 'Use a newer hostmaint.',
        details: { service: serviceType, serverMin: server.min, serverMax: server.max, codeMin: code.min, codeMax: code.max },
      },
    );
  }
  return chosen;
}

/** URLs to try for the version document: the endpoint, without a trailing project id, the host root. */
function discoveryUrls(endpoint: string, projectId?: string | null): string[] {
  const u = new URL(endpoint);
  const segs = u.pathname.split('/').filter(Boolean);
  const out = [endpoint.replace(/\/+$/, '')];
  const last = segs[segs.length - 1];
  if (last !== undefined && (last === projectId || /^[0-9a-f]{32}$/i.test(last) || /^%\(.*\)s$/.test(last) || /^\$\(.*\)s$/.test(last))) {
    out.push(`${u.origin}/${segs.slice(0, -1).join('/')}`.replace(/\/+$/, ''));
  }
  out.push(`${u.origin}/`);
  return [...new Set(out)];
}

/**
 * Read the service's version document and choose the microversion: the
 * highest both support, capped at hostmaint's max. Throws `not-acceptable`
 * when the ranges do not overlap.
 */
export async function negotiateMicroversion(
  transport: HttpTransport,
  args: { serviceType: string; endpoint: string; code: VersionRange; tokens?: TokenSource | null; projectId?: string | null; signal?: AbortSignal | undefined },
): Promise<{ microversion: string; server: VersionRange }> {
  const tried: string[] = [];
  let lastError: unknown = null;
  for (const url of discoveryUrls(args.endpoint, args.projectId)) {
    tried.push(redactUrl(url));
    const client = transport.client({ serviceType: args.serviceType, endpoint: url, tokens: args.tokens ?? null });
    try {
      const res = await client.request({ method: 'GET', path: '', signal: args.signal });
      const range = parseVersionDocument(res.data);
      if (range) {
        const microversion = chooseMicroversion(args.serviceType, range, args.code);
        transport.logger.debug(`${args.serviceType}: microversion ${microversion} (cloud ${range.min}..${range.max}, hostmaint ${args.code.min}..${args.code.max})`, {
          service: args.serviceType,
          microversion,
          serverMin: range.min,
          serverMax: range.max,
        });
        return { microversion, server: range };
      }
    } catch (e) {
      if (e instanceof HostmaintError && (e.kind === 'not-found' || e.kind === 'bad-request' || (e.kind === 'not-acceptable' && e instanceof HttpError))) {
        lastError = e;
        continue;
      }
      throw e;
    }
  }
  throw new HostmaintError('not-acceptable', `The ${args.serviceType} endpoint ${redactUrl(args.endpoint)} advertises no microversions (looked at ${tried.join(', ')})`, {
    hint: `hostmaint needs a ${serviceLabel(args.serviceType)} API with microversions ${args.code.min} or later; check the catalog's ${args.serviceType} endpoint.`,
    cause: lastError ?? undefined,
    details: { service: args.serviceType, tried },
  });
}
