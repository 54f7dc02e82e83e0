/**
 * Translation of bodies recorded from the real lab (test/fixtures/nova, see
 * its README) into the domain model, at the microversions they were recorded
 * at. Expectations are derived from the raw files, so a re-recording with new
 * ids needs no edit here.
 */
import assert from 'node:assert/strict';
import { isHttpError } from '../../../src/core/errors.js';
import { memoryLogger } from '../../../src/core/log.js';
import { createComputeClient } from '../../../src/openstack/compute/index.js';
import { FakeServiceClient, fakeHttpError } from '../../support/fake-service-client.js';
import { fixture } from '../../support/fixtures.js';

const nova = (name: string, mv: string) => fixture('nova', name, mv);

function setup(mv: string) {
  const fake = new FakeServiceClient({ microversion: mv });
  return { fake, api: createComputeClient(fake, memoryLogger()) };
}

describe('compute translation of recorded lab bodies', () => {
  describe('services', () => {
    for (const mv of ['2.93', '2.52', '2.1']) {
      it(`GET /os-services?binary&host at ${mv}`, async () => {
        const body = nova('services-list-host', mv);
        const { fake, api } = setup(mv);
        fake.json('GET', '/os-services', body);
        const [s] = await api.listServices({ host: 'compute-01', binary: 'nova-compute' });
        const w = body.services[0];
        assert.deepEqual(s, {
          id: String(w.id),
          binary: 'nova-compute',
          host: 'compute-01',
          zone: 'nova',
          status: w.status,
          state: w.state,
          disabledReason: w.disabled_reason,
          forcedDown: w.forced_down ?? false,
          updatedAt: w.updated_at,
        });
        if (mv === '2.93') assert.match(s!.id, /^[0-9a-f-]{36}$/);
        else assert.match(s!.id, /^\d+$/);
        assert.equal('forced_down' in w, mv !== '2.1');
      });
    }

    it('PUT /os-services/{uuid} disable and enable answers (2.93)', async () => {
      const dis = nova('service-disable', '2.93');
      const en = nova('service-enable', '2.93');
      const { fake, api } = setup('2.93');
      const [svc] = (await (async () => {
        fake.json('GET', '/os-services', nova('services-list-host', '2.93'));
        return api.listServices({ host: 'compute-01' });
      })());
      fake.json('PUT', `/os-services/${svc!.id}`, dis, 200);
      const d = await api.disableService(svc!, dis.service.disabled_reason);
      assert.equal(d.status, 'disabled');
      assert.match(d.disabledReason!, /^hostmaint:/);
      assert.equal(d.id, dis.service.id);
      fake.on('PUT', `/os-services/${svc!.id}`, { data: en }, { prepend: true });
      const e = await api.enableService(d);
      assert.equal(e.status, 'enabled');
      assert.equal(e.disabledReason, null);
    });

    it('legacy disable-log-reason / enable answers (2.52) merge into the known service', async () => {
      const { fake, api } = setup('2.52');
      fake.json('GET', '/os-services', nova('services-list-host', '2.52'));
      const [svc] = await api.listServices({ host: 'compute-01' });
      const dis = nova('service-disable-log-reason', '2.52');
      fake.json('PUT', '/os-services/disable-log-reason', dis);
      fake.json('PUT', '/os-services/enable', nova('service-enable-legacy', '2.52'));
      const d = await api.disableService(svc!, dis.service.disabled_reason);
      assert.deepEqual(d, { ...svc!, status: 'disabled', disabledReason: dis.service.disabled_reason });
      const e = await api.enableService(d);
      assert.deepEqual(e, { ...svc!, status: 'enabled', disabledReason: null });
    });

    it("Nova's own answer to a 256-character reason is a 400 (we refuse before sending)", () => {
      const body = nova('service-disable-reason-too-long', '2.93');
      assert.equal(body.badRequest.code, 400);
      assert.match(body.badRequest.message, /disabled_reason/);
    });
  });

  describe('hypervisors', () => {
    it('detail with pattern + servers (2.87, as the client asks)', async () => {
      const body = nova('hypervisors-detail-pattern-servers', '2.87');
      const servers = nova('servers-detail-host', '2.93').servers as Array<{ id: string; name: string }>;
      const { fake, api } = setup('2.93');
      fake.json('GET', '/os-hypervisors/detail', body);
      const [h] = await api.findHypervisors('compute-01', { withServers: true });
      assert.equal(h!.id, body.hypervisors[0].id);
      assert.equal(h!.hostname, 'compute-01');
      assert.equal(h!.serviceHost, 'compute-01');
      assert.equal(h!.hypervisorType, 'fake');
      assert.equal(h!.state, 'up');
      assert.deepEqual(new Set(h!.servers!.map((s) => s.id)), new Set(servers.map((s) => s.id)));
      // Nova names them by instance name (instance-0000000x), not display name.
      for (const s of h!.servers!) assert.equal(s.name, (servers.find((x) => x.id === s.id) as unknown as Record<string, string>)['OS-EXT-SRV-ATTR:instance_name']);
    });

    it('2.93 detail carries uptime (the per-hypervisor RPC the client avoids)', () => {
      assert.ok('uptime' in nova('hypervisors-detail-pattern-servers', '2.93').hypervisors[0]);
      assert.ok(!('uptime' in nova('hypervisors-detail-pattern-servers', '2.87').hypervisors[0]));
    });

    it('a pattern matching every compute is filtered to the exact host (2.53)', async () => {
      const body = nova('hypervisors-detail-pattern-servers', '2.53');
      assert.ok(body.hypervisors.length >= 3);
      const { fake, api } = setup('2.53');
      fake.json('GET', '/os-hypervisors/detail', body);
      const got = await api.findHypervisors('compute-02', { withServers: true });
      assert.deepEqual(got.map((h) => h.serviceHost), ['compute-02']);
    });

    it('no match: the recorded 404 is an empty answer', async () => {
      const body = nova('hypervisors-pattern-nomatch', '2.93');
      const { fake, api } = setup('2.93');
      fake.fail('GET', '/os-hypervisors/detail', body.itemNotFound.code, body.itemNotFound.message);
      assert.deepEqual(await api.findHypervisors('no-such-host'), []);
    });

    it('before 2.53: /servers route + show by id', async () => {
      const list = nova('hypervisors-pattern-servers', '2.52');
      const show = nova('hypervisor-show', '2.52');
      const { fake, api } = setup('2.52');
      fake.json('GET', '/os-hypervisors/compute-01/servers', list);
      fake.json('GET', `/os-hypervisors/${list.hypervisors[0].id}`, show);
      const [h] = await api.findHypervisors('compute-01', { withServers: true });
      assert.equal(h!.id, String(show.hypervisor.id));
      assert.equal(h!.serviceHost, show.hypervisor.service.host);
      assert.deepEqual(h!.servers, list.hypervisors[0].servers.map((s: { uuid: string; name: string }) => ({ id: s.uuid, name: s.name })));
      fake.json('GET', '/os-hypervisors/compute-01/search', nova('hypervisors-pattern-search', '2.52'));
      const [h2] = await api.findHypervisors('compute-01');
      assert.equal(h2!.servers, undefined);
    });

    it('list detail (2.87)', async () => {
      const body = nova('hypervisors-detail', '2.87');
      const { fake, api } = setup('2.93');
      fake.json('GET', '/os-hypervisors/detail', body);
      const got = await api.listHypervisors();
      assert.deepEqual(got.map((h) => h.serviceHost).sort(), body.hypervisors.map((h: { service: { host: string } }) => h.service.host).sort());
    });
  });

  describe('servers', () => {
    it('every wire name of the 2.93 detail view lands in the model', async () => {
      const body = nova('servers-detail-host', '2.93');
      const { fake, api } = setup('2.93');
      fake.on('GET', '/servers/detail', (req) => ({ data: req.query?.status ? nova('servers-detail-soft-deleted', '2.93') : body }));
      const got = await api.listServersOnHost('compute-01');
      assert.equal(got.length, body.servers.length);
      for (const w of body.servers) {
        const s = got.find((x) => x.id === w.id)!;
        assert.deepEqual(s, {
          id: w.id,
          name: w.name,
          projectId: w.tenant_id,
          userId: w.user_id,
          status: w.status,
          vmState: w['OS-EXT-STS:vm_state'],
          taskState: w['OS-EXT-STS:task_state'],
          powerState: w['OS-EXT-STS:power_state'],
          host: w['OS-EXT-SRV-ATTR:host'],
          hypervisorHostname: w['OS-EXT-SRV-ATTR:hypervisor_hostname'],
          instanceName: w['OS-EXT-SRV-ATTR:instance_name'],
          availabilityZone: w['OS-EXT-AZ:availability_zone'],
          locked: w.locked,
          lockedReason: w.locked_reason,
          flavor: { id: null, name: w.flavor.original_name, vcpus: w.flavor.vcpus, ramMb: w.flavor.ram, diskGb: w.flavor.disk, ephemeralGb: w.flavor.ephemeral, swapMb: w.flavor.swap, extraSpecs: w.flavor.extra_specs },
          hostStatus: w.host_status,
          imageId: w.image.id,
          volumeIds: [],
          metadata: w.metadata,
          fault: null,
          createdAt: w.created,
          updatedAt: w.updated,
        });
      }
      const by = (suffix: string) => got.find((s) => s.name.endsWith(suffix))!;
      assert.deepEqual([by('-active').status, by('-shutoff').status, by('-paused').status, by('-locked').status], ['ACTIVE', 'SHUTOFF', 'PAUSED', 'ACTIVE']);
      assert.deepEqual([by('-shutoff').vmState, by('-paused').vmState], ['stopped', 'paused']);
      assert.equal(by('-locked').locked, true);
      assert.equal(by('-locked').lockedReason, 'hostmaint contract test');
      assert.equal(by('-shutoff').flavor.name, 'm1.small');
      assert.equal(new Set(got.map((s) => s.projectId)).size, 2);
      assert.ok(got.every((s) => s.host === 'compute-01' && s.hostStatus === 'UP'));
    });

    it('before 2.47: flavors by reference are fetched once per distinct id (2.46 + flavor bodies at 2.60)', async () => {
      const body = nova('servers-detail-host', '2.46');
      const embedded = nova('servers-detail-host', '2.47');
      const { fake, api } = setup('2.46');
      fake.json('GET', '/servers/detail', body);
      for (const key of ['tiny', 'small']) {
        const f = nova(`flavor-show-${key}`, '2.60');
        fake.json('GET', `/flavors/${f.flavor.id}`, f);
        fake.json('GET', `/flavors/${f.flavor.id}/os-extra_specs`, nova(`flavor-extra-specs-${key}`, '2.60'));
      }
      const got = await api.listServers({ allProjects: true, host: 'compute-01' });
      const distinct = new Set(body.servers.map((w: { flavor: { id: string } }) => w.flavor.id));
      assert.equal(fake.sent('GET', /^\/flavors\/[^/]+$/).length, distinct.size);
      for (const s of got) {
        const e = embedded.servers.find((w: { id: string }) => w.id === s.id).flavor;
        assert.deepEqual({ ...s.flavor, id: null }, { id: null, name: e.original_name, vcpus: e.vcpus, ramMb: e.ram, diskGb: e.disk, ephemeralGb: e.ephemeral, swapMb: e.swap, extraSpecs: e.extra_specs });
        assert.ok(s.flavor.id);
      }
      assert.equal(got.every((s) => s.lockedReason === null), true, 'locked_reason is 2.73+');
    });

    it('2.1: no locked field (2.9+), no host_status (2.16+)', async () => {
      const body = nova('server-show-locked', '2.1');
      assert.ok(!('locked' in body.server) && !('host_status' in body.server));
      const { fake, api } = setup('2.1');
      fake.json('GET', `/servers/${body.server.id}`, body);
      const f = nova('flavor-show-tiny', '2.60');
      fake.json('GET', `/flavors/${f.flavor.id}`, f);
      fake.json('GET', `/flavors/${f.flavor.id}/os-extra_specs`, nova('flavor-extra-specs-tiny', '2.60'));
      const s = await api.getServer(body.server.id);
      assert.equal(s.locked, false);
      assert.equal(s.hostStatus, null);
      assert.equal(s.flavor.name, 'm1.tiny');
    });

    it('a full page carries servers_links next; the marker is followed', async () => {
      const page = nova('servers-detail-host-paged', '2.93');
      const all = nova('servers-detail-host', '2.93');
      const fake = new FakeServiceClient({ microversion: '2.93' });
      const api = createComputeClient(fake, memoryLogger(), { pageSize: 2 });
      const marker = new URL(page.servers_links[0].href).searchParams.get('marker');
      const rest = all.servers.filter((w: { id: string }) => !page.servers.some((p: { id: string }) => p.id === w.id));
      fake.on('GET', '/servers/detail', (req) => ({ data: req.query?.status ? { servers: [] } : req.query?.marker === undefined ? page : { servers: rest } }));
      const got = await api.listServersOnHost('compute-01');
      assert.equal(got.length, all.servers.length);
      assert.equal(fake.requests[1]!.query!.marker, marker);
    });

    it('VERIFY_RESIZE after a cold migration', async () => {
      const body = nova('server-show-verify-resize', '2.93');
      const { fake, api } = setup('2.93');
      fake.json('GET', `/servers/${body.server.id}`, body);
      const s = await api.getServer(body.server.id);
      assert.equal(s.status, 'VERIFY_RESIZE');
      assert.equal(s.vmState, 'resized');
      assert.notEqual(s.host, 'compute-01');
    });

    it("the recorded 409 of a SHUTOFF live migration surfaces as conflict with Nova's text", async () => {
      const body = nova('live-migrate-shutoff-conflict', '2.93');
      const id = /instance (\S+)/.exec(body.conflictingRequest.message)![1]!;
      const { fake, api } = setup('2.93');
      fake.on('POST', `/servers/${id}/action`, (req) => {
        throw fakeHttpError(409, body.conflictingRequest.message, req);
      });
      await assert.rejects(api.liveMigrate(id, {}), (e: unknown) => isHttpError(e, 'conflict') && e.message === `Cannot 'os-migrateLive' instance ${id} while it is in vm_state stopped`);
    });
  });

  describe('migrations', () => {
    for (const mv of ['2.93', '2.23']) {
      it(`GET /servers/{id}/migrations while running (${mv})`, async () => {
        const body = nova('server-migrations-running', mv);
        const w = body.migrations[0];
        const { fake, api } = setup(mv);
        fake.json('GET', `/servers/${w.server_uuid}/migrations`, body);
        const [m] = await api.listServerMigrations(w.server_uuid);
        assert.equal(m!.status, 'running');
        assert.equal(m!.serverId, w.server_uuid);
        assert.equal(m!.sourceCompute, 'compute-01');
        assert.equal(m!.destCompute, w.dest_compute);
        assert.equal(m!.uuid, mv === '2.93' ? w.uuid : null);
        assert.equal(m!.memoryTotalBytes, w.memory_total_bytes); // the fake driver reports none: null
      });
    }

    it('GET /servers/{id}/migrations/{mid} while running', async () => {
      const body = nova('server-migration-show-running', '2.93');
      const { fake, api } = setup('2.93');
      fake.json('GET', `/servers/${body.migration.server_uuid}/migrations/${body.migration.id}`, body);
      const m = await api.getServerMigration(body.migration.server_uuid, body.migration.id);
      assert.equal(m.id, body.migration.id);
      assert.deepEqual(nova('server-migrations-none', '2.93'), { migrations: [] });
    });

    for (const [mv, type, uuid] of [
      ['2.93', 'live-migration', true],
      ['2.59', 'live-migration', true],
      ['2.58', 'live-migration', false],
      ['2.22', 'unknown', false],
    ] as const) {
      it(`GET /os-migrations?instance_uuid at ${mv}`, async () => {
        const body = nova('os-migrations-instance', mv);
        const { fake, api } = setup(mv);
        fake.json('GET', '/os-migrations', body);
        const ms = await api.listMigrations({ instanceUuid: body.migrations[0].instance_uuid });
        const m = ms[0]!;
        assert.equal(m.migrationType, type);
        assert.equal(m.status, 'completed');
        assert.equal(m.sourceCompute, 'compute-01');
        assert.equal(m.uuid !== null, uuid);
        assert.equal(m.serverId, body.migrations[0].instance_uuid);
      });
    }

    it('a live migration onto a disabled host: status error, and why (event details 2.84+)', async () => {
      const ms = nova('os-migrations-live-error', '2.93');
      const action = nova('instance-action-live-migration-novalidhost', '2.93');
      const { fake, api } = setup('2.93');
      fake.json('GET', '/os-migrations', ms);
      fake.json('GET', `/servers/${action.instanceAction.instance_uuid}/os-instance-actions/${action.instanceAction.request_id}`, action);
      const [m] = await api.listMigrations({ instanceUuid: action.instanceAction.instance_uuid });
      assert.equal(m!.status, 'error');
      assert.equal(m!.migrationType, 'live-migration');
      const a = await api.getInstanceAction(action.instanceAction.instance_uuid, action.instanceAction.request_id);
      assert.equal(a.message, 'Error');
      const ev = a.events.find((e) => e.event === 'conductor_live_migrate_instance')!;
      assert.equal(ev.result, 'Error');
      assert.equal(ev.details, 'No valid host was found. ');
      assert.match(ev.traceback ?? '', /conductor\/manager\.py/);
    });

    it('a cold migration awaiting confirmation is "finished", type "migration"', async () => {
      const body = nova('os-migrations-cold-finished', '2.93');
      const { fake, api } = setup('2.93');
      fake.json('GET', '/os-migrations', body);
      const [m] = await api.listMigrations({ instanceUuid: body.migrations[0].instance_uuid, migrationType: 'migration' });
      assert.deepEqual([m!.migrationType, m!.status, m!.sourceCompute], ['migration', 'finished', 'compute-01']);
    });

    it('os-migrations paging: the marker of migrations_links is a uuid', async () => {
      const page = nova('os-migrations-host-paged', '2.93');
      const all = nova('os-migrations-host', '2.93');
      const fake = new FakeServiceClient({ microversion: '2.93' });
      const api = createComputeClient(fake, memoryLogger(), { pageSize: 1 });
      fake.on('GET', '/os-migrations', (req) => ({ data: req.query?.marker === undefined ? page : { migrations: all.migrations.slice(1) } }));
      const got = await api.listMigrations({ host: 'compute-01' });
      assert.equal(got.length, all.migrations.length);
      assert.equal(fake.requests[1]!.query!.marker, page.migrations[0].uuid);
    });
  });

  describe('instance actions', () => {
    for (const mv of ['2.93', '2.58']) {
      it(`list at ${mv}`, async () => {
        const body = nova('instance-actions-list', mv);
        const { fake, api } = setup(mv);
        const sid = body.instanceActions[0].instance_uuid;
        fake.json('GET', `/servers/${sid}/os-instance-actions`, body);
        const got = await api.listInstanceActions(sid);
        assert.deepEqual(new Set(got.map((a) => a.action)), new Set(body.instanceActions.map((a: { action: string }) => a.action)));
        assert.ok(got.some((a) => a.action === 'live-migration'));
        assert.ok(got.every((a) => a.requestId.startsWith('req-') && a.serverId === sid));
      });
    }

    for (const [mv, details] of [['2.93', true], ['2.83', false], ['2.50', false]] as const) {
      it(`a successful live-migration action with events at ${mv}`, async () => {
        const body = nova('instance-action-live-migration', mv);
        const ia = body.instanceAction;
        const { fake, api } = setup(mv);
        fake.json('GET', `/servers/${ia.instance_uuid}/os-instance-actions/${ia.request_id}`, body);
        const a = await api.getInstanceAction(ia.instance_uuid, ia.request_id);
        assert.equal(a.action, 'live-migration');
        assert.equal(a.events.length, ia.events.length);
        assert.ok(a.events.every((e) => e.result === 'Success' && e.details === null));
        assert.equal('details' in ia.events[0], details);
        assert.ok(a.events.some((e) => e.event === 'compute_live_migration' && (mv === '2.50' ? e.host === null : e.host === 'compute-01')));
      });
    }
  });

  describe('groups, zones, aggregates, flavors', () => {
    it('server groups at 2.93 (policy + rules) and 2.63 (policies)', async () => {
      for (const mv of ['2.93', '2.63']) {
        const body = nova('server-groups-list', mv);
        const { fake, api } = setup(mv);
        fake.json('GET', '/os-server-groups', body);
        const got = await api.listServerGroups();
        const g = got.find((x) => x.name.startsWith('hm-fx-'))!;
        assert.equal(g.policy, 'anti-affinity', mv);
        assert.deepEqual(g.rules, mv === '2.93' ? { max_server_per_host: 1 } : {});
      }
      const show = nova('server-group-show', '2.93');
      const { fake, api } = setup('2.93');
      fake.json('GET', `/os-server-groups/${show.server_group.id}`, show);
      assert.equal((await api.getServerGroup(show.server_group.id)).projectId, show.server_group.project_id);
    });

    it('availability zones with hosts: a disabled host (compute-01 when recorded) is left out by Nova', async () => {
      const { fake, api } = setup('2.93');
      fake.json('GET', '/os-availability-zone/detail', nova('availability-zone-detail', '2.93'));
      const zones = await api.listAvailabilityZones();
      const z = zones.find((x) => x.name === 'nova')!;
      assert.deepEqual(z.hosts, ['compute-02', 'compute-03']);
      assert.ok(zones.some((x) => x.name === 'internal'));
    });

    it('aggregates with hosts and metadata', async () => {
      const { fake, api } = setup('2.93');
      fake.json('GET', '/os-aggregates', nova('aggregates-list', '2.93'));
      const a = (await api.listAggregates()).find((x) => x.name.startsWith('hm-fx-'))!;
      assert.deepEqual(a.hosts, ['compute-01']);
      assert.equal(a.metadata['hostmaint:fixture'], 'yes');
      assert.ok(a.uuid);
    });

    it('flavor show: extra specs inline at 2.93, separate at 2.60', async () => {
      const f93 = nova('flavor-show-small', '2.93');
      const a = setup('2.93');
      a.fake.json('GET', `/flavors/${f93.flavor.id}`, f93);
      const got = await a.api.getFlavor(f93.flavor.id);
      assert.deepEqual(got, { id: f93.flavor.id, name: 'm1.small', vcpus: 1, ramMb: 2048, diskGb: 1, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: {} });
      assert.equal(a.fake.requests.length, 1);
      const b = setup('2.60');
      b.fake.json('GET', `/flavors/${f93.flavor.id}`, nova('flavor-show-small', '2.60'));
      b.fake.json('GET', `/flavors/${f93.flavor.id}/os-extra_specs`, nova('flavor-extra-specs-small', '2.60'));
      assert.deepEqual(await b.api.getFlavor(f93.flavor.id), got);
      assert.equal(nova('flavor-show-small', '2.60').flavor.swap, '', 'swap is "" before 2.75');
    });
  });
});
