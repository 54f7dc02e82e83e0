import assert from 'node:assert/strict';
import { memoryLogger } from '../../../src/core/log.js';
import { createComputeClient, hypervisorMatchesHost } from '../../../src/openstack/compute/index.js';
import { FakeServiceClient } from '../../support/fake-service-client.js';

function setup(microversion: string) {
  const fake = new FakeServiceClient({ microversion });
  const api = createComputeClient(fake, memoryLogger(), { pageSize: 2 });
  return { fake, api };
}

const hyp = (id: string, hostname: string, serviceHost: string, servers?: Array<{ name: string; uuid: string }>) => ({
  id,
  hypervisor_hostname: hostname,
  state: 'up',
  status: 'enabled',
  hypervisor_type: 'fake',
  hypervisor_version: 1000,
  host_ip: '127.0.0.1',
  service: { id: `svc-${id}`, host: serviceHost, disabled_reason: null },
  ...(servers ? { servers } : {}),
});

describe('compute hypervisors', () => {
  describe('findHypervisors from 2.53', () => {
    it('asks the detailed list with the pattern and with_servers, capped at 2.87 (no uptime RPC)', async () => {
      const { fake, api } = setup('2.93');
      fake.json('GET', '/os-hypervisors/detail', { hypervisors: [hyp('u1', 'compute-01', 'compute-01', [{ name: 'vm1', uuid: 's1' }])] });
      const got = await api.findHypervisors('compute-01', { withServers: true });
      const req = fake.only();
      assert.equal(req.method, 'GET');
      assert.equal(req.path, '/os-hypervisors/detail');
      assert.deepEqual(req.query, { hypervisor_hostname_pattern: 'compute-01', with_servers: 'true' });
      assert.equal(req.microversion, '2.87');
      assert.equal(req.microversionOverride, '2.87');
      assert.deepEqual(got, [
        { id: 'u1', hostname: 'compute-01', serviceHost: 'compute-01', state: 'up', status: 'enabled', hypervisorType: 'fake', hostIp: '127.0.0.1', servers: [{ id: 's1', name: 'vm1' }] },
      ]);
    });

    it('sends no override at or below 2.87 and no with_servers unless asked', async () => {
      const { fake, api } = setup('2.60');
      fake.json('GET', '/os-hypervisors/detail', { hypervisors: [hyp('u1', 'compute-01', 'compute-01')] });
      const got = await api.findHypervisors('compute-01');
      assert.deepEqual(fake.only().query, { hypervisor_hostname_pattern: 'compute-01' });
      assert.equal(fake.only().microversionOverride, undefined);
      assert.equal(got[0]!.servers, undefined);
    });

    it('keeps exact matches only: compute-1 does not take compute-10, an FQDN of the host is kept', async () => {
      const { fake, api } = setup('2.93');
      fake.json('GET', '/os-hypervisors/detail', {
        hypervisors: [
          hyp('a', 'compute-1', 'compute-1'),
          hyp('b', 'compute-10', 'compute-10'),
          hyp('c', 'compute-1.example.org', 'compute-1'),
          hyp('d', 'compute-11.example.org', 'compute-11'),
        ],
      });
      const got = await api.findHypervisors('compute-1', { withServers: true });
      assert.deepEqual(got.map((h) => h.id), ['a', 'c']);
      // with_servers before 2.75 omits `servers` when there are none: the model says []
      assert.deepEqual(got[0]!.servers, []);
    });

    it('returns [] on 404 (nothing matches the pattern)', async () => {
      const { fake, api } = setup('2.93');
      fake.fail('GET', '/os-hypervisors/detail', 404, "No hypervisor matching 'nope' could be found.");
      assert.deepEqual(await api.findHypervisors('nope'), []);
    });

    it('other errors go through', async () => {
      const { fake, api } = setup('2.93');
      fake.fail('GET', '/os-hypervisors/detail', 403, 'Policy does not allow');
      await assert.rejects(api.findHypervisors('compute-01'), (e: { kind?: string }) => e.kind === 'forbidden');
    });
  });

  describe('findHypervisors before 2.53', () => {
    it('GET /os-hypervisors/{pattern}/servers then each candidate by id for its service host', async () => {
      const { fake, api } = setup('2.52');
      fake.json('GET', '/os-hypervisors/compute-1/servers', {
        hypervisors: [
          { id: 1, hypervisor_hostname: 'compute-1.example.org', state: 'up', status: 'disabled', servers: [{ name: 'vm', uuid: 's1' }] },
          { id: 2, hypervisor_hostname: 'compute-10.example.org', state: 'up', status: 'enabled' },
        ],
      });
      fake.json('GET', '/os-hypervisors/1', { hypervisor: { ...hyp('1', 'compute-1.example.org', 'compute-1'), id: 1, status: 'disabled' } });
      fake.json('GET', '/os-hypervisors/2', { hypervisor: { ...hyp('2', 'compute-10.example.org', 'compute-10'), id: 2 } });
      const got = await api.findHypervisors('compute-1', { withServers: true });
      assert.deepEqual(
        fake.requests.map((r) => [r.method, r.path, r.query]),
        [
          ['GET', '/os-hypervisors/compute-1/servers', undefined],
          ['GET', '/os-hypervisors/1', undefined],
          ['GET', '/os-hypervisors/2', undefined],
        ],
      );
      assert.deepEqual(got, [{ id: '1', hostname: 'compute-1.example.org', serviceHost: 'compute-1', state: 'up', status: 'disabled', hypervisorType: 'fake', hostIp: '127.0.0.1', servers: [{ id: 's1', name: 'vm' }] }]);
    });

    it('uses /search without servers, and 404 means none', async () => {
      const { fake, api } = setup('2.1');
      fake.fail('GET', '/os-hypervisors/compute-9/search', 404, "No hypervisor matching 'compute-9' could be found.");
      assert.deepEqual(await api.findHypervisors('compute-9'), []);
      assert.equal(fake.only().path, '/os-hypervisors/compute-9/search');
    });
  });

  it('listHypervisors pages with limit/marker from 2.33', async () => {
    const { fake, api } = setup('2.93');
    fake.on('GET', '/os-hypervisors/detail', (req) => {
      if (req.query?.marker === undefined) {
        return { data: { hypervisors: [hyp('u1', 'compute-01', 'compute-01'), hyp('u2', 'compute-02', 'compute-02')], hypervisors_links: [{ rel: 'next', href: 'http://nova/v2.1/os-hypervisors/detail?limit=2&marker=u2' }] } };
      }
      return { data: { hypervisors: [hyp('u3', 'compute-03', 'compute-03')] } };
    });
    const got = await api.listHypervisors();
    assert.deepEqual(got.map((h) => h.id), ['u1', 'u2', 'u3']);
    assert.deepEqual(fake.requests.map((r) => r.query), [{ limit: 2 }, { limit: 2, marker: 'u2' }]);
    assert.ok(fake.requests.every((r) => r.microversion === '2.87'));
  });

  it('listHypervisors sends no paging before 2.33', async () => {
    const { fake, api } = setup('2.32');
    fake.json('GET', '/os-hypervisors/detail', { hypervisors: [{ ...hyp('1', 'compute-01', 'compute-01'), id: 1 }] });
    const got = await api.listHypervisors();
    assert.deepEqual(fake.only().query, {});
    assert.equal(got[0]!.id, '1');
  });

  it('cpu_info: a dict from 2.28 and a JSON string before both become cpuInfo {vendor, model, arch}; unreadable is null, absent stays absent', async () => {
    const { fake, api } = setup('2.60');
    fake.json('GET', '/os-hypervisors/detail', {
      hypervisors: [
        { ...hyp('u1', 'compute-01', 'compute-01'), cpu_info: { arch: 'x86_64', model: 'Skylake-Server-IBRS', vendor: 'Intel', topology: { sockets: 2, cores: 8, threads: 2 }, features: ['vmx'] } },
        { ...hyp('u2', 'compute-02', 'compute-02'), cpu_info: '{"arch": "x86_64", "model": "EPYC-Rome", "vendor": "AMD", "features": []}' },
        { ...hyp('u3', 'compute-03', 'compute-03'), cpu_info: 'not json' },
        hyp('u4', 'compute-04', 'compute-04'),
      ],
    });
    const got = await api.listHypervisors();
    assert.deepEqual(got[0]!.cpuInfo, { vendor: 'Intel', model: 'Skylake-Server-IBRS', arch: 'x86_64' });
    assert.deepEqual(got[1]!.cpuInfo, { vendor: 'AMD', model: 'EPYC-Rome', arch: 'x86_64' });
    assert.equal(got[2]!.cpuInfo, null);
    assert.equal('cpuInfo' in got[3]!, false);
  });

  it('hypervisorMatchesHost', () => {
    assert.ok(hypervisorMatchesHost({ hostname: 'compute-01', serviceHost: 'compute-01' }, 'compute-01'));
    assert.ok(hypervisorMatchesHost({ hostname: 'compute-01.example.org', serviceHost: 'compute-01' }, 'compute-01'));
    assert.ok(hypervisorMatchesHost({ hostname: 'node-7', serviceHost: 'compute-01' }, 'compute-01'));
    assert.ok(hypervisorMatchesHost({ hostname: 'compute-01.example.org', serviceHost: 'other' }, 'compute-01'));
    assert.ok(hypervisorMatchesHost({ hostname: 'compute-01.example.org', serviceHost: 'compute-01' }, 'compute-01.example.org'));
    assert.ok(!hypervisorMatchesHost({ hostname: 'compute-010', serviceHost: 'compute-010' }, 'compute-01'));
    assert.ok(!hypervisorMatchesHost({ hostname: 'xcompute-01', serviceHost: 'xcompute-01' }, 'compute-01'));
  });
});
