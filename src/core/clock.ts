/**
 * Time, injected. Production uses realClock; tests and the emulator use a
 * virtual clock (src/emulator/clock.ts) so a 30-minute drain runs in
 * milliseconds. Nothing in hostmaint calls Date.now() or setTimeout for
 * workflow timing directly: it asks the Clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
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
