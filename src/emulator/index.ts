/**
 * hostmaint's emulated OpenStack: Keystone v3 + Nova + Placement (+ a minimal
 * Glance image list) over real HTTP on loopback, driven by a scenario file and
 * a clock. See docs/emulator.md.
 *
 *   const emu = await startEmulator({ scenario: 'demo', clock: new VirtualClock() });
 *   // emu.authUrl, emu.credentials, emu.cloudsYaml('demo'), emu.requests, emu.state ...
 *   await emu.stop();
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { nullLogger } from '../core/log.js';
import { VirtualClock, isVirtualClock, realClock, scaledClock } from './clock.js';
import type { FaultSpec } from './faults.js';
import { FAULT_SCHEMA, FaultBook, isMigrationFault, isRequestFault } from './faults.js';
import type { EmuRequest, EmuResponse, Route, RunningServer } from './http.js';
import { RequestLog, err, route, startHttpServer } from './http.js';
import { glanceRoutes } from './images.js';
import { TokenStore, keystoneRoutes } from './keystone.js';
import type { HostState, InstanceAction, MigrationState, ServerState } from './model.js';
import { Cloud } from './cloud.js';
import { serverStatus } from './model.js';
import { novaRoutes } from './compute/index.js';
import { placementRoutes } from './placement/index.js';
import type { ConsumerAllocation } from './placement/allocations.js';
import { traits } from './placement/providers.js';
import { Rng } from './rng.js';
import type { Scenario } from './scenario.js';
import { loadScenario, validateScenario } from './scenario.js';
import { Ajv } from 'ajv';

export { VirtualClock, scaledClock, realClock, isVirtualClock };
export type { VirtualClockOptions } from './clock.js';
export { loadScenario, validateScenario, ScenarioError, SCENARIO_SCHEMA, SHIPPED_SCENARIOS, generateBig, scenariosDir } from './scenario.js';
export type { Scenario, HostSpec, InstanceSpec, FlavorSpec, ServerGroupSpec, ProjectSpec, MigrationModel } from './scenario.js';
export type { FaultSpec, RequestMatch, RequestFault, MigrationFault } from './faults.js';
export { FAULT_SCHEMA } from './faults.js';
export type { RequestRecord, RequestFilter } from './http.js';
export { RequestLog } from './http.js';

export interface StartEmulatorOptions {
  /** A scenario object, a path to a YAML/JSON file, or the name of a shipped scenario ("demo"). */
  scenario: Scenario | string;
  /** Default: a new VirtualClock (auto-advancing). Pass realClock or scaledClock(n) for real time. */
  clock?: Clock;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Faults in addition to the scenario's. */
  faults?: FaultSpec[];
  logger?: Logger;
  /** Seed for ids and fault dice. Default 1. */
  seed?: number;
}

export interface EmulatorCredentials {
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
}

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

