import { strict as assert } from 'node:assert';
import { capacityOf } from '../../../src/planner/capacity.js';
import { largestFirst, placeAll } from '../../../src/planner/place.js';
import { candidateTargets, zoneAllows } from '../../../src/planner/targets.js';
import type { PlaceableInstance, PlacementTarget } from '../../../src/planner/types.js';
import { inventory, makeService } from '../../support/builders.js';

function target(host: string, o: { vcpus?: number; maxVcpu?: number; ramMb?: number; zone?: string | null; used?: Record<string, number> } = {}): PlacementTarget {
  return {
    host,
    zone: o.zone === undefined ? 'nova' : o.zone,
    providerUuid: `rp-${host}`,
    capacity: capacityOf(inventory({ vcpus: o.vcpus ?? 8, cpuRatio: 1, maxVcpu: o.maxVcpu ?? 64, ramMb: o.ramMb ?? 16384, ramReserved: 0 }), o.used ?? {}),
  };
}

function inst(id: string, vcpus: number, ramMb: number, az: string | null = 'nova'): PlaceableInstance {
  return { serverId: id, name: id, method: 'live', request: { VCPU: vcpus, MEMORY_MB: ramMb }, availabilityZone: az };
}

describe('planner/place', () => {
  it('places largest first, spreading by free RAM', () => {
    const r = placeAll([inst('small', 1, 1024), inst('big', 4, 8192), inst('mid', 2, 4096)], [target('c2'), target('c3')]);
    assert.deepEqual(r.plans.map((p) => p.serverId), ['big', 'mid', 'small']);
    assert.equal(r.plans[0]!.target, 'c2');
    assert.equal(r.plans[1]!.target, 'c3', 'spread: c3 has more RAM left after big went to c2');
    assert.ok(r.plans.every((p) => p.fits));
    assert.equal(r.remaining.c2!.VCPU! + r.remaining.c3!.VCPU!, 16 - 7);
  });

  it('deducts each placement so the sum never exceeds a target', () => {
    const r = placeAll([inst('a', 4, 8192), inst('b', 4, 8192), inst('c', 4, 8192)], [target('c2')]);
    assert.deepEqual(r.plans.map((p) => p.fits), [true, true, false]);
    assert.equal(r.plans[2]!.target, null);
    assert.match(r.plans[2]!.reason!, /needs 4 VCPU, 8192 MB RAM; largest free: 0 VCPU on c2, 0 MB RAM on c2/);
  });

  it("names what an instance that fits nowhere needs and the largest free amounts", () => {
    const r = placeAll([inst('huge', 8, 16384)], [target('compute-02', { vcpus: 4 }), target('compute-03', { vcpus: 6, ramMb: 8192 })]);
    assert.equal(r.plans[0]!.fits, false);
    assert.equal(r.plans[0]!.reason, 'needs 8 VCPU, 16384 MB RAM; largest free: 6 VCPU on compute-03');
  });

  it('says when an instance is larger than one allocation may be (max_unit)', () => {
    const r = placeAll([inst('wide', 8, 1024)], [target('c2', { vcpus: 16, maxVcpu: 4 })]);
    assert.equal(r.plans[0]!.reason, 'needs 8 VCPU, 1024 MB RAM; larger than one allocation may be: VCPU max_unit is 4');
  });

  it('says when each resource exists somewhere but never on one target', () => {
    const r = placeAll([inst('x', 6, 12000)], [target('a', { vcpus: 8, ramMb: 8192 }), target('b', { vcpus: 4, ramMb: 16384 })]);
    assert.match(r.plans[0]!.reason!, /no single target has all of it free at once/);
  });

  it('keeps anti-affinity members apart and off hosts where other members already run', () => {
    const groups = [{ id: 'g1', name: 'web', policy: 'anti-affinity' as const, moving: ['w1', 'w2'], occupiedHosts: ['c3'] }];
    const r = placeAll([inst('w1', 1, 1024), inst('w2', 1, 1024)], [target('c2'), target('c3'), target('c4')], groups);
    const hosts = r.plans.map((p) => p.target);
    assert.ok(!hosts.includes('c3'), 'c3 already runs a member');
    assert.notEqual(hosts[0], hosts[1], 'members do not share a target');
    assert.deepEqual([...hosts].sort(), ['c2', 'c4']);
  });

  it('refuses a member when every target already has one, naming the group', () => {
    const groups = [{ id: 'g1', name: 'db', policy: 'anti-affinity' as const, moving: ['d1', 'd2'], occupiedHosts: ['c3'] }];
    const r = placeAll([inst('d1', 1, 1024), inst('d2', 1, 1024)], [target('c2'), target('c3')], groups);
    const bad = r.plans.find((p) => !p.fits)!;
    assert.match(bad.reason!, /anti-affinity group 'db' already has a member on every possible target \(c2, c3\)/);
  });

  it('affinity: members go only where a member that stays runs, all to that host; none elsewhere is a named refusal', () => {
    const near = [{ id: 'g2', name: 'pair', policy: 'affinity' as const, moving: ['p1', 'p2'], occupiedHosts: ['c4'] }];
    const r = placeAll([inst('p1', 1, 1024), inst('p2', 1, 1024)], [target('c2', { ramMb: 65536 }), target('c3'), target('c4')], near);
    assert.deepEqual(r.plans.map((p) => p.target), ['c4', 'c4']);
    const full = placeAll([inst('p1', 6, 1024), inst('p2', 6, 1024)], [target('c2'), target('c4')], near);
    assert.match(full.plans.find((p) => !p.fits)!.reason!, /largest free: 2 VCPU on c4 \(targets excluded: 1 by affinity group 'pair'\)/);
    const gone = placeAll([inst('p1', 1, 1024)], [target('c2')], near);
    assert.match(gone.plans[0]!.reason!, /affinity group 'pair' admits only c4, which is not a usable target with room for it/);
    const alone = [{ id: 'g2', name: 'pair', policy: 'affinity' as const, moving: ['p1', 'p2'], occupiedHosts: [] }];
    const none = placeAll([inst('p1', 1, 1024), inst('p2', 1, 1024)], [target('c2'), target('c3')], alone);
    assert.ok(none.plans.every((p) => !p.fits && /affinity group 'pair' has every member on this host/.test(p.reason!)));
  });

  it('keeps instances in their availability zone; AZ-less instances go anywhere', () => {
    const r = placeAll([inst('a', 1, 1024, 'az1'), inst('b', 1, 1024, null)], [target('c2', { zone: 'az2', ramMb: 32768 }), target('c3', { zone: 'az1' })]);
    assert.equal(r.plans.find((p) => p.serverId === 'a')!.target, 'c3');
    assert.equal(r.plans.find((p) => p.serverId === 'b')!.target, 'c2');
    const none = placeAll([inst('z', 1, 1024, 'az9')], [target('c2')]);
    assert.match(none.plans[0]!.reason!, /no usable target in availability zone az9/);
  });

  it('gives alternatives (other fitting hosts) for pinned retries', () => {
    const r = placeAll([inst('a', 1, 1024)], [target('c2'), target('c3'), target('c4', { vcpus: 0 })]);
    assert.equal(r.plans[0]!.target, 'c2');
    assert.deepEqual(r.plans[0]!.alternatives, ['c3']);
  });

  it('sorts largest first by CPU, then RAM, then name', () => {
    const sorted = largestFirst([inst('b', 2, 100), inst('a', 2, 100), inst('c', 2, 200), inst('d', 4, 1)]);
    assert.deepEqual(sorted.map((x) => x.serverId), ['d', 'c', 'a', 'b']);
  });
});

