/**
 * The shipped maintenance cycle (`hostmaint run maintenance-cycle <host>`)
 * against the real OpenStack lab, as a real process (node bin/hostmaint.js;
 * `npm run build` first — npm test does), with the lab's clouds.yaml.
 *
 * The maintenance command really "reboots" the host the way `ssh host sudo
 * reboot` does: it returns at once, then compute-01's nova-compute stops and
 * comes back 35 s later (test/lab/compute.sh, in the background), so
 * wait-for-service (expect-restart) has to see it stop and then a heartbeat of
 * the new process, not the last ones of the old. What is asserted is what
 * an operator would check afterwards: the result, the saved run record, and
 * what Nova and Placement say (service enabled and up with no reason, every
 * server back on its host in its state, the host's allocations as before).
 *
 * A failing maintenance command (exit 3) stops the run at that step (exit 7)
 * with the host drained and disabled; `hostmaint undrain --return`, as the
 * output suggests, gives the host its servers back.
 *
 * Skips with a message when no lab runs; fails under CI.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cleanUpAfterDrains, createLabCloud, enableAllComputes } from '../contract/lab-cloud.js';
import type { CloudUnderTest } from '../contract/cloud-under-test.js';
import { REPO_ROOT, acquireLabLock, labCompute, requireLab, type LabInfo } from './lab.js';
import { tempDir } from '../cli/helpers.js';
import { requireBuiltCli, spawnHostmaint } from '../cli/runs-helpers.js';

interface StepJson {
  name: string;
  type: string;
  status: string;
  exitCode: number;
  message: string;
  detail: Record<string, unknown>;
  startedAt: string | null;
  finishedAt: string | null;
}
interface WorkflowJson {
  command: string;
  workflow: string;
  runId: string;
  host: string;
  outcome: string;
  exitCode: number;
  message: string;
  steps: StepJson[];
  failure: { step: string; exitCode: number; message: string } | null;
  manifest: Array<{ serverId: string; from: string; to: string; method?: string; status?: string }>;
  workflowFile: { ref: string; path: string | null; sha256: string; changedSinceStart: boolean };
  apiRequests?: Record<string, number>;
  run?: { runId: string; state: string; stateDir: string } | null;
}

const CYCLE_STEPS = ['disable', 'preflight', 'migrate', 'verify-empty', 'maintenance', 'wait-for-service', 'enable', 'return-instances'];
const SHIPPED = path.join(REPO_ROOT, 'workflows', 'maintenance-cycle.yaml');
const COMPUTE_SH = path.join(REPO_ROOT, 'test', 'lab', 'compute.sh');

/** Nova's updated_at (UTC, often without a zone) as ms. */
const novaTime = (t: string | null | undefined): number => (t ? Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`) : NaN);
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('maintenance cycle (hostmaint run) on the real OpenStack lab', function () {
  this.timeout(1_200_000);
  let lab: LabInfo;
  let cloud: CloudUnderTest;
  let dir: string;
  const created: string[] = [];
  let releaseLock: (() => void) | null = null;

  before(async function () {
    lab = requireLab(this);
    requireBuiltCli.call(this);
    releaseLock = await acquireLabLock('workflow');
    cloud = await createLabCloud(lab);
    dir = tempDir('hm-lab-workflow-');
    await enableAllComputes(cloud);
  });

  afterEach(async () => {
    if (!cloud) return;
    // A failed test may have left the host's nova-compute stopped: start it (a no-op, ~3 s, when it runs).
    await labCompute('start', cloud.computes[0]!).catch((e: unknown) => console.log(`    could not start ${cloud.computes[0]}: ${String(e)}`));
    await cleanUpAfterDrains(cloud, created);
    created.length = 0;
  });

  after(async () => {
    if (cloud) {
      await cloud.close?.();
      rmSync(dir, { recursive: true, force: true });
    }
    releaseLock?.();
  });

  /** `node bin/hostmaint.js run maintenance-cycle <host> ...` with the lab's clouds.yaml and this maintenance command. */
  async function cycle(host: string, stateDir: string, maintenanceCommand: string, format: 'json' | 'text') {
    // The LAB_* knobs pass through, so the restarted compute gets the configuration the lab was started with.
    const labKnobs = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('LAB_') && e[1] !== undefined));
    const env = { ...labKnobs, OS_CLIENT_CONFIG_FILE: lab.cloudsYaml, HOME: dir, LAB_DIR: lab.labDir, HOSTMAINT_MAINTENANCE_COMMAND: maintenanceCommand };
    const args = ['run', 'maintenance-cycle', host, '--os-cloud', 'lab', '--yes', '--state-dir', stateDir, '--reason', 'lab maintenance-cycle test', '--poll-interval', '1s', ...(format === 'json' ? ['-f', 'json'] : [])];
    const t0 = Date.now();
    const child = spawnHostmaint(args, env);
    const exit = await child.exited;
    return { code: exit.code, signal: exit.signal, stdout: child.stdout(), stderr: child.stderr(), wallMs: Date.now() - t0 };
  }

  /** Boot on `host`: two ACTIVE (two projects, two flavors) and one SHUTOFF. */
  async function bootServers(prefix: string, host: string): Promise<string[]> {
    const [p1, p2] = cloud.projects as [string, string];
    const ids = await Promise.all([
      cloud.bootServer({ name: `${prefix}-a1`, host, flavor: 'm1.tiny', project: p1 }),
      cloud.bootServer({ name: `${prefix}-a2`, host, flavor: 'm1.small', project: p2 }),
      cloud.bootServer({ name: `${prefix}-s1`, host, flavor: 'm1.tiny', project: p1 }),
    ]);
    created.push(...ids);
    await cloud.stopServer(ids[2]!);
    return ids;
  }

  async function providerOf(host: string): Promise<string> {
    const [rp] = await cloud.session.placement.listProviders({ name: host });
    assert.ok(rp, `no resource provider named ${host}`);
    return rp.uuid;
  }

  function compute01Pid(): string {
    const file = path.join(lab.labDir, 'run', `${cloud.computes[0]}.pid`);
    return existsSync(file) ? (readFileSync(file, 'utf8').trim().split(/\s+/)[0] ?? '') : '';
  }

  function savedRecord(stateDir: string, runId: string): Record<string, unknown> & { state: string; outcome: string | null; exitCode: number | null; workflowFile?: { sha256: string; content: string; ref: string }; result: WorkflowJson } {
    const file = path.join(stateDir, 'runs', runId, 'run.json');
    assert.ok(existsSync(file), `no run record at ${file}`);
    return JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof savedRecord>;
  }

  it('drain, a real restart of nova-compute, a fresh heartbeat, enable, return: exit 0, the host as it was', async () => {
    const src = cloud.computes[0]!;
    const ids = await bootServers('hm-cycle', src);
    const before = new Map((await cloud.session.compute.listServersOnHost(src)).map((s) => [s.id, s.status]));
    for (const id of ids) assert.ok(before.has(id), `${id} is not on ${src}`);
    assert.deepEqual(ids.map((id) => before.get(id)), ['ACTIVE', 'ACTIVE', 'SHUTOFF']);
    const rp = await providerOf(src);
    const allocationsBefore = await cloud.session.placement.getProviderAllocations(rp);
    for (const id of ids) assert.ok(allocationsBefore[id], `no allocation of ${id} on ${src}`);
    const pidBefore = compute01Pid();
    assert.ok(pidBefore, `no pid file of ${src}`);

    // The "reboot", as `ssh host sudo reboot` does it: the command returns at once, nova-compute stops
    // a moment later and comes back 35 s after that (compute.sh start waits until Nova shows it up).
    const rebootLog = path.join(dir, 'reboot.log');
    const reboot = `setsid sh -c 'sleep 2; bash ${COMPUTE_SH} stop "$0"; sleep 35; bash ${COMPUTE_SH} start "$0"' "$HOSTMAINT_HOST" > '${rebootLog}' 2>&1 < /dev/null &`;
    const stateDir = path.join(dir, 'state-ok');
    const r = await cycle(src, stateDir, reboot, 'json');
    assert.equal(r.code, 0, `exit ${r.code} (${r.signal ?? 'no signal'})\n${r.stdout}\n${r.stderr}`);
    const result = JSON.parse(r.stdout) as WorkflowJson;
    const total = Object.values(result.apiRequests ?? {}).reduce((a, b) => a + b, 0);
    const took = (s: StepJson) => (s.startedAt && s.finishedAt ? ((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1) : '?');
    console.log(`    lab maintenance cycle of ${ids.length} servers: ${(r.wallMs / 1000).toFixed(1)} s wall, ${total} API requests ${JSON.stringify(result.apiRequests ?? {})}`);
    console.log(`    steps: ${result.steps.map((s) => `${s.name} ${took(s)} s`).join(', ')}`);

    // The result, as an operator reads it.
    assert.equal(result.outcome, 'completed', result.message);
    assert.equal(result.exitCode, 0);
    assert.equal(result.host, src);
    assert.equal(result.workflow, 'maintenance-cycle');
    assert.deepEqual(result.steps.map((s) => s.name), CYCLE_STEPS);
    assert.deepEqual(result.steps.map((s) => `${s.name}:${s.status}`), CYCLE_STEPS.map((n) => `${n}:ok`));
    assert.equal(result.failure, null);
    for (let i = 1; i < result.steps.length; i++) {
      const prev = result.steps[i - 1]!;
      const cur = result.steps[i]!;
      assert.ok(Date.parse(cur.startedAt!) >= Date.parse(prev.startedAt!), `${cur.name} started before ${prev.name}`);
    }
    const exec = result.steps.find((s) => s.name === 'maintenance')!;
    assert.equal(exec.type, 'exec');
    assert.equal(exec.detail['exitCode'], 0, JSON.stringify(exec.detail));
    assert.equal(exec.detail['timedOut'], false);
    // The reboot happened after the command returned (its log is written by the background job).
    const rebootDone = Date.now() + 60_000;
    while (!/ up/.test(existsSync(rebootLog) ? readFileSync(rebootLog, 'utf8') : '') && Date.now() < rebootDone) await new Promise((res) => setTimeout(res, 500));
    assert.match(readFileSync(rebootLog, 'utf8'), new RegExp(`${src} stopped[\\s\\S]*${src} up`));
    // The manifest: every server moved off (the SHUTOFF one cold), to another host.
    assert.deepEqual(result.manifest.map((m) => m.serverId).sort(), [...ids].sort());
    for (const m of result.manifest) {
      assert.equal(m.from, src);
      assert.notEqual(m.to, src);
    }
    assert.equal(result.manifest.find((m) => m.serverId === ids[2])?.method, 'cold');

    // nova-compute really was restarted, and wait-for-service only passed on a heartbeat of the new process.
    const pidAfter = compute01Pid();
    assert.ok(pidAfter && pidAfter !== pidBefore, `${src} pid ${pidBefore} -> ${pidAfter}: not restarted`);
    const wait = result.steps.find((s) => s.name === 'wait-for-service')!;
    assert.equal(wait.detail['fresh'], true);
    assert.equal(wait.detail['seenStopped'], true, `wait-for-service did not see nova-compute stop: ${JSON.stringify(wait.detail)}`);
    assert.equal(wait.detail['lastState'], 'up');
    assert.ok(Number(wait.detail['polls']) >= 2, `wait-for-service passed on its first poll: ${JSON.stringify(wait.detail)}`);
    const heartbeat = novaTime(wait.detail['lastUpdatedAt'] as string);
    assert.ok(heartbeat > novaTime(wait.detail['baseline'] as string), `heartbeat not newer than the baseline: ${JSON.stringify(wait.detail)}`);
    assert.ok(heartbeat >= Date.parse(exec.finishedAt!) - 2000, `heartbeat ${String(wait.detail['lastUpdatedAt'])} older than the end of the restart ${exec.finishedAt}`);

    // The saved run record.
    const rec = savedRecord(stateDir, result.runId);
    assert.equal(rec.state, 'finished');
    assert.equal(rec.outcome, 'completed');
    assert.equal(rec.exitCode, 0);
    assert.equal(rec.workflowFile?.sha256, sha256(SHIPPED));
    assert.equal(rec.workflowFile?.content, readFileSync(SHIPPED, 'utf8'));
    assert.equal(result.workflowFile.sha256, sha256(SHIPPED));
    assert.equal(result.workflowFile.changedSinceStart, false);
    assert.deepEqual(rec.result.steps.map((s) => s.status), CYCLE_STEPS.map(() => 'ok'));

    // What Nova and Placement say now.
    const [svc] = await cloud.session.compute.listServices({ host: src, binary: 'nova-compute' });
    assert.equal(svc?.status, 'enabled');
    assert.equal(svc?.state, 'up');
    assert.equal(svc?.disabledReason ?? null, null);
    const back = await cloud.session.compute.listServersOnHost(src);
    assert.deepEqual(back.map((s) => s.id).sort(), [...ids].sort(), `on ${src}: ${back.map((s) => s.name).join(', ')}`);
    for (const id of ids) {
      const s = await cloud.session.compute.getServer(id);
      assert.equal(s.host, src, `${s.name} on ${s.host}`);
      assert.equal(s.status, before.get(id), `${s.name} came back ${s.status}, went in ${before.get(id)}`);
      assert.equal(s.taskState, null, `${s.name} task_state ${s.taskState}`);
      const migrations = await cloud.session.compute.listMigrations({ instanceUuid: id });
      const open = migrations.filter((m) => !['completed', 'confirmed', 'error', 'failed', 'cancelled', 'done'].includes(m.status.toLowerCase()));
      assert.deepEqual(open.map((m) => `${m.id} ${m.status}`), [], `${s.name}: unfinished migrations`);
      // Placement: the server's only allocation is on the host, as before the cycle.
      const alloc = await cloud.session.placement.getConsumerAllocations(id);
      assert.deepEqual(Object.keys(alloc.allocations), [rp], `${s.name}: allocations on ${Object.keys(alloc.allocations).join(', ')}`);
      assert.deepEqual(alloc.allocations[rp], allocationsBefore[id]);
    }
    assert.deepEqual(await cloud.session.placement.getProviderAllocations(rp), allocationsBefore);
    const [hyp] = await cloud.session.compute.findHypervisors(src, { withServers: true });
    assert.deepEqual((hyp?.servers ?? []).map((s) => s.id).sort(), [...ids].sort());
    for (const other of cloud.computes.slice(1)) {
      const allocs = await cloud.session.placement.getProviderAllocations(await providerOf(other));
      for (const id of ids) assert.equal(allocs[id], undefined, `${id} still has an allocation on ${other}`);
    }
  });

  it('a maintenance command that fails (exit 3): exit 7 at that step, the host left drained and disabled; undrain --return gives it back', async () => {
    const src = cloud.computes[0]!;
    const ids = await bootServers('hm-cycle-fail', src);
    const before = new Map((await cloud.session.compute.listServersOnHost(src)).map((s) => [s.id, s.status]));
    const stateDir = path.join(dir, 'state-fail');

    // Plain output (what a person or a CI log sees), then the saved record for the details.
    const r = await cycle(src, stateDir, 'echo "patching $HOSTMAINT_HOST failed" >&2; exit 3', 'text');
    console.log(`    failing cycle: ${(r.wallMs / 1000).toFixed(1)} s wall`);
    assert.equal(r.code, 7, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    const out = `${r.stdout}\n${r.stderr}`;
    assert.match(out, /maintenance/);
    assert.match(out, /exit(ed)?( with)?( code)? 3/i);
    assert.match(out, new RegExp(`hostmaint undrain ${src} --return`));
    const runId = /run (\d{8}T\d{6}Z-[0-9a-f]+)/.exec(out)?.[1] ?? /(\d{8}T\d{6}Z-[0-9a-f]+)/.exec(out)?.[1];
    assert.ok(runId, `no run id in the output:\n${out}`);

    const rec = savedRecord(stateDir, runId);
    assert.equal(rec.state, 'finished');
    assert.equal(rec.outcome, 'failed');
    assert.equal(rec.exitCode, 7);
    const result = rec.result;
    assert.deepEqual(result.steps.map((s) => `${s.name}:${s.status}`), ['disable:ok', 'preflight:ok', 'migrate:ok', 'verify-empty:ok', 'maintenance:failed']);
    const exec = result.steps.find((s) => s.name === 'maintenance')!;
    assert.equal(exec.exitCode, 7);
    assert.equal(exec.detail['exitCode'], 3);
    assert.match(String(exec.detail['stderrTail']), new RegExp(`patching ${src} failed`));
    assert.equal(result.failure?.step, 'maintenance');
    assert.equal(result.failure?.exitCode, 7);

    // The host: disabled by this run, empty in Nova and Placement.
    const [svc] = await cloud.session.compute.listServices({ host: src, binary: 'nova-compute' });
    assert.equal(svc?.status, 'disabled');
    assert.match(svc?.disabledReason ?? '', new RegExp(`^hostmaint:${runId}: lab maintenance-cycle test`));
    assert.deepEqual((await cloud.session.compute.listServersOnHost(src)).map((s) => s.name), []);
    assert.deepEqual(await cloud.session.placement.getProviderAllocations(await providerOf(src)), {});
    for (const id of ids) {
      const s = await cloud.session.compute.getServer(id);
      assert.notEqual(s.host, src);
      assert.equal(s.status, before.get(id));
    }

    // What the output says to do next: enable the host and move the servers back.
    const u = spawnHostmaint(['undrain', src, '--return', '--os-cloud', 'lab', '-f', 'json', '--state-dir', stateDir, '--poll-interval', '1s'], { OS_CLIENT_CONFIG_FILE: lab.cloudsYaml, HOME: dir });
    const ue = await u.exited;
    assert.equal(ue.code, 0, `${u.stdout()}\n${u.stderr()}`);
    const [after] = await cloud.session.compute.listServices({ host: src, binary: 'nova-compute' });
    assert.equal(after?.status, 'enabled');
    assert.equal(after?.disabledReason ?? null, null);
    for (const id of ids) {
      const s = await cloud.session.compute.getServer(id);
      assert.equal(s.host, src, `${s.name} on ${s.host}; the undrain said:\n${u.stdout()}`);
      assert.equal(s.status, before.get(id));
    }
  });
});
