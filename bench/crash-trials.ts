/**
 * Crash-resume trials: hostmaint killed with SIGKILL at random moments of
 * drains, then run again until it finishes — the operator's "run it again".
 *
 * The emulated cloud runs in this process (scaled real time, its own request
 * log); hostmaint runs as child processes (`node bin/hostmaint.js drain ...`
 * through a clouds.yaml), so a SIGKILL is a real one: no handler runs, the
 * lock stays behind, the last record write may be a step old.
 *
 * Every trial varies the scenario (instance count and states, Nova's
 * per-compute limit, hostmaint's concurrency, flaky requests and short-lived
 * tokens, a migration that fails once), kills 1-3 times at random moments
 * (random delay, or right after a random number of journal entries), resumes
 * with `hostmaint drain` again or `hostmaint resume <id>`, and then checks,
 * from the emulator's model and request log only:
 *
 *   - the host is empty; every instance is on another host in its original
 *     state (ACTIVE / PAUSED / SHUTOFF), none in ERROR;
 *   - no move request for an instance was sent while it was already moving,
 *     and no instance completed two migrations;
 *   - the service is disabled by hostmaint.
 *
 *   npx tsx bench/crash-trials.ts                 # 50 trials (needs `npm run build`)
 *   npx tsx bench/crash-trials.ts --trials 200 --seed 7 --speed 20
 *
 * It prints one line per trial and a tally; exit 1 when any trial failed.
 * test/emulator/crash-trials.test.ts runs a short version (10 trials) in CI.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scaledClock, startEmulator, type Emulator, type FaultSpec, type Scenario } from '../src/emulator/index.js';
import { captureOriginals, checkInvariants } from '../test/emulator/crash-helpers.js';
import { arg, guardedTrial, runChild, savedRuns, startBatch, type Rng } from './lib/child-kills.js';

export interface TrialOptions {
  trials: number;
  seed: number;
  /** Emulated time runs this many times faster than real time. */
  speed: number;
  /** One line per trial. */
  log?: (line: string) => void;
  /** Stop at the first failing trial. */
  failFast?: boolean;
}

export interface TrialResult {
  trial: number;
  variant: string;
  kills: number;
  /** Phases the kills landed in (from the saved record right after each kill). */
  killPhases: string[];
  runs: number;
  resumedSameRun: boolean;
  ok: boolean;
  problems: string[];
  faultyRequests: number;
  ms: number;
  /** Each hostmaint run: how it ended and how long it took. */
  runLog: string[];
}

export interface Tally {
  trials: number;
  passed: number;
  failed: number;
  kills: number;
  killPhases: Record<string, number>;
  runs: number;
  faultyRequests: number;
  ms: number;
  results: TrialResult[];
}

interface Variant {
  name: string;
  scenario: Scenario;
  concurrency: number;
  faults: FaultSpec[];
}

const VARIANTS = ['active', 'mixed-states', 'three-in-flight', 'flaky-cloud', 'fails-once'] as const;

function variantFor(rng: Rng, kind: (typeof VARIANTS)[number]): Variant {
  const n = rng.int(3, 7);
  const perCompute = kind === 'three-in-flight' ? 3 : rng.int(1, 2);
  const instances: unknown[] = [{ name: 'vm-{i}', flavor: 'm1.small', host: 'compute-01', count: n }];
  if (kind === 'mixed-states' || kind === 'flaky-cloud') {
    instances.push({ name: 'paused-1', flavor: 'm1.small', host: 'compute-01', state: 'PAUSED' });
    instances.push({ name: 'stopped-1', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' });
  }
  const faults: FaultSpec[] = [];
  if (kind === 'flaky-cloud') {
    faults.push({ kind: 'http-error', status: 503, probability: 0.03, match: { service: 'compute' }, name: 'flaky 503' });
    faults.push({ kind: 'reset', probability: 0.02, when: 'after', match: { service: 'compute', method: 'POST' }, name: 'reset after effect' });
    faults.push({ kind: 'token-lifetime', seconds: 60, name: 'short tokens' });
  }
  if (kind === 'fails-once') faults.push({ kind: 'migration-fail', server: 'vm-02', attempt: 1, name: 'vm-02 fails once' });
  const scenario = {
    name: `trial-${kind}`,
    migration: { schedule_ms: 300, preparing_ms: 500, post_migrating_ms: 500, cold_migration_ms: 4000, confirm_ms: 500, bandwidth_mbps: rng.pick([200, 400]), dirty_rate_mbps: 20 },
    defaults: { host: { vcpus: 32, ram_mb: 65536, disk_gb: 2000, max_concurrent_live_migrations: perCompute } },
    hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }, { name: 'compute-04' }],
    instances,
    faults,
  } as Scenario;
  return { name: kind, scenario, concurrency: kind === 'three-in-flight' ? 3 : rng.int(1, 4), faults };
}

