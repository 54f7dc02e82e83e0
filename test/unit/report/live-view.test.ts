/**
 * The live view rendered from recorded event streams (test/fixtures/events/,
 * recorded from real runs on the emulated cloud by record.ts) at fixed
 * widths, compared with committed snapshots; and properties that must hold
 * for every frame at every width: no line wider than the terminal, no escape
 * code without colour, the same frame for the same events.
 */
import { strict as assert } from 'node:assert';
import { displayWidth, stripAnsi } from '../../../src/report/ansi.js';
import { renderFrame } from '../../../src/report/live.js';
import { fixtureNames, frame, keyMoments, readEvents, viewAfter } from './replay.js';
import { matchSnapshot, showEscapes } from './snapshot.js';

const WIDTHS = [120, 80, 50];

function frames(name: string, width: number, opts: { color?: boolean; unicode?: boolean; height?: number | null } = {}): string {
  const events = readEvents(name);
  return keyMoments(events)
    .map((n) => `── after ${n} of ${events.length} events, ${width} columns ${'─'.repeat(20)}\n${frame(events, n, { width, ...opts })}`)
    .join('\n');
}

describe('live view: snapshots of recorded runs', () => {
  it('has recorded streams to replay', () => {
    assert.deepEqual(fixtureNames(), ['drain-demo', 'drain-escalation', 'drain-partial', 'drain-refused', 'drain-source-down', 'plan-demo', 'undrain-return']);
  });
  for (const name of fixtureNames()) {
    for (const width of WIDTHS) {
      it(`${name} at ${width} columns`, () => matchSnapshot(`${name}.w${width}`, frames(name, width)));
    }
  }
  it('drain-demo with colour (escapes shown as \\e)', () => matchSnapshot('drain-demo.w100.color', showEscapes(frames('drain-demo', 100, { color: true }))));
  it('drain-partial in ASCII (no UTF-8 locale)', () => matchSnapshot('drain-partial.w72.ascii', frames('drain-partial', 72, { unicode: false })));
  it('drain-demo on a 12-row terminal keeps to 11 lines', () => {
    const text = frames('drain-demo', 80, { height: 12 });
    matchSnapshot('drain-demo.w80.h12', text);
    for (const f of text.split(/^── .*$/m).filter((s) => s.trim())) assert.ok(f.trim().split('\n').length <= 11, f);
  });
});

describe('live view: properties of every frame', () => {
  for (const name of fixtureNames()) {
    it(`${name}: no line wider than the terminal, at every event, 20..160 columns`, () => {
      const events = readEvents(name);
      for (let n = 1; n <= events.length; n++) {
        const view = viewAfter(events, n);
        for (const width of [20, 24, 33, 40, 47, 59, 64, 72, 80, 99, 132, 160]) {
          for (const color of [false, true]) {
            const lines = renderFrame(view, { width, color, cloud: 'demo' });
            for (const l of lines) {
              assert.ok(displayWidth(l) <= width, `${name} after ${n} at ${width}: ${JSON.stringify(l)} is ${displayWidth(l)} wide`);
              if (!color) assert.equal(l, stripAnsi(l), `escape code without colour: ${JSON.stringify(l)}`);
            }
          }
        }
      }
    });
  }
  for (const name of fixtureNames()) {
    it(`${name}: the columns stay put from frame to frame (one table header for the whole run, at every width)`, () => {
      const events = readEvents(name);
      for (const width of [50, 80, 120, 160]) {
        const headers = new Set<string>();
        for (let n = 1; n <= events.length; n++) {
          for (const l of renderFrame(viewAfter(events, n), { width })) if (/^ {2}INSTANCE /.test(l)) headers.add(l);
        }
        assert.ok(headers.size <= 1, `${name} at ${width}: the header moved:\n${[...headers].join('\n')}`);
      }
    });
  }
  it('the same events give the same frame', () => {
    const events = readEvents('drain-partial');
    const a = frame(events, 30, { width: 90, color: true });
    const b = frame(events, 30, { width: 90, color: true });
    assert.equal(a, b);
  });
  it('colour changes only the escapes, never the text', () => {
    const events = readEvents('drain-demo');
    for (const n of keyMoments(events)) {
      assert.equal(stripAnsi(frame(events, n, { width: 100, color: true })), frame(events, n, { width: 100, color: false }));
    }
  });
  it('an instance held back for more than the source slots shows in the table with what it waits for', () => {
    const events = readEvents('drain-source-down');
    const n = events.findIndex((e) => e.type === 'instance-waiting' && e.waitingFor === 'source-down') + 1;
    assert.ok(n > 0);
    const text = frame(events, n, { width: 120 });
    const name = (events[n - 1] as { name: string }).name;
    assert.match(text, new RegExp(`^  ${name} .*compute-01 → \\S+ +wait: down`, 'm'), text);
    assert.match(text, new RegExp(`${name} waits: compute-01's nova-compute is down`), text);
  });
  it('a frame shows the phase, the bar, each migration in flight and recent events', () => {
    const events = readEvents('drain-demo');
    const n = keyMoments(events)[1] as number;
    const text = frame(events, n, { width: 120 });
    assert.match(text, /▶ migrate/);
    assert.match(text, /0\/12 moved · ETA (—|\d+:\d\d) · (\d running · )?\d queued in Nova · \d+ waiting/);
    assert.match(text, /db-2 +compute-01 → scheduler +running +█░+ +11% +16 GiB +0:02$/m);
    assert.match(text, /preflight passed/);
  });
});
