/**
 * P6: the real lab (test/lab/start.sh; fake live-migrate driver, ~5 s per
 * migration, max_concurrent_live_migrations = 1). 12 servers on compute-01,
 * drained by
 *
 *   baseline   what operators do today: `nova service-disable`, `nova
 *              host-evacuate-live`, then `openstack server list --host
 *              compute-01 --all-projects` every 2 s until it is empty
 *              (nothing else is checked);
 *   hostmaint  `hostmaint drain compute-01 --yes` with the CLI's defaults
 *              (also: preflight with Placement, migrations watched and
 *              reconciled, host verified empty in Nova and Placement);
 *
 * alternating (baseline, hostmaint, hostmaint, baseline, ...), same lab, wall
 * time from the first command to the end. Servers are booted before and
 * deleted after every run (not timed); compute-01 is enabled again.
 *
 *   npm run bench:lab [-- --pairs 2 --servers 12]
 *
 * Takes the lab lock (test/openstack/lab.ts) so the lab suites do not run
 * meanwhile. Without a lab it says so and exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLabCloud } from '../test/contract/lab-cloud.js';
import type { CloudUnderTest } from '../test/contract/cloud-under-test.js';
import { acquireLabLock, labUnavailableReason, loadLab, type LabInfo } from '../test/openstack/lab.js';
import type { Figure } from './drain-figures.js';
import { fmt, median } from './lib/emulated.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

interface Proc {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(cmd, args, { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t });
    });
  });
}

/** The operators' way, as one shell script: the nova and openstack CLIs of the lab (.lab/openrc). */
export function baselineScript(labDir: string, host: string, pollS = 2, timeoutS = 900): string {
  return [
    'set -eu',
    `. ${JSON.stringify(path.join(labDir, 'openrc'))}`,
    `nova --os-compute-api-version 2.52 service-disable --reason "baseline drain" ${host} >/dev/null`,
    `nova host-evacuate-live --strict ${host} >/dev/null`,
    `deadline=$(( $(date +%s) + ${timeoutS} ))`,
    `while [ -n "$(openstack server list --host ${host} --all-projects -f value -c ID)" ]; do`,
    `  [ "$(date +%s)" -lt "$deadline" ] || { echo "still not empty after ${timeoutS} s" >&2; exit 1; }`,
    `  sleep ${pollS}`,
    'done',
  ].join('\n');
}

async function setUp(cloud: CloudUnderTest, host: string, n: number, round: number): Promise<string[]> {
  const ids = await Promise.all(Array.from({ length: n }, (_, i) => cloud.bootServer({ name: `hm-bench-${round}-${String(i + 1).padStart(2, '0')}`, host, flavor: 'm1.tiny' })));
  const on = new Set((await cloud.session.compute.listServersOnHost(host)).map((s) => s.id));
  for (const id of ids) if (!on.has(id)) throw new Error(`${id} did not boot on ${host}`);
  return ids;
}

async function tearDown(cloud: CloudUnderTest, host: string, ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => cloud.deleteServer(id).catch(() => undefined)));
  const [svc] = await cloud.session.compute.listServices({ host, binary: 'nova-compute' });
  if (svc && svc.status === 'disabled') await cloud.session.compute.enableService(svc);
}

