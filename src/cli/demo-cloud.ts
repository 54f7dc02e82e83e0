/**
 * The demo cloud between commands: its journal (src/emulator/journal.ts) is saved in
 * <state-dir>/demo/cloud.json when a command ends and replayed when the next one starts, so
 * `drain`, then `undrain --return`, `resume` and `status` see the same cloud. `hostmaint
 * emulator reset` forgets it (and the demo's runs).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/log.js';
import type { EmulatorJournal } from '../emulator/index.js';
import { isJournal } from '../emulator/index.js';

/** The demo's own directory under a state directory: its runs and its cloud. */
export function demoStateDir(stateDir: string): string {
  return path.join(stateDir, 'demo');
}

export function demoCloudFile(stateDir: string): string {
  return path.join(demoStateDir(stateDir), 'cloud.json');
}

/** The saved demo cloud of this scenario, or null (none, another scenario, unreadable: a new cloud). */
export function loadDemoCloud(stateDir: string, scenario: string, logger: Logger): EmulatorJournal | null {
  const file = demoCloudFile(stateDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const j: unknown = JSON.parse(text);
    if (!isJournal(j)) throw new Error('not a demo cloud journal');
    if (j.scenario !== scenario) {
      logger.warn(`the saved demo cloud is of scenario ${j.scenario}, not ${scenario}: starting a new one (it replaces the saved one)`, { file });
      return null;
    }
    return j;
  } catch (e) {
    logger.warn(`cannot read the saved demo cloud: ${(e as Error).message}; starting a new one (\`hostmaint emulator reset\` clears it)`, { file });
    return null;
  }
}

export function saveDemoCloud(stateDir: string, journal: EmulatorJournal, logger: Logger): void {
  const file = demoCloudFile(stateDir);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(journal)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (e) {
    logger.warn(`cannot save the demo cloud: ${(e as Error).message}; the next command starts a new one`, { file });
  }
}

/** Forget the demo cloud and the demo's runs. True when there was something to forget. */
export function resetDemoCloud(stateDir: string): boolean {
  const dir = demoStateDir(stateDir);
  const existed = fs.existsSync(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  return existed;
}

/** bin/hostmaint.js of this installation (src/cli/ and dist/cli/ are both two levels down). */
function hostmaintBin(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'hostmaint.js');
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The demo's maintenance command, used when HOSTMAINT_MAINTENANCE_COMMAND is not set on the demo
 * cloud: a reboot of the emulated host ($HOSTMAINT_HOST), through the cloud of the running command
 * ($HOSTMAINT_DEMO_URL). Like `ssh host sudo reboot`, it returns before the host is back.
 */
export const DEMO_MAINTENANCE_COMMAND = `${sq(process.execPath)} ${sq(hostmaintBin())} emulator reboot "$HOSTMAINT_HOST"`;
