/**
 * Crash-resume trials for rolling runs: `hostmaint run <workflow-file>
 * compute-01 compute-02 compute-03` killed with SIGKILL 1-3 times at random
 * moments, the same command run again each time, and the last run must finish.
 *
 * As bench/crash-trials.ts: the emulated cloud runs in this process (scaled
 * real time, its own request log), hostmaint runs as child processes through a
 * clouds.yaml, so a SIGKILL is a real one. Every trial varies the cloud (4-5
 * hosts; 1-3 instances on each of the three hosts, ACTIVE / PAUSED / SHUTOFF;
 * Nova's per-compute limit; the workflow's concurrency) and the exec step
 * (appends $HOSTMAINT_HOST to a file, sometimes then sleeps, so a kill can land
 * while it runs). The workflow: disable, preflight, migrate, verify-empty,
 * exec, enable, return-instances. After the last run, from the emulator's
 * model and request log (and the state directory for the run ids):
 *
 *   - the last run exits 0 with outcome completed and every host done; one
 *     rolling run id from the first start to the end; each host's run id is
 *     `<rolling-id>-h<n>` whenever it is seen;
 *   - every instance is back on its original host in its original state, none
 *     gone, none in ERROR;
 *   - no move request for an instance that was already moving; every instance
 *     completed exactly 2 migrations (out and back);
 *   - every host's nova-compute enabled, no hostmaint marker left;
 *   - never two hosts disabled at once (max-parallel 1), from the os-services
 *     PUTs in the request log;
 *   - the exec step ran at least once per host (more than once is counted, not
 *     failed: a step in flight when killed runs again on resume, as documented).
 *
 *   npx tsx bench/rolling-crash-trials.ts --trials 20 --seed 1   # after `npm run build`
 *   npm run soak:rolling -- --trials 6 --reboot                 # issue 21
 *
 * With --reboot the exec step also asks the emulator for a reboot of the host
 * (a `host-down` fault with up_after_ms: it returns at once, like `ssh host
 * sudo reboot`) and a wait-for-service step (expect-restart) follows it; most
 * kills are then aimed at that step (its start, after its first poll, after
 * it saw the stop, after it), half of them resumed only once every host is
 * back. test/cli/wait-resume.test.ts runs each of those points once in CI.
 *
 * One line per trial and a tally; exit 1 when any trial failed.
 * test/emulator/rolling-crash-trials.test.ts runs 3 trials in CI.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scaledClock, startEmulator, type Emulator, type Scenario } from '../src/emulator/index.js';
import { captureOriginals, doubleMoves, type OriginalServer } from '../test/emulator/crash-helpers.js';
import { journalEntries } from '../test/cli/runs-helpers.js';
import { arg, guardedTrial, journalCount, runChild, savedRuns, startBatch, type Rng } from './lib/child-kills.js';

export const ROLLING_HOSTS = ['compute-01', 'compute-02', 'compute-03'] as const;

export interface RollingTrialOptions {
  trials: number;
  seed: number;
  /** Emulated time runs this many times faster than real time. */
  speed: number;
  log?: (line: string) => void;
  failFast?: boolean;
  /** Extra checks on each finished trial (tests use it to show a broken invariant turns a trial red). */
  extraCheck?: (emu: Emulator) => string[];
  /**
   * The exec step reboots the host (a reboot that returns at once, as `ssh host sudo reboot`), and a
   * wait-for-service step (expect-restart) follows it; most kills then land in that step (at its start,
   * before the stop, after it), some resumed only once the host is back (issue 21).
   */
  reboot?: boolean;
}

export interface RollingTrialResult {
  trial: number;
  /** e.g. "5 hosts, 6 vms, limit 2, conc 3, exec+sleep". */
  variant: string;
  kills: number;
  /** Kills drawn for the trial (1-3); one whose run finished first did not land. */
  planned: number;
  /** Where each kill landed (host, step or unit/phase), from the journals right after it. */
  killPlaces: Array<{ host: string | null; step: string }>;
  runs: number;
  /** How often the exec step ran, over the three hosts. */
  execRuns: number;
  /** Hosts whose exec step ran more than once. */
  execRepeats: number;
  ok: boolean;
  problems: string[];
  ms: number;
  runLog: string[];
}