export async function labFigures(log: (l: string) => void = (l) => console.log(l)): Promise<Figure[]> {
  const pairs = arg('pairs', 2);
  const n = arg('servers', 12);
  const lab: LabInfo | null = loadLab();
  if (!lab) {
    log(`\nP6 lab drain: not measured: no lab (${labUnavailableReason}); start it with npm run lab:start`);
    return [{ id: 'P6', name: 'P6 lab drain vs baseline', value: 'not measured (no lab)', target: '<= 1.1 x baseline', ok: null, inputs: labUnavailableReason }];
  }
  log(`\nP6 lab drain: waiting for the lab lock ...`);
  const release = await acquireLabLock('bench:lab');
  const state = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-bench-lab-'));
  let cloud: CloudUnderTest | null = null;
  const leftovers: string[] = [];
  try {
    cloud = await createLabCloud(lab);
    const host = cloud.computes[0]!;
    for (const h of cloud.computes) {
      const [svc] = await cloud.session.compute.listServices({ host: h, binary: 'nova-compute' });
      if (!svc || svc.state !== 'up') throw new Error(`lab: ${h} is not up`);
      if (svc.status === 'disabled') await cloud.session.compute.enableService(svc);
    }
    const baseEnv = { ...process.env, OS_CLIENT_CONFIG_FILE: lab.cloudsYaml, HOME: state, NO_COLOR: '1' };
    const times: Record<'baseline' | 'hostmaint', number[]> = { baseline: [], hostmaint: [] };
    const requests: number[] = [];
    const order: Array<'baseline' | 'hostmaint'> = [];
    for (let p = 0; p < pairs; p++) order.push(...(p % 2 === 0 ? (['baseline', 'hostmaint'] as const) : (['hostmaint', 'baseline'] as const)));
    for (const [round, who] of order.entries()) {
      const ids = await setUp(cloud, host, n, round);
      leftovers.push(...ids);
      let r: Proc;
      if (who === 'baseline') {
        r = await run('bash', ['-c', baselineScript(lab.labDir, host)], baseEnv, 1_200_000);
      } else {
        r = await run(process.execPath, [path.join(root, 'bin', 'hostmaint.js'), 'drain', host, '--os-cloud', 'lab', '--yes', '-f', 'json', '--state-dir', state, '--reason', 'bench:lab'], baseEnv, 1_200_000);
      }
      if (r.code !== 0) throw new Error(`${who} failed (exit ${r.code}): ${r.stderr.slice(-1500)}`);
      const left = await cloud.session.compute.listServersOnHost(host);
      if (left.length > 0) throw new Error(`${who}: ${host} still holds ${left.map((s) => s.name).join(', ')}`);
      times[who].push(r.ms);
      let extra = '';
      if (who === 'hostmaint') {
        const res = JSON.parse(r.stdout) as { outcome: string; apiRequests?: Record<string, number> };
        const total = Object.values(res.apiRequests ?? {}).reduce((a, b) => a + b, 0);
        requests.push(total);
        extra = `, ${res.outcome}, ${total} API requests ${JSON.stringify(res.apiRequests ?? {})}`;
      }
      log(`  run ${round + 1}/${order.length} ${who.padEnd(9)} ${fmt(r.ms / 1000, 1)} s${extra}`);
      await tearDown(cloud, host, ids);
      leftovers.length = 0;
    }
    const hm = median(times.hostmaint);
    const base = median(times.baseline);
    const ratio = hm / base;
    log(`  median: hostmaint ${fmt(hm / 1000, 1)} s, baseline ${fmt(base / 1000, 1)} s: ${fmt(ratio, 3)} x`);
    return [
      {
        id: 'P6',
        name: 'P6 lab drain vs baseline',
        value: `${fmt(ratio, 3)} x baseline (median ${fmt(hm / 1000, 1)} s vs ${fmt(base / 1000, 1)} s over ${pairs} pair(s))`,
        target: '<= 1.1 x baseline',
        ok: ratio <= 1.1,
        inputs: `${n} m1.tiny servers on ${host}, ${cloud.computes.length} computes (fake live-migrate driver, max_concurrent_live_migrations=1); alternating runs; hostmaint drain --yes (defaults: --concurrency 2, --poll-interval 2s); baseline: nova service-disable + host-evacuate-live + openstack server list every 2 s`,
      },
    ];
  } finally {
    if (cloud) {
      const host = cloud.computes[0]!;
      await tearDown(cloud, host, leftovers).catch((e: unknown) => log(`  cleanup: ${String(e)}`));
      await cloud.close?.();
    }
    rmSync(state, { recursive: true, force: true });
    release();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figs = await labFigures();
  for (const f of figs) console.log(`${f.name}: ${f.value} (${f.target}) ${f.ok === null ? '' : f.ok ? 'ok' : 'MISSED'}`);
  console.log(`  inputs: ${figs[0]!.inputs}`);
}
