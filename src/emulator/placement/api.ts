/**
 * What every emulated Placement handler shares: microversion negotiation
 * (1.0 - the scenario's maximum, 1.39 by default), the wrapper that
 * authenticates a request, requires the admin role and turns a thrown `Fail`
 * into Placement's error body, and the root version document.
 */
import type { EmuRequest, EmuResponse, Obj } from '../http.js';
import { Fail, err, fail } from '../http.js';
import type { TokenStore } from '../keystone.js';
import type { HostState } from '../model.js';
import { authenticate } from '../keystone.js';

export type Version = [number, number];

export function negotiatePlacement(max: Version, req: EmuRequest): Version | EmuResponse {
  const h = req.headers['openstack-api-version'];
  const hs = Array.isArray(h) ? h.join(',') : h;
  let raw: string | undefined;
  if (hs) {
    for (const part of hs.split(',')) {
      const [svc, ver] = part.trim().split(/\s+/);
      if (svc?.toLowerCase() === 'placement' && ver) raw = ver;
    }
  }
  if (!raw) return [1, 0];
  if (raw.toLowerCase() === 'latest') return max;
  const m = /^([1-9]\d*)\.(\d+)$/.exec(raw.trim());
  if (!m) return err('placement', 400, `invalid version string: ${raw}`, req.requestId);
  const v: Version = [Number(m[1]), Number(m[2])];
  if (v[0] !== 1 || v[1] > max[1]) {
    const r = err('placement', 406, `Unacceptable version header: ${raw}`, req.requestId);
    const body = r.body as { errors: Obj[] };
    body.errors[0]!['max_version'] = `${max[0]}.${max[1]}`;
    body.errors[0]!['min_version'] = '1.0';
    return r;
  }
  return v;
}

/** The provider with this uuid (a compute node), or 404. */
export function provider(hostsByUuid: Map<string, HostState>, uuid: string): HostState {
  return hostsByUuid.get(uuid) ?? fail(404, `No resource provider with uuid ${uuid} found`);
}

/** Is the negotiated microversion at least 1.`minor`? */
export const at = (v: Version, minor: number) => v[1] >= minor;

export type PlacementFn = (req: EmuRequest, v: Version) => EmuResponse;

/** Wraps a handler: microversion, auth (admin only), errors, response headers; `min`: older microversions answer 404. */
export type PlacementWrap = (fn: PlacementFn, opts?: { min?: number }) => (req: EmuRequest) => EmuResponse;

export function placementWrap(max: Version, tokens: TokenStore): PlacementWrap {
  return (fn, opts = {}) =>
    (req) => {
      const v = negotiatePlacement(max, req);
      if (!Array.isArray(v)) return v;
      const vs = `${v[0]}.${v[1]}`;
      req.note.microversion = vs;
      const headers = { 'openstack-api-version': `placement ${vs}`, vary: 'openstack-api-version' };
      const auth = authenticate(tokens, req, 'placement');
      if ('status' in auth) return auth;
      try {
        if (!auth.isAdmin) fail(403, 'Policy does not allow placement:resource_providers:list to be performed.');
        if (opts.min !== undefined && !at(v, opts.min)) fail(404, 'The resource could not be found.');
        const r = fn(req, v);
        return { ...r, headers: { ...headers, ...(r.headers ?? {}) } };
      } catch (e) {
        if (e instanceof Fail) return { ...err('placement', e.status, e.message, req.requestId), headers };
        throw e;
      }
    };
}

export const ok = (body: unknown): EmuResponse => ({ status: 200, body });

/** GET /placement/: the version document (no auth). */
export function placementRoot(max: Version, req: EmuRequest): EmuResponse {
  const [a, b] = max;
  const v = negotiatePlacement(max, req);
  if (!Array.isArray(v)) return v;
  return {
    status: 200,
    headers: { 'openstack-api-version': `placement ${v[0]}.${v[1]}`, vary: 'openstack-api-version', 'cache-control': 'no-cache' },
    body: { versions: [{ id: 'v1.0', max_version: `${a}.${b}`, min_version: '1.0', status: 'CURRENT', links: [{ rel: 'self', href: '' }] }] },
  };
}
