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

export { VirtualClock, scaledClock, realClock, isVirtualClock };
export type { VirtualClockOptions } from './clock.js';
export { loadScenario, validateScenario, ScenarioError, SCENARIO_SCHEMA, SHIPPED_SCENARIOS, generateBig, scenariosDir } from './scenario.js';
export type { Scenario, HostSpec, InstanceSpec, FlavorSpec, ServerGroupSpec, ProjectSpec, MigrationModel } from './scenario.js';
export type { FaultSpec, RequestMatch, RequestFault, MigrationFault } from './faults.js';
export { FAULT_SCHEMA } from './faults.js';
export type { RequestRecord, RequestFilter } from './http.js';
export { RequestLog } from './http.js';
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
  stop(): Promise<void>;
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

  const applyFault = faultApplier(cloud, faults, tokens);
  for (const f of [...(scenario.faults ?? []), ...(opts.faults ?? [])]) applyFault(f);

  const keystone = keystoneRoutes(cloud.identity, tokens);
  const nova = novaRoutes(cloud, tokens);
  const placement = placementRoutes(cloud.maxPlacementVersion, tokens, cloud.nova.placement, cloud.aggregates);
  const glance = glanceRoutes(cloud.images, tokens);
  const state = emulatorState(cloud);
  const admin = adminRoutes({ scenario, clock, cloud, log, state, faults, tokens, applyFault });
  const dispatch = dispatcher({ keystone, nova, placement, glance, admin });

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
