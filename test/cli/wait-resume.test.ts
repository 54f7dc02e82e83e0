/**
 * Issue 21: a maintenance cycle (drain, a reboot that returns at once,
 * wait-for-service with expect-restart, enable, return-instances) as a real
 * process, SIGKILLed at every point of the wait-for-service step, and the same
 * command run again: it must finish (exit 0, completed), the host enabled with
 * its instances back. Before the step saved its progress, a kill after the
 * stop (or one before it, resumed after the host was back) waited for a stop
 * that never came ("never stopped within ...", exit 7, the host left empty).
 *
 * The kill points run side by side, each against its own emulated cloud (50x
 * real time: the reboot is 3 s of real time away from the command and lasts
 * 8 s). `npm run soak:rolling -- --reboot` runs the same points at random.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers.js';
import { requireBuiltCli, runsScenario, spawnHostmaint, startCloud, whenJournal, type TestCloud } from './runs-helpers.js';
import { doubleMoves } from '../emulator/crash-helpers.js';

/** The exec step's command: like `ssh host sudo reboot`, it asks for a reboot and returns. */
export function rebootCommand(emuUrl: string, inMs: number, upAfterMs: number): string {
  return `node -e 'fetch(process.argv[1] + "/_emulator/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "host-down", host: process.env.HOSTMAINT_HOST, in_ms: ${inMs}, up_after_ms: ${upAfterMs} }) }).then((r) => process.exit(r.status === 201 ? 0 : 1))' ${emuUrl}`;
}

export function cycleWorkflow(command: string): string {
  return [
    'version: 1',
    'name: cycle-wait',
    'steps:',
    '  - type: disable',
    '  - type: preflight',
    '  - type: migrate',
    '  - type: verify-empty',
    '  - type: exec',
    '    name: maintenance',
    `    command: ${JSON.stringify(command)}`,
    '  - type: wait-for-service',
    '    timeout: 2m',
    '    poll-interval: 1s',
    '    fresh: true',
    '    expect-restart: true',
    '    stall-after: 5s',
    '  - type: enable',
    '  - type: return-instances',
    '',
  ].join('\n');
}

type Point = 'at-start' | 'before-stop' | 'before-stop, resumed after the host is back' | 'after-stop' | 'after-stop, resumed after the host is back' | 'after the step';

