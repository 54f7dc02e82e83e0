import { PassThrough } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

/** Run hostmaint in this process, as an operator would type it; the demo cloud runs on virtual time. */
export async function hostmaint(args: string[], env: NodeJS.ProcessEnv = {}, opts: { onStderr?: (all: string) => void } = {}): Promise<CliRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => {
    stderr += d.toString();
    opts.onStderr?.(stderr);
  });
  const baseEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, HOSTMAINT_DEMO_SPEED: 'virtual' };
  const code = await runCli(args, { stdout: out, stderr: err, env: { ...baseEnv, ...env }, interactive: false });
  return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
}

export function tempDir(prefix = 'hm-cli-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeScenario(dir: string, name: string, body: unknown): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(body, null, 2));
  return file;
}

/** A small cloud: compute-01 with `instances`, two roomy targets. */
export function smallScenario(over: { hosts?: unknown[]; instances?: unknown[]; faults?: unknown[] } = {}): Record<string, unknown> {
  return {
    name: 'cli-test',
    defaults: { host: { vcpus: 16, ram_mb: 32768, disk_gb: 500, reserved_host_memory_mb: 0, ram_allocation_ratio: 1.0, max_concurrent_live_migrations: 1 } },
    hosts: over.hosts ?? [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
    flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }],
    projects: [{ name: 'tenant-a' }, { name: 'tenant-b' }],
    instances: over.instances ?? [
      { name: 'web-{i}', count: 3, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' },
      { name: 'db-1', project: 'tenant-b', flavor: 'm1.small', host: 'compute-01', state: 'PAUSED' },
      { name: 'batch-1', project: 'tenant-b', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' },
    ],
    ...(over.faults ? { faults: over.faults } : {}),
  };
}
