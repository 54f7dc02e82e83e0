/**
 * The etcd backend (`--coordination etcd3+http://HOST:PORT[,HOST:PORT...]`),
 * on the etcd3 client (gRPC, several endpoints with fail-over).
 *
 * Keys, under /hostmaint/v1/<cloud>/ where <cloud> is the auth URL and region:
 *
 *   hosts/<host>                      the holder of a host (JSON), attached to its lease
 *   runs/<run-id>/head                which generation of the record is current, in how many parts
 *   runs/<run-id>/record/<gen>/<n>    the record (run.json), in parts of at most PART_BYTES
 *   runs/<run-id>/journal/<seq>       journal lines (NDJSON), one chunk per flush; compacted
 *   budget/guard                      bumped by every budget claim and release (optimistic lock)
 *   budget/claims/<host>              a budget claim, attached to the holder's lease
 *
 * and /hostmaint/v1/clouds/<cloud>: the clouds runners worked on (for `status --fleet`),
 * and /hostmaint/v1/index/<run-id>: a run's summary (cloud key, host, command, state,
 * updatedAt), so that `resume RUN` finds a run before it knows its cloud.
 *
 * Leases. A host is taken with a transaction that creates hosts/<host> only
 * if it does not exist, attached to a lease of TTL seconds that this process
 * keeps alive. The lock counts as lost as soon as no keepalive sent in the
 * last TTL - margin seconds was answered (measured from the sending, on the
 * monotonic clock, so the lease cannot have expired in etcd before we know),
 * when etcd says the lease is gone, or when a fenced write finds the key is no
 * longer ours. Every write of a run to etcd is such a fenced transaction
 * (compare: hosts/<host> is attached to our lease).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Etcd3, type Lease } from 'etcd3';
import { handleAll, noop, retry, ConstantBackoff } from 'cockatiel';
import { HostmaintError, errorText } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { holderFor, type LockHolder } from '../lock.js';
import { parseRecord, type JournalEntry, type RunRecord, type RunStore } from '../store.js';
import { budgetVerdict, type AcquireRequest, type BudgetClaim, type BudgetRequest, type Coordination, type CoordLock, type FleetView } from './types.js';
import { granted, waitForRoom } from './budget-wait.js';
export { parseEtcdUrl } from './etcd-url.js';

export { DEFAULT_TTL_SECONDS } from './types.js';
import { DEFAULT_TTL_SECONDS } from './types.js';
/** How long a call is tried again on errors (longer than a leader election) before etcd counts as unreachable. */
const RETRY_MS = 6000;
/** How often a runner resuming a dead runner's run looks whether its lease ran out. */
export const TAKEOVER_POLL_MS = 500;
/** Below etcd's default request limit (1.5 MiB) with room for the transaction around it. */
const PART_BYTES = 512 * 1024;
/** A journal of more chunks than this is compacted into chunks of up to PART_BYTES. */
const COMPACT_AFTER_CHUNKS = 64;

export interface EtcdOptions {
  endpoints: string[];
  /** "https://keystone:5000/v3|RegionOne". */
  cloudKey: string;
  cloudName: string;
  ttlSeconds?: number;
  logger?: Logger;
  /** How long a call may take (ms; default 5000). */
  callTimeoutMs?: number;
  /** Lines for the operator (waiting for a dead runner's lease). */
  notice?: (line: string) => void;
}

