/**
 * P5: peak memory (max RSS) of `hostmaint drain` for a host with 1,000
 * instances. The real CLI (bin/hostmaint.js, built) drains compute-01 of an
 * emulated cloud served by a child process on an accelerated clock; the
 * emulator's memory is not counted. Targets are named 127.0.0.x so the CLI's
 * own DNS check resolves them. Peak RSS comes from /usr/bin/time -f %M.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostSpec, Scenario } from '../src/emulator/index.js';
import type { Figure } from './drain-figures.js';
import { spawnEmulator } from './lib/emulator-process.js';
import { fmt } from './lib/emulated.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'hostmaint.js');

export function thousandScenario(n = 1000, targets = 20, perCompute = 4): Scenario {
  const hosts: HostSpec[] = [{ name: 'compute-01', vcpus: 512, ram_mb: 2_000_000, disk_gb: 40_000 }];
  for (let i = 0; i < targets; i++) hosts.push({ name: `127.0.0.${i + 2}`, vcpus: 64, ram_mb: 262_144, disk_gb: 4000 });
  return {
    name: `bench-${n}-on-one-host`,
    migration: { bandwidth_mbps: 2000, dirty_rate_mbps: 20, schedule_ms: 200, preparing_ms: 500, post_migrating_ms: 500 },
    defaults: { host: { max_concurrent_live_migrations: perCompute } },
    hosts,
    instances: Array.from({ length: n }, (_, i) => ({ name: `vm-${String(i + 1).padStart(4, '0')}`, flavor: i % 2 ? 'm1.small' : 'm1.tiny', host: 'compute-01' })),
  };
}

export interface TimedRun {
  code: number;
  maxRssKb: number;
  seconds: number;
  stdout: string;
  stderr: string;
}

/** Run a command under /usr/bin/time: exit code, peak RSS (KB), wall seconds. */
export function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '__TIME__ %M %e', cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const m = /__TIME__ (\d+) ([\d.]+)\s*$/.exec(stderr);
      if (!m) return reject(new Error(`no /usr/bin/time figures: ${stderr.slice(-500)}`));
      resolve({ code: code ?? -1, maxRssKb: Number(m[1]), seconds: Number(m[2]), stdout, stderr: stderr.slice(0, m.index) });
    });
  });
}

export async function memoryFigures(log: (l: string) => void = (l) => console.log(l), n = 1000): Promise<Figure[]> {
  const speed = 20;
  const emu = await spawnEmulator(thousandScenario(n), speed);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-bench-mem-'));
  try {
    const clouds = path.join(dir, 'clouds.yaml');
    writeFileSync(clouds, emu.cloudsYaml);
    const env = { ...process.env, OS_CLIENT_CONFIG_FILE: clouds, XDG_STATE_HOME: dir, NO_COLOR: '1' };
    const help = await timed(process.execPath, [bin, '--help'], env);
    const run = await timed(process.execPath, [bin, 'drain', 'compute-01', '--os-cloud', 'bench', '--yes', '--format', 'json', '--poll-interval', '200ms', '--state-dir', dir], env);
    let outcome = `exit ${run.code}`;
    let moved = 0;
    try {
      const res = JSON.parse(run.stdout) as { outcome?: string; instances?: Array<{ status?: string; result?: string; phase?: string }> };
      outcome = res.outcome ?? outcome;
      moved = (res.instances ?? []).length;
    } catch {
      /* not JSON: the exit code says it */
    }
    const mb = (kb: number) => kb / 1024;
    log(`\nP5 memory: hostmaint drain of ${n} instances (real CLI; emulator in a child process at ${speed}x, --poll-interval 200ms real = ${fmt((200 * speed) / 1000, 0)} s emulated)`);
    log(`  drain: ${outcome}, ${moved} instances in the result, ${fmt(run.seconds, 1)} s real, peak RSS ${fmt(mb(run.maxRssKb), 1)} MB`);
    log(`  for scale: hostmaint --help peaks at ${fmt(mb(help.maxRssKb), 1)} MB`);
    if (run.code !== 0) log(`  stderr (end): ${run.stderr.slice(-800)}`);
    return [
      {
        id: 'P5',
        name: `P5 peak RSS, drain of ${n} instances`,
        value: `${fmt(mb(run.maxRssKb), 1)} MB (${fmt(run.maxRssKb / help.maxRssKb, 2)} x --help's ${fmt(mb(help.maxRssKb), 1)} MB)`,
        target: '<= 250 MB RSS',
        ok: run.code === 0 && mb(run.maxRssKb) <= 250,
        inputs: `${n} instances (m1.tiny/m1.small) on compute-01, 20 targets, max_concurrent_live_migrations=4; emulator child at ${speed}x; hostmaint drain --yes -f json --poll-interval 200ms`,
      },
    ];
  } finally {
    await emu.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figs = await memoryFigures();
  for (const f of figs) console.log(`${f.name}: ${f.value} (${f.target}) ${f.ok === null ? '' : f.ok ? 'ok' : 'MISSED'}`);
  for (const inputs of new Set(figs.map((f) => `${f.id}: ${f.inputs}`))) console.log(`  inputs ${inputs}`);
}
