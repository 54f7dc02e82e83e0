/**
 * hostmaint as a library: the same drainHost() / undrainHost() the CLI calls,
 * so a runbook written in TypeScript can do exactly what the CLI does.
 *
 *   import { resolveCloud, connect, drainHost, realClock } from 'hostmaint';
 *   const session = await connect(resolveCloud({ osCloud: 'mycloud' }), { logger });
 *   const result = await drainHost(session, 'compute-01', { reason: 'kernel' }, { logger, clock: realClock });
 *   process.exitCode = result.exitCode;
 */
export { drainHost, undrainHost, newRunId, DRAIN_DEFAULTS, EXIT_CODES, exitCodeFor } from './library/drain.js';
export type { RunDeps, PersistedRun, Clients } from './library/drain.js';
export type { DrainOptions, UndrainOptions } from './machines/options.js';
export type { DrainResult, UndrainResult, InstanceOutcome } from './machines/results.js';
export type { ManifestEntry } from './machines/records.js';
export type { DrainEvent } from './machines/events.js';
export type { DrainOutcome, UndrainOutcome } from './machines/outcome.js';
export { resolveCloud, isBuiltinDemo } from './config/index.js';
export { connect } from './openstack/session.js';
export type { CloudSession, ComputeApi, PlacementApi } from './openstack/api.js';
export { HostmaintError, HttpError } from './core/errors.js';
export type { ErrorKind } from './core/errors.js';
export { realClock } from './core/clock.js';
export type { Clock } from './core/clock.js';
export type { Logger } from './core/log.js';
export { EXIT, EXIT_DESCRIPTIONS } from './core/exit-codes.js';