export interface RollingTally {
  trials: number;
  passed: number;
  failed: number;
  kills: number;
  planned: number;
  /** Landing places by host. */
  killHosts: Record<string, number>;
  /** Landing places by step / phase, hosts folded together. */
  killSteps: Record<string, number>;
  runs: number;
  execRuns: number;
  execRepeats: number;
  ms: number;
  results: RollingTrialResult[];
}

interface Trial {
  name: string;
  vms: number;
  scenario: Scenario;
  workflow: string;
  execLog: string;
}

const STATES = ['ACTIVE', 'ACTIVE', 'PAUSED', 'SHUTOFF'] as const;

const EMU_URL = '__EMU_URL__';

function trialFor(rng: Rng, trial: number, dir: string, reboot = false): Trial {
  const hostCount = rng.int(4, 5);
  const perCompute = rng.int(1, 2);
  const concurrency = rng.int(1, 3);
  const sleeps = rng.next() < 0.5;
  const instances: unknown[] = [];
  let vms = 0;
  for (const [i, host] of ROLLING_HOSTS.entries()) {
    const n = rng.int(1, 3);
    for (let k = 1; k <= n; k++) {
      const state = k === 1 ? 'ACTIVE' : rng.pick(STATES);
      instances.push({ name: `vm${i + 1}-${k}`, flavor: 'm1.small', host, ...(state === 'ACTIVE' ? {} : { state }) });
      vms++;
    }
  }
  const scenario = {
    name: `rolling-trial-${trial}`,
    migration: { schedule_ms: 300, preparing_ms: 500, post_migrating_ms: 500, cold_migration_ms: 4000, confirm_ms: 500, bandwidth_mbps: rng.pick([200, 400]), dirty_rate_mbps: 20 },
    defaults: { host: { vcpus: 32, ram_mb: 65536, disk_gb: 2000, max_concurrent_live_migrations: perCompute } },
    hosts: Array.from({ length: hostCount }, (_, i) => ({ name: `compute-0${i + 1}` })),
    instances,
  } as Scenario;
  const execLog = path.join(dir, `exec-${trial}.log`);
  // Appended first, then (half the trials) a pause, so a kill can land after the command did its work.
  const rebootCmd = reboot
    ? `; node -e 'fetch(process.argv[1] + "/_emulator/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "host-down", host: process.env.HOSTMAINT_HOST, in_ms: ${rng.int(0, 60_000)}, up_after_ms: ${rng.int(120_000, 300_000)} }) }).then((r) => process.exit(r.status === 201 ? 0 : 1))' ${EMU_URL}`
    : '';
  const command = `echo "$HOSTMAINT_HOST" >> '${execLog}'${sleeps ? '; sleep 0.3' : ''}${rebootCmd}`;
  const workflow = [
    'version: 1',
    'name: rolling-trial',
    'policies:',
    `  concurrency: ${concurrency}`,
    'steps:',
    '  - type: disable',
    '  - type: preflight',
    '  - type: migrate',
    '  - type: verify-empty',
    '  - type: exec',
    `    command: ${JSON.stringify(command)}`,
    ...(reboot ? ['  - type: wait-for-service', '    timeout: 3m', '    poll-interval: 1s', '    fresh: true', '    expect-restart: true', '    stall-after: 5s'] : []),
    '  - type: enable',
    '  - type: return-instances',
    '',
  ].join('\n');
  return { vms, name: `${hostCount} hosts, ${vms} vms, limit ${perCompute}, conc ${concurrency}${sleeps ? ', exec+sleep' : ''}${reboot ? ', reboot' : ''}`, scenario, workflow, execLog };
}

const DRAIN_STEPS = new Set(['disable', 'preflight', 'migrate', 'verify-empty']);
const UNDRAIN_STEPS = new Set(['enable', 'return-instances']);

