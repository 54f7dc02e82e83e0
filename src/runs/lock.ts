/**
 * One run per host on this machine: `<state-dir>/locks/<host>.lock`, created
 * exclusively (written to a temp file, then hard-linked into place, so a
 * reader never sees a half-written lock). It names its holder: pid, the
 * process's start time (so a reused pid is not mistaken for the holder), run
 * id, command, start time and machine name.
 *
 * A second hostmaint for the same host gets a `host-busy` error (exit 5)
 * naming the holder. A lock whose holder died (SIGKILL, power cut, a second
 * Ctrl-C) is detected — same machine, and the pid is gone or is another
 * process now — and taken over under a short-lived takeover guard, so two
 * processes that find the same dead lock cannot both take it.
 *
 * Across machines (a state directory on shared storage), liveness cannot be
 * checked: a lock of another machine is always treated as held. The cloud-side
 * guard across machines is the service's disabled reason (the run's marker).
 */
import type { RunCommand } from './schema.js';
import { linkSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { HostmaintError } from '../core/errors.js';
import { fsyncDirSync, mkdirpSync, writeFileAtomicSync, writeTempSync } from './store.js';

export interface LockHolder {
  pid: number;
  /** /proc/<pid>/stat start time (clock ticks since boot), null where /proc is unavailable. */
  procStart: number | null;
  machine: string;
  runId: string;
  command: RunCommand;
  host: string;
  startedAt: string;
}

export interface HostLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** The dead holder this lock was taken over from, if any. */
  readonly tookOverFrom: LockHolder | null;
  /** Name another run id in the lock (e.g. after deciding to resume an existing run). */
  setRunId(runId: string): void;
  /** Remove the lock if it is still ours. Synchronous: safe in exit paths. */
  release(): void;
}


export function lockFileFor(locksDir: string, host: string): string {
  const name = encodeURIComponent(host).replace(/%/g, '_');
  // A file name has at most 255 bytes (with ".lock" and a temp suffix): a long host name is cut and made unique by its hash.
  const safe = name.length <= 180 ? name : `${name.slice(0, 120)}-${createHash('sha256').update(host).digest('hex').slice(0, 32)}`;
  return path.join(locksDir, `${safe}.lock`);
}

/** The start time of a process (Linux /proc), to tell a live holder from a reused pid. */
export function procStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive = same machine and the pid runs and (where known) started when the holder did. Other machines: assumed alive. */
export function holderAlive(h: LockHolder): boolean {
  if (h.machine !== os.hostname()) return true;
  if (!pidAlive(h.pid)) return false;
  if (h.procStart !== null) {
    const now = procStartTime(h.pid);
    if (now !== null && now !== h.procStart) return false;
  }
  return true;
}

function readHolder(file: string): { holder: LockHolder | null; raw: string | null; mtimeMs: number } {
  let raw: string;
  let mtimeMs = 0;
  try {
    raw = readFileSync(file, 'utf8');
    mtimeMs = statSync(file).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { holder: null, raw: null, mtimeMs: 0 };
    throw e;
  }
  try {
    const h = JSON.parse(raw) as LockHolder;
    if (typeof h.pid !== 'number' || typeof h.runId !== 'string') return { holder: null, raw, mtimeMs };
    return { holder: h, raw, mtimeMs };
  } catch {
    return { holder: null, raw, mtimeMs };
  }
}

