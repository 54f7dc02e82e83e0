/**
 * Clocks for the emulated cloud.
 *
 * The emulator's model is a pure function of `clock.now()`: migration progress,
 * service heartbeats, boot and cold-migration delays are all evaluated lazily
 * (on every request, and whenever a test reads `emulator.state`). Nothing in
 * the emulator needs a timer to fire for the model to be right; the clock only
 * decides *what time it is*.
 *
 * Three clocks:
 *
 * - `realClock` (from src/clock.ts): wall time.
 * - `scaledClock(factor)`: wall time running `factor` times faster, starting at
 *   the real time of its creation. `sleep(ms)` waits ms/factor real ms. The
 *   demo uses it so a drain of a dozen instances takes seconds, not minutes.
 * - `VirtualClock`: time only moves when someone moves it. With `autoAdvance`
 *   (the default) it jumps to the earliest pending `sleep()` deadline once the
 *   process is idle: no HTTP request in flight at the emulator (the emulator's
 *   server calls `enter()`/`leave()` around each request), nobody holding the
 *   clock (`hold()`), and a few event-loop turns plus `idleMs` of real time have
 *   passed with no new activity. hostmaint (the client) and the emulator run in
 *   the same process and share one VirtualClock, so a client that polls every
 *   5 s and waits 30 minutes for a drain finishes in milliseconds of real time,
 *   while every timestamp it sees is consistent.
 *
 *   Rules of the VirtualClock:
 *   - `now()` never goes backwards; it starts at `start` (default
 *     2024-01-01T00:00:00Z, so runs are reproducible).
 *   - `sleep(ms)` registers a sleeper with deadline now+ms; `sleep(0)` resolves
 *     on the next advance check without moving time.
 *   - Sleepers resolve in deadline order (ties: registration order); time jumps
 *     to each deadline in turn, and the clock waits for idle again between
 *     jumps, so code woken by one sleeper runs (and may issue requests) before
 *     time moves on.
 *   - `advance(ms)` / `advanceTo(t)` move time by hand (tests with
 *     `autoAdvance: false`), resolving every sleeper due on the way.
 *   - A sleep aborted through its signal rejects with the signal's reason and
 *     is forgotten.
 *   - While a request is in flight inside the emulator the clock never jumps:
 *     a request sees one consistent model instant for its whole handling.
 *     (A fault-injected delay releases the request's hold while it sleeps, or
 *     it would wait forever.)
 */
import type { Clock } from '../core/clock.js';
import { realClock } from '../core/clock.js';

export { realClock };

export interface VirtualClockOptions {
  /** Start time, ms since the epoch. Default 2024-01-01T00:00:00Z. */
  start?: number;
  /** Jump to the next sleeper when idle. Default true. */
  autoAdvance?: boolean;
  /** Real milliseconds of quiet required before a jump. Default 0 (event-loop turns only). */
  idleMs?: number;
}

interface Sleeper {
  deadline: number;
  seq: number;
  resolve: () => void;
}

export const DEFAULT_VIRTUAL_START = Date.UTC(2024, 0, 1, 0, 0, 0);

/** Number of setImmediate turns with no activity before an auto-advance. */
const IDLE_TURNS = 3;

