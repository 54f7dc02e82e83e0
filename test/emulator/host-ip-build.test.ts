/**
 * Two Nova behaviours the unit tests rely on: a compute node without host_ip
 * (ComputeNode.host_ip is nullable), and an instance building on its host
 * (task_state spawning) that ends ACTIVE after the boot time.
 */
import { strict as assert } from 'node:assert';
import { startEmulator, VirtualClock, type Emulator } from '../../src/emulator/index.js';
import { C, client } from './helpers.js';

describe('emulator: host_ip null, BUILD on a host', () => {
  let emu: Emulator;
  afterEach(() => emu?.stop());

  it('a hypervisor whose compute node has no host_ip shows host_ip null; others their address', async () => {
    emu = await startEmulator({ scenario: { name: 't', hosts: [{ name: 'compute-01', address: null }, { name: 'compute-02', address: '10.0.0.2' }, { name: 'compute-03' }] }, clock: new VirtualClock() });
    const c = await client(emu);
    const hv = (await c.get(`${C}/os-hypervisors/detail`)).body.hypervisors as Array<{ hypervisor_hostname: string; host_ip: string | null }>;
    assert.deepEqual(Object.fromEntries(hv.map((h) => [h.hypervisor_hostname, h.host_ip])), { 'compute-01': null, 'compute-02': '10.0.0.2', 'compute-03': '127.0.0.1' });
  });

  it('an instance in BUILD (spawning) on its host is ACTIVE there after boot_ms', async () => {
    const clock = new VirtualClock();
    emu = await startEmulator({
      scenario: { name: 't', migration: { boot_ms: 10_000 }, hosts: [{ name: 'compute-01' }], instances: [{ name: 'b', flavor: 'm1.small', host: 'compute-01', state: 'BUILD', task_state: 'spawning' }] },
      clock,
    });
    assert.deepEqual([emu.state.server('b')!.status, emu.state.server('b')!.taskState, emu.state.server('b')!.host], ['BUILD', 'spawning', 'compute-01']);
    await clock.sleep(9_999);
    assert.equal(emu.state.server('b')!.status, 'BUILD');
    await clock.sleep(1);
    assert.deepEqual([emu.state.server('b')!.status, emu.state.server('b')!.taskState, emu.state.server('b')!.host], ['ACTIVE', null, 'compute-01']);
  });
});
