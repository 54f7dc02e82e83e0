/**
 * An in-memory ComputeApi + PlacementApi for actor and library tests. Simple on
 * purpose (the realistic cloud is src/emulator/): a time-driven model of
 * services, servers, migrations (queued behind one slot per source compute,
 * running with memory progress, completing / failing / stalling by script),
 * cold migrations awaiting confirm, shelve-offload, instance actions, server
 * groups, aggregates and Placement providers whose usages and allocations
 * follow the servers. Every call is counted.
 */
import type { Clock } from '../../src/core/clock.js';
import { HostmaintError, HttpError } from '../../src/core/errors.js';
import type { Accepted, CallOptions, ComputeApi, MigrationQuery, PlacementApi } from '../../src/openstack/api.js';
import type {
  Aggregate,
  AllocationCandidates,
  AvailabilityZone,
  ComputeService,
  ConsumerAllocations,
  Flavor,
  Hypervisor,
  InstanceAction,
  Inventories,
  Migration,
  ProviderAllocations,
  ResourceProvider,
  Server,
  ServerGroup,
  ServerMigration,
  Usages,
} from '../../src/openstack/types.js';
import { requestForServer } from '../../src/planner/capacity.js';

export const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

/** A clock whose sleep() jumps time forward at once. */
export class TestClock implements Clock {
  t = T0;
  sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    this.sleeps.push(ms);
    this.t += Math.max(0, ms);
    await new Promise((r) => setImmediate(r));
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

// ------------------------------------------------------------------ builders

let seq = 0;
export function uuid(prefix = 'srv'): string {
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

// ------------------------------------------------------------------ scripts

/** How a requested migration of one server behaves (one script per attempt; the last repeats). */
export interface MoveScript {
  /** Time in 'queued' before it may run (it also waits for the source's slot). Default 1000. */
  queuedMs?: number;
  /** Running time. Default 20 000. */
  runMs?: number;
  memoryBytes?: number;
  /** complete (default), error (pre-check failure: back to ACTIVE on the source), error-to-ERROR, stall (stops making progress). */
  outcome?: 'complete' | 'error' | 'error-to-ERROR' | 'stall';
  /** Fraction of memory copied when a stall starts. Default 0.5. */
  stallAt?: number;
  /** Event details of the failed instance action. */
  details?: string;
  /** Destination (default: the fake scheduler's choice). */
  dest?: string;
}

interface MigState {
  m: Migration;
  script: MoveScript;
  createdAt: number;
  runStart: number | null;
  originalStatus: string;
  forcedAt: number | null;
  abortedAt: number | null;
  requestId: string;
}

export interface CallRecord {
  method: string;
  args: unknown[];
}

function httpError(kind: ConstructorParameters<typeof HttpError>[0], status: number, message: string): HttpError {
  return new HttpError(kind, message, { status, method: 'X', url: 'fake://', service: 'compute', requestId: 'req-fake' });
}

export interface FakeCloudOptions {
  clock?: TestClock;
  /** Hypervisor hostname from a service host (default: the same name). */
  hypervisorName?: (host: string) => string;
}

export class FakeCloud {
  readonly clock: TestClock;
  services: ComputeService[] = [];
  servers = new Map<string, Server>();
  migs: MigState[] = [];
  actions = new Map<string, InstanceAction[]>();
  groups: ServerGroup[] = [];
  aggregates: Aggregate[] = [];
  inventories = new Map<string, Inventories>();
  scripts = new Map<string, MoveScript[]>();
  defaultScript: MoveScript = {};
  calls: CallRecord[] = [];
  /** Throw this from the next call of a method (then forget it). `landed`: perform the action anyway (a timeout after Nova accepted it). */
  faults = new Map<string, Array<{ error: Error; landed?: boolean }>>();
  private nextMigId = 100;
  private nextReq = 1;
  readonly hypervisorName: (host: string) => string;
  /** host_ip of a host's hypervisor (default 192.0.2.10 + its index; null: none). */
  readonly hostIps = new Map<string, string | null>();

  constructor(o: FakeCloudOptions = {}) {
    this.clock = o.clock ?? new TestClock();
    this.hypervisorName = o.hypervisorName ?? ((h) => h);
  }

  // ---------------------------------------------------------------- setup helpers

  addHost(host: string, o: Partial<ComputeService> & { inventory?: Inventories } = {}): this {
    this.services.push(makeService(host, o));
    this.inventories.set(host, o.inventory ?? inventory());
    return this;
  }

  addServer(spec: ServerSpec): Server {
    const s = makeServer(spec);
    this.servers.set(s.id, s);
    return s;
  }

  script(serverId: string, ...scripts: MoveScript[]): this {
    this.scripts.set(serverId, scripts);
    return this;
  }

  /** Run `fn` right after each call of `method` took effect (another actor acting in between). */
  afterCall(method: string, fn: () => void): this {
    this.hooks.set(method, fn);
    return this;
  }

  private readonly hooks = new Map<string, () => void>();

  fail(method: string, error: Error, landed = false): this {
    const list = this.faults.get(method) ?? [];
    list.push({ error, landed });
    this.faults.set(method, list);
    return this;
  }

  service(host: string): ComputeService {
    const s = this.services.find((x) => x.host === host);
    if (!s) throw new Error(`no service ${host}`);
    return s;
  }

  server(id: string): Server {
    const s = this.servers.get(id);
    if (!s) throw new Error(`no server ${id}`);
    return s;
  }

  count(method?: string): number {
    return method ? this.calls.filter((c) => c.method === method).length : this.calls.length;
  }

  reset(): void {
    this.calls = [];
  }

  // ---------------------------------------------------------------- the model

  private record(method: string, args: unknown[]): { error: Error; landed?: boolean } | null {
    this.calls.push({ method, args });
    const list = this.faults.get(method);
    if (list && list.length > 0) {
      const f = list.shift()!;
      if (list.length === 0) this.faults.delete(method);
      return f;
    }
    return null;
  }

  private call<T>(method: string, args: unknown[], fn: () => T): Promise<T> {
    const f = this.record(method, args);
    this.advance();
    if (f && !f.landed) return Promise.reject(f.error);
    const out = fn();
    this.hooks.get(method)?.();
    if (f) return Promise.reject(f.error);
    return Promise.resolve(structuredClone(out));
  }

  private scriptFor(serverId: string, attempt: number): MoveScript {
    const list = this.scripts.get(serverId);
    if (!list || list.length === 0) return this.defaultScript;
    return list[Math.min(attempt, list.length - 1)]!;
  }

  private usedOn(host: string): Record<string, number> {
    const used: Record<string, number> = {};
    const add = (r: Record<string, number>) => {
      for (const [k, v] of Object.entries(r)) used[k] = (used[k] ?? 0) + v;
    };
    for (const s of this.servers.values()) if (s.host === host) add(requestForServer(s));
    for (const st of this.migs) {
      if (!this.unfinished(st.m)) continue;
      const s = this.servers.get(st.m.serverId);
      if (!s) continue;
      // The other end of an unfinished move holds resources too.
      const other = s.host === st.m.sourceCompute ? st.m.destCompute : st.m.sourceCompute;
      if (other === host) add(requestForServer(s));
    }
    return used;
  }

  private fitsOn(host: string, server: Server): boolean {
    const inv = this.inventories.get(host);
    if (!inv) return false;
    const used = this.usedOn(host);
    for (const [rc, n] of Object.entries(requestForServer(server))) {
      const i = inv[rc];
      if (!i) return false;
      const cap = Math.trunc((i.total - i.reserved) * i.allocationRatio);
      if ((used[rc] ?? 0) + n > cap || n > i.maxUnit) return false;
    }
    return true;
  }

  private schedule(server: Server, requested: string | null): string | null {
    const ok = (h: ComputeService) => h.host !== server.host && h.status === 'enabled' && h.state === 'up' && this.fitsOn(h.host, server);
    if (requested) {
      const svc = this.services.find((x) => x.host === requested);
      return svc && ok(svc) ? requested : null;
    }
    const candidates = this.services.filter(ok).sort((a, b) => {
      const fa = (this.inventories.get(a.host)!.MEMORY_MB!.total ?? 0) - (this.usedOn(a.host).MEMORY_MB ?? 0);
      const fb = (this.inventories.get(b.host)!.MEMORY_MB!.total ?? 0) - (this.usedOn(b.host).MEMORY_MB ?? 0);
      return fb - fa || a.host.localeCompare(b.host);
    });
    return candidates[0]?.host ?? null;
  }

  unfinished(m: Migration): boolean {
    return !['completed', 'confirmed', 'error', 'failed', 'cancelled', 'reverted', 'done'].includes(m.status);
  }

  private failMigration(st: MigState, at: number, toError: boolean): void {
    const s = this.servers.get(st.m.serverId);
    st.m.status = 'error';
    st.m.updatedAt = new Date(at).toISOString();
    if (s) {
      s.taskState = null;
      s.status = toError ? 'ERROR' : st.originalStatus;
      s.vmState = toError ? 'error' : (VM_STATE[st.originalStatus] ?? s.vmState);
      if (toError) s.fault = { code: 500, message: st.script.details ?? 'migration failed', created: null };
    }
    const action = (this.actions.get(st.m.serverId) ?? []).find((a) => a.requestId === st.requestId);
    if (action) {
      action.message = 'Error';
      action.events.push({
        event: st.m.migrationType === 'live-migration' ? 'conductor_live_migrate_instance' : 'conductor_migrate_server',
        startTime: null,
        finishTime: null,
        result: 'Error',
        details: st.script.details ?? 'No valid host was found. There are not enough hosts available.',
        traceback: null,
        host: null,
      });
    }
  }

  /** Move the model to clock.now(). */
  advance(): void {
    const now = this.clock.now();
    for (let guard = 0; guard < 1000; guard++) {
      let changed = false;
      for (const st of [...this.migs].sort((a, b) => a.m.id - b.m.id)) {
        if (!this.unfinished(st.m)) continue;
        const s = this.servers.get(st.m.serverId);
        const sc = st.script;
        if (st.m.migrationType === 'live-migration') {
          const queuedEnd = st.createdAt + (sc.queuedMs ?? 1000);
          if (st.m.status === 'queued' || st.m.status === 'accepted') {
            if (st.abortedAt !== null) {
              st.m.status = 'cancelled';
              if (s) s.taskState = null;
              if (s) s.status = st.originalStatus;
              changed = true;
              continue;
            }
            if (now < queuedEnd) continue;
            if (sc.outcome === 'error') {
              this.failMigration(st, queuedEnd, false);
              changed = true;
              continue;
            }
            if (!st.m.destCompute) {
              const dest = s ? this.schedule(s, sc.dest ?? null) : null;
              if (!dest) {
                st.script = { ...sc, details: sc.details ?? 'No valid host was found. There are not enough hosts available.' };
                this.failMigration(st, queuedEnd, false);
                changed = true;
                continue;
              }
              st.m.destCompute = dest;
              st.m.destHost = dest;
              st.m.destNode = this.hypervisorName(dest);
            }
            const busy = this.migs.some((o) => o !== st && o.m.status === 'running' && o.m.sourceCompute === st.m.sourceCompute);
            if (busy) continue;
            const slotFree = Math.max(
              queuedEnd,
              ...this.migs.filter((o) => o !== st && o.m.sourceCompute === st.m.sourceCompute && o.runStart !== null && !this.unfinished(o.m)).map((o) => Date.parse(o.m.updatedAt ?? '0')),
            );
            st.m.status = 'running';
            st.runStart = slotFree;
            changed = true;
          }
          if (st.m.status === 'running') {
            const runEnd = st.runStart! + (sc.runMs ?? 20_000);
            if (st.abortedAt !== null) {
              st.m.status = 'cancelled';
              st.m.updatedAt = new Date(st.abortedAt).toISOString();
              if (s) {
                s.taskState = null;
                s.status = st.originalStatus;
              }
              changed = true;
              continue;
            }
            const done = st.forcedAt !== null ? st.forcedAt : sc.outcome === 'stall' ? null : runEnd;
            if (done === null || now < done) continue;
            if (sc.outcome === 'error-to-ERROR') {
              this.failMigration(st, done, true);
            } else {
              st.m.status = 'completed';
              st.m.updatedAt = new Date(done).toISOString();
              if (s) {
                s.host = st.m.destCompute;
                s.hypervisorHostname = st.m.destNode;
                s.taskState = null;
                s.status = st.originalStatus;
              }
            }
            changed = true;
          }
        } else if (st.m.migrationType === 'migration') {
          const runEnd = st.createdAt + (sc.runMs ?? 20_000);
          if (st.m.status === 'migrating' && now >= runEnd) {
            if (sc.outcome === 'error' || sc.outcome === 'error-to-ERROR') {
              this.failMigration(st, runEnd, sc.outcome === 'error-to-ERROR');
            } else {
              st.m.status = 'finished';
              if (s) {
                s.host = st.m.destCompute;
                s.status = 'VERIFY_RESIZE';
                s.vmState = 'resized';
                s.taskState = null;
              }
            }
            changed = true;
          }
        }
      }
      // offloads
      for (const s of this.servers.values()) {
        const at = (s.metadata['fake:offloadAt'] ?? '') as string;
        if (s.taskState === 'shelving_offloading' && at && now >= Number(at)) {
          s.taskState = null;
          s.status = 'SHELVED_OFFLOADED';
          s.vmState = 'shelved_offloaded';
          s.host = null;
          s.hypervisorHostname = null;
          delete s.metadata['fake:offloadAt'];
          changed = true;
        }
      }
      if (!changed) break;
    }
  }

  private newAction(serverId: string, action: string): string {
    const requestId = `req-${this.nextReq++}`;
    const list = this.actions.get(serverId) ?? [];
    list.push({ action, requestId, serverId, message: null, startTime: new Date(this.clock.now()).toISOString(), updatedAt: null, events: [] });
    this.actions.set(serverId, list);
    return requestId;
  }

  private startMigration(server: Server, type: 'live-migration' | 'migration', host: string | null): Accepted {
    const attempt = this.migs.filter((m) => m.m.serverId === server.id).length;
    const script = this.scriptFor(server.id, attempt);
    const requestId = this.newAction(server.id, type === 'live-migration' ? 'live-migration' : 'migrate');
    const id = this.nextMigId++;
    const now = this.clock.now();
    const m: Migration = {
      id,
      uuid: `mig-${id}`,
      serverId: server.id,
      migrationType: type,
      status: type === 'live-migration' ? 'queued' : 'migrating',
      sourceCompute: server.host,
      destCompute: null,
      sourceNode: server.hypervisorHostname,
      destNode: null,
      destHost: null,
      projectId: server.projectId,
      userId: server.userId,
      createdAt: new Date(now).toISOString(),
      updatedAt: null,
    };
    const st: MigState = { m, script, createdAt: now, runStart: null, originalStatus: server.status, forcedAt: null, abortedAt: null, requestId };
    if (type === 'migration') {
      const dest = this.schedule(server, host ?? script.dest ?? null);
      if (!dest) {
        this.migs.push(st);
        this.failMigration(st, now, false);
        return { requestId };
      }
      m.destCompute = dest;
      m.destHost = dest;
      server.taskState = 'resize_migrating';
      server.status = 'RESIZE';
    } else {
      if (host) {
        const dest = this.schedule(server, host);
        if (!dest) {
          st.script = { ...script, outcome: 'error', details: `No valid host was found. Host ${host} is not usable.` };
        } else {
          m.destCompute = dest;
          m.destHost = dest;
          m.destNode = this.hypervisorName(dest);
        }
      }
      server.taskState = 'migrating';
      server.status = 'MIGRATING';
    }
    this.migs.push(st);
    return { requestId };
  }

  private mig(serverId: string, migrationId: number): MigState {
    const st = this.migs.find((x) => x.m.id === migrationId && x.m.serverId === serverId);
    if (!st) throw httpError('not-found', 404, `migration ${migrationId} not found`);
    return st;
  }

  private hypervisorsList(withServers: boolean): Hypervisor[] {
    return this.services.map((svc) => {
      const h: Hypervisor = {
        id: `hv-${svc.host}`,
        hostname: this.hypervisorName(svc.host),
        serviceHost: svc.host,
        state: svc.state,
        status: svc.status,
        hypervisorType: 'QEMU',
        hostIp: this.hostIps.has(svc.host) ? this.hostIps.get(svc.host)! : `192.0.2.${10 + this.services.indexOf(svc)}`,
      };
      if (withServers) {
        h.servers = [...this.servers.values()].filter((s) => s.host === svc.host).map((s) => ({ id: s.id, name: s.name }));
      }
      return h;
    });
  }

  // ---------------------------------------------------------------- ComputeApi

  readonly compute: ComputeApi = {
    microversion: '2.93',
    listServices: (q, _o?: CallOptions) =>
      this.call('listServices', [q], () => this.services.filter((s) => (q.host === undefined || s.host === q.host) && (q.binary === undefined || s.binary === q.binary))),
    disableService: (svc, reason) =>
      this.call('disableService', [svc.host, reason], () => {
        const s = this.service(svc.host);
        s.status = 'disabled';
        s.disabledReason = reason;
        return s;
      }),
    enableService: (svc) =>
      this.call('enableService', [svc.host], () => {
        const s = this.service(svc.host);
        s.status = 'enabled';
        s.disabledReason = null;
        return s;
      }),
    findHypervisors: (host, o) =>
      this.call('findHypervisors', [host, o?.withServers ?? false], () =>
        this.hypervisorsList(o?.withServers ?? false).filter((h) => h.serviceHost === host || h.hostname === host || h.hostname.split('.')[0] === host),
      ),
    listHypervisors: () => this.call('listHypervisors', [], () => this.hypervisorsList(false)),
    listServersOnHost: (host) => this.call('listServersOnHost', [host], () => [...this.servers.values()].filter((s) => s.host === host)),
    listServers: (q) => this.call('listServers', [q], () => [...this.servers.values()].filter((s) => q.host === undefined || s.host === q.host)),
    getServer: (id) =>
      this.call('getServer', [id], () => {
        const s = this.servers.get(id);
        if (!s) throw httpError('not-found', 404, `server ${id} not found`);
        return s;
      }),
    liveMigrate: (id, args) =>
      this.call('liveMigrate', [id, args.host ?? null], () => {
        const s = this.server(id);
        if (s.taskState) throw httpError('conflict', 409, `Cannot 'os-migrateLive' instance ${id} while it is in task_state ${s.taskState}`);
        if (s.status !== 'ACTIVE' && s.status !== 'PAUSED') throw httpError('conflict', 409, `Cannot 'os-migrateLive' instance ${id} while it is in vm_state ${s.vmState}`);
        return this.startMigration(s, 'live-migration', args.host ?? null);
      }),
    coldMigrate: (id, args) =>
      this.call('coldMigrate', [id, args.host ?? null], () => {
        const s = this.server(id);
        if (s.taskState) throw httpError('conflict', 409, `Cannot 'migrate' instance ${id} while it is in task_state ${s.taskState}`);
        return this.startMigration(s, 'migration', args.host ?? null);
      }),
    confirmResize: (id) =>
      this.call('confirmResize', [id], () => {
        const s = this.server(id);
        const st = [...this.migs].reverse().find((x) => x.m.serverId === id && x.m.status === 'finished');
        if (!st || s.status !== 'VERIFY_RESIZE') throw httpError('conflict', 409, 'Instance is not in VERIFY_RESIZE');
        st.m.status = 'confirmed';
        s.status = st.originalStatus;
        s.vmState = VM_STATE[st.originalStatus] ?? s.vmState;
        return { requestId: this.newAction(id, 'confirmResize') };
      }),
    shelveOffload: (id) =>
      this.call('shelveOffload', [id], () => {
        const s = this.server(id);
        const sc = this.scriptFor(id, 0);
        s.taskState = 'shelving_offloading';
        s.metadata['fake:offloadAt'] = String(this.clock.now() + (sc.runMs ?? 5000));
        return { requestId: this.newAction(id, 'shelveOffload') };
      }),
    listServerMigrations: (serverId) =>
      this.call('listServerMigrations', [serverId], () => this.migs.filter((x) => x.m.serverId === serverId && x.m.status === 'running').map((x) => this.progress(x))),
    getServerMigration: (serverId, migrationId) =>
      this.call('getServerMigration', [serverId, migrationId], () => {
        const st = this.mig(serverId, migrationId);
        if (!['queued', 'preparing', 'running', 'post-migrating'].includes(st.m.status)) throw httpError('not-found', 404, 'not in progress');
        return this.progress(st);
      }),
    forceCompleteMigration: (serverId, migrationId) =>
      this.call('forceCompleteMigration', [serverId, migrationId], () => {
        const st = this.mig(serverId, migrationId);
        if (st.m.status !== 'running') throw httpError('bad-request', 400, 'not running');
        st.forcedAt = this.clock.now() + 1000;
        return { requestId: null };
      }),
    abortMigration: (serverId, migrationId) =>
      this.call('abortMigration', [serverId, migrationId], () => {
        const st = this.mig(serverId, migrationId);
        if (!['queued', 'running', 'preparing'].includes(st.m.status)) throw httpError('bad-request', 400, 'not abortable');
        st.abortedAt = this.clock.now();
        return { requestId: null };
      }),
    listMigrations: (q: MigrationQuery) =>
      this.call('listMigrations', [q], () =>
        this.migs
          .map((x) => x.m)
          .filter((m) => q.host === undefined || m.sourceCompute === q.host || m.destCompute === q.host)
          .filter((m) => q.migrationType === undefined || m.migrationType === q.migrationType)
          .filter((m) => q.sourceCompute === undefined || m.sourceCompute === q.sourceCompute)
          .filter((m) => q.instanceUuid === undefined || m.serverId === q.instanceUuid)
          .filter((m) => q.status === undefined || m.status === q.status),
      ),
    listInstanceActions: (serverId) => this.call('listInstanceActions', [serverId], () => (this.actions.get(serverId) ?? []).map((a) => ({ ...a, events: [] }))),
    getInstanceAction: (serverId, requestId) =>
      this.call('getInstanceAction', [serverId, requestId], () => {
        const a = (this.actions.get(serverId) ?? []).find((x) => x.requestId === requestId);
        if (!a) throw httpError('not-found', 404, 'no such action');
        return a;
      }),
    listServerGroups: () => this.call('listServerGroups', [], () => this.groups),
    getServerGroup: (id) =>
      this.call('getServerGroup', [id], () => {
        const g = this.groups.find((x) => x.id === id);
        if (!g) throw httpError('not-found', 404, 'no group');
        return g;
      }),
    listAvailabilityZones: () =>
      this.call('listAvailabilityZones', [], (): AvailabilityZone[] => {
        const zones = new Map<string, string[]>();
        for (const s of this.services) if (s.zone) zones.set(s.zone, [...(zones.get(s.zone) ?? []), s.host]);
        return [...zones].map(([name, hosts]) => ({ name, available: true, hosts }));
      }),
    listAggregates: () => this.call('listAggregates', [], () => this.aggregates),
    getFlavor: (id) =>
      this.call('getFlavor', [id], (): Flavor => {
        throw httpError('not-found', 404, `flavor ${id}`);
      }),
  };

  private progress(st: MigState): ServerMigration {
    const total = st.script.memoryBytes ?? 8 * 1024 ** 3;
    const now = this.clock.now();
    let frac = 0;
    if (st.runStart !== null) frac = Math.min(1, (now - st.runStart) / (st.script.runMs ?? 20_000));
    if (st.script.outcome === 'stall') frac = Math.min(frac, st.script.stallAt ?? 0.5);
    const processed = Math.round(total * frac);
    return {
      id: st.m.id,
      uuid: st.m.uuid,
      serverId: st.m.serverId,
      status: st.m.status,
      sourceCompute: st.m.sourceCompute,
      destCompute: st.m.destCompute,
      sourceNode: st.m.sourceNode,
      destNode: st.m.destNode,
      destHost: st.m.destHost,
      memoryTotalBytes: total,
      memoryProcessedBytes: processed,
      memoryRemainingBytes: total - processed,
      diskTotalBytes: 0,
      diskProcessedBytes: 0,
      diskRemainingBytes: 0,
      createdAt: st.m.createdAt,
      updatedAt: st.m.updatedAt,
    };
  }

  // ---------------------------------------------------------------- PlacementApi

  private providers(): ResourceProvider[] {
    return this.services
      .filter((s) => this.inventories.has(s.host))
      .map((s) => ({ uuid: `rp-${s.host}`, name: this.hypervisorName(s.host), generation: 1, rootProviderUuid: `rp-${s.host}`, parentProviderUuid: null }));
  }

  private hostOfProvider(uuid: string): string {
    const host = uuid.replace(/^rp-/, '');
    if (!this.inventories.has(host)) throw httpError('not-found', 404, `provider ${uuid}`);
    return host;
  }

  readonly placement: PlacementApi = {
    microversion: '1.39',
    listProviders: (q) => this.call('listProviders', [q], () => this.providers().filter((p) => (q.name === undefined || p.name === q.name) && (q.uuid === undefined || p.uuid === q.uuid))),
    getProvider: (uuid) =>
      this.call('getProvider', [uuid], () => {
        const p = this.providers().find((x) => x.uuid === uuid);
        if (!p) throw httpError('not-found', 404, 'no provider');
        return p;
      }),
    getInventories: (uuid) => this.call('getInventories', [uuid], () => this.inventories.get(this.hostOfProvider(uuid))!),
    getUsages: (uuid) => this.call('getUsages', [uuid], (): Usages => this.usedOn(this.hostOfProvider(uuid))),
    getProviderAllocations: (uuid) =>
      this.call('getProviderAllocations', [uuid], (): ProviderAllocations => {
        const host = this.hostOfProvider(uuid);
        const out: ProviderAllocations = {};
        for (const s of this.servers.values()) if (s.host === host) out[s.id] = requestForServer(s);
        for (const st of this.migs) {
          if (!this.unfinished(st.m)) continue;
          const s = this.servers.get(st.m.serverId);
          if (s && st.m.sourceCompute === host && s.host !== host) out[st.m.uuid!] = requestForServer(s);
        }
        return out;
      }),
    getConsumerAllocations: (consumer) => this.call('getConsumerAllocations', [consumer], (): ConsumerAllocations => ({ allocations: {}, projectId: null, userId: null, consumerGeneration: null })),
    getTraits: (uuid) => this.call('getTraits', [uuid], () => [] as string[]),
    getAllocationCandidates: (q) => this.call('getAllocationCandidates', [q], (): AllocationCandidates => ({ allocationRequests: [], providerSummaries: {} })),
  };
}

export function unknownOutcome(): HttpError {
  return new HttpError('unknown-outcome', 'POST timed out: outcome unknown', { status: 0, method: 'POST', url: 'fake://', service: 'compute' });
}

export function networkError(): HttpError {
  return new HttpError('network', 'connect ECONNREFUSED', { status: 0, method: 'GET', url: 'fake://', service: 'compute' });
}

export function conflict(message: string): HttpError {
  return httpError('conflict', 409, message);
}

export { HostmaintError };
