/** Replays recorded NDJSON event streams (test/fixtures/events/) into the live view. */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DrainEvent } from '../../../src/machines/events.js';
import { RunView } from '../../../src/report/view-model.js';
import { renderFrame, type FrameOptions } from '../../../src/report/live.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/events');

/** Streams of workflow and rolling runs (test/unit/report/fixtures/, recorded by test/emulator/workflow-events.test.ts). */
export const WORKFLOW_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

export function readWorkflowEvents(name: string): DrainEvent[] {
  return parseEvents(readFileSync(path.join(WORKFLOW_FIXTURES, `${name}.ndjson`), 'utf8'));
}

export function readWorkflowResult<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(WORKFLOW_FIXTURES, `${name}.result.json`), 'utf8')) as T;
}

function parseEvents(text: string): DrainEvent[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DrainEvent);
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES).filter((n) => n.endsWith('.ndjson')).map((n) => n.replace(/\.ndjson$/, '')).sort();
}

export function readEvents(name: string): DrainEvent[] {
  return parseEvents(readFileSync(path.join(FIXTURES, `${name}.ndjson`), 'utf8'));
}

export function viewAfter(events: DrainEvent[], n: number): RunView {
  const view = new RunView();
  for (const e of events.slice(0, n)) view.apply(e);
  return view;
}

/**
 * The moments worth a frame: the first event of the migration phase, the
 * moment with the most instances in flight, the first with a transfer rate,
 * a third and two thirds of the way through, and the end.
 */
export function keyMoments(events: DrainEvent[]): number[] {
  const out = new Set<number>();
  const migrating = events.findIndex((e) => e.type === 'phase-changed' && (e.phase === 'migrating' || e.phase === 'returning'));
  if (migrating >= 0) out.add(migrating + 1);
  let most = 0;
  let at = -1;
  const view = new RunView();
  events.forEach((e, i) => {
    view.apply(e);
    const n = view.inFlight().length + (view.inFlight().some((v) => v.percent !== null) ? 0.5 : 0);
    if (n > most) {
      most = n;
      at = i + 1;
    }
  });
  if (at > 0) out.add(at);
  // the first moment a migration in flight has a transfer rate and an ETA
  const rated = new RunView();
  const withRate = events.findIndex((e) => {
    rated.apply(e);
    return rated.inFlight().some((v) => v.rateBps !== null && v.etaMs !== null);
  });
  if (withRate >= 0) out.add(withRate + 1);
  out.add(Math.max(1, Math.round(events.length / 3)));
  out.add(Math.max(1, Math.round((2 * events.length) / 3)));
  out.add(events.length);
  return [...out].sort((a, b) => a - b);
}

export function frame(events: DrainEvent[], n: number, opts: FrameOptions): string {
  return renderFrame(viewAfter(events, n), { cloud: 'demo', ...opts }).join('\n');
}
