/**
 * The emulated cloud's state and behaviour, independent of HTTP: one `Cloud`
 * builds the resource modules from the scenario and hands each the others it
 * works with. Keystone's users and projects are in keystone.ts; Nova's
 * services, servers, groups, aggregates, flavors, instance actions and
 * migrations in compute/; Placement's allocations in placement/. Everything
 * that takes time (boot, live and cold migration, stop/pause/..., heartbeats)
 * is an event in an `Engine` evaluated lazily against the clock (see engine.ts
 * and clock.ts).
 */
import type { Clock } from '../core/clock.js';
import { InstanceActions } from './compute/actions.js';
import { Aggregates } from './compute/aggregates.js';
import { ColdMigrations } from './compute/cold-migration.js';
import { Flavors } from './compute/flavors.js';
import { ServerGroups } from './compute/groups.js';
import { LiveMigrations } from './compute/live-migration.js';
import { Migrations } from './compute/migrations.js';
import type { NovaParts } from './compute/parts.js';
import { Scheduler } from './compute/scheduler.js';
import { ServerLifecycle } from './compute/server-lifecycle.js';
import { Servers } from './compute/servers.js';
import { Services } from './compute/services.js';
import { Engine } from './engine.js';
import type { FaultBook } from './faults.js';
import { Images } from './images.js';
import type { AppCredState } from './keystone.js';
import { Identity } from './keystone.js';
import type { HostState, MigrationState, ModelTimings, ServerState } from './model.js';
import { parseVersion, timingsFrom } from './model.js';
import { Allocations } from './placement/allocations.js';
import { Rng } from './rng.js';
import type { Scenario } from './scenario.js';
import { DEFAULT_FLAVORS } from './scenario.js';

export interface CloudOptions {
  scenario: Scenario;
  clock: Clock;
  seed: number;
  faults: FaultBook;
  /** Model time the cloud was created at (default: the clock's now); a cloud rebuilt from its journal keeps its first one. */
  startAt?: number;
}

export class Cloud {
  readonly scenario: Scenario;
  readonly clock: Clock;
  readonly engine: Engine;
  readonly rng: Rng;
  readonly faults: FaultBook;
  readonly timings: ModelTimings;
  readonly maxComputeVersion: [number, number];
  readonly maxPlacementVersion: [number, number];
  readonly startedAt: number;

  /** Keystone: users, projects, application credentials, the admin. */
  readonly identity: Identity;
  /** Nova's model (services, servers, groups, instance actions, migrations, scheduler) and Placement's allocations. */
  readonly nova: NovaParts;
  readonly flavors: Flavors;
  readonly images: Images;
  readonly aggregates: Aggregates;
  readonly live: LiveMigrations;
  readonly cold: ColdMigrations;
  readonly lifecycle: ServerLifecycle;

  // The maps tests read (and change): compute hosts by name, servers by id, migrations by id, application credentials by id.
  readonly hosts: Map<string, HostState>;
  readonly servers: Map<string, ServerState>;
  readonly migrations: Map<number, MigrationState>;
  readonly appCreds: Map<string, AppCredState>;

  constructor(opts: CloudOptions) {
    const sc = opts.scenario;
    this.scenario = sc;
    this.clock = opts.clock;
    this.faults = opts.faults;
    this.rng = new Rng(opts.seed);
    this.startedAt = opts.startAt ?? opts.clock.now();
    this.engine = new Engine(this.startedAt, opts.clock);
    this.timings = timingsFrom(sc.migration);
    this.maxComputeVersion = parseVersion(sc.nova?.max_microversion ?? '2.93');
    this.maxPlacementVersion = parseVersion(sc.placement?.max_microversion ?? '1.39');
    // The order the parts are built in is the order they draw ids from the seeded Rng.
    this.identity = new Identity(sc, this.rng);
    const services = new Services(sc, this.rng, this.engine, this.startedAt);
    const placement = new Allocations(services.hostsByUuid);
    const servers = new Servers(services.hosts, this.engine);
    this.aggregates = new Aggregates(sc, this.rng, this.engine, services.hosts);
    this.flavors = new Flavors(sc.flavors ?? DEFAULT_FLAVORS, this.rng);
    this.images = new Images(sc.images ?? [{ name: 'cirros' }], this.rng, this.startedAt);
    const groups = new ServerGroups(sc, this.rng, this.identity);
    const migrations = new Migrations(this.rng, this.engine, this.timings, services.hosts, placement);
    this.nova = {
      engine: this.engine,
      rng: this.rng,
      faults: this.faults,
      timings: this.timings,
      membersCanMigrate: sc.nova?.members_can_migrate ?? false,
      services,
      servers,
      groups,
      placement,
      actions: new InstanceActions(this.engine),
      migrations,
      scheduler: new Scheduler(services, servers, groups, placement, migrations),
    };
    this.live = new LiveMigrations(this.nova);
    this.cold = new ColdMigrations(this.nova);
    this.lifecycle = new ServerLifecycle(this.nova, this.live);
    this.lifecycle.load(sc, this.identity, this.flavors, this.images);
    // ---- scenario faults are added by the emulator (index.ts)

    this.hosts = services.hosts;
    this.servers = servers.byId;
    this.migrations = migrations.byId;
    this.appCreds = this.identity.appCreds;
  }

  /** Evaluate the model at the clock's current time. */
  sync(): number {
    this.engine.advance(this.clock.now());
    return this.engine.now;
  }

  get now(): number {
    return this.engine.now;
  }

  /** Stop a compute service's heartbeats at model time `at`; the moves from and to it freeze then (see Services.stopHeartbeats). */
  stopHeartbeats(h: HostState, at: number, immediate = false, upAfterMs: number | null = null): void {
    this.nova.services.stopHeartbeats(h, at, immediate, upAfterMs, () => this.nova.migrations.freezeOn(h.name), () => {
      this.live.resetOnRestart(h.name);
      this.cold.resetOnRestart(h.name);
    });
  }
}
