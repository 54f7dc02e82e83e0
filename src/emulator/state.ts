/**
 * `emulator.state`: read access to the model for tests and the admin API,
 * as plain snapshots evaluated at the clock's now.
 */
import type { Cloud } from './cloud.js';
import type { InstanceAction } from './compute/actions.js';
import type { HostState, MigrationState, ServerState } from './model.js';
import { serverStatus } from './model.js';
import type { ConsumerAllocation } from './placement/allocations.js';
import { traits } from './placement/providers.js';

/** Read access to the model (each call evaluates the model at the clock's now). */
export interface EmulatorState {
  /** Hosts with service status/state, usage and the ids of their servers. */
  hosts(): HostSnapshot[];
  host(name: string): HostSnapshot | undefined;
  servers(): ServerSnapshot[];
  /** By id or name. */
  server(idOrName: string): ServerSnapshot | undefined;
  /** Servers on a host (not deleted). */
  serversOn(host: string): ServerSnapshot[];
  migrations(filter?: { serverId?: string; type?: 'live-migration' | 'migration'; status?: string }): MigrationSnapshot[];
  /** consumer uuid -> provider uuid -> resources. */
  allocations(consumer: string): Record<string, Record<string, number>>;
  /** Allocations held on a host's provider: consumer -> resources. */
  providerAllocations(host: string): Record<string, Record<string, number>>;
  usage(host: string): Record<string, number>;
  traits(host: string): string[];
  instanceActions(serverId: string): InstanceAction[];
  /** The live model (mutable; for advanced tests). */
  readonly cloud: Cloud;
}

export interface HostSnapshot {
  name: string;
  hypervisorHostname: string;
  az: string;
  providerUuid: string;
  serviceId: string;
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  state: 'up' | 'down';
  forcedDown: boolean;
  servers: string[];
  usage: Record<string, number>;
  activeMigrations: number;
  queuedMigrations: number;
}

export interface ServerSnapshot {
  id: string;
  name: string;
  projectId: string;
  status: string;
  vmState: string;
  taskState: string | null;
  host: string | null;
  node: string | null;
  flavor: string;
  locked: boolean;
  groupId: string | null;
  deleted: boolean;
}

export interface MigrationSnapshot {
  id: number;
  uuid: string;
  serverId: string;
  type: string;
  status: string;
  sourceCompute: string;
  destCompute: string | null;
  memoryTotalBytes: number;
  memoryProcessedBytes: number;
  memoryRemainingBytes: number;
  createdAt: number;
  updatedAt: number;
}

function snapshotHost(cloud: Cloud, h: HostState): HostSnapshot {
  return {
    name: h.name,
    hypervisorHostname: h.hypervisorHostname,
    az: h.az,
    providerUuid: h.uuid,
    serviceId: h.serviceUuid,
    status: h.disabled ? 'disabled' : 'enabled',
    disabledReason: h.disabledReason,
    state: cloud.nova.services.serviceIsUp(h) ? 'up' : 'down',
    forcedDown: h.forcedDown,
    servers: [...(cloud.nova.servers.byHost.get(h.name) ?? [])],
    usage: cloud.nova.placement.usage(h),
    activeMigrations: h.activeOut.size,
    queuedMigrations: h.queue.length,
  };
}

function snapshotServer(s: ServerState): ServerSnapshot {
  return {
    id: s.id,
    name: s.name,
    projectId: s.projectId,
    status: serverStatus(s.vmState, s.taskState),
    vmState: s.vmState,
    taskState: s.taskState,
    host: s.host,
    node: s.node,
    flavor: s.flavor.name,
    locked: s.locked,
    groupId: s.groupId,
    deleted: s.deleted,
  };
}

function snapshotMigration(cloud: Cloud, m: MigrationState): MigrationSnapshot {
  const p = cloud.nova.migrations.progress(m);
  return {
    id: m.id,
    uuid: m.uuid,
    serverId: m.serverId,
    type: m.type,
    status: m.status,
    sourceCompute: m.sourceCompute,
    destCompute: m.destCompute,
    memoryTotalBytes: m.memTotal,
    memoryProcessedBytes: p.memP,
    memoryRemainingBytes: p.memR,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}

function allocObj(c: ConsumerAllocation | undefined): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  if (c) for (const [rp, res] of c.byRp) out[rp] = { ...res };
  return out;
}

export function emulatorState(cloud: Cloud): EmulatorState {
  return {
    cloud,
    hosts: () => (cloud.sync(), [...cloud.hosts.values()].map((h) => snapshotHost(cloud, h))),
    host: (name) => {
      cloud.sync();
      const h = cloud.hosts.get(name);
      return h ? snapshotHost(cloud, h) : undefined;
    },
    servers: () => (cloud.sync(), [...cloud.servers.values()].map(snapshotServer)),
    server: (idOrName) => {
      cloud.sync();
      const s = cloud.servers.get(idOrName) ?? [...cloud.servers.values()].find((x) => x.name === idOrName && !x.deleted);
      return s ? snapshotServer(s) : undefined;
    },
    serversOn: (host) => (cloud.sync(), [...(cloud.nova.servers.byHost.get(host) ?? [])].map((id) => snapshotServer(cloud.servers.get(id)!))),
    migrations: (f = {}) => {
      cloud.sync();
      return [...cloud.migrations.values()]
        .filter((m) => (!f.serverId || m.serverId === f.serverId) && (!f.type || m.type === f.type) && (!f.status || m.status === f.status))
        .map((m) => snapshotMigration(cloud, m));
    },
    allocations: (consumer) => (cloud.sync(), allocObj(cloud.nova.placement.consumers.get(consumer))),
    providerAllocations: (host) => {
      cloud.sync();
      const h = cloud.hosts.get(host);
      if (!h) return {};
      return Object.fromEntries([...cloud.nova.placement.byProvider.get(h.uuid)!].map(([c, r]) => [c, { ...r }]));
    },
    usage: (host) => {
      cloud.sync();
      const h = cloud.hosts.get(host);
      return h ? cloud.nova.placement.usage(h) : {};
    },
    traits: (host) => {
      cloud.sync();
      const h = cloud.hosts.get(host);
      return h ? traits(h) : [];
    },
    instanceActions: (serverId) => (cloud.sync(), [...(cloud.nova.actions.byServer.get(serverId) ?? [])]),
  };
}
