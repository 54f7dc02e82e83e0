import assert from 'node:assert/strict';
import { memoryLogger } from '../../../src/core/log.js';
import { createComputeClient } from '../../../src/openstack/compute/index.js';
import { FakeServiceClient } from '../../support/fake-service-client.js';

const SID = '0b5e2c1a-7d5c-4d1b-9a57-0f1e2d3c4b5a';

function setup(microversion: string, pageSize = 1000) {
  const fake = new FakeServiceClient({ microversion });
  return { fake, api: createComputeClient(fake, memoryLogger(), { pageSize }) };
}

describe('compute instance actions', () => {
  const action = (rid: string) => ({ action: 'live-migration', instance_uuid: SID, request_id: rid, user_id: 'u1', project_id: 'p1', start_time: '2024-05-01T10:00:00.000000', message: null, updated_at: '2024-05-01T10:00:09.000000' });

  it('lists with paging from 2.58 (links next, marker = request id)', async () => {
    const { fake, api } = setup('2.93', 1);
    fake.on('GET', `/servers/${SID}/os-instance-actions`, (req) =>
      req.query?.marker === undefined
        ? { data: { instanceActions: [action('req-2')], links: [{ rel: 'next', href: `http://nova/v2.1/servers/${SID}/os-instance-actions?limit=1&marker=req-2` }] } }
        : { data: { instanceActions: [action('req-1')] } },
    );
    const got = await api.listInstanceActions(SID);
    assert.deepEqual(fake.requests.map((r) => r.query), [{ limit: 1 }, { limit: 1, marker: 'req-2' }]);
    assert.deepEqual(got.map((a) => a.requestId), ['req-2', 'req-1']);
    assert.deepEqual(got[0], { action: 'live-migration', requestId: 'req-2', serverId: SID, message: null, startTime: '2024-05-01T10:00:00.000000', updatedAt: '2024-05-01T10:00:09.000000', events: [] });
  });

  it('lists without paging before 2.58 (no updated_at)', async () => {
    const { fake, api } = setup('2.57');
    const a: Record<string, unknown> = action('req-1');
    delete a.updated_at;
    fake.json('GET', `/servers/${SID}/os-instance-actions`, { instanceActions: [a] });
    const [got] = await api.listInstanceActions(SID);
    assert.deepEqual(fake.only().query, {});
    assert.equal(got!.updatedAt, null);
  });

  it('gets one with its events and details (2.84+)', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', `/servers/${SID}/os-instance-actions/req-2`, {
      instanceAction: {
        ...action('req-2'),
        events: [
          { event: 'conductor_live_migrate_instance', start_time: '2024-05-01T10:00:00.000000', finish_time: '2024-05-01T10:00:01.000000', result: 'Error', traceback: 'Traceback...', host: 'controller', hostId: 'x', details: 'No valid host was found. ' },
        ],
      },
    });
    const got = await api.getInstanceAction(SID, 'req-2');
    assert.deepEqual(got.events, [
      { event: 'conductor_live_migrate_instance', startTime: '2024-05-01T10:00:00.000000', finishTime: '2024-05-01T10:00:01.000000', result: 'Error', details: 'No valid host was found. ', traceback: 'Traceback...', host: 'controller' },
    ]);
  });
});

describe('compute server groups', () => {
  it('lists all projects with offset paging; policy (2.64+) and policies (before) both land in policy', async () => {
    const { fake, api } = setup('2.93', 2);
    fake.on('GET', '/os-server-groups', (req) =>
      req.query?.offset === 0
        ? { data: { server_groups: [
            { id: 'g1', name: 'db', policy: 'anti-affinity', rules: { max_server_per_host: 1 }, members: ['s1', 's2'], project_id: 'p1', user_id: 'u1' },
            { id: 'g2', name: 'web', policy: 'soft-affinity', rules: {}, members: [], project_id: 'p2', user_id: 'u1' },
          ] } }
        : { data: { server_groups: [{ id: 'g3', name: 'old', policies: ['affinity'], members: ['s3'], metadata: {}, project_id: 'p1' }] } },
    );
    const got = await api.listServerGroups();
    assert.deepEqual(fake.requests.map((r) => r.query), [
      { limit: 2, offset: 0, all_projects: 'true' },
      { limit: 2, offset: 2, all_projects: 'true' },
    ]);
    assert.deepEqual(got, [
      { id: 'g1', name: 'db', policy: 'anti-affinity', members: ['s1', 's2'], projectId: 'p1', rules: { max_server_per_host: 1 } },
      { id: 'g2', name: 'web', policy: 'soft-affinity', members: [], projectId: 'p2', rules: {} },
      { id: 'g3', name: 'old', policy: 'affinity', members: ['s3'], projectId: 'p1', rules: {} },
    ]);
  });

  it('allProjects: false leaves all_projects out; get by id', async () => {
    const { fake, api } = setup('2.15');
    fake.json('GET', '/os-server-groups', { server_groups: [] });
    fake.json('GET', '/os-server-groups/g1', { server_group: { id: 'g1', name: 'db', policies: ['anti-affinity'], members: [], metadata: {} } });
    await api.listServerGroups({ allProjects: false });
    assert.deepEqual(fake.only().query, { limit: 1000, offset: 0 });
    const g = await api.getServerGroup('g1');
    assert.deepEqual(g, { id: 'g1', name: 'db', policy: 'anti-affinity', members: [], projectId: null, rules: {} });
  });
});

