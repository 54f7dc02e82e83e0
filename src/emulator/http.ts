/**
 * The emulator's HTTP plumbing: a node:http server on loopback, a small
 * router, the request log, fault application, and the response headers every
 * OpenStack service sends (x-openstack-request-id, and for Nova
 * x-compute-request-id plus the microversion headers).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { VirtualClock } from './clock.js';
import { isVirtualClock } from './clock.js';
import type { FaultBook, RequestFault, RequestInfo } from './faults.js';

export type Service = 'identity' | 'compute' | 'placement' | 'image' | 'emulator' | 'root';

export interface EmuRequest {
  method: string;
  /** Full path without the query string. */
  path: string;
  /** Path relative to the service root (e.g. /servers/detail). */
  servicePath: string;
  service: Service;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  requestId: string;
  params: Record<string, string>;
  /** Base URL of the emulator, e.g. http://127.0.0.1:34567 */
  baseUrl: string;
  /** Filled in by handlers for the request log. */
  note: { action?: string | null; microversion?: string; fault?: string };
}

export interface EmuResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: EmuRequest) => EmuResponse | Promise<EmuResponse>;

/** A JSON object (request bodies, response views). */
export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** An API error a handler throws; its service's wrapper turns it into that service's error body. */
export class Fail extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const fail = (status: number, message: string): never => {
  throw new Fail(status, message);
};

export interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

/** Build a route from "/servers/:id/action" style paths. */
export function route(method: string, path: string, handler: Handler): Route {
  const keys: string[] = [];
  const re = path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:([A-Za-z_]+)/g, (_m, k: string) => {
    keys.push(k);
    return '([^/]+)';
  });
  return { method, pattern: new RegExp(`^${re}/?$`), keys, handler };
}

export interface RequestRecord {
  seq: number;
  /** Emulator clock time (ms since the epoch) when the request arrived. */
  time: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  service: Service;
  status: number;
  requestId: string;
  /** Server action name for POST .../action (e.g. os-migrateLive). */
  action: string | null;
  /** The JSON body of POST action / PUT requests (never for auth requests). */
  body: unknown;
  /** Name or kind of the fault applied, if any. */
  fault: string | null;
  microversion: string | null;
  /** Real milliseconds spent handling it. */
  durationMs: number;
}

export interface RequestFilter {
  method?: string;
  service?: Service;
  /** Substring of the path, or a RegExp. */
  path?: string | RegExp;
  action?: string;
  status?: number;
  /** Only requests for this server id (path contains it). */
  serverId?: string;
}

/** The emulator's own log of every request (tests count calls with it). */
export class RequestLog {
  readonly records: RequestRecord[] = [];
  private seq = 0;

  add(r: Omit<RequestRecord, 'seq'>): RequestRecord {
    const rec = { ...r, seq: ++this.seq };
    this.records.push(rec);
    return rec;
  }

  filter(f: RequestFilter = {}): RequestRecord[] {
    return this.records.filter((r) => {
      if (f.method && r.method !== f.method.toUpperCase()) return false;
      if (f.service && r.service !== f.service) return false;
      if (f.action && r.action !== f.action) return false;
      if (f.status !== undefined && r.status !== f.status) return false;
      if (f.serverId && !r.path.includes(f.serverId)) return false;
      if (f.path) {
        if (typeof f.path === 'string' ? !r.path.includes(f.path) : !f.path.test(r.path)) return false;
      }
      return true;
    });
  }

  count(f: RequestFilter = {}): number {
    return this.filter(f).length;
  }

  /** Requests by service, e.g. { identity: 2, compute: 40, placement: 5 }. */
  byService(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.records) out[r.service] = (out[r.service] ?? 0) + 1;
    return out;
  }

  clear(): void {
    this.records.length = 0;
  }

  get length(): number {
    return this.records.length;
  }
}

export interface ServerDeps {
  clock: Clock;
  faults: FaultBook;
  log: RequestLog;
  logger: Logger;
  newRequestId: () => string;
  /** Resolve a request to its service and handler. */
  dispatch: (req: EmuRequest) => Promise<EmuResponse>;
  /** Called before dispatch (the model syncs to the clock). */
  beforeRequest: () => void;
}

