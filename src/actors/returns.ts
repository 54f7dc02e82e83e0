/**
 * Undrain's return list: from the drain's manifest, the instances that are
 * still where the drain put them and still in the state they were moved in.
 * One listServersOnHost per host the drain moved instances to.
 */
import { errorText } from '../core/errors.js';
import type { Server } from '../openstack/types.js';
import { newRun } from '../machines/pool.js';
import type { InstanceRun, SelectReturnsInput, SelectReturnsOutput } from '../machines/actor-io.js';
import type { ActorDeps } from './deps.js';

export async function selectReturns(deps: ActorDeps, input: SelectReturnsInput, signal?: AbortSignal): Promise<SelectReturnsOutput> {
  const pool: InstanceRun[] = [];
  const notReturned: SelectReturnsOutput['notReturned'] = [];
  const byTarget = new Map<string, Map<string, Server>>();
  for (const to of [...new Set(input.manifest.map((m) => m.to))]) {
    const servers = await deps.compute.listServersOnHost(to, { signal });
    byTarget.set(to, new Map(servers.map((s) => [s.id, s])));
  }
  const seen = new Set<string>();
  for (const entry of input.manifest) {
    if (seen.has(entry.serverId)) continue;
    seen.add(entry.serverId);
    const name = entry.name ?? null;
    if (entry.from !== input.host) {
      notReturned.push({ serverId: entry.serverId, name, reason: `the manifest says it came from ${entry.from}, not ${input.host}` });
      continue;
    }
    const s = byTarget.get(entry.to)?.get(entry.serverId);
    if (!s) {
      let where = 'it is gone';
      try {
        const now = await deps.compute.getServer(entry.serverId, { signal });
        where = `it is now ${now.status}${now.host ? ` on ${now.host}` : ''}`;
      } catch (e) {
        deps.logger.debug('server of the manifest not found', { serverId: entry.serverId, error: errorText(e) });
      }
      notReturned.push({ serverId: entry.serverId, name, reason: `no longer on ${entry.to}, where the drain put it: ${where}` });
      continue;
    }
    const wanted = entry.status ?? (entry.method === 'cold' ? 'SHUTOFF' : 'ACTIVE');
    if (s.status !== wanted || s.taskState) {
      notReturned.push({ serverId: entry.serverId, name: s.name, reason: `${s.status}${s.taskState ? ` (task ${s.taskState})` : ''}, not ${wanted} as when it was moved: left where it is` });
      continue;
    }
    const method = s.status === 'SHUTOFF' ? 'cold' : 'live';
    pool.push(newRun({ serverId: s.id, name: s.name, method, source: entry.to, originalStatus: s.status, plannedTarget: input.host, pinnedHosts: [input.host] }));
  }
  return { pool, notReturned };
}
