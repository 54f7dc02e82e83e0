import assert from 'node:assert/strict';
import { HostmaintError } from '../../../src/core/errors.js';
import { memoryLogger } from '../../../src/core/log.js';
import { HttpTransport, chooseMicroversion, negotiateMicroversion, parseVersionDocument } from '../../../src/openstack/http.js';
import { startServer, virtualClock, type Reply, type TestServer } from './fake-cloud.js';

const NOVA_VERSION = { version: { id: 'v2.1', status: 'CURRENT', version: '2.93', min_version: '2.1', updated: '2013-07-23T11:33:21Z', links: [] } };
const PLACEMENT_ROOT = { versions: [{ id: 'v1.0', max_version: '1.39', min_version: '1.0', status: 'CURRENT', links: [] }] };
const NOVA_ROOT = {
  versions: [
    { id: 'v2.0', status: 'SUPPORTED', version: '', min_version: '' },
    { id: 'v2.1', status: 'CURRENT', version: '2.79', min_version: '2.1' },
  ],
};

describe('http: microversion negotiation', () => {
  describe('parseVersionDocument', () => {
    it('reads Nova, Placement and root version lists', () => {
      assert.deepEqual(parseVersionDocument(NOVA_VERSION), { min: '2.1', max: '2.93' });
      assert.deepEqual(parseVersionDocument(PLACEMENT_ROOT), { min: '1.0', max: '1.39' });
      assert.deepEqual(parseVersionDocument(NOVA_ROOT), { min: '2.1', max: '2.79' });
      assert.equal(parseVersionDocument({ version: { id: 'v2.0', version: '', min_version: '' } }), null);
      assert.equal(parseVersionDocument('<html>'), null);
      assert.equal(parseVersionDocument(null), null);
    });
  });

  describe('chooseMicroversion', () => {
    const code = { min: '2.1', max: '2.93' };
    it('the highest both support, never above the code max', () => {
      assert.equal(chooseMicroversion('compute', { min: '2.1', max: '2.93' }, code), '2.93');
      assert.equal(chooseMicroversion('compute', { min: '2.1', max: '2.60' }, code), '2.60');
      assert.equal(chooseMicroversion('compute', { min: '2.1', max: '2.100' }, code), '2.93', '2.100 > 2.93 numerically');
      assert.equal(chooseMicroversion('placement', { min: '1.0', max: '1.36' }, { min: '1.0', max: '1.39' }), '1.36');
    });
    it('too old a cloud: not-acceptable naming both ranges', () => {
      try {
        chooseMicroversion('compute', { min: '2.1', max: '2.50' }, { min: '2.60', max: '2.93' });
        assert.fail('should throw');
      } catch (e) {
        assert.ok(e instanceof HostmaintError);
        assert.equal(e.kind, 'not-acceptable');
        assert.match(e.message, /supports microversions 2\.1 to 2\.50, and hostmaint speaks 2\.60 to 2\.93: the cloud is too old \(hostmaint needs at least 2\.60\)/);
        assert.deepEqual(e.details, { service: 'compute', serverMin: '2.1', serverMax: '2.50', codeMin: '2.60', codeMax: '2.93' });
      }
    });
    it('too new a cloud (min above our max)', () => {
      assert.throws(() => chooseMicroversion('compute', { min: '2.95', max: '2.100' }, code), /no longer accepts any microversion hostmaint knows/);
    });
  });

  describe('negotiateMicroversion over HTTP', () => {
    let server: TestServer;
    let transport: HttpTransport;
    const project = '0123456789abcdef0123456789abcdef';
    async function setup(route: (path: string) => Reply) {
      server = await startServer((r) => route(r.path));
      transport = new HttpTransport({ logger: memoryLogger(), clock: virtualClock() });
    }
    afterEach(async () => {
      transport.close();
      await server.close();
    });

    it('GETs the compute endpoint itself (with a project id in it)', async () => {
      await setup((p) => (p === `/v2.1/${project}` ? { body: { ...NOVA_VERSION, version: { ...NOVA_VERSION.version, version: '2.90' } } } : { status: 404 }));
      const r = await negotiateMicroversion(transport, { serviceType: 'compute', endpoint: `${server.url}/v2.1/${project}`, code: { min: '2.1', max: '2.93' } });
      assert.deepEqual(r, { microversion: '2.90', server: { min: '2.1', max: '2.90' } });
      assert.deepEqual(server.requests.map((q) => q.path), [`/v2.1/${project}`]);
      assert.equal(server.requests[0]?.headers['openstack-api-version'], undefined, 'discovery sends no microversion');
    });

    it('falls back to the unversioned parent and the root version list', async () => {
      await setup((p) => (p === '/' ? { body: NOVA_ROOT } : { status: 404, body: { itemNotFound: { message: 'nope' } } }));
      const r = await negotiateMicroversion(transport, { serviceType: 'compute', endpoint: `${server.url}/v2.1/${project}`, code: { min: '2.1', max: '2.93' }, projectId: project });
      assert.equal(r.microversion, '2.79');
      assert.deepEqual(server.requests.map((q) => q.path), [`/v2.1/${project}`, '/v2.1', '/']);
    });

    it('placement root: highest common', async () => {
      await setup(() => ({ body: PLACEMENT_ROOT }));
      const r = await negotiateMicroversion(transport, { serviceType: 'placement', endpoint: `${server.url}/placement`, code: { min: '1.0', max: '1.36' } });
      assert.equal(r.microversion, '1.36');
    });

    it('a too-old cloud is refused with both ranges', async () => {
      await setup(() => ({ body: { version: { version: '2.38', min_version: '2.1' } } }));
      await assert.rejects(
        negotiateMicroversion(transport, { serviceType: 'compute', endpoint: `${server.url}/v2.1`, code: { min: '2.53', max: '2.93' } }),
        (e: unknown) => e instanceof HostmaintError && e.kind === 'not-acceptable' && /2\.1 to 2\.38.*2\.53 to 2\.93/.test(e.message),
      );
    });

    it('no version document anywhere: not-acceptable naming what was tried', async () => {
      await setup(() => ({ status: 404 }));
      await assert.rejects(
        negotiateMicroversion(transport, { serviceType: 'placement', endpoint: `${server.url}/placement`, code: { min: '1.0', max: '1.39' } }),
        (e: unknown) => e instanceof HostmaintError && e.kind === 'not-acceptable' && /advertises no microversions/.test(e.message),
      );
    });

    it('other failures (auth, network) pass through', async () => {
      await setup(() => ({ status: 500 }));
      await assert.rejects(
        negotiateMicroversion(transport, { serviceType: 'compute', endpoint: `${server.url}/v2.1`, code: { min: '2.1', max: '2.93' } }),
        (e: unknown) => e instanceof HostmaintError && e.kind === 'server-error',
      );
    });
  });
});
