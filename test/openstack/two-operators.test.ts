/**
 * Two operators on the real OpenStack lab: two hostmaint processes
 * (node bin/hostmaint.js; `npm run build` first — npm test does) with two
 * state directories, A and B, sharing nothing but Nova. What is asserted is
 * what Nova says: the service's status and reason, where each server is, and
 * each server's migration records (nothing migrated twice).
 * Skips with a message when no lab runs; fails under CI.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { cleanUpAfterDrains, createLabCloud, enableAllComputes } from '../contract/lab-cloud.js';
import type { CloudUnderTest } from '../contract/cloud-under-test.js';
import { acquireLabLock, requireLab, type LabInfo } from './lab.js';
import { tempDir } from '../cli/helpers.js';
import { requireBuiltCli, isMigrationStarted, spawnHostmaint, whenJournal, type Child } from '../cli/runs-helpers.js';

describe('two operators, two machines, on the real OpenStack lab', function () {
  this.timeout(900_000);
  let lab: LabInfo;
  let cloud: CloudUnderTest;
  let dir: string;
  let A: string;
  let B: string;
  const created: string[] = [];
  let env: Record<string, string>;
  let releaseLock: (() => void) | null = null;

  before(async function () {
    lab = requireLab(this);
    requireBuiltCli.call(this);
    releaseLock = await acquireLabLock('two-operators');
    cloud = await createLabCloud(lab);
    dir = tempDir('hm-lab-two-');
    env = { OS_CLIENT_CONFIG_FILE: lab.cloudsYaml, HOME: dir };
    await enableAllComputes(cloud);
  });

  beforeEach(() => {
    const n = Math.random().toString(36).slice(2, 8);
    A = path.join(dir, `a-${n}`);
    B = path.join(dir, `b-${n}`);
  });

  afterEach(async () => {
    await cleanUpAfterDrains(cloud, created.splice(0));
    await enableAllComputes(cloud);
  });

  after(async () => {
    if (!cloud) {
      releaseLock?.();
      return;
    }
    await cloud.close?.();
    rmSync(dir, { recursive: true, force: true });
    releaseLock?.();
  });

  const src = () => cloud.computes[0]!;
  const run = async (args: string[]): Promise<{ code: number | null; child: Child }> => {
    const child = spawnHostmaint(args, env);
    const { code } = await child.exited;
    return { code, child };
  };
  const cmd = (verb: string, state: string, extra: string[] = []) => [verb, src(), '--os-cloud', 'lab', '--yes', '--state-dir', state, '--poll-interval', '1s', ...extra];
  const service = async () => (await cloud.session.compute.listServices({ host: src(), binary: 'nova-compute' }))[0]!;
  async function boot(names: string[]): Promise<string[]> {
    const ids = await Promise.all(names.map((name) => cloud.bootServer({ name, host: src(), flavor: 'm1.tiny' })));
    created.push(...ids);
    return ids;
  }
  /** A SHUTOFF server whose drain (from A) was SIGKILLed just after the cold migration was asked: it waits in VERIFY_RESIZE. */
  async function killedMidColdMigration(name: string): Promise<string> {
    const id = (await boot([name]))[0]!;
    await cloud.stopServer(id);
    const first = spawnHostmaint(cmd('drain', A), env);
    await whenJournal(A, isMigrationStarted, 600_000);
    first.proc.kill('SIGKILL');
    await first.exited;
    await cloud.waitForServer(id, (s) => s.status === 'VERIFY_RESIZE', 120_000);
    return id;
  }

  /** Servers that completed more than one migration, from Nova's own records. */
  async function movedTwice(ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const id of ids) {
      const done = (await cloud.session.compute.listMigrations({ instanceUuid: id })).filter((m) => ['completed', 'confirmed'].includes(m.status));
      if (done.length > 1) out.push(`${id}: ${done.length} migrations`);
    }
    return out;
  }

  it('B\'s undrain during A\'s drain is refused (exit 5); forced, A\'s drain ends ownership-lost (exit 5) and Nova shows the service enabled', async () => {
    const ids = await boot(['hm-two-1', 'hm-two-2', 'hm-two-3', 'hm-two-4']);
    const drainA = spawnHostmaint(cmd('drain', A, ['--concurrency', '1', '-f', 'json']), env);
    await whenJournal(A, isMigrationStarted, 600_000);
    const refused = await run(cmd('undrain', B));
    assert.equal(refused.code, 5, refused.child.stderr());
    assert.match(refused.child.stderr(), /hostmaint run \d{8}T\d{6}Z-\w+/);
    assert.equal((await service()).status, 'disabled');
    const forced = await run(cmd('undrain', B, ['--force']));
    assert.equal(forced.code, 0, forced.child.stderr());
    const a = await drainA.exited;
    assert.equal(a.code, 5, `${drainA.stdout()}\n${drainA.stderr()}`);
    assert.equal((JSON.parse(drainA.stdout()) as { outcome: string }).outcome, 'ownership-lost');
    const svc = await service();
    assert.equal(svc.status, 'enabled', 'as A reported: Nova shows it enabled');
    assert.deepEqual(await movedTwice(ids), []);
  });

  it('two drains of one host from A and B, 0.3 s apart: one drains (exit 0), the other exits 5; nothing moves twice', async () => {
    const ids = await boot(['hm-two-r1', 'hm-two-r2', 'hm-two-r3']);
    const first = spawnHostmaint(cmd('drain', A), env);
    await new Promise((r) => setTimeout(r, 300));
    const second = spawnHostmaint(cmd('drain', B), env);
    const codes = [(await first.exited).code, (await second.exited).code];
    assert.deepEqual([...codes].sort(), [0, 5], `A: ${first.stderr()}\nB: ${second.stderr()}`);
    assert.deepEqual(await cloud.session.compute.listServersOnHost(src()), []);
    assert.deepEqual(await movedTwice(ids), []);
  });

  it('drain, drain again, then B\'s undrain --return: refused without --force; forced, every instance the first drain moved comes back, from Nova\'s records', async () => {
    const ids = await boot(['hm-two-d1', 'hm-two-d2', 'hm-two-d3']);
    assert.equal((await run(cmd('drain', A))).code, 0);
    const again = await run(cmd('drain', A, ['-f', 'json']));
    assert.equal(again.code, 0, again.child.stderr());
    assert.equal((JSON.parse(again.child.stdout()) as { instances: unknown[] }).instances.length, 0);
    const refused = await run(cmd('undrain', B, ['--return']));
    assert.equal(refused.code, 5, refused.child.stderr());
    const back = await run(cmd('undrain', B, ['--return', '--force']));
    assert.equal(back.code, 0, back.child.stderr());
    const home = (await cloud.session.compute.listServersOnHost(src())).map((s) => s.id).sort();
    assert.deepEqual(home, [...ids].sort(), 'all three are home');
    assert.equal((await service()).status, 'enabled');
  });

  it('SIGKILL while a SHUTOFF server cold-migrates: it waits in VERIFY_RESIZE; the next drain (--new-run) confirms it (exit 0)', async () => {
    const id = await killedMidColdMigration('hm-two-cold');
    const again = await run(cmd('drain', A, ['--new-run']));
    assert.equal(again.code, 0, again.child.stderr());
    const s = await cloud.session.compute.getServer(id);
    assert.equal(s.status, 'SHUTOFF');
    assert.notEqual(s.host, src());
    const migrations = await cloud.session.compute.listMigrations({ instanceUuid: id });
    assert.equal(migrations.length, 1, 'moved once');
    assert.equal(migrations[0]!.status, 'confirmed');
  });

  it('doctor (issue 19) on a VERIFY_RESIZE a killed drain left: B reports it and never confirms it (exit 10); A\'s --repair confirms its own (exit 0)', async () => {
    const id = await killedMidColdMigration('hm-doctor-cold');
    const doctor = (state: string, extra: string[] = []) => run(['doctor', src(), '--os-cloud', 'lab', '--state-dir', state, '-f', 'json', ...extra]);
    type Found = { findings: Array<{ kind: string; serverId: string | null; repairable: boolean; fix: string[] }>; repaired: Array<{ repaired: string }> };

    const fromB = await doctor(B, ['--repair']);
    assert.equal(fromB.code, 10, fromB.child.stderr());
    const b = JSON.parse(fromB.child.stdout()) as Found;
    assert.deepEqual(b.findings.map((f) => f.kind).sort(), ['unexplained-marker', 'verify-resize'], 'B knows neither the run nor the move');
    const resize = b.findings.find((f) => f.kind === 'verify-resize')!;
    assert.equal(resize.serverId, id);
    assert.equal(resize.repairable, false);
    assert.deepEqual(resize.fix, [`openstack server resize confirm ${id}`]);
    assert.equal((await cloud.session.compute.getServer(id)).status, 'VERIFY_RESIZE', 'B confirmed nothing');

    const fromA = await doctor(A, ['--repair']);
    assert.equal(fromA.code, 0, fromA.child.stdout() + fromA.child.stderr());
    const a = JSON.parse(fromA.child.stdout()) as Found;
    assert.deepEqual(a.findings, [], 'read back after the repair');
    assert.match(a.repaired[0]!.repaired, /^resize confirmed: now SHUTOFF on /);
    const s = await cloud.session.compute.getServer(id);
    assert.equal(s.status, 'SHUTOFF');
    assert.notEqual(s.host, src());
    const migrations = await cloud.session.compute.listMigrations({ instanceUuid: id });
    assert.deepEqual(migrations.map((m) => m.status), ['confirmed'], 'moved once, confirmed');
  });
});
