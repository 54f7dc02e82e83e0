/**
 * The shared compute and placement contracts (test/contract/, also run against
 * the real OpenStack lab by test/openstack/contract.test.ts) against the
 * emulated cloud. The session under test is hostmaint's real one
 * (src/openstack/session.ts connect()); setup speaks plain REST, as on the lab.
 *
 * The contract suites poll with real timers, so the emulator runs on a
 * scaledClock (5x real time) here rather than a VirtualClock.
 */
import { HttpError, type ErrorKind } from '../../src/core/errors.js';
import { nullLogger } from '../../src/core/log.js';
import { connect } from '../../src/openstack/session.js';
import type { ServiceClient, ServiceRequest, ServiceResponse } from '../../src/openstack/service-client.js';
import { compareMicroversions } from '../../src/openstack/service-client.js';
import type { Server } from '../../src/openstack/types.js';
import { scaledClock, startEmulator } from '../../src/emulator/index.js';
import type { Emulator, Scenario } from '../../src/emulator/index.js';
import type { BootOptions, CloudUnderTest } from '../contract/cloud-under-test.js';
import { defineComputeContract } from '../contract/compute-contract.js';
import { definePlacementContract } from '../contract/placement-contract.js';
import { token, emulatorCloud } from './helpers.js';

const SPEED = 5;

export const CONTRACT_SCENARIO: Scenario = {
  name: 'contract',
  migration: { schedule_ms: 200, preparing_ms: 1500, post_migrating_ms: 500, boot_ms: 500, action_ms: 300, delete_ms: 300, cold_migration_ms: 2000, confirm_ms: 500 },
  defaults: { host: { vcpus: 16, ram_mb: 32768, disk_gb: 1000 } },
  hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
  images: [{ name: 'cirros-tiny' }],
  projects: [{ name: 'demo2', users: [{ name: 'demo2-user', password: 'demo2-pw' }] }],
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kindOf(status: number): ErrorKind {
  if (status === 400) return 'bad-request';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 406) return 'not-acceptable';
  if (status === 409) return 'conflict';
  if (status === 503) return 'unavailable';
  return 'server-error';
}

/** A plain fetch ServiceClient for setup (compute, fixed microversion, one project). */
function restClient(emu: Emulator, tk: string, microversion: string): ServiceClient {
  const endpoint = `${emu.url}/compute/v2.1`;
  return {
    serviceType: 'compute',
    endpoint,
    microversion,
    atLeast: (v) => compareMicroversions(microversion, v) >= 0,
    async request<T = unknown>(req: ServiceRequest): Promise<ServiceResponse<T>> {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query ?? {})) {
        if (v === undefined) continue;
        for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x));
      }
      const url = `${endpoint}${req.path}${q.size > 0 ? `?${q}` : ''}`;
      const r = await fetch(url, {
        method: req.method,
        headers: { 'x-auth-token': tk, 'openstack-api-version': `compute ${req.microversion ?? microversion}`, ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      });
      const text = await r.text();
      const data = (text ? JSON.parse(text) : null) as T;
      const requestId = r.headers.get('x-openstack-request-id');
      if (r.status >= 400) {
        const fault = data && typeof data === 'object' ? (Object.values(data as object)[0] as { message?: string } | undefined)?.message : undefined;
        throw new HttpError(kindOf(r.status), `${req.method} ${req.path}: ${r.status} ${fault ?? ''}`, { status: r.status, method: req.method, url, service: 'compute', requestId: requestId ?? undefined, faultMessage: fault });
      }
      return { status: r.status, data, headers: Object.fromEntries(r.headers), requestId };
    },
  };
}

export async function createEmulatorCloud(emu: Emulator): Promise<CloudUnderTest> {
  const resolved = emulatorCloud(emu);
  const session = await connect(resolved, { logger: nullLogger, clock: emu.clock, timeoutMs: 10_000 });
  const adminToken = await token(emu);
  const admin = restClient(emu, adminToken, '2.93');
  const projects = [emu.credentials.projectName, 'demo2'];
  const perProject = new Map<string, ServiceClient>([[projects[0]!, admin]]);
  const clientFor = async (project?: string): Promise<ServiceClient> => {
    const name = project ?? projects[0]!;
    let c = perProject.get(name);
    if (!c) {
      c = restClient(emu, await token(emu, { project: name }), '2.93');
      perProject.set(name, c);
    }
    return c;
  };
  const images = (await (await fetch(`${emu.url}/image/v2/images?name=cirros-tiny`, { headers: { 'x-auth-token': adminToken } })).json()) as { images: Array<{ id: string }> };
  const imageId = images.images[0]!.id;

  const waitForServer = async (id: string, pred: (s: Server) => boolean, timeoutMs: number): Promise<Server> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = await session.compute.getServer(id);
      if (pred(last)) return last;
      if (Date.now() > deadline) throw new Error(`server ${id}: status ${last.status}, task ${last.taskState}, host ${last.host}`);
      await sleep(100);
    }
  };
  const act = (id: string, body: unknown) => admin.request({ method: 'POST', path: `/servers/${id}/action`, body });

  return {
    name: 'emulator',
    session,
    admin,
    computes: ['compute-01', 'compute-02', 'compute-03'],
    projects,
    async bootServer(o: BootOptions) {
      const c = await clientFor(o.project);
      const r = await c.request<{ server: { id: string } }>({
        method: 'POST',
        path: '/servers',
        body: { server: { name: o.name, imageRef: imageId, flavorRef: o.flavor, networks: 'none', availability_zone: `nova:${o.host}` } },
      });
      const s = await waitForServer(r.data.server.id, (x) => x.status === 'ACTIVE' || x.status === 'ERROR', 30_000);
      if (s.status !== 'ACTIVE') throw new Error(`boot ${o.name}: ${s.status}`);
      return s.id;
    },
    async deleteServer(id) {
      await act(id, { unlock: null }).catch(() => undefined);
      try {
        await admin.request({ method: 'DELETE', path: `/servers/${id}` });
      } catch (e) {
        if (e instanceof HttpError && e.status === 404) return;
        throw e;
      }
      for (let i = 0; i < 300; i++) {
        try {
          await admin.request({ method: 'GET', path: `/servers/${id}` });
        } catch (e) {
          if (e instanceof HttpError && e.status === 404) return;
          throw e;
        }
        await sleep(50);
      }
      throw new Error(`server ${id} not deleted`);
    },
    async stopServer(id) {
      await act(id, { 'os-stop': null });
      await waitForServer(id, (s) => s.status === 'SHUTOFF' && s.taskState === null, 30_000);
    },
    async pauseServer(id) {
      await act(id, { pause: null });
      await waitForServer(id, (s) => s.status === 'PAUSED' && s.taskState === null, 30_000);
    },
    async lockServer(id) {
      await act(id, { lock: { locked_reason: 'hostmaint contract test' } });
      await waitForServer(id, (s) => s.locked, 30_000);
    },
    waitForServer,
    close: () => session.close(),
  };
}

describe('contract: emulated cloud', function () {
  this.timeout(60_000);
  let emu: Emulator | null = null;
  let cloud: CloudUnderTest | null = null;

  before(async () => {
    emu = await startEmulator({ scenario: CONTRACT_SCENARIO, clock: scaledClock(SPEED) });
    cloud = await createEmulatorCloud(emu);
  });

  after(async () => {
    await cloud?.close?.();
    await emu?.stop();
  });

  const get = (): CloudUnderTest => {
    if (!cloud) throw new Error('no cloud');
    return cloud;
  };
  defineComputeContract(get);
  definePlacementContract(get);
});
