/**
 * Two operators on one cloud, from two machines: state directories A and B
 * share nothing but Nova. Every decision is taken from what Nova says, and
 * every result says what Nova says at the end (issue 14's five cases), run as
 * an operator types them, in this process, against an emulated cloud that
 * outlives each run; a SIGKILL case runs bin/hostmaint.js as a child.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { isMigrationStarted, requireBuiltCli, runsScenario, spawnHostmaint, startCloud, whenJournal, type TestCloud } from './runs-helpers.js';
import { captureOriginals, checkInvariants, doubleMoves } from '../emulator/crash-helpers.js';

describe('two operators, two machines, one cloud (CLI against a live emulated cloud)', function () {
  this.timeout(120_000);
  let dir: string;
  let A: string;
  let B: string;
  let cloud: TestCloud | null = null;
  beforeEach(() => {
    dir = tempDir('hm-two-');
    A = path.join(dir, 'operator-a');
    B = path.join(dir, 'operator-b');
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });
  const cmd = (verb: string, state: string, extra: string[] = []) => [verb, 'compute-01', ...cloud!.args, '--yes', '--state-dir', state, '--poll-interval', '200ms', ...extra];
  const service = () => cloud!.emu.state.host('compute-01')!;
  const moveRequests = () => cloud!.emu.requests.records.filter((r) => r.method === 'POST' && (r.action === 'os-migrateLive' || r.action === 'migrate')).length;

  it('an undrain from B during A\'s drain is refused (exit 5, naming the run); forced, A\'s drain ends ownership-lost (exit 5), never "drained"', async () => {
    cloud = await startCloud(dir, runsScenario({ migration: { bandwidth_mbps: 20 } }));
    const drainA = hostmaint(cmd('drain', A, ['-f', 'json']), cloud.env);
    await whenJournal(A, isMigrationStarted);
    const refused = await hostmaint(cmd('undrain', B), cloud.env);
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stderr, /hostmaint run \d{8}T\d{6}Z-\w+/, 'names the run that holds the host');
    assert.match(refused.stderr, /--force/, 'says how to override');
    assert.equal(service().status, 'disabled', 'the refused undrain changed nothing');

    const forced = await hostmaint(cmd('undrain', B, ['--force']), cloud.env);
    assert.equal(forced.code, 0, forced.stderr);
    const a = await drainA;
    assert.equal(a.code, 5, a.stderr);
    const result = a.json<{ outcome: string; message: string }>();
    assert.equal(result.outcome, 'ownership-lost');
    assert.match(result.message, /enabled/);
    assert.equal(service().status, 'enabled', 'what Nova says, and what A reported');
    assert.deepEqual(doubleMoves(cloud.emu), []);
  });

  it('two drains of one host from A and B, 0.3 s apart with slow os-services: one drains, the other exits 5; nothing moves twice', async () => {
    cloud = await startCloud(dir, runsScenario(), { faults: [{ kind: 'delay', ms: 75_000, match: { path: '/os-services' } }] });
    const originals = captureOriginals(cloud.emu, 'compute-01');
    const first = hostmaint(cmd('drain', A, ['-f', 'json']), cloud.env);
    await new Promise((r) => setTimeout(r, 300));
    const second = hostmaint(cmd('drain', B, ['-f', 'json']), cloud.env);
    const codes = [(await first).code, (await second).code].sort();
    assert.deepEqual(codes, [0, 5], `${(await first).stderr}\n${(await second).stderr}`);
    const loser = (await first).code === 5 ? await first : await second;
    assert.match(loser.stderr + loser.stdout, /hostmaint run \d{8}T\d{6}Z-\w+/, 'the refusal names the other run');
    assert.deepEqual(checkInvariants(cloud.emu, 'compute-01', originals, { exactlyOneRequest: true }), []);
  });

  it('drain, drain again (nothing to move), then undrain --return: B is refused (it does not know the run); forced, every instance the first drain moved comes back, from Nova\'s records', async () => {
    cloud = await startCloud(dir, runsScenario());
    const before = cloud.emu.state.serversOn('compute-01').map((s) => s.name).sort();
    const d1 = await hostmaint(cmd('drain', A, ['-f', 'json']), cloud.env);
    assert.equal(d1.code, 0, d1.stderr);
    const d2 = await hostmaint(cmd('drain', A, ['-f', 'json']), cloud.env);
    assert.equal(d2.code, 0, d2.stderr);
    assert.equal(d2.json<{ instances: unknown[] }>().instances.length, 0);
    const refused = await hostmaint(cmd('undrain', B, ['--return']), cloud.env);
    assert.equal(refused.code, 5, refused.stderr);
    assert.equal(cloud.emu.state.serversOn('compute-01').length, 0, 'the refused undrain moved nothing');
    const back = await hostmaint(cmd('undrain', B, ['--return', '--force', '-f', 'json']), cloud.env);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(cloud.emu.state.serversOn('compute-01').map((s) => s.name).sort(), before, 'all five are home, though B never saw the drain');
    assert.equal(service().status, 'enabled');
  });

  it('one marker, one reading: a malformed or unknown hostmaint marker is refused by drain and by undrain alike (exit 5) and left as it is', async () => {
    cloud = await startCloud(dir, runsScenario());
    for (const reason of ['hostmaint:not-a-run-id: x', 'hostmaint:../x: y']) {
      const h = cloud.emu.state.cloud.hosts.get('compute-01')!;
      h.disabled = true;
      h.disabledReason = reason;
      const moves = moveRequests();
      const d = await hostmaint(cmd('drain', A), cloud.env);
      const u = await hostmaint(cmd('undrain', B), cloud.env);
      assert.equal(u.code, 5, `${reason}: undrain: ${u.stderr}`);
      assert.equal(service().status, 'disabled', `${reason}: the undrain left it`);
      assert.equal(service().disabledReason, reason);
      if (reason.startsWith('hostmaint:not')) {
        assert.equal(d.code, 5, `${reason}: drain: ${d.stderr}`);
        assert.match(d.stderr + d.stdout, /--adopt/, 'says how to carry on if that run is over');
        assert.equal(moveRequests(), moves, 'the refused drain moved nothing');
      } else {
        // Not a marker hostmaint writes: someone else's disable, kept; the drain proceeds under it and will not enable it.
        assert.equal(d.code, 0, `${reason}: drain: ${d.stderr}`);
        assert.match(d.stderr + d.stdout, /left as it is|will not be enabled|already disabled/);
      }
    }
  });
});

describe('two operators: a run killed mid cold migration (bin/hostmaint.js)', function () {
  this.timeout(120_000);
  before(requireBuiltCli);
  let dir: string;
  let cloud: TestCloud | null = null;
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL while a SHUTOFF instance cold-migrates: the next drain (--new-run) confirms the resize and ends drained (exit 0)', async () => {
    dir = tempDir('hm-two-kill-');
    const state = path.join(dir, 'state');
    cloud = await startCloud(dir, runsScenario({ instances: [{ name: 'batch-1', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' }], migration: { cold_migration_ms: 20_000 } }));
    const args = ['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state, '--poll-interval', '200ms'];
    const child = spawnHostmaint(args, cloud.env);
    await whenJournal(state, isMigrationStarted);
    child.proc.kill('SIGKILL');
    await child.exited;
    // The cold migration finishes by itself, and waits in VERIFY_RESIZE for a confirm nobody sends.
    const emu = cloud.emu;
    for (let i = 0; i < 200 && emu.state.server('batch-1')!.status !== 'VERIFY_RESIZE'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(emu.state.server('batch-1')!.status, 'VERIFY_RESIZE');
    const again = await hostmaint([...args, '--new-run', '-f', 'json'], cloud.env);
    assert.equal(again.code, 0, again.stderr);
    const s = emu.state.server('batch-1')!;
    assert.equal(s.status, 'SHUTOFF', 'confirmed: back to SHUTOFF on its new host');
    assert.notEqual(s.host, 'compute-01');
    assert.equal(emu.requests.count({ action: 'confirmResize' }), 1);
    assert.equal(emu.requests.count({ action: 'migrate' }), 1, 'never moved again');
  });
});
