/**
 * A wire-level stub, kept on purpose: the cloud double of the tests is the
 * emulator (src/emulator/, see test/support/emulated.ts); this one serves the
 * tests of the transport and identity clients themselves, which need what the
 * emulator does not (and should not) do:
 *
 * - TLS (an HTTPS listener with an openssl-made CA): the emulator is HTTP only;
 * - any reply at all from a handler: resets mid-request, hangs (timeouts),
 *   delays, 5xx bursts for the retry policy, bodies that are not JSON, a server
 *   that is not a Keystone;
 * - the raw request as sent, headers and body, Keystone's auth requests
 *   included (which token each call carried; the exact auth body per method),
 *   where the emulator's log keeps neither auth bodies nor tokens;
 * - catalogs and version documents the emulator does not serve: compute
 *   endpoints with the project id in them, several regions and interfaces, a
 *   service missing, microversion ranges from 2.0 to 2.100.
 *
 * startServer: the programmable HTTP(S) server on 127.0.0.1 (ephemeral port)
 * recording every request; startFakeCloud: a minimal Keystone + version
 * documents behind it, shaped by its options; virtualClock; makeCerts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Clock } from '../../../src/core/clock.js';

export interface Recorded {
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  /** The client's port: the same for requests on one kept-alive connection. */
  remotePort: number | undefined;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Destroy the socket instead of answering. */
  destroy?: boolean;
  /** Never answer (for timeouts). */
  hang?: boolean;
  delayMs?: number;
}

export type Handler = (req: Recorded) => Reply | Promise<Reply>;

export interface TestServer {
  url: string;
  port: number;
  requests: Recorded[];
  setHandler(h: Handler): void;
  close(): Promise<void>;
}

export async function startServer(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
  let current = handler;
  const requests: Recorded[] = [];
  const listener: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      if (rawBody) {
        try {
          body = JSON.parse(rawBody);
        } catch {
          body = rawBody;
        }
      }
      const u = new URL(req.url ?? '/', 'http://x');
      const rec: Recorded = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body,
        rawBody,
        remotePort: req.socket.remotePort,
      };
      requests.push(rec);
      void Promise.resolve(current(rec)).then(async (reply) => {
        if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
        if (reply.hang) return;
        if (reply.destroy) {
          req.socket.destroy();
          return;
        }
        const headers: Record<string, string> = { ...(reply.headers ?? {}) };
        let text = '';
        if (reply.body !== undefined) {
          text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
          headers['content-type'] ??= typeof reply.body === 'string' ? 'text/html' : 'application/json';
        }
        res.writeHead(reply.status ?? 200, headers);
        res.end(text);
      });
    });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    setHandler(h) {
      current = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A clock whose sleeps return at once and are recorded. */
export function virtualClock(start = Date.parse('2025-01-01T00:00:00Z')): Clock & { sleeps: number[]; advance(ms: number): void } {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    async sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      sleeps.push(ms);
      t += ms;
    },
  };
}

// ------------------------------------------------------------------ TLS

export interface TestCerts {
  dir: string;
  caPath: string;
  ca: string;
  key: string;
  cert: string;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it. */
export function makeCerts(): TestCerts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-tls-'));
  const p = (f: string) => path.join(dir, f);
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=hostmaint test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  if (!existsSync(p('server.pem'))) throw new Error('openssl did not make a certificate');
  return { dir, caPath: p('ca.pem'), ca: readFileSync(p('ca.pem'), 'utf8'), key: readFileSync(p('server.key'), 'utf8'), cert: readFileSync(p('server.pem'), 'utf8') };
}

// ------------------------------------------------------------------ a small cloud

export interface FakeCloudOptions {
  username?: string;
  password?: string;
  userDomain?: string;
  projectName?: string;
  projectId?: string;
  appCredId?: string;
  appCredSecret?: string;
  roles?: string[];
  /** Catalog regions for compute and placement (default RegionOne). */
  regions?: string[];
  interfaces?: string[];
  omit?: Array<'compute' | 'placement'>;
  compute?: { min: string; max: string };
  placement?: { min: string; max: string };
  /** Compute endpoint ends in /v2.1/<project_id> (old-style catalogs). */
  computeWithProject?: boolean;
  tokenTtlMs?: number;
  tls?: { key: string; cert: string };
  /** Hook that may answer any request first (faults); return undefined to fall through. */
  intercept?: (req: Recorded, cloud: FakeCloud) => Reply | undefined;
}

