/**
 * Taking a host for a run through the coordination backend (coord/), the same
 * for every kind of run: the host's lock or lease, the shared copies of its
 * runs brought in (etcd), its writes shared from then on, and its place in the
 * disruption budget.
 */
import { HostmaintError } from '../core/errors.js';
import { LocalCoordination } from './coord/local.js';
import { describeWait } from './coord/budget-wait.js';
import type { BudgetClaim, BudgetScope, Coordination, CoordLock, ServiceOut } from './coord/types.js';
import type { CloudSession } from '../openstack/api.js';
import type { RunCommand } from './schema.js';
import type { RunStore } from './store.js';

/** --max-hosts-out N --budget-scope S [--no-wait]. */
export interface BudgetOptions {
  max: number;
  scope: BudgetScope;
  wait: boolean;
}

/** What taking a host needs of the runner's environment (HoldEnv has it all). */
export interface HoldEnv {
  store: RunStore;
  coord?: Coordination | undefined;
  notice?: ((line: string) => void) | undefined;
  onLockLost?: ((host: string, why: string) => void) | undefined;
  budget?: BudgetOptions | undefined;
  budgetPollMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

export function coordOf(env: HoldEnv): Coordination {
  return env.coord ?? new LocalCoordination(env.store.dir);
}

/** Take the host (host-busy, exit 5, when another run holds it), bring in its shared runs, share its writes. */
export async function takeHost(env: HoldEnv, want: { host: string; runId: string; command: RunCommand; adopt?: boolean; resumeRunId?: string | undefined }): Promise<CoordLock> {
  const coord = coordOf(env);
  const lock = await coord.acquireHost({ host: want.host, runId: want.runId, command: want.command, ...(want.adopt ? { adopt: true } : {}), ...(want.resumeRunId ? { waitForRun: want.resumeRunId } : {}) });
  try {
    // Under the lock: the newest copy of every run of this host (another runner's, if it died) before deciding what to resume.
    await coord.pullRuns(env.store, { host: want.host });
    if (want.resumeRunId) await coord.pullRuns(env.store, { runId: want.resumeRunId });
  } catch (e) {
    lock.release();
    throw e;
  }
  coord.share(env.store, lock);
  lock.onLost((why) => env.onLockLost?.(want.host, why));
  if (lock.tookOverFrom && coord.kind === 'etcd') {
    (env.notice ?? (() => undefined))(`hostmaint: took ${want.host} over from run ${lock.tookOverFrom.runId} (pid ${lock.tookOverFrom.pid} on ${lock.tookOverFrom.machine}): its lease was revoked (--adopt).`);
  }
  return lock;
}

/** Nova's nova-compute services as the budget counts them (aggregates read only for that scope). */
export function budgetServices(session: Pick<CloudSession, 'compute'>, scope: BudgetScope, signal?: AbortSignal): () => Promise<ServiceOut[]> {
  return async () => {
    const opts = signal ? { signal } : undefined;
    const services = await session.compute.listServices({ binary: 'nova-compute' }, opts);
    const byHost = new Map<string, string[]>();
    if (scope === 'aggregate') {
      for (const a of await session.compute.listAggregates(opts)) for (const h of a.hosts) byHost.set(h, [...(byHost.get(h) ?? []), a.name]);
    }
    return services.map((s) => ({ host: s.host, zone: s.zone, aggregates: byHost.get(s.host) ?? [], disabled: s.status === 'disabled' }));
  };
}

/** Wait for room in the disruption budget (or refuse with --no-wait) before the host's service is touched. */
export async function holdBudget(session: Pick<CloudSession, 'compute'>, env: HoldEnv, lock: CoordLock, host: string): Promise<BudgetClaim | null> {
  const b = env.budget;
  if (!b) return null;
  const notice = env.notice ?? (() => undefined);
  const coord = coordOf(env);
  try {
    const claim = await coord.claimBudget({
      host,
      runId: lock.holder.runId,
      max: b.max,
      scope: b.scope,
      wait: b.wait,
      services: budgetServices(session, b.scope, env.signal),
      onWait: (w) => notice(`hostmaint: ${host} waits for room in the disruption budget (--max-hosts-out ${b.max}): ${describeWait(w)}.`),
      ...(env.signal ? { signal: env.signal } : {}),
      ...(env.budgetPollMs !== undefined ? { pollMs: env.budgetPollMs } : {}),
    });
    return claim;
  } catch (e) {
    if (e instanceof HostmaintError) throw e;
    throw new HostmaintError('internal', `the disruption budget of ${host} could not be checked: ${String(e)}`, { cause: e });
  }
}
