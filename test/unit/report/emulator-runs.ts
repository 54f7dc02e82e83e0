/**
 * Runs on the emulated cloud for the report tests: the fast migration timings
 * and the RunnerEnv of a workflow or rolling run made through the library
 * (test/emulator/workflow-events.test.ts records the report fixtures with it,
 * test/cli/status-workflow.test.ts the saved runs status and history read).
 */
import type { Emulator } from '../../../src/emulator/index.js';
import { memoryLogger } from '../../../src/log.js';
import type { RunnerEnv } from '../../../src/runs/runner.js';
import type { RunStore } from '../../../src/runs/store.js';

export const FAST_MIGRATIONS = { schedule_ms: 300, preparing_ms: 500, post_migrating_ms: 500, cold_migration_ms: 4000, confirm_ms: 500, bandwidth_mbps: 200, dirty_rate_mbps: 20 };

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
    resolveHost: async () => '127.0.0.1',
    probeTcp: async () => true,
    ...over,
  };
}
