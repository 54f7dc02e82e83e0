/** --report FILE.md|.json through the CLI, and `hostmaint history`. */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, smallScenario, tempDir, writeScenario } from './helpers.js';

describe('CLI: --report and history', function () {
  this.timeout(60_000);
  let dir: string;
  let scenario: string;
  beforeEach(() => {
    dir = tempDir('hm-rep-');
    scenario = writeScenario(dir, 's', smallScenario({ faults: [{ kind: 'migration-fail', server: 'web-02', count: 10 }] }));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]) => hostmaint([...args, '--os-cloud', 'demo', '--state-dir', dir], { HOSTMAINT_DEMO_SCENARIO: scenario });

  it('--report FILE.md: a ticket-ready Markdown report of a partial drain', async () => {
    const file = path.join(dir, 'CHG-1234.md');
    const r = await run(['drain', 'compute-01', '--yes', '--retries', '1', '--reason', 'kernel CHG-1234', '--report', file]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /report written to .*CHG-1234\.md/);
    const md = readFileSync(file, 'utf8');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    for (const re of [
      /^# hostmaint drain compute-01: partial$/m,
      /^\| Cloud \| demo \|$/m,
      /^\| Run by \| \S+@\S+ as Keystone user admin \|$/m,
      /^\| Reason \| kernel CHG-1234 \(by \S+\) \|$/m,
      /^## Preflight\n\nPassed: 5 instance\(s\) on the host \(4 live, 1 cold\)\.$/m,
      /^## Plan$/m,
      /^## What moved$/m,
      /^\| web-02 \| tenant-a \| compute-01 \| {2}\| live \| .* \| failed \| 2 \| /m,
      /^## Left on the host\n\n- server web-02 \[ACTIVE\]: migration failed after 2 attempt\(s\)/m,
      /^## Next$/m,
    ]) assert.match(md, re);
  });

  it('--report FILE.json: the same facts as one JSON document', async () => {
    const file = path.join(dir, 'run.json');
    const r = await run(['drain', 'compute-01', '--yes', '--retries', '1', '--report', file, '-q']);
    assert.equal(r.code, 4);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { kind: string; run: { outcome: string; cloud: string; apiRequests: Record<string, number> }; moves: Array<{ name: string; result: string }>; leftovers: unknown[] };
    assert.equal(doc.kind, 'hostmaint-report');
    assert.equal(doc.run.outcome, 'partial');
    assert.equal(doc.run.cloud, 'demo');
    assert.ok((doc.run.apiRequests.compute ?? 0) > 0, JSON.stringify(doc.run));
    assert.equal(doc.moves.find((m) => m.name === 'web-02')?.result, 'failed');
    assert.equal(doc.leftovers.length, 1);
  });

  it('a report name that is not .md or .json, or in a directory that does not exist: exit 2 before anything changes', async () => {
    for (const [file, re] of [['report.txt', /must end in \.md or \.json/], [path.join(dir, 'nope', 'r.md'), /does not exist/]] as const) {
      const r = await run(['drain', 'compute-01', '--yes', '--report', file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
    }
  });

  it('history: past runs newest first with outcome, time, moved/total and who; by host; as JSON; --limit', async () => {
    assert.equal((await run(['drain', 'compute-01', '--yes', '--retries', '1'])).code, 4);
    assert.equal((await run(['undrain', 'compute-01'])).code, 0); // the demo cloud is kept: the drained host is enabled again
    const all = await hostmaint(['history', '--state-dir', dir]);
    assert.equal(all.code, 0, all.stderr);
    const rows = all.stdout.trim().split('\n');
    assert.match(rows[0] ?? '', /^STARTED \(UTC\) +COMMAND +HOST +OUTCOME +EXIT +TOOK +MOVED +FAILED +BY +CLOUD +RUN$/);
    // the demo cloud's clock goes on from where the last command left it: newest first
    assert.equal(rows.length, 3);
    assert.match(rows[1] ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +undrain +compute-01 +undrained +0 +\d+\.\ds +- +- /, all.stdout);
    assert.match(rows[2] ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +drain +compute-01 +partial +4 +\d+\.\ds +4\/5 +1 +\S+@\S+ +demo +\S+$/, all.stdout);
    const json = await hostmaint(['history', 'compute-01', '--state-dir', dir, '-f', 'json', '--limit', '1']);
    const doc = json.json<{ total: number; runs: Array<{ command: string; outcome: string; moved: number; total: number; failed: number }> }>();
    assert.equal(doc.total, 2);
    assert.equal(doc.runs.length, 1);
    const full = await hostmaint(['history', 'compute-01', '--state-dir', dir, '-f', 'json', '--limit', '0']);
    const drain = full.json<typeof doc>().runs.find((x) => x.command === 'drain');
    assert.deepEqual([drain?.outcome, drain?.moved, drain?.total, drain?.failed], ['partial', 4, 5, 1]);
    const none = await hostmaint(['history', 'compute-09', '--state-dir', dir]);
    assert.match(none.stdout, /No runs of compute-09/);
  });

  it('history HOST --report FILE.md: the report of the latest run, again, with its events from the journal', async () => {
    assert.equal((await run(['drain', 'compute-01', '--yes', '--retries', '1'])).code, 4);
    const file = path.join(dir, 'again.md');
    const r = await hostmaint(['history', 'compute-01', '--state-dir', dir, '--report', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(file));
    const md = readFileSync(file, 'utf8');
    assert.match(md, /^# hostmaint drain compute-01: partial$/m);
    assert.match(md, /web-01: live migration requested/, 'events from the journal');
  });
});
