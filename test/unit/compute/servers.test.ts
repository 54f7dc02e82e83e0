import assert from 'node:assert/strict';
import { HttpError, isHostmaintError, isHttpError } from '../../../src/core/errors.js';
import { memoryLogger } from '../../../src/core/log.js';
import { createComputeClient } from '../../../src/openstack/compute/index.js';
import { FakeServiceClient, fakeHttpError } from '../../support/fake-service-client.js';

const ID = '0b5e2c1a-7d5c-4d1b-9a57-0f1e2d3c4b5a';

function setup(microversion: string, pageSize = 1000) {
  const fake = new FakeServiceClient({ microversion });
  const logger = memoryLogger();
  const api = createComputeClient(fake, logger, { pageSize });
  return { fake, api, logger };
}

/** A 2.93 /servers/detail row shaped like nova 26's views/servers.py (admin view). */
function wireServer(id: string, over: Record<string, unknown> = {}) {
  return {
    id,
    name: `vm-${id}`,
    status: 'ACTIVE',
    tenant_id: 'p1',
    user_id: 'u1',
    metadata: { role: 'db' },
    hostId: 'abc',
    image: { id: 'img-1', links: [] },
    flavor: { vcpus: 2, ram: 4096, disk: 1, ephemeral: 0, swap: 0, original_name: 'm1.medium', extra_specs: { 'hw:cpu_policy': 'shared' } },
    created: '2024-05-01T10:00:00Z',
    updated: '2024-05-01T10:01:00Z',
    addresses: {},
    accessIPv4: '',
    accessIPv6: '',
    links: [],
    'OS-DCF:diskConfig': 'MANUAL',
    progress: 0,
    'OS-EXT-AZ:availability_zone': 'nova',
    config_drive: '',
    key_name: null,
    'OS-SRV-USG:launched_at': '2024-05-01T10:00:30.000000',
    'OS-SRV-USG:terminated_at': null,
    'OS-EXT-SRV-ATTR:host': 'compute-01',
    'OS-EXT-SRV-ATTR:instance_name': 'instance-00000001',
    'OS-EXT-SRV-ATTR:hypervisor_hostname': 'compute-01',
    'OS-EXT-SRV-ATTR:reservation_id': 'r-1',
    'OS-EXT-SRV-ATTR:launch_index': 0,
    'OS-EXT-SRV-ATTR:hostname': 'vm',
    'OS-EXT-SRV-ATTR:kernel_id': '',
    'OS-EXT-SRV-ATTR:ramdisk_id': '',
    'OS-EXT-SRV-ATTR:root_device_name': '/dev/sda',
    'OS-EXT-STS:task_state': null,
    'OS-EXT-STS:vm_state': 'active',
    'OS-EXT-STS:power_state': 1,
    'os-extended-volumes:volumes_attached': [{ id: 'vol-1', delete_on_termination: false }],
    host_status: 'UP',
    locked: false,
    locked_reason: null,
    description: null,
    tags: [],
    trusted_image_certificates: null,
    security_groups: [],
    ...over,
  };
}