export interface Emulator {
  /** Keystone v3 URL, e.g. http://127.0.0.1:40123/v3 */
  readonly authUrl: string;
  /** Base URL, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly port: number;
  readonly credentials: EmulatorCredentials;
  readonly regionName: string;
  readonly scenario: Scenario;
  readonly clock: Clock;
  readonly requests: RequestLog;
  readonly state: EmulatorState;
  /** A clouds.yaml document with one cloud entry named `name`. */
  cloudsYaml(name?: string): string;
  /** Add a fault now (same JSON as the scenario's `faults:` and POST /_emulator/faults). */
  inject(fault: FaultSpec): void;
  /** Remove every request and migration fault. */
  clearFaults(): void;
  /** Revoke every token issued so far (clients must re-authenticate). */
  revokeTokens(): void;
  /** Evaluate the model at the clock's current time (done automatically on every request and state read). */
  sync(): void;
  stop(): Promise<void>;
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

let faultValidator: ReturnType<Ajv['compile']> | null = null;
function validateFault(f: unknown): FaultSpec {
  faultValidator ??= new Ajv({ allErrors: true, strict: false }).compile(FAULT_SCHEMA);
  if (!faultValidator(f)) {
    const kind = f && typeof f === 'object' ? (f as { kind?: unknown }).kind : undefined;
    const errs = (faultValidator.errors ?? []).filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'const');
    const msg = errs.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.keyword === 'additionalProperties' ? ` "${String(e.params['additionalProperty'])}"` : ''}`);
    throw new Error(`invalid fault ${JSON.stringify(kind)}: ${msg.slice(0, 3).join('; ') || 'unknown kind'}`);
  }
  return f as FaultSpec;
}

/** Start an emulated cloud on loopback. */
export async function startEmulator(opts: StartEmulatorOptions): Promise<Emulator> {
  const scenario = typeof opts.scenario === 'string' ? loadScenario(opts.scenario) : validateScenario(opts.scenario);
  const clock = opts.clock ?? new VirtualClock();
  const logger = opts.logger ?? nullLogger;
  const seed = opts.seed ?? 1;
  const faults = new FaultBook(new Rng(seed ^ 0x5eed));
  const cloud = new Cloud({ scenario, clock, seed, faults });
  const tokens = new TokenStore(cloud.identity, cloud.engine);
  const log = new RequestLog();
  const reqIds = new Rng(seed ^ 0xabcdef);

  const applyFault = (f0: FaultSpec) => {
    const f = validateFault(f0);
    cloud.sync();
    if (isRequestFault(f)) faults.addRequestFault(f);
    else if (isMigrationFault(f)) faults.addMigrationFault(f);
    else if (f.kind === 'host-down') {
      const h = cloud.hosts.get(f.host);
      if (!h) throw new Error(`host-down fault: unknown host "${f.host}"`);
      cloud.stopHeartbeats(h, f.at ?? cloud.now + (f.in_ms ?? 0), f.immediate ?? false, f.up_after_ms ?? null);
    } else if (f.kind === 'revoke-tokens') tokens.revokeAll();
    else if (f.kind === 'token-lifetime') cloud.identity.tokenLifetimeS = f.seconds;
  };
  for (const f of [...(scenario.faults ?? []), ...(opts.faults ?? [])]) applyFault(f);

  const keystone = keystoneRoutes(cloud.identity, tokens);
  const nova = novaRoutes(cloud, tokens);
  const placement = placementRoutes(cloud.maxPlacementVersion, tokens, cloud.nova.placement, cloud.aggregates);

  const glance = glanceRoutes(cloud.images, tokens);

  const state: EmulatorState = {
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

  // -------------------------------------------------------------- admin API (/_emulator)
  const adminRoutes: Route[] = [
    route('GET', '/', () => ({
      status: 200,
      body: {
        scenario: scenario.name ?? null,
        now: new Date(cloud.now).toISOString(),
        virtualClock: isVirtualClock(clock),
        hosts: cloud.hosts.size,
        servers: [...cloud.servers.values()].filter((s) => !s.deleted).length,
        migrations: cloud.migrations.size,
        requests: log.length,
      },
    })),
    route('GET', '/state', () => ({ status: 200, body: { hosts: state.hosts(), servers: state.servers(), migrations: state.migrations() } })),
    route('GET', '/requests', (req) => {
      const f = {
        ...(req.query.get('method') ? { method: req.query.get('method')! } : {}),
        ...(req.query.get('action') ? { action: req.query.get('action')! } : {}),
        ...(req.query.get('path') ? { path: req.query.get('path')! } : {}),
      };
      return { status: 200, body: { requests: log.filter(f).filter((r) => r.service !== 'emulator') } };
    }),
    route('DELETE', '/requests', () => (log.clear(), { status: 204 })),
    route('GET', '/faults', () => ({ status: 200, body: { faults: faults.list() } })),
    route('POST', '/faults', (req) => {
      const list = Array.isArray(req.body) ? req.body : [req.body];
      try {
        for (const f of list) applyFault(f as FaultSpec);
      } catch (e) {
        return { status: 400, body: { error: { code: 400, message: (e as Error).message, title: 'Bad Request' } } };
      }
      return { status: 201, body: { faults: faults.list() } };
    }),
    route('DELETE', '/faults', () => (faults.clear(), { status: 204 })),
    route('POST', '/revoke-tokens', () => (tokens.revokeAll(), { status: 204 })),
    route('POST', '/clock/advance', (req) => {
      if (!isVirtualClock(clock)) return { status: 409, body: { error: { code: 409, message: 'not a virtual clock', title: 'Conflict' } } };
      const ms = Number((req.body as { ms?: unknown } | undefined)?.ms ?? 0);
      clock.advance(ms);
      cloud.sync();
      return { status: 200, body: { now: new Date(clock.now()).toISOString() } };
    }),
  ];

  const match = (routes: Route[], req: EmuRequest): EmuResponse | Promise<EmuResponse> | null => {
    let pathMatched = false;
    for (const r of routes) {
      const m = r.pattern.exec(req.servicePath);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      r.keys.forEach((k, i) => (req.params[k] = decodeURIComponent(m[i + 1] ?? '')));
      return r.handler(req);
    }
    if (pathMatched) {
      const svc = req.service === 'root' || req.service === 'emulator' ? 'identity' : req.service;
      return err(svc, 405, 'The method is not allowed for the requested URL.', req.requestId);
    }
    return null;
  };

  const dispatch = async (req: EmuRequest): Promise<EmuResponse> => {
    let r: EmuResponse | Promise<EmuResponse> | null = null;
    switch (req.service) {
      case 'identity':
      case 'root':
        r = match(keystone, { ...req, servicePath: req.servicePath === '' ? '/' : req.servicePath } as EmuRequest);
        if (!r && req.service === 'root') r = match(keystone, req);
        break;
      case 'compute':
        if (req.path === '/compute' || req.path === '/compute/') r = nova.versions(req);
        else r = match(nova.routes, req);
        break;
      case 'placement':
        r = match(placement, req);
        break;
      case 'image':
        r = match(glance, req);
        break;
      case 'emulator':
        r = match(adminRoutes, req);
        break;
    }
    if (r) return r;
    const svc = req.service === 'root' || req.service === 'emulator' ? 'identity' : req.service;
    return err(svc, 404, 'The resource could not be found.', req.requestId);
  };

  let running: RunningServer;
  try {
    running = await startHttpServer(
      {
        clock,
        faults,
        log,
        logger,
        newRequestId: () => `req-${reqIds.uuid()}`,
        dispatch,
        beforeRequest: () => cloud.sync(),
      },
      opts.host ?? '127.0.0.1',
      opts.port ?? 0,
    );
  } catch (e) {
    throw new Error(`emulator: cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}: ${(e as Error).message}`, { cause: e });
  }
  logger.info('emulator started', { url: running.baseUrl, scenario: scenario.name ?? null, hosts: cloud.hosts.size, servers: cloud.servers.size });

  const credentials: EmulatorCredentials = {
    username: cloud.identity.adminUser.name,
    password: cloud.identity.adminPassword,
    projectName: cloud.identity.adminProject.name,
    userDomainName: cloud.identity.adminUser.domainName,
    projectDomainName: cloud.identity.adminProject.domainName,
  };

  const emulator: Emulator = {
    authUrl: `${running.baseUrl}/v3`,
    url: running.baseUrl,
    port: running.port,
    credentials,
    regionName: cloud.identity.region,
    scenario,
    clock,
    requests: log,
    state,
    cloudsYaml(name = 'demo') {
      return [
        'clouds:',
        `  ${name}:`,
        '    auth:',
        `      auth_url: ${running.baseUrl}/v3`,
        `      username: ${credentials.username}`,
        `      password: ${credentials.password}`,
        `      project_name: ${credentials.projectName}`,
        `      user_domain_name: ${credentials.userDomainName}`,
        `      project_domain_name: ${credentials.projectDomainName}`,
        `    region_name: ${cloud.identity.region}`,
        '    interface: public',
        '    identity_api_version: 3',
        '',
      ].join('\n');
    },
    inject: (f) => applyFault(f),
    clearFaults: () => faults.clear(),
    revokeTokens: () => {
      cloud.sync();
      tokens.revokeAll();
    },
    sync: () => cloud.sync(),
    async stop() {
      await running.close();
      logger.info('emulator stopped', { url: running.baseUrl, requests: log.length });
    },
  };
  return emulator;
}
