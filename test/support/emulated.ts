/**
 * The project's emulator (src/emulator/) as the cloud double of unit tests:
 * a small scenario built from the fields a test cares about, a VirtualClock
 * shared by the cloud and hostmaint, and hostmaint's real clients over HTTP
 * (connect()). Calls are counted from the emulator's request log, by the name
 * of the ComputeApi / PlacementApi method that sends them.
 */
import { memoryLogger } from '../../src/core/log.js';
import { startEmulator, VirtualClock, type Emulator, type FaultSpec, type FlavorSpec, type HostSpec, type InstanceSpec, type RequestRecord, type Scenario } from '../../src/emulator/index.js';
import type { InstanceStateName } from '../../src/emulator/scenario/spec.js';
import { connect, type HostmaintSession } from '../../src/openstack/session.js';
import type { ActorDeps } from '../../src/actors/deps.js';
import { emulatorCloud } from '../emulator/helpers.js';

/** Migration timings: short, so that a poll every 5 s sees each phase. */
export const QUICK = { schedule_ms: 300, preparing_ms: 500, post_migrating_ms: 500, cold_migration_ms: 4000, confirm_ms: 500, action_ms: 5000, bandwidth_mbps: 1000, dirty_rate_mbps: 50 };

export interface ServerOpts {
  id: string;
  name?: string;
  /** Default compute-01; null with SHELVED_OFFLOADED. */
  host?: string | null;
  status?: InstanceStateName;
  taskState?: string | null;
  locked?: boolean;
  /** Flavor: default 2 VCPU, 4096 MB, 20 GB. */
  vcpus?: number;
  ramMb?: number;
  diskGb?: number;
  extraSpecs?: Record<string, string>;
  group?: string;
  migration?: InstanceSpec['migration'];
}

export interface HostOpts extends Partial<HostSpec> {
  name: string;
}

export interface EmulatedOptions {
  hosts: Array<string | HostOpts>;
  /** In the order Nova lists them (newest first). */
  servers?: ServerOpts[];
  /** Defaults of every host (the scenario's defaults.host). */
  hostDefaults?: Omit<HostSpec, 'name'>;
  serverGroups?: Scenario['server_groups'];
  aggregates?: Scenario['aggregates'];
  migration?: Scenario['migration'];
  placement?: Scenario['placement'];
  faults?: FaultSpec[];
}

export interface Emulated {
  emu: Emulator;
  session: HostmaintSession;
  clock: VirtualClock;
  /** Requests sent by hostmaint for one ComputeApi / PlacementApi method (all of them without a name). */
  count(method?: string): number;
  /** The requests of one method, in order. */
  calls(method: string): RequestRecord[];
  /** Forget the requests so far. */
  reset(): void;
  close(): Promise<void>;
}

/** Which request each client method sends (hostmaint's clients at compute 2.93 / placement 1.39). */
const METHOD: Record<string, (r: RequestRecord) => boolean> = {
  listServices: (r) => r.method === 'GET' && /\/os-services$/.test(r.path),
  disableService: (r) => r.method === 'PUT' && r.path.includes('/os-services') && (r.body as { status?: string } | null)?.status === 'disabled',
  enableService: (r) => r.method === 'PUT' && r.path.includes('/os-services') && (r.body as { status?: string } | null)?.status === 'enabled',
  listServers: (r) => r.method === 'GET' && /\/servers\/detail$/.test(r.path) && r.query['deleted'] === undefined,
  /** Its second request: the soft-deleted servers (the first is a listServers). */
  listServersOnHost: (r) => r.method === 'GET' && /\/servers\/detail$/.test(r.path) && r.query['deleted'] === 'true',
  getServer: (r) => r.method === 'GET' && /\/servers\/[^/]+$/.test(r.path) && !r.path.endsWith('/detail'),
  liveMigrate: (r) => r.action === 'os-migrateLive',
  coldMigrate: (r) => r.action === 'migrate',
  confirmResize: (r) => r.action === 'confirmResize',
  shelveOffload: (r) => r.action === 'shelveOffload',
  stopServer: (r) => r.action === 'os-stop',
  startServer: (r) => r.action === 'os-start',
  listServerMigrations: (r) => r.method === 'GET' && /\/servers\/[^/]+\/migrations$/.test(r.path),
  getServerMigration: (r) => r.method === 'GET' && /\/servers\/[^/]+\/migrations\/[^/]+$/.test(r.path),
  forceCompleteMigration: (r) => r.method === 'POST' && /\/servers\/[^/]+\/migrations\/[^/]+\/action$/.test(r.path),
  abortMigration: (r) => r.method === 'DELETE' && /\/servers\/[^/]+\/migrations\/[^/]+$/.test(r.path),
  listMigrations: (r) => r.method === 'GET' && /\/os-migrations$/.test(r.path),
  listInstanceActions: (r) => r.method === 'GET' && /\/servers\/[^/]+\/os-instance-actions$/.test(r.path),
  getInstanceAction: (r) => r.method === 'GET' && /\/servers\/[^/]+\/os-instance-actions\/[^/]+$/.test(r.path),
  getProviderAllocations: (r) => r.method === 'GET' && /\/resource_providers\/[^/]+\/allocations$/.test(r.path),
  listHypervisors: (r) => r.method === 'GET' && /\/os-hypervisors(\/detail)?$/.test(r.path),
  listProviders: (r) => r.method === 'GET' && /\/resource_providers$/.test(r.path),
  getInventories: (r) => r.method === 'GET' && /\/resource_providers\/[^/]+\/inventories$/.test(r.path),
  getUsages: (r) => r.method === 'GET' && /\/resource_providers\/[^/]+\/usages$/.test(r.path),
  getAllocationCandidates: (r) => r.method === 'GET' && /\/allocation_candidates$/.test(r.path),
};