const enc = (s: string) => encodeURIComponent(s);
const INDEX = '/hostmaint/v1/index/';
const CLOUDS = '/hostmaint/v1/clouds/';
const buf = (s: string) => Buffer.from(s);
function prefixEnd(p: Buffer): Buffer {
  const end = Buffer.from(p);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

interface Holder extends LockHolder {
  lease: string;
  cloud: string;
}

export class EtcdCoordination implements Coordination {
  readonly kind = 'etcd' as const;
  readonly ttlSeconds: number;
  private readonly client: Etcd3;
  private readonly root: string;
  private readonly timeoutMs: number;
  private readonly locks = new Set<EtcdLock>();

  constructor(private readonly opts: EtcdOptions) {
    this.ttlSeconds = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    this.timeoutMs = opts.callTimeoutMs ?? 5000;
    this.root = `/hostmaint/v1/${enc(opts.cloudKey)}/`;
    this.client = new Etcd3({
      hosts: opts.endpoints,
      dialTimeout: this.timeoutMs,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.timeoutMs }),
      // Each call retried on the next endpoint (a member down, a leader change); no circuit breaker that would hold a member back after it is fine again.
      faultHandling: { host: () => noop, global: retry(handleAll, { maxAttempts: 2, backoff: new ConstantBackoff(100) }) },
    });
  }

  get describe(): string {
    return `etcd ${this.opts.endpoints.map((e) => e.replace(/^https?:\/\//, '')).join(',')}`;
  }

  key(...parts: string[]): string {
    return this.root + parts.join('/');
  }

  /** Fails with exit 6 when no endpoint answers: checked before anything changes. */
  async check(): Promise<void> {
    try {
      await this.client.maintenance.status();
    } catch (e) {
      throw unreachable(this.describe, e);
    }
  }

  /** One call, tried again on other members for up to RETRY_MS (a leader election, a member down), then exit 6. */
  async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    const until = performance.now() + RETRY_MS;
    for (;;) {
      try {
        return await f();
      } catch (e) {
        if (e instanceof HostmaintError) throw e;
        if (performance.now() >= until) throw unreachable(this.describe, e, what);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private registered = false;

  async acquireHost(want: AcquireRequest): Promise<CoordLock> {
    const key = this.key('hosts', enc(want.host));
    if (!this.registered) {
      await this.call('the clouds list', () => this.client.put(CLOUDS + enc(this.opts.cloudKey)).value(JSON.stringify({ cloud: this.opts.cloudName, cloudKey: this.opts.cloudKey })).exec());
      this.registered = true;
    }
    const lease = this.client.lease(this.ttlSeconds, { autoKeepAlive: true });
    lease.on('lost', () => undefined); // handled by the lock once it exists
    let leaseId: string;
    try {
      leaseId = await lease.grant();
    } catch (e) {
      lease.release();
      throw unreachable(this.describe, e, 'a lease');
    }
    const holder: Holder = { ...holderFor(want), lease: leaseId, cloud: this.opts.cloudName };
    let tookOverFrom: LockHolder | null = null;
    let waited = 0;
    try {
      for (let attempt = 0; attempt < 20; attempt++) {
        const res = await this.call('the host key', () =>
          this.client.kv.txn({
            compare: [{ key: buf(key), target: 'Create', result: 'Equal', create_revision: 0 }],
            success: [{ request_put: { key: buf(key), value: buf(JSON.stringify(holder)), lease: leaseId } }],
            failure: [{ request_range: { key: buf(key) } }],
          }),
        );
        if (res.succeeded) {
          const lock = new EtcdLock(this, key, lease, holder, tookOverFrom);
          this.locks.add(lock);
          return lock;
        }
        const kv = res.responses[0]?.response_range?.kvs?.[0];
        if (!kv) continue; // gone in between
        const seen = JSON.parse(kv.value.toString()) as Holder;
        if (!want.adopt && want.waitForRun !== undefined && seen.runId === want.waitForRun && waited < 2 * this.ttlSeconds * 1000) {
          // Resuming the holder's own run: if its runner is dead, its lease runs out within the TTL; look again until then.
          if (waited === 0) this.opts.notice?.(`hostmaint: ${want.host} is held by run ${seen.runId} (pid ${seen.pid} on ${seen.machine}); waiting up to ${2 * this.ttlSeconds}s for its lease to run out (its runner died?), or use --adopt.`);
          // The key goes when etcd revokes the dead lease: a watch wakes us then; the poll is the fallback.
          const gone = this.onKeyChange(buf(key));
          await Promise.race([new Promise((r) => setTimeout(r, TAKEOVER_POLL_MS)), gone.promise]);
          gone.cancel();
          waited += TAKEOVER_POLL_MS;
          attempt--;
          continue;
        }
        if (!want.adopt) throw await this.busy(want.host, seen, key);
        // --adopt: the holder's lease is revoked (its keys go with it); that runner learns it on its next keepalive or fenced write.
        await this.call('revoking the holder\'s lease', () => this.client.leaseClient.leaseRevoke({ ID: seen.lease })).catch(() => undefined);
        tookOverFrom = seen;
      }
      throw new HostmaintError('host-busy', `could not take ${want.host} in etcd: it keeps changing hands`, { hint: 'Another hostmaint is starting on this host right now; try again in a moment.' });
    } catch (e) {
      await lease.revoke().catch(() => undefined);
      throw e;
    }
  }

  /** Seconds left on a lease (etcd's view), or null when it is gone. */
  async leaseTtl(id: string): Promise<number | null> {
    const r = await this.call('a lease', () => this.client.leaseClient.leaseTimeToLive({ ID: id }));
    const ttl = Number(r.TTL);
    return ttl > 0 ? ttl : null;
  }

  private async busy(host: string, h: Holder, key: string): Promise<HostmaintError> {
    const ttl = await this.leaseTtl(h.lease).catch(() => null);
    const what = { drain: 'drained', undrain: 'undrained', run: 'maintained (workflow run)', rolling: 'maintained (rolling run)' }[h.command] ?? h.command;
    return new HostmaintError('host-busy', `${host} is being ${what} by another hostmaint: pid ${h.pid} on ${h.machine}, run ${h.runId} (${h.command}), started ${h.startedAt}; it holds etcd key ${key} under lease ${h.lease}${ttl !== null ? ` (expires in ${ttl}s unless renewed)` : ''}`, {
      hint: `Follow it with \`hostmaint status ${h.runId} --coordination ...\`. If that runner is dead, its lease expires within ${this.ttlSeconds}s and \`hostmaint resume ${h.runId}\` carries the run on from any machine; \`resume --adopt\` takes it at once (only when you know that runner is gone).`,
      details: { holder: h, key, ttl },
    });
  }

  /** The live holder of a host, if any. */
  async holderOf(host: string): Promise<Holder | null> {
    const r = await this.call('the host key', () => this.client.get(this.key('hosts', enc(host))).string());
    return r ? (JSON.parse(r) as Holder) : null;
  }

  // ---------------------------------------------------------------- shared runs

  share(store: RunStore, lock: CoordLock): void {
    const l = lock as EtcdLock;
    if (!(l instanceof EtcdLock)) return;
    const sink = l.sink(store);
    store.addSink(sink);
    l.onClose(() => store.removeSink(sink));
  }

  /** Fenced transaction: the ops run only while hosts/<host> is still attached to our lease. */
  async fenced(lock: EtcdLock, ops: Array<Record<string, unknown>>): Promise<boolean> {
    // Tried again while the lease is still ours for certain (a leader election takes a second or two); refused: false.
    for (;;) {
      try {
        const res = await this.client.kv.txn({
          compare: [{ key: buf(lock.key), target: 'Lease', result: 'Equal', lease: lock.leaseId }],
          success: ops as never,
          failure: [],
        });
        return res.succeeded;
      } catch (e) {
        if (!lock.valid()) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  async putRecord(lock: EtcdLock, rec: RunRecord, gen: number): Promise<boolean> {
    const text = JSON.stringify(rec);
    const data = Buffer.from(text);
    const parts: Buffer[] = [];
    for (let i = 0; i < data.length; i += PART_BYTES) parts.push(data.subarray(i, i + PART_BYTES));
    if (parts.length === 0) parts.push(Buffer.alloc(0));
    const base = this.key('runs', rec.runId, 'record', String(gen).padStart(12, '0'));
    // The parts first (each its own transaction: the request limit), then the head that names them, then the previous generation goes.
    for (let i = 0; i < parts.length; i++) {
      if (!(await this.fenced(lock, [{ request_put: { key: buf(`${base}/${i}`), value: parts[i] } }]))) return false;
    }
    const head = { gen, parts: parts.length, bytes: data.length, updatedAt: rec.updatedAt };
    const summary = { cloudKey: this.opts.cloudKey, cloud: rec.cloud, host: rec.host, command: rec.command, state: rec.state, updatedAt: rec.updatedAt, startedAt: rec.startedAt, machine: rec.machine, pid: rec.pid };
    const prevGen = this.key('runs', rec.runId, 'record', String(gen - 1).padStart(12, '0'));
    return this.fenced(lock, [
      { request_put: { key: buf(this.key('runs', rec.runId, 'head')), value: buf(JSON.stringify(head)) } },
      { request_put: { key: buf(INDEX + rec.runId), value: buf(JSON.stringify(summary)) } },
      { request_delete_range: { key: buf(`${prevGen}/`), range_end: prefixEnd(buf(`${prevGen}/`)) } },
    ]);
  }

  async appendJournal(lock: EtcdLock, runId: string, lines: string[]): Promise<boolean> {
    const chunks = chunkLines(lines);
    for (const chunk of chunks) {
      const seq = `${Date.now().toString().padStart(15, '0')}-${String(++lock.seq).padStart(8, '0')}-${process.pid}`;
      if (!(await this.fenced(lock, [{ request_put: { key: buf(this.key('runs', runId, 'journal', seq)), value: buf(chunk) } }]))) return false;
    }
    return true;
  }

  /** Fold a long journal's chunks into as few as fit PART_BYTES each (fenced; order kept). */
  async compactJournal(lock: EtcdLock, runId: string): Promise<void> {
    const p = buf(this.key('runs', runId, 'journal') + '/');
    const r = await this.client.kv.range({ key: p, range_end: prefixEnd(p) });
    if (r.kvs.length <= COMPACT_AFTER_CHUNKS) return;
    const kvs = [...r.kvs].sort((a, b) => Buffer.compare(a.key, b.key));
    const lines = kvs.flatMap((kv) => kv.value.toString().split('\n').filter(Boolean));
    const merged = chunkLines(lines);
    const lastKey = kvs[kvs.length - 1]!.key.toString();
    // The merged chunks take the keys of the first ones (same order); the rest go. One transaction per chunk put, then the deletes.
    for (let i = 0; i < merged.length; i++) {
      if (!(await this.fenced(lock, [{ request_put: { key: kvs[i]!.key, value: buf(merged[i]!) } }]))) return;
    }
    const from = kvs[merged.length]?.key;
    if (from) await this.fenced(lock, [{ request_delete_range: { key: from, range_end: prefixEnd(buf(lastKey)) } }]);
  }

  async pullRuns(store: RunStore, which: { host?: string; runId?: string } = {}): Promise<{ pulled: number }> {
    const p = buf(which.runId !== undefined ? INDEX + which.runId : INDEX);
    const idx = await this.call('the runs index', () => this.client.kv.range(which.runId !== undefined ? { key: p } : { key: p, range_end: prefixEnd(p) }));
    let pulled = 0;
    for (const kv of idx.kvs) {
      const runId = kv.key.toString().slice(INDEX.length);
      const s = JSON.parse(kv.value.toString()) as { host: string; updatedAt: string; cloudKey: string };
      if (s.cloudKey !== this.opts.cloudKey) continue;
      if (which.runId !== undefined && runId !== which.runId) continue;
      if (which.host !== undefined && s.host !== which.host) continue;
      const local = await store.load(runId).catch(() => null);
      if (local && local.updatedAt >= s.updatedAt) continue;
      const rec = await this.readRecord(runId);
      if (!rec) continue;
      const journal = await this.readJournal(runId);
      store.importRun(rec, journal);
      pulled++;
    }
    return { pulled };
  }

  async readRecord(runId: string): Promise<RunRecord | null> {
    const head = await this.call('a run', () => this.client.get(this.key('runs', runId, 'head')).string());
    if (!head) return null;
    const h = JSON.parse(head) as { gen: number; parts: number };
    const base = this.key('runs', runId, 'record', String(h.gen).padStart(12, '0'));
    const parts: Buffer[] = [];
    for (let i = 0; i < h.parts; i++) {
      const b = await this.call('a run', () => this.client.get(`${base}/${i}`).buffer());
      if (!b) return null;
      parts.push(b);
    }
    return parseRecord(`etcd:${base}/${runId}/run.json`, Buffer.concat(parts).toString());
  }

  async readJournal(runId: string): Promise<string[]> {
    const p = buf(this.key('runs', runId, 'journal') + '/');
    const r = await this.call('a journal', () => this.client.kv.range({ key: p, range_end: prefixEnd(p) }));
    return [...r.kvs].sort((a, b) => Buffer.compare(a.key, b.key)).flatMap((kv) => kv.value.toString().split('\n').filter(Boolean));
  }

  // ---------------------------------------------------------------- budgets

  async claimBudget(req: BudgetRequest): Promise<BudgetClaim> {
    const lock = [...this.locks].find((l) => l.holder.host === req.host && l.lostReason === null);
    if (!lock) throw new HostmaintError('internal', `a budget claim for ${req.host} needs its host lease`);
    const guard = buf(this.key('budget', 'guard'));
    const claimsP = buf(this.key('budget', 'claims') + '/');
    const claimKey = buf(this.key('budget', 'claims', enc(req.host)));
    return waitForRoom(req, async () => {
      // Read etcd (one revision), then Nova, then claim only if nothing was claimed or released since the read.
      const seen = await this.call('the budget', () =>
        this.client.kv.txn({ compare: [], success: [{ request_range: { key: guard } }, { request_range: { key: claimsP, range_end: prefixEnd(claimsP) } }], failure: [] }),
      );
      const guardRev = seen.responses[0]?.response_range?.kvs?.[0]?.mod_revision ?? '0';
      const claims = (seen.responses[1]?.response_range?.kvs ?? []).map((kv) => JSON.parse(kv.value.toString()) as { host: string; runId: string; scopes: string[]; at: string });
      const services = await req.services();
      const v = budgetVerdict(req, services, claims);
      // What this runner measured, for `status --fleet` (informational, not fenced).
      await Promise.all(v.use.map((u) => this.client.put(this.key('budget', 'seen', enc(u.scope))).value(JSON.stringify({ ...u, at: new Date().toISOString() })).exec())).catch(() => undefined);
      if (!v.ok) return { ok: false as const, wait: v.wait };
      const claim = { host: req.host, runId: req.runId, scopes: v.scopes, at: new Date().toISOString(), machine: os.hostname(), pid: process.pid };
      const res = await this.call('the budget', () =>
        this.client.kv.txn({
          compare: [
            { key: guard, target: 'Mod', result: 'Equal', mod_revision: guardRev },
            { key: buf(lock.key), target: 'Lease', result: 'Equal', lease: lock.leaseId },
          ],
          success: [
            { request_put: { key: guard, value: buf(String(Date.now())) } },
            { request_put: { key: claimKey, value: buf(JSON.stringify(claim)), lease: lock.leaseId } },
          ],
          failure: [],
        }),
      );
      if (!res.succeeded) {
        if (lock.lostReason !== null || !(await this.stillOurs(lock))) throw lock.lostError();
        return { ok: 'retry' as const };
      }
      return granted(v, async () => {
            await this.client.kv
              .txn({
                compare: [{ key: claimKey, target: 'Lease', result: 'Equal', lease: lock.leaseId }],
                success: [{ request_put: { key: guard, value: buf(String(Date.now())) } }, { request_delete_range: { key: claimKey } }],
                failure: [],
              })
              .catch(() => undefined); // unreachable: the claim goes with the lease
      });
    }, () => this.onKeyChange(guard));
  }

  /** Resolves at the next change of a key (the budget's guard: a claim taken or released anywhere; a host key: its holder gone). */
  private onKeyChange(guard: Buffer): { promise: Promise<void>; cancel(): void } {
    let stop = () => undefined as void;
    const promise = new Promise<void>((resolve) => {
      let cancelled = false;
      let watcher: { cancel(): Promise<void> } | null = null;
      stop = () => {
        cancelled = true;
        void watcher?.cancel().catch(() => undefined);
        resolve();
      };
      this.client
        .watch()
        .key(guard)
        .create()
        .then((w) => {
          watcher = w;
          if (cancelled) void w.cancel().catch(() => undefined);
          w.on('put', () => resolve());
          w.on('delete', () => resolve());
          w.on('error', () => undefined);
        })
        .catch(() => undefined); // no watch: the poll still runs
    });
    return { promise, cancel: () => stop() };
  }

  async stillOurs(lock: EtcdLock): Promise<boolean> {
    const kv = (await this.client.kv.range({ key: buf(lock.key) })).kvs[0];
    return kv !== undefined && String(kv.lease) === String(lock.leaseId);
  }

  /** Every cloud runners worked on, as coordinations of their own (for `status --fleet` and `status`). */
  static async clouds(endpoints: string[]): Promise<Array<{ cloudKey: string; cloud: string }>> {
    const c = new Etcd3({ hosts: endpoints, dialTimeout: 5000, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 5000 }) });
    try {
      const all = await c.getAll().prefix(CLOUDS).strings();
      return Object.values(all).map((v) => JSON.parse(v) as { cloudKey: string; cloud: string });
    } catch (e) {
      throw unreachable(`etcd ${endpoints.join(',')}`, e, 'the clouds list');
    } finally {
      c.close();
    }
  }

  async fleet(): Promise<FleetView> {
    const hostsP = buf(this.key('hosts') + '/');
    const claimsP = buf(this.key('budget', 'claims') + '/');
    const seenP = buf(this.key('budget', 'seen') + '/');
    const [hosts, claims, seen] = await Promise.all([
      this.call('the leases', () => this.client.kv.range({ key: hostsP, range_end: prefixEnd(hostsP) })),
      this.call('the budget', () => this.client.kv.range({ key: claimsP, range_end: prefixEnd(claimsP) })),
      this.call('the budget', () => this.client.kv.range({ key: seenP, range_end: prefixEnd(seenP) })),
    ]);
    const leases: FleetView['leases'] = [];
    for (const kv of hosts.kvs) {
      const h = JSON.parse(kv.value.toString()) as Holder;
      leases.push({ host: h.host, holder: h, ttl: await this.leaseTtl(h.lease).catch(() => null) });
    }
    return {
      backend: this.describe,
      cloud: this.opts.cloudName,
      leases: leases.sort((a, b) => a.host.localeCompare(b.host)),
      claims: claims.kvs.map((kv) => JSON.parse(kv.value.toString()) as FleetView['claims'][number]).sort((a, b) => a.host.localeCompare(b.host)),
      budget: seen.kvs.map((kv) => JSON.parse(kv.value.toString()) as FleetView['budget'][number]).sort((a, b) => a.scope.localeCompare(b.scope)),
    };
  }

  forget(lock: EtcdLock): void {
    this.locks.delete(lock);
  }

  async close(): Promise<void> {
    for (const l of [...this.locks]) await l.close().catch(() => undefined);
    this.client.close();
  }
}

/** A run's summary from the index (any cloud), or null: for `resume RUN` before the cloud is known. */
export async function findSharedRun(endpoints: string[], runId: string): Promise<{ cloudKey: string; cloud: string } | null> {
  const c = new Etcd3({ hosts: endpoints, dialTimeout: 5000, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 5000 }) });
  try {
    const v = await c.get(INDEX + runId).string();
    return v ? (JSON.parse(v) as { cloudKey: string; cloud: string }) : null;
  } catch (e) {
    throw unreachable(`etcd ${endpoints.join(',')}`, e, 'the runs index');
  } finally {
    c.close();
  }
}

