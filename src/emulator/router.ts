/**
 * Which routes answer a request: each service's table, matched in order; a
 * path that matches with another method is a 405, no match a 404 (in the
 * service's error format).
 */
import type { EmuRequest, EmuResponse, Route } from './http.js';
import { err, errorService } from './http.js';

export interface RouteTables {
  keystone: Route[];
  nova: { routes: Route[]; versions: (req: EmuRequest) => EmuResponse };
  placement: Route[];
  glance: Route[];
  admin: Route[];
}

function match(routes: Route[], req: EmuRequest): EmuResponse | Promise<EmuResponse> | null {
  let pathMatched = false;
  for (const r of routes) {
    const m = r.pattern.exec(req.servicePath);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== req.method) continue;
    r.keys.forEach((k, i) => (req.params[k] = decodeURIComponent(m[i + 1] ?? '')));
    return r.handler(req);
  }
  if (pathMatched) {
    return err(errorService(req.service), 405, 'The method is not allowed for the requested URL.', req.requestId);
  }
  return null;
}

/** Resolve a request to its service's handler. */
export function dispatcher(t: RouteTables): (req: EmuRequest) => Promise<EmuResponse> {
  return async (req) => {
    let r: EmuResponse | Promise<EmuResponse> | null = null;
    switch (req.service) {
      case 'identity':
      case 'root':
        r = match(t.keystone, { ...req, servicePath: req.servicePath === '' ? '/' : req.servicePath } as EmuRequest);
        if (!r && req.service === 'root') r = match(t.keystone, req);
        break;
      case 'compute':
        if (req.path === '/compute' || req.path === '/compute/') r = t.nova.versions(req);
        else r = match(t.nova.routes, req);
        break;
      case 'placement':
        r = match(t.placement, req);
        break;
      case 'image':
        r = match(t.glance, req);
        break;
      case 'emulator':
        r = match(t.admin, req);
        break;
    }
    if (r) return r;
    return err(errorService(req.service), 404, 'The resource could not be found.', req.requestId);
  };
}
