/**
 * createActors(deps): the side effects of the drain and undrain machines, as
 * xstate actor logic. Each is a fromPromise actor that gets the AbortSignal
 * xstate hands it (leaving a state cancels its requests) and does its I/O only
 * through ComputeApi / PlacementApi. Give them to a machine with
 * `drainMachine.provide({ actors: createActors(deps).drain })`.
 */
import { fromPromise } from 'xstate';
import type { DisableInput, DisableOutput, EnableInput, EnableOutput, PauseInput, PoolTickInput, PoolTickOutput, PreflightInput, PreflightReport, ResolveOutput, RestoreInput, RestoreOutput, SelectReturnsInput, SelectReturnsOutput, Verification, VerifyInput, WaitUpInput, WaitUpOutput } from '../machines/actor-io.js';
import type { ActorDeps } from './deps.js';
import { poolTick } from './pool.js';
import { runPreflight } from './preflight.js';
import { selectReturns } from './returns.js';
import { disableServiceFor, enableServiceFor, resolveHostRef, restoreServiceFor, waitServiceUp } from './service.js';
import { verifyEmpty } from './verify.js';

export type { ActorDeps } from './deps.js';
export type { NetChecks } from './net.js';

export function createActors(deps: ActorDeps) {
  const resolveHost = fromPromise<ResolveOutput, { host: string }>(({ input, signal }) => resolveHostRef(deps, input.host, { signal }));
  const pause = fromPromise<void, PauseInput>(({ input, signal }) => deps.clock.sleep(input.ms, signal));
  const poolTickLogic = fromPromise<PoolTickOutput, PoolTickInput>(({ input, signal }) => poolTick(deps, input, signal));
  const drain = {
    resolveHost,
    disableService: fromPromise<DisableOutput, DisableInput>(({ input, signal }) => disableServiceFor(deps, input, { signal })),
    preflight: fromPromise<PreflightReport, PreflightInput>(({ input, signal }) => runPreflight(deps, input, signal)),
    restoreService: fromPromise<RestoreOutput, RestoreInput>(({ input, signal }) => restoreServiceFor(deps, input, { signal })),
    poolTick: poolTickLogic,
    pause,
    verifyEmpty: fromPromise<Verification, VerifyInput>(({ input, signal }) => verifyEmpty(deps, input, signal)),
  };
  const undrain = {
    resolveHost,
    waitServiceUp: fromPromise<WaitUpOutput, WaitUpInput>(({ input, signal }) => waitServiceUp(deps, input, signal)),
    enableService: fromPromise<EnableOutput, EnableInput>(({ input, signal }) => enableServiceFor(deps, input, { signal })),
    selectReturns: fromPromise<SelectReturnsOutput, SelectReturnsInput>(({ input, signal }) => selectReturns(deps, input, signal)),
    poolTick: poolTickLogic,
    pause,
  };
  return { drain, undrain };
}

export type Actors = ReturnType<typeof createActors>;
