/**
 * What `status` and `history` read of the etcd backend, without a cloud: every
 * cloud runners worked on, its live leases and budget claims, and its runs
 * (copied into the local state directory, so the usual listing shows them).
 */
import type { RunStore } from '../store.js';
import { parseEtcdUrl } from './etcd-url.js';
import type { FleetView } from './types.js';

export interface SharedView {
  fleets: FleetView[];
  /** host -> its live holder's run id (any cloud; hosts of two clouds with one name both count). */
  holders: Map<string, string[]>;
}

export async function readSharedView(url: string, store: RunStore | null): Promise<SharedView> {
  const endpoints = parseEtcdUrl(url);
  const { EtcdCoordination } = await import('./etcd.js');
  const clouds = await EtcdCoordination.clouds(endpoints);
  const fleets: FleetView[] = [];
  const holders = new Map<string, string[]>();
  for (const c of clouds) {
    const coord = new EtcdCoordination({ endpoints, cloudKey: c.cloudKey, cloudName: c.cloud });
    try {
      const f = await coord.fleet();
      fleets.push(f);
      for (const l of f.leases) holders.set(l.host, [...(holders.get(l.host) ?? []), l.holder.runId]);
      if (store) await coord.pullRuns(store);
    } finally {
      await coord.close();
    }
  }
  return { fleets, holders };
}
