/**
 * The compute contract: hostmaint's ComputeApi against a real (or emulated)
 * Nova, through CloudUnderTest. Every client call is exercised on servers
 * this suite boots on computes[0] (SRC), in every state that matters to a
 * drain, across two projects; SRC is disabled like a drain does and always
 * re-enabled (with its prior state and reason) in `after`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isHttpError } from '../../src/core/errors.js';
import type { ComputeApi } from '../../src/openstack/api.js';
import type { ComputeService, Migration, ServerMigration } from '../../src/openstack/types.js';
import { compareMicroversions } from '../../src/openstack/service-client.js';
import type { CloudUnderTest } from './cloud-under-test.js';

const atLeast = (api: { microversion: string }, v: string) => compareMicroversions(api.microversion, v) >= 0;

export async function poll<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last).slice(0, 800)}`);
    await sleep(everyMs);
    last = await fn();
  }
  return last;
}

/** The suites boot on and disable a host: refuse (clearly) when someone else holds it disabled. */
export function assertFree(service: ComputeService | undefined, host: string): void {
  if (!service) throw new Error(`no nova-compute service on ${host}`);
  if (service.status === 'disabled' || service.state !== 'up') {
    throw new Error(`${host} is ${service.state}/${service.status} (${service.disabledReason ?? 'no reason'}): another test or operator is using it; rerun when the cloud is free`);
  }
}

/** Put a service back as it was before a test touched it. */
export async function restoreService(api: ComputeApi, before: ComputeService): Promise<void> {
  const [now] = await api.listServices({ host: before.host, binary: before.binary });
  if (!now) return;
  if (before.status === 'enabled' && now.status !== 'enabled') await api.enableService(now);
  if (before.status === 'disabled' && (now.status !== 'disabled' || now.disabledReason !== before.disabledReason)) {
    await api.disableService(now, before.disabledReason ?? 'restored by hostmaint contract test');
  }
}

