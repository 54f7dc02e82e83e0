/**
 * Request budget of a drain (issue #9, P2), counted on the emulated cloud:
 * a count, not a time, so it is stable. A small drain (12 instances of mixed
 * sizes, the CLI's defaults: --concurrency 2, --poll-interval 2s) through
 * hostmaint's real clients, on the emulator's VirtualClock. If a change makes
 * hostmaint chattier, this fails with the requests by kind.
 *
 * The budget follows from the pool's design (src/actors/pool.ts): per poll one
 * migration listing, a server listing only when a request may follow, and at
 * most one progress read, and one read of the source's service (the drain acts only while it
 * holds it, and notices a source going down); per instance one POST and one look at the server
 * once its migration completed; per distinct flavor one Placement
 * allocation-candidates call; a fixed cost for resolve, disable, preflight and
 * verify.
 */
import { strict as assert } from 'node:assert';
import { hostmaintRun, type HostmaintRun } from '../../bench/drain-figures.js';
import { MIXED_FLAVORS, mixedHostScenario } from '../../bench/lib/emulated.js';

/** Requests per instance for the whole drain (disable to verified empty), by the compute's max_concurrent_live_migrations. */
const BUDGET_PER_INSTANCE: Record<number, number> = { 1: 15, 4: 8 };
/** Service read + migration listing + server listing (only when a request may follow) + one progress read. */
const RECURRING_PER_POLL = 4;

const show = (r: HostmaintRun) => `${r.requests} requests: ${JSON.stringify(r.byKind)}`;

describe('request budget of a drain (emulated cloud, counted)', function () {
  this.timeout(120_000);

  for (const perCompute of [1, 4]) {
    it(`12 instances, ${perCompute} live migration(s) per compute: at most ${BUDGET_PER_INSTANCE[perCompute]} requests per instance`, async () => {
      const n = 12;
      const r = await hostmaintRun(mixedHostScenario(n, perCompute));
      assert.equal(r.result.outcome, 'drained');
      const perInstance = r.requests / n;
      assert.ok(perInstance <= BUDGET_PER_INSTANCE[perCompute]!, `${perInstance.toFixed(1)} requests per instance; ${show(r)}`);
      assert.equal(r.byKind['POST os-migrateLive'], n, 'one request per instance, never repeated');
      assert.equal(r.serviceReadsBeforeDisable, 1, 'the host is looked up once before the disable: the machine resolves, decides and disables on one read');
      assert.ok((r.byKind['GET server'] ?? 0) <= n, `one look at each server once it left: ${show(r)}`);
      assert.equal(r.byKind['placement /allocation_candidates'], MIXED_FLAVORS.length, 'one allocation-candidates call per distinct flavor');
      assert.equal(r.byKind['placement /resource_providers/{uuid}/inventories'] ?? 0, 0, 'no per-target inventories');
      assert.ok(Math.max(...r.recurringPerPoll) <= RECURRING_PER_POLL, `recurring requests per poll: ${r.recurringPerPoll.join(' ')}`);
    });
  }

  it('requests per poll do not grow with the number of queued instances', async () => {
    const few = await hostmaintRun(mixedHostScenario(6, 1));
    const many = await hostmaintRun(mixedHostScenario(30, 1));
    assert.equal(Math.max(...many.recurringPerPoll), Math.max(...few.recurringPerPoll), `6: ${few.recurringPerPoll.join(' ')}; 30: ${many.recurringPerPoll.join(' ')}`);
    // Five times the instances: the fixed cost is paid once, the rest grows with the migrations' time, not with the queue.
    assert.ok(many.requests / 30 <= few.requests / 6, `${few.requests} for 6, ${many.requests} for 30`);
  });
});
