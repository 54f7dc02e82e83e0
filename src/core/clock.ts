/**
 * Time, injected. Production uses realClock; tests and the emulator use a
 * virtual clock (src/emulator/clock.ts) so a 30-minute drain runs in
 * milliseconds. Nothing in hostmaint calls Date.now() or setTimeout for
 * workflow timing directly: it asks the Clock.
 */
export interface Clock {
  /** Milliseconds since the epoch: for timestamps. */
  now(): number;
  /**
   * Milliseconds for durations and timeouts: they never go back and never jump with the wall
   * clock (NTP steps, a changed time zone do not abort a healthy migration). Anchored to the
   * wall clock when the clock was made, so they read as timestamps too. Default: now().
   */
  steady?(): number;
  /** Resolves after `ms`; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * For a clock that runs faster than real time (an emulated cloud's): the real time that a time
   * of this clock stands for, and back. The emulator stamps what its API shows with it, so its
   * timestamps agree with its clients' clocks, as a real cloud's do (NTP). Default: the same time.
   */
  toWall?(ms: number): number;
  fromWall?(ms: number): number;
}

/** The clock's steady time (its wall time when it has none). */
export function steadyNow(clock: Clock): number {
  return clock.steady ? clock.steady() : clock.now();
}

/** A steady time from a monotonic source, anchored to the wall time read once, now. */
export function anchoredSteady(wallNow: () => number, monoNow: () => number): () => number {
  const wall0 = wallNow();
  const mono0 = monoNow();
  return () => wall0 + (monoNow() - mono0);
}

export const realClock: Clock = {
  now: () => Date.now(),
  steady: anchoredSteady(Date.now, () => performance.now()),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason ?? new Error('aborted'));
        return;
      }
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

export function isoTime(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
