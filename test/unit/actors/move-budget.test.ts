/** --max-total (issue 19): the moves in flight of a rolling run's drains, counted together. */
import { strict as assert } from 'node:assert';
import { MoveBudget } from '../../../src/actors/move-budget.js';
import { StartGate } from '../../../src/actors/pool-limits.js';
import { run, SETTINGS } from './helpers.js';

describe('actors/MoveBudget and the start gate', () => {
  it('a drain waits while the others hold the total; a drain that ended frees its share', () => {
    const budget = new MoveBudget(2);
    budget.set('drain-a', 2);
    const gate = new StartGate([], SETTINGS, { runId: 'drain-b', shared: budget });
    const why = gate.reason(run('x'), true, false, null);
    assert.equal(why?.kind, 'total');
    assert.match(why!.detail, /--max-total 2/);
    budget.release('drain-a');
    assert.equal(gate.reason(run('x'), true, false, null), null);
  });

  it('a reservation counts at once for the others, and settles back when nothing started', () => {
    const budget = new MoveBudget(1);
    const a = new StartGate([], SETTINGS, { runId: 'drain-a', shared: budget });
    const b = new StartGate([], SETTINGS, { runId: 'drain-b', shared: budget });
    a.reserve();
    assert.equal(b.reason(run('y'), true, false, null)?.kind, 'total', 'held while drain-a asks Nova');
    a.settle();
    assert.equal(b.reason(run('y'), true, false, null), null);
  });
});
