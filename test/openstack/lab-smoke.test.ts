/**
 * Smoke test of the real OpenStack lab (test/lab/start.sh): Keystone auth,
 * catalog, compute microversion negotiation, all computes up, hypervisors —
 * and proof that the "all computes up" check goes red when one compute dies.
 *
 * Skips when no lab is running, except under CI (CI must always run it).
 */
import assert from 'node:assert/strict';
import {
  acquireLabLock,
  assertComputesUp,
  findEndpoint,
  labCompute,
  labGet,
  labToken,
  requireLab,
  type LabComputeService,
  type LabInfo,
  type LabSession,
} from './lab.js';
import { qemuLab } from './guests.js';

const MAX_MICROVERSION = '2.93';

function parseMv(v: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new Error(`bad microversion ${v}`);
  return [Number(m[1]), Number(m[2])];
}
function mvCmp(a: string, b: string): number {
  const [a1, a2] = parseMv(a);
  const [b1, b2] = parseMv(b);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('OpenStack lab smoke', function () {
  let lab: LabInfo;
  let session: LabSession;
  let nova = '';
  let microversion = '';
  let releaseLock: (() => void) | undefined;

  before(async function () {
    this.timeout(20 * 60_000);
    lab = requireLab(this);
    // the last test kills a compute: don't interleave with other suites that change the lab
    releaseLock = await acquireLabLock('lab-smoke');
    session = await labToken(lab);
    nova = findEndpoint(session, 'compute');
    microversion = await negotiate();
  });

  /** GET / of the compute endpoint: the highest microversion of v2.1 that is <= MAX_MICROVERSION. */
  async function negotiate(): Promise<string> {
    const root = new URL(nova);
    root.pathname = '/';
    const r = await labGet<{ versions: { id: string; status: string; version: string; min_version: string }[] }>(
      session,
      root.toString(),
    );
    assert.equal(r.status, 200, `GET ${root.toString()}: HTTP ${r.status}`);
    const v21 = r.data.versions.find((v) => v.id === 'v2.1');
    assert.ok(v21, 'v2.1 in the version document');
    assert.ok(v21.version && v21.min_version, 'v2.1 advertises microversions');
    assert.ok(mvCmp(v21.min_version, MAX_MICROVERSION) <= 0, `min ${v21.min_version} above ${MAX_MICROVERSION}`);
    return mvCmp(v21.version, MAX_MICROVERSION) <= 0 ? v21.version : MAX_MICROVERSION;
  }

  after(function () {
    releaseLock?.();
  });

  async function computeServices(): Promise<LabComputeService[]> {
    const r = await labGet<{ services: LabComputeService[] }>(session, `${nova}/os-services?binary=nova-compute`, {
      'OpenStack-API-Version': `compute ${microversion}`,
    });
    assert.equal(r.status, 200, `GET /os-services: HTTP ${r.status}`);
    return r.data.services;
  }

  it('authenticates with Keystone v3 password and gets a catalog', function () {
    assert.ok(session.token.length > 20, 'token');
    assert.ok(session.projectId, 'project-scoped token');
    assert.ok(session.catalog.length >= 5, `catalog has ${session.catalog.length} services`);
  });

  it('finds the compute endpoint in the catalog', function () {
    nova = findEndpoint(session, 'compute', 'public', lab.regionName);
    assert.match(nova, /^http:\/\/127\.0\.0\.1:8774\/v2\.1$/);
  });

  it(`negotiates the compute microversion (highest <= ${MAX_MICROVERSION})`, async function () {
    microversion = await negotiate();
    assert.equal(microversion, '2.93', 'Zed serves 2.93');
    const check = await labGet(session, `${nova}/os-services`, { 'OpenStack-API-Version': `compute ${microversion}` });
    assert.equal(check.status, 200);
    assert.equal(check.headers['openstack-api-version'], `compute ${microversion}`);
  });

  it('lists every lab compute as nova-compute, up and enabled', async function () {
    const services = await computeServices();
    for (const host of lab.computes) {
      assert.ok(
        services.some((s) => s.host === host),
        `${host} missing from ${services.map((s) => s.host).join(', ')}`,
      );
    }
    assertComputesUp(services, lab.computes);
    assert.deepEqual(lab.computes.slice(0, 3), ['compute-01', 'compute-02', 'compute-03']);
  });

  it('shows one hypervisor per compute: fake ones for compute-NN, QEMU ones for the libvirt computes', async function () {
    const r = await labGet<{ hypervisors: { hypervisor_hostname: string; hypervisor_type: string; state: string; status: string }[] }>(
      session,
      `${nova}/os-hypervisors/detail`,
      { 'OpenStack-API-Version': `compute ${microversion}` },
    );
    assert.equal(r.status, 200);
    const qemu = qemuLab(lab)?.hosts ?? [];
    const names = r.data.hypervisors.map((h) => h.hypervisor_hostname).sort();
    assert.deepEqual(names, [...lab.computes, ...qemu].sort());
    for (const h of r.data.hypervisors) {
      assert.equal(h.hypervisor_type, qemu.includes(h.hypervisor_hostname) ? 'QEMU' : 'fake', h.hypervisor_hostname);
    }
  });

  it('goes red when a compute is down, and back to green after restarting it', async function () {
    this.timeout(180_000);
    const victim = lab.computes[lab.computes.length - 1] ?? 'compute-03';
    const t0 = Date.now();
    // down after service_down_time (20 s in the lab) since the last heartbeat
    const deadline = t0 + 60_000;
    let stopped = false;
    try {
      await labCompute('stop', victim);
      stopped = true;
      let state = 'up';
      while (Date.now() < deadline) {
        const s = (await computeServices()).find((x) => x.host === victim);
        state = s?.state ?? 'missing';
        if (state === 'down') break;
        await sleep(1000);
      }
      assert.equal(state, 'down', `${victim} still "${state}" ${Math.round((Date.now() - t0) / 1000)} s after kill`);
      const downAfter = (Date.now() - t0) / 1000;
      const services = await computeServices();
      assert.throws(
        () => assertComputesUp(services, lab.computes),
        (err: Error) => err.message.includes(victim) && err.message.includes('state down'),
        'the all-computes-up check must fail and name the dead compute',
      );
      assert.doesNotThrow(() => assertComputesUp(services, lab.computes.filter((h) => h !== victim)));
      console.log(`      ${victim} reported down ${downAfter.toFixed(1)} s after being stopped`);
    } finally {
      if (stopped) {
        const t1 = Date.now();
        await labCompute('start', victim);
        console.log(`      ${victim} up again ${((Date.now() - t1) / 1000).toFixed(1)} s after restart`);
      }
    }
    assertComputesUp(await computeServices(), lab.computes);
    const total = (Date.now() - t0) / 1000;
    assert.ok(total < 90, `down/up cycle took ${total.toFixed(1)} s (budget 90 s)`);
  });
});