export interface FakeCloud extends TestServer {
  authUrl: string;
  issued: string[];
  /** Token ids the services accept. */
  valid: Set<string>;
  authRequests(): Recorded[];
  opts: Required<Pick<FakeCloudOptions, 'username' | 'password' | 'projectName' | 'projectId'>> & FakeCloudOptions;
}

const unauthorized = { status: 401, body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } } };

export async function startFakeCloud(options: FakeCloudOptions = {}): Promise<FakeCloud> {
  const o = {
    username: 'admin',
    password: 'Adm1n-Pa55-XyZ',
    projectName: 'admin',
    projectId: '0123456789abcdef0123456789abcdef',
    ...options,
  };
  const regions = o.regions ?? ['RegionOne'];
  const interfaces = o.interfaces ?? ['public', 'internal', 'admin'];
  let n = 0;
  // eslint-disable-next-line prefer-const
  let cloud: FakeCloud;
  const server = await startServer((req) => handle(req), o.tls);
  const base = server.url;

  const catalog = () => {
    const entries: unknown[] = [
      { type: 'identity', name: 'keystone', id: 'id-svc', endpoints: interfaces.map((i) => ({ id: `k-${i}`, interface: i, region: 'RegionOne', region_id: 'RegionOne', url: `${base}/identity/v3` })) },
    ];
    if (!o.omit?.includes('compute')) {
      entries.push({
        type: 'compute',
        name: 'nova',
        id: 'nova-svc',
        endpoints: regions.flatMap((r) =>
          interfaces.map((i) => ({ id: `n-${r}-${i}`, interface: i, region_id: r, region: r, url: `${base}/compute/v2.1${o.computeWithProject ? `/${o.projectId}` : ''}` })),
        ),
      });
    }
    if (!o.omit?.includes('placement')) {
      entries.push({
        type: 'placement',
        name: 'placement',
        id: 'pl-svc',
        endpoints: regions.flatMap((r) => interfaces.map((i) => ({ id: `p-${r}-${i}`, interface: i, region_id: r, region: r, url: `${base}/placement` }))),
      });
    }
    entries.push({ type: 'image', name: 'glance', id: 'g', endpoints: [{ id: 'g1', interface: 'public', region_id: 'RegionOne', url: `${base}/image` }] });
    return entries;
  };

  function issue(scoped: boolean, methods: string[]): Reply {
    const token = `gAAAAAtok-${++n}-${Math.random().toString(36).slice(2)}`;
    cloud.issued.push(token);
    cloud.valid.add(token);
    const now = Date.now();
    const body: Record<string, unknown> = {
      methods,
      user: { id: 'u-1', name: o.username, domain: { id: 'default', name: 'Default' } },
      issued_at: new Date(now).toISOString(),
      expires_at: new Date(now + (o.tokenTtlMs ?? 3_600_000)).toISOString(),
      audit_ids: ['a'],
    };
    if (scoped) {
      body.project = { id: o.projectId, name: o.projectName, domain: { id: 'default', name: 'Default' } };
      body.roles = (o.roles ?? ['admin', 'member', 'reader']).map((r, i) => ({ id: `r${i}`, name: r }));
      body.catalog = catalog();
    }
    return { status: 201, headers: { 'X-Subject-Token': token, 'x-openstack-request-id': `req-auth-${n}` }, body: { token: body } };
  }

  function keystone(req: Recorded): Reply {
    if (req.method !== 'POST' || req.path !== '/identity/v3/auth/tokens') return { status: 404, body: { error: { code: 404, message: 'Not found' } } };
    const auth = (req.body as { auth?: { identity?: Record<string, unknown>; scope?: { project?: Record<string, unknown> } } }).auth;
    const identity = auth?.identity ?? {};
    const methods = (identity.methods ?? []) as string[];
    let ok = false;
    if (methods[0] === 'password') {
      const user = (identity.password as { user?: Record<string, unknown> }).user ?? {};
      const dom = (user.domain ?? {}) as Record<string, unknown>;
      const domOk = user.id === 'u-1' || dom.name === (o.userDomain ?? 'Default') || dom.id === 'default';
      ok = (user.name === o.username || user.id === 'u-1') && domOk && user.password === o.password;
    } else if (methods[0] === 'application_credential') {
      const ac = identity.application_credential as Record<string, unknown>;
      ok = (ac.id === (o.appCredId ?? 'ac-1') || ac.name === 'drain') && ac.secret === (o.appCredSecret ?? 'ac-secret-XYZ');
      if (ok) return issue(true, methods);
    } else if (methods[0] === 'token') {
      ok = cloud.valid.has(String((identity.token as Record<string, unknown>).id));
    }
    if (!ok) return unauthorized;
    const project = auth?.scope?.project;
    if (!project) return issue(false, methods);
    const pdom = (project.domain ?? {}) as Record<string, unknown>;
    const projectOk = project.id === o.projectId || (project.name === o.projectName && (pdom.name === 'Default' || pdom.id === 'default'));
    if (!projectOk) return unauthorized;
    return issue(true, methods);
  }

  function service(req: Recorded): Reply {
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || !cloud.valid.has(token)) return { status: 401, body: { error: { code: 401, message: 'The request you have made requires authentication.' } } };
    const rid = { 'x-openstack-request-id': `req-${req.method}-${cloud.requests.length}`, 'x-compute-request-id': `req-${req.method}-${cloud.requests.length}` };
    const cv = o.compute ?? { min: '2.1', max: '2.93' };
    const pv = o.placement ?? { min: '1.0', max: '1.39' };
    if (req.path === '/compute/v2.1' || req.path === '/compute/v2.1/' || req.path === `/compute/v2.1/${o.projectId}`) {
      return { headers: rid, body: { version: { id: 'v2.1', status: 'CURRENT', version: cv.max, min_version: cv.min, updated: '2013-07-23T11:33:21Z', links: [] } } };
    }
    if (req.path === '/placement' || req.path === '/placement/') {
      return { headers: rid, body: { versions: [{ id: 'v1.0', max_version: pv.max, min_version: pv.min, status: 'CURRENT', links: [] }] } };
    }
    const sub = req.path.replace(/^\/compute\/v2\.1(\/[0-9a-f]{32})?/, '');
    if (req.path.startsWith('/compute/')) {
      if (sub === '/os-services') {
        return {
          headers: rid,
          body: {
            services: [
              { id: 'c0ffee00-0000-4000-8000-000000000001', binary: 'nova-compute', host: 'compute-01', zone: 'nova', status: 'enabled', state: 'up', disabled_reason: null, forced_down: false, updated_at: '2025-01-01T00:00:00.000000' },
            ],
          },
        };
      }
      return { status: 404, headers: rid, body: { itemNotFound: { code: 404, message: `Instance ${sub.split('/').pop()} could not be found.` } } };
    }
    if (req.path.startsWith('/placement/')) {
      return { status: 404, headers: rid, body: { errors: [{ status: 404, title: 'Not Found', detail: 'The resource could not be found.\n\n No resource provider with uuid x found  ', request_id: rid['x-openstack-request-id'] }] } };
    }
    return { status: 404, body: 'not found' };
  }

  function handle(req: Recorded): Reply {
    const hooked = o.intercept?.(req, cloud);
    if (hooked) return hooked;
    if (req.path.startsWith('/identity/')) return keystone(req);
    return service(req);
  }

  cloud = Object.assign(server, {
    authUrl: `${base}/identity/v3`,
    issued: [] as string[],
    valid: new Set<string>(),
    authRequests: () => server.requests.filter((r) => r.path === '/identity/v3/auth/tokens'),
    opts: o,
  });
  return cloud;
}
