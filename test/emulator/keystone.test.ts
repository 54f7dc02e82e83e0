import assert from 'node:assert/strict';
import { startEmulator, VirtualClock } from '../../src/emulator/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { C, client, token } from './helpers.js';

const scenario = {
  name: 'ks',
  keystone: { token_lifetime_s: 600 },
  hosts: [{ name: 'compute-01' }],
  projects: [{ name: 'alpha', users: [{ name: 'alice', password: 'alice-pw' }] }],
  application_credentials: [{ id: 'ac-1', name: 'drain-bot', secret: 's3cret', user: 'admin' }],
};

async function auth(emu: Emulator, body: unknown) {
  const r = await fetch(`${emu.authUrl}/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, token: r.headers.get('x-subject-token'), body: (await r.json()) as any };
}

describe('emulator: keystone', () => {
  let emu: Emulator;
  let clock: VirtualClock;
  beforeEach(async () => {
    clock = new VirtualClock();
    emu = await startEmulator({ scenario, clock });
  });
  afterEach(() => emu.stop());

  it('serves the v3 version document', async () => {
    const r = await fetch(emu.authUrl);
    assert.equal(r.status, 200);
    const j = (await r.json()) as any;
    assert.equal(j.version.id, 'v3.14');
    const root = await fetch(emu.url + '/');
    assert.equal(root.status, 300);
  });

  it('password auth (names) returns a token with catalog, roles, project, expiry', async () => {
    const r = await auth(emu, {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: emu.credentials.password } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    });
    assert.equal(r.status, 201);
    assert.ok(r.token);
    const t = r.body.token;
    assert.deepEqual(t.methods, ['password']);
    assert.equal(t.project.name, 'admin');
    assert.ok(t.roles.some((x: any) => x.name === 'admin'));
    assert.equal(t.expires_at, new Date(clock.now() + 600_000).toISOString().replace('Z', '000Z'));
    const types = t.catalog.map((s: any) => s.type).sort();
    assert.deepEqual(types, ['compute', 'identity', 'image', 'placement']);
    const compute = t.catalog.find((s: any) => s.type === 'compute');
    assert.deepEqual(compute.endpoints.map((e: any) => e.interface).sort(), ['admin', 'internal', 'public']);
    assert.ok(compute.endpoints.every((e: any) => e.region_id === 'RegionOne' && e.url === `${emu.url}/compute/v2.1`));
  });

  it('password auth by user id and project id', async () => {
    const first = await auth(emu, {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'alice', domain: { id: 'default' }, password: 'alice-pw' } } },
        scope: { project: { name: 'alpha', domain: { id: 'default' } } },
      },
    });
    assert.equal(first.status, 201);
    const r = await auth(emu, {
      auth: {
        identity: { methods: ['password'], password: { user: { id: first.body.token.user.id, password: 'alice-pw' } } },
        scope: { project: { id: first.body.token.project.id } },
      },
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.token.roles.map((x: any) => x.name).sort(), ['member', 'reader']);
  });

  it('application credential auth by id and by name + user', async () => {
    const byId = await auth(emu, { auth: { identity: { methods: ['application_credential'], application_credential: { id: 'ac-1', secret: 's3cret' } } } });
    assert.equal(byId.status, 201);
    assert.equal(byId.body.token.project.name, 'admin');
    assert.equal(byId.body.token.application_credential.name, 'drain-bot');
    const byName = await auth(emu, {
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { name: 'drain-bot', secret: 's3cret', user: { name: 'admin', domain: { name: 'Default' } } },
        },
      },
    });
    assert.equal(byName.status, 201);
    const bad = await auth(emu, { auth: { identity: { methods: ['application_credential'], application_credential: { id: 'ac-1', secret: 'nope' } } } });
    assert.equal(bad.status, 401);
  });

  it('token method rescopes and never outlives the original token', async () => {
    const tk = await token(emu);
    await clock.sleep(100_000);
    const r = await auth(emu, { auth: { identity: { methods: ['token'], token: { id: tk } }, scope: { project: { name: 'admin', domain: { name: 'Default' } } } } });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.token.methods, ['token']);
    assert.equal(Date.parse(r.body.token.expires_at), Date.parse(new Date(clock.now() - 100_000 + 600_000).toISOString()));
  });

  it('401 with Keystone error body on bad credentials and unknown project', async () => {
    const r = await auth(emu, {
      auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: 'wrong' } } } },
    });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' } });
    const p = await auth(emu, {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'alice', domain: { name: 'Default' }, password: 'alice-pw' } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    });
    assert.equal(p.status, 401, 'alice has no role on admin');
  });

  it('Nova and Placement answer 401 without, with an unknown, or with an expired token', async () => {
    const none = await fetch(`${emu.url}${C}/servers`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /Keystone uri=/);
    assert.ok(none.headers.get('x-openstack-request-id')?.startsWith('req-'));
    const unknown = await fetch(`${emu.url}/placement/resource_providers`, { headers: { 'x-auth-token': 'bogus' } });
    assert.equal(unknown.status, 401);

    const c = await client(emu);
    assert.equal((await c.get(`${C}/servers`)).status, 200);
    await clock.sleep(599_000);
    assert.equal((await c.get(`${C}/servers`)).status, 200);
    await clock.sleep(1_000);
    const expired = await c.get(`${C}/servers`);
    assert.equal(expired.status, 401);
    assert.deepEqual(Object.keys(expired.body), ['unauthorized']);
  });

  it('revokeTokens() invalidates every issued token; new ones work', async () => {
    const c = await client(emu);
    emu.revokeTokens();
    assert.equal((await c.get(`${C}/servers`)).status, 401);
    const c2 = await client(emu);
    assert.equal((await c2.get(`${C}/servers`)).status, 200);
  });

  it('token-lifetime fault shortens tokens issued afterwards', async () => {
    emu.inject({ kind: 'token-lifetime', seconds: 5 });
    const c = await client(emu);
    await clock.sleep(5_000);
    assert.equal((await c.get(`${C}/servers`)).status, 401);
  });

  it('validates a token with GET /v3/auth/tokens', async () => {
    const tk = await token(emu);
    const r = await fetch(`${emu.authUrl}/auth/tokens`, { headers: { 'x-auth-token': tk, 'x-subject-token': tk } });
    assert.equal(r.status, 200);
    const j = (await r.json()) as any;
    assert.equal(j.token.user.name, 'admin');
  });
});
