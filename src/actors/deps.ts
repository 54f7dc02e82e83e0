/**
 * What the actors need from the outside world. Everything is injected: the
 * OpenStack clients, the clock, the logger, the name resolver and TCP prober.
 */
import type { ProjectNames } from '../openstack/identity/projects.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { ComputeApi, PlacementApi } from '../openstack/api.js';
import type { ComputeService } from '../openstack/types.js';
import type { DrainEvent } from '../machines/events.js';
import type { ServiceRecord } from '../machines/records.js';
import type { NetChecks } from './net.js';
import type { MoveBudget } from './move-budget.js';
import type { KnownRun } from '../machines/ownership.js';


export interface ActorDeps {
  compute: ComputeApi;
  placement: PlacementApi;
  /** Project names for the project ids of the instances (best effort; ids without it). */
  projects?: ProjectNames | undefined;
  logger: Logger;
  clock: Clock;
  /** Progress events the actors raise themselves (waits inside one actor); optional. */
  emit?: ((e: DrainEvent) => void) | undefined;
  /** The target reachability checks; default: the real ones from this machine (src/actors/net.ts). */
  net?: Partial<NetChecks> | undefined;
  /** What this machine's saved runs know of a run id (a hostmaint marker's run); default: nothing. */
  runs?: RunLookup | undefined;
  /** A rolling run's --max-total, shared by the drains of its hosts in this process; default: none. */
  moves?: MoveBudget | undefined;
}

export interface RunLookup {
  lookup(runId: string): Promise<KnownRun | null>;
}

export function toServiceRecord(s: ComputeService): ServiceRecord {
  return {
    id: s.id,
    host: s.host,
    zone: s.zone,
    status: s.status,
    state: s.state,
    disabledReason: s.disabledReason,
    forcedDown: s.forcedDown,
  };
}

/** Back to the client's shape (the clients need id + host + binary to PUT). */
export function toComputeService(r: ServiceRecord): ComputeService {
  return {
    id: r.id,
    binary: 'nova-compute',
    host: r.host,
    zone: r.zone,
    status: r.status,
    state: r.state,
    disabledReason: r.disabledReason,
    forcedDown: r.forcedDown,
    updatedAt: null,
  };
}