export function serviceOf(path: string): { service: Service; servicePath: string } {
  if (path.startsWith('/compute')) {
    const rest = path.slice('/compute'.length);
    const m = /^\/v2(\.1)?(\/.*)?$/.exec(rest);
    return { service: 'compute', servicePath: m ? m[2] ?? '/' : rest || '/' };
  }
  if (path.startsWith('/placement')) return { service: 'placement', servicePath: path.slice('/placement'.length) || '/' };
  if (path.startsWith('/image')) return { service: 'image', servicePath: path.slice('/image'.length) || '/' };
  if (path.startsWith('/_emulator')) return { service: 'emulator', servicePath: path.slice('/_emulator'.length) || '/' };
  if (path.startsWith('/identity')) return { service: 'identity', servicePath: path.slice('/identity'.length) || '/' };
  if (path.startsWith('/v3')) return { service: 'identity', servicePath: path };
  return { service: 'root', servicePath: path };
}

function actionOf(method: string, servicePath: string, body: unknown): string | null {
  if (method !== 'POST' || !/\/action\/?$/.test(servicePath)) return null;
  if (body && typeof body === 'object' && !Array.isArray(body)) return Object.keys(body)[0] ?? null;
  return null;
}

function queryRecord(q: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k of new Set(q.keys())) {
    const all = q.getAll(k);
    out[k] = all.length === 1 ? all[0]! : all;
  }
  return out;
}

export interface RunningServer {
  server: http.Server;
  port: number;
  host: string;
  baseUrl: string;
  close(): Promise<void>;
}

