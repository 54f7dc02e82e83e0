import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { resolveCloud, type ResolvedCloud } from '../../../src/config/index.js';
import { HostmaintError } from '../../../src/core/errors.js';
import { memoryLogger, type MemoryLogger } from '../../../src/core/log.js';
import { connect } from '../../../src/openstack/session.js';
import { startFakeCloud, virtualClock, type FakeCloud, type FakeCloudOptions } from '../http/fake-cloud.js';

const PASSWORD = 'S3ss10n-Pa55word-Q7';
const NOWHERE = { cwd: '/nonexistent', home: '/nonexistent', systemDir: '/nonexistent' };

async function caught(p: Promise<unknown>): Promise<HostmaintError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HostmaintError, inspect(e));
    return e;
  }
  assert.fail('expected a failure');
}

function assertNowhere(secrets: string[], logger: MemoryLogger, errors: unknown[]): void {
  const texts = [logger.text()];
  for (const e of errors) texts.push(JSON.stringify(e), String(e), (e as Error).stack ?? '', inspect(e, { depth: 10 }));
  for (const s of secrets) {
    for (const t of texts) assert.ok(!t.includes(s), `secret ${s.slice(0, 6)}… found in: ${t.slice(0, 300)}`);
  }
}

describe('session: connect()', () => {
  let cloud: FakeCloud;
  let logger: MemoryLogger;

  async function start(opts: FakeCloudOptions = {}) {
    cloud = await startFakeCloud({ password: PASSWORD, ...opts });
    logger = memoryLogger();
  }
  afterEach(async () => {
    await cloud?.close();
  });
  const env = (extra: Record<string, string> = {}) => ({ OS_AUTH_URL: cloud.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: PASSWORD, OS_PROJECT_NAME: 'admin', ...extra });
  const cloudFrom = (extra: Record<string, string> = {}): ResolvedCloud => resolveCloud({}, env(extra), NOWHERE);

  it('authenticates, finds endpoints, negotiates microversions, exposes identity (never the token)', async () => {
    await start();
    const s = await connect(cloudFrom({ OS_REGION_NAME: 'RegionOne' }), { logger, clock: virtualClock() });
    try {
      assert.equal(s.cloudName, 'environment');
      assert.equal(s.compute.microversion, '2.93');
      assert.equal(s.placement.microversion, '1.39');
      assert.deepEqual(s.identity, {
        userName: 'admin',
        userId: 'u-1',
        projectName: 'admin',
        projectId: cloud.opts.projectId,
        roles: ['admin', 'member', 'reader'],
        authUrl: cloud.authUrl,
        regionName: 'RegionOne',
      });
      assert.deepEqual(s.endpoints, { identity: cloud.authUrl, compute: `${cloud.url}/compute/v2.1`, placement: `${cloud.url}/placement` });
      assert.deepEqual(s.requestCount(), { identity: 1, compute: 1, placement: 1 });
      const services = await s.compute.listServices({ binary: 'nova-compute' });
      assert.equal(services[0]?.host, 'compute-01');
      const call = cloud.requests.find((r) => r.path === '/compute/v2.1/os-services');
      assert.equal(call?.headers['openstack-api-version'], 'compute 2.93');
      assert.equal(call?.headers['x-openstack-nova-api-version'], '2.93');
      assert.deepEqual(s.requestCount(), { identity: 1, compute: 2, placement: 1 });
      const token = cloud.issued[0] as string;
      assert.ok(!JSON.stringify(s.identity).includes(token));
      assert.ok(!inspect(s, { depth: 6 }).includes(token));
      assert.ok(logger.records.some((r) => r.level === 'info' && r.message === "connected to cloud 'environment'"));
    } finally {
      await s.close();
    }
  });

  it('internal interface and a compute endpoint with the project id in it', async () => {
    await start({ computeWithProject: true });
    const s = await connect(cloudFrom({ OS_INTERFACE: 'internal' }), { logger });
    assert.equal(s.endpoints.compute, `${cloud.url}/compute/v2.1/${cloud.opts.projectId}`);
    assert.equal(s.compute.microversion, '2.93');
    await s.close();
  });

  it('caps at hostmaint max and takes the cloud max when lower', async () => {
    await start({ compute: { min: '2.1', max: '2.100' }, placement: { min: '1.0', max: '1.36' } });
    const s = await connect(cloudFrom(), { logger });
    assert.equal(s.compute.microversion, '2.93');
    assert.equal(s.placement.microversion, '1.36');
    assert.deepEqual(s.serverVersions, { compute: { min: '2.1', max: '2.100' }, placement: { min: '1.0', max: '1.36' } });
    await s.close();
    await cloud.close();
    await start({ compute: { min: '2.1', max: '2.60' } });
    const s2 = await connect(cloudFrom(), { logger });
    assert.equal(s2.compute.microversion, '2.60');
    await s2.close();
  });

  it('a cloud too old for hostmaint is refused naming both ranges', async () => {
    await start({ compute: { min: '2.0', max: '2.0' } });
    const e = await caught(connect(cloudFrom(), { logger }));
    assert.equal(e.kind, 'not-acceptable');
    assert.match(e.message, /compute API supports microversions 2\.0 to 2\.0, and hostmaint speaks 2\.1 to 2\.93/);
  });

  it('401 mid-session: re-authenticates once (two token requests) and repeats the call', async () => {
    await start();
    const s = await connect(cloudFrom(), { logger });
    cloud.valid.clear(); // every token revoked, e.g. expired mid-drain
    const before = cloud.requests.length;
    const services = await s.compute.listServices({});
    assert.equal(services.length, 1);
    const after = cloud.requests.slice(before);
    assert.deepEqual(after.map((r) => `${r.method} ${r.path}`), ['GET /compute/v2.1/os-services', 'POST /identity/v3/auth/tokens', 'GET /compute/v2.1/os-services']);
    assert.equal(cloud.authRequests().length, 2);
    assert.equal(after[0]?.headers['x-auth-token'], cloud.issued[0]);
    assert.equal(after[2]?.headers['x-auth-token'], cloud.issued[1]);
    await s.close();
  });

  it('401 twice: auth error', async () => {
    await start({ intercept: (req) => (req.path === '/compute/v2.1/os-services' ? { status: 401, body: { error: { message: 'no' } } } : undefined) });
    const s = await connect(cloudFrom(), { logger });
    const e = await caught(s.compute.listServices({}));
    assert.equal(e.kind, 'auth');
    assert.equal(cloud.authRequests().length, 2);
    await s.close();
  });

  describe('bad configuration: each its own clear error, no password anywhere', () => {
    const cases: Array<{ name: string; cloud?: FakeCloudOptions; env?: Record<string, string>; kind: string; message: RegExp }> = [
      { name: 'wrong password', env: { OS_PASSWORD: 'Not-The-Password-1' }, kind: 'auth', message: /^The cloud rejected the credentials for user 'admin' in project 'admin' \(domain Default\)/ },
      { name: 'unknown project', env: { OS_PROJECT_NAME: 'ghost' }, kind: 'auth', message: /but not for project 'ghost' in domain Default/ },
      { name: 'wrong region', env: { OS_REGION_NAME: 'RegionTwo' }, kind: 'config', message: /^The catalog has no 'compute' endpoint for interface public in region RegionTwo \(regions with compute: RegionOne\)$/ },
      { name: 'catalog without compute', cloud: { omit: ['compute'] }, kind: 'config', message: /^The catalog has no 'compute' service \(services in the catalog: identity, image, placement\)$/ },
      { name: 'catalog without placement', cloud: { omit: ['placement'] }, kind: 'config', message: /no 'placement' service/ },
      { name: 'several regions, none chosen', cloud: { regions: ['RegionOne', 'RegionTwo'] }, kind: 'config', message: /several regions \(RegionOne, RegionTwo\)/ },
      { name: 'interface the catalog lacks', cloud: { interfaces: ['public'] }, env: { OS_INTERFACE: 'admin' }, kind: 'config', message: /interface admin .*interfaces it has: public/ },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        await start(c.cloud);
        const e = await caught(connect(cloudFrom(c.env), { logger }));
        assert.equal(e.kind, c.kind);
        assert.match(e.message, c.message);
        assertNowhere([PASSWORD, 'Not-The-Password-1', ...cloud.issued], logger, [e]);
      });
    }

    it('unreachable auth URL', async () => {
      await start();
      const port = cloud.port;
      await cloud.close();
      const c = resolveCloud({}, { ...env(), OS_AUTH_URL: `http://127.0.0.1:${port}/identity/v3` }, NOWHERE);
      const e = await caught(connect(c, { logger, clock: virtualClock() }));
      assert.equal(e.kind, 'network');
      assert.match(e.message, new RegExp(`^Cannot reach Keystone at http://127\\.0\\.0\\.1:${port}/identity/v3`));
      assertNowhere([PASSWORD], logger, [e]);
      cloud = await startFakeCloud();
    });

    it('malformed clouds.yaml', () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-session-'));
      try {
        writeFileSync(path.join(dir, 'clouds.yaml'), `clouds:\n  lab:\n    auth:\n      auth_url: [x]\n      password: ${PASSWORD}\n`);
        let e: unknown;
        try {
          resolveCloud({ osCloud: 'lab' }, {}, { cwd: dir, home: dir, systemDir: dir });
        } catch (err) {
          e = err;
        }
        assert.ok(e instanceof HostmaintError);
        assert.equal(e.kind, 'config');
        assert.match(e.message, /clouds\.lab\.auth\.auth_url must be a string \(got a list\)/);
        assertNowhere([PASSWORD], memoryLogger(), [e]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('redaction: a debug log through auth, requests, a re-auth and failing calls holds neither password nor token', async () => {
    await start();
    const s = await connect(cloudFrom(), { logger, clock: virtualClock() });
    await s.compute.listServices({});
    cloud.valid.clear();
    await s.compute.listServices({});
    const errors: unknown[] = [];
    for (const call of [() => s.compute.getServer('does-not-exist'), () => s.placement.getProvider('00000000-0000-0000-0000-000000000000')]) {
      try {
        await call();
      } catch (e) {
        errors.push(e);
      }
    }
    const [nova, placement] = errors as HostmaintError[];
    assert.equal(nova?.kind, 'not-found');
    assert.match(nova?.message ?? '', /Instance does-not-exist could not be found/);
    assert.equal(placement?.kind, 'not-found');
    const failedLogin = await caught(connect(cloudFrom({ OS_PASSWORD: `${PASSWORD}-wrong` }), { logger }));
    errors.push(failedLogin);
    assert.ok(logger.records.filter((r) => r.level === 'debug').length >= 8, 'debug lines were written');
    assert.ok(cloud.issued.length >= 2);
    assertNowhere([PASSWORD, `${PASSWORD}-wrong`, ...cloud.issued], logger, errors);
    assert.ok(logger.text().includes('[REDACTED]'), 'the auth body was logged, redacted');
    await s.close();
  });

  it('warns when the user has no admin role', async () => {
    await start({ roles: ['member'] });
    const s = await connect(cloudFrom(), { logger });
    assert.ok(logger.records.some((r) => r.level === 'warn' && /no admin role in the project \(roles: member\)/.test(r.message)));
    await s.close();
  });

  it('an aborted connect is interrupted', async () => {
    await start();
    const ac = new AbortController();
    ac.abort();
    const e = await caught(connect(cloudFrom(), { logger, signal: ac.signal }));
    assert.equal(e.kind, 'interrupted');
  });
});
