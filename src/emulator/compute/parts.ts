/**
 * The parts of the Nova model that the moves (live-migration.ts,
 * cold-migration.ts) and the server lifecycle (server-lifecycle.ts) work
 * with; the Cloud builds them and hands each of those modules the same set.
 */
import type { Engine } from '../engine.js';
import type { FaultBook } from '../faults.js';
import type { ModelTimings } from '../model.js';
import type { Allocations } from '../placement/allocations.js';
import type { Rng } from '../rng.js';
import type { InstanceActions } from './actions.js';
import type { ServerGroups } from './groups.js';
import type { Migrations } from './migrations.js';
import type { Scheduler } from './scheduler.js';
import type { Servers } from './servers.js';
import type { Services } from './services.js';

export interface NovaParts {
  engine: Engine;
  rng: Rng;
  faults: FaultBook;
  timings: ModelTimings;
  /** A custom policy lets project members move their servers (else admin only). */
  membersCanMigrate: boolean;
  services: Services;
  servers: Servers;
  groups: ServerGroups;
  placement: Allocations;
  actions: InstanceActions;
  migrations: Migrations;
  scheduler: Scheduler;
}

/** A module built on the NovaParts: each part as a field, and model time. */
export abstract class NovaPart {
  protected readonly engine: Engine;
  protected readonly rng: Rng;
  protected readonly faults: FaultBook;
  protected readonly timings: ModelTimings;
  protected readonly membersCanMigrate: boolean;
  protected readonly services: Services;
  protected readonly servers: Servers;
  protected readonly groups: ServerGroups;
  protected readonly placement: Allocations;
  protected readonly actions: InstanceActions;
  protected readonly migrations: Migrations;
  protected readonly scheduler: Scheduler;

  constructor(p: NovaParts) {
    this.engine = p.engine;
    this.rng = p.rng;
    this.faults = p.faults;
    this.timings = p.timings;
    this.membersCanMigrate = p.membersCanMigrate;
    this.services = p.services;
    this.servers = p.servers;
    this.groups = p.groups;
    this.placement = p.placement;
    this.actions = p.actions;
    this.migrations = p.migrations;
    this.scheduler = p.scheduler;
  }

  protected get now(): number {
    return this.engine.now;
  }
}