/** Start the HTTP server. */
export async function startHttpServer(deps: ServerDeps, host: string, port: number): Promise<RunningServer> {
  const vclock: VirtualClock | null = isVirtualClock(deps.clock) ? deps.clock : null;
  let baseUrl = '';
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    const started = performance.now();
    vclock?.enter();
    const hold = {
      left: false,
      leave() {
        if (!this.left) {
          this.left = true;
          vclock?.leave();
        }
      },
      reenter() {
        if (this.left && vclock) {
          this.left = false;
          vclock.enter();
        }
      },
    };
    const leave = () => hold.leave();
    res.on('close', leave);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', leave);
    req.on('end', () => {
      void handle(req, res, Buffer.concat(chunks).toString('utf8'), started, hold);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 5000;

  async function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rawBody: string,
    started: number,
    hold: { leave(): void; reenter(): void },
  ): Promise<void> {
    const leave = () => hold.leave();
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/{2,}/g, '/');
    const { service, servicePath } = serviceOf(path);
    const requestId = deps.newRequestId();
    let body: unknown = undefined;
    let badJson = false;
    if (rawBody.length > 0) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        badJson = true;
      }
    }
    const time = deps.clock.now();
    const ereq: EmuRequest = {
      method,
      path,
      servicePath,
      service,
      query: url.searchParams,
      headers: req.headers,
      body,
      rawBody,
      requestId,
      params: {},
      baseUrl,
      note: { action: actionOf(method, servicePath, body) },
    };
    const info: RequestInfo = { method, path, servicePath, service, action: ereq.note.action ?? null };
    const fired: RequestFault[] = service === 'emulator' ? [] : deps.faults.forRequest(info);
    const faultNames: string[] = [];
    let resp: EmuResponse;
    let reset: 'before' | 'after' | null = null;
    let errorFault: { status: number; when: 'before' | 'after'; message?: string } | null = null;
    for (const f of fired) {
      faultNames.push(f.name ?? f.kind);
      if (f.kind === 'delay') {
        // Release our hold on a virtual clock while we wait, or time could never reach the deadline.
        leave();
        await deps.clock.sleep(f.ms);
        hold.reenter();
      } else if (f.kind === 'reset') reset = f.when ?? 'before';
      else errorFault = { status: f.status ?? 500, when: f.when ?? 'before', ...(f.message !== undefined ? { message: f.message } : {}) };
    }
    ereq.note.fault = faultNames.length > 0 ? faultNames.join(',') : undefined;

    const finish = (r: EmuResponse, destroyed: boolean) => {
      deps.log.add({
        time,
        method,
        path,
        query: queryRecord(url.searchParams),
        service,
        status: destroyed ? 0 : r.status,
        requestId,
        action: ereq.note.action ?? null,
        body: method !== 'GET' && service !== 'identity' && (ereq.note.action || method === 'PUT' || (method === 'POST' && service !== 'emulator')) ? body ?? null : null,
        fault: ereq.note.fault ?? null,
        microversion: ereq.note.microversion ?? null,
        durationMs: performance.now() - started,
      });
    };

    if (reset === 'before') {
      finish({ status: 0 }, true);
      req.socket.destroy();
      leave();
      return;
    }
    try {
      if (errorFault?.when === 'before') {
        resp = faultResponse(service, errorFault.status, requestId, errorFault.message);
      } else if (badJson) {
        resp = badJsonResponse(service, requestId);
      } else {
        deps.beforeRequest();
        resp = await deps.dispatch(ereq);
        if (errorFault) resp = faultResponse(service, errorFault.status, requestId, errorFault.message);
      }
    } catch (e) {
      deps.logger.error('emulator: handler failed', { path, error: (e as Error).stack ?? String(e) });
      resp = faultResponse(service, 500, requestId, `Unexpected API Error. ${(e as Error).message}`);
    }
    if (reset === 'after') {
      finish(resp, true);
      req.socket.destroy();
      leave();
      return;
    }
    const headers: Record<string, string> = {
      'x-openstack-request-id': requestId,
      ...(service === 'compute' ? { 'x-compute-request-id': requestId } : {}),
      ...(resp.headers ?? {}),
    };
    let payload = '';
    if (resp.body !== undefined && resp.status !== 204) {
      payload = typeof resp.body === 'string' ? resp.body : JSON.stringify(resp.body);
      headers['content-type'] ??= 'application/json';
    }
    headers['content-length'] = String(Buffer.byteLength(payload));
    finish(resp, false);
    res.writeHead(resp.status, headers);
    res.end(payload);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${shownHost}:${addr.port}`;
  return {
    server,
    port: addr.port,
    host,
    baseUrl,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The body a service sends for an error status. */
export function errorBody(service: Service, status: number, message: string, requestId: string, title?: string): unknown {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    409: 'Conflict',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  const t = title ?? titles[status] ?? 'Error';
  if (service === 'compute') {
    const names: Record<number, string> = {
      400: 'badRequest',
      401: 'unauthorized',
      403: 'forbidden',
      404: 'itemNotFound',
      405: 'badMethod',
      409: 'conflictingRequest',
      413: 'overLimit',
      415: 'badMediaType',
      429: 'overLimit',
      501: 'notImplemented',
      503: 'serviceUnavailable',
    };
    return { [names[status] ?? 'computeFault']: { code: status, message } };
  }
  if (service === 'placement') {
    return { errors: [{ status, title: t, detail: message, code: 'placement.undefined_code', request_id: requestId }] };
  }
  return { error: { code: status, message, title: t } };
}

export function err(service: Service, status: number, message: string, requestId: string, headers?: Record<string, string>): EmuResponse {
  return { status, body: errorBody(service, status, message, requestId), ...(headers ? { headers } : {}) };
}

/** The service whose error format an answer takes: Keystone's for the root and the emulator's own API. */
export function errorService(service: Service): Service {
  return service === 'root' || service === 'emulator' ? 'identity' : service;
}

function faultResponse(service: Service, status: number, requestId: string, message?: string): EmuResponse {
  const msg =
    message ??
    (status === 503
      ? 'The server is currently unavailable. Please try again at a later time.'
      : status === 500
        ? 'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.'
        : `Emulated fault ${status}`);
  return err(errorService(service), status, msg, requestId);
}

function badJsonResponse(service: Service, requestId: string): EmuResponse {
  return err(service, 400, 'Malformed request body', requestId);
}
