/**
 * The library entry: drainHost() and undrainHost() do exactly what the CLI
 * does. They build the actors from the session, provide them to the machine,
 * run it to the end and return a plain-JSON result (outcome, exit code,
 * service before/after, preflight, plan, per-instance outcomes, leftovers,
 * manifest, timings, warnings). Progress goes to `deps.emit` as DrainEvents.
 *
 * Crash-safe resume (used by src/runs/): `deps.onSnapshot` receives the
 * persisted snapshot after every step; pass it back as `deps.snapshot` to
 * continue. Every actor reconciles with the cloud first, so the step that was
 * in flight when the process died is safe to run again.
 */
import type { ProjectNames } from '../openstack/identity/projects.js';
import { randomBytes } from 'node:crypto';
import { createActor, type AnyActorRef, type Snapshot } from 'xstate';
import { createActors, type NetChecks } from '../actors/index.js';
import type { RunLookup } from '../actors/deps.js';
import type { MoveBudget } from '../actors/move-budget.js';
import { steadyNow, type Clock } from '../core/clock.js';
import { HostmaintError, errorText } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { CloudSession, ComputeApi, PlacementApi } from '../openstack/api.js';
import { DRAIN_MACHINE_VERSION, drainMachine } from '../machines/drain.machine.js';
import { isValidRunId } from '../machines/marker.js';
import { toDrainResult, toUndrainResult } from '../machines/result.js';
import type { DrainContext, UndrainContext } from '../machines/contexts.js';
import type { DrainEvent, DrainEventDraft } from '../machines/events.js';
import type { DrainOptions, UndrainOptions } from '../machines/options.js';
import type { DrainResult, PhaseTiming, RunTimings, UndrainResult } from '../machines/results.js';
import { resolveDrainOptions, resolveUndrainOptions } from '../policies/options.js';
import { UNDRAIN_MACHINE_VERSION, undrainMachine } from '../machines/undrain.machine.js';

export type { DrainEvent } from '../machines/events.js';
export type { DrainOptions, UndrainOptions } from '../machines/options.js';
export type { DrainResult, UndrainResult } from '../machines/results.js';
export { DRAIN_DEFAULTS } from '../policies/options.js';
export { EXIT_CODES, exitCodeFor } from '../machines/exit-codes.js';
export type { DrainOutcome, UndrainOutcome } from '../machines/outcome.js';

export interface Clients {
  compute: ComputeApi;
  placement: PlacementApi;
  /** Project names for the instances' project ids; optional (ids are shown without it). */
  projects?: ProjectNames | undefined;
}

export interface RunDeps {
  logger: Logger;
  clock: Clock;
  /** Progress events (NDJSON-ready), in order. A throwing handler is logged and ignored. */
  emit?: (e: DrainEvent) => void;
  /** The target reachability checks (tests inject fakes); default: the real ones from this machine. */
  net?: Partial<NetChecks>;
  /** What the saved runs know of a run id (the runner's state directory); default: nothing. */
  runs?: RunLookup;
  /** A rolling run's --max-total, shared by its hosts' drains in this process. */
  moves?: MoveBudget;
  /** Abort = interrupt: the run stops where it is (migrations already requested continue in Nova), outcome `interrupted`. */
  signal?: AbortSignal;
  /** Resume from a persisted snapshot (from onSnapshot). */
  snapshot?: unknown;
  /** Called with the persisted snapshot (plain JSON) after every step, and the machine's version. */
  onSnapshot?: (persisted: PersistedRun) => void;
}

/** What src/runs/ saves: JSON, no secrets. */
export interface PersistedRun {
  machine: 'drain' | 'undrain' | 'workflow' | 'rolling';
  machineVersion: number;
  runId: string;
  host: string;
  /** xstate's getPersistedSnapshot(): pass back as deps.snapshot. */
  snapshot: unknown;
  /** The machine's state value (e.g. { migrating: 'waiting' }); with the snapshot's context it answers `status` without calling OpenStack. */
  value: unknown;
  /** 'active' while running, 'done' for the final snapshot (nothing left to resume). */
  status: 'active' | 'done' | 'error' | 'stopped';
}

