/** Load a recorded API body from test/fixtures/<kind>/<name>.<microversion>.json */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fixture<T = any>(kind: 'nova' | 'placement', name: string, microversion: string): T {
  return JSON.parse(readFileSync(resolve(ROOT, kind, `${name}.${microversion}.json`), 'utf8')) as T;
}
