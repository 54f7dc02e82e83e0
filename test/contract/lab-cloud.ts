/**
 * CloudUnderTest for the real OpenStack lab (test/lab/start.sh).
 * The session is hostmaint's own compute and placement clients over a minimal
 * lab ServiceClient (test/support/lab-service-client.ts); setup is plain REST.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveCloud } from '../../src/config/index.js';
import { isHttpError } from '../../src/core/errors.js';
import { connect } from '../../src/openstack/session.js';
import { nullLogger, type Logger } from '../../src/core/log.js';
import type { CloudSession } from '../../src/openstack/api.js';
import { COMPUTE_MAX_MICROVERSION, createComputeClient } from '../../src/openstack/compute/index.js';
import { PLACEMENT_MAX_MICROVERSION, createPlacementClient } from '../../src/openstack/placement/index.js';
import type { Server } from '../../src/openstack/types.js';
import { findEndpoint, readLabEnv, type LabInfo } from '../openstack/lab.js';
import { LabServiceClient, LabTokens, negotiateLab, type RecordedExchange } from '../support/lab-service-client.js';
import type { BootOptions, CloudUnderTest } from './cloud-under-test.js';

export interface LabCloudOptions {
  logger?: Logger;
  /** Cap the compute microversion (e.g. record or test an older shape). */
  computeMicroversion?: string;
  placementMicroversion?: string;
  recorder?: (x: RecordedExchange) => void;
  imageName?: string;
  secondProject?: string;
}

