/**
 * Saved runs made through the library against an in-process emulated cloud
 * on a VirtualClock: the cloud, a session, a state directory, the events the
 * runs emit and the notices they print, and a RunnerEnv on the emulator's
 * clock. Shared by the workflow, rolling and report tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import { memoryLogger } from '../../src/core/log.js';
import { connect, type HostmaintSession } from '../../src/openstack/session.js';
import type { RunnerEnv } from '../../src/runs/runner.js';
import { RunStore } from '../../src/runs/store.js';
import type { DrainEvent } from '../../src/machines/events.js';
import { emulatorCloud } from './helpers.js';

import { FAST_MIGRATIONS } from '../cli/runs-helpers.js';
export { FAST_MIGRATIONS };

/** Three hosts; compute-01 holds three ACTIVE instances and a SHUTOFF one. */
export function workflowScenario(name: string): Scenario {
  return {
    name,
    migration: FAST_MIGRATIONS,
    defaults: { host: { vcpus: 32, ram_mb: 65536, disk_gb: 2000, max_concurrent_live_migrations: 2 } },
    hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
    instances: [
      { name: 'web-{i}', flavor: 'm1.small', host: 'compute-01', count: 3 },
      { name: 'batch-1', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' },
    ],
  } as Scenario;
}

/** A runner env on the emulator's clock: every host resolves and answers its probe. */
export function emulatorRunner(emu: Emulator, store: RunStore, over: Partial<RunnerEnv> = {}): RunnerEnv {
  return {
    store,
    logger: memoryLogger(),
    clock: emu.clock,
    cloudName: 'emulator',
    user: 'admin',
    who: 'test@box',
    argv: ['run'],
    ...over,
  };
}

export interface RunEnv {
  emu: Emulator;
  session: HostmaintSession;
  dir: string;
  store: RunStore;
  events: DrainEvent[];
  notices: string[];
  /** Write a file (a workflow) in the test's directory; returns its path. */
  file(name: string, text: string): string;
  runner(over?: Partial<RunnerEnv>): RunnerEnv;
  close(): Promise<void>;
}

export async function openRunEnv(scenario: Scenario, prefix = 'hm-run-'): Promise<RunEnv> {
  const emu = await startEmulator({ scenario, clock: new VirtualClock() });
  const session = await connect(emulatorCloud(emu), { logger: memoryLogger(), clock: emu.clock, timeoutMs: 30_000 });
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const store = new RunStore(path.join(dir, 'state'));
  const events: DrainEvent[] = [];
  const notices: string[] = [];
  return {
    emu,
    session,
    dir,
    store,
    events,
    notices,
    file: (name, text) => {
      const f = path.join(dir, name);
      writeFileSync(f, text);
      return f;
    },
    runner: (over = {}) => emulatorRunner(emu, store, { emit: (e) => events.push(e), notice: (l) => notices.push(l), ...over }),
    close: async () => {
      await session.close();
      await emu.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
