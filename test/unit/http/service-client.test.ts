import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { HttpError, isHttpError } from '../../../src/core/errors.js';
import { memoryLogger, type MemoryLogger } from '../../../src/core/log.js';
import { HttpTransport, faultMessage, hostmaintVersion, type TokenSource } from '../../../src/openstack/http.js';
import type { ServiceClient } from '../../../src/openstack/service-client.js';
import { startServer, virtualClock, type Handler, type Reply, type TestServer } from './fake-cloud.js';

const TOKEN_A = 'gAAAAA-token-A-0123456789';
const TOKEN_B = 'gAAAAA-token-B-9876543210';

/** A token source that hands out A, then B after a forced refresh. */
function tokens(): TokenSource & { calls: Array<{ force?: boolean | undefined; stale?: string | null | undefined }> } {
  let current = TOKEN_A;
  const calls: Array<{ force?: boolean | undefined; stale?: string | null | undefined }> = [];
  return {
    calls,
    async token(o = {}) {
      calls.push({ force: o.force, stale: o.stale });
      if (o.force) current = TOKEN_B;
      return current;
    },
  };
}

async function rejects(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HttpError, `expected HttpError, got ${inspect(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('http: ServiceClient', () => {
  let server: TestServer;
  let logger: MemoryLogger;
  let clock: ReturnType<typeof virtualClock>;
  let transport: HttpTransport;
  let tok: ReturnType<typeof tokens>;

  async function setup(handler: Handler, opts: { timeoutMs?: number } = {}) {
    server = await startServer(handler);
    logger = memoryLogger();
    clock = virtualClock();
    tok = tokens();
    transport = new HttpTransport({ logger, clock, random: () => 0.5, timeoutMs: opts.timeoutMs ?? 5000 });
  }
  function client(serviceType = 'compute', microversion: string | null = '2.93'): ServiceClient {
    return transport.client({ serviceType, endpoint: `${server.url}/v2.1/`, microversion, tokens: tok });
  }
  afterEach(async () => {
    transport?.close();
    await server?.close();
  });

  describe('requests', () => {
    it('sends the microversion headers, token, User-Agent and JSON; captures the request id', async () => {
      await setup(() => ({ status: 200, headers: { 'x-openstack-request-id': 'req-abc' }, body: { ok: true } }));
      const res = await client().request<{ ok: boolean }>({ method: 'POST', path: '/servers/s1/action', body: { 'os-migrateLive': { host: null, block_migration: 'auto' } } });
      assert.deepEqual(res.data, { ok: true });
      assert.equal(res.status, 200);
      assert.equal(res.requestId, 'req-abc');
      const r = server.requests[0];
      assert.ok(r);
      assert.equal(r.method, 'POST');
      assert.equal(r.path, '/v2.1/servers/s1/action');
      assert.equal(r.headers['openstack-api-version'], 'compute 2.93');
      assert.equal(r.headers['x-openstack-nova-api-version'], '2.93');
      assert.equal(r.headers['x-auth-token'], TOKEN_A);
      assert.equal(r.headers['user-agent'], `hostmaint/${hostmaintVersion()}`);
      assert.match(hostmaintVersion(), /^\d+\.\d+\.\d+/);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers.accept, 'application/json');
      assert.deepEqual(r.body, { 'os-migrateLive': { host: null, block_migration: 'auto' } });
    });

    it('placement gets only OpenStack-API-Version; per-request microversion overrides; none when null', async () => {
      await setup(() => ({ body: {} }));
      await client('placement', '1.39').request({ method: 'GET', path: '/resource_providers' });
      await client('placement', '1.39').request({ method: 'GET', path: '/traits', microversion: '1.6' });
      await client('placement', null).request({ method: 'GET', path: '/' });
      const [a, b, c] = server.requests;
      assert.equal(a?.headers['openstack-api-version'], 'placement 1.39');
      assert.equal(a?.headers['x-openstack-nova-api-version'], undefined);
      assert.equal(b?.headers['openstack-api-version'], 'placement 1.6');
      assert.equal(c?.headers['openstack-api-version'], undefined);
    });

    it('serialises queries (arrays repeat the key, undefined left out) and uses x-compute-request-id', async () => {
      await setup(() => ({ headers: { 'x-compute-request-id': 'req-nova' }, body: { servers: [] } }));
      const res = await client().request({ method: 'GET', path: 'servers/detail', query: { all_tenants: true, host: 'c1', limit: 10, tag: ['a', 'b'], name: undefined } });
      assert.equal(res.requestId, 'req-nova');
      assert.equal(server.requests[0]?.url, '/v2.1/servers/detail?all_tenants=true&host=c1&limit=10&tag=a&tag=b');
    });

    it('atLeast compares microversions numerically', async () => {
      await setup(() => ({ body: {} }));
      const c = client('compute', '2.53');
      assert.equal(c.atLeast('2.53'), true);
      assert.equal(c.atLeast('2.9'), true);
      assert.equal(c.atLeast('2.60'), false);
      assert.equal(client('compute', null).atLeast('2.1'), false);
      assert.equal(c.endpoint, `${server.url}/v2.1`);
    });

    it('204 gives data null; counts requests per service', async () => {
      await setup(() => ({ status: 204 }));
      const res = await client().request({ method: 'PUT', path: '/x', body: {} });
      assert.equal(res.data, null);
      await client('placement', '1.0').request({ method: 'GET', path: '/y' });
      assert.deepEqual(transport.requestCount(), { compute: 1, placement: 1 });
    });

    it('reads share kept-alive connections; non-idempotent requests get a fresh one (no false unknown-outcome from a stale socket)', async () => {
      await setup(() => ({ body: {} }));
      const c = client();
      await c.request({ method: 'GET', path: '/a' });
      await c.request({ method: 'GET', path: '/b' });
      await c.request({ method: 'POST', path: '/c', body: {} });
      await c.request({ method: 'POST', path: '/d', body: {} });
      const [a, b, p1, p2] = server.requests.map((r) => r.remotePort);
      assert.equal(a, b);
      assert.notEqual(p1, a);
      assert.notEqual(p2, p1);
    });

    it('never sends a caller-supplied X-Auth-Token', async () => {
      await setup(() => ({ body: {} }));
      await client().request({ method: 'GET', path: '/x', headers: { 'X-Auth-Token': 'evil', 'X-Extra': '1' } });
      assert.equal(server.requests[0]?.headers['x-auth-token'], TOKEN_A);
      assert.equal(server.requests[0]?.headers['x-extra'], '1');
    });
  });

  describe('retries', () => {
    it('retries a GET on 503 with backoff, then succeeds (3 attempts)', async () => {
      let n = 0;
      await setup(() => (++n < 3 ? { status: 503, body: { error: { message: 'busy' } } } : { body: { ok: 1 } }));
      const res = await client().request({ method: 'GET', path: '/os-services' });
      assert.deepEqual(res.data, { ok: 1 });
      assert.equal(server.requests.length, 3);
      // base 250, cap 4000, equal jitter with random 0.5: 188, 375
      assert.deepEqual(clock.sleeps, [188, 375]);
      assert.equal(transport.requestCount().compute, 3);
      const attempts = logger.records.filter((r) => r.level === 'debug').map((r) => r.meta?.attempt);
      assert.deepEqual(attempts, [1, 2, 3]);
    });

    it('gives up after 3 attempts with an unavailable error', async () => {
      await setup(() => ({ status: 503, headers: { 'x-openstack-request-id': 'req-503' }, body: { computeFault: { code: 503, message: 'Service Unavailable' } } }));
      const e = await rejects(client().request({ method: 'GET', path: '/os-services' }));
      assert.equal(e.kind, 'unavailable');
      assert.equal(e.status, 503);
      assert.equal(e.retryable, true);
      assert.equal(e.requestId, 'req-503');
      assert.equal(server.requests.length, 3);
    });

    it('retries GET on 502/504 and connection resets; backoff is capped', async () => {
      let n = 0;
      await setup(() => {
        n++;
        if (n === 1) return { status: 502 };
        if (n === 2) return { destroy: true };
        if (n === 3) return { status: 504 };
        return { body: { fine: true } };
      });
      transport.close();
      transport = new HttpTransport({ logger, clock, random: () => 1, retry: { attempts: 5, baseMs: 1000, capMs: 1500 } });
      const res = await client().request({ method: 'GET', path: '/x' });
      assert.deepEqual(res.data, { fine: true });
      assert.deepEqual(clock.sleeps, [1000, 1500, 1500]);
    });

    it('honours Retry-After up to the cap', async () => {
      let n = 0;
      await setup(() => (++n === 1 ? { status: 503, headers: { 'retry-after': '2' } } : { body: {} }));
      await client().request({ method: 'GET', path: '/x' });
      assert.deepEqual(clock.sleeps, [2000]);
    });

    it('retries a POST marked idempotent', async () => {
      let n = 0;
      await setup(() => (++n === 1 ? { status: 503 } : { body: {} }));
      await client().request({ method: 'POST', path: '/x', body: {}, idempotent: true });
      assert.equal(server.requests.length, 2);
    });

    it('does NOT retry a POST on 503', async () => {
      await setup(() => ({ status: 503, body: { computeFault: { message: 'down' } } }));
      const e = await rejects(client().request({ method: 'POST', path: '/servers/s1/action', body: { 'os-migrateLive': {} } }));
      assert.equal(e.kind, 'unavailable');
      assert.equal(server.requests.length, 1);
      assert.deepEqual(clock.sleeps, []);
    });

    it('a POST that times out is unknown-outcome, sent once', async () => {
      await setup(() => ({ hang: true }), { timeoutMs: 150 });
      const e = await rejects(client().request({ method: 'POST', path: '/servers/s1/action', body: { 'os-migrateLive': { host: null } } }));
      assert.equal(e.kind, 'unknown-outcome');
      assert.match(e.message, /may or may not have been applied/);
      assert.match(e.message, /must check/);
      assert.equal(e.retryable, false);
      assert.equal(e.status, 0);
      assert.equal(e.method, 'POST');
      assert.equal(server.requests.length, 1);
    });

    it('a POST whose connection drops is unknown-outcome, sent once', async () => {
      await setup(() => ({ destroy: true }));
      const e = await rejects(client().request({ method: 'POST', path: '/servers/s1/action', body: {} }));
      assert.equal(e.kind, 'unknown-outcome');
      assert.match(e.message, /lost its connection \(ECONNRESET\)/);
      assert.equal(server.requests.length, 1);
    });

    it('a GET that times out is retried, then a timeout error', async () => {
      await setup(() => ({ hang: true }), { timeoutMs: 100 });
      const e = await rejects(client().request({ method: 'GET', path: '/x' }));
      assert.equal(e.kind, 'timeout');
      assert.match(e.message, /timed out after 100 ms \(3 attempts\)/);
      assert.equal(server.requests.length, 3);
    });

    it('a per-request timeout overrides the default', async () => {
      await setup(() => ({ hang: true }), { timeoutMs: 60_000 });
      const started = Date.now();
      const e = await rejects(client().request({ method: 'GET', path: '/x', timeoutMs: 50 }));
      assert.equal(e.kind, 'timeout');
      assert.ok(Date.now() - started < 5000);
      assert.match(e.message, /timed out after 50 ms/);
    });

    it('connection refused: GET retried then network error; POST is a plain network error (never sent)', async () => {
      await setup(() => ({ body: {} }));
      const port = server.port;
      await server.close();
      const c = transport.client({ serviceType: 'compute', endpoint: `http://127.0.0.1:${port}/v2.1`, tokens: tok });
      const e = await rejects(c.request({ method: 'GET', path: '/x' }));
      assert.equal(e.kind, 'network');
      assert.match(e.message, /Cannot reach Nova at 127\.0\.0\.1:\d+ .*ECONNREFUSED.* after 3 attempts/);
      assert.equal(clock.sleeps.length, 2);
      const p = await rejects(c.request({ method: 'POST', path: '/x', body: {} }));
      assert.equal(p.kind, 'network');
      assert.equal(clock.sleeps.length, 2, 'no retry for POST');
      server = await startServer(() => ({ body: {} }));
    });

    it('an aborted request is interrupted; abort during backoff too', async () => {
      await setup(() => ({ hang: true }));
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const e = await rejects(client().request({ method: 'POST', path: '/x', body: {}, signal: ac.signal }));
      assert.equal(e.kind, 'interrupted');
      assert.match(e.message, /may or may not have been applied/);
      const ac2 = new AbortController();
      ac2.abort();
      const e2 = await rejects(client().request({ method: 'GET', path: '/x', signal: ac2.signal }));
      assert.equal(e2.kind, 'interrupted');
    });
  });

  describe('401: re-authenticate once', () => {
    it('forces a new token and repeats the request once', async () => {
      await setup((req) => (req.headers['x-auth-token'] === TOKEN_B ? { body: { ok: true } } : { status: 401, body: { error: { message: 'expired' } } }));
      const res = await client().request({ method: 'POST', path: '/servers/s1/action', body: { a: 1 } });
      assert.deepEqual(res.data, { ok: true });
      assert.equal(server.requests.length, 2);
      assert.deepEqual(server.requests.map((r) => r.headers['x-auth-token']), [TOKEN_A, TOKEN_B]);
      assert.deepEqual(server.requests[1]?.body, { a: 1 });
      assert.deepEqual(tok.calls, [{ force: undefined, stale: undefined }, { force: true, stale: TOKEN_A }]);
    });

    it('a second 401 is an auth error', async () => {
      await setup(() => ({ status: 401, body: { error: { message: 'The request you have made requires authentication.' } } }));
      const e = await rejects(client().request({ method: 'GET', path: '/x' }));
      assert.equal(e.kind, 'auth');
      assert.match(e.message, /401 Unauthorized \(after re-authenticating\)/);
      assert.equal(server.requests.length, 2);
      assert.equal(tok.calls.filter((c) => c.force).length, 1);
    });

    it('without a token source a 401 is an auth error at once', async () => {
      await setup(() => ({ status: 401 }));
      const c = transport.client({ serviceType: 'identity', endpoint: server.url, tokens: null });
      const e = await rejects(c.request({ method: 'POST', path: '/auth/tokens', body: {} }));
      assert.equal(e.kind, 'auth');
      assert.equal(server.requests.length, 1);
      assert.equal(server.requests[0]?.headers['x-auth-token'], undefined);
    });
  });

  describe('error mapping', () => {
    const cases: Array<[number, string, Reply['body'], string]> = [
      [400, 'bad-request', { badRequest: { code: 400, message: 'Invalid input for field/attribute host.' } }, 'Invalid input for field/attribute host.'],
      [403, 'forbidden', { forbidden: { code: 403, message: "Policy doesn't allow os_compute_api:os-migrate-server:migrate_live to be performed." } }, "Policy doesn't allow os_compute_api:os-migrate-server:migrate_live to be performed."],
      [404, 'not-found', { itemNotFound: { code: 404, message: 'Instance s9 could not be found.' } }, 'Instance s9 could not be found.'],
      [406, 'not-acceptable', { computeFault: { code: 406, message: 'Version 2.99 is not supported by the API. Minimum is 2.1 and maximum is 2.93.' } }, 'Version 2.99 is not supported by the API. Minimum is 2.1 and maximum is 2.93.'],
      [409, 'conflict', { conflictingRequest: { code: 409, message: "Cannot 'os-migrateLive' instance s1 while it is in task_state migrating" } }, "Cannot 'os-migrateLive' instance s1 while it is in task_state migrating"],
      [500, 'server-error', { computeFault: { code: 500, message: 'Unexpected API Error.' } }, 'Unexpected API Error.'],
      [409, 'conflict', { errors: [{ status: 409, title: 'Conflict', detail: 'There was a conflict when trying to complete your request.\n\n resource provider generation conflict  ', code: 'placement.concurrent_update' }] }, 'There was a conflict when trying to complete your request. resource provider generation conflict'],
      [400, 'bad-request', { error: { code: 400, message: 'Invalid input for field identity', title: 'Bad Request' } }, 'Invalid input for field identity'],
    ];
    for (const [status, kind, body, fault] of cases) {
      it(`${status} -> ${kind} with the service's message (${Object.keys(body as object)[0]})`, async () => {
        await setup(() => ({ status, headers: { 'x-openstack-request-id': 'req-42' }, body }));
        const e = await rejects(client().request({ method: 'POST', path: '/servers/s1/action', body: {} }));
        assert.equal(e.kind, kind);
        assert.equal(e.status, status);
        assert.equal(e.faultMessage, fault);
        assert.equal(e.requestId, 'req-42');
        assert.equal(e.service, 'compute');
        assert.equal(e.method, 'POST');
        assert.equal(e.url, `${server.url}/v2.1/servers/s1/action`);
        assert.ok(e.message.includes(fault), e.message);
        assert.ok(e.message.startsWith(`Nova POST ${server.url}/v2.1/servers/s1/action failed: ${status}`), e.message);
        const json = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
        assert.equal(json.kind, kind);
        assert.equal(json.requestId, 'req-42');
      });
    }

    it('503 is unavailable, 502 server-error (retryable)', async () => {
      await setup(() => ({ status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }));
      const e = await rejects(client().request({ method: 'DELETE', path: '/x' }));
      assert.equal(e.kind, 'server-error');
      assert.equal(e.retryable, true);
      assert.equal(e.faultMessage, '502 Bad Gateway');
    });

    it('a redirect is not followed (it would carry the token elsewhere)', async () => {
      await setup(() => ({ status: 302, headers: { location: 'http://evil.example/' } }));
      const e = await rejects(client().request({ method: 'GET', path: '/x' }));
      assert.equal(e.kind, 'bad-request');
      assert.match(e.message, /redirect \(302 to http:\/\/evil\.example\/\)/);
      assert.equal(server.requests.length, 1);
    });

    it('no AxiosError escapes: the cause carries no config, request or headers', async () => {
      await setup(() => ({ destroy: true }));
      const e = await rejects(client().request({ method: 'POST', path: '/x', body: { password: 'p' } }));
      assert.ok(isHttpError(e));
      const cause = e.cause as Record<string, unknown>;
      assert.equal(cause.name, 'TransportFailure');
      assert.equal(cause.config, undefined);
      assert.equal(cause.request, undefined);
      assert.equal(cause.response, undefined);
      for (const text of [inspect(e, { depth: 10 }), JSON.stringify(e), String(e), e.stack ?? '']) {
        assert.ok(!text.includes(TOKEN_A), 'no token');
        assert.ok(!/axios/i.test(text) || !text.includes('headers'), 'no axios internals');
      }
    });
  });

  describe('logging', () => {
    it('one debug line per attempt: method, redacted URL, status, request id, duration, attempt; no token, no secret body fields', async () => {
      let n = 0;
      await setup(() => (++n === 1 ? { status: 401 } : { headers: { 'x-openstack-request-id': 'req-log' }, body: { token: 'server-secret' } }));
      await client().request({ method: 'POST', path: '/x', query: { token: 'qsecret', a: '1' }, body: { user: { name: 'u', password: 'hunter2-pw' }, keep: 'visible' } });
      const debug = logger.records.filter((r) => r.level === 'debug');
      assert.equal(debug.length, 2);
      const last = debug[1]?.meta ?? {};
      assert.equal(last.method, 'POST');
      assert.equal(last.status, 200);
      assert.equal(last.requestId, 'req-log');
      assert.equal(last.attempt, 2);
      assert.equal(typeof last.durationMs, 'number');
      assert.equal(last.url, `${server.url}/v2.1/x?token=[REDACTED]&a=1`);
      const text = logger.text();
      for (const secret of [TOKEN_A, TOKEN_B, 'hunter2-pw', 'qsecret', 'server-secret']) assert.ok(!text.includes(secret), `${secret} in log`);
      assert.ok(text.includes('visible'));
      assert.match(text, /re-authenticating and repeating the request once/);
    });
  });

  describe('faultMessage', () => {
    it('reads Nova, Placement and Keystone shapes, text bodies; undefined otherwise', () => {
      assert.equal(faultMessage({ itemNotFound: { message: 'gone' } }), 'gone');
      assert.equal(faultMessage({ errors: [{ title: 'Conflict' }, { detail: 'b' }] }), 'Conflict; b');
      assert.equal(faultMessage({ error: { message: 'k' } }), 'k');
      assert.equal(faultMessage('  plain\n text '), 'plain text');
      assert.equal(faultMessage({ a: 1, b: 2 }), undefined);
      assert.equal(faultMessage(null), undefined);
    });
  });
});