/** Where a run stands, from its journal: the step (or drain/undrain unit and its phase) in flight, or the last one finished. */
function placeInRun(runId: string, stateDir: string): string {
  const open = new Set<string>();
  let phase = 'start';
  let lastFinished: string | null = null;
  for (const e of journalEntries(stateDir)) {
    if (e.runId !== runId || e.kind !== 'event') continue;
    if (e.type === 'step-started') open.add(String(e.step));
    else if (e.type === 'step-finished') {
      open.delete(String(e.step));
      lastFinished = String(e.step);
    } else if (e.type === 'phase-changed') phase = String(e.phase);
  }
  const steps = [...open];
  if (steps.length === 0) return lastFinished ? `after ${lastFinished}` : 'run created';
  if (steps.every((s) => DRAIN_STEPS.has(s))) return `drain/${phase}`;
  if (steps.every((s) => UNDRAIN_STEPS.has(s))) return `undrain/${phase}`;
  return steps.join('+');
}

/** Where a kill landed: which host's run (the last one not finished; null before any) and where in it. */
function killPlace(stateDir: string): { host: string | null; step: string } {
  const runs = savedRuns(stateDir);
  const rolling = runs.find((r) => r.command === 'rolling');
  if (!rolling) return { host: null, step: 'before the record' };
  const children = runs.filter((r) => r.parentRunId === rolling.runId).sort((a, b) => a.runId.localeCompare(b.runId, 'en', { numeric: true }));
  const current = children.find((c) => c.state !== 'finished');
  if (current) return { host: current.host, step: placeInRun(current.runId, stateDir) };
  const last = children[children.length - 1];
  return last ? { host: null, step: `after ${last.host}` } : { host: null, step: 'before the first host' };
}

