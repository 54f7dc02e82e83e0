import { strict as assert } from 'node:assert';
import { EXIT } from '../../../src/core/exit-codes.js';
import { identifyDisabler, isHostmaintReason, makeMarker, MAX_REASON_LENGTH, parseMarker } from '../../../src/machines/marker.js';
import { EXIT_CODES, exitCodeFor } from '../../../src/machines/exit-codes.js';
import { outcomeForError, toErrorInfo } from '../../../src/machines/outcome.js';

describe('workflow/marker', () => {
  it('stamps hostmaint:<run-id>: <reason> and parses it back', () => {
    const m = makeMarker('20240101T000000Z-ab12', 'kernel upgrade (CHG-42)');
    assert.equal(m, 'hostmaint:20240101T000000Z-ab12: kernel upgrade (CHG-42)');
    assert.deepEqual(parseMarker(m), { runId: '20240101T000000Z-ab12', reason: 'kernel upgrade (CHG-42)' });
    assert.equal(isHostmaintReason(m), true);
  });

  it("truncates to Nova's 255 characters, counting code points", () => {
    const m = makeMarker('r1', 'x'.repeat(400));
    assert.equal([...m].length, MAX_REASON_LENGTH);
    assert.ok(m.endsWith('…'));
    assert.equal(parseMarker(m)?.runId, 'r1');
    const emoji = makeMarker('r1', '🔧'.repeat(300));
    assert.equal([...emoji].length, MAX_REASON_LENGTH);
    assert.ok(!/[\uD800-\uDBFF]…$/.test(emoji), 'no half surrogate pair before the ellipsis');
  });

  it('defaults an empty reason and rejects run ids that would break the marker', () => {
    assert.equal(makeMarker('r1', '   '), 'hostmaint:r1: maintenance');
    assert.throws(() => makeMarker('bad:id', 'x'));
    assert.throws(() => makeMarker('', 'x'));
  });

  it('recognises who else disables computes', () => {
    assert.equal(identifyDisabler('AUTO: Connection to libvirt lost: 1').who, 'libvirt');
    assert.equal(identifyDisabler('Masakari detected host failed.').who, 'masakari');
    assert.equal(identifyDisabler('watcher_maintaining').who, 'watcher');
    assert.equal(identifyDisabler('replacing DIMM - bob').who, 'unknown');
    assert.match(identifyDisabler('replacing DIMM - bob').description, /someone else \("replacing DIMM - bob"\)/);
    assert.equal(identifyDisabler(null).who, 'unknown');
    const h = identifyDisabler('hostmaint:r9: patching');
    assert.equal(h.who, 'hostmaint');
    assert.equal(h.runId, 'r9');
    assert.equal(parseMarker('hostmaintenance by alice'), null);
    assert.equal(parseMarker('AUTO: hostmaint:r1: x'), null);
  });
});

describe('workflow/outcome', () => {
  it('maps outcomes to the documented exit codes', () => {
    assert.equal(exitCodeFor('drained'), EXIT.OK);
    assert.equal(exitCodeFor('planned'), EXIT.OK);
    assert.equal(exitCodeFor('undrained'), EXIT.OK);
    assert.equal(exitCodeFor('already-enabled'), EXIT.OK);
    assert.equal(exitCodeFor('error'), EXIT.UNEXPECTED);
    assert.equal(exitCodeFor('unknown-host'), EXIT.USAGE);
    assert.equal(exitCodeFor('preflight-refused'), EXIT.PREFLIGHT_REFUSED);
    assert.equal(exitCodeFor('partial'), EXIT.PARTIAL);
    assert.equal(exitCodeFor('ownership-refused'), EXIT.CONFLICT);
    assert.equal(exitCodeFor('host-busy'), EXIT.CONFLICT);
    assert.equal(exitCodeFor('ownership-lost'), EXIT.CONFLICT);
    assert.equal(exitCodeFor('service-down'), EXIT.CONFLICT);
    assert.equal(exitCodeFor('cloud-unreachable'), EXIT.CLOUD);
    assert.equal(exitCodeFor('interrupted'), EXIT.INTERRUPTED);
    assert.equal(Object.keys(EXIT_CODES).length, 15);
  });

  it('turns thrown errors into data and picks the outcome by kind', () => {
    const info = toErrorInfo(Object.assign(new Error('no route'), { kind: 'network', status: 0, requestId: 'req-1' }));
    assert.deepEqual(info, { kind: 'network', message: 'no route', status: 0, requestId: 'req-1', hint: null });
    assert.equal(outcomeForError(info), 'cloud-unreachable');
    assert.equal(outcomeForError(toErrorInfo(new Error('bug'))), 'error');
    assert.equal(outcomeForError(toErrorInfo('weird')), 'error');
    // Plain data: it survives a JSON round trip unchanged (what a saved run and --json print), even from an error with a cause and extra fields.
    const rich = toErrorInfo(Object.assign(new Error('outer', { cause: new Error('inner') }), { kind: 'server-error', status: 503, requestId: 'req-2', config: { agent: process } }));
    for (const x of [info, rich, toErrorInfo(new Error('bug')), toErrorInfo('weird')]) assert.deepEqual(JSON.parse(JSON.stringify(x)), x);
    assert.deepEqual(Object.keys(rich).sort(), ['hint', 'kind', 'message', 'requestId', 'status']);
  });
});
