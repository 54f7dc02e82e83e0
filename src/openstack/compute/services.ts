/** os-services: list, disable with a reason, enable. */
import { HostmaintError } from '../../core/errors.js';
import type { CallOptions } from '../api.js';
import type { ComputeService } from '../types.js';
import { isRecord } from '../wire.js';
import { getJson, type ComputeContext, type Query } from './context.js';
import { pick, toService, type WireService } from './wire.js';

/** From 2.53 services are addressed by UUID: PUT /os-services/{uuid}. */
export const SERVICE_UUID_MICROVERSION = '2.53';
export const DISABLED_REASON_MAX = 255;

export async function listServices(ctx: ComputeContext, query: { host?: string; binary?: string }, opts?: CallOptions): Promise<ComputeService[]> {
  const q: Query = {};
  if (query.binary !== undefined) q.binary = query.binary;
  if (query.host !== undefined) q.host = query.host;
  const data = await getJson(ctx, '/os-services', q, opts);
  return pick<WireService[]>(data, 'services', 'array', 'GET /os-services').map(toService);
}

/** Nova's schema: 1..255 characters (code points, as jsonschema counts them). */
export function validateDisabledReason(reason: string): void {
  const length = typeof reason === 'string' ? [...reason].length : 0;
  if (length < 1 || length > DISABLED_REASON_MAX) {
    throw new HostmaintError('bad-request', `The disable reason must be 1 to ${DISABLED_REASON_MAX} characters long (got ${length}).`, {
      hint: 'Give a shorter --reason; hostmaint adds its own marker to it.',
      details: { length },
    });
  }
}

export async function disableService(ctx: ComputeContext, service: ComputeService, reason: string, opts?: CallOptions): Promise<ComputeService> {
  validateDisabledReason(reason);
  return setServiceStatus(ctx, service, 'disabled', reason, opts);
}

export async function enableService(ctx: ComputeContext, service: ComputeService, opts?: CallOptions): Promise<ComputeService> {
  return setServiceStatus(ctx, service, 'enabled', null, opts);
}

/**
 * One PUT that enables or disables: from 2.53 `PUT /os-services/{uuid}` with {status[, disabled_reason]},
 * which answers the whole service; before, `PUT /os-services/disable-log-reason` or `/enable` by host
 * and binary, which answer only part of it.
 */
async function setServiceStatus(ctx: ComputeContext, service: ComputeService, status: 'enabled' | 'disabled', reason: string | null, opts?: CallOptions): Promise<ComputeService> {
  if (ctx.client.atLeast(SERVICE_UUID_MICROVERSION)) {
    const res = await ctx.client.request({
      method: 'PUT',
      path: `/os-services/${encodeURIComponent(service.id)}`,
      body: status === 'disabled' ? { status, disabled_reason: reason } : { status },
      idempotent: true,
      signal: opts?.signal,
    });
    return toService(pick<WireService>(res.data, 'service', 'object', 'PUT /os-services/{id}'));
  }
  const res = await ctx.client.request({
    method: 'PUT',
    path: status === 'disabled' ? '/os-services/disable-log-reason' : '/os-services/enable',
    body: status === 'disabled' ? { host: service.host, binary: service.binary, disabled_reason: reason } : { host: service.host, binary: service.binary },
    idempotent: true,
    signal: opts?.signal,
  });
  return mergeLegacy(service, res.data, status, reason);
}

/** Before 2.53 Nova answers only {host, binary, status[, disabled_reason]}: merge it into what we knew. */
function mergeLegacy(service: ComputeService, data: unknown, status: 'enabled' | 'disabled', reason: string | null): ComputeService {
  const wire = isRecord(data) && isRecord(data.service) ? data.service : {};
  return {
    ...service,
    status: wire.status === 'disabled' || wire.status === 'enabled' ? wire.status : status,
    disabledReason: status === 'disabled' ? (typeof wire.disabled_reason === 'string' ? wire.disabled_reason : reason) : null,
  };
}