describe('compute servers', () => {
  describe('listServersOnHost', () => {
    it('asks all_tenants + host with no status (every non-deleted state), then the soft-deleted ones', async () => {
      const { fake, api } = setup('2.93');
      fake.on('GET', '/servers/detail', (req) => ({ data: { servers: req.query?.status === 'SOFT_DELETED' ? [wireServer('s9', { status: 'SOFT_DELETED', 'OS-EXT-STS:vm_state': 'soft-delete' })] : [wireServer('s1')] } }));
      const got = await api.listServersOnHost('compute-01');
      assert.deepEqual(
        fake.requests.map((r) => [r.method, r.path, r.query, r.microversion]),
        [
          ['GET', '/servers/detail', { all_tenants: '1', host: 'compute-01', limit: 1000 }, '2.93'],
          ['GET', '/servers/detail', { all_tenants: '1', host: 'compute-01', status: 'SOFT_DELETED', deleted: 'true', limit: 1000 }, '2.93'],
        ],
      );
      assert.deepEqual(got.map((s) => [s.id, s.status]), [['s1', 'ACTIVE'], ['s9', 'SOFT_DELETED']]);
    });

    it('follows servers_links next with limit + marker until there is none', async () => {
      const { fake, api } = setup('2.93', 2);
      fake.on('GET', '/servers/detail', (req) => {
        if (req.query?.status) return { data: { servers: [] } };
        switch (req.query?.marker) {
          case undefined:
            return { data: { servers: [wireServer('a'), wireServer('b')], servers_links: [{ rel: 'next', href: 'http://127.0.0.1:8774/v2.1/servers/detail?all_tenants=1&host=compute-01&limit=2&marker=b' }] } };
          case 'b':
            return { data: { servers: [wireServer('c'), wireServer('d')], servers_links: [{ rel: 'next', href: 'http://127.0.0.1:8774/v2.1/servers/detail?all_tenants=1&host=compute-01&limit=2&marker=d' }] } };
          default:
            return { data: { servers: [] } };
        }
      });
      const got = await api.listServersOnHost('compute-01');
      assert.deepEqual(got.map((s) => s.id), ['a', 'b', 'c', 'd']);
      assert.deepEqual(
        fake.requests.filter((r) => !r.query?.status).map((r) => r.query),
        [
          { all_tenants: '1', host: 'compute-01', limit: 2 },
          { all_tenants: '1', host: 'compute-01', limit: 2, marker: 'b' },
          { all_tenants: '1', host: 'compute-01', limit: 2, marker: 'd' },
        ],
      );
    });

    it('refuses a paging loop (the same marker twice)', async () => {
      const { fake, api } = setup('2.93', 1);
      fake.json('GET', '/servers/detail', { servers: [wireServer('a')], servers_links: [{ rel: 'next', href: 'http://x/servers/detail?marker=a' }] });
      await assert.rejects(api.listServersOnHost('compute-01'), (e: unknown) => isHostmaintError(e) && e.kind === 'server-error');
    });
  });

  it('translates every wire name once (2.93 admin view)', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', `/servers/${ID}`, { server: wireServer(ID, { status: 'ERROR', 'OS-EXT-STS:vm_state': 'error', fault: { code: 500, created: '2024-05-01T10:02:00Z', message: 'No valid host was found. ' }, locked: true, locked_reason: 'forensics', host_status: 'MAINTENANCE' }) });
    const s = await api.getServer(ID);
    assert.deepEqual(fake.only().query, undefined);
    assert.deepEqual(s, {
      id: ID,
      name: `vm-${ID}`,
      projectId: 'p1',
      userId: 'u1',
      status: 'ERROR',
      vmState: 'error',
      taskState: null,
      powerState: 1,
      host: 'compute-01',
      hypervisorHostname: 'compute-01',
      instanceName: 'instance-00000001',
      availabilityZone: 'nova',
      locked: true,
      lockedReason: 'forensics',
      flavor: { id: null, name: 'm1.medium', vcpus: 2, ramMb: 4096, diskGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: { 'hw:cpu_policy': 'shared' } },
      hostStatus: 'MAINTENANCE',
      imageId: 'img-1',
      volumeIds: ['vol-1'],
      metadata: { role: 'db' },
      fault: { code: 500, message: 'No valid host was found. ', created: '2024-05-01T10:02:00Z' },
      createdAt: '2024-05-01T10:00:00Z',
      updatedAt: '2024-05-01T10:01:00Z',
    });
  });

  it('boot-from-volume (image "") has no image id; an unknown zone ("") is null; offloaded has no host', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', `/servers/${ID}`, { server: wireServer(ID, { image: '', 'OS-EXT-AZ:availability_zone': '', 'OS-EXT-SRV-ATTR:host': null, 'OS-EXT-SRV-ATTR:hypervisor_hostname': null, status: 'SHELVED_OFFLOADED' }) });
    const s = await api.getServer(ID);
    assert.equal(s.imageId, null);
    assert.equal(s.availabilityZone, null);
    assert.equal(s.host, null);
  });

  it('config_drive "True" is configDrive: true; "" leaves it out', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', `/servers/${ID}`, { server: wireServer(ID, { config_drive: 'True' }) });
    assert.equal((await api.getServer(ID)).configDrive, true);
    const other = setup('2.93');
    other.fake.json('GET', `/servers/${ID}`, { server: wireServer(ID) });
    assert.equal('configDrive' in (await other.api.getServer(ID)), false);
  });

  describe('before 2.47 (flavor by reference)', () => {
    const ref = (id: string) => ({ id, links: [{ rel: 'bookmark', href: `http://nova/flavors/${id}` }] });
    const legacy = (id: string, flavorId: string) => {
      const w: Record<string, unknown> = wireServer(id, { flavor: ref(flavorId) });
      delete w.locked_reason;
      delete w.tags;
      delete w.trusted_image_certificates;
      delete w.description;
      return w;
    };

    it('fetches each distinct flavor once (with its extra specs) and caches it per client', async () => {
      const { fake, api } = setup('2.46');
      fake.json('GET', '/servers/detail', { servers: [legacy('a', '1'), legacy('b', '1'), legacy('c', '42')] });
      fake.json('GET', '/flavors/1', { flavor: { id: '1', name: 'm1.tiny', ram: 512, disk: 1, vcpus: 1, swap: '', 'OS-FLV-EXT-DATA:ephemeral': 0, 'os-flavor-access:is_public': true } });
      fake.json('GET', '/flavors/1/os-extra_specs', { extra_specs: {} });
      fake.json('GET', '/flavors/42', { flavor: { id: '42', name: 'pinned', ram: 2048, disk: 10, vcpus: 4, swap: 1024, 'OS-FLV-EXT-DATA:ephemeral': 5, 'os-flavor-access:is_public': false } });
      fake.json('GET', '/flavors/42/os-extra_specs', { extra_specs: { 'hw:cpu_policy': 'dedicated' } });
      const got = await api.listServers({ allProjects: true, host: 'compute-01' });
      assert.deepEqual(got.map((s) => s.flavor), [
        { id: '1', name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
        { id: '1', name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1, ephemeralGb: 0, swapMb: 0, extraSpecs: {} },
        { id: '42', name: 'pinned', vcpus: 4, ramMb: 2048, diskGb: 10, ephemeralGb: 5, swapMb: 1024, extraSpecs: { 'hw:cpu_policy': 'dedicated' } },
      ]);
      assert.equal(got[0]!.locked, false);
      assert.equal(got[0]!.lockedReason, null);
      await api.listServers({ allProjects: true, host: 'compute-01' });
      assert.equal(fake.sent('GET', /^\/flavors\//).length, 4, 'flavors fetched once per client');
    });

    it('a deleted flavor leaves zero sizes and a warning', async () => {
      const { fake, api, logger } = setup('2.1');
      fake.json('GET', `/servers/${ID}`, { server: legacy(ID, '99') });
      fake.fail('GET', '/flavors/99', 404, 'Flavor 99 could not be found.');
      const s = await api.getServer(ID);
      assert.deepEqual(s.flavor, { id: '99', name: null, vcpus: 0, ramMb: 0, diskGb: 0, ephemeralGb: 0, swapMb: 0, extraSpecs: {} });
      assert.ok(logger.records.some((r) => r.level === 'warn' && r.meta?.flavorId === '99'));
    });
  });

  it('listServers sends only the documented filters asked for', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', '/servers/detail', { servers: [] });
    await api.listServers({ projectId: 'p2', status: 'SHUTOFF', name: '^vm-' });
    assert.deepEqual(fake.only().query, { all_tenants: '1', tenant_id: 'p2', status: 'SHUTOFF', name: '^vm-', limit: 1000 });
    fake.reset();
    await api.listServers({});
    assert.deepEqual(fake.only().query, { limit: 1000 });
  });

  describe('liveMigrate', () => {
    it('2.25+: {"os-migrateLive": {host: null, block_migration: "auto"}}, never force, request id returned', async () => {
      const { fake, api } = setup('2.93');
      fake.on('POST', `/servers/${ID}/action`, { status: 202, data: null, requestId: 'req-lm-1' });
      const got = await api.liveMigrate(ID, {});
      const req = fake.only();
      assert.equal(req.method, 'POST');
      assert.deepEqual(req.body, { 'os-migrateLive': { host: null, block_migration: 'auto' } });
      assert.equal(req.microversion, '2.93');
      assert.deepEqual(got, { requestId: 'req-lm-1' });
    });

    it('2.25+: a named host is sent as is (scheduler still checks it from 2.30)', async () => {
      const { fake, api } = setup('2.25');
      fake.on('POST', `/servers/${ID}/action`, { status: 202 });
      await api.liveMigrate(ID, { host: 'compute-02' });
      assert.deepEqual(fake.only().body, { 'os-migrateLive': { host: 'compute-02', block_migration: 'auto' } });
    });

    it('before 2.25: block_migration false + disk_over_commit false', async () => {
      const { fake, api } = setup('2.24');
      fake.on('POST', `/servers/${ID}/action`, { status: 202 });
      await api.liveMigrate(ID, { host: null });
      assert.deepEqual(fake.only().body, { 'os-migrateLive': { host: null, block_migration: false, disk_over_commit: false } });
      assert.equal(fake.only().microversion, '2.24');
    });

    it("409 becomes kind conflict with Nova's message intact", async () => {
      const { fake, api } = setup('2.93');
      const msg = `Cannot 'os-migrateLive' instance ${ID} while it is in vm_state stopped`;
      fake.on('POST', `/servers/${ID}/action`, (req) => {
        throw fakeHttpError(409, msg, req, { kind: 'server-error', requestId: 'req-409' });
      });
      await assert.rejects(api.liveMigrate(ID, {}), (e: unknown) => {
        assert.ok(isHttpError(e, 'conflict'));
        assert.equal(e.message, msg);
        assert.equal(e.faultMessage, msg);
        assert.equal(e.status, 409);
        assert.equal(e.requestId, 'req-409');
        return true;
      });
    });

    it('an unknown-outcome error (POST timed out) goes through unchanged', async () => {
      const { fake, api } = setup('2.93');
      const timeout = new HttpError('unknown-outcome', 'POST timed out', { status: 0, method: 'POST', url: 'http://nova/servers/x/action', service: 'compute' });
      fake.on('POST', `/servers/${ID}/action`, () => {
        throw timeout;
      });
      await assert.rejects(api.liveMigrate(ID, {}), (e: unknown) => e === timeout);
    });
  });

  describe('coldMigrate', () => {
    it('{"migrate": null} lets the scheduler choose', async () => {
      const { fake, api } = setup('2.1');
      fake.on('POST', `/servers/${ID}/action`, { status: 202, requestId: 'req-cm' });
      assert.deepEqual(await api.coldMigrate(ID, {}), { requestId: 'req-cm' });
      assert.deepEqual(fake.only().body, { migrate: null });
    });

    it('2.56+: {"migrate": {"host": H}}', async () => {
      const { fake, api } = setup('2.56');
      fake.on('POST', `/servers/${ID}/action`, { status: 202 });
      await api.coldMigrate(ID, { host: 'compute-03' });
      assert.deepEqual(fake.only().body, { migrate: { host: 'compute-03' } });
    });

    it('before 2.56 a target host is a bad-request raised before sending', async () => {
      const { fake, api } = setup('2.55');
      await assert.rejects(api.coldMigrate(ID, { host: 'compute-03' }), (e: unknown) => isHostmaintError(e) && e.kind === 'bad-request' && /2\.56/.test(e.message));
      assert.equal(fake.requests.length, 0);
    });
  });

  it('confirmResize and shelveOffload bodies', async () => {
    const { fake, api } = setup('2.93');
    fake.on('POST', `/servers/${ID}/action`, { status: 204, requestId: 'req-x' });
    assert.deepEqual(await api.confirmResize(ID), { requestId: 'req-x' });
    await api.shelveOffload(ID);
    assert.deepEqual(fake.requests.map((r) => r.body), [{ confirmResize: null }, { shelveOffload: null }]);
  });

  it('passes the AbortSignal down', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', '/servers/detail', { servers: [] });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(api.listServersOnHost('compute-01', { signal: ac.signal }), (e: unknown) => isHostmaintError(e) && e.kind === 'interrupted');
  });
});
