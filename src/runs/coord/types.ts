/**
 * Coordination between hostmaint processes: who holds a host, where runs are
 * shared, and how many hosts may be out of service at once.
 *
 * Two backends sit behind this one interface, and src/runs/ does not know
 * which it has:
 *
 *   local (default)  lock files in the state directory (runs/lock.ts), runs in
 *                    the state directory, budgets under a lock file. One
 *                    machine; another machine's lock is always taken as held.
 *   etcd             `--coordination etcd3+http://HOST:PORT[,HOST:PORT...]`: a
 *                    host is held under an etcd lease kept alive by the
 *                    holder; runs (record and journal) are written to etcd,
 *                    fenced by that lease; budgets are etcd transactions.
 *
 * Keys name the cloud (its auth URL and region), so the same host name on two
 * clouds is two hosts.
 */
import type { HostLock, LockHolder } from '../lock.js';
import type { RunStore } from '../store.js';
import type { RunCommand } from '../schema.js';

/** etcd's default lease TTL (seconds). */
export const DEFAULT_TTL_SECONDS = 15;

export type BudgetScope = 'cloud' | 'availability-zone' | 'aggregate';
export const BUDGET_SCOPES: readonly BudgetScope[] = ['cloud', 'availability-zone', 'aggregate'];

/** A nova-compute service as the budget counts it. */
export interface ServiceOut {
  host: string;
  zone: string | null;
  /** The aggregates the host is in (only read for the aggregate scope). */
  aggregates: string[];
  disabled: boolean;
}

export interface BudgetRequest {
  host: string;
  runId: string;
  max: number;
  scope: BudgetScope;
  /** false: refuse at once (--no-wait) instead of waiting for room. */
  wait: boolean;
  /** Nova's nova-compute services now (with zone and, for the aggregate scope, aggregates). */
  services: () => Promise<ServiceOut[]>;
  /** Told once each time what the host waits for changes. */
  onWait?: (why: BudgetWait) => void;
  signal?: AbortSignal;
  /** Between two looks while waiting (ms; default 2000). */
  pollMs?: number;
}

/** Why a host waits: the scope that is full and the hosts that fill it. */
export interface BudgetWait {
  scope: string;
  max: number;
  out: string[];
}

export interface BudgetClaim {
  /** The scopes the host counts in, e.g. ["availability-zone:az1"]. */
  scopes: string[];
  /** The hosts already out in those scopes when the claim was granted. */
  outBefore: string[];
  /** This host was already out of service (disabled in Nova): granted without counting it again. */
  alreadyOut: boolean;
  release(): Promise<void>;
}

/** A host lock that may be lost (etcd: lease expired or revoked); local locks are never lost. */
export interface CoordLock extends HostLock {
  /** Why the lock was lost, or null while it is held. */
  readonly lostReason: string | null;
  /** Called once, as soon as the lock is known lost. */
  onLost(cb: (why: string) => void): void;
  /** Write out what is still queued for the shared store, then let the lock go (normal end). */
  close(): Promise<void>;
  /** Where the lock lives, for messages: a lock file, or "etcd key K (lease L)". */
  readonly where: string;
}

export interface AcquireRequest {
  host: string;
  runId: string;
  command: RunCommand;
  startedAt?: string;
  /** Take the host from a live holder at once (its lease is revoked): `resume --adopt`. */
  adopt?: boolean;
  /** Resuming this run: if its holder is the one holding the host, wait (up to twice the TTL) for its lease to run out. */
  waitForRun?: string;
}

export interface FleetLease {
  host: string;
  holder: LockHolder;
  /** Seconds left on the holder's lease (etcd), null for a local lock. */
  ttl: number | null;
}

export interface FleetView {
  backend: string;
  cloud: string;
  leases: FleetLease[];
  /** Budget claims in force: host -> scopes. */
  claims: Array<{ host: string; runId: string; scopes: string[]; at: string }>;
  /** Each scope's use as last measured by a runner (Nova's disabled services and the claims), with its budget. */
  budget: Array<{ scope: string; out: string[]; max: number; at: string }>;
}

export interface Coordination {
  readonly kind: 'local' | 'etcd';
  /** "state directory /x" or "etcd 127.0.0.1:2379,...". */
  readonly describe: string;
  /** The lease's TTL in seconds (etcd), null for local locks. */
  readonly ttlSeconds: number | null;
  /** Take a host (or a rolling run's name) or throw host-busy (exit 5). */
  acquireHost(want: AcquireRequest): Promise<CoordLock>;
  /** Copy the shared runs into the local store (etcd; nothing for local): all, one host's, or one run. */
  pullRuns(store: RunStore, which?: { host?: string; runId?: string }): Promise<{ pulled: number }>;
  /** Mirror a store's writes of the run a lock holds to the shared store (etcd; nothing for local). */
  share(store: RunStore, lock: CoordLock): void;
  /** Wait for (or refuse) room in the disruption budget, then hold it until released. */
  claimBudget(req: BudgetRequest): Promise<BudgetClaim>;
  /** Every live lease and budget claim of this cloud. */
  fleet(): Promise<FleetView>;
  close(): Promise<void>;
}

/** The scopes a host counts in. */
export function scopesOf(s: Pick<ServiceOut, 'zone' | 'aggregates'>, scope: BudgetScope): string[] {
  if (scope === 'cloud') return ['cloud'];
  if (scope === 'availability-zone') return [`availability-zone:${s.zone ?? 'nova'}`];
  return s.aggregates.length ? s.aggregates.map((a) => `aggregate:${a}`) : ['aggregate:(none)'];
}

/**
 * The budget decision, shared by both backends: is there room for `host` in every scope it
 * counts in, given Nova's disabled services and the claims held by others?
 */
export function budgetVerdict(
  req: Pick<BudgetRequest, 'host' | 'max' | 'scope'>,
  services: ServiceOut[],
  claims: Array<{ host: string; scopes: string[] }>,
): { ok: true; scopes: string[]; outBefore: string[]; alreadyOut: boolean; use: BudgetWait[] } | { ok: false; wait: BudgetWait; use: BudgetWait[] } {
  const mine = services.find((s) => s.host === req.host);
  const scopes = scopesOf(mine ?? { zone: null, aggregates: [] }, req.scope);
  const outBefore = new Set<string>();
  const use: BudgetWait[] = [];
  for (const scope of scopes) {
    const out = new Set<string>();
    for (const s of services) if (s.host !== req.host && s.disabled && scopesOf(s, req.scope).includes(scope)) out.add(s.host);
    for (const c of claims) if (c.host !== req.host && c.scopes.includes(scope)) out.add(c.host);
    for (const h of out) outBefore.add(h);
    use.push({ scope, max: req.max, out: [...out].sort() });
  }
  if (!mine?.disabled) {
    // (A host already out is let go on: finishing it does not add to the disruption.)
    const full = use.find((u) => u.out.length >= req.max);
    if (full) return { ok: false, wait: full, use };
  }
  return { ok: true, scopes, outBefore: [...outBefore].sort(), alreadyOut: mine?.disabled === true, use };
}
