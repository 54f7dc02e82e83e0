import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScenarioError, SHIPPED_SCENARIOS, loadScenario, startEmulator, validateScenario, VirtualClock } from '../../src/emulator/index.js';
import { C, client, liveMigrate, serverId, until } from './helpers.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ScenarioError, String(e));
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('expected a ScenarioError');
}

describe('emulator: scenarios', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hostmaint-scenario-'));

  it('loads every shipped scenario by name', () => {
    for (const name of SHIPPED_SCENARIOS) {
      const sc = loadScenario(name);
      assert.ok(sc.hosts.length >= 3, name);
    }
    const demo = loadScenario('demo');
    const on01 = demo.instances!.filter((i) => i.host === 'compute-01');
    assert.ok(on01.length >= 12);
    assert.ok(on01.some((i) => i.state === 'SHUTOFF'));
    assert.ok(on01.some((i) => i.state === 'PAUSED'));
    assert.equal(demo.projects!.length, 2);
    assert.ok(demo.server_groups!.some((g) => g.policy === 'anti-affinity'));
  });

  it('schema errors name the file and the JSON path', () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, ['hosts:', '  - name: compute-01', '    vcpus: -1', '    colour: blue', 'instances:', '  - name: a', '    flavor: m1.tiny', '    state: RUNNING', ''].join('\n'));
    try {
      loadScenario(file);
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof ScenarioError);
      assert.match(e.message, /bad\.yaml: \/hosts\/0\/vcpus: must be >= 1/);
      assert.match(e.message, /bad\.yaml: \/hosts\/0: unknown property "colour"/);
      assert.match(e.message, /bad\.yaml: \/instances\/0\/state: must be equal to one of the allowed values/);
    }
  });

  it('reference errors: unknown host, flavor, project, group; overfull host; anti-affinity broken', () => {
    const p = problemsOf(() =>
      validateScenario(
        {
          hosts: [{ name: 'compute-01', ram_mb: 4096, reserved_host_memory_mb: 0 }, { name: 'compute-02' }],
          projects: [{ name: 'p' }],
          server_groups: [{ name: 'g', policy: 'anti-affinity' }],
          instances: [
            { name: 'a', flavor: 'm1.nope', host: 'compute-01' },
            { name: 'b', flavor: 'm1.tiny', host: 'compute-09' },
            { name: 'c', flavor: 'm1.tiny', host: 'compute-01', project: 'q' },
            { name: 'd', flavor: 'm1.medium', host: 'compute-01' },
            { name: 'e', flavor: 'm1.tiny', host: 'compute-02', server_group: 'g' },
            { name: 'f', flavor: 'm1.tiny', host: 'compute-02', server_group: 'g' },
            { name: 'g', flavor: 'm1.tiny', server_group: 'nope' },
          ],
        },
        'inline.yaml',
      ),
    );
    assert.ok(p.includes('/instances/0/flavor: unknown flavor "m1.nope"'), p.join('\n'));
    assert.ok(p.includes('/instances/1/host: unknown host "compute-09"'));
    assert.ok(p.includes('/instances/2/project: unknown project "q"'));
    assert.ok(p.some((x) => x.startsWith('/instances/3/host: host "compute-01" is over capacity')));
    assert.ok(p.includes('/instances/5/host: anti-affinity group "g" already has a member on "compute-02"'));
    assert.ok(p.includes('/instances/6/host: an instance in state ACTIVE needs a host'));
    assert.ok(p.includes('/instances/6/server_group: unknown server group "nope"'));
  });

  it('a JSON scenario and count expansion', () => {
    const file = path.join(dir, 'small.json');
    writeFileSync(file, JSON.stringify({ hosts: [{ name: 'h1' }], instances: [{ name: 'vm-{i}', count: 3, flavor: 'm1.tiny', host: 'h1' }] }));
    const sc = loadScenario(file);
    assert.deepEqual(sc.instances!.map((i) => i.name), ['vm-01', 'vm-02', 'vm-03']);
    assert.throws(() => loadScenario('no-such-scenario'), /no such scenario/);
  });

  it('500 hosts and 2,000 instances load, and the crowded host answers', async () => {
    const emu = await startEmulator({ scenario: 'big-500-hosts', clock: new VirtualClock() });
    try {
      assert.equal(emu.state.cloud.hosts.size, 500);
      assert.equal(emu.state.cloud.servers.size, 2000);
      const c = await client(emu);
      const r = await c.get(`${C}/servers/detail?all_tenants=1&host=compute-001`);
      assert.equal(r.body.servers.length, 200);
      const h = await c.get(`${C}/os-hypervisors?hypervisor_hostname_pattern=compute-001&with_servers=true`);
      assert.equal(h.body.hypervisors[0].servers.length, 200);
    } finally {
      await emu.stop();
    }
  });

  it('tight-capacity: only five of the eight instances find room', async () => {
    const emu = await startEmulator({ scenario: 'tight-capacity', clock: new VirtualClock() });
    try {
      const c = await client(emu);
      const ids = emu.state.serversOn('compute-01').map((s) => s.id);
      for (const id of ids) await c.post(`${C}/servers/${id}/action`, liveMigrate());
      await until(emu, async () => emu.state.migrations().every((m) => ['completed', 'error'].includes(m.status)), { everyMs: 2000 });
      const st = emu.state.migrations().map((m) => m.status);
      assert.equal(st.filter((s) => s === 'completed').length, 5);
      assert.equal(st.filter((s) => s === 'error').length, 3);
    } finally {
      await emu.stop();
    }
  });

  it('anti-affinity-unsatisfiable: the group member on compute-01 gets NoValidHost', async () => {
    const emu = await startEmulator({ scenario: 'anti-affinity-unsatisfiable', clock: new VirtualClock() });
    try {
      const c = await client(emu);
      const id = serverId(emu, 'ha-1');
      await c.post(`${C}/servers/${id}/action`, liveMigrate());
      await emu.clock.sleep(1000);
      assert.equal(emu.state.migrations({ serverId: id })[0]!.status, 'error');
    } finally {
      await emu.stop();
    }
  });

  it('demo: every instance on compute-01 can be moved off', async () => {
    const emu = await startEmulator({ scenario: 'demo', clock: new VirtualClock() });
    try {
      const c = await client(emu);
      const svc = (await c.get(`${C}/os-services?binary=nova-compute&host=compute-01`)).body.services[0];
      await c.put(`${C}/os-services/${svc.id}`, { status: 'disabled', disabled_reason: 'demo' });
      for (const s of emu.state.serversOn('compute-01')) {
        if (s.status === 'SHUTOFF') {
          await c.post(`${C}/servers/${s.id}/action`, { migrate: null });
          await until(emu, async () => emu.state.server(s.id)!.status === 'VERIFY_RESIZE');
          await c.post(`${C}/servers/${s.id}/action`, { confirmResize: null });
        } else {
          await c.post(`${C}/servers/${s.id}/action`, liveMigrate());
        }
      }
      await until(emu, async () => emu.state.migrations().every((m) => ['completed', 'confirmed'].includes(m.status)), { everyMs: 5000 });
      assert.deepEqual(emu.state.serversOn('compute-01'), []);
      assert.deepEqual(emu.state.providerAllocations('compute-01'), {});
      const web = ['web-1', 'web-2', 'web-3'].map((n) => emu.state.server(n)!.host);
      assert.equal(new Set(web).size, 3, 'anti-affinity kept');
      const virtualSeconds = (emu.clock.now() - Date.UTC(2024, 0, 1)) / 1000;
      assert.ok(virtualSeconds > 30 && virtualSeconds < 300, `demo drain took ${virtualSeconds} s of emulated time`);
    } finally {
      await emu.stop();
    }
  });
});
