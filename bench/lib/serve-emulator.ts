/**
 * Child process: serve a scenario (JSON file given as argv[2]) on an
 * ephemeral port, with a scaled clock (argv[3], default 1; "virtual" for a
 * VirtualClock), and print one JSON line {url, authUrl, credentials} on
 * stdout. Runs until SIGTERM. The benchmarks measure hostmaint in its own
 * process, so the emulator's CPU and memory stay out of its figures.
 */
import { readFileSync } from 'node:fs';
import { scaledClock, startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Scenario } from '../../src/emulator/index.js';

const scenario = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Scenario;
const speed = process.argv[3] ?? '1';
const clock = speed === 'virtual' ? new VirtualClock() : scaledClock(Number(speed));
const emu = await startEmulator({ scenario, clock });
process.stdout.write(`${JSON.stringify({ url: emu.url, authUrl: emu.authUrl, credentials: emu.credentials, regionName: emu.regionName, cloudsYaml: emu.cloudsYaml('bench') })}\n`);
const stop = async () => {
  await emu.stop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
