/**
 * Issue 21: how long after SIGTERM / SIGINT a command ends, at several
 * moments of a rolling `--dry-run` over 500 hosts (`big` generator, emulator
 * in a child process, real clock), and of a `plan` whose request the cloud
 * does not answer. Printed, not asserted (test/cli/signals.test.ts asserts
 * what a user sees: exit 130). Needs `npm run build`.
 *
 *   npx tsx bench/signal-latency.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateBig } from '../src/emulator/index.js';
import { spawnEmulator } from './lib/emulator-process.js';
import { BIN } from './lib/child-kills.js';

async function once(args: string[], env: Record<string, string>, sig: NodeJS.Signals, afterMs: number): Promise<{ code: number | null; ms: number }> {
  const p = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: env.HOME ?? '/tmp', ...env }, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
  await new Promise((r) => setTimeout(r, afterMs));
  const t = performance.now();
  p.kill(sig);
  const code = await exited;
  return { code, ms: performance.now() - t };
}

const emu = await spawnEmulator(generateBig({ hosts: 500, instances_on_first: 200, instances: 2000 }), 1);
const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-sig-bench-'));
try {
  writeFileSync(path.join(dir, 'hosts.txt'), Array.from({ length: 500 }, (_, i) => `compute-${String(i + 1).padStart(3, '0')}`).join('\n'));
  writeFileSync(path.join(dir, 'clouds.yaml'), emu.cloudsYaml);
  writeFileSync(path.join(dir, 'wf.yaml'), 'version: 1\nname: cycle\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n');
  const env = { HOME: dir, OS_CLIENT_CONFIG_FILE: path.join(dir, 'clouds.yaml') };
  const dry = ['run', path.join(dir, 'wf.yaml'), '--hosts-file', path.join(dir, 'hosts.txt'), '--dry-run', '--os-cloud', 'bench', '--state-dir', path.join(dir, 'state')];
  console.log('signal -> exit, rolling --dry-run over 500 hosts');
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    for (const at of [300, 1000, 3000, 6000]) {
      const r = await once(dry, env, sig, at);
      console.log(`  ${sig} at ${String(at).padStart(4)} ms: exit ${r.code} after ${r.ms.toFixed(0)} ms`);
    }
  }
  await fetch(`${emu.url}/_emulator/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'delay', ms: 600_000, match: { method: 'GET', path: '/os-hypervisors/**' } }) });
  console.log('signal -> exit, plan whose hypervisor request hangs');
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    const r = await once(['plan', 'compute-001', '--os-cloud', 'bench', '--state-dir', path.join(dir, 'state')], env, sig, 2000);
    console.log(`  ${sig}: exit ${r.code} after ${r.ms.toFixed(0)} ms`);
  }
} finally {
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
}