const progressOf = (e: Record<string, unknown>) => (e.kind === 'decision' && e.decision === 'step-progress' ? ((e.detail as { progress: Record<string, unknown> }).progress) : null);

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('wait-for-service killed at every point of the step, then run again (issue 21)', function () {
  this.timeout(240_000);
  let root: string;
  const clouds: TestCloud[] = [];
  before(requireBuiltCli);
  beforeEach(() => {
    root = tempDir('hm-waitkill-');
  });
  afterEach(async () => {
    for (const c of clouds.splice(0)) await c.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function trial(point: Point): Promise<{ point: Point; wait: Record<string, unknown>; waitResults: number }> {
    const dir = path.join(root, point.replace(/[^a-z]+/g, '-'));
    mkdirSync(dir, { recursive: true });
    const cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'a-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }] }));
    clouds.push(cloud);
    const state = path.join(dir, 'state');
    const wf = path.join(dir, 'cycle.yaml');
    writeFileSync(wf, cycleWorkflow(rebootCommand(cloud.emu.url, 150_000, 400_000)));
    const args = ['run', wf, 'compute-01', ...cloud.args, '--yes', '--state-dir', state, '--poll-interval', '200ms', '-f', 'json'];
    // state.host() evaluates the model at the current time (the emulator advances on requests and on reads).
    const h = () => (cloud.emu.state.host('compute-01'), cloud.emu.state.cloud.hosts.get('compute-01')!);
    let wentDown = false;
    const watch = setInterval(() => (wentDown ||= h().heartbeatStoppedAt !== null), 10);
    try {
      const child = spawnHostmaint(args, cloud.env);
      const match: Record<Point, (e: Record<string, unknown>) => boolean> = {
        'at-start': (e) => progressOf(e) !== null,
        'before-stop': (e) => progressOf(e)?.polled === true,
        'before-stop, resumed after the host is back': (e) => progressOf(e)?.polled === true,
        'after-stop': (e) => progressOf(e)?.seenStopped === true,
        'after-stop, resumed after the host is back': (e) => progressOf(e)?.seenStopped === true,
        'after the step': (e) => e.kind === 'event' && e.type === 'step-finished' && e.step === 'wait-for-service',
      };
      await whenJournal(state, match[point], 90_000);
      child.proc.kill('SIGKILL');
      assert.equal((await child.exited).signal, 'SIGKILL', `${point}: ${child.stderr()}`);
      if (point.endsWith('resumed after the host is back')) await until(() => wentDown && h().heartbeatStoppedAt === null, 'the host to go down and come back');
      const again = spawnHostmaint(args, cloud.env);
      const { code } = await again.exited;
      assert.equal(code, 0, `${point}: ${again.stderr()}`);
      const result = JSON.parse(again.stdout()) as { outcome: string; steps: Array<{ name: string; status: string; detail: Record<string, unknown> }> };
      assert.equal(result.outcome, 'completed', point);
      assert.deepEqual(result.steps.map((s) => s.status), result.steps.map(() => 'ok'), point);
      assert.equal(cloud.emu.state.host('compute-01')?.status, 'enabled', `${point}: enabled`);
      assert.equal(cloud.emu.state.serversOn('compute-01').length, 2, `${point}: its instances back`);
      assert.deepEqual(doubleMoves(cloud.emu), [], point);
      assert.ok(wentDown, `${point}: the host did reboot`);
      const waits = result.steps.filter((s) => s.name === 'wait-for-service');
      return { point, wait: waits[0]!.detail, waitResults: waits.length };
    } finally {
      clearInterval(watch);
    }
  }

  it('finishes from each kill point: the step continues from what it saved (seen stopped, baseline, first start)', async () => {
    const points: Point[] = ['at-start', 'before-stop', 'before-stop, resumed after the host is back', 'after-stop', 'after-stop, resumed after the host is back', 'after the step'];
    const out = await Promise.all(points.map((p) => trial(p)));
    const by = Object.fromEntries(out.map((o) => [o.point, o]));
    for (const o of out) assert.equal(o.waitResults, 1, `${o.point}: one result for the step`);
    // Resumed after it saw the stop: it remembered it (it does not wait for a second stop).
    assert.equal(by['after-stop, resumed after the host is back']!.wait.seenStopped, true);
    assert.equal(by['after-stop, resumed after the host is back']!.wait.resumes, 1);
    // Resumed before the host went down: it still sees the stop itself.
    assert.equal(by['at-start']!.wait.seenStopped, true);
    // Resumed after a stop it never saw: counted back on a heartbeat newer than its first, and says so.
    assert.equal(by['before-stop, resumed after the host is back']!.wait.stopNotSeen, true);
    // Killed after the step finished: not run again (the result is from the first process).
    assert.equal(by['after the step']!.wait.resumes, undefined);
    const record = JSON.parse(readFileSync(path.join(root, 'after-stop-resumed-after-the-host-is-back', 'state', 'runs', readRunId(path.join(root, 'after-stop-resumed-after-the-host-is-back', 'state')), 'run.json'), 'utf8')) as { inner: Record<string, { machine: string; snapshot: Record<string, unknown> }> };
    const saved = Object.values(record.inner).find((x) => x.machine === 'wait-for-service');
    assert.ok(saved, 'the step progress is in run.json');
    assert.equal(saved.snapshot.seenStopped, true);
  });
});

function readRunId(state: string): string {
  const ids = readdirSync(path.join(state, 'runs'));
  assert.equal(ids.length, 1);
  return ids[0]!;
}
