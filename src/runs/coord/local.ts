/**
 * The embedded local backend: today's lock files and state directory, and a
 * disruption budget kept under a lock file of that directory (one machine).
 */
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostmaintError } from '../../core/errors.js';
import { acquireHostLock, holderAlive, liveHolder, procStartTime, type HostLock, type LockHolder } from '../lock.js';
import { mkdirpSync, writeFileAtomicSync, type RunStore } from '../store.js';
import { budgetVerdict, type AcquireRequest, type BudgetClaim, type BudgetRequest, type Coordination, type CoordLock, type FleetView } from './types.js';
import { granted, waitForRoom } from './budget-wait.js';

interface ClaimFile {
  host: string;
  runId: string;
  scopes: string[];
  at: string;
  pid: number;
  procStart: number | null;
  machine: string;
}

export function localLock(lock: HostLock): CoordLock {
  return Object.assign(Object.create(null) as object, {
    get file() {
      return lock.file;
    },
    get holder() {
      return lock.holder;
    },
    tookOverFrom: lock.tookOverFrom,
    setRunId: (id: string) => lock.setRunId(id),
    release: () => lock.release(),
    lostReason: null,
    onLost: () => undefined,
    close: async () => lock.release(),
    where: `lock file ${lock.file}`,
  }) as CoordLock;
}

export class LocalCoordination implements Coordination {
  readonly kind = 'local' as const;
  readonly ttlSeconds = null;
  constructor(private readonly stateDir: string) {}

  get describe(): string {
    return `state directory ${this.stateDir}`;
  }

  private get locksDir(): string {
    return path.join(this.stateDir, 'locks');
  }

  private get budgetDir(): string {
    return path.join(this.stateDir, 'budget');
  }

  async acquireHost(want: AcquireRequest): Promise<CoordLock> {
    return localLock(await acquireHostLock(this.locksDir, want));
  }

  async pullRuns(): Promise<{ pulled: number }> {
    return { pulled: 0 };
  }

  share(_store: RunStore, _lock: CoordLock): void {
    /* the state directory is the store */
  }

  private claims(): ClaimFile[] {
    let names: string[] = [];
    try {
      names = readdirSync(this.budgetDir);
    } catch {
      return [];
    }
    const out: ClaimFile[] = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      try {
        const c = JSON.parse(readFileSync(path.join(this.budgetDir, n), 'utf8')) as ClaimFile;
        const asHolder = { pid: c.pid, procStart: c.procStart, machine: c.machine } as LockHolder;
        if (holderAlive(asHolder)) out.push(c);
      } catch {
        /* torn or foreign: not a claim */
      }
    }
    return out;
  }

  async claimBudget(req: BudgetRequest): Promise<BudgetClaim> {
    const file = path.join(this.budgetDir, `${encodeURIComponent(req.host).replace(/%/g, '_')}.json`);
    return waitForRoom(req, async () => {
      // The read, the decision and the claim happen under one lock: two drains of this machine cannot both take the last slot.
      const guard = await acquireBudgetGuard(this.locksDir, req.runId);
      try {
        const claims = this.claims();
        const services = await req.services();
        const v = budgetVerdict(req, services, claims);
        if (!v.ok) return { ok: false as const, wait: v.wait };
        mkdirpSync(this.budgetDir);
        const c: ClaimFile = { host: req.host, runId: req.runId, scopes: v.scopes, at: new Date().toISOString(), pid: process.pid, procStart: procStartTime(process.pid), machine: os.hostname() };
        writeFileAtomicSync(file, JSON.stringify(c));
        return granted(v, async () => {
              try {
                const seen = JSON.parse(readFileSync(file, 'utf8')) as ClaimFile;
                if (seen.runId === req.runId && seen.pid === process.pid) unlinkSync(file);
              } catch {
                /* gone */
              }
        });
      } finally {
        guard.release();
      }
    });
  }

  async fleet(): Promise<FleetView> {
    const leases: FleetView['leases'] = [];
    let names: string[] = [];
    try {
      names = readdirSync(this.locksDir);
    } catch {
      /* none */
    }
    for (const n of names.filter((x) => x.endsWith('.lock'))) {
      try {
        const h = JSON.parse(readFileSync(path.join(this.locksDir, n), 'utf8')) as LockHolder;
        const live = liveHolder(this.locksDir, h.host);
        if (live) leases.push({ host: live.host, holder: live, ttl: null });
      } catch {
        /* torn */
      }
    }
    return { backend: this.describe, cloud: '', leases, claims: this.claims().map((c) => ({ host: c.host, runId: c.runId, scopes: c.scopes, at: c.at })), budget: [] };
  }

  async close(): Promise<void> {
    /* nothing held */
  }
}

async function acquireBudgetGuard(locksDir: string, runId: string): Promise<HostLock> {
  for (let i = 0; ; i++) {
    try {
      return await acquireHostLock(locksDir, { host: '~budget', runId, command: 'drain' });
    } catch (e) {
      if (!(e instanceof HostmaintError) || e.kind !== 'host-busy' || i > 200) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
