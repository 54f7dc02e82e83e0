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

/**
 * A module built on the NovaParts: each part as a field (the interface below
 * merges NovaParts' fields into the class), and model time.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface NovaPart extends Readonly<NovaParts> {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export abstract class NovaPart {
  constructor(p: NovaParts) {
    Object.assign(this, p);
  }

  protected get now(): number {
    return this.engine.now;
  }
}
