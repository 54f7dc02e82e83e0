/**
 * Microversions: the headers that ask for one, the range a service advertises
 * in its version document, and the negotiation of the highest microversion
 * both the cloud and hostmaint speak. (Branches on a microversion stay in the
 * client functions that need them, through ServiceClient.atLeast().)
 */
import { HostmaintError, HttpError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { serviceLabel } from './http-errors.js';
import { redactUrl } from './redact.js';
import { compareMicroversions, type ServiceClient, type ServiceClientOptions, type TokenSource } from './service-client.js';

/** `OpenStack-API-Version: <service> X.Y`, and Nova's legacy header for compute. */
export function microversionHeaders(serviceType: string, microversion: string): Record<string, string> {
  const headers: Record<string, string> = { 'OpenStack-API-Version': `${serviceType} ${microversion}` };
  if (serviceType === 'compute') headers['X-OpenStack-Nova-API-Version'] = microversion;
  return headers;
}

export interface VersionRange {
  min: string;
  max: string;
}

/**
 * The microversion range a service advertises in its version document:
 * Nova's `{"version": {"version": "2.93", "min_version": "2.1"}}` at the
 * endpoint, or a `{"versions": [...]}` list (Placement's root, Nova's root).
 * Null when the document names no microversions.
 */
export function parseVersionDocument(data: unknown): VersionRange | null {
  if (data === null || typeof data !== 'object') return null;
  const obj = data as Record<string, unknown>;
  let v: Record<string, unknown> | undefined;
  if (obj.version && typeof obj.version === 'object') v = obj.version as Record<string, unknown>;
  else {
    const list = Array.isArray(obj.versions)
      ? obj.versions
      : obj.versions && typeof obj.versions === 'object' && Array.isArray((obj.versions as { values?: unknown }).values)
        ? ((obj.versions as { values: unknown[] }).values)
        : [];
    const entries = list.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object');
    const withMax = entries.filter((x) => typeof (x.max_version ?? x.version) === 'string' && (x.max_version ?? x.version) !== '');
    v = withMax.find((x) => x.status === 'CURRENT') ?? withMax.sort((a, b) => compareMicroversions(String(b.max_version ?? b.version), String(a.max_version ?? a.version)))[0];
  }
  if (!v) return null;
  const max = typeof v.max_version === 'string' && v.max_version ? v.max_version : typeof v.version === 'string' ? v.version : '';
  const min = typeof v.min_version === 'string' && v.min_version ? v.min_version : max;
  if (!/^\d+\.\d+$/.test(max) || !/^\d+\.\d+$/.test(min)) return null;
  return { min, max };
}

/**
 * The highest microversion both the server and hostmaint support (never above
 * hostmaint's max). A `not-acceptable` error naming both ranges when they do
 * not overlap.
 */
export function chooseMicroversion(serviceType: string, server: VersionRange, code: VersionRange): string {
  const chosen = compareMicroversions(server.max, code.max) < 0 ? server.max : code.max;
  const floor = compareMicroversions(server.min, code.min) > 0 ? server.min : code.min;
  if (compareMicroversions(chosen, floor) < 0) {
    const tooOld = compareMicroversions(server.max, code.min) < 0;
    throw new HostmaintError(
      'not-acceptable',
      `The cloud's ${serviceType} API supports microversions ${server.min} to ${server.max}, and hostmaint speaks ${code.min} to ${code.max}: ` +
        (tooOld ? `the cloud is too old (hostmaint needs at least ${code.min}).` : `the cloud no longer accepts any microversion hostmaint knows.`),
      {
        hint: tooOld ? `Upgrade ${serviceLabel(serviceType)}, or use an older hostmaint.` : 'Use a newer hostmaint.',
        details: { service: serviceType, serverMin: server.min, serverMax: server.max, codeMin: code.min, codeMax: code.max },
      },
    );
  }
  return chosen;
}

/** URLs to try for the version document: the endpoint, without a trailing project id, the host root. */
function discoveryUrls(endpoint: string, projectId?: string | null): string[] {
  const u = new URL(endpoint);
  const segs = u.pathname.split('/').filter(Boolean);
  const out = [endpoint.replace(/\/+$/, '')];
  const last = segs[segs.length - 1];
  if (last !== undefined && (last === projectId || /^[0-9a-f]{32}$/i.test(last) || /^%\(.*\)s$/.test(last) || /^\$\(.*\)s$/.test(last))) {
    out.push(`${u.origin}/${segs.slice(0, -1).join('/')}`.replace(/\/+$/, ''));
  }
  out.push(`${u.origin}/`);
  return [...new Set(out)];
}

/** What negotiation needs of a transport (an HttpTransport): clients on any URL, and its logger. */
export interface ClientFactory {
  readonly logger: Logger;
  client(opts: ServiceClientOptions): ServiceClient;
}

/**
 * Read the service's version document and choose the microversion: the
 * highest both support, capped at hostmaint's max. Throws `not-acceptable`
 * when the ranges do not overlap.
 */
export async function negotiateMicroversion(
  transport: ClientFactory,
  args: { serviceType: string; endpoint: string; code: VersionRange; tokens?: TokenSource | null; projectId?: string | null; signal?: AbortSignal | undefined },
): Promise<{ microversion: string; server: VersionRange }> {
  const tried: string[] = [];
  let lastError: unknown = null;
  for (const url of discoveryUrls(args.endpoint, args.projectId)) {
    tried.push(redactUrl(url));
    const client = transport.client({ serviceType: args.serviceType, endpoint: url, tokens: args.tokens ?? null });
    try {
      const res = await client.request({ method: 'GET', path: '', signal: args.signal });
      const range = parseVersionDocument(res.data);
      if (range) {
        const microversion = chooseMicroversion(args.serviceType, range, args.code);
        transport.logger.debug(`${args.serviceType}: microversion ${microversion} (cloud ${range.min}..${range.max}, hostmaint ${args.code.min}..${args.code.max})`, {
          service: args.serviceType,
          microversion,
          serverMin: range.min,
          serverMax: range.max,
        });
        return { microversion, server: range };
      }
    } catch (e) {
      if (e instanceof HostmaintError && (e.kind === 'not-found' || e.kind === 'bad-request' || (e.kind === 'not-acceptable' && e instanceof HttpError))) {
        lastError = e;
        continue;
      }
      throw e;
    }
  }
  throw new HostmaintError('not-acceptable', `The ${args.serviceType} endpoint ${redactUrl(args.endpoint)} advertises no microversions (looked at ${tried.join(', ')})`, {
    hint: `hostmaint needs a ${serviceLabel(args.serviceType)} API with microversions ${args.code.min} or later; check the catalog's ${args.serviceType} endpoint.`,
    cause: lastError ?? undefined,
    details: { service: args.serviceType, tried },
  });
}
