/**
 * Plain-REST helpers for the emulator tests: talk to the emulator over HTTP
 * with node's fetch, exactly as any client would.
 */
import type { Emulator } from '../../src/emulator/index.js';
import type { ResolvedCloud } from '../../src/config/cloud.js';

export interface Resp<T = any> {
  status: number;
  body: T;
  headers: Headers;
  requestId: string | null;
}

export interface TokenOpts {
  username?: string;
  password?: string;
  project?: string;
  domain?: string;
}

export async function token(emu: Emulator, o: TokenOpts = {}): Promise<string> {
  const r = await fetch(`${emu.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: o.username ?? emu.credentials.username, domain: { name: o.domain ?? 'Default' }, password: o.password ?? emu.credentials.password } },
        },
        scope: { project: { name: o.project ?? emu.credentials.projectName, domain: { name: o.domain ?? 'Default' } } },
      },
    }),
  });
  if (r.status !== 201) throw new Error(`auth failed: ${r.status} ${await r.text()}`);
  return r.headers.get('x-subject-token')!;
}

export interface Client {
  token: string;
  get<T = any>(path: string, headers?: Record<string, string>): Promise<Resp<T>>;
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Resp<T>>;
  put<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Resp<T>>;
  del<T = any>(path: string, headers?: Record<string, string>): Promise<Resp<T>>;
}

/**
 * A client bound to the emulator's base URL. Paths are relative to the base
 * (e.g. "/compute/v2.1/servers/detail"); `compute`/`placement` set the
 * default microversion headers.
 */
export async function client(emu: Emulator, o: TokenOpts & { compute?: string; placement?: string } = {}): Promise<Client> {
  const tk = await token(emu, o);
  const versions = [`compute ${o.compute ?? '2.93'}`, `placement ${o.placement ?? '1.39'}`].join(', ');
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Resp> => {
    const r = await fetch(`${emu.url}${path}`, {
      method,
      headers: {
        'x-auth-token': tk,
        'openstack-api-version': versions,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: r.status, body: parsed, headers: r.headers, requestId: r.headers.get('x-openstack-request-id') };
  };
  return {
    token: tk,
    get: (p, h) => call('GET', p, undefined, h),
    post: (p, b, h) => call('POST', p, b ?? null, h),
    put: (p, b, h) => call('PUT', p, b ?? null, h),
    del: (p, h) => call('DELETE', p, undefined, h),
  };
}

export const C = '/compute/v2.1';
export const P = '/placement';

/** Server id by name (admin view). */
export function serverId(emu: Emulator, name: string): string {
  const s = emu.state.server(name);
  if (!s) throw new Error(`no server ${name}`);
  return s.id;
}

/** Poll `fn` (sleeping on the emulator's clock) until it returns a truthy value. */
export async function until<T>(emu: Emulator, fn: () => Promise<T | null | undefined | false>, opts: { everyMs?: number; maxTries?: number } = {}): Promise<T> {
  const every = opts.everyMs ?? 500;
  for (let i = 0; i < (opts.maxTries ?? 400); i++) {
    const v = await fn();
    if (v) return v;
    await emu.clock.sleep(every);
  }
  throw new Error('until: gave up');
}

export function liveMigrate(host: string | null = null) {
  return { 'os-migrateLive': { host, block_migration: 'auto' } };
}

/** The emulator as hostmaint's config layer would resolve it (admin, password auth), for connect(). */
export function emulatorCloud(emu: Emulator): ResolvedCloud {
  return {
    name: 'emulator',
    authUrl: emu.authUrl,
    auth: { type: 'password', username: emu.credentials.username, password: emu.credentials.password, userDomainName: emu.credentials.userDomainName },
    projectName: emu.credentials.projectName,
    projectDomainName: emu.credentials.projectDomainName,
    regionName: emu.regionName,
    interface: 'public',
    cacert: null,
    insecure: false,
    warnings: [],
    source: 'emulator',
  };
}
