/**
 * The final summary (stdout table) and the change-ticket report, from the
 * result documents of recorded runs (test/fixtures/events/results/).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DrainEvent } from '../../../src/machines/events.js';
import type { DrainResult, UndrainResult } from '../../../src/machines/results.js';
import { formatDrainResult, formatUndrainResult, nextSteps, repeatedFlags } from '../../../src/report/result.js';
import { buildReport, renderMarkdown, reportFormat, timelineEntry, writeReport, type ReportContext } from '../../../src/report/report.js';
import { FIXTURES, readEvents } from './replay.js';
import { matchSnapshot } from './snapshot.js';

function result<T = DrainResult>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, 'results', `${name}.json`), 'utf8')) as T;
}

const ctx = (command: string): ReportContext => ({
  command,
  argv: [command, 'compute-01', '--os-cloud', 'demo', '--yes', '--os-password', '***'],
  cloudName: 'demo',
  user: 'admin',
  who: 'alice@ops-1',
});

const timeline = (name: string) => readEvents(name).map((e: DrainEvent) => timelineEntry(e)).filter((t) => t !== null);
const format = (name: string) => {
  const r = result<DrainResult | UndrainResult>(name);
  const c = { argv: ctx(r.command).argv };
  return r.command === 'drain' ? formatDrainResult(r, c) : formatUndrainResult(r, c);
};

describe('final summary', () => {
  for (const name of ['drain-demo', 'drain-escalation', 'drain-partial', 'drain-refused', 'plan-demo', 'undrain-return']) {
    it(`${name}`, () => matchSnapshot(`summary.${name}`, format(name)));
  }

  it('a table of every instance with name, project, from, to, method, time and result, then the host, then what next', () => {
    const text = format('drain-demo');
    assert.match(text, /^INSTANCE +PROJECT +FROM +TO +METHOD +TIME +RESULT/m);
    assert.match(text, /^db-2 +[0-9a-f]{32} +compute-01 +compute-0[234] +live +\d+\.\ds +moved/m);
    assert.match(text, /^Host compute-01: nova-compute disabled, up \("hostmaint:[^"]+"\); verified empty\.$/m);
    assert.match(text, /^Next:\n {2}Do the maintenance, then give compute-01 back:\n {4}hostmaint undrain compute-01 --os-cloud demo$/m);
    assert.match(text, /hostmaint undrain compute-01 --return --os-cloud demo/);
  });

  it('a partial drain lists what is left and why, and how to carry on', () => {
    const text = format('drain-partial');
    assert.match(text, /^web-02 .* failed \(2 attempts\) +attempt 2: migration failed/m);
    assert.match(text, /^Still on compute-01:\n {2}- server frozen-1 \[SUSPENDED\]/m);
    assert.match(text, /hostmaint drain compute-01 --os-cloud demo/);
  });

  it('without the command line (the confirmation prompt), no next steps', () => {
    assert.doesNotMatch(formatDrainResult(result('plan-demo')), /Next:/);
  });

  it('next steps repeat the cloud and state directory, quoted for the shell, never a secret', () => {
    assert.equal(repeatedFlags({ argv: ['drain', 'h', '--os-cloud=prod east', '--state-dir', '/var/lib/hm', '--os-password', 'pw'] }), " --os-cloud 'prod east' --state-dir /var/lib/hm");
    const r = result('drain-refused');
    assert.deepEqual(nextSteps(r, {}), ['Nothing was changed. Deal with the findings above (each says how, or which flag overrides it), then check again:', '  hostmaint plan compute-01']);
  });
});

describe('--report', () => {
  it('knows its formats by the file name', () => {
    assert.equal(reportFormat('CHG-1.md'), 'md');
    assert.equal(reportFormat('x.JSON'), 'json');
    assert.equal(reportFormat('x.txt'), null);
  });

  for (const name of ['drain-demo', 'drain-partial', 'drain-refused', 'undrain-return']) {
    it(`Markdown report: ${name}`, () => {
      const r = result<DrainResult | UndrainResult>(name);
      const report = buildReport(r, ctx(r.command), timeline(name), { apiRequests: 42 });
      report.generatedBy = 'hostmaint (version)';
      matchSnapshot(`report.${name}`, renderMarkdown(report, r));
    });
  }

  it('answers who ran what, when, on which cloud; preflight; plan; what moved where and how long; what is left and why', () => {
    const r = result('drain-partial');
    const md = renderMarkdown(buildReport(r, ctx('drain'), timeline('drain-partial')), r);
    for (const re of [
      /^\| Run by \| alice@ops-1 as Keystone user admin \|$/m,
      /^\| Command \| hostmaint drain compute-01 --os-cloud demo --yes --os-password \*\*\* \|$/m,
      /^\| Cloud \| demo \|$/m,
      /^\| Started \| 2024-01-01T00:00:00Z \(UTC\) \|$/m,
      /^## Preflight$/m,
      /^### Targets$/m,
      /^## Plan$/m,
      /^\| db-1 \| [0-9a-f]{32} \| compute-01 \| compute-0\d \| live \| .* \| moved \| 2 \| .*aborted by hostmaint/m,
      /^## Left on the host\n\n- server frozen-1 \[SUSPENDED\]/m,
      /^- server web-02 \[ACTIVE\]/m,
      /^## Next$/m,
    ]) assert.match(md, re);
  });

  it('JSON report: one document with the run, preflight, plan, moves, leftovers, timeline and next steps', () => {
    const r = result('drain-demo');
    const doc = buildReport(r, ctx('drain'), timeline('drain-demo'), { apiRequests: 7 });
    assert.equal(doc.kind, 'hostmaint-report');
    const run = doc.run as Record<string, unknown>;
    assert.equal(run.who, 'alice@ops-1');
    assert.equal(run.apiRequests, 7);
    assert.equal((doc.moves as unknown[]).length, 12);
    assert.ok((doc.moves as Array<{ projectId: string | null }>).every((m) => m.projectId !== null));
    assert.ok((doc.timeline as unknown[]).length > 10);
    assert.ok((doc.next as string[]).some((n) => /undrain compute-01/.test(n)));
  });

  it('writes the file 0600 in the format its name asks for', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-report-'));
    try {
      const r = result('drain-demo');
      writeReport(path.join(dir, 'r.json'), r, ctx('drain'), []);
      writeReport(path.join(dir, 'r.md'), r, ctx('drain'), []);
      assert.equal(JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')).kind, 'hostmaint-report');
      assert.match(readFileSync(path.join(dir, 'r.md'), 'utf8'), /^# hostmaint drain compute-01: drained$/m);
      assert.equal(statSync(path.join(dir, 'r.md')).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
