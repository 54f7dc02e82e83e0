/** What every compute resource module shares: the ServiceClient, the logger, per-client caches, and paging. */
import { HostmaintError, HttpError, isHttpError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { CallOptions } from '../api.js';
import type { ServiceClient, ServiceRequest } from '../service-client.js';
import type { Flavor } from '../types.js';
import { nextMarker, pick } from './wire.js';

export interface ComputeContext {
  readonly client: ServiceClient;
  readonly logger: Logger;
  /** Flavors fetched by id (for servers listed before 2.47), one request per distinct id per client. */
  readonly flavorCache: Map<string, Promise<Flavor>>;
  /** Page size sent as `limit` on paged listings. */
  readonly pageSize: number;
}

export type Query = NonNullable<ServiceRequest['query']>;

export async function getJson<T = unknown>(ctx: ComputeContext, path: string, query: Query | undefined, opts: CallOptions | undefined, extra: Partial<ServiceRequest> = {}): Promise<T> {
  const res = await ctx.client.request<T>({ method: 'GET', path, query, signal: opts?.signal, ...extra });
  return res.data;
}

/**
 * GET a Nova collection page by page: send `limit` (+ `marker`), follow the
 * `rel: next` link of `linksKey` until there is none. Nova adds the next link
 * whenever a page is full, so the last page may be empty.
 */
export async function getAllPages<W>(
  ctx: ComputeContext,
  args: { path: string; query: Query; key: string; linksKey: string; paged: boolean; opts: CallOptions | undefined; extra?: Partial<ServiceRequest> },
): Promise<W[]> {
  const out: W[] = [];
  const seen = new Set<string>();
  let marker: string | null = null;
  for (;;) {
    const query: Query = { ...args.query };
    if (args.paged) {
      query.limit = ctx.pageSize;
      if (marker !== null) query.marker = marker;
    }
    const data = await getJson<unknown>(ctx, args.path, query, args.opts, args.extra);
    out.push(...pick<W[]>(data, args.key, 'array', `GET ${args.path}`));
    if (!args.paged) return out;
    const next = nextMarker((data as Record<string, unknown>)[args.linksKey]);
    if (next === null) return out;
    if (seen.has(next)) {
      throw new HostmaintError('server-error', `GET ${args.path}: paging returned the marker ${next} twice`, { details: { path: args.path, marker: next } });
    }
    seen.add(next);
    marker = next;
  }
}

/**
 * A 409 from an action becomes kind `conflict` whose message is Nova's own
 * fault text (e.g. "Cannot 'os-migrateLive' instance X while it is in vm_state
 * stopped"); every other error (including `unknown-outcome` after a timed-out
 * POST) goes through unchanged.
 */
export function rethrowConflict(e: unknown): never {
  if (isHttpError(e) && e.status === 409) {
    throw new HttpError(
      'conflict',
      e.faultMessage ?? e.message,
      { status: e.status, method: e.method, url: e.url, service: e.service, requestId: e.requestId, faultMessage: e.faultMessage },
      { cause: e, retryable: false, hint: e.hint, details: e.details },
    );
  }
  throw e;
}
