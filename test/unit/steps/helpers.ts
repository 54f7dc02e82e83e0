import type { PlaceholderValues } from '../../../src/workflow-file/types.js';

export const VARS: PlaceholderValues = {
  host: 'compute-01',
  runId: '20240101T000000Z-abcd',
  workflow: 'maintenance-cycle',
  step: 'patch',
  cloud: 'prod',
  reason: 'kernel update',
};

/** True while `pid` is a live (not zombie) process. */
export async function alive(pid: number): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // state is the field after the ")" closing the command name
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
