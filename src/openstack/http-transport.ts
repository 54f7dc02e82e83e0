/**
 * The transport: what the clients of one session share, and how one attempt
 * goes on the wire.
 *
 * - one axios instance per endpoint, sharing keep-alive agents and TLS settings
 *   (verification on; a CA bundle from `cacert`; `insecure` turns it off, loudly);
 *   redirects are never followed;
 * - non-idempotent requests on fresh connections (see freshAgents());
 * - a per-request timeout and the caller's AbortSignal, a failure reduced to
 *   facts (http-errors.ts classify());
 * - the request counters, and the logger, clock and retry policy the clients
 *   (http-request.ts) use.
 */
import axios, { type AxiosInstance } from 'axios';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { realClock, type Clock } from '../core/clock.js';
import { HostmaintError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { classify } from './http-errors.js';
import { DEFAULT_RETRY, HttpServiceClient, type Attempt, type RequestTransport, type RetryPolicy, type TransportSettings, type WireRequest } from './http-request.js';
import type { ServiceClient, ServiceClientOptions } from './service-client.js';

export const DEFAULT_TIMEOUT_MS = 60_000;

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

/**
 * What the clients of one session share: TLS agents, the axios instance of
 * each endpoint, request counters, logger, clock and retry policy.
 */
// The settings' fields are the class's (declaration merging), set in the constructor.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface HttpTransport extends TransportSettings {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class HttpTransport implements RequestTransport {
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
    const settings: TransportSettings = {
      logger: opts.logger,
      clock: opts.clock ?? realClock,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      userAgent: opts.userAgent ?? `hostmaint/${hostmaintVersion()}`,
      retry: { ...DEFAULT_RETRY, ...opts.retry },
      random: opts.random ?? Math.random,
      signal: opts.signal,
    };
    Object.assign(this, settings);
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

  /**
   * @internal
   * One attempt on `instance` (an endpoint's, from axiosFor()): aborted by the
   * request's timeout or any of its signals; a failure comes back as facts.
   */
  async send(instance: AxiosInstance, req: WireRequest): Promise<Attempt> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = req.timeoutMs > 0 ? setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, req.timeoutMs) : null;
    const onAbort = () => controller.abort();
    for (const s of req.signals) s.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await instance.request({
        url: req.url,
        method: req.method,
        headers: req.headers,
        data: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: controller.signal,
        ...(req.idempotent ? {} : this.freshAgents()),
      });
      return { ok: true, response };
    } catch (e) {
      return classify(e, timedOut);
    } finally {
      if (timer) clearTimeout(timer);
      for (const s of req.signals) s.removeEventListener('abort', onAbort);
    }
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