function flavorName(s: ServerOpts): string {
  const specs = Object.entries(s.extraSpecs ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `f${s.vcpus ?? 2}-${s.ramMb ?? 4096}-${s.diskGb ?? 20}${specs ? `-${specs}` : ''}`;
}

/** The scenario of `o`: hosts (default inventory 16 VCPU x4, 64 GiB, 1000 GB), one flavor per distinct size. */
export function scenarioOf(o: EmulatedOptions): Scenario {
  const servers = o.servers ?? [];
  const flavors = new Map<string, FlavorSpec>();
  for (const s of servers) {
    const name = flavorName(s);
    if (!flavors.has(name)) flavors.set(name, { name, vcpus: s.vcpus ?? 2, ram_mb: s.ramMb ?? 4096, disk_gb: s.diskGb ?? 20, ...(s.extraSpecs ? { extra_specs: s.extraSpecs } : {}) });
  }
  return {
    name: 'unit',
    migration: o.migration ?? QUICK,
    ...(o.placement ? { placement: o.placement } : {}),
    defaults: { host: { vcpus: 16, ram_mb: 65536, disk_gb: 1000, max_concurrent_live_migrations: 1, ...o.hostDefaults } },
    hosts: o.hosts.map((h) => (typeof h === 'string' ? { name: h } : (h as HostSpec))),
    flavors: [...flavors.values()],
    ...(o.serverGroups ? { server_groups: o.serverGroups } : {}),
    ...(o.aggregates ? { aggregates: o.aggregates } : {}),
    // Created last to first: Nova lists the newest first, so hostmaint sees them in the order given.
    instances: [...servers].reverse().map((s) => ({
      id: s.id,
      name: s.name ?? s.id,
      flavor: flavorName(s),
      ...(s.host === null || s.status === 'SHELVED_OFFLOADED' ? {} : { host: s.host ?? 'compute-01' }),
      state: s.status ?? 'ACTIVE',
      ...(s.taskState !== undefined ? { task_state: s.taskState } : {}),
      ...(s.locked ? { locked: true } : {}),
      ...(s.group ? { server_group: s.group } : {}),
      ...(s.migration ? { migration: s.migration } : {}),
    })),
  } as Scenario;
}

/** Start the emulator on a VirtualClock and connect hostmaint's real clients to it. */
export async function emulated(o: EmulatedOptions): Promise<Emulated> {
  const clock = new VirtualClock();
  const emu = await startEmulator({ scenario: scenarioOf(o), clock, ...(o.faults ? { faults: o.faults } : {}) });
  const session = await connect(emulatorCloud(emu), { logger: memoryLogger(), clock, timeoutMs: 30_000 });
  let closed = false;
  const mine = () => emu.requests.records.filter((r) => r.service === 'compute' || r.service === 'placement');
  const calls = (method: string): RequestRecord[] => {
    const m = METHOD[method];
    if (!m) throw new Error(`emulated: no request known for ${method}`);
    return mine().filter(m);
  };
  return {
    emu,
    session,
    clock,
    count: (method) => (method ? calls(method).length : mine().length),
    calls,
    reset: () => emu.requests.clear(),
    close: async () => {
      if (closed) return;
      closed = true;
      await session.close();
      // A test may have stopped the emulator itself (a cloud gone away).
      await emu.stop().catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ERR_SERVER_NOT_RUNNING') throw e;
      });
    },
  };
}

/** Actor dependencies over the emulated cloud (reachability checks answer "reachable" unless given). */
export function actorDeps(c: Emulated, o: Partial<ActorDeps> = {}): ActorDeps {
  return {
    compute: c.session.compute,
    placement: c.session.placement,
    logger: memoryLogger(),
    clock: c.clock,
    net: { resolve: async () => '192.0.2.10', routeTo: async () => null, probeTcp: async () => true },
    ...o,
  };
}

/** Close every emulated cloud a test opened (mocha afterEach). */
export function closer(): { track(c: Emulated): Emulated; closeAll(): Promise<void> } {
  const open: Emulated[] = [];
  return {
    track: (c) => (open.push(c), c),
    closeAll: async () => {
      for (const c of open.splice(0)) await c.close();
    },
  };
}

/** compute-01 .. compute-0N, each with `o[name]` on top of the defaults. */
export function hostsN(n: number, o: Record<string, Partial<HostSpec>> = {}): HostOpts[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `compute-0${i + 1}`;
    return { name, ...o[name] };
  });
}

/**
 * Set a field of a provider's inventory, as an operator's `openstack resource
 * provider inventory set` (PUT /resource_providers/{uuid}/inventories) would:
 * e.g. a VCPU max_unit below the total. The provider generation moves on.
 */
export function setInventory(c: Emulated, host: string, rc: string, fields: { max_unit?: number; total?: number; reserved?: number; allocation_ratio?: number }): void {
  const h = c.emu.state.cloud.hosts.get(host);
  const inv = h?.inventories[rc];
  if (!h || !inv) throw new Error(`setInventory: no ${rc} inventory on ${host}`);
  Object.assign(inv, fields);
  h.rpGeneration++;
}
