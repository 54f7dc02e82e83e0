/**
 * Output off a terminal (CI, runbooks, pipes), through the CLI on the demo
 * cloud: plain timestamped lines without a control code, --quiet, forced
 * progress modes, NDJSON next to a table, -v with one line per HTTP request,
 * --log-file lines that carry the run id and host.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, smallScenario, tempDir, writeScenario } from './helpers.js';

describe('CLI output off a terminal', function () {
  this.timeout(60_000);
  let dir: string;
  let scenario: string;
  beforeEach(() => {
    dir = tempDir('hm-out-');
    scenario = writeScenario(dir, 's', smallScenario());
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const drain = (...extra: string[]) => hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '--state-dir', dir, ...extra], { HOSTMAINT_DEMO_SCENARIO: scenario });

  it('one plain line per event on stderr, each stamped with its UTC time and the host, no control code; the summary on stdout', async () => {
    const r = await drain();
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr + r.stdout, /[\u0000-\u0009\u000b-\u001f\u007f]/, 'a control code');
    const lines = r.stderr.trim().split('\n');
    assert.ok(lines.length > 20, r.stderr);
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ compute-01 /, l);
    assert.match(r.stderr, /web-01: live migration requested/);
    assert.match(r.stderr, /finished: drained \(exit 0\)/);
    assert.match(r.stdout, /^INSTANCE +PROJECT +FROM +TO +METHOD +TIME +RESULT/m);
    assert.match(r.stdout, /^Host compute-01: nova-compute disabled, up .*; verified empty\.$/m);
    assert.match(r.stdout, /^Next:$/m);
  });

  it('--quiet: nothing on stderr, only the final result', async () => {
    const r = await drain('--quiet');
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /compute-01: drained/);
  });

  it('--quiet -f json: one JSON document and nothing else', async () => {
    const r = await drain('-q', '-f', 'json');
    assert.equal(r.stderr, '');
    assert.equal(r.json<{ outcome: string }>().outcome, 'drained');
  });

  it('--progress live off a terminal draws the frame anyway (e.g. for a recording); --progress plain is the default here', async () => {
    const r = await drain('--progress', 'live', '--no-color');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\u001b\[\?25l/);
    assert.match(r.stderr, /✓ drained \(exit 0\)/);
    assert.doesNotMatch(r.stderr, /\u001b\[3\dm/, '--no-color');
    const bad = await hostmaint(['drain', 'compute-01', '--progress', 'fancy']);
    assert.equal(bad.code, 2);
  });

  it('--events ndjson=FILE next to the table: every event in the file, the table on stdout', async () => {
    const file = path.join(dir, 'events.ndjson');
    const r = await drain('--events', `ndjson=${file}`, '-q');
    assert.equal(r.code, 0);
    const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; runId: string });
    assert.equal(events[0]?.type, 'run-started');
    assert.equal(events[events.length - 1]?.type, 'run-finished');
    assert.ok(events.every((e) => e.runId === events[0]?.runId));
  });

  it('-v: one line per HTTP request (method, URL, status, request id, duration), never the password or token', async () => {
    const r = await drain('-v', '--progress', 'plain');
    assert.equal(r.code, 0);
    assert.match(r.stderr, /debug GET http:\/\/127\.0\.0\.1:\d+\/\S+ -> 200 {2}requestId=req-\S+ durationMs=\d+/);
    assert.match(r.stderr, /debug POST http:\/\/127\.0\.0\.1:\d+\/\S+\/servers\/\S+\/action -> 202/);
    assert.doesNotMatch(r.stderr, /X-Auth-Token|"password"|gAAAA/i);
    const plain = await drain('--progress', 'plain');
    assert.doesNotMatch(plain.stderr, / debug /, 'no request lines without -v');
  });

  it('--log-file: JSON lines; after the run starts every line has the run id and host; request lines have the request id', async () => {
    const file = path.join(dir, 'hm.log');
    const r = await drain('--log-file', file, '-q', '-f', 'json');
    assert.equal(r.code, 0);
    const runId = r.json<{ runId: string }>().runId;
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const start = lines.findIndex((l) => l.runId === runId);
    assert.ok(start > 0, 'lines before the run (connecting) and after');
    const after = lines.slice(start);
    assert.ok(after.every((l) => l.runId === runId && l.host === 'compute-01'), 'every line after the start');
    assert.ok(after.some((l) => typeof l.requestId === 'string' && typeof l.durationMs === 'number' && typeof l.url === 'string'));
    assert.ok(after.some((l) => typeof l.serverId === 'string'), 'instance lines name the instance');
  });
});
