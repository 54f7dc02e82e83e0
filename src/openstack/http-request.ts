/**
 * The request layer: the ServiceClient implementation every typed client
 * stands on, one per endpoint, over the session's transport (http-transport.ts).
 *
 * - headers: JSON, `User-Agent`, the microversion (microversions.ts), the token;
 * - retries only for idempotent requests (GET/HEAD or `idempotent: true`) on
 *   connection errors, timeouts and 502/503/504, with bounded exponential
 *   backoff and jitter, slept on the injected Clock;
 * - a non-idempotent request that timed out or lost its connection after it was
 *   sent is an `unknown-outcome` error: never retried, the caller reconciles;
 * - 401: one forced re-authentication through the token source, one repeat;
 * - every failure mapped to an HttpError (http-errors.ts); no AxiosError
 *   (which carries the request headers, and so the token) ever leaves the
 *   transport;
 * - a debug log line per attempt (method, redacted URL, status, request id,
 *   duration, attempt), never a token or a secret.
 */
import type { AxiosInstance, AxiosResponse } from 'axios';
import type { Clock } from '../core/clock.js';
import { HostmaintError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import {
  RETRY_STATUSES,
  interruptedError,
  networkError,
  requestName,
  statusError,
  timeoutError,
  tlsError,
  unknownOutcomeError,
  type FailedRequest,
  type WireFailure,
} from './http-errors.js';
import { microversionHeaders } from './microversions.js';
import { redact, redactUrl } from './redact.js';
import { escapeControlsDeep } from '../core/text.js';
import {
  compareMicroversions,
  type HttpMethod,
  type ServiceClient,
  type ServiceClientOptions,
  type ServiceRequest,
  type ServiceResponse,
  type TokenSource,
} from './service-client.js';

export interface RetryPolicy {
  /** Total attempts for a retryable request (1 = no retry). */
  attempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 250, capMs: 4000 };

/** Connection failures worth retrying (idempotent requests only). */
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE']);

/** One attempt of a request, as the transport sends it. */
export interface WireRequest {
  url: string;
  method: HttpMethod;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  signals: AbortSignal[];
  idempotent: boolean;
}

/** What one attempt gave: a response (any status), or the facts of a failure. */
export type Attempt = { ok: true; response: AxiosResponse } | WireFailure;

/** The settings of a transport, as its clients read them. */
export interface TransportSettings {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly retry: RetryPolicy;
  readonly random: () => number;
  readonly signal: AbortSignal | undefined;
}

/** What a client needs of the transport it runs on (HttpTransport). */
export interface RequestTransport extends TransportSettings {
  axiosFor(endpoint: string): AxiosInstance;
  send(instance: AxiosInstance, req: WireRequest): Promise<Attempt>;
  countRequest(serviceType: string): void;
}

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

export class HttpServiceClient implements ServiceClient {
  readonly serviceType: string;
  readonly endpoint: string;
  readonly microversion: string | null;
  private readonly tokens: TokenSource | null;
  private readonly axios: AxiosInstance;

  constructor(
    private readonly transport: RequestTransport,
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
    const failed: FailedRequest = { service: this.serviceType, method, url: safeUrl };
    const what = requestName(failed);

    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': t.userAgent };
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      if (!/^x-auth-token$/i.test(k)) headers[k] = v;
    }
    if (req.body !== undefined) headers['Content-Type'] = 'application/json';
    if (microversion) Object.assign(headers, microversionHeaders(this.serviceType, microversion));

    let token: string | null = null;
    if (this.tokens) token = await this.tokens.token({ signal: req.signal ?? t.signal });
    let reauthenticated = false;
    let failures = 0;
    let attempt = 0;

    for (;;) {
      if (signals.some((s) => s.aborted)) throw interruptedError(failed, false, idempotent);
      attempt++;
      if (token !== null) headers['X-Auth-Token'] = token;
      const started = performance.now();
      const result = await t.send(this.axios, { url, method, headers, body: req.body, timeoutMs, signals, idempotent });
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
          // Control characters in the cloud's text are escaped here, once (core/text.ts): nothing printed later carries them raw.
          return { status, data: (res.data === '' ? null : escapeControlsDeep(res.data)) as T, headers: resHeaders, requestId };
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
        throw statusError(
          failed,
          { status, statusText: res.statusText, data: escapeControlsDeep(res.data), requestId, location: resHeaders.location },
          { reauthenticated, attempts: attempt },
        );
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
      if (result.failure === 'aborted') throw interruptedError(failed, true, idempotent);
      if (result.failure === 'tls') throw tlsError(failed, result);
      const retryable = result.failure === 'timeout' || RETRY_CODES.has(result.code);
      if (!idempotent && result.maybeSent) throw unknownOutcomeError(failed, result, timeoutMs);
      if (idempotent && retryable && failures + 1 < t.retry.attempts) {
        failures++;
        await this.backoff(failures, what, result.code, undefined, signals, attempt);
        continue;
      }
      if (result.failure === 'timeout') throw timeoutError(failed, result, timeoutMs, attempt);
      throw networkError(failed, result, new URL(url).host, attempt);
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
}
