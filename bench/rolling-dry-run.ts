/**
 * P4b (issue 21): a rolling `--dry-run` over many hosts from --hosts-file, as
 * an operator runs it (`node bin/hostmaint.js run <workflow> --hosts-file F
 * --dry-run`, needs `npm run build`), against the `big` generator's cloud
 * (200 instances on the first host, 2,000 in all) served by an emulator in a
 * child process on the real clock. Printed for 250, 500 and 1,000 hosts: the
 * wall time, the requests the emulator answered (by service), and the ratios
 * requests/hosts and time/hosts between sizes: requests must grow with the
 * hosts, not hosts x hosts (a ratio near 1 between sizes).
 *
 *   npm run build && npx tsx bench/rolling-dry-run.ts [--sizes 250,500,1000] [--max-parallel 1]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateBig } from '../src/emulator/index.js';
import { spawnEmulator } from './lib/emulator-process.js';
import { BIN } from './lib/child-kills.js';

export interface DryRunFigure {
  hosts: number;
  ms: number;
  requests: number;
  byService: Record<string, number>;
  exitCode: number | null;
  rows: number;
}

function argOf(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

export async function dryRunFigure(hosts: number, maxParallel: number): Promise<DryRunFigure> {
  const emu = await spawnEmulator(generateBig({ hosts, instances_on_first: 200, instances: 2000 }), 1);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-dry-bench-'));
  try {
    const width = Math.max(2, String(hosts).length);
    const names = Array.from({ length: hosts }, (_, i) => `compute-${String(i + 1).padStart(width, '0')}`);
    writeFileSync(path.join(dir, 'hosts.txt'), `${names.join('\n')}\n`);
    writeFileSync(path.join(dir, 'clouds.yaml'), emu.cloudsYaml);
    writeFileSync(path.join(dir, 'wf.yaml'), 'version: 1\nname: cycle\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n  - type: enable\n  - type: return-instances\n');
    await emu.clearRequests();
    const t = performance.now();
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'run', path.join(dir, 'wf.yaml'), '--hosts-file', path.join(dir, 'hosts.txt'), '--dry-run', '--os-cloud', 'bench', '--state-dir', path.join(dir, 'state'), '--max-parallel', String(maxParallel), '-f', 'json'], {
        env: { PATH: process.env.PATH ?? '', HOME: dir, OS_CLIENT_CONFIG_FILE: path.join(dir, 'clouds.yaml') },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.on('close', (code) => resolve({ code, stdout }));
    });
    const ms = performance.now() - t;
    const reqs = await emu.requests();
    const byService: Record<string, number> = {};
    for (const r of reqs) byService[r.service] = (byService[r.service] ?? 0) + 1;
    let rows = 0;
    try {
      rows = (JSON.parse(out.stdout) as { hosts: unknown[] }).hosts.length;
    } catch {
      /* reported as 0 rows */
    }
    return { hosts, ms, requests: reqs.length, byService, exitCode: out.code, rows };
  } finally {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatDryRun(figs: DryRunFigure[]): string[] {
  const lines = figs.map((f) => `  ${String(f.hosts).padStart(5)} hosts: ${(f.ms / 1000).toFixed(2)} s, ${f.requests} requests (${Object.entries(f.byService).map(([k, v]) => `${k} ${v}`).join(', ')}), ${(f.requests / f.hosts).toFixed(2)} requests/host, exit ${f.exitCode}, ${f.rows} rows`);
  for (let i = 1; i < figs.length; i++) {
    const a = figs[i - 1]!;
    const b = figs[i]!;
    const k = b.hosts / a.hosts;
    lines.push(`  ${a.hosts} -> ${b.hosts} hosts (x${k.toFixed(1)}): requests x${(b.requests / a.requests).toFixed(2)}, time x${(b.ms / a.ms).toFixed(2)} (linear: x${k.toFixed(1)}, quadratic: x${(k * k).toFixed(1)})`);
  }
  return lines;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const sizes = argOf('sizes', '250,500,1000').split(',').map(Number);
  const maxParallel = Number(argOf('max-parallel', '1'));
  console.log(`rolling --dry-run over a hosts file (emulator in a child process, real clock, max-parallel ${maxParallel})`);
  const figs: DryRunFigure[] = [];
  for (const n of sizes) {
    figs.push(await dryRunFigure(n, maxParallel));
    console.log(formatDryRun(figs.slice(-1))[0]);
  }
  console.log(formatDryRun(figs).slice(figs.length).join('\n'));
}