async function oneTrial(trial: number, rng: Rng, speed: number, dir: string): Promise<TrialResult> {
  const t0 = Date.now();
  const variant = variantFor(rng, VARIANTS[trial % VARIANTS.length]!);
  const emu: Emulator = await startEmulator({ scenario: variant.scenario, clock: scaledClock(speed), seed: trial + 1 });
  const stateDir = path.join(dir, `trial-${trial}`);
  const clouds = path.join(dir, `clouds-${trial}.yaml`);
  writeFileSync(clouds, emu.cloudsYaml('emu'));
  const env = { OS_CLIENT_CONFIG_FILE: clouds };
  const drainArgs = ['drain', 'compute-01', '--os-cloud', 'emu', '--yes', '--state-dir', stateDir, '--poll-interval', '200ms', '--concurrency', String(variant.concurrency), '--stall-timeout', '60s', '--retries', '3'];
  const result: TrialResult = { trial, variant: variant.name, kills: 0, killPhases: [], runs: 0, resumedSameRun: false, ok: false, problems: [], faultyRequests: 0, ms: 0, runLog: [] };
  await guardedTrial(result, t0, () => emu.stop(), async () => {
      const originals = captureOriginals(emu, 'compute-01');
      const kills = rng.pick([1, 1, 1, 2, 2, 3]);
      let firstRunId: string | null = null;
      let finalCode: number | null = null;
      let lastStderr = '';
      for (let run = 0; run < kills + 6; run++) {
        const killing = run < kills;
        // Half the kills at a random moment in time, half right after a random number of journal lines.
        // (A drain takes ~1-4 s of real time at x20; faster emulated time, earlier kills.)
        const kill = killing ? (rng.next() < 0.5 ? { afterMs: rng.int(50, Math.round((2500 * 20) / speed)) } : { atEntries: rng.int(1, 40) }) : null;
        const unfinished = savedRuns(stateDir).find((r) => r.state === 'running' || r.state === 'interrupted');
        const args = unfinished && rng.next() < 0.3 ? ['resume', unfinished.runId, '--state-dir', stateDir] : drainArgs;
        const tr = Date.now();
        const r = await runChild(args, env, stateDir, kill);
        result.runs++;
        result.runLog.push(`${args[0]}: ${r.killed ? 'SIGKILL' : `exit ${r.code}`} after ${((Date.now() - tr) / 1000).toFixed(1)} s`);
        lastStderr = r.stderr;
        firstRunId ??= savedRuns(stateDir)[0]?.runId ?? null;
        if (r.killed) {
          result.kills++;
          const rec = savedRuns(stateDir).find((x) => x.state === 'running');
          result.killPhases.push(rec ? (rec.phase ?? 'start').split('.')[0]! : 'before-record');
          continue;
        }
        finalCode = r.code;
        if (r.code === 0 || r.code === 4) break;
        // Exit 6 / 1 on a flaky cloud: the operator runs it again.
      }
      const runs = savedRuns(stateDir);
      result.resumedSameRun = firstRunId !== null && runs.length === 1 && runs[0]!.runId === firstRunId;
      if (finalCode !== 0) result.problems.push(`the last run exited ${finalCode}: ${lastStderr.split('\n').filter((l) => /hostmaint:/.test(l)).slice(-2).join(' / ')}`);
      result.problems.push(...checkInvariants(emu, 'compute-01', originals));
      result.faultyRequests = emu.requests.records.filter((x) => x.fault !== null).length;
      result.ok = result.problems.length === 0;
  });
  return result;
}

export async function runTrials(opts: TrialOptions): Promise<Tally> {
  const { rng, dir } = startBatch('hm-trials-', opts.seed);
  const tally: Tally = { trials: 0, passed: 0, failed: 0, kills: 0, killPhases: {}, runs: 0, faultyRequests: 0, ms: 0, results: [] };
  const t0 = Date.now();
  try {
    for (let i = 0; i < opts.trials; i++) {
      const r = await oneTrial(i, rng, opts.speed, dir);
      tally.trials++;
      tally.results.push(r);
      tally.kills += r.kills;
      tally.runs += r.runs;
      tally.faultyRequests += r.faultyRequests;
      for (const p of r.killPhases) tally.killPhases[p] = (tally.killPhases[p] ?? 0) + 1;
      if (r.ok) tally.passed++;
      else tally.failed++;
      opts.log?.(
        `trial ${String(i + 1).padStart(3)} ${r.variant.padEnd(15)} ${r.ok ? 'ok  ' : 'FAIL'} kills ${r.kills} (${r.killPhases.join(', ') || '-'}), runs ${r.runs}, ${r.resumedSameRun ? 'one run resumed to the end' : 'new run(s)'}${r.faultyRequests ? `, ${r.faultyRequests} faulty requests` : ''}, ${(r.ms / 1000).toFixed(1)} s${r.ok ? '' : `\n      ${[...r.problems, ...r.runLog].join('\n      ')}`}`,
      );
      if (!r.ok && opts.failFast) break;
    }
  } finally {
    tally.ms = Date.now() - t0;
    rmSync(dir, { recursive: true, force: true });
  }
  return tally;
}

export function formatTally(t: Tally): string {
  const phases = Object.entries(t.killPhases)
    .sort((a, b) => b[1] - a[1])
    .map(([p, n]) => `${p} ${n}`)
    .join(', ');
  return [
    `crash trials: ${t.passed}/${t.trials} passed${t.failed ? `, ${t.failed} FAILED` : ''}`,
    `  SIGKILLs: ${t.kills} (landed in: ${phases || '-'})`,
    `  hostmaint runs: ${t.runs}; failed requests injected and survived: ${t.faultyRequests}`,
    `  time: ${(t.ms / 1000).toFixed(1)} s`,
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const trials = arg('trials', 50);
  const seed = arg('seed', 1);
  const speed = arg('speed', 20);
  console.log(`crash-resume trials: ${trials} trials, seed ${seed}, emulated time x${speed}`);
  const tally = await runTrials({ trials, seed, speed, log: (l) => console.log(l) });
  console.log(formatTally(tally));
  process.exitCode = tally.failed === 0 ? 0 : 1;
}
