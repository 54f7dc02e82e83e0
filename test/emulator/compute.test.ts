import assert from 'node:assert/strict';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import { C, P, client, serverId } from './helpers.js';
import type { Client } from './helpers.js';

const scenario: Scenario = {
  name: 'compute',
  hosts: [
    { name: 'compute-1', hypervisor_hostname: 'compute-1.example.org' },
    { name: 'compute-10' },
    { name: 'compute-2', az: 'az-b', aggregates: ['ssd'], cpu_info: { vendor: 'AMD', model: 'EPYC-Rome' } },
  ],
  projects: [{ name: 'alpha', users: [{ name: 'alice', password: 'pw' }] }],
  server_groups: [
    { name: 'grp', policy: 'anti-affinity', project: 'alpha' },
  ],
  instances: [
    { name: 'vm-{i}', count: 25, project: 'alpha', flavor: 'm1.tiny', host: 'compute-1' },
    { name: 'stopped', project: 'alpha', flavor: 'm1.small', host: 'compute-10', state: 'SHUTOFF' },
    { name: 'paused', flavor: 'm1.small', host: 'compute-10', state: 'PAUSED' },
    { name: 'suspended', flavor: 'm1.small', host: 'compute-10', state: 'SUSPENDED' },
    { name: 'shelved', flavor: 'm1.small', host: 'compute-10', state: 'SHELVED' },
    { name: 'offloaded', flavor: 'm1.small', state: 'SHELVED_OFFLOADED' },
    { name: 'broken', flavor: 'm1.small', host: 'compute-10', state: 'ERROR' },
    { name: 'rescued', flavor: 'm1.small', host: 'compute-10', state: 'RESCUE' },
    { name: 'resizing', flavor: 'm1.small', host: 'compute-10', task_state: 'resize_prep' },
    { name: 'grouped', project: 'alpha', flavor: 'm1.small', host: 'compute-2', server_group: 'grp', locked: true, locked_reason: 'why not', config_drive: true },
  ],
};