function clientsOf(session: CloudSession | Clients): Clients {
  return { compute: session.compute, placement: session.placement, projects: session.projects };
}

/** Admin may move locked instances: true when the session's roles say admin (or are unknown). */
function adminFromSession(session: CloudSession | Clients): boolean {
  if ('identity' in session && session.identity && Array.isArray(session.identity.roles) && session.identity.roles.length > 0) {
    return session.identity.roles.some((r) => r.toLowerCase() === 'admin');
  }
  return true;
}

/** e.g. 20240101T000000Z-3f2a: sortable, unique enough per host, fits the marker. */
export function newRunId(clock: Clock): string {
  const t = new Date(clock.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${t}-${randomBytes(2).toString('hex')}`;
}

/** The phases' times: timestamps from the wall clock, durations from the steady one (never negative, never stepped). */
export class PhaseClock {
  readonly phases: PhaseTiming[] = [];
  private readonly startedSteady: number;
  private phaseSteady = 0;
  readonly startedAt: number;
  constructor(private readonly clock: Clock) {
    this.startedAt = clock.now();
    this.startedSteady = steadyNow(clock);
  }
  enter(phase: string): void {
    this.close();
    this.phaseSteady = steadyNow(this.clock);
    if (phase !== 'done') this.phases.push({ phase, startedAt: new Date(this.clock.now()).toISOString(), finishedAt: null, durationMs: null });
  }
  close(): void {
    const last = this.phases[this.phases.length - 1];
    if (last && last.finishedAt === null) {
      last.finishedAt = new Date(this.clock.now()).toISOString();
      last.durationMs = Math.max(0, steadyNow(this.clock) - this.phaseSteady);
    }
  }
  timings(): RunTimings {
    this.close();
    return { startedAt: new Date(this.startedAt).toISOString(), finishedAt: new Date(this.clock.now()).toISOString(), durationMs: Math.max(0, steadyNow(this.clock) - this.startedSteady), phases: this.phases };
  }
}

export interface Runnable<C> {
  actor: AnyActorRef;
  context(): C;
  /** Stop (without ending the machine) when this says so: a workflow waiting for approval. */
  pauseWhen?: (value: unknown) => boolean;
  /** Events to send right after start (a restored workflow's approval). */
  afterStart?: Array<{ type: string } & Record<string, unknown>>;
}

/** Run an actor to its end (or its pause), forwarding progress events; resolves with the final context (also when the machine errored). */
export async function runToEnd<C extends { runId: string; host: string }>(
  r: Runnable<C>,
  kind: PersistedRun['machine'],
  version: number,
  deps: RunDeps,
  phases: PhaseClock,
): Promise<{ context: C; crashed: unknown; paused: boolean }> {
  const { actor } = r;
  const stamp = (e: DrainEventDraft): DrainEvent => ({ ...e, time: e.time ?? new Date(deps.clock.now()).toISOString() }) as DrainEvent;
  actor.on('progress', (emitted: { event: DrainEventDraft }) => {
    const e = stamp(emitted.event);
    if (e.type === 'phase-changed') phases.enter(e.phase);
    deps.logger.debug(`${kind} event ${e.type}`, e as unknown as Record<string, unknown>);
    if (!deps.emit) return;
    try {
      deps.emit(e);
    } catch (err) {
      deps.logger.warn('progress handler threw; ignored', { error: errorText(err) });
    }
  });
  const onSnapshot = deps.onSnapshot;
  let crashed: unknown = null;
  let paused = false;
  let starting = true;
  let settle: () => void = () => undefined;
  const check = (snap: { status: string; value?: unknown }) => {
    if (snap.status === 'done') settle();
    else if (r.pauseWhen?.(snap.value)) {
      paused = true;
      settle();
    }
  };
  const finished = new Promise<void>((resolve) => {
    settle = resolve;
    actor.subscribe({
      next: (snap: Snapshot<unknown> & { context?: C }) => {
        if (onSnapshot) {
          try {
            const ctx = (snap as { context: C }).context;
            onSnapshot({
              machine: kind,
              machineVersion: version,
              runId: ctx.runId,
              host: ctx.host,
              snapshot: actor.getPersistedSnapshot(),
              value: (snap as unknown as { value: unknown }).value,
              status: snap.status,
            });
          } catch (err) {
            deps.logger.warn('onSnapshot threw; ignored', { error: errorText(err) });
          }
        }
        if (!starting) check(snap as unknown as { status: string; value: unknown });
      },
      error: (err: unknown) => {
        crashed = err;
        resolve();
      },
      complete: () => resolve(),
    });
  });
  const onAbort = () => actor.send({ type: 'interrupt', reason: errorText(deps.signal?.reason ?? 'interrupted') });
  actor.start();
  for (const e of r.afterStart ?? []) actor.send(e);
  starting = false;
  check(actor.getSnapshot() as { status: string; value: unknown });
  if (deps.signal) {
    if (deps.signal.aborted) onAbort();
    else deps.signal.addEventListener('abort', onAbort, { once: true });
  }
  try {
    await finished;
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    actor.stop();
  }
  return { context: r.context(), crashed, paused };
}

function checkResume(snapshot: unknown, machine: string, host: string): void {
  const ctx = (snapshot as { context?: { host?: unknown } } | null)?.context;
  if (!ctx || typeof ctx !== 'object') throw new HostmaintError('usage', `the saved ${machine} run has no context: cannot resume it`);
  if (ctx.host !== host) throw new HostmaintError('usage', `the saved ${machine} run is for host ${String(ctx.host)}, not ${host}`);
}

/** A restored run read its service in another process: the first decision reads it again. */
function restored(snapshot: unknown): Snapshot<unknown> {
  const copy = JSON.parse(JSON.stringify(snapshot)) as { context: Record<string, unknown> };
  if ('serviceFresh' in copy.context) {
    copy.context.serviceFresh = false;
    copy.context.resumed = true;
  }
  return copy as unknown as Snapshot<unknown>;
}

interface MachineRun<C, R> {
  kind: 'drain' | 'undrain';
  version: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  machine: (actors: ReturnType<typeof createActors>) => any;
  input: Record<string, unknown>;
  toResult: (ctx: C, timings: RunTimings) => R;
}

/** Run the drain or undrain machine with the real actors, from its start or a saved snapshot, to its result. */
async function runMachine<C extends DrainContext | UndrainContext, R extends DrainResult | UndrainResult>(session: CloudSession | Clients, host: string, deps: RunDeps, m: MachineRun<C, R>): Promise<R> {
  const phases = new PhaseClock(deps.clock);
  const { compute, placement, projects } = clientsOf(session);
  const actors = createActors({ compute, placement, projects, logger: deps.logger, clock: deps.clock, emit: deps.emit, net: deps.net, runs: deps.runs, moves: deps.moves });
  if (deps.snapshot !== undefined) checkResume(deps.snapshot, m.kind, host);
  // With a snapshot, xstate restores the context from it and ignores the input.
  const actor = createActor(m.machine(actors), { input: m.input, ...(deps.snapshot !== undefined ? { snapshot: restored(deps.snapshot) } : {}) });
  let ended: Awaited<ReturnType<typeof runToEnd<C>>>;
  try {
    ended = await runToEnd<C>({ actor, context: () => actor.getSnapshot().context as C }, m.kind, m.version, deps, phases);
  } finally {
    // A rolling run's --max-total: what this run still counted is free for the other hosts now.
    deps.moves?.release((actor.getSnapshot().context as C).runId);
  }
  const { context, crashed } = ended;
  let ctx = context;
  if (crashed) {
    deps.logger.error(`the ${m.kind} workflow crashed`, { error: errorText(crashed) });
    ctx = { ...ctx, outcome: 'error', error: { kind: 'internal', message: `workflow error: ${errorText(crashed)}`, status: null, requestId: null, hint: null } };
  }
  const result = m.toResult(ctx, phases.timings());
  deps.logger.info(result.message, { runId: result.runId, host, outcome: result.outcome, exitCode: result.exitCode });
  return result;
}

function runIdOf(options: { runId?: string }, clock: Clock): string {
  const runId = options.runId ?? newRunId(clock);
  if (!isValidRunId(runId)) throw new HostmaintError('usage', `invalid run id '${runId}': letters, digits, '.', '_' and '-' only`);
  return runId;
}

export async function drainHost(session: CloudSession | Clients, host: string, options: DrainOptions = {}, deps: RunDeps): Promise<DrainResult> {
  if (!host || typeof host !== 'string') throw new HostmaintError('usage', 'a host name is required');
  const runId = runIdOf(options, deps.clock);
  const resolved = resolveDrainOptions({ ...options, admin: options.admin ?? adminFromSession(session) });
  // The deadline counts from now (the pool's steady time); a resumed run keeps the one its snapshot holds.
  if (resolved.deadlineMs !== null) resolved.deadlineAt = steadyNow(deps.clock) + resolved.deadlineMs;
  return runMachine<DrainContext, DrainResult>(session, host, deps, {
    kind: 'drain',
    version: DRAIN_MACHINE_VERSION,
    machine: (a) => drainMachine.provide({ actors: a.drain }),
    input: { runId, host, options: resolved, adopt: options.adopt ?? false },
    toResult: toDrainResult,
  });
}

export async function undrainHost(session: CloudSession | Clients, host: string, options: UndrainOptions = {}, deps: RunDeps): Promise<UndrainResult> {
  if (!host || typeof host !== 'string') throw new HostmaintError('usage', 'a host name is required');
  const runId = runIdOf(options, deps.clock);
  return runMachine<UndrainContext, UndrainResult>(session, host, deps, {
    kind: 'undrain',
    version: UNDRAIN_MACHINE_VERSION,
    machine: (a) => undrainMachine.provide({ actors: a.undrain }),
    input: { runId, host, options: resolveUndrainOptions(options) },
    toResult: toUndrainResult,
  });
}

/**
 * The names a drain may send instances to (--target, --aggregate,
 * --availability-zone), checked against the cloud with reads only, before
 * anything changes: a name the cloud does not know is a usage error (exit 2),
 * not a refused preflight after the service was disabled and re-enabled.
 */
export async function checkTargetNames(session: CloudSession, options: Pick<DrainOptions, 'targets' | 'aggregate' | 'availabilityZone'>, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const call = opts.signal ? { signal: opts.signal } : undefined;
  if (options.targets && options.targets.length > 0) {
    const known = new Set((await session.compute.listServices({ binary: 'nova-compute' }, call)).map((s) => s.host));
    const unknown = options.targets.filter((t) => !known.has(t));
    if (unknown.length > 0) {
      throw new HostmaintError('usage', `--target names ${unknown.length === 1 ? 'a host' : 'hosts'} with no nova-compute service: ${unknown.map((u) => `'${u}'`).join(', ')}`, {
        hint: 'Name targets as `openstack compute service list --service nova-compute` shows them; nothing was changed in the cloud.',
        details: { unknownTargets: unknown },
      });
    }
  }
  if (options.aggregate) {
    const aggs = await session.compute.listAggregates(call);
    if (!aggs.some((a) => a.name === options.aggregate || String(a.id) === options.aggregate || a.uuid === options.aggregate)) {
      throw new HostmaintError('usage', `--aggregate '${options.aggregate}': no host aggregate has that name or id`, {
        hint: 'List them with `openstack aggregate list`; nothing was changed in the cloud.',
      });
    }
  }
  if (options.availabilityZone) {
    const zones = await session.compute.listAvailabilityZones(call);
    if (!zones.some((z) => z.name === options.availabilityZone)) {
      throw new HostmaintError('usage', `--availability-zone '${options.availabilityZone}': the cloud has no such availability zone`, {
        hint: `Zones: ${zones.map((z) => z.name).join(', ') || '(none)'} (openstack availability zone list --compute); nothing was changed in the cloud.`,
      });
    }
  }
}
