/**
 * Text snapshots under test/fixtures/events/snapshots/. A snapshot that
 * differs fails the test with the first differing line; UPDATE_SNAPSHOTS=1
 * (re)writes them (review the git diff). A missing snapshot fails too, so a
 * new case cannot pass without its file being committed.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './replay.js';

export const SNAPSHOTS = path.join(FIXTURES, 'snapshots');

export function matchSnapshot(name: string, actual: string, dir: string = SNAPSHOTS): void {
  const file = path.join(dir, `${name}.txt`);
  const text = actual.endsWith('\n') ? actual : `${actual}\n`;
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text);
    return;
  }
  assert.ok(existsSync(file), `no snapshot ${path.relative(process.cwd(), file)}: run with UPDATE_SNAPSHOTS=1 and review it`);
  const expected = readFileSync(file, 'utf8');
  if (expected === text) return;
  const a = expected.split('\n');
  const b = text.split('\n');
  const i = a.findIndex((line, k) => line !== b[k]);
  const at = i < 0 ? Math.min(a.length, b.length) : i;
  assert.fail(`snapshot ${name} differs at line ${at + 1}:\n  expected: ${JSON.stringify(a[at])}\n  actual:   ${JSON.stringify(b[at])}\n(UPDATE_SNAPSHOTS=1 rewrites it if the change is intended)`);
}

/** Escape sequences made visible, so a colour snapshot is readable and diffable. */
export function showEscapes(s: string): string {
  return s.replace(/\u001b/g, '\\e');
}