describe('planner/targets', () => {
  const services = [
    makeService('c1'),
    makeService('c2'),
    makeService('c3', { status: 'disabled', disabledReason: 'AUTO: Connection to libvirt lost' }),
    makeService('c4', { state: 'down' }),
    makeService('c5', { zone: 'az2' }),
  ];
  it('keeps the other enabled and up computes, with the reason for the rest', () => {
    const r = candidateTargets(services, 'c1', { targets: null, aggregateHosts: null, availabilityZone: null });
    assert.deepEqual(r.verdicts.filter((v) => v.usable).map((v) => v.host), ['c2', 'c5']);
    assert.match(r.verdicts.find((v) => v.host === 'c3')!.reasons[0]!, /disabled \(AUTO: /);
    assert.deepEqual(r.verdicts.find((v) => v.host === 'c4')!.reasons, ['service down']);
  });
  it('restricts to named targets, an aggregate, an AZ; flags unknown names', () => {
    assert.deepEqual(candidateTargets(services, 'c1', { targets: ['c2', 'nope', 'c1'], aggregateHosts: null, availabilityZone: null }).unknownNamed, ['nope', 'c1']);
    assert.deepEqual(candidateTargets(services, 'c1', { targets: null, aggregateHosts: ['c5', 'c3'], availabilityZone: null }).verdicts.map((v) => v.host), ['c3', 'c5']);
    assert.deepEqual(candidateTargets(services, 'c1', { targets: null, aggregateHosts: null, availabilityZone: 'az2' }).verdicts.map((v) => v.host), ['c5']);
  });
  it('allows any zone only for instances without one', () => {
    assert.equal(zoneAllows(null, 'az1'), true);
    assert.equal(zoneAllows('az1', 'az1'), true);
    assert.equal(zoneAllows('az1', 'az2'), false);
  });
});