export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly sleepers: Sleeper[] = [];
  private inFlight = 0;
  private holds = 0;
  private activity = 0;
  private checkScheduled = false;
  private stopped = false;
  readonly autoAdvance: boolean;
  private readonly idleMs: number;
  /** Number of auto or manual jumps made (for benchmarks and tests). */
  jumps = 0;

  constructor(opts: VirtualClockOptions = {}) {
    this.t = opts.start ?? DEFAULT_VIRTUAL_START;
    this.autoAdvance = opts.autoAdvance ?? true;
    this.idleMs = opts.idleMs ?? 0;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason ?? new Error('aborted'));
        return;
      }
      const sleeper: Sleeper = { deadline: this.t + Math.max(0, ms), seq: this.seq++, resolve: () => undefined };
      const onAbort = () => {
        const i = this.sleepers.indexOf(sleeper);
        if (i >= 0) this.sleepers.splice(i, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.insert(sleeper);
      this.touch();
    });
  }

  /** Pending sleepers (for tests and diagnostics). */
  pending(): number {
    return this.sleepers.length;
  }

  /** Earliest pending deadline, or null. */
  nextDeadline(): number | null {
    return this.sleepers[0]?.deadline ?? null;
  }

  /** Move time forward by `ms`, resolving due sleepers in order. */
  advance(ms: number): void {
    this.advanceTo(this.t + Math.max(0, ms));
  }

  advanceTo(target: number): void {
    while (this.sleepers.length > 0 && this.sleepers[0]!.deadline <= target) {
      const s = this.sleepers.shift()!;
      if (s.deadline > this.t) this.t = s.deadline;
      s.resolve();
    }
    if (target > this.t) this.t = target;
    this.jumps++;
    this.touch();
  }

  /** The emulator's server calls this when it starts handling a request. */
  enter(): void {
    this.inFlight++;
    this.touch();
  }

  /** ... and this when the response is finished. */
  leave(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.touch();
  }

  /** Keep the clock from jumping until the returned function is called. */
  hold(): () => void {
    this.holds++;
    this.touch();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.touch();
    };
  }

  /** Stop auto-advancing (pending sleepers stay pending). */
  stop(): void {
    this.stopped = true;
  }

  private insert(s: Sleeper): void {
    // Sorted insert by (deadline, seq); scan from the end as new sleepers tend to be latest.
    let i = this.sleepers.length;
    while (i > 0) {
      const prev = this.sleepers[i - 1]!;
      if (prev.deadline < s.deadline || (prev.deadline === s.deadline && prev.seq < s.seq)) break;
      i--;
    }
    this.sleepers.splice(i, 0, s);
  }

  private touch(): void {
    this.activity++;
    if (!this.autoAdvance || this.stopped || this.checkScheduled) return;
    this.checkScheduled = true;
    this.waitIdle(this.activity, 0);
  }

  private waitIdle(seen: number, turns: number): void {
    const next = () => {
      if (this.stopped) {
        this.checkScheduled = false;
        return;
      }
      if (this.activity !== seen) {
        this.waitIdle(this.activity, 0);
        return;
      }
      if (turns + 1 < IDLE_TURNS) {
        this.waitIdle(seen, turns + 1);
        return;
      }
      this.checkScheduled = false;
      this.maybeJump();
    };
    if (turns === 0 && this.idleMs > 0) setTimeout(next, this.idleMs).unref?.();
    else setImmediate(next);
  }

  private maybeJump(): void {
    if (this.inFlight > 0 || this.holds > 0 || this.sleepers.length === 0) return;
    const first = this.sleepers.shift()!;
    if (first.deadline > this.t) this.t = first.deadline;
    this.jumps++;
    first.resolve();
    // Sleepers due at the very same instant wake together.
    while (this.sleepers.length > 0 && this.sleepers[0]!.deadline <= this.t) this.sleepers.shift()!.resolve();
    this.touch();
  }
}

/**
 * Wall time running `factor` times faster than real time, from the moment of
 * creation. `scaledClock(1)` behaves like realClock (but starts counting from
 * its creation, so two calls are independent).
 */
export function scaledClock(factor: number, start: number = Date.now()): Clock {
  if (!(factor > 0)) throw new Error(`scaledClock: factor must be > 0, got ${factor}`);
  const realStart = Date.now();
  return {
    now: () => start + (Date.now() - realStart) * factor,
    sleep: (ms, signal) => realClock.sleep(ms / factor, signal),
    toWall: (ms) => realStart + (ms - start) / factor,
    fromWall: (ms) => start + (ms - realStart) * factor,
  };
}

/** True for clocks that know when the emulator is handling a request. */
export function isVirtualClock(c: Clock): c is VirtualClock {
  return c instanceof VirtualClock;
}
