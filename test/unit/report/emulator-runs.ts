/**
 * Runs on the emulated cloud for the report tests (the fast migration timings
 * and the RunnerEnv of a workflow or rolling run made through the library):
 * the shared helpers of test/emulator/run-env.ts.
 */
export { FAST_MIGRATIONS, emulatorRunner } from '../../emulator/run-env.js';
