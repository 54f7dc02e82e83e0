/**
 * os-hypervisors: find the hypervisor(s) of one host exactly, list all.
 *
 * Nova's hostname search is a substring match (compute-1 matches compute-10
 * and compute-1.example.org), so the exact filter is ours: a hypervisor
 * belongs to host H when its service host is H, its hostname is H, or its
 * hostname's first DNS label is H (FQDN hypervisor of a short-named service).
 *
 * From 2.88 the detailed view asks every compute host for its uptime over RPC
 * (one round trip per hypervisor, a 500 if a compute hangs). The detail calls
 * here therefore never ask for more than 2.87: same fields we use, no RPC.
 */
import { isHttpError } from '../../core/errors.js';
import type { CallOptions } from '../api.js';
import type { Hypervisor } from '../types.js';
import { getAllPages, getJson, type ComputeContext } from './context.js';
import { pick, toHypervisor, type WireHypervisor } from './wire.js';

export const HYPERVISOR_QUERY_MICROVERSION = '2.53';
export const HYPERVISOR_PAGING_MICROVERSION = '2.33';
/** The newest detailed view without the per-hypervisor uptime RPC. */
export const HYPERVISOR_DETAIL_MAX_MICROVERSION = '2.87';

/** True when hypervisor `h` is host `host` (see the module comment). */
export function hypervisorMatchesHost(h: Pick<Hypervisor, 'hostname' | 'serviceHost'>, host: string): boolean {
  const want = host.toLowerCase();
  const hostname = h.hostname.toLowerCase();
  return h.serviceHost.toLowerCase() === want || hostname === want || hostname.split('.')[0] === want;
}

function detailOverride(ctx: ComputeContext): { microversion?: string } {
  return ctx.client.atLeast('2.88') ? { microversion: HYPERVISOR_DETAIL_MAX_MICROVERSION } : {};
}

export async function findHypervisors(ctx: ComputeContext, host: string, opts?: CallOptions & { withServers?: boolean }): Promise<Hypervisor[]> {
  const withServers = opts?.withServers === true;
  let found: Hypervisor[];
  if (ctx.client.atLeast(HYPERVISOR_QUERY_MICROVERSION)) {
    const query: Record<string, string> = { hypervisor_hostname_pattern: host };
    if (withServers) query.with_servers = 'true';
    let data: unknown;
    try {
      data = await getJson(ctx, '/os-hypervisors/detail', query, opts, detailOverride(ctx));
    } catch (e) {
      // "No hypervisor matching 'x' could be found." is an answer, not a failure.
      if (isHttpError(e, 'not-found')) return [];
      throw e;
    }
    found = pick<WireHypervisor[]>(data, 'hypervisors', 'array', 'GET /os-hypervisors/detail').map((w) => toHypervisor(w, withServers));
  } else {
    found = await findLegacy(ctx, host, withServers, opts);
  }
  const exact = found.filter((h) => hypervisorMatchesHost(h, host));
  if (exact.length !== found.length) {
    ctx.logger.debug('hypervisor search matched other hosts; kept the exact ones', {
      host,
      matched: found.map((h) => h.hostname),
      kept: exact.map((h) => h.hostname),
    });
  }
  return exact;
}

/**
 * Before 2.53: GET /os-hypervisors/{pattern}/search (or /servers) gives no
 * service host, so each candidate's detail is read with GET /os-hypervisors/{id}.
 */
async function findLegacy(ctx: ComputeContext, host: string, withServers: boolean, opts: CallOptions | undefined): Promise<Hypervisor[]> {
  const path = `/os-hypervisors/${encodeURIComponent(host)}/${withServers ? 'servers' : 'search'}`;
  let data: unknown;
  try {
    data = await getJson(ctx, path, undefined, opts);
  } catch (e) {
    if (isHttpError(e, 'not-found')) return [];
    throw e;
  }
  const candidates = pick<WireHypervisor[]>(data, 'hypervisors', 'array', `GET ${path}`);
  const out: Hypervisor[] = [];
  for (const c of candidates) {
    const detail = await getJson(ctx, `/os-hypervisors/${encodeURIComponent(String(c.id))}`, undefined, opts);
    const w = pick<WireHypervisor>(detail, 'hypervisor', 'object', 'GET /os-hypervisors/{id}');
    out.push(toHypervisor({ ...w, servers: c.servers }, withServers));
  }
  return out;
}

export async function listHypervisors(ctx: ComputeContext, opts?: CallOptions): Promise<Hypervisor[]> {
  const wire = await getAllPages<WireHypervisor>(ctx, {
    path: '/os-hypervisors/detail',
    query: {},
    key: 'hypervisors',
    linksKey: 'hypervisors_links',
    paged: ctx.client.atLeast(HYPERVISOR_PAGING_MICROVERSION),
    opts,
    extra: detailOverride(ctx),
  });
  return wire.map((w) => toHypervisor(w, false));
}
