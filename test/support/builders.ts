/**
 * Plain records for the planner's pure functions (classify, capacity, place):
 * a Server, a ComputeService, an Inventories, as hostmaint's clients return
 * them. No cloud here: tests that talk to a cloud use the emulator
 * (test/support/emulated.ts).
 */
import type { ComputeService, Inventories, Server } from '../../src/openstack/types.js';

let seq = 0;
function uuid(prefix = 'srv'): string {
  seq++;
  return `${prefix}-${String(seq).padStart(4, '0')}`;
}

export function makeService(host: string, o: Partial<ComputeService> = {}): ComputeService {
  return {
    id: o.id ?? `svc-${host}`,
    binary: 'nova-compute',
    host,
    zone: o.zone === undefined ? 'nova' : o.zone,
    status: o.status ?? 'enabled',
    state: o.state ?? 'up',
    disabledReason: o.disabledReason ?? null,
    forcedDown: o.forcedDown ?? false,
    updatedAt: null,
  };
}

export interface ServerSpec {
  id?: string;
  name?: string;
  host?: string | null;
  status?: string;
  vmState?: string | null;
  taskState?: string | null;
  locked?: boolean;
  vcpus?: number;
  ramMb?: number;
  diskGb?: number;
  ephemeralGb?: number;
  swapMb?: number;
  extraSpecs?: Record<string, string>;
  az?: string | null;
  imageId?: string | null;
  projectId?: string;
  fault?: string | null;
}

const VM_STATE: Record<string, string> = {
  ACTIVE: 'active',
  PAUSED: 'paused',
  SHUTOFF: 'stopped',
  SUSPENDED: 'suspended',
  SHELVED: 'shelved',
  SHELVED_OFFLOADED: 'shelved_offloaded',
  ERROR: 'error',
  BUILD: 'building',
  RESCUE: 'rescued',
  VERIFY_RESIZE: 'resized',
};

export function makeServer(s: ServerSpec = {}): Server {
  const id = s.id ?? uuid();
  const status = s.status ?? 'ACTIVE';
  return {
    id,
    name: s.name ?? id,
    projectId: s.projectId ?? 'proj-1',
    userId: 'user-1',
    status,
    vmState: s.vmState === undefined ? (VM_STATE[status] ?? null) : s.vmState,
    taskState: s.taskState ?? null,
    powerState: 1,
    host: s.host === undefined ? 'compute-01' : s.host,
    hypervisorHostname: s.host ?? null,
    instanceName: null,
    availabilityZone: s.az === undefined ? 'nova' : s.az,
    locked: s.locked ?? false,
    lockedReason: null,
    flavor: {
      id: null,
      name: 'm1',
      vcpus: s.vcpus ?? 2,
      ramMb: s.ramMb ?? 4096,
      diskGb: s.diskGb ?? 20,
      ephemeralGb: s.ephemeralGb ?? 0,
      swapMb: s.swapMb ?? 0,
      extraSpecs: s.extraSpecs ?? {},
    },
    hostStatus: 'UP',
    imageId: s.imageId === undefined ? 'img-1' : s.imageId,
    volumeIds: [],
    metadata: {},
    fault: s.fault ? { code: 500, message: s.fault, created: null } : null,
    createdAt: null,
    updatedAt: null,
  };
}

export function inventory(o: { vcpus?: number; cpuRatio?: number; ramMb?: number; ramReserved?: number; diskGb?: number; pcpus?: number; maxVcpu?: number } = {}): Inventories {
  const inv: Inventories = {
    VCPU: { total: o.vcpus ?? 16, reserved: 0, minUnit: 1, maxUnit: o.maxVcpu ?? o.vcpus ?? 16, stepSize: 1, allocationRatio: o.cpuRatio ?? 4 },
    MEMORY_MB: { total: o.ramMb ?? 65536, reserved: o.ramReserved ?? 512, minUnit: 1, maxUnit: o.ramMb ?? 65536, stepSize: 1, allocationRatio: 1 },
    DISK_GB: { total: o.diskGb ?? 1000, reserved: 0, minUnit: 1, maxUnit: o.diskGb ?? 1000, stepSize: 1, allocationRatio: 1 },
  };
  if (o.pcpus) inv.PCPU = { total: o.pcpus, reserved: 0, minUnit: 1, maxUnit: o.pcpus, stepSize: 1, allocationRatio: 1 };
  return inv;
}