/** Create `file` with `text` only if it does not exist (link(2) is atomic and fails with EEXIST). */
function createExclusive(file: string, text: string): boolean {
  const tmp = writeTempSync(file, text);
  try {
    linkSync(tmp, file);
    fsyncDirSync(path.dirname(file));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function describeHolder(h: LockHolder): string {
  const where = h.machine === os.hostname() ? '' : ` on ${h.machine}`;
  return `pid ${h.pid}${where}, run ${h.runId} (${h.command}), started ${h.startedAt}`;
}

export function busyError(host: string, h: LockHolder, file: string): HostmaintError {
  const local = h.machine === os.hostname();
  return new HostmaintError('host-busy', `${host} is being ${{ drain: 'drained', undrain: 'undrained', run: 'maintained (workflow run)', rolling: 'maintained (rolling run)' }[h.command] ?? h.command} by another hostmaint: ${describeHolder(h)}`, {
    hint: local
      ? `Wait for it, or follow it with \`hostmaint status ${h.runId}\`. If that process is stuck, stop it (kill ${h.pid}): its run is saved, and \`hostmaint resume ${h.runId}\` carries on.`
      : `The lock ${file} belongs to machine ${h.machine}; its process cannot be checked from here. Remove the file only if you know that run is over.`,
    details: { holder: h, lockFile: file },
  });
}

/** This process as the holder of a host (the lock file's content; etcd's key adds its lease). */
export function holderFor(want: { host: string; runId: string; command: RunCommand; startedAt?: string | undefined }): LockHolder {
  return {
    pid: process.pid,
    procStart: procStartTime(process.pid),
    machine: os.hostname(),
    runId: want.runId,
    command: want.command,
    host: want.host,
    startedAt: want.startedAt ?? new Date().toISOString(),
  };
}

/**
 * Take the host's lock or throw `host-busy` (exit 5). A dead holder's lock is
 * taken over (reported in `tookOverFrom`).
 */
export async function acquireHostLock(
  locksDir: string,
  want: { host: string; runId: string; command: RunCommand; startedAt?: string },
): Promise<HostLock> {
  mkdirpSync(locksDir);
  const file = lockFileFor(locksDir, want.host);
  const guard = `${file}.takeover`;
  const holder = holderFor(want);
  let tookOverFrom: LockHolder | null = null;
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createExclusive(file, JSON.stringify(holder))) return makeLock(file, holder, tookOverFrom);
    const seen = readHolder(file);
    if (seen.raw === null) continue; // released in between: try again
    if (seen.holder === null) {
      // Unreadable: only a torn file of a crashed writer (writes go through link, so never in progress). Stale after a moment.
      if (Date.now() - seen.mtimeMs < 2000) {
        await sleep(50);
        continue;
      }
    } else if (holderAlive(seen.holder)) {
      throw busyError(want.host, seen.holder, file);
    }
    // Dead holder: take over under the guard, re-checking that the lock is still the dead one.
    if (!createExclusive(guard, JSON.stringify(holder))) {
      const g = readHolder(guard);
      const guardDead = g.holder ? !holderAlive(g.holder) : true;
      if (g.raw !== null && (guardDead || Date.now() - g.mtimeMs > 10_000)) {
        try {
          unlinkSync(guard);
        } catch {
          /* someone else did */
        }
      } else await sleep(20);
      continue;
    }
    try {
      const again = readHolder(file);
      if (again.raw !== null && again.raw === seen.raw) {
        unlinkSync(file);
        tookOverFrom = seen.holder;
      }
    } finally {
      try {
        unlinkSync(guard);
      } catch {
        /* gone */
      }
    }
  }
  throw new HostmaintError('host-busy', `could not take the lock of ${want.host} (${file}): it keeps changing hands`, {
    hint: 'Another hostmaint is starting on this host right now; try again in a moment.',
  });
}

function makeLock(file: string, holder: LockHolder, tookOverFrom: LockHolder | null): HostLock {
  let current = { ...holder };
  let released = false;
  return {
    file,
    get holder() {
      return current;
    },
    tookOverFrom,
    setRunId(runId: string) {
      if (released || runId === current.runId) return;
      const next = { ...current, runId };
      writeFileAtomicSync(file, JSON.stringify(next));
      current = next;
    },
    release() {
      if (released) return;
      released = true;
      const seen = readHolder(file);
      if (seen.holder && seen.holder.pid === current.pid && seen.holder.runId === current.runId && seen.holder.machine === current.machine) {
        try {
          unlinkSync(file);
        } catch {
          /* gone */
        }
      }
    },
  };
}

/** The holder of a host's lock, if held by a live process (for `status`). */
export function liveHolder(locksDir: string, host: string): LockHolder | null {
  const seen = readHolder(lockFileFor(locksDir, host));
  return seen.holder && holderAlive(seen.holder) ? seen.holder : null;
}
