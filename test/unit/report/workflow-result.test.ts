/**
 * The final summary and the --report file of workflow runs and rolling runs,
 * from the result documents of runs on the emulated cloud
 * (test/unit/report/fixtures/, recorded by test/emulator/workflow-events.test.ts).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { RollingResult } from '../../../src/runs/rolling-runner.js';
import type { WorkflowResult } from '../../../src/runs/workflow-runner.js';
import { createRunOutput } from '../../../src/report/output.js';
import { timelineEntry, writeReport, type ReportContext } from '../../../src/report/report.js';
import { formatRollingResult, formatWorkflowResult } from '../../../src/report/workflow-result.js';
import { WORKFLOW_FIXTURES, readWorkflowEvents, readWorkflowResult } from './replay.js';
import { matchSnapshot } from './snapshot.js';

const SNAPS = path.join(WORKFLOW_FIXTURES, 'snapshots');
const argv = ['run', 'cycle', 'compute-01', '--os-cloud', 'lab', '--state-dir', '/srv/hm'];
const ctx: ReportContext = { command: 'run', argv, cloudName: 'lab', user: 'admin', who: 'alice@ops-1' };
const wf = (name: string) => readWorkflowResult<WorkflowResult>(name);
const roll = () => readWorkflowResult<RollingResult>('rolling-reboot');
const timeline = (name: string) => readWorkflowEvents(name).map((e) => timelineEntry(e)).filter((t) => t !== null);

describe('workflow run summary', () => {
  for (const name of ['workflow-cycle', 'workflow-waiting', 'workflow-failed']) {
    it(name, () => matchSnapshot(`summary.${name}`, formatWorkflowResult(wf(name), { argv }), SNAPS));
  }
  it('rolling-reboot', () => matchSnapshot('summary.rolling-reboot', formatRollingResult(roll(), { argv }), SNAPS));

  it('a header with outcome and exit code, a row per step, the compensation marked, the failure and what next', () => {
    const text = formatWorkflowResult(wf('workflow-failed'), { argv });
    assert.match(text, /^compute-02: workflow patch failed \(exit 7\) - /);
    assert.match(text, /^STEP +TYPE +STATUS +EXIT +TIME +MESSAGE$/m);
    assert.match(text, /^patch +exec +FAILED +7 /m);
    assert.match(text, /^re-enable\/enable +enable +ok +0 /m);
    assert.match(text, /^re-enable\/...: the steps of the compensation re-enable, run because step patch failed\.$/m);
    assert.match(text, /^Failed at step patch \(exit 7\): exec patch: exited 3/m);
    // status reads only the state directory: its command carries --state-dir, not the cloud
    assert.match(text, /hostmaint status \S+ --state-dir \/srv\/hm$/m);
  });

  it('a waiting run: the approve step waiting, and `hostmaint continue <id>` with the same cloud', () => {
    const r = wf('workflow-waiting');
    const text = formatWorkflowResult(r, { argv });
    assert.match(text, /^approve +approve +WAITING +8 +Check the firmware version first\.$/m);
    assert.ok(text.includes(`    hostmaint continue ${r.runId} --os-cloud lab --state-dir /srv/hm\n`), text);
  });

  it('an interrupted run: the resume command; a changed workflow file: a warning', () => {
    const r: WorkflowResult = { ...wf('workflow-waiting'), outcome: 'interrupted', exitCode: 130, next: 'hostmaint resume X1', workflowFile: { ...wf('workflow-waiting').workflowFile, changedSinceStart: true } };
    const text = formatWorkflowResult(r, { argv });
    assert.match(text, /^warning: the workflow file .* changed since this run started/m);
    assert.match(text, /^ {4}hostmaint resume X1 --os-cloud lab/m);
  });

  it('no control code from tenant or file strings', () => {
    const r = wf('workflow-failed');
    const bad: WorkflowResult = { ...r, host: 'h\u001b[2J', steps: r.steps.map((s) => ({ ...s, message: `${s.message}\u001b[31m\u0007` })) };
    assert.doesNotMatch(formatWorkflowResult(bad, { argv }), /[\u0000-\u0009\u000b-\u001f\u007f]/);
    const rb: RollingResult = { ...roll(), hosts: roll().hosts.map((h) => ({ ...h, message: '\u001b]0;x\u0007evil' })) };
    assert.doesNotMatch(formatRollingResult(rb, { argv }), /[\u0000-\u0009\u000b-\u001f\u007f]/);
  });

  it('rolling: a row per host with its run id, the summary; a failed host: its own run to look at', () => {
    const r = roll();
    const text = formatRollingResult(r, { argv });
    assert.match(text, /^rolling reboot: completed \(exit 0\) - 2 hosts: 2 done/);
    for (const h of r.hosts) assert.match(text, new RegExp(`^${h.host} +done +0 +${h.childRunId} `, 'm'));
    const failed: RollingResult = { ...r, outcome: 'failed', exitCode: 7, hosts: [r.hosts[0]!, { ...r.hosts[1]!, status: 'failed', exitCode: 7, message: 'step reboot failed' }] };
    assert.ok(formatRollingResult(failed, { argv }).includes(`    hostmaint status ${r.hosts[1]!.childRunId}`));
  });
});

describe('workflow run --report and RunOutput.result()', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'hm-wfrep-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('Markdown: the steps table, the failure, the timeline, what next', () => {
    const file = path.join(dir, 'r.md');
    writeReport(file, wf('workflow-failed'), ctx, timeline('workflow-failed'));
    const md = readFileSync(file, 'utf8');
    matchSnapshot('report.workflow-failed', md.replace(/hostmaint \d+\.\d+\.\d+\S*/g, 'hostmaint X'), SNAPS);
    assert.match(md, /^# hostmaint run patch on compute-02: failed$/m);
    assert.match(md, /^\| re-enable\/enable \| enable \| ok \| 0 \|/m);
    assert.match(md, /step patch: FAILED \(exit 7\)/);
  });

  it('JSON: steps, hosts; and a rolling Markdown report with the hosts table', () => {
    const file = path.join(dir, 'r.json');
    writeReport(file, wf('workflow-cycle'), ctx, timeline('workflow-cycle'), { apiRequests: 10 });
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { run: { command: string; apiRequests: number }; steps: unknown[] };
    assert.equal(doc.run.command, 'run');
    assert.equal(doc.steps.length, 8);
    assert.equal(doc.run.apiRequests, 10);
    const md = path.join(dir, 'roll.md');
    writeReport(md, roll(), ctx, timeline('rolling-reboot'));
    const text = readFileSync(md, 'utf8');
    assert.match(text, /^## Hosts$/m);
    for (const h of roll().hosts) assert.ok(text.includes(`| ${h.host} | done | 0 | ${h.childRunId} |`), text);
  });

  it('RunOutput.result(): the summary for a table, the whole document with -f json, the report file', () => {
    const run = (format: 'table' | 'json', r: WorkflowResult | RollingResult, report?: string) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = '';
      stdout.on('data', (d: Buffer) => (out += d.toString()));
      const o = createRunOutput({ stdout, stderr, env: {}, interactive: false } as never, { format, quiet: true, ...(report ? { report } : {}) }, { command: 'run', argv, cloudName: 'lab', user: null, who: 'a@b', steps: 8 });
      for (const e of readWorkflowEvents('workflow-cycle')) o.emit(e);
      o.result(r, { apiRequests: 3 });
      return out;
    };
    assert.match(run('table', wf('workflow-cycle')), /^compute-01: workflow cycle completed \(exit 0\)/);
    assert.match(run('table', roll()), /^rolling reboot: completed \(exit 0\)/);
    const doc = JSON.parse(run('json', wf('workflow-cycle'))) as Record<string, unknown>;
    assert.deepEqual({ ...doc, apiRequests: undefined }, { ...wf('workflow-cycle'), apiRequests: undefined });
    const file = path.join(dir, 'out.md');
    run('table', wf('workflow-cycle'), file);
    assert.match(readFileSync(file, 'utf8'), /^## Steps$/m);
  });
});
