import assert from 'node:assert/strict';
import { HostmaintError } from '../../../src/core/errors.js';
import { findEndpoint, parseCatalog } from '../../../src/openstack/identity/catalog.js';

const raw = [
  {
    type: 'compute',
    name: 'nova',
    id: 'n',
    endpoints: [
      { id: '1', interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: 'https://nova.one/v2.1/' },
      { id: '2', interface: 'internal', region_id: 'RegionOne', url: 'http://nova.one.internal/v2.1' },
      { id: '3', interface: 'public', region_id: 'RegionTwo', url: 'https://nova.two/v2.1' },
    ],
  },
  { type: 'placement', name: 'placement', id: 'p', endpoints: [{ id: '4', interface: 'public', region: 'RegionOne', url: 'https://placement.one' }] },
  { type: 'identity', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'https://keystone/v3' }] },
  { name: 'broken entry without type' },
];

function err(fn: () => unknown): HostmaintError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof HostmaintError);
    return e;
  }
  assert.fail('expected an error');
}

describe('identity: catalog', () => {
  const catalog = parseCatalog(raw);

  it('parses entries (region_id, or the older region), drops broken ones', () => {
    assert.deepEqual(catalog.map((c) => c.type), ['compute', 'placement', 'identity']);
    assert.deepEqual(catalog[1]?.endpoints[0], { id: '4', url: 'https://placement.one', interface: 'public', region: 'RegionOne' });
    assert.deepEqual(parseCatalog(undefined), []);
  });

  it('selects by type, interface and region; trailing slash removed', () => {
    assert.equal(findEndpoint(catalog, 'compute', 'public', 'RegionOne'), 'https://nova.one/v2.1');
    assert.equal(findEndpoint(catalog, 'compute', 'internal', 'RegionOne'), 'http://nova.one.internal/v2.1');
    assert.equal(findEndpoint(catalog, 'compute', 'public', 'RegionTwo'), 'https://nova.two/v2.1');
    assert.equal(findEndpoint(catalog, 'placement', 'public', null), 'https://placement.one', 'one region: no need to name it');
    assert.equal(findEndpoint(catalog, 'compute', 'internal', null), 'http://nova.one.internal/v2.1');
  });

  it('unknown region: lists the regions that have the service', () => {
    const e = err(() => findEndpoint(catalog, 'compute', 'public', 'RegionThree'));
    assert.equal(e.kind, 'config');
    assert.equal(e.message, "The catalog has no 'compute' endpoint for interface public in region RegionThree (regions with compute: RegionOne, RegionTwo)");
    assert.match(e.hint ?? '', /--os-region-name/);
    const p = err(() => findEndpoint(catalog, 'placement', 'public', 'RegionTwo'));
    assert.equal(p.message, "The catalog has no 'placement' endpoint for interface public in region RegionTwo (regions with placement: RegionOne)");
  });

  it('interface missing in the region: lists the interfaces there', () => {
    const e = err(() => findEndpoint(catalog, 'compute', 'admin', 'RegionOne'));
    assert.equal(e.message, "The catalog has no 'compute' endpoint for interface admin in region RegionOne (interfaces there: internal, public)");
    assert.match(e.hint ?? '', /--os-interface/);
    const e2 = err(() => findEndpoint(catalog, 'placement', 'internal', null));
    assert.match(e2.message, /no 'placement' endpoint for interface internal \(interfaces it has: public\)/);
  });

  it('several regions and none chosen: asks for one', () => {
    const e = err(() => findEndpoint(catalog, 'compute', 'public', null));
    assert.match(e.message, /'compute' endpoints for interface public in several regions \(RegionOne, RegionTwo\)/);
  });

  it('no such service, or an empty catalog', () => {
    const e = err(() => findEndpoint(catalog, 'image', 'public', 'RegionOne'));
    assert.equal(e.message, "The catalog has no 'image' service (services in the catalog: compute, identity, placement)");
    const empty = err(() => findEndpoint([], 'compute', 'public', null));
    assert.match(empty.message, /The catalog is empty/);
    assert.match(empty.hint ?? '', /no role in the project/);
  });
});
