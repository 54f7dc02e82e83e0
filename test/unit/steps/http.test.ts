import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { realClock } from '../../../src/core/clock.js';
import { memoryLogger } from '../../../src/core/log.js';
import { backoffMs, runHttpStep } from '../../../src/steps/http.js';
import type { HttpStep } from '../../../src/workflow-file/types.js';
import { VARS } from './helpers.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Reply = (req: Seen, res: http.ServerResponse) => void;

describe('steps: http', () => {
  let server: http.Server;
  let base: string;
  let seen: Seen[];
  let replies: Reply[];
  const sleeps: number[] = [];

  beforeEach(async () => {
    seen = [];
    replies = [];
    sleeps.length = 0;
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        seen.push(s);
        const reply = replies.shift() ?? ((_r, w) => w.writeHead(200).end('ok'));
        reply(s, res);
      });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((res) => server.close(() => res()));
  });

  const step = (o: Partial<HttpStep> = {}): HttpStep => ({
    type: 'http',
    name: 'notify',
    description: null,
    onFailure: 'stop',
    url: `${base}/hooks/{host}`,
    method: 'POST',
    headers: {},
    payload: { text: 'draining {host}' },
    timeoutMs: 2000,
    retries: 0,
    ...o,
  });
  const deps = () => ({ clock: realClock, logger: memoryLogger(), sleep: async (ms: number) => void sleeps.push(ms) });

  it('sends the substituted payload and headers, exactly', async () => {
    const s = step({
      method: 'PUT',
      url: `${base}/hooks/{host}?run={runId}`,
      headers: { 'X-Run': '{runId}', Authorization: 'Bearer {env:HOOK_TOKEN}' },
      payload: { host: '{host}', reason: '{reason}', tags: ['{cloud}', 1, null, { wf: '{workflow}/{step}' }], ok: true },
    });
    const r = await runHttpStep(s, { vars: VARS, env: { HOOK_TOKEN: 'abc-123-xyz' } }, deps());
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.exitCode, 0);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.method, 'PUT');
    assert.equal(seen[0]!.url, '/hooks/compute-01?run=20240101T000000Z-abcd');
    assert.equal(seen[0]!.headers['x-run'], '20240101T000000Z-abcd');
    assert.equal(seen[0]!.headers.authorization, 'Bearer abc-123-xyz');
    assert.equal(seen[0]!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(seen[0]!.body), { host: 'compute-01', reason: 'kernel update', tags: ['prod', 1, null, { wf: 'maintenance-cycle/patch' }], ok: true });
    assert.equal(r.detail.status, 200);
    assert.equal(r.detail.attempts, 1);
    assert.equal(r.detail.url, `${base}/hooks/{host}?run={runId}`, 'the template');
    assert.equal(r.detail.responseSnippet, 'ok');
  });

  it('500 then 200: retried once after 1 s of backoff', async () => {
    replies.push((_r, w) => w.writeHead(500).end('boom'));
    const r = await runHttpStep(step({ retries: 3 }), { vars: VARS, env: {} }, deps());
    assert.equal(r.status, 'ok', r.message);
    assert.equal(r.detail.attempts, 2);
    assert.deepEqual(sleeps, [1000]);
    assert.equal(seen.length, 2);
  });

  it('429 and 5xx are retried up to the limit, with growing backoff', async () => {
    replies.push((_r, w) => w.writeHead(429).end(), (_r, w) => w.writeHead(503).end(), (_r, w) => w.writeHead(502).end('bad gateway'));
    const r = await runHttpStep(step({ retries: 2 }), { vars: VARS, env: {} }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 7);
    assert.equal(r.detail.attempts, 3);
    assert.equal(r.detail.status, 502);
    assert.deepEqual(sleeps, [1000, 2000]);
    assert.equal(r.message, 'http notify: POST answered 502 (attempt 3/3): bad gateway');
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(backoffMs), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('404 fails at once, not retried', async () => {
    replies.push((_r, w) => w.writeHead(404).end('{"error": "no such hook"}'));
    const r = await runHttpStep(step({ retries: 3 }), { vars: VARS, env: {} }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.detail.attempts, 1);
    assert.equal(r.detail.status, 404);
    assert.equal(seen.length, 1);
    assert.deepEqual(sleeps, []);
    assert.match(r.message, /answered 404 \(attempt 1\/4\): \{"error": "no such hook"\}/);
  });

  it('a timeout fails (and is retried)', async () => {
    replies.push(() => undefined, () => undefined);
    const r = await runHttpStep(step({ timeoutMs: 200, retries: 1 }), { vars: VARS, env: {} }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.detail.attempts, 2);
    assert.equal(r.detail.timedOut, true);
    assert.equal(r.detail.status, null);
    assert.match(r.message, /no answer within 200ms \(attempt 2\/2\)/);
  });

  it('a network error is retried', async () => {
    const r = await runHttpStep(step({ url: 'http://127.0.0.1:1/x', retries: 1 }), { vars: VARS, env: {} }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.detail.attempts, 2);
    assert.match(r.message, /request failed: .*ECONNREFUSED/);
  });

  it('a redirect is not followed: 3xx fails', async () => {
    replies.push((_r, w) => w.writeHead(302, { location: `${base}/elsewhere` }).end());
    const r = await runHttpStep(step({ retries: 2 }), { vars: VARS, env: {} }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.detail.status, 302);
    assert.equal(seen.length, 1, 'the Location was not requested');
    assert.match(r.message, /answered 302 \(redirects are not followed\)/);
  });

  it('a secret from {env:NAME} in URL and header appears nowhere in the outcome or logs', async () => {
    const secret = 'sk-live-0123456789abcdef';
    replies.push(
      (req, w) => w.writeHead(500).end(`failed for ${req.url} with ${String(req.headers['x-token'])}`),
      (req, w) => w.writeHead(500).end(`still failing ${req.url}`),
    );
    const d = deps();
    const s = step({ url: `${base}/hooks/{env:HOOK_SECRET}/{host}`, headers: { 'X-Token': '{env:HOOK_SECRET}' }, payload: { k: '{env:HOOK_SECRET}' }, retries: 1 });
    const r = await runHttpStep(s, { vars: VARS, env: { HOOK_SECRET: secret } }, d);
    assert.equal(r.status, 'failed');
    assert.equal(seen[0]!.url, `/hooks/${secret}/compute-01`, 'the secret was sent');
    const text = JSON.stringify(r) + d.logger.text();
    assert.ok(!text.includes(secret), text);
    assert.match(String(r.detail.responseSnippet), /still failing \/hooks\/\*\*\*\/compute-01/);
    assert.equal(r.detail.url, `${base}/hooks/{env:HOOK_SECRET}/{host}`);
  });

  it('a missing env var fails before sending', async () => {
    const r = await runHttpStep(step({ headers: { 'X-Token': '{env:HOSTMAINT_UNSET_VAR}' } }), { vars: VARS, env: {} }, deps());
    assert.equal(r.status, 'failed');
    assert.match(r.message, /HOSTMAINT_UNSET_VAR is not set/);
    assert.equal(seen.length, 0);
  });

  it('an abort during the request or the backoff returns interrupted', async () => {
    const ac = new AbortController();
    replies.push(() => ac.abort(new Error('stop')));
    const r = await runHttpStep(step({ retries: 3, timeoutMs: 5000 }), { vars: VARS, env: {}, signal: ac.signal }, deps());
    assert.equal(r.status, 'failed');
    assert.equal(r.message, 'interrupted');
    assert.equal(r.detail.interrupted, true);
    assert.equal(r.detail.attempts, 1);

    const ac2 = new AbortController();
    replies.push((_r, w) => w.writeHead(503).end());
    const d = { clock: realClock, logger: memoryLogger() };
    const p = runHttpStep(step({ retries: 3 }), { vars: VARS, env: {}, signal: ac2.signal }, d);
    setTimeout(() => ac2.abort(new Error('stop')), 100);
    const r2 = await p;
    assert.equal(r2.message, 'interrupted');
    assert.equal(r2.detail.attempts, 1);
    assert.equal(r2.detail.status, 503);
  });
});
