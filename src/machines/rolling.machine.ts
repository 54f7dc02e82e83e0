/**
 * Rolling maintenance as an xstate v5 machine: one workflow run over several
 * hosts, in waves of `maxParallel`. Pure: it imports only xstate, its own
 * types and the machines' kit (placeholder actors). The side effects are two actors given with
 * `rollingMachine.provide({ actors })`:
 *
 *   gate     { previous, next } -> { ok, exitCode, message, skip? }
 *            the previous wave's hosts are back (nova-compute up and enabled)
 *            and there is room for each host of the next wave
 *   runWave  { hosts: [{ host, childRunId }] } -> { results: [{ host, status, exitCode, message }] }
 *            runs (or resumes, by child run id) one child run per host
 *
 *   next ──no host pending──▶ completed (0, or the first failure's code with continueOnFailure)
 *     │
 *     ▼
 *   gate ──not ok──────────────────────────────▶ stopped (the rest not-started)
 *     │  ──skip, !continueOnFailure────────────▶ stopped
 *     │  ──skip, continueOnFailure: marked skipped, the rest of the wave goes on
 *     ▼
 *   wave ──any waiting (approval)──────────────▶ paused (waiting-approval, 8)
 *     │  ──any failed, !continueOnFailure──────▶ stopped (first failed host's code)
 *     └──▶ next
 *   any state ──interrupt──▶ interrupted (130); an actor's error ──▶ failed (error, 1)
 *
 * Waves are fixed chunks of the host list (wave k = hosts[(k-1)m, km)), so
 * every actor input is a function of the context alone: a restored snapshot
 * re-runs the in-flight actor with exactly the input it had (the runner then
 * resumes each host's child run by its deterministic id). Nothing here assumes
 * an actor ran only once. No xstate `after` timers (they are not persisted).
 */
import { assign, emit, enqueueActions, fromPromise, setup } from 'xstate';
import { notProvided as notProvidedIn } from './machine-kit.js';
import { EXIT } from './exit-codes.js';
import type {
  GateInput,
  GateOutput,
  RollingContext,
  RollingEmitted,
  RollingEvent,
  RollingHost,
  RollingMachineInput,
  RollingOutcome,
  WaveInput,
  WaveOutput,
} from './rolling.types.js';

export const ROLLING_MACHINE_VERSION = 1;


export type RollingMachineEvent = { type: 'interrupt'; reason?: string };

/** The child run of the host at `index` (0-based) in the rolling run `runId`. */
export function childRunId(runId: string, index: number): string {
  return `${runId}-h${index + 1}`;
}

const notProvided = (name: string) => notProvidedIn('rollingMachine', name);

export const rollingActorPlaceholders = {
  gate: fromPromise<GateOutput, GateInput>(notProvided('gate')),
  runWave: fromPromise<WaveOutput, WaveInput>(notProvided('runWave')),
};

// ------------------------------------------------------------------ pure helpers

function waveHosts(ctx: RollingContext, wave: number): RollingHost[] {
  return ctx.hosts.slice((wave - 1) * ctx.maxParallel, wave * ctx.maxParallel);
}

/** The wave holding the first pending host, or null when none is pending. */
function nextWaveNumber(ctx: RollingContext): number | null {
  const i = ctx.hosts.findIndex((h) => h.status === 'pending');
  return i < 0 ? null : Math.floor(i / ctx.maxParallel) + 1;
}

/** Hosts that ended done in the last wave (before the current one) that ran at all. */
function previousDone(ctx: RollingContext): string[] {
  for (let w = ctx.wave - 1; w >= 1; w--) {
    const hosts = waveHosts(ctx, w);
    if (hosts.some((h) => h.status === 'done' || h.status === 'failed' || h.status === 'waiting')) return hosts.filter((h) => h.status === 'done').map((h) => h.host);
  }
  return [];
}

export function gateInput(ctx: RollingContext): GateInput {
  return { previous: previousDone(ctx), next: waveHosts(ctx, ctx.wave).filter((h) => h.status === 'pending').map((h) => h.host) };
}

