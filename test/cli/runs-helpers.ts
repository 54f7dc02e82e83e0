/**
 * A cloud that outlives hostmaint processes: an emulator started by the test
 * (scaled real time, since hostmaint uses the real clock for a named cloud),
 * reached through a clouds.yaml (OS_CLIENT_CONFIG_FILE) as `--os-cloud emu`,
 * by in-process CLI runs (helpers.hostmaint) and by child processes
 * (node bin/hostmaint.js, which needs `npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { scaledClock, startEmulator, type Emulator, type FaultSpec, type Scenario } from '../../src/emulator/index.js';

export const FAST_MIGRATIONS = { schedule_ms: 300, preparing_ms: 500, post_migrating_ms: 500, cold_migration_ms: 4000, confirm_ms: 500, bandwidth_mbps: 200, dirty_rate_mbps: 20 };

export function runsScenario(over: { instances?: unknown[]; hosts?: unknown[]; faults?: FaultSpec[]; maxConcurrent?: number; migration?: Record<string, number>; adminPassword?: string } = {}): Scenario {
  return {
    name: 'runs-test',
    ...(over.adminPassword ? { keystone: { admin: { password: over.adminPassword } } } : {}),
    migration: { ...FAST_MIGRATIONS, ...(over.migration ?? {}) },
    defaults: { host: { vcpus: 32, ram_mb: 65536, disk_gb: 2000, max_concurrent_live_migrations: over.maxConcurrent ?? 1 } },
    hosts: over.hosts ?? [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
    flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }],
    projects: [{ name: 'tenant-a' }],
    instances: over.instances ?? [
      { name: 'web-{i}', count: 3, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' },
      { name: 'db-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', state: 'PAUSED' },
      { name: 'batch-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' },
    ],
    ...(over.faults ? { faults: over.faults } : {}),
  } as Scenario;
}

export interface TestCloud {
  emu: Emulator;
  /** Environment that selects it (merge into the CLI's env). */
  env: Record<string, string>;
  /** Flags that select it. */
  args: string[];
  stop(): Promise<void>;
}

export async function startCloud(dir: string, scenario: Scenario | string, opts: { speed?: number; faults?: FaultSpec[]; seed?: number } = {}): Promise<TestCloud> {
  const emu = await startEmulator({ scenario, clock: scaledClock(opts.speed ?? 50), faults: opts.faults ?? [], seed: opts.seed ?? 1 });
  const file = path.join(dir, `clouds-${emu.port}.yaml`);
  writeFileSync(file, emu.cloudsYaml('emu'));
  return { emu, env: { OS_CLIENT_CONFIG_FILE: file }, args: ['--os-cloud', 'emu'], stop: () => emu.stop() };
}

/** bin/hostmaint.js runs dist/: true when dist is built and not older than src (npm test builds first). */
export function builtCliReady(): { ok: boolean; why: string } {
  const root = path.resolve('.');
  const main = path.join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) return { ok: false, why: 'dist/ is not built: run `npm run build` (npm test does)' };
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  if (newest(path.join(root, 'src')) > statSync(main).mtimeMs + 1000 && newest(path.join(root, 'src', 'runs')) > newest(path.join(root, 'dist', 'runs'))) {
    return { ok: false, why: 'dist/ is older than src/runs: run `npm run build`' };
  }
  return { ok: true, why: '' };
}

/** A mocha `before` hook: tests that run bin/hostmaint.js need dist/ built (npm test does); CI fails without it, a developer's run skips. */
export function requireBuiltCli(this: Mocha.Context): void {
  const ready = builtCliReady();
  if (!ready.ok) {
    if (process.env.CI) throw new Error(ready.why);
    console.log(`    (skipped: ${ready.why})`);
    this.skip();
  }
}

export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr matches. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node bin/hostmaint.js ...args` as a child process. */
export function spawnHostmaint(args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [path.resolve('bin/hostmaint.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) {
      if (w.re.test(err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (re, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(err)) return resolve();
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in stderr:\n${err}`)), timeoutMs);
        waiters.push({ re, resolve: () => { clearTimeout(t); resolve(); } });
        void exited.then(() => setTimeout(() => reject(new Error(`exited before ${re} appeared; stderr:\n${err}`)), 50));
      }),
  };
}

/** Journal entries of every run under a state directory (what hostmaint wrote so far). */
export function journalEntries(stateDir: string): Array<Record<string, unknown>> {
  const runs = path.join(stateDir, 'runs');
  if (!existsSync(runs)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const id of readdirSync(runs)) {
    const file = path.join(runs, id, 'journal.ndjson');
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* torn line */
      }
    }
  }
  return out;
}

/** Resolves once a journal entry matches (polling the files every 5 ms). */
export function whenJournal(stateDir: string, match: (e: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const hit = journalEntries(stateDir).find(match);
      if (hit) {
        clearInterval(t);
        resolve(hit);
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(t);
        reject(new Error(`no journal entry matched in ${stateDir} within ${timeoutMs} ms`));
      }
    }, 5);
  });
}

export const isMigrationStarted = (e: Record<string, unknown>): boolean => e.kind === 'event' && e.type === 'migration-started';
