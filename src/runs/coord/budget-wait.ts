/**
 * Waiting for room in a disruption budget, for both backends: try, and while
 * the budget is full either refuse (--no-wait: exit 5, nothing changed) or
 * say once what the host waits for and look again.
 */
import { HostmaintError } from '../../core/errors.js';
import type { BudgetClaim, BudgetRequest, BudgetWait } from './types.js';

export type Attempt = { ok: true; claim: BudgetClaim } | { ok: false; wait: BudgetWait } | { ok: 'retry' };

/** A granted claim, as both backends return it. */
export function granted(v: { scopes: string[]; outBefore: string[]; alreadyOut: boolean }, release: () => Promise<void>): Attempt {
  return { ok: true, claim: { scopes: v.scopes, outBefore: v.outBefore, alreadyOut: v.alreadyOut, release } };
}

export function describeWait(w: BudgetWait): string {
  return `${w.scope} has ${w.out.length} of ${w.max} hosts out of service (${w.out.join(', ')})`;
}

/**
 * `wake`, when given, resolves as soon as something may have made room (etcd: a claim taken or
 * released); the poll still runs for what only Nova shows (a host enabled by hand).
 */
export async function waitForRoom(req: BudgetRequest, attempt: () => Promise<Attempt>, wake?: () => { promise: Promise<void>; cancel(): void }): Promise<BudgetClaim> {
  let last = '';
  for (;;) {
    if (req.signal?.aborted) throw new HostmaintError('interrupted', `stopped while ${req.host} waited for room in the disruption budget`);
    const a = await attempt();
    if (a.ok === true) return a.claim;
    if (a.ok === 'retry') continue;
    if (!req.wait) {
      throw new HostmaintError('host-busy', `${req.host} would exceed the disruption budget: ${describeWait(a.wait)}`, {
        hint: `Nothing was changed. Wait for one of them to come back (hostmaint status --fleet), drop --no-wait to wait for room, or raise --max-hosts-out.`,
        details: { budget: a.wait },
      });
    }
    const key = `${a.wait.scope} ${a.wait.out.join(',')}`;
    if (key !== last) {
      last = key;
      req.onWait?.(a.wait);
    }
    const w = wake?.();
    await Promise.race([sleep(req.pollMs ?? 2000, req.signal), ...(w ? [w.promise] : [])]);
    w?.cancel();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
