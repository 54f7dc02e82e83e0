/**
 * The progress model of a live migration's copy: piecewise linear segments.
 * A segment starts from the numbers at its start with a bandwidth and a page
 * dirtying rate; the root disk (block migration) is copied first, then memory,
 * where what remains shrinks at (bandwidth - dirty rate). A copy whose dirty
 * rate is at least the bandwidth never converges: what remains stays at a
 * working set proportional to the rates. Pure functions of the migration and
 * a model time; live-migration.ts turns the convergence time into an event.
 */
import type { MigrationState } from '../model.js';
import { MB } from '../model.js';

export interface Progress {
  memP: number;
  memR: number;
  diskP: number;
  diskR: number;
}

function plateau(m: MigrationState, bw: number, dirty: number): number {
  // A migration whose dirty rate >= bandwidth never converges: after the
  // first pass, what is left stays at a working set proportional to the rates.
  return Math.min(m.memTotal, Math.ceil(m.memTotal * Math.min(0.9, 0.3 * (dirty / Math.max(bw, 1e-9)))));
}

/** Period (model ms) and depth of the swing of what remains in a copy that never converges. */
const PLATEAU_PERIOD_MS = 4000;
const PLATEAU_SWING = 0.4;

/** 0 -> 1 -> 0 over each unit of x. */
function triangle(x: number): number {
  const f = x - Math.floor(x);
  return 1 - Math.abs(2 * f - 1);
}

function progressAt(m: MigrationState, t: number): Progress {
  const g = m.seg!;
  let dt = Math.max(0, t - g.start);
  let diskP = g.diskP;
  let diskR = g.diskR;
  if (diskR > 0 && g.bw > 0) {
    const need = diskR / g.bw;
    const used = Math.min(dt, need);
    diskP += used * g.bw;
    diskR -= used * g.bw;
    dt -= used;
  } else if (diskR > 0) dt = 0;
  let memP = g.memP;
  let memR = g.memR;
  if (dt > 0 && g.bw > 0) {
    memP += g.bw * dt;
    if (g.dirty < g.bw) memR = Math.max(0, memR - (g.bw - g.dirty) * dt);
    else {
      // Never converges: the first pass brings what remains down to the working set, then
      // each pass re-sends what the guest dirtied meanwhile, so it swings between 60 % and
      // 100 % of the working set and never sets a lower low (seen on the lab's QEMU guests:
      // 10-33 MiB left of a 32 MiB working set, for ever).
      const p = plateau(m, g.bw, g.dirty);
      const toPlateau = Math.max(0, (memR - p) / g.bw);
      if (dt <= toPlateau) memR = memR - g.bw * dt;
      else memR = p * (1 - PLATEAU_SWING * triangle((dt - toPlateau) / PLATEAU_PERIOD_MS));
    }
  }
  return { memP: Math.round(memP), memR: Math.round(memR), diskP: Math.round(diskP), diskR: Math.round(diskR) };
}

/** Progress numbers at model time `now` (the recorded ones when no segment runs). */
export function progress(m: MigrationState, now: number): Progress {
  if (!m.seg) return { memP: m.memProcessed, memR: m.memRemaining, diskP: m.diskProcessed, diskR: m.diskRemaining };
  return progressAt(m, now);
}

function record(m: MigrationState, p: Progress): void {
  Object.assign(m, { memProcessed: p.memP, memRemaining: p.memR, diskProcessed: p.diskP, diskRemaining: p.diskR });
}

/**
 * Start a new segment at `now` with these rates (MB/s). Returns the ms until
 * the copy converges (what remains fits in max_downtime), or null when it
 * does not move (bandwidth 0: frozen) or never converges.
 */
export function startSegment(m: MigrationState, now: number, bwMbps: number, dirtyMbps: number, maxDowntimeMs: number): number | null {
  const cur = progress(m, now);
  record(m, cur);
  const bw = (bwMbps * MB) / 1000; // bytes per ms
  const dirty = (dirtyMbps * MB) / 1000;
  m.seg = { start: now, memP: cur.memP, memR: cur.memR, diskP: cur.diskP, diskR: cur.diskR, bw, dirty };
  if (bw <= 0 || dirty >= bw) return null; // frozen or never converges
  const threshold = bw * maxDowntimeMs;
  const diskMs = cur.diskR / bw;
  const memMs = Math.max(0, (cur.memR - threshold) / (bw - dirty));
  return diskMs + memMs;
}

/** End the running segment at `now`, keeping its numbers. */
export function endSegment(m: MigrationState, now: number): void {
  if (m.seg) record(m, progressAt(m, now));
  m.seg = null;
}
