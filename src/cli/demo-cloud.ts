/**
 * The demo cloud between commands: its journal (src/emulator/journal.ts) is saved in
 * <state-dir>/demo/cloud.json when a command ends and replayed when the next one starts, so
 * `drain`, then `undrain --return`, `resume` and `status` see the same cloud. `hostmaint
 * emulator reset` forgets it (and the demo's runs).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/log.js';
// The journal module alone (light): the emulator itself loads only when the demo cloud starts.
import type { EmulatorJournal } from '../emulator/journal.js';
import { isJournal } from '../emulator/journal.js';

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

