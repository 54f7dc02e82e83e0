/**
 * The seam between the HTTP core (src/openstack/http-*.ts, identity/) and the
 * typed service clients (compute/, placement/). A ServiceClient is bound to one
 * catalog endpoint, holds the negotiated microversion, sends the
 * `OpenStack-API-Version` header, re-authenticates once on 401, retries only
 * safe requests, redacts secrets, and maps every failure to an HttpError.
 */
import type { CallOptions } from './api.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';

export interface ServiceRequest extends CallOptions {
  method: HttpMethod;
  /** Path relative to the endpoint, e.g. `/os-services` or `/servers/ID/action`. */
  path: string;
  /** Query parameters; arrays repeat the key; undefined values are left out. */
  query?: Record<string, string | number | boolean | string[] | undefined>;
  body?: unknown;
  /** Extra headers (never the token: the client adds it). */
  headers?: Record<string, string>;
  /** Safe to retry on connection errors, timeouts and 502/503/504. Default: true for GET/HEAD, false otherwise. */
  idempotent?: boolean;
  /** Per-request timeout in ms (default from the client's options). */
  timeoutMs?: number;
  /** Override the microversion for this one request (e.g. an older call shape). */
  microversion?: string;
}

export interface ServiceResponse<T = unknown> {
  status: number;
  data: T;
  headers: Record<string, string>;
  /** x-openstack-request-id (or x-compute-request-id) of the response. */
  requestId: string | null;
}

export interface ServiceClient {
  /** Catalog service type: 'compute', 'placement', 'identity', 'image', 'network'. */
  readonly serviceType: string;
  /** The endpoint URL from the catalog (region and interface honoured). */
  readonly endpoint: string;
  /** Negotiated microversion ("2.93", "1.39"), or null for unversioned services. */
  readonly microversion: string | null;
  /** True when the negotiated microversion is >= `v` (e.g. atLeast("2.53")). */
  atLeast(v: string): boolean;
  request<T = unknown>(req: ServiceRequest): Promise<ServiceResponse<T>>;
}

/** Where a ServiceClient gets its token (src/openstack/identity TokenProvider implements it). */
export interface TokenSource {
  /**
   * A valid token. With `force`, a new one, unless the token passed as `stale`
   * has already been replaced (then the replacement: parallel 401s re-auth once).
   */
  token(opts?: { force?: boolean; stale?: string | null; signal?: AbortSignal | undefined }): Promise<string>;
}

/** What binds a ServiceClient to one endpoint (HttpTransport.client() makes it). */
export interface ServiceClientOptions {
  /** Catalog service type: 'compute', 'placement', 'identity'. */
  serviceType: string;
  endpoint: string;
  microversion?: string | null;
  /** Null for unauthenticated calls (Keystone's POST /auth/tokens). */
  tokens?: TokenSource | null;
}

/** Compare "2.53" style versions numerically. */
export function compareMicroversions(a: string, b: string): number {
  const [amaj = 0, amin = 0] = a.split('.').map((x) => Number.parseInt(x, 10));
  const [bmaj = 0, bmin = 0] = b.split('.').map((x) => Number.parseInt(x, 10));
  return amaj !== bmaj ? amaj - bmaj : amin - bmin;
}
