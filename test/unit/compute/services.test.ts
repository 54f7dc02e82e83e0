import assert from 'node:assert/strict';
import { isHostmaintError } from '../../../src/core/errors.js';
import { memoryLogger } from '../../../src/core/log.js';
import { createComputeClient } from '../../../src/openstack/compute/index.js';
import type { ComputeService } from '../../../src/openstack/types.js';
import { FakeServiceClient } from '../../support/fake-service-client.js';

const UUID = '8f0b7e47-0b4c-4c3f-a0f4-8a3f7c1e2d11';

function setup(microversion: string) {
  const fake = new FakeServiceClient({ microversion });
  const api = createComputeClient(fake, memoryLogger());
  return { fake, api };
}

const service = (over: Partial<ComputeService> = {}): ComputeService => ({
  id: UUID,
  binary: 'nova-compute',
  host: 'compute-01',
  zone: 'nova',
  status: 'enabled',
  state: 'up',
  disabledReason: null,
  forcedDown: false,
  updatedAt: '2024-01-01T00:00:00.000000',
  ...over,
});

describe('compute services', () => {
  it('lists by host and binary with exactly those two filters', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', '/os-services', {
      services: [
        { id: UUID, binary: 'nova-compute', host: 'compute-01', zone: 'nova', status: 'disabled', state: 'up', updated_at: '2024-05-01T10:00:00.000000', disabled_reason: 'AUTO: Connection to libvirt lost: 1', forced_down: false },
      ],
    });
    const got = await api.listServices({ host: 'compute-01', binary: 'nova-compute' });
    const req = fake.only();
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/os-services');
    assert.deepEqual(req.query, { binary: 'nova-compute', host: 'compute-01' });
    assert.equal(req.microversion, '2.93');
    assert.deepEqual(got, [
      { id: UUID, binary: 'nova-compute', host: 'compute-01', zone: 'nova', status: 'disabled', state: 'up', disabledReason: 'AUTO: Connection to libvirt lost: 1', forcedDown: false, updatedAt: '2024-05-01T10:00:00.000000' },
    ]);
  });

  it('turns integer ids (before 2.53) into strings and a missing forced_down (before 2.11) into false', async () => {
    const { fake, api } = setup('2.1');
    fake.json('GET', '/os-services', { services: [{ id: 7, binary: 'nova-compute', host: 'compute-01', zone: 'nova', status: 'enabled', state: 'down', updated_at: null, disabled_reason: null }] });
    const [s] = await api.listServices({});
    assert.deepEqual(fake.only().query, {});
    assert.equal(s!.id, '7');
    assert.equal(s!.forcedDown, false);
    assert.equal(s!.state, 'down');
  });

  describe('disable', () => {
    it('2.53+: PUT /os-services/{uuid} {status: disabled, disabled_reason}', async () => {
      const { fake, api } = setup('2.53');
      fake.json('PUT', `/os-services/${UUID}`, {
        service: { id: UUID, binary: 'nova-compute', host: 'compute-01', zone: 'nova', status: 'disabled', state: 'up', updated_at: null, disabled_reason: 'hostmaint:r1: kernel', forced_down: false },
      });
      const got = await api.disableService(service(), 'hostmaint:r1: kernel');
      const req = fake.only();
      assert.equal(req.method, 'PUT');
      assert.equal(req.path, `/os-services/${UUID}`);
      assert.deepEqual(req.body, { status: 'disabled', disabled_reason: 'hostmaint:r1: kernel' });
      assert.equal(req.microversion, '2.53');
      assert.equal(got.status, 'disabled');
      assert.equal(got.disabledReason, 'hostmaint:r1: kernel');
    });

    it('before 2.53: PUT /os-services/disable-log-reason {host, binary, disabled_reason}', async () => {
      const { fake, api } = setup('2.52');
      fake.json('PUT', '/os-services/disable-log-reason', { service: { host: 'compute-01', binary: 'nova-compute', status: 'disabled', disabled_reason: 'maint' } });
      const got = await api.disableService(service({ id: '3' }), 'maint');
      const req = fake.only();
      assert.equal(req.path, '/os-services/disable-log-reason');
      assert.deepEqual(req.body, { host: 'compute-01', binary: 'nova-compute', disabled_reason: 'maint' });
      assert.equal(req.microversion, '2.52');
      // the legacy answer is partial: the rest is kept from what we knew
      assert.deepEqual(got, service({ id: '3', status: 'disabled', disabledReason: 'maint' }));
    });

    for (const [label, reason] of [
      ['empty', ''],
      ['256 characters', 'x'.repeat(256)],
    ] as const) {
      it(`refuses a reason that is ${label} before sending anything`, async () => {
        const { fake, api } = setup('2.93');
        await assert.rejects(api.disableService(service(), reason), (e: unknown) => isHostmaintError(e) && e.kind === 'bad-request' && /1 to 255/.test(e.message));
        assert.equal(fake.requests.length, 0);
      });
    }

    it('counts characters, not UTF-16 units: 255 emoji are accepted', async () => {
      const { fake, api } = setup('2.93');
      fake.json('PUT', `/os-services/${UUID}`, { service: { id: UUID, binary: 'nova-compute', host: 'compute-01', status: 'disabled', state: 'up', disabled_reason: 'x' } });
      await api.disableService(service(), '🔧'.repeat(255));
      assert.equal(fake.requests.length, 1);
      await assert.rejects(api.disableService(service(), '🔧'.repeat(256)), (e: unknown) => isHostmaintError(e) && e.kind === 'bad-request');
    });
  });

  describe('enable', () => {
    it('2.53+: PUT /os-services/{uuid} {status: enabled} (no reason)', async () => {
      const { fake, api } = setup('2.93');
      fake.json('PUT', `/os-services/${UUID}`, {
        service: { id: UUID, binary: 'nova-compute', host: 'compute-01', zone: 'nova', status: 'enabled', state: 'up', updated_at: null, disabled_reason: null, forced_down: false },
      });
      const got = await api.enableService(service({ status: 'disabled', disabledReason: 'x' }));
      assert.deepEqual(fake.only().body, { status: 'enabled' });
      assert.equal(got.status, 'enabled');
      assert.equal(got.disabledReason, null);
    });

    it('before 2.53: PUT /os-services/enable {host, binary}', async () => {
      const { fake, api } = setup('2.11');
      fake.json('PUT', '/os-services/enable', { service: { host: 'compute-01', binary: 'nova-compute', status: 'enabled' } });
      const got = await api.enableService(service({ id: '3', status: 'disabled', disabledReason: 'x' }));
      const req = fake.only();
      assert.equal(req.path, '/os-services/enable');
      assert.deepEqual(req.body, { host: 'compute-01', binary: 'nova-compute' });
      assert.equal(got.status, 'enabled');
      assert.equal(got.disabledReason, null);
    });
  });
});
