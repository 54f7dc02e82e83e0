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
import { adminRoutes, faultApplier } from './admin.js';
import { VirtualClock, isVirtualClock, realClock, scaledClock } from './clock.js';
import { Cloud } from './cloud.js';
import { novaRoutes } from './compute/index.js';
import type { FaultSpec } from './faults.js';
import { FaultBook } from './faults.js';
import type { RunningServer } from './http.js';
import { RequestLog, startHttpServer } from './http.js';
import { glanceRoutes } from './images.js';
import { TokenStore, keystoneRoutes } from './keystone.js';
import { placementRoutes } from './placement/index.js';
import { Rng } from './rng.js';
import { dispatcher } from './router.js';
import type { Scenario } from './scenario.js';
import { loadScenario, validateScenario } from './scenario.js';
import type { EmulatorState } from './state.js';
import { emulatorState } from './state.js';
import type { EmulatorJournal, JournalEntry } from './journal.js';
import { changesModel, journalEntry } from './journal.js';
import type { EmuRequest, EmuResponse } from './http.js';
import { serviceOf } from './http.js';

export { VirtualClock, scaledClock, realClock, isVirtualClock };
export type { VirtualClockOptions } from './clock.js';
export { loadScenario, validateScenario, ScenarioError, SCENARIO_SCHEMA, SHIPPED_SCENARIOS, generateBig, scenariosDir } from './scenario.js';
export type { Scenario, HostSpec, InstanceSpec, FlavorSpec, ServerGroupSpec, ProjectSpec, MigrationModel } from './scenario.js';
export type { FaultSpec, RequestMatch, RequestFault, MigrationFault } from './faults.js';
export { FAULT_SCHEMA } from './faults.js';
export type { RequestRecord, RequestFilter } from './http.js';
export { RequestLog } from './http.js';
export type { EmulatorJournal, JournalEntry } from './journal.js';
export { isJournal } from './journal.js';
export type { EmulatorState, HostSnapshot, ServerSnapshot, MigrationSnapshot } from './state.js';

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
  /**
   * Rebuild a cloud saved earlier (emulator.journal()): its changes are replayed at their model
   * times before the emulator serves. Give it the same scenario and a clock that starts at or
   * after the journal's savedAt. Its seed wins over `seed`.
   */
  journal?: EmulatorJournal;
}

export interface EmulatorCredentials {
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
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
  /** What rebuilds this cloud in another process (startEmulator({ journal })): every change so far, with its model time. */
  journal(): EmulatorJournal;
  stop(): Promise<void>;
}

/** Start an emulated cloud on loopback. */
export async function startEmulator(opts: StartEmulatorOptions): Promise<Emulator> {
  const scenario = typeof opts.scenario === 'string' ? loadScenario(opts.scenario) : validateScenario(opts.scenario);
  const clock = opts.clock ?? new VirtualClock();
  const logger = opts.logger ?? nullLogger;
  const restored = opts.journal ?? null;
  const seed = restored?.seed ?? opts.seed ?? 1;
  const generation = restored ? restored.generation + 1 : 0;
  const faults = new FaultBook(new Rng(seed ^ 0x5eed));
  const cloud = new Cloud({ scenario, clock, seed, faults, ...(restored ? { startAt: restored.startedAt } : {}) });
  const tokens = new TokenStore(cloud.identity, cloud.engine);
  const log = new RequestLog();
  const reqIds = new Rng((seed ^ 0xabcdef) + generation * 7919);
  const entries: JournalEntry[] = [];

  const applyFault = faultApplier(cloud, faults, tokens);
  for (const f of [...(scenario.faults ?? []), ...(opts.faults ?? [])]) applyFault(f);

  const keystone = keystoneRoutes(cloud.identity, tokens);
  const nova = novaRoutes(cloud, tokens);
  const placement = placementRoutes(cloud.maxPlacementVersion, tokens, cloud.nova.placement, cloud.aggregates);
  const glance = glanceRoutes(cloud.images, tokens);
  const state = emulatorState(cloud);
  const admin = adminRoutes({ scenario, clock, cloud, log, state, faults, tokens, applyFault });
  const route = dispatcher({ keystone, nova, placement, glance, admin });
  // Every request that may change the model goes into the journal, at the model time it was handled.
  const dispatch = (req: EmuRequest): Promise<EmuResponse> => {
    if (changesModel(req.method, req.service, req.servicePath)) entries.push(journalEntry(req, cloud.now, req.query.toString()));
    return route(req);
  };
  if (restored) await replay(restored, { cloud, tokens, dispatch });

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
    journal: () => ({
      version: 1,
      scenario: typeof opts.scenario === 'string' ? opts.scenario : (scenario.name ?? 'scenario'),
      seed,
      startedAt: cloud.startedAt,
      savedAt: cloud.sync(),
      generation,
      entries: [...entries],
    }),
    async stop() {
      await running.close();
      logger.info('emulator stopped', { url: running.baseUrl, requests: log.length });
    },
  };
  return emulator;
}

/** Replay a journal's changes, each at its model time, as the admin (a fresh token each: time passes). */
async function replay(journal: EmulatorJournal, deps: { cloud: Cloud; tokens: TokenStore; dispatch: (req: EmuRequest) => Promise<EmuResponse> }): Promise<void> {
  const { cloud, tokens, dispatch } = deps;
  for (const e of journal.entries) {
    cloud.engine.advance(e.t);
    const token = tokens.issue(cloud.identity.adminUser, cloud.identity.adminProject, ['password']);
    const url = new URL(e.url, 'http://emulator');
    const { service, servicePath } = serviceOf(url.pathname);
    let body: unknown = undefined;
    try {
      body = e.rawBody ? JSON.parse(e.rawBody) : undefined;
    } catch {
      continue; // it was answered 400 and changed nothing
    }
    await dispatch({
      method: e.method,
      path: url.pathname,
      servicePath,
      service,
      query: url.searchParams,
      headers: { ...e.headers, 'x-auth-token': token.id },
      body,
      rawBody: e.rawBody,
      requestId: e.requestId,
      params: {},
      baseUrl: '',
      note: {},
    });
  }
  cloud.engine.advance(journal.savedAt);
}