describe('emulator: nova', () => {
  let emu: Emulator;
  let clock: VirtualClock;
  let c: Client;
  beforeEach(async () => {
    clock = new VirtualClock();
    emu = await startEmulator({ scenario, clock });
    c = await client(emu);
  });
  afterEach(() => emu.stop());

  describe('versions and microversions', () => {
    it('answers the version document at the compute root without a token', async () => {
      const r = await fetch(`${emu.url}${C}`);
      assert.equal(r.status, 200);
      const j = (await r.json()) as any;
      assert.equal(j.version.id, 'v2.1');
      assert.equal(j.version.status, 'CURRENT');
      assert.equal(j.version.version, '2.93');
      assert.equal(j.version.min_version, '2.1');
    });

    it('honours both microversion headers, echoes them, 406 outside the range', async () => {
      const r = await c.get(`${C}/os-services`, { 'openstack-api-version': 'compute 2.60' });
      assert.equal(r.headers.get('openstack-api-version'), 'compute 2.60');
      assert.equal(typeof r.body.services.find((s: any) => s.binary === 'nova-compute').id, 'string');
      const legacy = await c.get(`${C}/os-services`, { 'openstack-api-version': '', 'x-openstack-nova-api-version': '2.52' });
      assert.equal(legacy.headers.get('x-openstack-nova-api-version'), '2.52');
      assert.equal(typeof legacy.body.services.find((s: any) => s.binary === 'nova-compute').id, 'number');
      const tooNew = await c.get(`${C}/servers`, { 'openstack-api-version': 'compute 2.94' });
      assert.equal(tooNew.status, 406);
      assert.match(tooNew.body.computeFault.message, /Version 2.94 is not supported by the API. Minimum is 2.1 and maximum is 2.93./);
      const latest = await c.get(`${C}/servers`, { 'openstack-api-version': 'compute latest' });
      assert.equal(latest.headers.get('openstack-api-version'), 'compute 2.93');
    });

    it('an older cloud (max 2.60) refuses 2.61+', async () => {
      const old = await startEmulator({ scenario: { ...scenario, nova: { max_microversion: '2.60' } }, clock });
      try {
        const oc = await client(old, { compute: '2.60' });
        assert.equal((await oc.get(`${C}/servers`)).status, 200);
        assert.equal((await oc.get(`${C}/servers`, { 'openstack-api-version': 'compute 2.61' })).status, 406);
        const v = (await fetch(`${old.url}${C}/`).then((r) => r.json())) as any;
        assert.equal(v.version.version, '2.60');
      } finally {
        await old.stop();
      }
    });

    it('sets x-openstack-request-id and x-compute-request-id on every response', async () => {
      const r = await c.get(`${C}/servers`);
      assert.match(r.requestId!, /^req-[0-9a-f-]{36}$/);
      assert.equal(r.headers.get('x-compute-request-id'), r.requestId);
      const nf = await c.get(`${C}/servers/nope`);
      assert.equal(nf.status, 404);
      assert.match(nf.headers.get('x-compute-request-id')!, /^req-/);
    });
  });

  describe('services', () => {
    it('lists services filtered by binary and host, uuid ids from 2.53', async () => {
      const all = await c.get(`${C}/os-services`);
      assert.deepEqual([...new Set(all.body.services.map((s: any) => s.binary))].sort(), ['nova-compute', 'nova-conductor', 'nova-scheduler']);
      const r = await c.get(`${C}/os-services?binary=nova-compute&host=compute-1`);
      assert.equal(r.body.services.length, 1);
      const s = r.body.services[0];
      assert.equal(s.host, 'compute-1');
      assert.equal(s.state, 'up');
      assert.equal(s.status, 'enabled');
      assert.equal(s.disabled_reason, null);
      assert.equal(s.forced_down, false);
      assert.match(s.id, /^[0-9a-f-]{36}$/);
    });

    it('disable with a reason and enable (2.53+ PUT /os-services/{uuid}); trait and host_status follow', async () => {
      const svc = (await c.get(`${C}/os-services?binary=nova-compute&host=compute-2`)).body.services[0];
      const d = await c.put(`${C}/os-services/${svc.id}`, { status: 'disabled', disabled_reason: 'hostmaint:run-1: kernel update' });
      assert.equal(d.status, 200);
      assert.equal(d.body.service.status, 'disabled');
      assert.equal(d.body.service.disabled_reason, 'hostmaint:run-1: kernel update');
      const rp = emu.state.host('compute-2')!.providerUuid;
      const traits = await c.get(`${P}/resource_providers/${rp}/traits`);
      assert.ok(traits.body.traits.includes('COMPUTE_STATUS_DISABLED'));
      const srv = await c.get(`${C}/servers/${serverId(emu, 'grouped')}`);
      assert.equal(srv.body.server.host_status, 'MAINTENANCE');
      const e = await c.put(`${C}/os-services/${svc.id}`, { status: 'enabled' });
      assert.equal(e.body.service.status, 'enabled');
      assert.equal(e.body.service.disabled_reason, null);
      assert.ok(!(await c.get(`${P}/resource_providers/${rp}/traits`)).body.traits.includes('COMPUTE_STATUS_DISABLED'));
    });

    it('validates disabled_reason (1-255) and rejects enable with a reason', async () => {
      const svc = (await c.get(`${C}/os-services?binary=nova-compute&host=compute-2`)).body.services[0];
      for (const reason of ['', 'x'.repeat(256)]) {
        const r = await c.put(`${C}/os-services/${svc.id}`, { status: 'disabled', disabled_reason: reason });
        assert.equal(r.status, 400, `reason of length ${reason.length}`);
        assert.match(r.body.badRequest.message, /disabled_reason/);
      }
      assert.equal((await c.put(`${C}/os-services/${svc.id}`, { status: 'disabled', disabled_reason: 'x'.repeat(255) })).status, 200);
      const bad = await c.put(`${C}/os-services/${svc.id}`, { status: 'enabled', disabled_reason: 'no' });
      assert.equal(bad.status, 400);
      assert.equal((await c.put(`${C}/os-services/not-a-uuid`, { status: 'enabled' })).status, 400);
      assert.equal((await c.put(`${C}/os-services/00000000-0000-4000-8000-000000000000`, { status: 'enabled' })).status, 404);
    });

    it('pre-2.53: PUT /os-services/disable-log-reason and /enable with host + binary', async () => {
      const h = { 'openstack-api-version': 'compute 2.52' };
      const d = await c.put(`${C}/os-services/disable-log-reason`, { host: 'compute-10', binary: 'nova-compute', disabled_reason: 'maint' }, h);
      assert.equal(d.status, 200);
      assert.deepEqual(d.body, { service: { host: 'compute-10', binary: 'nova-compute', status: 'disabled', disabled_reason: 'maint' } });
      assert.equal(emu.state.host('compute-10')!.status, 'disabled');
      const e = await c.put(`${C}/os-services/enable`, { host: 'compute-10', binary: 'nova-compute' }, h);
      assert.deepEqual(e.body, { service: { host: 'compute-10', binary: 'nova-compute', status: 'enabled' } });
      const missing = await c.put(`${C}/os-services/disable-log-reason`, { host: 'compute-10', binary: 'nova-compute' }, h);
      assert.equal(missing.status, 400);
      const unknown = await c.put(`${C}/os-services/enable`, { host: 'compute-99', binary: 'nova-compute' }, h);
      assert.equal(unknown.status, 404);
      // before 2.53 the body must name host + binary: a 2.53-style body is a 400
      const svcId = emu.state.host('compute-10')!.serviceId;
      assert.equal((await c.put(`${C}/os-services/${svcId}`, { status: 'enabled' }, h)).status, 400);
    });

    it('non-admin gets 403 from os-services', async () => {
      const alice = await client(emu, { username: 'alice', password: 'pw', project: 'alpha' });
      const r = await alice.get(`${C}/os-services`);
      assert.equal(r.status, 403);
      assert.match(r.body.forbidden.message, /Policy doesn't allow os_compute_api:os-services:list/);
    });
  });

  describe('hypervisors', () => {
    it('pattern search is a substring match (compute-1 also finds compute-10), with servers', async () => {
      const r = await c.get(`${C}/os-hypervisors?hypervisor_hostname_pattern=compute-1&with_servers=true`);
      assert.equal(r.status, 200);
      const names = r.body.hypervisors.map((x: any) => x.hypervisor_hostname).sort();
      assert.deepEqual(names, ['compute-1.example.org', 'compute-10']);
      const one = r.body.hypervisors.find((x: any) => x.hypervisor_hostname === 'compute-1.example.org');
      assert.equal(one.servers.length, 25);
      assert.ok(one.servers[0].uuid && one.servers[0].name.startsWith('instance-'));
      const empty = await c.get(`${C}/os-hypervisors?hypervisor_hostname_pattern=compute-2&with_servers=true`);
      assert.equal(empty.body.hypervisors.length, 1);
      assert.equal(empty.body.hypervisors[0].servers.length, 1);
    });

    it('404 when nothing matches; 400 when paging with a pattern', async () => {
      const r = await c.get(`${C}/os-hypervisors?hypervisor_hostname_pattern=nothing-here`);
      assert.equal(r.status, 404);
      assert.equal(r.body.itemNotFound.message, "No hypervisor matching 'nothing-here' could be found.");
      assert.equal((await c.get(`${C}/os-hypervisors?hypervisor_hostname_pattern=compute&limit=1`)).status, 400);
    });

    it('detail shows the service host distinct from an FQDN hypervisor hostname; capacity fields gone from 2.88', async () => {
      const r = await c.get(`${C}/os-hypervisors/detail`);
      const h = r.body.hypervisors.find((x: any) => x.service.host === 'compute-1');
      assert.equal(h.hypervisor_hostname, 'compute-1.example.org');
      assert.equal(h.vcpus, undefined);
      const old = await c.get(`${C}/os-hypervisors/detail`, { 'openstack-api-version': 'compute 2.87' });
      assert.equal(old.body.hypervisors.find((x: any) => x.service.host === 'compute-1').running_vms, 25);
    });

    it("cpu_info as Nova's libvirt driver gives it: a dict from 2.28, the same as a JSON string before; a scenario's per-host cpu_info overrides the default CPU", async () => {
      const r = await c.get(`${C}/os-hypervisors/detail`, { 'openstack-api-version': 'compute 2.87' });
      const of = (list: any[], host: string) => list.find((x: any) => x.service.host === host).cpu_info;
      assert.deepEqual(of(r.body.hypervisors, 'compute-10'), { arch: 'x86_64', model: 'Nehalem', vendor: 'Intel', topology: { sockets: 1, cores: 16, threads: 1 }, features: [] });
      assert.equal(of(r.body.hypervisors, 'compute-2').vendor, 'AMD');
      assert.equal(of(r.body.hypervisors, 'compute-2').model, 'EPYC-Rome');
      assert.equal(of(r.body.hypervisors, 'compute-2').arch, 'x86_64');
      const old = await c.get(`${C}/os-hypervisors/detail`, { 'openstack-api-version': 'compute 2.27' });
      const text = of(old.body.hypervisors, 'compute-2');
      assert.equal(typeof text, 'string');
      assert.equal(JSON.parse(text).vendor, 'AMD');
    });

    it('pre-2.53 /os-hypervisors/{pattern}/search and /servers', async () => {
      const h = { 'openstack-api-version': 'compute 2.52' };
      const s = await c.get(`${C}/os-hypervisors/compute-1/search`, h);
      assert.equal(s.body.hypervisors.length, 2);
      assert.equal(typeof s.body.hypervisors[0].id, 'number');
      const sv = await c.get(`${C}/os-hypervisors/compute-10/servers`, h);
      assert.equal(sv.body.hypervisors.length, 1);
      assert.equal(sv.body.hypervisors[0].servers.length, 7);
      assert.equal((await c.get(`${C}/os-hypervisors/zzz/search`, h)).status, 404);
      assert.equal((await c.get(`${C}/os-hypervisors/compute-1/search`)).status, 404, 'gone from 2.53');
    });
  });

  describe('servers', () => {
    it('pages with limit/marker and servers_links until an empty page', async () => {
      const seen: string[] = [];
      let url: string | null = `${C}/servers/detail?all_tenants=1&host=compute-1&limit=10`;
      let pages = 0;
      while (url) {
        const r: any = await c.get(url);
        assert.equal(r.status, 200);
        pages++;
        seen.push(...r.body.servers.map((s: any) => s.id));
        const next = r.body.servers_links?.find((l: any) => l.rel === 'next')?.href as string | undefined;
        url = next ? next.slice(emu.url.length) : null;
      }
      assert.equal(seen.length, 25);
      assert.equal(new Set(seen).size, 25);
      assert.equal(pages, 3);
      assert.equal((await c.get(`${C}/servers?marker=nope`)).status, 400);
    });

    it('filters by all_tenants, host, status and project_id', async () => {
      const own = await c.get(`${C}/servers/detail`);
      assert.ok(own.body.servers.every((s: any) => s.tenant_id === own.body.servers[0].tenant_id));
      const all = await c.get(`${C}/servers/detail?all_tenants=1`);
      assert.equal(all.body.servers.length, 34);
      const shutoff = await c.get(`${C}/servers/detail?all_tenants=1&status=SHUTOFF`);
      assert.deepEqual(shutoff.body.servers.map((s: any) => s.name), ['stopped']);
      const multi = await c.get(`${C}/servers/detail?all_tenants=1&host=compute-10&status=PAUSED&status=ERROR`);
      assert.deepEqual(multi.body.servers.map((s: any) => s.name).sort(), ['broken', 'paused']);
      const alpha = emu.state.server('stopped')!.projectId;
      const byProject = await c.get(`${C}/servers/detail?all_tenants=1&project_id=${alpha}`);
      assert.equal(byProject.body.servers.length, 27);
    });

    it('has the full wire shape with the right vm_state/task_state for every state', async () => {
      const expect: Record<string, [string, string, string | null, number]> = {
        'vm-01': ['ACTIVE', 'active', null, 1],
        stopped: ['SHUTOFF', 'stopped', null, 4],
        paused: ['PAUSED', 'paused', null, 3],
        suspended: ['SUSPENDED', 'suspended', null, 7],
        shelved: ['SHELVED', 'shelved', null, 4],
        offloaded: ['SHELVED_OFFLOADED', 'shelved_offloaded', null, 4],
        broken: ['ERROR', 'error', null, 0],
        rescued: ['RESCUE', 'rescued', null, 1],
        resizing: ['RESIZE', 'active', 'resize_prep', 1],
      };
      for (const [name, [status, vm, task, power]] of Object.entries(expect)) {
        const s = (await c.get(`${C}/servers/${serverId(emu, name)}`)).body.server;
        assert.equal(s.status, status, name);
        assert.equal(s['OS-EXT-STS:vm_state'], vm, name);
        assert.equal(s['OS-EXT-STS:task_state'], task, name);
        assert.equal(s['OS-EXT-STS:power_state'], power, name);
      }
      const off = (await c.get(`${C}/servers/${serverId(emu, 'offloaded')}`)).body.server;
      assert.equal(off['OS-EXT-SRV-ATTR:host'], null);
      assert.equal(off.host_status, '');
      const broken = (await c.get(`${C}/servers/${serverId(emu, 'broken')}`)).body.server;
      assert.equal(broken.fault.code, 500);
      const g = (await c.get(`${C}/servers/${serverId(emu, 'grouped')}`)).body.server;
      assert.equal(g['OS-EXT-SRV-ATTR:host'], 'compute-2');
      assert.equal(g['OS-EXT-SRV-ATTR:hypervisor_hostname'], 'compute-2');
      assert.equal(g['OS-EXT-AZ:availability_zone'], 'az-b');
      assert.equal(g.locked, true);
      assert.equal(g.locked_reason, 'why not');
      assert.equal(g.config_drive, 'True', 'booted with a config drive');
      assert.equal(broken.config_drive, '');
      assert.equal(g.flavor.original_name, 'm1.small');
      assert.equal(g.flavor.ram, 2048);
      assert.equal(g.host_status, 'UP');
      assert.equal(g.tenant_id, emu.state.server('grouped')!.projectId);
      const old = (await c.get(`${C}/servers/${serverId(emu, 'grouped')}`, { 'openstack-api-version': 'compute 2.46' })).body.server;
      assert.equal(typeof old.flavor.id, 'string');
      assert.equal(old.locked_reason, undefined);
    });

    it('boots with networks none and a forced host, goes ACTIVE after the modelled delay, deletes', async () => {
      const flavors = (await c.get(`${C}/flavors/detail`)).body.flavors;
      const images = (await c.get('/image/v2/images')).body.images;
      const r = await c.post(`${C}/servers`, {
        server: { name: 'new-1', flavorRef: flavors[0].id, imageRef: images[0].id, networks: 'none', availability_zone: 'nova:compute-10' },
      });
      assert.equal(r.status, 202);
      const id = r.body.server.id;
      let s = (await c.get(`${C}/servers/${id}`)).body.server;
      assert.equal(s.status, 'BUILD');
      await clock.sleep(2_000);
      s = (await c.get(`${C}/servers/${id}`)).body.server;
      assert.equal(s.status, 'ACTIVE');
      assert.equal(s['OS-EXT-SRV-ATTR:host'], 'compute-10');
      assert.equal((await c.post(`${C}/servers`, { server: { name: 'x', flavorRef: 'm1.tiny', imageRef: images[0].id } })).status, 400, 'networks required from 2.37');
      const byName = await c.post(`${C}/servers`, { server: { name: 'x', flavorRef: 'm1.tiny', imageRef: images[0].id, networks: 'none' } });
      assert.equal(byName.status, 202);
      assert.equal((await c.del(`${C}/servers/${id}`)).status, 204);
      await clock.sleep(1_000);
      assert.equal((await c.get(`${C}/servers/${id}`)).status, 404);
      assert.equal(emu.state.providerAllocations('compute-10')[id], undefined);
    });

    it('stop, start, pause, unpause, suspend, resume, lock, unlock, shelve, shelveOffload', async () => {
      const id = serverId(emu, 'vm-01');
      const act = async (body: unknown, expectStatus: string) => {
        const r = await c.post(`${C}/servers/${id}/action`, body);
        assert.equal(r.status, 202, JSON.stringify(body));
        await clock.sleep(1_000);
        assert.equal((await c.get(`${C}/servers/${id}`)).body.server.status, expectStatus, JSON.stringify(body));
      };
      await act({ 'os-stop': null }, 'SHUTOFF');
      const again = await c.post(`${C}/servers/${id}/action`, { 'os-stop': null });
      assert.equal(again.status, 409);
      assert.equal(again.body.conflictingRequest.message, `Cannot 'stop' instance ${id} while it is in vm_state stopped`);
      await act({ 'os-start': null }, 'ACTIVE');
      await act({ pause: null }, 'PAUSED');
      await act({ unpause: null }, 'ACTIVE');
      await act({ suspend: null }, 'SUSPENDED');
      await act({ resume: null }, 'ACTIVE');
      await act({ lock: { locked_reason: 'maint' } }, 'ACTIVE');
      assert.equal((await c.get(`${C}/servers/${id}`)).body.server.locked_reason, 'maint');
      await act({ unlock: null }, 'ACTIVE');
      await act({ shelve: null }, 'SHELVED');
      await act({ shelveOffload: null }, 'SHELVED_OFFLOADED');
      assert.equal(emu.state.server(id)!.host, null);
      assert.deepEqual(emu.state.allocations(id), {});
      const actions = (await c.get(`${C}/servers/${id}/os-instance-actions`)).body.instanceActions.map((a: any) => a.action);
      assert.deepEqual(actions.slice(0, 3), ['shelveOffload', 'shelve', 'unlock']);
    });

    it('lists server groups (policy from 2.64, policies before), zones, aggregates, flavors', async () => {
      const g = await c.get(`${C}/os-server-groups?all_projects=true`);
      assert.equal(g.body.server_groups[0].policy, 'anti-affinity');
      assert.deepEqual(g.body.server_groups[0].members, [serverId(emu, 'grouped')]);
      const old = await c.get(`${C}/os-server-groups?all_projects=true`, { 'openstack-api-version': 'compute 2.63' });
      assert.deepEqual(old.body.server_groups[0].policies, ['anti-affinity']);
      const one = await c.get(`${C}/os-server-groups/${g.body.server_groups[0].id}`);
      assert.equal(one.body.server_group.name, 'grp');
      const az = await c.get(`${C}/os-availability-zone/detail`);
      const zones = az.body.availabilityZoneInfo.map((z: any) => z.zoneName).sort();
      assert.deepEqual(zones, ['az-b', 'internal', 'nova']);
      const aggs = await c.get(`${C}/os-aggregates`);
      assert.ok(aggs.body.aggregates.some((a: any) => a.name === 'ssd' && a.hosts.includes('compute-2')));
      assert.ok(aggs.body.aggregates.some((a: any) => a.availability_zone === 'az-b'));
      const f = await c.get(`${C}/flavors/1`);
      assert.equal(f.body.flavor.name, 'm1.tiny');
      assert.deepEqual((await c.get(`${C}/flavors/1/os-extra_specs`)).body, { extra_specs: {} });
      assert.equal((await c.get(`${C}/images`, { 'openstack-api-version': 'compute 2.35' })).status, 200);
      assert.equal((await c.get(`${C}/images`)).status, 404, 'nova image proxy gone after 2.35');
    });
  });
});
