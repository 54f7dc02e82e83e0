import assert from 'node:assert/strict';
import { DEFAULT_VIRTUAL_START, VirtualClock, scaledClock } from '../../src/emulator/clock.js';
import { startEmulator } from '../../src/emulator/index.js';
import { C, client } from './helpers.js';

describe('emulator: clocks', () => {
  it('VirtualClock starts at a fixed instant and auto-advances to the earliest sleeper', async () => {
    const clock = new VirtualClock();
    assert.equal(clock.now(), DEFAULT_VIRTUAL_START);
    const order: string[] = [];
    const t0 = performance.now();
    await Promise.all([
      clock.sleep(30 * 60_000).then(() => order.push(`b@${clock.now() - DEFAULT_VIRTUAL_START}`)),
      clock.sleep(1000).then(() => order.push(`a@${clock.now() - DEFAULT_VIRTUAL_START}`)),
    ]);
    assert.deepEqual(order, ['a@1000', 'b@1800000']);
    assert.ok(performance.now() - t0 < 200, 'half an hour in milliseconds');
  });

  it('a woken sleeper runs before time moves on', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(100);
        seen.push(clock.now() - DEFAULT_VIRTUAL_START);
      }
    })();
    await clock.sleep(1000);
    await loop;
    assert.deepEqual(seen, [100, 200, 300, 400, 500]);
  });

  it('abort rejects and forgets the sleeper; hold() stops jumps', async () => {
    const clock = new VirtualClock();
    const ac = new AbortController();
    const p = clock.sleep(5000, ac.signal);
    ac.abort(new Error('stop'));
    await assert.rejects(p, /stop/);
    assert.equal(clock.pending(), 0);
    const release = clock.hold();
    let done = false;
    const q = clock.sleep(10).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false);
    release();
    await q;
    assert.equal(done, true);
  });

  it('manual mode: advance() resolves due sleepers in order', async () => {
    const clock = new VirtualClock({ autoAdvance: false });
    const order: number[] = [];
    void clock.sleep(300).then(() => order.push(3));
    void clock.sleep(100).then(() => order.push(1));
    void clock.sleep(200).then(() => order.push(2));
    clock.advance(250);
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual(order, [1, 2]);
    assert.equal(clock.now(), DEFAULT_VIRTUAL_START + 250);
    clock.advance(50);
    await Promise.resolve();
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('the clock never jumps while a request is in flight at the emulator (enter/leave)', async () => {
    const clock = new VirtualClock();
    clock.enter();
    let done = false;
    const p = clock.sleep(60_000).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false);
    assert.equal(clock.now(), DEFAULT_VIRTUAL_START);
    clock.leave();
    await p;
    assert.equal(clock.now(), DEFAULT_VIRTUAL_START + 60_000);
  });

  it('the emulator evaluates its model lazily at the clock time of each request', async () => {
    const clock = new VirtualClock();
    const emu = await startEmulator({ scenario: { hosts: [{ name: 'h' }] }, clock });
    try {
      const c = await client(emu);
      await clock.sleep(90_000);
      assert.equal((await c.get(`${C}/os-services`)).status, 200);
      const times = emu.requests.records.map((x) => x.time - DEFAULT_VIRTUAL_START);
      assert.deepEqual(times, [0, 90_000]);
    } finally {
      await emu.stop();
    }
  });

  it('scaledClock runs faster than real time', async () => {
    const clock = scaledClock(100);
    const t0 = clock.now();
    await clock.sleep(2000);
    const elapsed = clock.now() - t0;
    assert.ok(elapsed >= 1900 && elapsed < 10_000, `${elapsed}`);
  });

  it('a cloud on a scaled clock stamps its API in real time, as a real cloud (NTP) agrees with its clients: its heartbeats', async () => {
    const clock = scaledClock(1000);
    const emu = await startEmulator({ scenario: { hosts: [{ name: 'h' }] }, clock });
    try {
      const c = await client(emu);
      await clock.sleep(600_000); // ten emulated minutes: 0.6 real seconds
      const svc = (await c.get(`${C}/os-services?binary=nova-compute`)).body.services[0] as { updated_at: string };
      const stamped = Date.parse(`${svc.updated_at}Z`);
      assert.ok(Math.abs(stamped - Date.now()) < 15_000, `heartbeat ${svc.updated_at} is real time, not the emulated ${new Date(clock.now()).toISOString()}`);
      assert.ok(clock.now() - Date.now() > 500_000, 'the model runs ahead');
    } finally {
      await emu.stop();
    }
  });
});