/** The greatest number of hosts disabled at once, replaying the os-services PUTs (in order) that Nova accepted. */
export function maxDisabledAtOnce(emu: Emulator): { max: number; when: string | null } {
  const byService = new Map(emu.state.hosts().map((h) => [h.serviceId, h.name]));
  const disabled = new Set<string>();
  let max = 0;
  let when: string | null = null;
  for (const r of emu.requests.records) {
    if (r.method !== 'PUT' || !/\/os-services\//.test(r.path) || r.status >= 300) continue;
    const body = (r.body ?? {}) as { status?: string; host?: string };
    const last = r.path.split('/').pop()!;
    const host = body.host ?? byService.get(last);
    const status = body.status ?? (last === 'enable' ? 'enabled' : last.startsWith('disable') ? 'disabled' : null);
    if (!host || !status) continue;
    if (status === 'disabled') disabled.add(host);
    else disabled.delete(host);
    if (disabled.size > max) {
      max = disabled.size;
      when = `request #${r.seq}: ${[...disabled].join(', ')} disabled`;
    }
  }
  return { max, when };
}

const MOVED = new Set(['completed', 'confirmed']);

/** Every violated invariant of a finished rolling trial, as a sentence (empty: all hold). */
export function checkRollingInvariants(emu: Emulator, originals: Map<string, OriginalServer[]>): string[] {
  const problems: string[] = [];
  for (const [host, servers] of originals) {
    for (const o of servers) {
      const s = emu.state.server(o.id);
      if (!s || s.deleted) {
        problems.push(`${o.name} is gone`);
        continue;
      }
      if (s.status === 'ERROR') problems.push(`${o.name} is in ERROR`);
      else if (s.host !== host || s.status !== o.status) problems.push(`${o.name} is ${s.status} on ${s.host}, was ${o.status} on ${host}`);
      const moved = emu.state.migrations({ serverId: o.id }).filter((m) => MOVED.has(m.status)).length;
      if (moved !== 2) problems.push(`${o.name} completed ${moved} migrations, expected 2 (out and back)`);
    }
  }
  for (const d of doubleMoves(emu)) problems.push(`${d.server}: ${d.action} request #${d.requestSeq} sent while migration ${d.migrationId} (${d.migrationStatus}) was in progress`);
  for (const h of emu.state.hosts()) {
    if (h.status !== 'enabled' || h.disabledReason !== null) problems.push(`${h.name}'s service is ${h.status} ("${h.disabledReason ?? ''}") at the end`);
  }
  const { max, when } = maxDisabledAtOnce(emu);
  if (max > 1) problems.push(`${max} hosts disabled at once (max-parallel 1): ${when}`);
  return problems;
}

interface RollingJson {
  outcome?: string;
  runId?: string;
  hosts?: Array<{ host: string; childRunId: string; status: string }>;
}

/** Where a kill aimed at the wait-for-service step lands, from the journal (its saved progress, its events). */
const WAIT_POINTS: Array<{ name: string; match: (e: Record<string, unknown>) => boolean }> = [
  { name: 'wait started', match: (e) => e.kind === 'decision' && e.decision === 'step-progress' },
  { name: 'wait polled, before the stop', match: (e) => e.kind === 'decision' && e.decision === 'step-progress' && (e.detail as { progress?: { polled?: boolean } }).progress?.polled === true },
  { name: 'wait saw the stop', match: (e) => e.kind === 'decision' && e.decision === 'step-progress' && (e.detail as { progress?: { seenStopped?: boolean } }).progress?.seenStopped === true },
  { name: 'wait finished', match: (e) => e.kind === 'event' && e.type === 'step-finished' && e.step === 'wait-for-service' },
];

async function oneTrial(trial: number, rng: Rng, speed: number, dir: string, extraCheck?: (emu: Emulator) => string[], reboot = false): Promise<RollingTrialResult> {
  const t0 = Date.now();
  const t = trialFor(rng, trial, dir, reboot);
  const emu: Emulator = await startEmulator({ scenario: t.scenario, clock: scaledClock(speed), seed: trial + 1 });
  t.workflow = t.workflow.split(EMU_URL).join(emu.url);
  const stateDir = path.join(dir, `trial-${trial}`);
  const clouds = path.join(dir, `clouds-${trial}.yaml`);
  const wf = path.join(dir, `workflow-${trial}.yaml`);
  writeFileSync(clouds, emu.cloudsYaml('emu'));
  writeFileSync(wf, t.workflow);
  const env = { OS_CLIENT_CONFIG_FILE: clouds };
  const args = ['run', wf, ...ROLLING_HOSTS, '--os-cloud', 'emu', '--yes', '--state-dir', stateDir, '--poll-interval', '200ms', '-f', 'json'];
  const result: RollingTrialResult = { trial, variant: t.name, kills: 0, planned: 0, killPlaces: [], runs: 0, execRuns: 0, execRepeats: 0, ok: false, problems: [], ms: 0, runLog: [] };
  await guardedTrial(result, t0, () => emu.stop(), async () => {
      const originals = new Map(ROLLING_HOSTS.map((h) => [h, captureOriginals(emu, h)] as const));
      const kills = rng.pick([1, 1, 2, 2, 3]);
      result.planned = kills;
      let rollingId: string | null = null;
      /** host -> every child run id seen for it. */
      const childIds = new Map<string, Set<string>>();
      const noteIds = () => {
        for (const r of savedRuns(stateDir)) {
          if (r.command === 'rolling') {
            rollingId ??= r.runId;
            if (r.runId !== rollingId) result.problems.push(`a second rolling run ${r.runId} (the first was ${rollingId})`);
          } else {
            const ids = childIds.get(r.host) ?? new Set<string>();
            ids.add(r.runId);
            childIds.set(r.host, ids);
          }
        }
      };
      let last: { code: number | null; stdout: string; stderr: string } | null = null;
      // A whole rolling run writes ~180 + 18 per instance journal lines (a host's events go to its run's journal
      // and the rolling run's) over ~3 + 0.4 per instance seconds at x20: each kill lands at a random moment of
      // what is left of it (estimated from the lines written so far), so most of them land before the end.
      const estLines = 180 + 18 * t.vms;
      const estMs = ((3000 + 400 * t.vms) * 20) / speed;
      for (let run = 0; run <= kills; run++) {
        const killing = run < kills;
        const left = Math.max(20, estLines - journalCount(stateDir)) / estLines;
        const aim = killing && reboot && rng.next() < 0.7 ? rng.pick(WAIT_POINTS) : null;
        const resumeWhenBack = aim !== null && rng.next() < 0.5;
        const kill = !killing ? null : aim ? { whenEntry: aim.match } : rng.next() < 0.5 ? { afterMs: rng.int(300, Math.max(400, Math.round(0.9 * left * estMs))) } : { atEntries: rng.int(1, Math.round(0.9 * left * estLines)) };
        const tr = Date.now();
        const r = await runChild(args, env, stateDir, kill, { captureStdout: true });
        if (r.killed && resumeWhenBack) {
          // The next run starts only once every host that went down is back: the stop may never be seen.
          const deadline = Date.now() + 120_000;
          while (emu.state.hosts().some((h) => emu.state.cloud.hosts.get(h.name)!.heartbeatStoppedAt !== null) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
          result.runLog.push(`  (next run started once the hosts were back)`);
        }
        result.runs++;
        result.runLog.push(`run ${result.runs}: ${r.killed ? 'SIGKILL' : `exit ${r.code}`} after ${((Date.now() - tr) / 1000).toFixed(1)} s`);
        noteIds();
        if (r.killed) {
          result.kills++;
          const place = killPlace(stateDir);
          result.killPlaces.push(aim ? { ...place, step: `${aim.name}${resumeWhenBack ? ', resumed when back' : ''}` } : place);
          continue;
        }
        // No kill, or it came too late (the run had finished): that run is the last one.
        last = { code: r.code, stdout: r.stdout, stderr: r.stderr };
        break;
      }
      if (!last) throw new Error('no run was left to finish');
      if (last.code !== 0) result.problems.push(`the last run exited ${last.code}: ${last.stderr.split('\n').filter((l) => /hostmaint:/.test(l)).slice(-2).join(' / ')}`);
      let json: RollingJson = {};
      try {
        json = JSON.parse(last.stdout) as RollingJson;
      } catch {
        result.problems.push(`the last run printed no JSON result: ${last.stdout.slice(0, 200)}`);
      }
      if (json.outcome !== 'completed') result.problems.push(`outcome ${json.outcome}, not completed`);
      if (rollingId === null || json.runId !== rollingId) result.problems.push(`the last run is rolling run ${json.runId}, the first was ${rollingId}`);
      const rollingRuns = savedRuns(stateDir).filter((r) => r.command === 'rolling');
      if (rollingRuns.length !== 1) result.problems.push(`${rollingRuns.length} rolling runs saved: ${rollingRuns.map((r) => `${r.runId} (${r.state})`).join(', ')}`);
      for (const [i, host] of ROLLING_HOSTS.entries()) {
        const want = `${rollingId}-h${i + 1}`;
        const h = json.hosts?.find((x) => x.host === host);
        if (!h || h.status !== 'done') result.problems.push(`${host}: ${h ? h.status : 'missing from the result'}, not done`);
        else if (h.childRunId !== want) result.problems.push(`${host}: run ${h.childRunId} in the result, expected ${want}`);
        const seen = [...(childIds.get(host) ?? [])];
        if (seen.length !== 1 || seen[0] !== want) result.problems.push(`${host}: run ids seen ${seen.join(', ') || 'none'}, expected only ${want}`);
      }
      result.problems.push(...checkRollingInvariants(emu, originals));
      const execs = existsSync(t.execLog) ? readFileSync(t.execLog, 'utf8').split('\n').filter(Boolean) : [];
      for (const host of ROLLING_HOSTS) {
        const n = execs.filter((x) => x === host).length;
        if (n === 0) result.problems.push(`the exec step never ran on ${host}`);
        if (n > 1) result.execRepeats++;
      }
      const others = execs.filter((x) => !(ROLLING_HOSTS as readonly string[]).includes(x));
      if (others.length) result.problems.push(`the exec step ran for ${others.join(', ')}`);
      if (extraCheck) result.problems.push(...extraCheck(emu));
      result.execRuns = execs.length;
      result.runLog.push(`exec ran ${execs.length} time(s): ${execs.join(', ')}`);
      result.ok = result.problems.length === 0;
  });
  return result;
}

export async function runRollingTrials(opts: RollingTrialOptions): Promise<RollingTally> {
  const { rng, dir } = startBatch('hm-rolling-trials-', opts.seed);
  const tally: RollingTally = { trials: 0, passed: 0, failed: 0, kills: 0, planned: 0, killHosts: {}, killSteps: {}, runs: 0, execRuns: 0, execRepeats: 0, ms: 0, results: [] };
  const t0 = Date.now();
  try {
    for (let i = 0; i < opts.trials; i++) {
      const r = await oneTrial(i, rng, opts.speed, dir, opts.extraCheck, opts.reboot ?? false);
      tally.trials++;
      tally.results.push(r);
      tally.kills += r.kills;
      tally.planned += r.planned;
      tally.runs += r.runs;
      tally.execRuns += r.execRuns;
      tally.execRepeats += r.execRepeats;
      for (const p of r.killPlaces) {
        const host = p.host ?? 'no host';
        tally.killHosts[host] = (tally.killHosts[host] ?? 0) + 1;
        tally.killSteps[p.step] = (tally.killSteps[p.step] ?? 0) + 1;
      }
      if (r.ok) tally.passed++;
      else tally.failed++;
      opts.log?.(
        `trial ${String(i + 1).padStart(3)} ${r.variant.padEnd(44)} ${r.ok ? 'ok  ' : 'FAIL'} kills ${r.kills}/${r.planned} (${r.killPlaces.map((p) => (p.host ? `${p.host} ${p.step}` : p.step)).join(', ') || '-'}), runs ${r.runs}${r.execRepeats ? `, exec repeated on ${r.execRepeats} host(s)` : ''}, ${(r.ms / 1000).toFixed(1)} s${r.ok ? '' : `\n      ${[...r.problems, ...r.runLog].join('\n      ')}`}`,
      );
      if (!r.ok && opts.failFast) break;
    }
  } finally {
    tally.ms = Date.now() - t0;
    rmSync(dir, { recursive: true, force: true });
  }
  return tally;
}

const byCount = (xs: Record<string, number>): string =>
  Object.entries(xs)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([p, n]) => `${p} ${n}`)
    .join(', ') || '-';

export function formatRollingTally(t: RollingTally): string {
  return [
    `rolling crash trials: ${t.passed}/${t.trials} passed${t.failed ? `, ${t.failed} FAILED` : ''}`,
    `  SIGKILLs: ${t.kills} of ${t.planned} drawn (${t.planned - t.kills} came after the run had finished) (hosts: ${byCount(t.killHosts)}; where: ${byCount(t.killSteps)})`,
    `  hostmaint runs: ${t.runs}; exec step ran ${t.execRuns} times for ${t.trials * ROLLING_HOSTS.length} hosts, more than once on ${t.execRepeats} of ${t.trials * ROLLING_HOSTS.length} hosts (a step in flight when killed runs again)`,
    `  time: ${(t.ms / 1000).toFixed(1)} s`,
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const trials = arg('trials', 20);
  const seed = arg('seed', 1);
  const speed = arg('speed', 20);
  const reboot = process.argv.includes('--reboot');
  console.log(`rolling crash-resume trials: ${trials} trials, seed ${seed}, emulated time x${speed}, hosts ${ROLLING_HOSTS.join(' ')}${reboot ? ', exec reboots the host + wait-for-service (kills aimed at the wait)' : ''}`);
  const tally = await runRollingTrials({ trials, seed, speed, reboot, log: (l) => console.log(l) });
  console.log(formatRollingTally(tally));
  process.exitCode = tally.failed === 0 ? 0 : 1;
}
