import assert from 'node:assert/strict';
import { resolveCloud } from '../../../src/config/index.js';
import { memoryLogger, type MemoryLogger } from '../../../src/core/log.js';
import { HttpTransport } from '../../../src/openstack/http.js';
import { TokenProvider } from '../../../src/openstack/identity/index.js';
import { startEmulator, VirtualClock, type Emulator } from '../../../src/emulator/index.js';

/** Against the emulator's Keystone (1 h tokens), on a clock only the test moves. */
describe('identity: TokenProvider (on the emulator)', () => {
  let emu: Emulator;
  let transport: HttpTransport;
  let logger: MemoryLogger;
  let clock: VirtualClock;
  let provider: TokenProvider;
  const authRequests = () => emu.requests.filter({ service: 'identity', method: 'POST', path: '/auth/tokens' });

  beforeEach(async () => {
    clock = new VirtualClock({ autoAdvance: false });
    emu = await startEmulator({ scenario: { name: 'keystone', keystone: { token_lifetime_s: 3600 }, hosts: [{ name: 'compute-01' }] }, clock });
    logger = memoryLogger();
    transport = new HttpTransport({ logger, clock });
    const c = resolveCloud({}, { OS_AUTH_URL: emu.authUrl, OS_USERNAME: emu.credentials.username, OS_PASSWORD: emu.credentials.password, OS_PROJECT_NAME: emu.credentials.projectName }, { cwd: '/x', home: '/x', systemDir: '/x' });
    provider = new TokenProvider({ cloud: c, identity: transport.client({ serviceType: 'identity', endpoint: c.authUrl }), logger, clock });
  });
  afterEach(async () => {
    transport.close();
    await emu.stop();
  });

  it('authenticates once and caches the token in memory', async () => {
    const a = await provider.token();
    const b = await provider.token();
    assert.equal(a, b);
    assert.equal(authRequests().length, 1);
    assert.equal(provider.authentications, 1);
    assert.equal(provider.current?.user.name, emu.credentials.username);
  });

  it('concurrent callers share one authentication', async () => {
    const tokens = await Promise.all([provider.token(), provider.token(), provider.auth(), provider.token()]);
    assert.equal(new Set(tokens.map((t) => (typeof t === 'string' ? t : t.token))).size, 1);
    assert.equal(authRequests().length, 1);
  });

  it('refreshes shortly before expiry (5 min margin on a 1 h token), counted on its own clock', async () => {
    const first = await provider.token();
    clock.advance(54 * 60_000);
    assert.equal(await provider.token(), first, '54 min: still fresh');
    clock.advance(2 * 60_000);
    const second = await provider.token();
    assert.notEqual(second, first, '56 min: refreshed');
    assert.equal(authRequests().length, 2);
    assert.ok(logger.records.some((r) => r.level === 'info' && /re-authenticated with Keystone: the token is about to expire/.test(r.message)));
  });

  it('force refreshes once for many requests refused with the same stale token', async () => {
    const stale = await provider.token();
    const [a, b, c] = await Promise.all([
      provider.token({ force: true, stale }),
      provider.token({ force: true, stale }),
      provider.token({ force: true, stale }),
    ]);
    assert.equal(a, b);
    assert.equal(b, c);
    assert.notEqual(a, stale);
    const late = await provider.token({ force: true, stale });
    assert.equal(late, a, 'a late 401 with the old token reuses the new one');
    assert.equal(authRequests().length, 2);
  });

  it('the log never holds the token or the password', async () => {
    const t = await provider.token();
    const t2 = await provider.token({ force: true, stale: t });
    assert.notEqual(t2, t);
    const text = logger.text();
    for (const s of [t, t2, emu.credentials.password]) assert.ok(!text.includes(s));
  });

  it('a caller abort does not cancel the shared authentication for others', async () => {
    const ac = new AbortController();
    const mine = provider.token({ signal: ac.signal });
    const theirs = provider.token();
    ac.abort();
    await assert.rejects(mine, /Cancelled while authenticating/);
    assert.equal(typeof (await theirs), 'string');
  });
});
