/** A rolling wave planned at once (issue 19, item 3): capacity and server groups across the wave's hosts. */
import { strict as assert } from 'node:assert';
import { waveFit } from '../../../src/rolling/gate.js';
import type { DrainResult } from '../../../src/machines/results.js';

type Group = { id: string; name: string; policy: 'anti-affinity' | 'affinity'; moving: string[]; occupiedHosts: string[] };

function plan(host: string, instances: Array<[string, number]>, targets: Record<string, number>, groups: Group[] = []): { host: string; result: DrainResult } {
  const preflight = {
    targets: Object.entries(targets).map(([t, ram]) => ({ host: t, zone: 'nova', usable: true, reasons: [], providerUuid: `rp-${t}`, free: { MEMORY_MB: ram, VCPU: 64 }, freeAfterPlan: null, address: null, reachedVia: null })),
    plan: instances.map(([id, ram]) => ({ serverId: id, name: id, method: 'live', request: { MEMORY_MB: ram, VCPU: 1 }, availabilityZone: null, target: Object.keys(targets)[0], alternatives: [], fits: true, reason: null })),
    placementGroups: groups,
  };
  return { host, result: { preflight } as unknown as DrainResult };
}

describe('rolling/waveFit: the wave planned at once', () => {
  it('two hosts that each fit alone but not together: the second is refused, naming what fits nowhere', () => {
    const t = { 'compute-03': 10240 };
    const out = waveFit([plan('compute-01', [['a1', 3072], ['a2', 3072]], t), plan('compute-02', [['b1', 3072], ['b2', 3072]], t)], ['compute-01', 'compute-02']);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.host, 'compute-02');
    assert.match(out[0]!.message, /^no room for compute-02 together with compute-01 \(the wave is planned at once\): b\d: needs 1 VCPU, 3072 MB RAM; largest free: \d+ MB RAM on compute-03/);
  });

  it('room for both: nothing refused', () => {
    const t = { 'compute-03': 10240, 'compute-04': 10240 };
    assert.deepEqual(waveFit([plan('compute-01', [['a1', 3072], ['a2', 3072]], t), plan('compute-02', [['b1', 3072], ['b2', 3072]], t)], ['compute-01', 'compute-02']), []);
  });

  it("anti-affinity across the wave: a member leaving each host, one target: they cannot land together, so the second host waits", () => {
    const t = { 'compute-03': 65536 };
    const g = (moving: string[]): Group => ({ id: 'g', name: 'web', policy: 'anti-affinity', moving, occupiedHosts: ['compute-01', 'compute-02'] });
    const out = waveFit([plan('compute-01', [['w1', 1024]], t, [g(['w1'])]), plan('compute-02', [['w2', 1024]], t, [g(['w2'])])], ['compute-01', 'compute-02']);
    assert.deepEqual(out.map((r) => r.host), ['compute-02']);
    assert.match(out[0]!.message, /anti-affinity group 'web' already has a member on every possible target \(compute-03\)/);
    // The wave's own hosts are no members' homes once they are drained: with two targets both fit.
    assert.deepEqual(waveFit([plan('compute-01', [['w1', 1024]], { ...t, 'compute-04': 65536 }, [g(['w1'])]), plan('compute-02', [['w2', 1024]], { ...t, 'compute-04': 65536 }, [g(['w2'])])], ['compute-01', 'compute-02']), []);
  });
});
