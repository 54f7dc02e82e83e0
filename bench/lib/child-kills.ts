/**
 * Shared by the crash-resume trials (bench/crash-trials.ts for drains,
 * bench/rolling-crash-trials.ts for rolling runs): a seeded random source,
 * `node bin/hostmaint.js` as a child process killed with SIGKILL after a
 * delay or a number of journal lines, and the saved runs of a state directory
 * as the files say (never hostmaint's word).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'hostmaint.js');

/** mulberry32: the same seed, the same trials. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Only when asked for (runChild's captureStdout). */
  stdout: string;
  killed: boolean;
}

export function journalCount(stateDir: string): number {
  const runs = path.join(stateDir, 'runs');
  if (!existsSync(runs)) return 0;
  let n = 0;
  for (const id of readdirSync(runs)) {
    try {
      n += readFileSync(path.join(runs, id, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean).length;
    } catch {
      /* not yet */
    }
  }
  return n;
}

export interface SavedRun {
  runId: string;
  command: string;
  host: string;
  state: string;
  phase: string | null;
  startedAt: string;
  parentRunId?: string | null;
  hosts?: string[];
}

export function savedRuns(stateDir: string): SavedRun[] {
  const runs = path.join(stateDir, 'runs');
  if (!existsSync(runs)) return [];
  const out = [];
  for (const id of readdirSync(runs)) {
    try {
      const r = JSON.parse(readFileSync(path.join(runs, id, 'run.json'), 'utf8')) as SavedRun;
      out.push(r);
    } catch {
      /* torn or missing */
    }
  }
  return out;
}

/** Journal lines (parsed) written after the first `skip` ones, over every run of a state directory. */
function journalLinesSince(stateDir: string, seen: Map<string, number>): Array<Record<string, unknown>> {
  const runs = path.join(stateDir, 'runs');
  if (!existsSync(runs)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const id of readdirSync(runs)) {
    let lines: string[];
    try {
      lines = readFileSync(path.join(runs, id, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean);
    } catch {
      continue;
    }
    const from = seen.get(id) ?? 0;
    for (const l of lines.slice(from)) {
      try {
        out.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        /* torn */
      }
    }
    seen.set(id, lines.length);
  }
  return out;
}

/** Run hostmaint; kill it with SIGKILL after `killAfterMs`, once the journal has `killAtEntries` more lines, or at the first new journal entry `whenEntry` matches. */
export function runChild(
  args: string[],
  env: Record<string, string>,
  stateDir: string,
  kill: { afterMs?: number; atEntries?: number; whenEntry?: (e: Record<string, unknown>) => boolean } | null,
  opts: { captureStdout?: boolean } = {},
): Promise<ChildRun> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', opts.captureStdout ? 'pipe' : 'ignore', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let killed = false;
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const timers: NodeJS.Timeout[] = [];
    const doKill = () => {
      if (killed || proc.exitCode !== null) return;
      killed = true;
      proc.kill('SIGKILL');
    };
    if (kill?.afterMs !== undefined) timers.push(setTimeout(doKill, kill.afterMs));
    if (kill?.atEntries !== undefined) {
      const base = journalCount(stateDir);
      const target = base + kill.atEntries;
      const t = setInterval(() => {
        if (journalCount(stateDir) >= target) doKill();
      }, 2);
      timers.push(t);
    }
    if (kill?.whenEntry) {
      const seen = new Map<string, number>();
      journalLinesSince(stateDir, seen);
      const t = setInterval(() => {
        if (journalLinesSince(stateDir, seen).some(kill.whenEntry!)) doKill();
      }, 5);
      timers.push(t);
    }
    const hard = setTimeout(doKill, 240_000);
    proc.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      clearTimeout(hard);
      resolve({ code, signal, stderr, stdout, killed: killed && signal === 'SIGKILL' });
    });
  });
}

/** `--name N` from the command line: a positive number, else `def`. */
export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

/** A batch of trials: dist/ must be built; the seeded source and a temporary directory (the caller removes it). */
export function startBatch(prefix: string, seed: number): { rng: Rng; dir: string } {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npm run build` first');
  return { rng: new Rng(seed), dir: mkdtempSync(path.join(os.tmpdir(), prefix)) };
}

/** Run one trial's body: a crash becomes a problem; the cloud is stopped and the time taken, whatever happened. */
export async function guardedTrial(result: { problems: string[]; ms: number }, t0: number, stop: () => Promise<void>, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    result.problems.push(`trial crashed: ${(e as Error).stack ?? String(e)}`);
  } finally {
    await stop();
    result.ms = Date.now() - t0;
  }
}
