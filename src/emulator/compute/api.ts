/**
 * What every emulated Nova handler shares: microversion negotiation, the
 * wrapper that authenticates a request and turns a thrown `Fail` into Nova's
 * error body (with the microversion headers on every answer), the version
 * documents, links, paging and Nova's time formats. Wire shapes, status codes
 * and messages follow nova/api/openstack/compute/*.py of nova 26 (Zed).
 */
import type { EmuRequest, EmuResponse } from '../http.js';
import { Fail, err, fail } from '../http.js';
import type { TokenStore } from '../keystone.js';
import { authenticate } from '../keystone.js';
import type { RequestContext } from '../model.js';
import { vAtLeast } from '../model.js';

export type Version = [number, number];

export const MAX_LIMIT = 1000;
export const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Nova's isotime: 2024-01-01T00:00:00Z */
export function isotime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Naive datetime with microseconds, as Nova serialises DB datetimes in several places. Nova's
 * columns are DATETIME without fractional seconds (MySQL/MariaDB keep whole seconds), so the
 * fraction is always zero: "2024-01-01T10:00:05.000000".
 */
/** A time as Nova's DB keeps it (whole seconds): what changes-since and changes-before compare. */
export function dbTime(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export function naive(ms: number | null): string | null {
  return ms === null ? null : new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export function boolFromString(v: string, strict = true): boolean {
  const s = v.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  if (strict)
    fail(400, `Unrecognized value '${v}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`);
  return false;
}

export function negotiateCompute(max: Version, req: EmuRequest): Version | EmuResponse {
  let raw: string | undefined;
  const h = req.headers['openstack-api-version'];
  const hs = Array.isArray(h) ? h.join(',') : h;
  if (hs) {
    for (const part of hs.split(',')) {
      const [svc, ver] = part.trim().split(/\s+/);
      if (svc?.toLowerCase() === 'compute' && ver) raw = ver;
    }
  }
  if (!raw) {
    const legacy = req.headers['x-openstack-nova-api-version'];
    raw = Array.isArray(legacy) ? legacy[0] : legacy;
  }
  if (!raw) return [2, 1];
  if (raw.toLowerCase() === 'latest') return max;
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(raw.trim());
  if (!m) return err('compute', 400, `API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`, req.requestId);
  const v: Version = [Number(m[1]), Number(m[2])];
  const below = v[0] < 2 || (v[0] === 2 && v[1] < 1);
  const above = v[0] > max[0] || (v[0] === max[0] && v[1] > max[1]);
  if (below || above) {
    return err('compute', 406, `Version ${v[0]}.${v[1]} is not supported by the API. Minimum is 2.1 and maximum is ${max[0]}.${max[1]}.`, req.requestId);
  }
  return v;
}

export function versionDoc(max: Version, base: string) {
  const [a, b] = max;
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: `${a}.${b}`,
    min_version: '2.1',
    updated: '2013-07-23T11:33:21Z',
    links: [
      { rel: 'self', href: `${base}/compute/v2.1/` },
      { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

/** GET /compute: the version list (v2.0 and v2.1). */
export function versionList(max: Version, req: EmuRequest): EmuResponse {
  return {
    status: 200,
    body: {
      versions: [
        {
          id: 'v2.0',
          status: 'SUPPORTED',
          version: '',
          min_version: '',
          updated: '2011-01-21T11:33:21Z',
          links: [{ rel: 'self', href: `${req.baseUrl}/compute/v2/` }],
        },
        { ...versionDoc(max, req.baseUrl), links: [{ rel: 'self', href: `${req.baseUrl}/compute/v2.1/` }] },
      ],
    },
  };
}

export type ComputeFn = (req: EmuRequest, ctx: RequestContext) => EmuResponse;

export interface WrapOptions {
  /** The policy rule an admin-only call names in its 403. */
  admin?: string;
  /** Microversions outside [minVersion, maxVersion] answer 404. */
  minVersion?: number;
  maxVersion?: number;
}

/** Wraps a handler: auth, microversion, errors, response headers. */
export type Wrap = (fn: ComputeFn, opts?: WrapOptions) => (req: EmuRequest) => EmuResponse;

const vstr = (v: Version) => `${v[0]}.${v[1]}`;

/** The wrapper every Nova handler goes through, for a cloud whose maximum microversion is `max`. */
export function computeWrap(max: Version, tokens: TokenStore): Wrap {
  return (fn, opts = {}) =>
    (req) => {
      const v = negotiateCompute(max, req);
      const vh = Array.isArray(v) ? v : max;
      const headers = {
        'openstack-api-version': `compute ${vstr(vh)}`,
        'x-openstack-nova-api-version': vstr(vh),
        vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
      };
      if (!Array.isArray(v)) return { ...v, headers: { ...(v.headers ?? {}), ...headers } };
      req.note.microversion = vstr(v);
      const auth = authenticate(tokens, req, 'compute');
      if ('status' in auth) return auth;
      const ctx: RequestContext = { userId: auth.token.userId, projectId: auth.token.projectId!, isAdmin: auth.isAdmin, requestId: req.requestId, version: v };
      try {
        if ((opts.minVersion !== undefined && !vAtLeast(v, opts.minVersion)) || (opts.maxVersion !== undefined && vAtLeast(v, opts.maxVersion + 1))) {
          fail(404, 'The resource could not be found.');
        }
        if (opts.admin && !ctx.isAdmin) fail(403, `Policy doesn't allow ${opts.admin} to be performed.`);
        const r = fn(req, ctx);
        return { ...r, headers: { ...headers, ...(r.headers ?? {}) } };
      } catch (e) {
        if (e instanceof Fail) return { ...err('compute', e.status, e.message, req.requestId), headers };
        throw e;
      }
    };
}

export const ok = (body: unknown, status = 200): EmuResponse => ({ status, body });

export const accepted = (): EmuResponse => ({ status: 202 });

/** The compute endpoint's base URL, e.g. http://127.0.0.1:40123/compute/v2.1 */
export const base = (req: EmuRequest) => `${req.baseUrl}/compute/v2.1`;

export const links = (req: EmuRequest, kind: string, id: string) => [
  { rel: 'self', href: `${base(req)}/${kind}/${id}` },
  { rel: 'bookmark', href: `${req.baseUrl}/compute/${kind}/${id}` },
];

export const limitMarker = (req: EmuRequest): { limit: number; marker: string | null } => {
  const l = req.query.get('limit');
  let limit = MAX_LIMIT;
  if (l !== null) {
    const n = Number(l);
    if (!Number.isInteger(n) || n < 0) fail(400, 'limit param must be an integer');
    limit = Math.min(n, MAX_LIMIT);
  }
  return { limit, marker: req.query.get('marker') };
};

export const nextHref = (req: EmuRequest, marker: string) => {
  const q = new URLSearchParams(req.query);
  q.set('marker', marker);
  const sp = req.servicePath.replace(/\/$/, '');
  return `${base(req)}${sp}?${q.toString()}`;
};
