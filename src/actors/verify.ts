/**
 * Verify the host is empty, the four ways Nova can say otherwise:
 * servers in any state (all projects), the hypervisor's server list, Placement
 * allocations on the host's provider, unfinished or unconfirmed migrations
 * from or to it. Everything left is listed with its reason. Read-only.
 */
import type { CallOptions } from '../openstack/api.js';
import type { Leftover } from '../machines/records.js';
import type { Verification, VerifyInput } from '../machines/actor-io.js';
import type { ActorDeps } from './deps.js';
import { FINAL_MIGRATION_STATUSES } from './pool.js';
import { pickHypervisor, readServiceFor } from './service.js';

export async function verifyEmpty(deps: ActorDeps, input: VerifyInput, signal?: AbortSignal): Promise<Verification> {
  const { ref, notes } = input;
  const opts: CallOptions = { signal };
  const [service, servers, hypervisors, allocations, migrations] = await Promise.all([
    // The service as Nova shows it after the run's last write: the result's "disabled" comes from here.
    readServiceFor(deps, { service: ref.service }, opts),
    deps.compute.listServersOnHost(ref.host, opts),
    ref.hypervisor ? deps.compute.findHypervisors(ref.host, { ...opts, withServers: true }) : Promise.resolve(null),
    ref.provider ? deps.placement.getProviderAllocations(ref.provider.uuid, opts) : Promise.resolve(null),
    deps.compute.listMigrations({ host: ref.host }, opts),
  ]);

  const leftovers: Leftover[] = [];
  const seen = new Set<string>();
  for (const s of servers) {
    seen.add(s.id);
    const state = `${s.status}${s.taskState ? `, task ${s.taskState}` : ''}`;
    leftovers.push({ kind: 'server', id: s.id, name: s.name, status: s.status, reason: notes[s.id] ?? `${state}: still on the host` });
  }

  let hypervisorServers: number | null = null;
  if (hypervisors) {
    const hv = pickHypervisor(hypervisors, ref.host);
    const listed = hv?.servers ?? [];
    hypervisorServers = listed.length;
    for (const s of listed) {
      if (seen.has(s.id)) continue;
      seen.add(s.id);
      leftovers.push({ kind: 'hypervisor-server', id: s.id, name: s.name, status: null, reason: notes[s.id] ?? 'listed by the hypervisor (not by the server list: a stale record?)' });
    }
  }

  const unfinished = migrations.filter(
    (m) => (m.sourceCompute === ref.host || m.destCompute === ref.host) && !FINAL_MIGRATION_STATUSES.has(m.status.toLowerCase()),
  );
  const migrationByUuid = new Map(migrations.filter((m) => m.uuid).map((m) => [m.uuid!, m]));

  let allocationCount: number | null = null;
  if (allocations) {
    allocationCount = Object.keys(allocations).length;
    for (const [consumer, resources] of Object.entries(allocations)) {
      if (seen.has(consumer)) continue;
      const amounts = Object.entries(resources)
        .map(([rc, n]) => `${n} ${rc}`)
        .join(', ');
      const mig = migrationByUuid.get(consumer);
      const reason = mig
        ? `held by ${mig.migrationType} ${mig.id} of server ${mig.serverId} (${mig.status}): ${amounts}`
        : `consumer ${consumer} holds ${amounts} on ${ref.provider!.name} (no server on the host: an orphaned allocation?)`;
      leftovers.push({ kind: 'allocation', id: consumer, name: null, status: mig?.status ?? null, reason });
    }
  }

  for (const m of unfinished) {
    const dir = m.sourceCompute === ref.host ? `to ${m.destCompute ?? 'a host not chosen yet'}` : `from ${m.sourceCompute ?? '?'}`;
    const hint = m.status === 'finished' ? ' (awaiting resize confirm)' : '';
    leftovers.push({ kind: 'migration', id: String(m.id), name: m.serverId, status: m.status, reason: `${m.migrationType} ${m.status}${hint} ${dir}` });
  }

  return {
    empty: leftovers.length === 0,
    leftovers,
    service,
    checks: { servers: servers.length, hypervisorServers, allocations: allocationCount, unfinishedMigrations: unfinished.length },
  };
}
