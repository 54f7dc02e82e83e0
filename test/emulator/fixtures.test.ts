/**
 * Wire-shape parity: the emulator's responses have the same keys, at every
 * level, as the responses recorded from the real Zed lab (test/fixtures/,
 * see its README), per microversion.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { C, P, client, liveMigrate, until } from './helpers.js';
import type { Client } from './helpers.js';
import { shapeDiff } from './fixture-shapes.js';

describe('emulator: wire shapes match the recorded lab fixtures', () => {
  let emu: Emulator;
  let c: Client;
  const ids: Record<string, string> = {};
  let liveRequestId = '';
  let runningMigrationId = 0;
  let rp = '';

  before(async () => {
    const clock = new VirtualClock();
    emu = await startEmulator({
      scenario: {
        hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
        server_groups: [{ name: 'g', policy: 'anti-affinity', max_server_per_host: 1 }],
        aggregates: [{ name: 'agg', metadata: { 'hostmaint:fixture': 'yes' } }],
        instances: [
          { name: 'locked', flavor: 'm1.tiny', host: 'compute-01', locked: true, locked_reason: 'x' },
          { name: 'moving', flavor: 'm1.tiny', host: 'compute-01' },
          { name: 'moved', flavor: 'm1.tiny', host: 'compute-01' },
          { name: 'cold', flavor: 'm1.tiny', host: 'compute-01', state: 'SHUTOFF' },
        ],
      },
      clock,
    });
    c = await client(emu);
    for (const n of ['locked', 'moving', 'moved', 'cold']) ids[n] = emu.state.server(n)!.id;
    rp = emu.state.host('compute-01')!.providerUuid;
    liveRequestId = (await c.post(`${C}/servers/${ids['moved']}/action`, liveMigrate())).requestId!;
    await until(emu, async () => emu.state.migrations({ serverId: ids['moved'] })[0]!.status === 'completed');
    await c.post(`${C}/servers/${ids['cold']}/action`, { migrate: null });
    emu.inject({ kind: 'migration-stall', server: 'moving' });
    await c.post(`${C}/servers/${ids['moving']}/action`, liveMigrate());
    await until(emu, async () => emu.state.server('cold')!.status === 'VERIFY_RESIZE' && emu.state.migrations({ serverId: ids['moving'] })[0]!.status === 'running');
    runningMigrationId = emu.state.migrations({ serverId: ids['moving'] })[0]!.id;
  });
  after(() => emu.stop());

  const cases = (): Array<[string, string, string]> => [
    ['nova/services-list-host.2.93.json', `${C}/os-services?host=compute-01&binary=nova-compute`, '2.93'],
    ['nova/services-list-host.2.52.json', `${C}/os-services?host=compute-01&binary=nova-compute`, '2.52'],
    ['nova/services-list-host.2.1.json', `${C}/os-services?host=compute-01&binary=nova-compute`, '2.1'],
    ['nova/servers-detail-host.2.93.json', `${C}/servers/detail?all_tenants=1&host=compute-01`, '2.93'],
    ['nova/servers-detail-host.2.47.json', `${C}/servers/detail?all_tenants=1&host=compute-01`, '2.47'],
    ['nova/servers-detail-host.2.46.json', `${C}/servers/detail?all_tenants=1&host=compute-01`, '2.46'],
    ['nova/servers-detail-host.2.1.json', `${C}/servers/detail?all_tenants=1&host=compute-01`, '2.1'],
    ['nova/server-show-locked.2.93.json', `${C}/servers/${ids['locked']}`, '2.93'],
    ['nova/server-show-locked.2.1.json', `${C}/servers/${ids['locked']}`, '2.1'],
    ['nova/server-show-verify-resize.2.93.json', `${C}/servers/${ids['cold']}`, '2.93'],
    ['nova/server-migrations-running.2.93.json', `${C}/servers/${ids['moving']}/migrations`, '2.93'],
    ['nova/server-migrations-running.2.23.json', `${C}/servers/${ids['moving']}/migrations`, '2.23'],
    ['nova/server-migration-show-running.2.93.json', `${C}/servers/${ids['moving']}/migrations/${runningMigrationId}`, '2.93'],
    ['nova/os-migrations-instance.2.93.json', `${C}/os-migrations?instance_uuid=${ids['moved']}`, '2.93'],
    ['nova/os-migrations-instance.2.59.json', `${C}/os-migrations?instance_uuid=${ids['moved']}`, '2.59'],
    ['nova/os-migrations-instance.2.58.json', `${C}/os-migrations?instance_uuid=${ids['moved']}`, '2.58'],
    ['nova/os-migrations-instance.2.22.json', `${C}/os-migrations?instance_uuid=${ids['moved']}`, '2.22'],
    ['nova/hypervisors-detail-pattern-servers.2.93.json', `${C}/os-hypervisors/detail?hypervisor_hostname_pattern=compute-01&with_servers=true`, '2.93'],
    ['nova/hypervisors-detail-pattern-servers.2.87.json', `${C}/os-hypervisors/detail?hypervisor_hostname_pattern=compute-01&with_servers=true`, '2.87'],
    ['nova/hypervisors-detail-pattern-servers.2.53.json', `${C}/os-hypervisors/detail?hypervisor_hostname_pattern=compute-01&with_servers=true`, '2.53'],
    ['nova/hypervisor-show.2.52.json', `${C}/os-hypervisors/1`, '2.52'],
    ['nova/hypervisors-pattern-search.2.52.json', `${C}/os-hypervisors/compute-01/search`, '2.52'],
    ['nova/hypervisors-pattern-servers.2.52.json', `${C}/os-hypervisors/compute-01/servers`, '2.52'],
    ['nova/instance-action-live-migration.2.93.json', `${C}/servers/${ids['moved']}/os-instance-actions/${liveRequestId}`, '2.93'],
    ['nova/instance-action-live-migration.2.83.json', `${C}/servers/${ids['moved']}/os-instance-actions/${liveRequestId}`, '2.83'],
    ['nova/instance-action-live-migration.2.50.json', `${C}/servers/${ids['moved']}/os-instance-actions/${liveRequestId}`, '2.50'],
    ['nova/server-groups-list.2.93.json', `${C}/os-server-groups?all_projects=true`, '2.93'],
    ['nova/server-groups-list.2.63.json', `${C}/os-server-groups?all_projects=true`, '2.63'],
    ['nova/aggregates-list.2.93.json', `${C}/os-aggregates`, '2.93'],
    ['nova/availability-zone-detail.2.93.json', `${C}/os-availability-zone/detail`, '2.93'],
    ['nova/flavor-show-tiny.2.93.json', `${C}/flavors/1`, '2.93'],
    ['nova/flavor-show-tiny.2.60.json', `${C}/flavors/1`, '2.60'],
    ['placement/resource-providers-name.1.39.json', `${P}/resource_providers?name=compute-01`, '1.39'],
    ['placement/resource-providers-name.1.13.json', `${P}/resource_providers?name=compute-01`, '1.13'],
    ['placement/resource-provider-show.1.39.json', `${P}/resource_providers/${rp}`, '1.39'],
    ['placement/inventories.1.39.json', `${P}/resource_providers/${rp}/inventories`, '1.39'],
    ['placement/usages.1.39.json', `${P}/resource_providers/${rp}/usages`, '1.39'],
    ['placement/resource-provider-allocations.1.39.json', `${P}/resource_providers/${rp}/allocations`, '1.39'],
    ['placement/resource-provider-allocations.1.27.json', `${P}/resource_providers/${rp}/allocations`, '1.27'],
    ['placement/consumer-allocations.1.39.json', `${P}/allocations/${ids['locked']}`, '1.39'],
    ['placement/consumer-allocations.1.28.json', `${P}/allocations/${ids['locked']}`, '1.28'],
    ['placement/consumer-allocations.1.12.json', `${P}/allocations/${ids['locked']}`, '1.12'],
    ['placement/consumer-allocations.1.11.json', `${P}/allocations/${ids['locked']}`, '1.11'],
    ['placement/allocation-candidates.1.39.json', `${P}/allocation_candidates?resources=VCPU:1,MEMORY_MB:512,DISK_GB:1&limit=10`, '1.39'],
    ['placement/allocation-candidates.1.17.json', `${P}/allocation_candidates?resources=VCPU:1,MEMORY_MB:512,DISK_GB:1&limit=10`, '1.17'],
    ['placement/allocation-candidates.1.10.json', `${P}/allocation_candidates?resources=VCPU:1,MEMORY_MB:512,DISK_GB:1`, '1.10'],
    ['placement/traits-disabled.1.39.json', `${P}/resource_providers/${rp}/traits`, '1.39'],
  ];

  it('every recorded response has the same keys here', async () => {
    const problems: string[] = [];
    for (const [file, path, mv] of cases()) {
      const real = JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')) as unknown;
      const svc = file.startsWith('nova') ? 'compute' : 'placement';
      const r = await c.get(path, { 'openstack-api-version': `${svc} ${mv}` });
      if (r.status !== 200) problems.push(`${file}: status ${r.status}`);
      for (const d of shapeDiff(real, r.body)) problems.push(`${file}: ${d}`);
    }
    assert.deepEqual(problems, []);
  });
});
