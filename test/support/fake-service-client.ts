/**
 * A recording fake of the ServiceClient seam (src/openstack/service-client.ts).
 *
 * - records every ServiceRequest it is sent (method, path, query, body and the
 *   effective microversion: the per-request override, else the client's);
 * - answers from a route table (method + exact path or RegExp, first match wins
 *   unless a later route was added with `prepend`);
 * - lets a test set the negotiated microversion;
 * - throws HttpError exactly as the real client maps failures, so the code
 *   under test sees the same error kinds.
 *
 * A stub on purpose: the typed compute and placement clients are tested one
 * request at a time below HTTP, on the exact request they build and on Nova's
 * and Placement's recorded answers (test/fixtures/); the emulator, the tests'
 * cloud double (test/support/emulated.ts), answers through the whole stack.
 */
import { HttpError, type ErrorKind } from '../../src/core/errors.js';
import {
  compareMicroversions,
  type HttpMethod,
  type ServiceClient,
  type ServiceRequest,
  type ServiceResponse,
} from '../../src/openstack/service-client.js';

export interface RecordedRequest {
  method: HttpMethod;
  path: string;
  query: Record<string, string | number | boolean | string[] | undefined> | undefined;
  body: unknown;
  /** The microversion this request went out with (override, else negotiated). */
  microversion: string | null;
  /** Set when the request carried an explicit per-request microversion override. */
  microversionOverride: string | undefined;
  headers: Record<string, string> | undefined;
}

export interface FakeReply {
  status?: number;
  data?: unknown;
  headers?: Record<string, string>;
  requestId?: string | null;
}

export type FakeHandler = (req: ServiceRequest, fake: FakeServiceClient) => FakeReply | Promise<FakeReply>;

interface Route {
  method: HttpMethod;
  path: string | RegExp;
  handler: FakeHandler;
  times: number | undefined;
  used: number;
}

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  400: 'bad-request',
  401: 'auth',
  403: 'forbidden',
  404: 'not-found',
  406: 'not-acceptable',
  409: 'conflict',
  500: 'server-error',
  502: 'unavailable',
  503: 'unavailable',
  504: 'timeout',
};

/** Build the HttpError the real client would throw for an error status with Nova's fault message. */
export function fakeHttpError(
  status: number,
  faultMessage: string,
  req: { method: string; path: string },
  opts: { kind?: ErrorKind; service?: string; requestId?: string } = {},
): HttpError {
  const kind = opts.kind ?? KIND_BY_STATUS[status] ?? (status >= 500 ? 'server-error' : 'bad-request');
  return new HttpError(
    kind,
    `${req.method} ${req.path} failed (${status}): ${faultMessage}`,
    {
      status,
      method: req.method,
      url: `http://fake${req.path}`,
      service: opts.service ?? 'compute',
      requestId: opts.requestId,
      faultMessage,
    },
    { retryable: status >= 500 },
  );
}

export class FakeServiceClient implements ServiceClient {
  readonly serviceType: string;
  readonly endpoint: string;
  microversion: string | null;
  readonly requests: RecordedRequest[] = [];
  private routes: Route[] = [];
  private nextRequestId = 1;

  constructor(opts: { serviceType?: string; microversion?: string | null; endpoint?: string } = {}) {
    this.serviceType = opts.serviceType ?? 'compute';
    this.microversion = opts.microversion === undefined ? (this.serviceType === 'placement' ? '1.39' : '2.93') : opts.microversion;
    this.endpoint = opts.endpoint ?? `http://fake/${this.serviceType}`;
  }

  setMicroversion(v: string | null): this {
    this.microversion = v;
    return this;
  }

  atLeast(v: string): boolean {
    return this.microversion !== null && compareMicroversions(this.microversion, v) >= 0;
  }

  /** Answer `method path` with a fixed reply (200 + data by default) or a handler. */
  on(method: HttpMethod, path: string | RegExp, reply: FakeReply | FakeHandler, opts: { times?: number; prepend?: boolean } = {}): this {
    const handler: FakeHandler = typeof reply === 'function' ? reply : () => reply;
    const route: Route = { method, path, handler, times: opts.times, used: 0 };
    if (opts.prepend) this.routes.unshift(route);
    else this.routes.push(route);
    return this;
  }

  /** Shorthand: `on(method, path, { status: 200, data })`. */
  json(method: HttpMethod, path: string | RegExp, data: unknown, status = 200): this {
    return this.on(method, path, { status, data });
  }

  /** Answer with an error (thrown as the real client would). */
  fail(method: HttpMethod, path: string | RegExp, status: number, faultMessage: string, kind?: ErrorKind): this {
    return this.on(method, path, (req) => {
      throw fakeHttpError(status, faultMessage, req, { kind, service: this.serviceType });
    });
  }

  /** Recorded requests matching a method (and optionally a path). */
  sent(method?: HttpMethod, path?: string | RegExp): RecordedRequest[] {
    return this.requests.filter(
      (r) => (method === undefined || r.method === method) && (path === undefined || (typeof path === 'string' ? r.path === path : path.test(r.path))),
    );
  }

  /** The only recorded request (fails loudly when there were more or none). */
  only(): RecordedRequest {
    if (this.requests.length !== 1) {
      throw new Error(`expected exactly one request, got ${this.requests.length}: ${this.requests.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    }
    return this.requests[0]!;
  }

  last(): RecordedRequest {
    const r = this.requests[this.requests.length - 1];
    if (!r) throw new Error('no request was sent');
    return r;
  }

  reset(): this {
    this.requests.length = 0;
    return this;
  }

  async request<T = unknown>(req: ServiceRequest): Promise<ServiceResponse<T>> {
    if (req.signal?.aborted) {
      throw new HttpError('interrupted', `${req.method} ${req.path} aborted`, {
        status: 0,
        method: req.method,
        url: `http://fake${req.path}`,
        service: this.serviceType,
      });
    }
    this.requests.push({
      method: req.method,
      path: req.path,
      query: req.query === undefined ? undefined : stripUndefined(req.query),
      body: req.body === undefined ? undefined : structuredClone(req.body),
      microversion: req.microversion ?? this.microversion,
      microversionOverride: req.microversion,
      headers: req.headers,
    });
    const route = this.routes.find(
      (r) =>
        r.method === req.method &&
        (r.times === undefined || r.used < r.times) &&
        (typeof r.path === 'string' ? r.path === req.path : r.path.test(req.path)),
    );
    if (!route) {
      throw fakeHttpError(404, `fake ${this.serviceType}: no route for ${req.method} ${req.path}`, req, { service: this.serviceType });
    }
    route.used += 1;
    const reply = await route.handler(req, this);
    const requestId = reply.requestId === undefined ? `req-fake-${this.nextRequestId++}` : reply.requestId;
    return {
      status: reply.status ?? 200,
      data: (reply.data ?? null) as T,
      headers: reply.headers ?? {},
      requestId,
    };
  }
}

function stripUndefined(q: NonNullable<ServiceRequest['query']>): RecordedRequest['query'] {
  const out: NonNullable<RecordedRequest['query']> = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[k] = v;
  return out;
}
