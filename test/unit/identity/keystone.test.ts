import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { resolveCloud, type ResolvedCloud } from '../../../src/config/index.js';
import { HostmaintError } from '../../../src/core/errors.js';
import { memoryLogger } from '../../../src/core/log.js';
import { HttpTransport } from '../../../src/openstack/http.js';
import { authenticate } from '../../../src/openstack/identity/index.js';
import { startFakeCloud, startServer, virtualClock, type FakeCloud } from '../http/fake-cloud.js';

const NOWHERE = { cwd: '/nonexistent', home: '/nonexistent', systemDir: '/nonexistent' };

function assertNoSecret(e: unknown, secrets: string[]): void {
  const texts = [String(e), JSON.stringify(e), inspect(e, { depth: 8 }), (e as Error).stack ?? ''];
  for (const s of secrets) for (const t of texts) assert.ok(!t.includes(s), `secret ${s} leaked in: ${t}`);
}

describe('identity: Keystone v3 authentication', () => {
  let cloud: FakeCloud;
  let transport: HttpTransport;
  const PW = 'Adm1n-Pa55-XyZ';

  beforeEach(async () => {
    cloud = await startFakeCloud({ password: PW, appCredSecret: 'ac-secret-XYZ' });
    transport = new HttpTransport({ logger: memoryLogger(), clock: virtualClock(), random: () => 0 });
  });
  afterEach(async () => {
    transport.close();
    await cloud.close();
  });

  const identity = () => transport.client({ serviceType: 'identity', endpoint: cloud.authUrl, tokens: null });
  const env = (extra: Record<string, string> = {}) => ({ OS_AUTH_URL: cloud.authUrl, ...extra });
  const auth = (c: ResolvedCloud) => authenticate(identity(), c);
  const fail = async (c: ResolvedCloud): Promise<HostmaintError> => {
    try {
      await auth(c);
    } catch (e) {
      assert.ok(e instanceof HostmaintError, inspect(e));
      return e;
    }
    assert.fail('expected failure');
  };

  describe('request bodies', () => {
    it('password: user by name + domain, project by name + domain', async () => {
      const c = resolveCloud({}, env({ OS_USERNAME: 'admin', OS_PASSWORD: PW, OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default' }), NOWHERE);
      const a = await auth(c);
      const req = cloud.authRequests()[0];
      assert.equal(req?.method, 'POST');
      assert.equal(req?.path, '/identity/v3/auth/tokens');
      assert.equal(req?.headers['x-auth-token'], undefined);
      assert.deepEqual(req?.body, {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: PW } } },
          scope: { project: { name: 'admin', domain: { name: 'Default' } } },
        },
      });
      assert.equal(a.token, cloud.issued[0]);
      assert.equal(a.user.name, 'admin');
      assert.equal(a.user.domainName, 'Default');
      assert.equal(a.project?.id, cloud.opts.projectId);
      assert.deepEqual(a.roles, ['admin', 'member', 'reader']);
      assert.deepEqual(a.methods, ['password']);
      assert.ok(a.expiresAt && a.issuedAt && a.expiresAt - a.issuedAt === 3_600_000);
      assert.deepEqual(a.catalog.map((s) => s.type), ['identity', 'compute', 'placement', 'image']);
      assert.ok(!JSON.stringify(a).includes(a.token), 'the token is not enumerable');
      assert.ok(!inspect(a).includes(a.token));
    });

    it('password: user by id and project by id, domain ids', async () => {
      const c = resolveCloud({}, env({ OS_USER_ID: 'u-1', OS_PASSWORD: PW, OS_PROJECT_ID: cloud.opts.projectId }), NOWHERE);
      await auth(c);
      assert.deepEqual(cloud.authRequests()[0]?.body, {
        auth: { identity: { methods: ['password'], password: { user: { id: 'u-1', password: PW } } }, scope: { project: { id: cloud.opts.projectId } } },
      });
      const c2 = resolveCloud({}, env({ OS_USERNAME: 'admin', OS_PASSWORD: PW, OS_PROJECT_NAME: 'admin', OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default' }), NOWHERE);
      await auth(c2);
      assert.deepEqual(cloud.authRequests()[1]?.body, {
        auth: {
          identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: PW } } },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      });
    });

    it('application credential by id: no scope sent', async () => {
      const c = resolveCloud({}, env({ OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_ID: 'ac-1', OS_APPLICATION_CREDENTIAL_SECRET: 'ac-secret-XYZ', OS_PROJECT_NAME: 'admin' }), NOWHERE);
      const a = await auth(c);
      assert.deepEqual(cloud.authRequests()[0]?.body, {
        auth: { identity: { methods: ['application_credential'], application_credential: { id: 'ac-1', secret: 'ac-secret-XYZ' } } },
      });
      assert.equal(a.project?.name, 'admin');
    });

    it('application credential by name + user', async () => {
      const c = resolveCloud({}, env({ OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_NAME: 'drain', OS_APPLICATION_CREDENTIAL_SECRET: 'ac-secret-XYZ', OS_USERNAME: 'admin', OS_USER_DOMAIN_NAME: 'Default' }), NOWHERE);
      await auth(c);
      assert.deepEqual(cloud.authRequests()[0]?.body, {
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: { name: 'drain', user: { name: 'admin', domain: { name: 'Default' } }, secret: 'ac-secret-XYZ' },
          },
        },
      });
    });

    it('token method, scoped to the project', async () => {
      const first = await auth(resolveCloud({}, env({ OS_USERNAME: 'admin', OS_PASSWORD: PW, OS_PROJECT_NAME: 'admin' }), NOWHERE));
      const c = resolveCloud({}, env({ OS_AUTH_TYPE: 'v3token', OS_TOKEN: first.token, OS_PROJECT_ID: cloud.opts.projectId }), NOWHERE);
      const a = await auth(c);
      assert.deepEqual(cloud.authRequests()[1]?.body, {
        auth: { identity: { methods: ['token'], token: { id: first.token } }, scope: { project: { id: cloud.opts.projectId } } },
      });
      assert.notEqual(a.token, first.token);
    });
  });

  describe('errors', () => {
    it('wrong password: auth kind, names user/project/domain, never the password', async () => {
      const wrong = 'Wr0ng-Passw0rd-123';
      const c = resolveCloud({}, env({ OS_USERNAME: 'admin', OS_PASSWORD: wrong, OS_PROJECT_NAME: 'admin' }), NOWHERE);
      const e = await fail(c);
      assert.equal(e.kind, 'auth');
      assert.ok(e.message.startsWith(`The cloud rejected the credentials for user 'admin' in project 'admin' (domain Default) at ${cloud.authUrl}`), e.message);
      assert.match(e.hint ?? '', /OS_PASSWORD/);
      assert.equal(e.details.reason, 'credentials');
      assertNoSecret(e, [wrong, PW]);
      assert.equal(cloud.authRequests().length, 2, 'scoped, then unscoped to tell credentials from project');
    });

    it('unknown project: its own message (credentials fine, project not)', async () => {
      const c = resolveCloud({}, env({ OS_USERNAME: 'admin', OS_PASSWORD: PW, OS_PROJECT_NAME: 'no-such-project' }), NOWHERE);
      const e = await fail(c);
      assert.equal(e.kind, 'auth');
      assert.match(e.message, /accepted the credentials of user 'admin' \(domain Default\) .* but not for project 'no-such-project' in domain Default: the project does not exist there, is disabled, or the user has no role on it/);
      assert.match(e.hint ?? '', /OS_PROJECT_NAME/);
      assert.equal(e.details.reason, 'scope');
      assertNoSecret(e, [PW]);
    });

    it('wrong application credential secret', async () => {
      const c = resolveCloud({}, env({ OS_APPLICATION_CREDENTIAL_ID: 'ac-1', OS_APPLICATION_CREDENTIAL_SECRET: 'bad-secret-999' }), NOWHERE);
      const e = await fail(c);
      assert.equal(e.kind, 'auth');
      assert.match(e.message, /rejected the credentials for application credential ac-1/);
      assertNoSecret(e, ['bad-secret-999']);
      assert.equal(cloud.authRequests().length, 1, 'no unscoped probe for application credentials');
    });

    it('unreachable auth URL: network kind naming the URL', async () => {
      const port = cloud.port;
      await cloud.close();
      const c = resolveCloud({}, { OS_AUTH_URL: `http://127.0.0.1:${port}/identity/v3`, OS_USERNAME: 'admin', OS_PASSWORD: PW, OS_PROJECT_NAME: 'admin' }, NOWHERE);
      const e = await fail(c);
      assert.equal(e.kind, 'network');
      assert.equal(e.message, `Cannot reach Keystone at http://127.0.0.1:${port}/identity/v3 (ECONNREFUSED, 3 attempts)`);
      assert.match(e.hint ?? '', /OS_AUTH_URL/);
      assertNoSecret(e, [PW]);
      cloud = await startFakeCloud();
    });

    it('not a Keystone: config kind', async () => {
      const other = await startServer(() => ({ status: 404, body: 'nothing here' }));
      try {
        const c = resolveCloud({}, { OS_AUTH_URL: `${other.url}/v3`, OS_USERNAME: 'admin', OS_PASSWORD: PW, OS_PROJECT_NAME: 'admin' }, NOWHERE);
        const t = new HttpTransport({ logger: memoryLogger() });
        try {
          await authenticate(t.client({ serviceType: 'identity', endpoint: c.authUrl }), c);
          assert.fail('should fail');
        } catch (e) {
          assert.ok(e instanceof HostmaintError);
          assert.equal(e.kind, 'config');
          assert.match(e.message, /There is no Keystone v3 API at http:\/\/127\.0\.0\.1:\d+\/v3 \(POST \/auth\/tokens answered 404\)/);
        } finally {
          t.close();
        }
      } finally {
        await other.close();
      }
    });

    it('a 201 without X-Subject-Token is a server error', async () => {
      const other = await startServer(() => ({ status: 201, body: { token: {} } }));
      const t = new HttpTransport({ logger: memoryLogger() });
      try {
        const c = resolveCloud({}, { OS_AUTH_URL: `${other.url}/v3`, OS_USERNAME: 'admin', OS_PASSWORD: PW, OS_PROJECT_NAME: 'admin' }, NOWHERE);
        await assert.rejects(authenticate(t.client({ serviceType: 'identity', endpoint: c.authUrl }), c), /without an X-Subject-Token header/);
      } finally {
        t.close();
        await other.close();
      }
    });
  });
});
