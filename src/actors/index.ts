/**
 * createActors(deps): the side effects of the drain and undrain machines, as
 * xstate actor logic. Each is a fromPromise actor that gets the AbortSignal
 * xstate hands it (leaving a state cancels its requests) and does its I/O only
 * through ComputeApi / PlacementApi. Their types are the machines' own
 * placeholders (one source); give them with
 * `drainMachine.provide({ actors: createActors(deps).drain })`.
 */
import { fromPromise } from 'xstate';
import type { drainActorPlaceholders } from '../machines/drain.machine.js';
import type { undrainActorPlaceholders } from '../machines/undrain.machine.js';
import type { ActorDeps } from './deps.js';
import { poolTick } from './pool.js';
import { runPreflight } from './preflight.js';
import { selectReturns } from './returns.js';
import { disableServiceFor, enableServiceFor, readServiceFor, resolveHostRef, restoreServiceFor, waitServiceUp } from './service.js';
import { verifyEmpty } from './verify.js';

export type { ActorDeps } from './deps.js';
export type { NetChecks } from './net.js';

export type DrainActors = typeof drainActorPlaceholders;
export type UndrainActors = typeof undrainActorPlaceholders;

export function createActors(deps: ActorDeps): { drain: DrainActors; undrain: UndrainActors } {
  const resolveHost: DrainActors['resolveHost'] = fromPromise(({ input, signal }) => resolveHostRef(deps, input.host, { signal }));
  const pause: DrainActors['pause'] = fromPromise(({ input, signal }) => deps.clock.sleep(input.ms, signal));
  const tick: DrainActors['poolTick'] = fromPromise(({ input, signal }) => poolTick(deps, input, signal));
  return {
    drain: {
      resolveHost,
      disableService: fromPromise(({ input, signal }) => disableServiceFor(deps, input, { signal })),
      preflight: fromPromise(({ input, signal }) => runPreflight(deps, input, signal)),
      restoreService: fromPromise(({ input, signal }) => restoreServiceFor(deps, input, { signal })),
      poolTick: tick,
      pause,
      verifyEmpty: fromPromise(({ input, signal }) => verifyEmpty(deps, input, signal)),
    },
    undrain: {
      resolveHost,
      waitServiceUp: fromPromise(({ input, signal }) => waitServiceUp(deps, input, signal)),
      enableService: fromPromise(({ input, signal }) => enableServiceFor(deps, input, { signal })),
      selectReturns: fromPromise(({ input, signal }) => selectReturns(deps, input, signal)),
      poolTick: tick,
      pause,
      readService: fromPromise(({ input, signal }) => readServiceFor(deps, input, { signal })),
    },
  };
}

export type Actors = ReturnType<typeof createActors>;