export async function createLabCloud(lab: LabInfo, opts: LabCloudOptions = {}): Promise<CloudUnderTest> {
  const logger = opts.logger ?? nullLogger;
  const tokens = new LabTokens(lab);
  const session0 = await tokens.session();
  const nova = await negotiateLab(tokens, 'compute', opts.computeMicroversion ?? COMPUTE_MAX_MICROVERSION);
  const placement = await negotiateLab(tokens, 'placement', opts.placementMicroversion ?? PLACEMENT_MAX_MICROVERSION);
  const computeClient = new LabServiceClient(tokens, { serviceType: 'compute', endpoint: nova.endpoint, microversion: nova.microversion, recorder: opts.recorder });
  const placementClient = new LabServiceClient(tokens, { serviceType: 'placement', endpoint: placement.endpoint, microversion: placement.microversion, recorder: opts.recorder });
  const imageClient = new LabServiceClient(tokens, { serviceType: 'image', endpoint: findEndpoint(session0, 'image'), microversion: null });
  // Setup always speaks 2.93-era REST (networks "none" needs 2.37, locked_reason 2.73) whatever the clients under test negotiated.
  const setup = new LabServiceClient(tokens, { serviceType: 'compute', endpoint: nova.endpoint, microversion: COMPUTE_MAX_MICROVERSION });
  const secondProject = opts.secondProject ?? readSecondProject();
  const projects = [lab.projectName, secondProject];
  const perProject = new Map<string, LabServiceClient>([[lab.projectName, setup]]);
  const clientFor = (project?: string): LabServiceClient => {
    const name = project ?? lab.projectName;
    let c = perProject.get(name);
    if (!c) {
      c = new LabServiceClient(tokens, { serviceType: 'compute', endpoint: nova.endpoint, microversion: COMPUTE_MAX_MICROVERSION, projectName: name });
      perProject.set(name, c);
    }
    return c;
  };

  // The session under test: hostmaint's real connect() (clouds.yaml of the lab), unless a
  // microversion cap is asked for (to run older branches against the real Nova), which
  // connect() does not offer: then the same clients over the minimal lab ServiceClient.
  let session: CloudSession;
  if (opts.computeMicroversion === undefined && opts.placementMicroversion === undefined && opts.recorder === undefined) {
    const cloud = resolveCloud({ osCloud: 'lab' }, { ...process.env, OS_CLIENT_CONFIG_FILE: lab.cloudsYaml, OS_CLOUD: 'lab' });
    session = await connect(cloud, { logger });
  } else {
    const compute = createComputeClient(computeClient, logger);
    const placementApi = createPlacementClient(placementClient, logger);
    session = {
      cloudName: 'lab',
      compute,
      placement: placementApi,
      identity: { userName: lab.username, userId: '', projectName: lab.projectName, projectId: session0.projectId, roles: ['admin'], authUrl: lab.authUrl, regionName: lab.regionName },
      requestCount: () => ({ compute: computeClient.requestCount, placement: placementClient.requestCount }),
      close: async () => undefined,
    };
  }
  const compute = session.compute;

  let imageId: string | null = null;
  const image = async (): Promise<string> => {
    if (imageId) return imageId;
    const name = opts.imageName ?? process.env['LAB_IMAGE_NAME'] ?? 'cirros-tiny';
    const r = await imageClient.request<{ images: Array<{ id: string; status: string }> }>({ method: 'GET', path: '/v2/images', query: { name } });
    const img = r.data.images.find((i) => i.status === 'active');
    if (!img) throw new Error(`lab: no active image named ${name}`);
    return (imageId = img.id);
  };
  const flavors = new Map<string, string>();
  const flavorId = async (name: string): Promise<string> => {
    const known = flavors.get(name);
    if (known) return known;
    const r = await setup.request<{ flavors: Array<{ id: string; name: string }> }>({ method: 'GET', path: '/flavors/detail', query: { is_public: 'None' } });
    for (const f of r.data.flavors) flavors.set(f.name, f.id);
    const id = flavors.get(name);
    if (!id) throw new Error(`lab: no flavor named ${name}`);
    return id;
  };

  const waitForServer = async (id: string, pred: (s: Server) => boolean, timeoutMs: number): Promise<Server> => {
    const deadline = Date.now() + timeoutMs;
    let last: Server | null = null;
    for (;;) {
      last = await compute.getServer(id);
      if (pred(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(`server ${id} did not reach the expected state in ${timeoutMs} ms: status ${last.status}, vm_state ${last.vmState}, task_state ${last.taskState}, host ${last.host}${last.fault ? `, fault ${last.fault.message}` : ''}`);
      }
      await sleep(500);
    }
  };
  const act = (id: string, body: unknown) => setup.request({ method: 'POST', path: `/servers/${id}/action`, body });

  return {
    name: 'lab',
    session,
    admin: computeClient,
    placementAdmin: placementClient,
    computes: [...lab.computes],
    projects,
    async bootServer(o: BootOptions): Promise<string> {
      const client = clientFor(o.project);
      const r = await client.request<{ server: { id: string } }>({
        method: 'POST',
        path: '/servers',
        body: {
          server: { name: o.name, imageRef: await image(), flavorRef: await flavorId(o.flavor), networks: 'none', availability_zone: `nova:${o.host}`, ...(o.metadata ? { metadata: o.metadata } : {}) },
          ...(o.group ? { 'os:scheduler_hints': { group: o.group } } : {}),
        },
      });
      const id = r.data.server.id;
      try {
        const s = await waitForServer(id, (x) => x.status === 'ACTIVE' || x.status === 'ERROR', 120_000);
        if (s.status !== 'ACTIVE') throw new Error(`server ${o.name} (${id}) went to ${s.status}: ${s.fault?.message ?? 'no fault'}`);
      } catch (e) {
        // The caller never learns the id of a server that failed to boot: clean it up here.
        await setup.request({ method: 'DELETE', path: `/servers/${id}` }).catch(() => undefined);
        throw e;
      }
      return id;
    },
    async deleteServer(id: string): Promise<void> {
      try {
        await act(id, { unlock: null }).catch(() => undefined);
        await setup.request({ method: 'DELETE', path: `/servers/${id}` });
      } catch (e) {
        if (isHttpError(e, 'not-found')) return;
        throw e;
      }
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        try {
          await setup.request({ method: 'GET', path: `/servers/${id}` });
        } catch (e) {
          if (isHttpError(e, 'not-found')) return;
          throw e;
        }
        await sleep(500);
      }
      throw new Error(`server ${id} was not deleted within 120 s`);
    },
    async stopServer(id: string): Promise<void> {
      await act(id, { 'os-stop': null });
      await waitForServer(id, (s) => s.status === 'SHUTOFF' && s.taskState === null, 60_000);
    },
    async pauseServer(id: string): Promise<void> {
      await act(id, { pause: null });
      await waitForServer(id, (s) => s.status === 'PAUSED' && s.taskState === null, 60_000);
    },
    async lockServer(id: string): Promise<void> {
      await act(id, { lock: { locked_reason: 'hostmaint contract test' } });
      // `locked` is shown from 2.9 only: check through the setup client (2.93), whatever the session speaks.
      const deadline = Date.now() + 30_000;
      while (!(await setup.request<{ server: { locked?: boolean } }>({ method: 'GET', path: `/servers/${id}` })).data.server.locked) {
        if (Date.now() > deadline) throw new Error(`server ${id} did not become locked`);
        await sleep(300);
      }
    },
    waitForServer,
    close: () => session.close(),
  };
}

function readSecondProject(): string {
  return readLabEnv()?.['LAB_PROJECT2'] ?? process.env['LAB_PROJECT2'] ?? 'demo2';
}

/** Before a suite that drains: every compute enabled (a previous suite may have left one disabled). */
export async function enableAllComputes(cloud: CloudUnderTest): Promise<void> {
  for (const host of cloud.computes) {
    const [svc] = await cloud.session.compute.listServices({ host, binary: 'nova-compute' });
    if (!svc) throw new Error(`no nova-compute on ${host}`);
    if (svc.status === 'disabled') await cloud.session.compute.enableService(svc);
  }
}

/** After it: delete what it booted and re-enable what hostmaint disabled (never someone else's disable). */
export async function cleanUpAfterDrains(cloud: CloudUnderTest, serverIds: string[]): Promise<void> {
  for (const id of serverIds) await cloud.deleteServer(id).catch(() => undefined);
  for (const host of cloud.computes) {
    const [svc] = await cloud.session.compute.listServices({ host, binary: 'nova-compute' });
    if (svc && svc.status === 'disabled' && (svc.disabledReason ?? '').startsWith('hostmaint:')) await cloud.session.compute.enableService(svc);
  }
}
