import { strict as assert } from 'node:assert';
import { parseDuration, parseIntFlag, formatDuration } from '../../../src/core/durations.js';
import { HostmaintError } from '../../../src/core/errors.js';

describe('duration and number flags', () => {
  it('parses seconds and unit forms', () => {
    assert.equal(parseDuration('t', '90'), 90_000);
    assert.equal(parseDuration('t', '250ms'), 250);
    assert.equal(parseDuration('t', '5m'), 300_000);
    assert.equal(parseDuration('t', '1h30m'), 5_400_000);
  });
  for (const bad of ['-5', '', 'soon', '5 minutes', '1y', 'NaN']) {
    it(`rejects '${bad}' as a usage error naming the flag`, () => {
      assert.throws(() => parseDuration('migration-timeout', bad), (e: unknown) =>
        e instanceof HostmaintError && e.kind === 'usage' && e.message.includes('--migration-timeout'));
    });
  }
  it('rejects absurd values', () => {
    assert.throws(() => parseDuration('stall-timeout', '100000h'), /out of range/);
    assert.throws(() => parseDuration('poll-interval', '1ms', { minMs: 100 }), /out of range/);
  });
  it('rejects non-integers and out-of-range integers', () => {
    assert.equal(parseIntFlag('concurrency', 4, 1, 64), 4);
    assert.throws(() => parseIntFlag('concurrency', 0, 1, 64), /--concurrency 0 is not allowed/);
    assert.throws(() => parseIntFlag('concurrency', 2.5, 1, 64), /not allowed/);
    assert.throws(() => parseIntFlag('concurrency', 'lots', 1, 64), /not allowed/);
  });
  it('formats durations for people', () => {
    assert.equal(formatDuration(500), '500ms');
    assert.equal(formatDuration(42_000), '42s');
    assert.equal(formatDuration(125_000), '2m5s');
    assert.equal(formatDuration(3_900_000), '1h5m');
  });
});
