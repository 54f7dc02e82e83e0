import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HostmaintError, HttpError } from '../../../src/core/errors.js';
import { memoryLogger } from '../../../src/core/log.js';
import { resolveCloud } from '../../../src/config/index.js';
import { HttpTransport } from '../../../src/openstack/http.js';
import { connect } from '../../../src/openstack/session.js';
import { hasOpenssl, makeCerts, startFakeCloud, startServer, virtualClock, type FakeCloud, type TestCerts, type TestServer } from './fake-cloud.js';

describe('http: TLS', function () {
  let certs: TestCerts;
  let server: TestServer;

  before(function () {
    if (!hasOpenssl()) this.skip();
    certs = makeCerts();
  });
  after(() => {
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    server = await startServer(() => ({ body: { ok: true } }), { key: certs.key, cert: certs.cert });
  });
  afterEach(async () => {
    await server.close();
  });

  function get(opts: { cacert?: string; insecure?: boolean }) {
    const logger = memoryLogger();
    const t = new HttpTransport({ logger, clock: virtualClock(), ...opts });
    const c = t.client({ serviceType: 'compute', endpoint: server.url });
    return { logger, t, p: c.request({ method: 'GET', path: '/' }).finally(() => t.close()) };
  }

  it('verification is on by default: an untrusted certificate is a tls error with a hint', async () => {
    const { p } = get({});
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof HttpError);
      assert.equal(e.kind, 'tls');
      assert.match(e.message, /TLS verification failed for Nova GET https:\/\/127\.0\.0\.1:\d+\/?: the server's certificate is not signed by a trusted CA \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\)/);
      assert.match(e.hint ?? '', /--os-cacert/);
      assert.match(e.hint ?? '', /OS_CACERT/);
      assert.match(e.hint ?? '', /--insecure/);
      return true;
    });
    assert.equal(server.requests.length, 0, 'nothing reached the server');
  });

  it('works with the CA bundle as cacert', async () => {
    const { p } = get({ cacert: certs.caPath });
    assert.deepEqual((await p).data, { ok: true });
  });

  it('works with insecure, and warns that verification is off', async () => {
    const { p, logger } = get({ insecure: true });
    assert.deepEqual((await p).data, { ok: true });
    const warn = logger.records.find((r) => r.level === 'warn');
    assert.ok(warn);
    assert.match(warn.message, /TLS certificate verification is OFF/);
  });

  it('a missing or non-PEM cacert is a config error naming the file', () => {
    const missing = path.join(certs.dir, 'nope.pem');
    assert.throws(() => new HttpTransport({ logger: memoryLogger(), cacert: missing }), (e: unknown) => {
      assert.ok(e instanceof HostmaintError);
      assert.equal(e.kind, 'config');
      assert.ok(e.message.includes(missing));
      assert.match(e.message, /ENOENT/);
      return true;
    });
    const bad = path.join(certs.dir, 'bad.pem');
    writeFileSync(bad, 'hello');
    assert.throws(() => new HttpTransport({ logger: memoryLogger(), cacert: bad }), /contains no PEM certificate/);
  });

  describe('a whole session over https', () => {
    let cloud: FakeCloud;
    beforeEach(async () => {
      cloud = await startFakeCloud({ tls: { key: certs.key, cert: certs.cert } });
    });
    afterEach(async () => {
      await cloud.close();
    });
    const env = () => ({ OS_AUTH_URL: cloud.authUrl, OS_USERNAME: 'admin', OS_PASSWORD: cloud.opts.password, OS_PROJECT_NAME: 'admin' });

    it('default: tls error from Keystone, naming the auth URL', async () => {
      const c = resolveCloud({}, env(), { cwd: certs.dir, home: certs.dir, systemDir: certs.dir });
      await assert.rejects(connect(c, { logger: memoryLogger() }), (e: unknown) => {
        assert.ok(e instanceof HttpError);
        assert.equal(e.kind, 'tls');
        assert.ok(e.message.startsWith(`TLS verification failed for Keystone at ${cloud.authUrl}`), e.message);
        assert.ok(!JSON.stringify(e).includes(cloud.opts.password));
        return true;
      });
    });

    it('OS_CACERT: connects', async () => {
      const c = resolveCloud({}, { ...env(), OS_CACERT: certs.caPath }, { cwd: certs.dir, home: certs.dir, systemDir: certs.dir });
      const s = await connect(c, { logger: memoryLogger() });
      assert.equal(s.compute.microversion, '2.93');
      await s.close();
    });

    it('--insecure: connects and the session warns', async () => {
      const c = resolveCloud({ insecure: true }, env(), { cwd: certs.dir, home: certs.dir, systemDir: certs.dir });
      const logger = memoryLogger();
      const s = await connect(c, { logger });
      assert.equal(s.placement.microversion, '1.39');
      assert.ok(logger.records.some((r) => r.level === 'warn' && /verification is OFF/.test(r.message)));
      await s.close();
    });
  });
});
