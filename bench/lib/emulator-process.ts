/**
 * Start the emulator in a child process (bench/lib/serve-emulator.ts) and
 * talk to it over HTTP: hostmaint's figures (time, memory) are then its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../../src/emulator/index.js';
import type { EmulatorCredentials } from '../../src/emulator/index.js';

export interface RemoteEmulator {
  url: string;
  authUrl: string;
  credentials: EmulatorCredentials;
  regionName: string;
  /** clouds.yaml with one cloud `bench` pointing at it. */
  cloudsYaml: string;
  /** The emulator's request log (admin endpoint), without its own admin calls. */
  requests(): Promise<Array<{ method: string; path: string; service: string; time: number }>>;
  clearRequests(): Promise<void>;
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export async function spawnEmulator(scenario: Scenario, speed: number | 'virtual' = 1): Promise<RemoteEmulator> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-bench-'));
  const file = path.join(dir, 'scenario.json');
  writeFileSync(file, JSON.stringify(scenario));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'serve-emulator.ts'), file, String(speed)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: path.resolve(here, '../..'),
  });
  const info = await new Promise<{ url: string; authUrl: string; credentials: EmulatorCredentials; regionName: string; cloudsYaml: string }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    child.once('exit', (code) => reject(new Error(`emulator exited (${code}) before it served`)));
  });
  return {
    ...info,
    async requests() {
      const r = await fetch(`${info.url}/_emulator/requests`);
      return ((await r.json()) as { requests: Array<{ method: string; path: string; service: string; time: number }> }).requests;
    },
    async clearRequests() {
      await fetch(`${info.url}/_emulator/requests`, { method: 'DELETE' });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}
