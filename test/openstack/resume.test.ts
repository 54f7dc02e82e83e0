/**
 * Kill-and-resume once against the real OpenStack lab: `hostmaint drain` as a
 * real process (node bin/hostmaint.js; `npm run build` first — npm test does),
 * killed with SIGKILL once a live migration is in flight, then the same drain
 * again, which resumes the saved run. What is asserted is what Nova says
 * afterwards: the host empty, every server on another host in its original
 * state, and each server's migration list holding exactly one live migration
 * (completed) and one live-migration instance action — nothing migrated twice.
 * Skips with a message when no lab runs; fails under CI.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { cleanUpAfterDrains, createLabCloud, enableAllComputes } from '../contract/lab-cloud.js';
import type { CloudUnderTest } from '../contract/cloud-under-test.js';
import { acquireLabLock, requireLab, type LabInfo } from './lab.js';
import { hostmaint, tempDir } from '../cli/helpers.js';
import { requireBuiltCli, isMigrationStarted, journalEntries, spawnHostmaint, whenJournal } from '../cli/runs-helpers.js';

describe('kill -9 and resume on the real OpenStack lab', function () {
  this.timeout(1_200_000);
  let lab: LabInfo;
  let cloud: CloudUnderTest;
  let dir: string;
  const created: string[] = [];
  let env: Record<string, string>;
  let releaseLock: (() => void) | null = null;

  before(async function () {
    lab = requireLab(this);
    requireBuiltCli.call(this);
    releaseLock = await acquireLabLock('resume');
    cloud = await createLabCloud(lab);
    dir = tempDir('hm-lab-resume-');
    env = { OS_CLIENT_CONFIG_FILE: lab.cloudsYaml, HOME: dir };
    await enableAllComputes(cloud);
  });

  after(async () => {
    if (!cloud) {
      releaseLock?.();
      return;
    }
    await cleanUpAfterDrains(cloud, created);
    await cloud.close?.();
    rmSync(dir, { recursive: true, force: true });
    releaseLock?.();
  });

  it('SIGKILL while a live migration is in flight, then the same drain again: host empty, nothing migrated twice', async () => {
    const src = cloud.computes[0]!;
    const ids = await Promise.all(['hm-resume-1', 'hm-resume-2', 'hm-resume-3', 'hm-resume-4'].map((name) => cloud.bootServer({ name, host: src, flavor: 'm1.tiny' })));
    created.push(...ids);
    await cloud.pauseServer(ids[3]!);
    const before = new Map((await cloud.session.compute.listServersOnHost(src)).map((s) => [s.id, s.status]));
    for (const id of ids) assert.ok(before.has(id), `${id} is not on ${src}`);
    const state = path.join(dir, 'state');
    const args = ['drain', src, '--os-cloud', 'lab', '--yes', '--state-dir', state, '--reason', 'lab resume test', '--poll-interval', '1s', '--concurrency', '2'];

    const first = spawnHostmaint(args, env);
    await whenJournal(state, isMigrationStarted, 600_000);
    first.proc.kill('SIGKILL');
    const killed = await first.exited;
    assert.equal(killed.signal, 'SIGKILL', first.stderr());
    const runId = String(journalEntries(state).find((e) => e.decision === 'run-created')?.runId);
    const requestedBeforeKill = journalEntries(state).filter((e) => e.decision === 'migration-requested' || e.type === 'migration-started').length;
    console.log(`    killed run ${runId} with ${requestedBeforeKill} migration event(s) journaled`);

    const st = await hostmaint(['status', runId, '--state-dir', state, '-f', 'json']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal(st.json<{ state: string }>().state, 'crashed');

    const t0 = Date.now();
    const r = await hostmaint([...args, '-f', 'json'], env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`resuming drain run ${runId} of ${src} \\(its process died`));
    const result = r.json<{ outcome: string; runId: string; instances: Array<{ serverId: string; adopted: boolean; attempts: number }> }>();
    assert.deepEqual([result.outcome, result.runId], ['drained', runId]);
    console.log(`    resumed to the end in ${((Date.now() - t0) / 1000).toFixed(1)} s; adopted: ${result.instances.filter((i) => i.adopted).length}`);

    // What Nova says now.
    assert.deepEqual((await cloud.session.compute.listServersOnHost(src)).map((s) => s.name), []);
    for (const id of ids) {
      const s = await cloud.session.compute.getServer(id);
      assert.notEqual(s.host, src, `${s.name} still on ${src}`);
      assert.equal(s.status, before.get(id), `${s.name} came out ${s.status}, went in ${before.get(id)}`);
      const migrations = (await cloud.session.compute.listMigrations({ instanceUuid: id })).filter((m) => (m.migrationType ?? 'live-migration') === 'live-migration');
      assert.equal(migrations.length, 1, `${s.name}: ${migrations.length} live migrations: ${migrations.map((m) => `${m.id} ${m.status}`).join(', ')}`);
      assert.equal(migrations[0]!.status.toLowerCase(), 'completed');
      const actions = (await cloud.session.compute.listInstanceActions(id)).filter((a) => a.action === 'live-migration');
      assert.equal(actions.length, 1, `${s.name}: ${actions.length} live-migration actions`);
    }
    const [svc] = await cloud.session.compute.listServices({ host: src, binary: 'nova-compute' });
    assert.equal(svc?.status, 'disabled');
    assert.match(svc?.disabledReason ?? '', new RegExp(`^hostmaint:${runId}: lab resume test`));
  });
});
