/**
 * A minimal axios ServiceClient for the real lab, used by the contract suite
 * and the fixture recorder until src/openstack/session.ts `connect()` lands.
 * It does what the seam promises and no more: token (Keystone v3 password,
 * via test/openstack/lab.ts), one re-auth on 401, the microversion header,
 * repeated query keys for arrays, and HttpError with Nova's / Placement's
 * fault message. A POST/PUT/DELETE that times out is `unknown-outcome`.
 */
import axios, { type AxiosResponse } from 'axios';
import { HttpError, type ErrorKind } from '../../src/core/errors.js';
import { compareMicroversions, type ServiceClient, type ServiceRequest, type ServiceResponse } from '../../src/openstack/service-client.js';
import { findEndpoint, labToken, type LabInfo, type LabSession } from '../openstack/lab.js';

export interface RecordedExchange {
  serviceType: string;
  method: string;
  path: string;
  query: ServiceRequest['query'];
  body: unknown;
  microversion: string | null;
  status: number;
  data: unknown;
  requestId: string | null;
}

/** One Keystone token per project name, refreshed on demand. */
export class LabTokens {
  private sessions = new Map<string, Promise<LabSession>>();
  constructor(readonly lab: LabInfo) {}

  session(projectName: string = this.lab.projectName, force = false): Promise<LabSession> {
    let s = this.sessions.get(projectName);
    if (!s || force) {
      s = labToken(this.lab, projectName);
      this.sessions.set(projectName, s);
      s.catch(() => this.sessions.delete(projectName));
    }
    return s;
  }
}

const KIND: Record<number, ErrorKind> = { 400: 'bad-request', 401: 'auth', 403: 'forbidden', 404: 'not-found', 406: 'not-acceptable', 409: 'conflict', 503: 'unavailable', 504: 'timeout' };

/** Nova: {"conflictingRequest": {"message", "code"}}; Placement: {"errors": [{"detail", "title"}]}. */
function faultOf(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return typeof data === 'string' && data ? data.slice(0, 500) : undefined;
  const d = data as Record<string, unknown>;
  if (Array.isArray(d.errors) && d.errors[0] && typeof d.errors[0] === 'object') {
    const e = d.errors[0] as Record<string, unknown>;
    return String(e.detail ?? e.title ?? '');
  }
  for (const v of Object.values(d)) {
    if (v && typeof v === 'object' && typeof (v as Record<string, unknown>).message === 'string') return (v as Record<string, string>).message;
  }
  return undefined;
}

function serializeQuery(q: ServiceRequest['query']): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

export class LabServiceClient implements ServiceClient {
  readonly serviceType: string;
  readonly endpoint: string;
  readonly microversion: string | null;
  requestCount = 0;

  constructor(
    private readonly tokens: LabTokens,
    opts: { serviceType: string; endpoint: string; microversion: string | null; projectName?: string; recorder?: (x: RecordedExchange) => void },
  ) {
    this.serviceType = opts.serviceType;
    this.endpoint = opts.endpoint.replace(/\/+$/, '');
    this.microversion = opts.microversion;
    this.projectName = opts.projectName ?? tokens.lab.projectName;
    this.recorder = opts.recorder;
  }
  private readonly projectName: string;
  private readonly recorder: ((x: RecordedExchange) => void) | undefined;

  atLeast(v: string): boolean {
    return this.microversion !== null && compareMicroversions(this.microversion, v) >= 0;
  }

  /** Same endpoint and token, another microversion (e.g. recording an older shape). */
  withMicroversion(mv: string | null, recorder = this.recorder): LabServiceClient {
    return new LabServiceClient(this.tokens, { serviceType: this.serviceType, endpoint: this.endpoint, microversion: mv, projectName: this.projectName, recorder });
  }

  async request<T = unknown>(req: ServiceRequest): Promise<ServiceResponse<T>> {
    const mv = req.microversion ?? this.microversion;
    const url = `${this.endpoint}${req.path}${serializeQuery(req.query)}`;
    const send = async (force: boolean): Promise<AxiosResponse> => {
      const s = await this.tokens.session(this.projectName, force);
      this.requestCount += 1;
      return axios.request({
        method: req.method,
        url,
        data: req.body === undefined ? undefined : JSON.stringify(req.body),
        timeout: req.timeoutMs ?? 60_000,
        signal: req.signal,
        validateStatus: () => true,
        headers: {
          'X-Auth-Token': s.token,
          Accept: 'application/json',
          Connection: 'close',
          ...(req.body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...(mv ? { 'OpenStack-API-Version': `${this.serviceType} ${mv}` } : {}),
          ...(req.headers ?? {}),
        },
      });
    };
    let res: AxiosResponse;
    try {
      res = await send(false);
      if (res.status === 401) res = await send(true);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'ERROR';
      const safe = req.method === 'GET' || req.method === 'HEAD';
      const kind: ErrorKind = req.signal?.aborted ? 'interrupted' : safe ? (code === 'ECONNABORTED' ? 'timeout' : 'network') : 'unknown-outcome';
      throw new HttpError(kind, `${req.method} ${req.path}: ${code}`, { status: 0, method: req.method, url: `${this.endpoint}${req.path}`, service: this.serviceType }, { cause: e, retryable: safe });
    }
    const requestId = (res.headers['x-openstack-request-id'] ?? res.headers['x-compute-request-id'] ?? null) as string | null;
    this.recorder?.({ serviceType: this.serviceType, method: req.method, path: req.path, query: req.query, body: req.body, microversion: mv, status: res.status, data: res.data, requestId });
    if (res.status >= 400) {
      const fault = faultOf(res.data);
      const kind = KIND[res.status] ?? (res.status >= 500 ? 'server-error' : 'bad-request');
      throw new HttpError(kind, `${req.method} ${req.path} failed (${res.status}): ${fault ?? ''}`, {
        status: res.status,
        method: req.method,
        url: `${this.endpoint}${req.path}`,
        service: this.serviceType,
        requestId: requestId ?? undefined,
        faultMessage: fault,
      }, { retryable: res.status >= 500 });
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    return { status: res.status, data: (res.data === '' ? null : res.data) as T, headers, requestId };
  }
}

/** Highest microversion both the service and hostmaint speak (root version document). */
export async function negotiateLab(tokens: LabTokens, serviceType: 'compute' | 'placement', ours: string): Promise<{ endpoint: string; microversion: string; serverMax: string }> {
  const s = await tokens.session();
  const endpoint = findEndpoint(s, serviceType);
  const r = await axios.get(endpoint, { headers: { 'X-Auth-Token': s.token, Accept: 'application/json', Connection: 'close' }, validateStatus: () => true, timeout: 30_000 });
  const d = r.data as { version?: { version?: string }; versions?: Array<{ max_version?: string; version?: string }> };
  const serverMax = d.version?.version ?? d.versions?.[0]?.max_version ?? d.versions?.[0]?.version;
  if (!serverMax) throw new Error(`${serviceType} at ${endpoint} gave no version document (${r.status})`);
  return { endpoint, microversion: compareMicroversions(serverMax, ours) < 0 ? serverMax : ours, serverMax };
}
