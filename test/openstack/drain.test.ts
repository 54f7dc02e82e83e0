/**
 * hostmaint drain / undrain against the real OpenStack lab, through the CLI
 * exactly as an operator runs it (clouds.yaml of the lab, --os-cloud lab).
 * What is asserted is what Nova and Placement say afterwards.
 * Skips with a message when no lab runs; fails under CI (CI must run it).
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { cleanUpAfterDrains, createLabCloud, enableAllComputes } from '../contract/lab-cloud.js';
import type { CloudUnderTest } from '../contract/cloud-under-test.js';
import { acquireLabLock, requireLab, type LabInfo } from './lab.js';
import { hostmaint, tempDir } from '../cli/helpers.js';
import { createServer, type AddressInfo } from 'node:net';

describe('drain and undrain on the real OpenStack lab', function () {
  this.timeout(900_000);
  let lab: LabInfo;
  let cloud: CloudUnderTest;
  let stateDir: string;
  const created: string[] = [];
  let env: NodeJS.ProcessEnv;
  let releaseLock: (() => void) | null = null;

  before(async function () {
    lab = requireLab(this);
    releaseLock = await acquireLabLock('drain');
    cloud = await createLabCloud(lab);
    stateDir = tempDir('hm-lab-');
    env = { OS_CLIENT_CONFIG_FILE: lab.cloudsYaml, HOME: stateDir };
    // Every compute must be up and enabled before we start (a previous suite may have left one disabled).
    await enableAllComputes(cloud);
  });

  after(async () => {
    if (!cloud) {
      releaseLock?.();
      return;
    }
    await cleanUpAfterDrains(cloud, created);
    await cloud.close?.();
    rmSync(stateDir, { recursive: true, force: true });
    releaseLock?.();
  });

  async function boot(name: string, host: string, flavor: string, project?: string): Promise<string> {
    const id = await cloud.bootServer({ name, host, flavor, ...(project ? { project } : {}) });
    created.push(id);
    return id;
  }

  it('drains compute-01 (7 servers, 2 projects, ACTIVE/PAUSED/SHUTOFF) to empty, then undrains with --return', async () => {
    const src = cloud.computes[0]!;
    const [p1, p2] = cloud.projects as [string, string];
    const ids = await Promise.all([
      boot('hm-lab-a1', src, 'm1.tiny', p1), boot('hm-lab-a2', src, 'm1.tiny', p1), boot('hm-lab-a3', src, 'm1.small', p1),
      boot('hm-lab-b1', src, 'm1.tiny', p2), boot('hm-lab-b2', src, 'm1.tiny', p2), boot('hm-lab-b3', src, 'm1.small', p2),
      boot('hm-lab-b4', src, 'm1.tiny', p2),
    ]);
    await cloud.pauseServer(ids[1]!);
    await cloud.stopServer(ids[4]!);
    const before = new Map((await cloud.session.compute.listServersOnHost(src)).map((s) => [s.id, s.status]));
    for (const id of ids) assert.ok(before.has(id), `${id} is not on ${src}`);

    const t0 = Date.now();
    const r = await hostmaint(['drain', src, '--os-cloud', 'lab', '--yes', '-f', 'json', '--state-dir', stateDir, '--reason', 'lab drain test', '--poll-interval', '1s'], env);
    const wallMs = Date.now() - t0;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const result = r.json<{ outcome: string; manifest: Array<{ serverId: string; to: string }>; apiRequests: Record<string, number> }>();
    assert.equal(result.outcome, 'drained');
    const total = Object.values(result.apiRequests).reduce((a, b) => a + b, 0);
    console.log(`    lab drain of ${ids.length} servers: ${(wallMs / 1000).toFixed(1)} s wall, ${total} API requests ${JSON.stringify(result.apiRequests)}`);

    // What Nova and Placement say now, not what hostmaint said.
    assert.deepEqual((await cloud.session.compute.listServersOnHost(src)).map((s) => s.name), []);
    for (const id of ids) {
      const s = await cloud.session.compute.getServer(id);
      assert.notEqual(s.host, src, `${s.name} still on ${src}`);
      assert.equal(s.status, before.get(id), `${s.name} came out ${s.status}, went in ${before.get(id)}`);
      assert.equal(result.manifest.find((m) => m.serverId === id)?.to, s.host);
    }
    const [hyp] = await cloud.session.compute.findHypervisors(src, { withServers: true });
    assert.deepEqual(hyp?.servers ?? [], []);
    const [rp] = await cloud.session.placement.listProviders({ name: hyp!.hostname });
    assert.deepEqual(await cloud.session.placement.getProviderAllocations(rp!.uuid), {});
    const [svc] = await cloud.session.compute.listServices({ host: src, binary: 'nova-compute' });
    assert.equal(svc?.status, 'disabled');
    assert.match(svc?.disabledReason ?? '', /^hostmaint:\S+: lab drain test/);

    const u = await hostmaint(['undrain', src, '--os-cloud', 'lab', '--return', '-f', 'json', '--state-dir', stateDir, '--poll-interval', '1s'], env);
    assert.equal(u.code, 0, `${u.stdout}\n${u.stderr}`);
    const [after] = await cloud.session.compute.listServices({ host: src, binary: 'nova-compute' });
    assert.equal(after?.status, 'enabled');
    const back = await cloud.session.compute.listServersOnHost(src);
    assert.equal(back.length, ids.length, `returned: ${back.map((s) => s.name).join(', ')}`);
    for (const s of back) assert.equal(s.status, before.get(s.id));
  });

  it('refuses a drain onto a host without room (exit 3), and leaves everything as it was', async function () {
    const small = cloud.computes[2]!;
    const [rp] = await cloud.session.placement.listProviders({ name: small });
    const inv = await cloud.session.placement.getInventories(rp!.uuid);
    const ram = inv['MEMORY_MB']!;
    if ((ram.total - ram.reserved) * ram.allocationRatio >= 16384) {
      const msg = `${small} is not small (start the lab with LAB_RAM_${small.replace(/-/g, '_')}=8192)`;
      if (process.env['CI']) throw new Error(msg);
      console.log(`    SKIPPED: ${msg}`);
      this.skip();
    }
    const src = cloud.computes[0]!;
    const id = await boot('hm-lab-big', src, 'm1.large');
    const r = await hostmaint(['drain', src, '--os-cloud', 'lab', '--yes', '-f', 'json', '--state-dir', stateDir, '--target', small], env);
    assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
    const result = r.json<{ plan: Array<{ name: string; fits: boolean; reason: string | null }> }>();
    const big = result.plan.find((p) => p.name === 'hm-lab-big');
    assert.equal(big?.fits, false);
    assert.match(big?.reason ?? '', /16384/);
    const s = await cloud.session.compute.getServer(id);
    assert.equal(s.host, src);
    assert.equal(s.status, 'ACTIVE');
    const [svc] = await cloud.session.compute.listServices({ host: src, binary: 'nova-compute' });
    assert.equal(svc?.status, 'enabled');
    assert.equal(svc?.disabledReason, null);
    await cloud.deleteServer(id);
  });

  it('an unknown host: exit 2, and no service changed', async () => {
    const before = await cloud.session.compute.listServices({ binary: 'nova-compute' });
    const r = await hostmaint(['drain', 'compute-0', '--os-cloud', 'lab', '--yes', '--state-dir', stateDir], env);
    assert.equal(r.code, 2, `${r.stdout}\n${r.stderr}`);
    const after = await cloud.session.compute.listServices({ binary: 'nova-compute' });
    assert.deepEqual(after.map((s) => [s.host, s.status, s.disabledReason]), before.map((s) => [s.host, s.status, s.disabledReason]));
  });

  it("targets are reached at Nova's host_ip; a probe port nothing answers on refuses (exit 3) naming each target and check, and changes nothing; --allow-unreachable-targets drains", async () => {
    const src = cloud.computes[0]!;
    const others = cloud.computes.filter((h) => h !== src);
    const id = await boot('hm-lab-reach', src, 'm1.tiny');
    const plan = await hostmaint(['plan', src, '--os-cloud', 'lab', '-f', 'json', '--state-dir', stateDir], env);
    assert.equal(plan.code, 0, `${plan.stdout}\n${plan.stderr}`);
    const targets = plan.json<{ preflight: { targets: Array<{ host: string; usable: boolean; address: string; reachedVia: string }> } }>().preflight.targets;
    const hypervisors = await cloud.session.compute.listHypervisors();
    for (const h of others) {
      const t = targets.find((x) => x.host === h);
      assert.deepEqual([t?.usable, t?.reachedVia, t?.address], [true, 'host_ip', hypervisors.find((v) => v.serviceHost === h)?.hostIp], `${h}: ${JSON.stringify(t)}`);
    }

    const closed = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    const before = await cloud.session.compute.listServices({ binary: 'nova-compute' });
    const refused = await hostmaint(['drain', src, '--os-cloud', 'lab', '--yes', '--state-dir', stateDir, '--probe-port', String(closed), '--probe-timeout', '500ms'], env);
    assert.equal(refused.code, 3, `${refused.stdout}\n${refused.stderr}`);
    for (const h of others) assert.match(refused.stdout + refused.stderr, new RegExp(`${h}: host_ip [0-9.]+: TCP port ${closed} does not answer within 500 ms`));
    assert.match(refused.stdout + refused.stderr, /\(override: --allow-unreachable-targets\)/);
    const after = await cloud.session.compute.listServices({ binary: 'nova-compute' });
    assert.deepEqual(after.map((s) => [s.host, s.status, s.disabledReason]), before.map((s) => [s.host, s.status, s.disabledReason]), 'no service changed');
    assert.equal((await cloud.session.compute.getServer(id)).host, src);

    const allowed = await hostmaint(['drain', src, '--os-cloud', 'lab', '--yes', '-f', 'json', '--state-dir', stateDir, '--probe-port', String(closed), '--probe-timeout', '500ms', '--allow-unreachable-targets', '--poll-interval', '1s'], env);
    assert.equal(allowed.code, 0, `${allowed.stdout}\n${allowed.stderr}`);
    assert.notEqual((await cloud.session.compute.getServer(id)).host, src);
    const back = await hostmaint(['undrain', src, '--os-cloud', 'lab', '--yes', '--state-dir', stateDir], env);
    assert.equal(back.code, 0, `${back.stdout}\n${back.stderr}`);
  });
});