function chunkLines(lines: string[]): string[] {
  const out: string[] = [];
  let cur = '';
  for (const line of lines) {
    if (cur.length > 0 && cur.length + line.length + 1 > PART_BYTES) {
      out.push(cur);
      cur = '';
    }
    cur += `${line}\n`;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export function unreachable(where: string, e: unknown, what?: string): HostmaintError {
  // gRPC's text carries a trailing "Resolution note:" and the whole cause chain: keep the first sentence that says what failed.
  const why = errorText(e).replace(/\s*Resolution note:.*$/s, '').replace(/\.\s*$/, '');
  return new HostmaintError('unavailable', `cannot reach the coordination backend (${where})${what ? ` for ${what}` : ''}: ${why}`, {
    hint: 'Check that etcd runs and answers on those endpoints (etcdctl endpoint health), or run without --coordination for the local backend. Nothing was changed by this command.',
  });
}

/** A host held under an etcd lease. */
export class EtcdLock implements CoordLock {
  lostReason: string | null = null;
  seq = 0;
  private readonly lostCbs: Array<(why: string) => void> = [];
  private readonly closeCbs: Array<() => void> = [];
  private lastConfirmed = performance.now();
  private pendingSent: number[] = [];
  private watchdog: NodeJS.Timeout;
  private released = false;
  private current: Holder;
  private queue: Promise<void> = Promise.resolve();
  readonly leaseId: string;

  constructor(
    private readonly coord: EtcdCoordination,
    readonly key: string,
    private readonly lease: Lease,
    holder: Holder,
    readonly tookOverFrom: LockHolder | null,
  ) {
    this.current = holder;
    this.leaseId = holder.lease;
    lease.on('keepaliveFired', () => this.pendingSent.push(performance.now()));
    lease.on('keepaliveSucceeded', (res) => {
      const sent = this.pendingSent.shift();
      if (sent !== undefined) this.lastConfirmed = Math.max(this.lastConfirmed, sent);
      if (Number(res.TTL) <= 0) this.lose('etcd says the lease is gone (revoked: another runner took the host with --adopt, or it expired)');
    });
    // A new keepalive stream (after an error): sends of the old one will never be answered.
    lease.on('keepaliveFailed', () => (this.pendingSent = []));
    lease.on('keepaliveEstablished', () => (this.pendingSent = []));
    lease.on('lost', (err) => this.lose(`etcd lease lost: ${errorText(err)}`));
    const ttlMs = coord.ttlSeconds * 1000;
    const margin = Math.min(2000, ttlMs / 4);
    this.watchdog = setInterval(() => {
      if (this.lostReason === null && performance.now() - this.lastConfirmed > ttlMs - margin) {
        this.lose(`no keepalive of the lease answered for ${((performance.now() - this.lastConfirmed) / 1000).toFixed(1)}s (TTL ${coord.ttlSeconds}s): etcd unreachable, or this process was paused`);
      }
    }, 200);
    this.watchdog.unref();
  }

  get file(): string {
    return this.key;
  }

  get where(): string {
    return `etcd key ${this.key} (lease ${this.leaseId})`;
  }

  get holder(): LockHolder {
    return this.current;
  }

  /** True while the lease is held, checked now on the monotonic clock (for a gate before each change to the cloud). */
  valid(): boolean {
    return this.lostReason === null && performance.now() - this.lastConfirmed <= this.coord.ttlSeconds * 1000 - Math.min(2000, (this.coord.ttlSeconds * 1000) / 4);
  }

  lostError(): HostmaintError {
    return new HostmaintError('unavailable', `lost the hold on ${this.current.host}: ${this.lostReason ?? 'the host key is no longer ours'}`, {
      hint: `No new action is started; migrations already requested finish in Nova. Resume with \`hostmaint resume ${this.current.runId}\` once etcd is reachable (from any runner).`,
    });
  }

  private lose(why: string): void {
    if (this.lostReason !== null || this.released) return;
    this.lostReason = why;
    for (const cb of this.lostCbs.splice(0)) {
      try {
        cb(why);
      } catch {
        /* a callback's failure is not ours */
      }
    }
  }

  onLost(cb: (why: string) => void): void {
    if (this.lostReason !== null) cb(this.lostReason);
    else this.lostCbs.push(cb);
  }

  onClose(cb: () => void): void {
    this.closeCbs.push(cb);
  }

  setRunId(runId: string): void {
    if (this.released || runId === this.current.runId) return;
    this.current = { ...this.current, runId };
    const value = JSON.stringify(this.current);
    this.enqueue(async () => {
      if (!(await this.coord.fenced(this, [{ request_put: { key: buf(this.key), value: buf(value), lease: this.leaseId } }]))) this.lose('the host key is no longer ours');
    });
  }

  private enqueue(f: () => Promise<void>): void {
    this.queue = this.queue.then(f).catch((e) => {
      this.lose(`a write to etcd failed: ${errorText(e)}`);
    });
  }

  /** What the store hands over: the records and journal lines of the run this lock holds. */
  sink(store: RunStore): import('../store.js').RunSink {
    let gen = 0;
    let pendingRecord: RunRecord | null = null;
    let pendingLines: Array<{ runId: string; line: string }> = [];
    let scheduled = false;
    let chunks = 0;
    const pump = () => {
      if (scheduled) return;
      scheduled = true;
      this.enqueue(async () => {
        scheduled = false;
        if (this.lostReason !== null) return;
        const lines = pendingLines;
        pendingLines = [];
        const rec = pendingRecord;
        pendingRecord = null;
        const byRun = new Map<string, string[]>();
        for (const l of lines) byRun.set(l.runId, [...(byRun.get(l.runId) ?? []), l.line]);
        for (const [runId, ls] of byRun) {
          if (!(await this.coord.appendJournal(this, runId, ls))) return this.lose('the host key is no longer ours (a fenced journal write was refused)');
          if (++chunks % 32 === 0) await this.coord.compactJournal(this, runId);
        }
        if (rec && !(await this.coord.putRecord(this, rec, ++gen))) return this.lose('the host key is no longer ours (a fenced record write was refused)');
      });
    };
    void store;
    return {
      accepts: (runId) => !this.released && runId === this.current.runId,
      record: (rec) => {
        pendingRecord = rec;
        pump();
      },
      journal: (runId, entry: JournalEntry) => {
        pendingLines.push({ runId, line: JSON.stringify(entry) });
        pump();
      },
    };
  }

  /** Write out what is queued, then give the host back (revoke the lease: its keys go). */
  async close(): Promise<void> {
    if (this.released) return;
    await this.queue;
    this.releaseNow();
    await this.lease.revoke().catch(() => undefined);
  }

  release(): void {
    if (this.released) return;
    this.releaseNow();
    void this.lease.revoke().catch(() => undefined);
  }

  private releaseNow(): void {
    this.released = true;
    clearInterval(this.watchdog);
    for (const cb of this.closeCbs.splice(0)) cb();
    this.coord.forget(this);
  }
}
