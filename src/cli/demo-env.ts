/**
 * The environment of the commands a workflow runs on the demo cloud (light: no emulator here).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** The demo: its own maintenance command (a reboot of the emulated host) when none is set, and where its cloud listens. */
export function withDemoEnv(env: NodeJS.ProcessEnv, childEnv: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...env, ...childEnv, HOSTMAINT_MAINTENANCE_COMMAND: env.HOSTMAINT_MAINTENANCE_COMMAND ?? DEMO_MAINTENANCE_COMMAND };
}
