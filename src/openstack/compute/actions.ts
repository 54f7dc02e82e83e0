/** Instance actions: the list (paged from 2.58) and one action with its events (details from 2.84). */
import type { CallOptions } from '../api.js';
import type { InstanceAction } from '../types.js';
import { getAllPages, getJson, type ComputeContext } from './context.js';
import { pick, toInstanceAction, type WireInstanceAction } from './wire.js';

export const INSTANCE_ACTIONS_PAGING_MICROVERSION = '2.58';

export async function listInstanceActions(ctx: ComputeContext, serverId: string, opts?: CallOptions): Promise<InstanceAction[]> {
  const wire = await getAllPages<WireInstanceAction>(ctx, {
    path: `/servers/${encodeURIComponent(serverId)}/os-instance-actions`,
    query: {},
    key: 'instanceActions',
    linksKey: 'links',
    paged: ctx.client.atLeast(INSTANCE_ACTIONS_PAGING_MICROVERSION),
    opts,
  });
  return wire.map(toInstanceAction);
}

export async function getInstanceAction(ctx: ComputeContext, serverId: string, requestId: string, opts?: CallOptions): Promise<InstanceAction> {
  const data = await getJson(ctx, `/servers/${encodeURIComponent(serverId)}/os-instance-actions/${encodeURIComponent(requestId)}`, undefined, opts);
  return toInstanceAction(pick<WireInstanceAction>(data, 'instanceAction', 'object', 'GET /servers/{id}/os-instance-actions/{request_id}'));
}