describe('compute zones and aggregates', () => {
  it('GET /os-availability-zone/detail: hosts of each zone', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', '/os-availability-zone/detail', {
      availabilityZoneInfo: [
        { zoneName: 'internal', zoneState: { available: true }, hosts: { controller: { 'nova-scheduler': { available: true, active: true, updated_at: null } } } },
        { zoneName: 'nova', zoneState: { available: true }, hosts: { 'compute-02': { 'nova-compute': { available: true, active: true, updated_at: null } }, 'compute-01': { 'nova-compute': { available: true, active: true, updated_at: null } } } },
        { zoneName: 'az-empty', zoneState: { available: false }, hosts: null },
      ],
    });
    assert.deepEqual(await api.listAvailabilityZones(), [
      { name: 'internal', available: true, hosts: ['controller'] },
      { name: 'nova', available: true, hosts: ['compute-01', 'compute-02'] },
      { name: 'az-empty', available: false, hosts: [] },
    ]);
    assert.equal(fake.only().query, undefined);
  });

  it('GET /os-aggregates', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', '/os-aggregates', {
      aggregates: [{ availability_zone: 'az1', created_at: '2024-05-01T10:00:00.000000', deleted: false, deleted_at: null, hosts: ['compute-01'], id: 1, metadata: { availability_zone: 'az1' }, name: 'agg1', updated_at: null, uuid: 'agg-uuid-1' }],
    });
    assert.deepEqual(await api.listAggregates(), [{ id: 1, uuid: 'agg-uuid-1', name: 'agg1', availabilityZone: 'az1', hosts: ['compute-01'], metadata: { availability_zone: 'az1' } }]);
  });
});

describe('compute flavors', () => {
  const wire = { id: '3', name: 'm1.medium', ram: 4096, disk: 1, vcpus: 2, swap: 0, 'OS-FLV-EXT-DATA:ephemeral': 0, 'OS-FLV-DISABLED:disabled': false, 'os-flavor-access:is_public': true, rxtx_factor: 1.0, description: null, links: [] };

  it('2.61+: extra specs inline, one request', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', '/flavors/3', { flavor: { ...wire, extra_specs: { 'hw:mem_page_size': 'large' } } });
    assert.deepEqual(await api.getFlavor('3'), { id: '3', name: 'm1.medium', vcpus: 2, ramMb: 4096, diskGb: 1, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: { 'hw:mem_page_size': 'large' } });
    assert.equal(fake.requests.length, 1);
  });

  it('before 2.61: GET /flavors/{id}/os-extra_specs; swap "" is 0', async () => {
    const { fake, api } = setup('2.60');
    fake.json('GET', '/flavors/3', { flavor: { ...wire, swap: '' } });
    fake.json('GET', '/flavors/3/os-extra_specs', { extra_specs: { 'resources:VCPU': '0' } });
    const f = await api.getFlavor('3');
    assert.deepEqual(fake.requests.map((r) => r.path), ['/flavors/3', '/flavors/3/os-extra_specs']);
    assert.equal(f.swapMb, 0);
    assert.deepEqual(f.extraSpecs, { 'resources:VCPU': '0' });
  });

  it('an unexpected body is a server-error naming the call', async () => {
    const { fake, api } = setup('2.93');
    fake.json('GET', '/os-aggregates', { nope: [] });
    await assert.rejects(api.listAggregates(), (e: { kind?: string; message?: string }) => e.kind === 'server-error' && /GET \/os-aggregates/.test(e.message ?? ''));
  });
});

describe('compute client', () => {
  it('reports the negotiated microversion', () => {
    assert.equal(setup('2.79').api.microversion, '2.79');
  });
});
