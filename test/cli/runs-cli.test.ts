/**
 * Saved runs through the CLI, in this process, against an emulated cloud that
 * outlives each hostmaint run (scaled real time, `--os-cloud emu` through a
 * clouds.yaml): Ctrl-C and resume (explicit and by running the same drain
 * again), one run per host, another run's marker on the service, status
 * without the cloud, and no secret in a run's files.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { isMigrationStarted, runsScenario, startCloud, whenJournal, type TestCloud } from './runs-helpers.js';
import { captureOriginals, checkInvariants } from '../emulator/crash-helpers.js';
import { token } from '../emulator/helpers.js';

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

describe('hostmaint saved runs (CLI against a live emulated cloud)', function () {
  this.timeout(120_000);
  let dir: string;
  let state: string;
  let cloud: TestCloud | null = null;
  beforeEach(() => {
    dir = tempDir('hm-runs-');
    state = path.join(dir, 'state');
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });
  const drain = (extra: string[] = []) => ['drain', 'compute-01', ...cloud!.args, '--yes', '--state-dir', state, '--poll-interval', '200ms', ...extra];

  /** Start a drain, press Ctrl-C once a migration was requested; returns the run id from the resume hint. */
  async function interruptedDrain(extra: string[] = []): Promise<{ runId: string; stderr: string; stdout: string }> {
    const run = hostmaint(drain(extra), cloud!.env);
    await whenJournal(state, isMigrationStarted);
    process.emit('SIGINT', 'SIGINT');
    const r = await run;
    assert.equal(r.code, 130, r.stderr);
    const m = /Resume it with:\n {2}hostmaint resume (\S+) --state-dir (\S+) --os-cloud emu\n/.exec(r.stderr);
    assert.ok(m, `no resume command in:\n${r.stderr}`);
    assert.equal(m[2], state);
    return { runId: m[1]!, stderr: r.stderr, stdout: r.stdout };
  }

  it('Ctrl-C: exit 130 with the command that resumes; status shows it without the cloud; `resume <id>` finishes it, nothing moved twice', async () => {
    cloud = await startCloud(dir, runsScenario());
    const originals = captureOriginals(cloud.emu, 'compute-01');
    const { runId, stdout } = await interruptedDrain(['-f', 'json']);
    const first = JSON.parse(stdout) as { outcome: string; run: { runId: string; state: string; resumeCommand: string } };
    assert.equal(first.outcome, 'interrupted');
    assert.equal(first.run.state, 'interrupted');
    assert.equal(first.run.runId, runId);

    // status reads the state directory only: stop the cloud's answers to prove it.
    cloud.emu.inject({ kind: 'http-error', status: 500, name: 'no cloud for status' });
    const requests = cloud.emu.requests.length;
    const list = await hostmaint(['status', '--state-dir', state, '-f', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const runs = list.json<{ runs: Array<{ runId: string; state: string; resumable: boolean; progress: { total: number } }> }>().runs;
    assert.equal(runs[0]?.runId, runId);
    assert.equal(runs[0]?.state, 'interrupted');
    assert.equal(runs[0]?.resumable, true);
    assert.equal(runs[0]?.progress.total, 5);
    const detail = await hostmaint(['status', 'compute-01', '--state-dir', state]);
    assert.equal(detail.code, 0, detail.stderr);
    assert.match(detail.stdout, /^state +interrupted \(interrupted by SIGINT\)/m);
    assert.match(detail.stdout, /INSTANCE +METHOD +PHASE +ATTEMPTS/);
    assert.match(detail.stdout, /decision interrupted/);
    assert.match(detail.stdout, new RegExp(`Resume it with: hostmaint resume ${runId}`));
    assert.equal(cloud.emu.requests.length, requests, 'status called the cloud');
    cloud.emu.clearFaults();

    // The run's own cloud is used when none is named.
    const resumed = await hostmaint(['resume', runId, '--state-dir', state, '-f', 'json'], cloud.env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`resuming drain run ${runId} of compute-01 \\(interrupted: interrupted by SIGINT; at migrating`));
    const result = resumed.json<{ outcome: string; runId: string; run: { resumed: boolean; state: string; resumes: number } }>();
    assert.equal(result.outcome, 'drained');
    assert.equal(result.runId, runId);
    assert.deepEqual([result.run.resumed, result.run.state, result.run.resumes], [true, 'finished', 1]);
    assert.deepEqual(checkInvariants(cloud.emu, 'compute-01', originals, { exactlyOneRequest: true }), []);
    assert.equal(cloud.emu.state.host('compute-01')!.disabledReason?.startsWith(`hostmaint:${runId}:`), true);

    const again = await hostmaint(['resume', runId, '--state-dir', state], cloud.env);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is finished \(drained\): there is nothing to resume/);
  });

  it('running the same drain again resumes the saved run, says so, and names the given flags it did not apply', async () => {
    cloud = await startCloud(dir, runsScenario());
    const originals = captureOriginals(cloud.emu, 'compute-01');
    const { runId } = await interruptedDrain();
    const r = await hostmaint(drain(['--concurrency', '3']), cloud.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`resuming drain run ${runId}`));
    assert.match(r.stderr, /these given ones differ and were not applied: concurrency/);
    assert.deepEqual(checkInvariants(cloud.emu, 'compute-01', originals, { exactlyOneRequest: true }), []);
    // --new-run would have started over: the run is finished now, so a new drain is a new run (adopting the finished marker).
    const fresh = await hostmaint(drain(['-f', 'json']), cloud.env);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.notEqual(fresh.json<{ runId: string }>().runId, runId);
    assert.match(fresh.stderr, new RegExp(`disabled by hostmaint run ${runId} \\(.*its run is over \\(finished\\)\\): this run carries on under its marker`));
  });

  it('one run per host: a second drain or undrain of the host exits 5 naming the holder (pid, run id, start time)', async () => {
    cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 100 } }));
    const first = hostmaint(drain(['-f', 'json']), cloud.env);
    const started = await whenJournal(state, (e) => e.kind === 'decision' && e.decision === 'run-created');
    await whenJournal(state, isMigrationStarted);
    const second = await hostmaint(drain(), cloud.env);
    assert.equal(second.code, 5, second.stderr);
    assert.match(second.stderr, new RegExp(`compute-01 is being drained by another hostmaint: pid ${process.pid}, run ${String(started.runId)} \\(drain\\), started \\d{4}-`));
    assert.match(second.stderr, /what to do: .*hostmaint status/);
    const undrain = await hostmaint(['undrain', 'compute-01', ...cloud.args, '--state-dir', state], cloud.env);
    assert.equal(undrain.code, 5, undrain.stderr);
    const r = await first;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json<{ outcome: string }>().outcome, 'drained');
  });

  it("another run's marker on the service (another machine): exit 5 naming it, nothing changed; --adopt carries on", async () => {
    cloud = await startCloud(dir, runsScenario());
    const originals = captureOriginals(cloud.emu, 'compute-01');
    const h = cloud.emu.state.cloud.hosts.get('compute-01')!;
    h.disabled = true;
    h.disabledReason = 'hostmaint:20231231T120000Z-beef: firmware CHG-9 (by bob@jump-2)';
    const writes = () => cloud!.emu.requests.records.filter((x) => x.method !== 'GET' && x.service !== 'identity').length;
    const r = await hostmaint(drain(), cloud.env);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /compute-01 is already disabled by hostmaint run 20231231T120000Z-beef \(reason "firmware CHG-9 \(by bob@jump-2\)"; started 2023-12-31T12:00:00Z; this machine has no record of it: it may be live on another machine\)/);
    assert.match(r.stdout + r.stderr, /--adopt/);
    assert.equal(writes(), 0, 'the refused drain changed something');
    const adopted = await hostmaint(drain(['--adopt', '-f', 'json']), cloud.env);
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.equal(adopted.json<{ service: { ownership: string } }>().service.ownership, 'adopted');
    assert.deepEqual(checkInvariants(cloud.emu, 'compute-01', originals), []);
    assert.equal(cloud.emu.state.host('compute-01')!.disabledReason, 'hostmaint:20231231T120000Z-beef: firmware CHG-9 (by bob@jump-2)');
  });

  it('nothing secret in a run\'s files: neither the password nor any token (password and token auth)', async () => {
    const password = 'Pa55-Kx91-not-for-files';
    cloud = await startCloud(dir, runsScenario({ adminPassword: password }));
    const r = await hostmaint(drain(), cloud.env);
    assert.equal(r.code, 0, r.stderr);
    const tk = await token(cloud.emu, { password });
    const env = {
      OS_AUTH_URL: cloud.emu.authUrl,
      OS_AUTH_TYPE: 'token',
      OS_TOKEN: tk,
      OS_PROJECT_NAME: cloud.emu.credentials.projectName,
      OS_PROJECT_DOMAIN_NAME: 'Default',
    };
    const u = await hostmaint(['undrain', 'compute-01', '--state-dir', state, '-vv', '--log-file', path.join(dir, 'log.json')], env);
    assert.equal(u.code, 0, u.stderr);
    const files = allFiles(state);
    assert.ok(files.filter((f) => f.endsWith('run.json')).length === 2 && files.filter((f) => f.endsWith('journal.ndjson')).length === 2, files.join('\n'));
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      assert.ok(!text.includes(password), `${f} holds the password`);
      assert.ok(!text.includes(tk), `${f} holds the token`);
      assert.ok(!/gAAAAAB/.test(text), `${f} holds a token`);
      if (!f.endsWith('.lock')) assert.equal(statSync(f).mode & 0o077, 0, `${f} is readable by others`);
    }
    assert.equal(statSync(state).mode & 0o777, 0o700);
  });
});