export function waveInput(ctx: RollingContext): WaveInput {
  return { hosts: waveHosts(ctx, ctx.wave).filter((h) => h.status === 'running').map((h) => ({ host: h.host, childRunId: h.childRunId })) };
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

function progress(ctx: RollingContext, body: DistributiveOmit<RollingEvent, 'runId'>): RollingEmitted {
  return { type: 'progress', event: { ...body, runId: ctx.runId } as RollingEvent };
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

const failureCode = (code: number | null): number => (code !== null && code !== 0 ? code : EXIT.UNEXPECTED);

/** Every host still pending becomes not-started. */
function notStarted(hosts: RollingHost[], message: string | null): RollingHost[] {
  return hosts.map((h) => (h.status === 'pending' ? { ...h, status: 'not-started', message: message ?? h.message } : h));
}

type Target = 'wave' | 'next' | 'stopped' | 'paused';

interface Step {
  target: Target;
  patch: Partial<RollingContext>;
  emits: RollingEmitted[];
}

function afterGate(ctx: RollingContext, out: GateOutput): Step {
  const next = new Set(gateInput(ctx).next);
  if (!out.ok) {
    return {
      target: 'stopped',
      patch: {
        hosts: notStarted(ctx.hosts, null).map((h) => (next.has(h.host) ? { ...h, message: `not started: ${out.message}` } : h)),
        outcome: 'failed',
        exitCode: failureCode(out.exitCode),
        error: out.message,
      },
      emits: [],
    };
  }
  const emits: RollingEmitted[] = [];
  const skips = new Map((out.skip ?? []).filter((s) => next.has(s.host)).map((s) => [s.host, s] as const));
  let hosts = ctx.hosts.map((h): RollingHost => {
    const s = skips.get(h.host);
    if (!s) return h;
    emits.push(progress(ctx, { type: 'host-finished', host: h.host, status: 'skipped', exitCode: failureCode(s.exitCode), message: s.message }));
    return { ...h, status: 'skipped', exitCode: failureCode(s.exitCode), message: s.message };
  });
  if (skips.size > 0 && !ctx.continueOnFailure) {
    const first = hosts.find((h) => skips.has(h.host))!;
    return { target: 'stopped', patch: { hosts: notStarted(hosts, null), outcome: 'failed', exitCode: first.exitCode, error: out.message }, emits };
  }
  let started = 0;
  hosts = hosts.map((h): RollingHost => {
    if (!next.has(h.host) || h.status !== 'pending') return h;
    started++;
    emits.push(progress(ctx, { type: 'host-started', host: h.host, childRunId: h.childRunId, wave: ctx.wave }));
    return { ...h, status: 'running' };
  });
  return { target: started > 0 ? 'wave' : 'next', patch: { hosts }, emits };
}

function afterWave(ctx: RollingContext, out: WaveOutput): Step {
  const emits: RollingEmitted[] = [];
  const running = new Set(waveInput(ctx).hosts.map((h) => h.host));
  const results = new Map(out.results.map((r) => [r.host, r] as const));
  let hosts = ctx.hosts.map((h): RollingHost => {
    if (!running.has(h.host)) return h;
    const r = results.get(h.host) ?? { host: h.host, status: 'failed' as const, exitCode: EXIT.UNEXPECTED, message: 'the wave returned no result for this host' };
    const exitCode = r.status === 'failed' ? failureCode(r.exitCode) : r.exitCode;
    emits.push(progress(ctx, { type: 'host-finished', host: h.host, status: r.status, exitCode, message: r.message }));
    return { ...h, status: r.status, exitCode, message: r.message };
  });
  const wave = hosts.filter((h) => running.has(h.host));
  if (wave.some((h) => h.status === 'waiting')) {
    return { target: 'paused', patch: { hosts, outcome: 'waiting-approval', exitCode: EXIT.AWAITING_APPROVAL }, emits };
  }
  if (wave.some((h) => h.status === 'failed') && !ctx.continueOnFailure) {
    hosts = notStarted(hosts, null);
    const first = hosts.find((h) => h.status === 'failed')!;
    return { target: 'stopped', patch: { hosts, outcome: 'failed', exitCode: failureCode(first.exitCode) }, emits };
  }
  return { target: 'next', patch: { hosts }, emits };
}

/** The end of a run that reached every host: completed, or failed with the first failure's code (continueOnFailure). */
function finalOutcome(ctx: RollingContext): { outcome: RollingOutcome; exitCode: number } {
  const bad = ctx.hosts.find((h) => h.status === 'failed' || h.status === 'skipped');
  return bad ? { outcome: 'failed', exitCode: failureCode(bad.exitCode) } : { outcome: 'completed', exitCode: EXIT.OK };
}

/** One line: "3 hosts: 2 done, 1 failed (compute-02: exit 4 ...), 0 not started". */
export function describeRolling(ctx: RollingContext): string {
  const n = ctx.hosts.length;
  const of = (...s: RollingHost['status'][]) => ctx.hosts.filter((h) => s.includes(h.status));
  const detail = (hs: RollingHost[]) => (hs.length > 0 ? ` (${hs.map((h) => `${h.host}: exit ${h.exitCode ?? '?'}${h.message ? ` ${h.message}` : ''}`).join('; ')})` : '');
  const parts = [`${of('done').length} done`, `${of('failed').length} failed${detail(of('failed'))}`];
  const skipped = of('skipped');
  if (skipped.length > 0) parts.push(`${skipped.length} skipped${detail(skipped)}`);
  const waiting = of('waiting');
  if (waiting.length > 0) parts.push(`${waiting.length} waiting for approval (${waiting.map((h) => h.host).join(', ')})`);
  const running = of('running');
  if (running.length > 0) parts.push(`${running.length} running`);
  parts.push(`${of('pending', 'not-started').length} not started`);
  const stop = ctx.error !== null && ctx.outcome !== 'completed' ? ` (${ctx.outcome === 'interrupted' ? 'interrupted' : 'stopped'}: ${ctx.error})` : '';
  return `${n} host${n === 1 ? '' : 's'}: ${parts.join(', ')}${stop}`;
}

// ------------------------------------------------------------------ machine

/** One guarded transition per possible target of a pure decision (`decide` is pure, so asking it per guard is safe). */
function routes<O>(targets: readonly Target[], decide: (ctx: RollingContext, out: O) => Step) {
  return targets.map((target) => ({
    guard: ({ context, event }: { context: RollingContext; event: { output: O } }) => decide(context, event.output).target === target,
    target,
    actions: { type: 'applyStep' as const, params: ({ context, event }: { context: RollingContext; event: { output: O } }) => decide(context, event.output) },
  }));
}

export const rollingMachine = setup({
  types: {
    context: {} as RollingContext,
    input: {} as RollingMachineInput,
    events: {} as RollingMachineEvent,
    emitted: {} as RollingEmitted,
    output: {} as RollingContext,
  },
  actors: rollingActorPlaceholders,
  actions: {
    applyStep: enqueueActions(({ enqueue }, step: Step) => {
      enqueue.assign(step.patch);
      for (const e of step.emits) enqueue.emit(e);
    }),
    emitFinished: emit(({ context }) =>
      progress(context, { type: 'rolling-finished', host: '*', outcome: context.outcome ?? 'error', exitCode: context.exitCode ?? EXIT.UNEXPECTED, message: describeRolling(context) }),
    ),
    actorFailed: assign(({ event }) => ({ outcome: 'error' as RollingOutcome, exitCode: EXIT.UNEXPECTED, error: errorText((event as { error?: unknown }).error) })),
  },
}).createMachine({
  id: 'rolling',
  context: ({ input }) => {
    const seen = new Set<string>();
    const hosts = input.hosts.filter((h) => !seen.has(h) && seen.add(h));
    return {
      runId: input.runId,
      hosts: hosts.map((host, i) => ({ host, childRunId: childRunId(input.runId, i), status: 'pending' as const, exitCode: null, message: null })),
      maxParallel: Math.max(1, Math.floor(input.maxParallel) || 1),
      continueOnFailure: input.continueOnFailure,
      wave: 0,
      outcome: null,
      exitCode: null,
      error: null,
    };
  },
  output: ({ context }) => context,
  initial: 'next',
  on: {
    interrupt: {
      target: '.interrupted',
      actions: assign({ outcome: 'interrupted' as RollingOutcome, exitCode: EXIT.INTERRUPTED, error: ({ event }) => event.reason ?? 'interrupted' }),
    },
  },
  states: {
    next: {
      always: [
        { guard: ({ context }) => nextWaveNumber(context) !== null, target: 'gate', actions: assign({ wave: ({ context }) => nextWaveNumber(context)! }) },
        { target: 'completed', actions: assign(({ context }) => finalOutcome(context)) },
      ],
    },
    gate: {
      invoke: {
        src: 'gate',
        input: ({ context }) => gateInput(context),
        onDone: routes(['wave', 'next', 'stopped'], afterGate),
        onError: { target: 'failed', actions: 'actorFailed' },
      },
    },
    wave: {
      invoke: {
        src: 'runWave',
        input: ({ context }) => waveInput(context),
        onDone: routes(['paused', 'stopped', 'next'], afterWave),
        onError: { target: 'failed', actions: 'actorFailed' },
      },
    },
    completed: { type: 'final', entry: 'emitFinished' },
    stopped: { type: 'final', entry: 'emitFinished' },
    paused: { type: 'final', entry: 'emitFinished' },
    interrupted: { type: 'final', entry: 'emitFinished' },
    failed: { type: 'final', entry: 'emitFinished' },
  },
});