export function defineComputeContract(getCloud: () => CloudUnderTest): void {
  describe('compute contract', function () {
    this.timeout(300_000);
    const tag = `hm-ct-${randomBytes(3).toString('hex')}`;
    let cloud: CloudUnderTest;
    let api: ComputeApi;
    let SRC = '';
    let serviceBefore: ComputeService | undefined;
    const booted: string[] = [];
    const ids = { active: '', shutoff: '', paused: '', locked: '' };
    let groupId: string | null = null;
    let aggregateId: number | null = null;

    before(async function () {
      cloud = getCloud();
      api = cloud.session.compute;
      assert.ok(cloud.computes.length >= 3, 'the contract needs 3 computes');
      SRC = cloud.computes[0]!;
      [serviceBefore] = await api.listServices({ host: SRC, binary: 'nova-compute' });
      assertFree(serviceBefore, SRC);
      const [p0, p1] = cloud.projects;
      const boot = async (key: keyof typeof ids, project: string | undefined) => {
        const id = await cloud.bootServer({ name: `${tag}-${key}`, host: SRC, flavor: 'm1.tiny', project });
        booted.push(id);
        ids[key] = id;
      };
      await boot('active', p0);
      await boot('shutoff', p1);
      await boot('paused', p1);
      await boot('locked', p0);
      await cloud.stopServer(ids.shutoff);
      await cloud.pauseServer(ids.paused);
      await cloud.lockServer(ids.locked);
    });

    after(async function () {
      if (!cloud) return;
      const problems: unknown[] = [];
      for (const id of booted) await cloud.deleteServer(id).catch((e: unknown) => problems.push(e));
      if (serviceBefore) await restoreService(api, serviceBefore).catch((e: unknown) => problems.push(e));
      if (groupId) await cloud.admin.request({ method: 'DELETE', path: `/os-server-groups/${groupId}` }).catch((e: unknown) => problems.push(e));
      if (aggregateId !== null) {
        await cloud.admin.request({ method: 'POST', path: `/os-aggregates/${aggregateId}/action`, body: { remove_host: { host: SRC } } }).catch(() => undefined);
        await cloud.admin.request({ method: 'DELETE', path: `/os-aggregates/${aggregateId}` }).catch((e: unknown) => problems.push(e));
      }
      if (problems.length > 0) throw new Error(`cleanup: ${problems.map(String).join('; ')}`);
    });

    it('lists the nova-compute service of one host (host + binary)', async () => {
      const got = await api.listServices({ host: SRC, binary: 'nova-compute' });
      assert.equal(got.length, 1);
      const s = got[0]!;
      assert.equal(s.host, SRC);
      assert.equal(s.binary, 'nova-compute');
      assert.equal(s.state, 'up');
      assert.equal(s.forcedDown, false);
      if (atLeast(api, '2.53')) assert.match(s.id, /^[0-9a-f-]{36}$/);
      const all = await api.listServices({ binary: 'nova-compute' });
      for (const h of cloud.computes) assert.ok(all.some((x) => x.host === h), `service of ${h} listed`);
    });

    it('finds exactly the hypervisor of the host, with its servers', async () => {
      const hs = await api.findHypervisors(SRC, { withServers: true });
      assert.equal(hs.length, 1, JSON.stringify(hs));
      const h = hs[0]!;
      assert.equal(h.serviceHost, SRC);
      assert.equal(h.state, 'up');
      const onIt = new Set((h.servers ?? []).map((s) => s.id));
      for (const id of Object.values(ids)) assert.ok(onIt.has(id), `hypervisor lists ${id}`);
      // Nova names a hypervisor's servers by instance name, not display name.
      assert.ok((h.servers ?? []).every((s) => /^instance-/.test(s.name)));
      assert.deepEqual(await api.findHypervisors(`${SRC}-no-such-host`), []);
      const all = await api.listHypervisors();
      assert.ok(all.length >= cloud.computes.length);
      assert.ok(all.every((x) => x.servers === undefined));
    });

    it('lists every server on the host in every state, across projects', async () => {
      const servers = await api.listServersOnHost(SRC);
      const mine = servers.filter((s) => s.name.startsWith(tag));
      assert.deepEqual(new Set(mine.map((s) => s.id)), new Set(Object.values(ids)));
      const by = (id: string) => mine.find((s) => s.id === id)!;
      assert.equal(by(ids.active).status, 'ACTIVE');
      assert.equal(by(ids.active).vmState, 'active');
      assert.equal(by(ids.shutoff).status, 'SHUTOFF');
      assert.equal(by(ids.shutoff).vmState, 'stopped');
      assert.equal(by(ids.paused).status, 'PAUSED');
      assert.equal(by(ids.paused).vmState, 'paused');
      if (atLeast(api, '2.9')) assert.equal(by(ids.locked).locked, true); // `locked` is shown from 2.9
      if (atLeast(api, '2.73')) assert.equal(by(ids.locked).lockedReason, 'hostmaint contract test');
      assert.equal(by(ids.active).locked, false);
      assert.equal(new Set(mine.map((s) => s.projectId)).size, 2, 'two projects');
      for (const s of mine) {
        assert.equal(s.host, SRC);
        assert.ok(s.hypervisorHostname, 'hypervisor hostname');
        assert.match(s.instanceName ?? '', /^instance-/);
        assert.equal(s.taskState, null);
        assert.equal(s.flavor.vcpus, 1);
        assert.equal(s.flavor.ramMb, 512);
        if (atLeast(api, '2.47')) assert.equal(s.flavor.name, 'm1.tiny');
        if (atLeast(api, '2.16')) assert.equal(s.hostStatus, 'UP');
      }
      const one = await api.getServer(ids.active);
      assert.equal(one.id, ids.active);
      assert.equal(one.host, SRC);
    });

    it('disables the host with a reason that round-trips, like a drain', async () => {
      const [svc] = await api.listServices({ host: SRC, binary: 'nova-compute' });
      const reason = `hostmaint:${tag}: contract test (re-enabled in after)`;
      const disabled = await api.disableService(svc!, reason);
      assert.equal(disabled.status, 'disabled');
      assert.equal(disabled.disabledReason, reason);
      const [again] = await api.listServices({ host: SRC, binary: 'nova-compute' });
      assert.equal(again!.status, 'disabled');
      assert.equal(again!.disabledReason, reason);
      if (atLeast(api, '2.16')) {
        const s = await api.getServer(ids.active);
        assert.equal(s.hostStatus, 'MAINTENANCE');
      }
    });

    it("refuses to live-migrate a SHUTOFF server: 409 conflict with Nova's message", async () => {
      await assert.rejects(api.liveMigrate(ids.shutoff, { host: null }), (e: unknown) => {
        assert.ok(isHttpError(e, 'conflict'), String(e));
        assert.equal(e.status, 409);
        assert.match(e.message, new RegExp(`Cannot 'os-migrateLive' instance ${ids.shutoff} while it is in vm_state stopped`));
        return true;
      });
    });

    let liveRequestId: string | null = null;
    it('live-migrates an ACTIVE server: progress, migration record, host changed', async () => {
      const accepted = await api.liveMigrate(ids.active, { host: null });
      liveRequestId = accepted.requestId;
      assert.match(liveRequestId ?? '', /^req-/);
      const seen: ServerMigration[] = [];
      let done: Migration | undefined;
      const deadline = Date.now() + 120_000;
      while (!done) {
        if (Date.now() > deadline) throw new Error(`live migration did not complete; seen ${JSON.stringify(seen)}`);
        if (atLeast(api, '2.23')) {
          for (const m of await api.listServerMigrations(ids.active)) {
            seen.push(m);
            if (m.status === 'running') {
              const one = await api.getServerMigration(ids.active, m.id).catch((e: unknown) => (isHttpError(e, 'not-found') ? null : Promise.reject(e)));
              if (one) assert.equal(one.id, m.id);
            }
          }
        }
        const ms = await api.listMigrations({ instanceUuid: ids.active, migrationType: 'live-migration' });
        const mine = ms.filter((m) => m.serverId === ids.active);
        if (mine.some((m) => m.status === 'error' || m.status === 'failed')) throw new Error(`live migration failed: ${JSON.stringify(mine)}`);
        done = mine.find((m) => m.status === 'completed');
        if (!done) await sleep(300);
      }
      assert.equal(done.sourceCompute, SRC);
      assert.notEqual(done.destCompute, SRC);
      assert.equal(done.migrationType, 'live-migration');
      if (atLeast(api, '2.59')) assert.ok(done.uuid);
      if (atLeast(api, '2.23')) {
        assert.ok(seen.length > 0, 'saw the migration in progress');
        const s0 = seen[0]!;
        assert.equal(s0.serverId, ids.active);
        assert.equal(s0.sourceCompute, SRC);
        assert.ok(['queued', 'preparing', 'running', 'post-migrating'].includes(s0.status), s0.status);
        assert.ok(seen.every((m) => m.memoryTotalBytes === null || typeof m.memoryTotalBytes === 'number'));
      }
      const s = await cloud.waitForServer(ids.active, (x) => x.status === 'ACTIVE' && x.taskState === null && x.host !== SRC, 60_000);
      assert.equal(s.host, done.destCompute);
      assert.ok((await api.listMigrations({ host: SRC })).some((m) => m.id === done!.id), 'listed by host');
    });

    it('shows the live-migration instance action with its events', async () => {
      const actions = await api.listInstanceActions(ids.active);
      const lm = actions.find((a) => a.action === 'live-migration');
      assert.ok(lm, JSON.stringify(actions));
      assert.equal(lm.requestId, liveRequestId);
      assert.ok(actions.some((a) => a.action === 'create'));
      const full = await api.getInstanceAction(ids.active, lm.requestId);
      assert.equal(full.serverId, ids.active);
      assert.ok(full.events.length > 0);
      // From 2.34 the conductor runs the pre-checks asynchronously (conductor_live_migrate_instance);
      // before, synchronously inside the API call (conductor_migrate_server).
      const conductorEvent = atLeast(api, '2.34') ? 'conductor_live_migrate_instance' : 'conductor_migrate_server';
      assert.ok(full.events.some((e) => e.event === conductorEvent && e.result === 'Success'), JSON.stringify(full.events));
      assert.ok(full.events.some((e) => e.event === 'compute_live_migration' && e.result === 'Success'));
      if (atLeast(api, '2.62')) assert.ok(full.events.some((e) => e.event === 'compute_live_migration' && e.host === SRC), 'event host (2.62+)');
      assert.ok(full.events.every((e) => e.startTime !== null));
    });

    it('cold-migrates a SHUTOFF server, confirms the resize, ends SHUTOFF on the new host', async () => {
      const target = cloud.computes[1]!; // (computes[2] may be a deliberately small host in CI)
      const withHost = atLeast(api, '2.56');
      await api.coldMigrate(ids.shutoff, withHost ? { host: target } : {});
      const verify = await cloud.waitForServer(ids.shutoff, (s) => s.status === 'VERIFY_RESIZE' || s.status === 'ERROR', 120_000);
      assert.equal(verify.status, 'VERIFY_RESIZE', verify.fault?.message);
      assert.notEqual(verify.host, SRC);
      if (withHost) assert.equal(verify.host, target);
      // Filtered on the type: before 2.23 rows do not show it, the client carries the filter's.
      const ms = await api.listMigrations({ instanceUuid: ids.shutoff, migrationType: 'migration' });
      const cold = ms.find((m) => m.serverId === ids.shutoff && m.migrationType === 'migration');
      assert.ok(cold, JSON.stringify(ms));
      assert.equal(cold.status, 'finished');
      assert.equal(cold.sourceCompute, SRC);
      await api.confirmResize(ids.shutoff);
      const s = await cloud.waitForServer(ids.shutoff, (x) => x.status === 'SHUTOFF' && x.taskState === null, 120_000);
      assert.equal(s.host, verify.host);
      await poll('cold migration confirmed', () => api.listMigrations({ instanceUuid: ids.shutoff, migrationType: 'migration' }), (l) => l.some((m) => m.status === 'confirmed'), 60_000);
    });

    it('lists server groups of all projects (policy)', async () => {
      const body = atLeast(api, '2.64') ? { server_group: { name: `${tag}-grp`, policy: 'anti-affinity' } } : { server_group: { name: `${tag}-grp`, policies: ['anti-affinity'] } };
      const r = await cloud.admin.request<{ server_group: { id: string } }>({ method: 'POST', path: '/os-server-groups', body });
      groupId = r.data.server_group.id;
      const groups = await api.listServerGroups({ allProjects: true });
      const g = groups.find((x) => x.id === groupId);
      assert.ok(g);
      assert.equal(g.policy, 'anti-affinity');
      assert.deepEqual(g.members, []);
      assert.deepEqual(await api.getServerGroup(groupId), g);
    });

    it('lists availability zones with their hosts, and aggregates', async () => {
      const zones = await api.listAvailabilityZones();
      const nova = zones.find((z) => z.name === 'nova');
      assert.ok(nova, JSON.stringify(zones));
      // SRC is disabled here: Nova leaves disabled hosts out of the zone listing.
      for (const h of cloud.computes.slice(1)) assert.ok(nova.hosts.includes(h), `${h} in zone nova`);
      assert.ok(!nova.hosts.includes(SRC), `disabled ${SRC} left out`);
      const r = await cloud.admin.request<{ aggregate: { id: number } }>({ method: 'POST', path: '/os-aggregates', body: { aggregate: { name: `${tag}-agg` } } });
      aggregateId = r.data.aggregate.id;
      await cloud.admin.request({ method: 'POST', path: `/os-aggregates/${aggregateId}/action`, body: { add_host: { host: SRC } } });
      const aggs = await api.listAggregates();
      const a = aggs.find((x) => x.id === aggregateId);
      assert.ok(a);
      assert.deepEqual(a.hosts, [SRC]);
      assert.equal(a.name, `${tag}-agg`);
    });

    it('reads a flavor with its extra specs', async () => {
      const s = await api.getServer(ids.paused);
      const flavorId = s.flavor.id ?? 'm1.tiny';
      // 2.47+ servers carry no flavor id: look it up by name through the raw API.
      let id = flavorId;
      if (s.flavor.id === null) {
        const r = await cloud.admin.request<{ flavors: Array<{ id: string; name: string }> }>({ method: 'GET', path: '/flavors' });
        id = r.data.flavors.find((f) => f.name === s.flavor.name)!.id;
      }
      const f = await api.getFlavor(id);
      assert.equal(f.vcpus, s.flavor.vcpus);
      assert.equal(f.ramMb, s.flavor.ramMb);
      assert.deepEqual(f.extraSpecs, s.flavor.extraSpecs);
    });

    it('re-enables the host', async () => {
      const [svc] = await api.listServices({ host: SRC, binary: 'nova-compute' });
      const enabled = await api.enableService(svc!);
      assert.equal(enabled.status, 'enabled');
      assert.equal(enabled.disabledReason, null);
    });
  });
}
