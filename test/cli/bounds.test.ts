/**
 * Issue 21: bounded resources, through the CLI against an emulated cloud.
 * A workflow file over MAX_WORKFLOW_BYTES, or with more than
 * MAX_WORKFLOW_STEPS steps, is refused (exit 2) before any request; an http
 * step whose answer is larger than MAX_RESPONSE_BYTES fails (exit 7) without
 * reading the rest, and nothing of it is stored beyond the usual snippet.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { runsScenario, startCloud, type TestCloud } from './runs-helpers.js';
import { MAX_WORKFLOW_BYTES, MAX_WORKFLOW_STEPS } from '../../src/workflow-file/load.js';
import { MAX_RESPONSE_BYTES } from '../../src/steps/http.js';

describe('bounded resources: workflow files and http answers (issue 21)', function () {
  this.timeout(60_000);
  let dir: string;
  let cloud: TestCloud;
  beforeEach(async () => {
    dir = tempDir('hm-bounds-');
    cloud = await startCloud(dir, runsScenario());
  });
  afterEach(async () => {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const common = () => [...cloud.args, '--state-dir', path.join(dir, 'state'), '--yes'];

  it(`a workflow file over ${MAX_WORKFLOW_BYTES / 1024} KiB (a long description) is refused, exit 2, before any request`, async () => {
    const wf = path.join(dir, 'big.yaml');
    writeFileSync(wf, `version: 1\nname: big\ndescription: "${'x'.repeat(MAX_WORKFLOW_BYTES)}"\nsteps:\n  - type: disable\n`);
    const v = await hostmaint(['workflow', 'validate', wf]);
    assert.equal(v.code, 2, v.stdout + v.stderr);
    assert.match(v.stdout, /more than the 262144 \(256 KiB\) a workflow may have; not read/);
    const before = cloud.emu.requests.records.length;
    const r = await hostmaint(['run', wf, 'compute-01', ...common()], cloud.env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /big\.yaml is \d+ bytes: more than the 262144/);
    assert.equal(cloud.emu.requests.records.length, before, 'no request');
  });

  it(`a workflow of more than ${MAX_WORKFLOW_STEPS} steps is refused with file:line:col, exit 2`, async () => {
    const wf = path.join(dir, 'many.yaml');
    writeFileSync(wf, `version: 1\nname: many\nsteps:\n${'  - type: exec\n    command: ["true"]\n'.repeat(MAX_WORKFLOW_STEPS + 1)}`);
    const v = await hostmaint(['workflow', 'validate', wf]);
    assert.equal(v.code, 2);
    assert.match(v.stdout, /many\.yaml:3:\d+: .*201 steps \(compensations included\): more than the 200/);
    const r = await hostmaint(['run', wf, 'compute-01', ...common()], cloud.env);
    assert.equal(r.code, 2);
    // The cap counts compensations too.
    const comp = path.join(dir, 'comp.yaml');
    writeFileSync(comp, `version: 1\nname: comp\nsteps:\n  - type: exec\n    command: ["true"]\n    on-failure: undo\ncompensations:\n  undo:\n${'    - type: exec\n      command: ["true"]\n'.repeat(MAX_WORKFLOW_STEPS)}`);
    assert.equal((await hostmaint(['workflow', 'validate', comp])).code, 2);
  });

  it('an http step answered with a 200 MiB body fails (exit 7) once past the cap, without reading the rest', async () => {
    let sent = 0;
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const total = 200 * 1024 * 1024;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => undefined);
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const wf = path.join(dir, 'hook.yaml');
      writeFileSync(wf, `version: 1\nname: hook\nsteps:\n  - type: http\n    url: ${url}\n    payload: {host: "{host}"}\n    retries: 3\n`);
      const r = await hostmaint(['run', wf, 'compute-01', ...common(), '-f', 'json'], cloud.env);
      assert.equal(r.code, 7, r.stderr);
      const result = r.json<{ steps: Array<{ message: string; detail: { attempts: number; responseTooLarge?: boolean } }> }>();
      assert.match(result.steps[0]!.message, /answered with a body larger than 1 MiB: not read further/);
      assert.equal(result.steps[0]!.detail.responseTooLarge, true);
      assert.equal(result.steps[0]!.detail.attempts, 1, 'not retried');
      assert.ok(sent < 50 * 1024 * 1024, `the server sent ${sent} bytes before hostmaint hung up`);
      const runs = path.join(dir, 'state', 'runs');
      for (const id of readdirSync(runs)) {
        const size = readFileSync(path.join(runs, id, 'run.json')).length + readFileSync(path.join(runs, id, 'journal.ndjson')).length;
        assert.ok(size < MAX_RESPONSE_BYTES, `run ${id} stored ${size} bytes`);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
