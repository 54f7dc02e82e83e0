/** The terminal driver of the live view: in-place redraws, foreign writes, the cursor, resizes. */
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { LiveTerminal } from '../../../src/report/live.js';
import { readEvents } from './replay.js';

function terminal(cols: { n: number }) {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const live = new LiveTerminal({ stream, columns: () => cols.n, rows: () => 40, color: false, unicode: true, cloud: 'demo', throttleMs: 0, tickMs: 0 });
  return { stream, live, out: () => out, reset: () => (out = '') };
}
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('live view terminal driver', () => {
  it('hides the cursor, redraws in place (cursor up over the last frame), and gives the terminal back', async () => {
    const cols = { n: 100 };
    const t = terminal(cols);
    const events = readEvents('drain-demo');
    t.live.emit(events[0]!);
    await tick();
    assert.match(t.out(), /^\u001b\[\?25l/);
    const firstFrame = t.out().split('\n').length - 1;
    t.reset();
    t.live.emit(events[1]!);
    await tick();
    assert.ok(t.out().startsWith(`\u001b[${firstFrame}F`), JSON.stringify(t.out().slice(0, 20)));
    assert.ok(t.out().endsWith('\u001b[J'));
    for (const e of events.slice(2)) t.live.emit(e);
    t.live.finish();
    assert.match(t.out(), /✓ drained \(exit 0\)/);
    assert.ok(t.out().endsWith('\u001b[?25h'), 'cursor shown again');
    t.reset();
    t.stream.write('after\n');
    assert.equal(t.out(), 'after\n', 'writes are plain again after finish');
  });

  it('a foreign write (a log line, the Ctrl-C notice) goes above the frame, which is drawn again below it', async () => {
    const t = terminal({ n: 80 });
    const events = readEvents('drain-demo');
    for (const e of events.slice(0, 20)) t.live.emit(e);
    await tick();
    t.reset();
    t.stream.write('hostmaint: SIGINT: stopping');
    // erase the frame, the line (with its missing newline added), then the frame again
    assert.match(t.out(), /^\u001b\[\d+F\u001b\[Jhostmaint: SIGINT: stopping\n/);
    await tick();
    assert.match(t.out(), /stopping\n[^]*hostmaint drain compute-01 · cloud demo/);
    t.live.finish();
  });

  it('after the terminal got narrower, it goes up over the wrapped rows of the old frame', async () => {
    const cols = { n: 120 };
    const t = terminal(cols);
    const events = readEvents('drain-demo');
    for (const e of events.slice(0, 24)) t.live.emit(e);
    await tick();
    const lines = t.out().split('\n').slice(0, -1).length;
    t.reset();
    cols.n = 60;
    t.live.emit(events[24]!);
    await tick();
    const up = Number(/^\u001b\[(\d+)F/.exec(t.out())?.[1]);
    assert.ok(up > lines, `${up} rows up for a ${lines}-line frame now wrapped at 60 columns`);
    t.live.finish();
  });
});
