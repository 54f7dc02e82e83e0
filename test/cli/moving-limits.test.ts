/**
 * Issue 19, items 3 and 5: server groups kept apart while moving (one member of an anti-affinity
 * or soft-anti-affinity group in flight at a time, Nova bug 1821755), an affinity group that cannot
 * move refused by name, --max-incoming per destination, and why each instance waits
 * (instance-waiting events). Asserted on the emulated Nova's migration records.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostmaint, tempDir } from './helpers.js';
import { runsScenario, startCloud, type TestCloud } from './runs-helpers.js';
import type { MigrationSnapshot } from '../../src/emulator/state.js';

type Scenario = ReturnType<typeof runsScenario>;

function withGroups(groups: unknown[], instances: unknown[], hosts = ['compute-01', 'compute-02', 'compute-03', 'compute-04']): Scenario {
  return { ...runsScenario({ instances, hosts: hosts.map((name) => ({ name })), maxConcurrent: 4 }), server_groups: groups } as Scenario;
}

/** True when the two migrations' [created, updated] intervals overlap. */
function overlap(a: MigrationSnapshot, b: MigrationSnapshot): boolean {
  return a.createdAt < b.updatedAt && b.createdAt < a.updatedAt;
}

function events(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('CLI: server groups, limits, the on-timeout ladder and --fallback while moving (issue 19)', function () {
  this.timeout(120_000);
  let dir: string;
  let cloud: TestCloud | null = null;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('members of an anti-affinity or soft-anti-affinity group never migrate at the same time, and land apart', async () => {
    cloud = await startCloud(
      dir,
      withGroups(
        [
          { name: 'web', policy: 'soft-anti-affinity', project: 'tenant-a' },
          { name: 'db', policy: 'anti-affinity', project: 'tenant-a', max_server_per_host: 2 },
        ],
        [
          { name: 'web-{i}', count: 3, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', server_group: 'web' },
          { name: 'db-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', server_group: 'db' },
          { name: 'solo', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' },
        ],
      ),
    );
    const file = `${dir}/events.ndjson`;
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--concurrency', '6', '--poll-interval', '200ms', '--events', `ndjson=${file}`], cloud.env);
    assert.equal(r.code, 0, r.stderr);
    const emu = cloud.emu;
    const nameOf = (id: string) => emu.state.server(id)!.name;
    const migs = emu.state.migrations({ type: 'live-migration' });
    assert.equal(migs.length, 6, 'each moved once');
    for (const prefix of ['web-', 'db-']) {
      const members = migs.filter((m) => nameOf(m.serverId).startsWith(prefix));
      for (const a of members) for (const b of members) if (a !== b) assert.ok(!overlap(a, b), `${nameOf(a.serverId)} and ${nameOf(b.serverId)} moved at the same time`);
    }
    const webHosts = ['web-01', 'web-02', 'web-03'].map((n) => emu.state.server(n)!.host);
    assert.equal(new Set(webHosts).size, 3, `web members apart: ${webHosts.join(', ')}`);
    // Not serialised beyond the groups: something else moved alongside a group member.
    const solo = migs.find((m) => nameOf(m.serverId) === 'solo')!;
    assert.ok(migs.some((m) => m !== solo && overlap(m, solo)), 'solo moved alongside the groups');
    const waits = events(file).filter((e) => e.type === 'instance-waiting' && e.waitingFor === 'group');
    assert.ok(waits.length >= 3, 'the members held back say so');
    for (const w of waits) assert.match(String(w.detail), /of its anti-affinity group '(web|db)', is moving/);
  });

  it('an affinity group whose members are all on the host is a named blocker: refused, exit 3, nothing changed', async () => {
    cloud = await startCloud(
      dir,
      withGroups([{ name: 'pair', policy: 'affinity', project: 'tenant-a' }], [
        { name: 'pair-{i}', count: 2, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', server_group: 'pair' },
        { name: 'solo', project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' },
      ]),
    );
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '-f', 'json'], cloud.env);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout + r.stderr, /affinity group 'pair' has every member on this host/);
    assert.match(r.stdout + r.stderr, /pair-01[\s\S]*pair-02|pair-02[\s\S]*pair-01/, 'both members named');
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled', 'service restored');
    assert.equal(cloud.emu.state.migrations().length, 0, 'nothing moved');
  });

  it('--max-incoming 1: never two moves in flight to one destination; each waiting one says for which host', async () => {
    cloud = await startCloud(dir, withGroups([], [{ name: 'web-{i}', count: 6, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' }], ['compute-01', 'compute-02', 'compute-03']));
    const file = `${dir}/events.ndjson`;
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--concurrency', '6', '--max-incoming', '1', '--poll-interval', '200ms', '--events', `ndjson=${file}`], cloud.env);
    assert.equal(r.code, 0, r.stderr);
    const migs = cloud.emu.state.migrations({ type: 'live-migration' });
    assert.equal(migs.length, 6);
    for (const a of migs) for (const b of migs) if (a !== b && a.destCompute === b.destCompute) assert.ok(!overlap(a, b), `two moves to ${a.destCompute} at once`);
    // Two destinations: two in flight at a time, so the drain was not serialised to one.
    assert.ok(migs.some((a) => migs.some((b) => a !== b && overlap(a, b))), 'moves to different hosts overlapped');
    const waits = events(file).filter((e) => e.type === 'instance-waiting' && e.waitingFor === 'destination');
    assert.ok(waits.length > 0);
    for (const w of waits) assert.match(String(w.detail), /^compute-0[23] has 1 move\(s\) in flight \(--max-incoming 1\)$/);
  });

  it('--max-incoming out of range is exit 2 before the cloud is asked', async () => {
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--max-incoming', '0', '--yes']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /max-incoming/);
  });

  // The on-timeout ladder and --fallback.
  const one = (name: string, metadata?: Record<string, string>) => ({ name, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01', ...(metadata ? { metadata } : {}) });
  interface Json {
    outcome: string;
    instances: Array<{ name: string; method: string; status: string; escalations: string[] }>;
  }

  it('--on-timeout wait,force-complete: a stalled migration waits one more stall timeout, then is forced; each step an event and in the result', async () => {
    cloud = await startCloud(dir, { ...runsScenario({ instances: [one('app-1')] }), faults: [{ kind: 'migration-stall', server: 'app-1', count: 1 }] } as Scenario);
    const file = `${dir}/events.ndjson`;
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--stall-timeout', '5s', '--on-timeout', 'wait,force-complete', '--poll-interval', '500ms', '-f', 'json', '--events', `ndjson=${file}`], cloud.env);
    assert.equal(r.code, 0, r.stderr);
    const steps = events(file).filter((e) => e.type === 'migration-stalled');
    assert.deepEqual(steps.map((e) => [e.action, e.step, e.steps]), [['wait', 1, 3], ['force-complete', 2, 3]]);
    const gap = Date.parse(String(steps[1]!.time)) - Date.parse(String(steps[0]!.time));
    assert.ok(gap >= 5_000, `forced only after another stall timeout (${gap} ms after the wait)`);
    const recs = cloud.emu.requests.records;
    assert.equal(recs.filter((q) => q.method === 'POST' && /\/migrations\/\d+\/action$/.test(q.path)).length, 1, 'one force-complete');
    assert.equal(recs.filter((q) => q.method === 'DELETE' && /\/migrations\/\d+$/.test(q.path)).length, 0, 'no abort');
    assert.deepEqual(r.json<Json>().instances[0]!.escalations, ['attempt 1: wait', 'attempt 1: force-complete']);
  });

  it('--on-timeout wait,abort: aborted after the wait, then retried; a workflow file takes the ladder as a list', async () => {
    cloud = await startCloud(dir, { ...runsScenario({ instances: [one('app-1')] }), faults: [{ kind: 'migration-stall', server: 'app-1', count: 1 }] } as Scenario);
    const wf = `${dir}/ladder.yaml`;
    writeFileSync(wf, 'version: 1\nname: ladder\npolicies:\n  stall-timeout: 5s\n  on-timeout: [wait, abort]\n  poll-interval: 500ms\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n');
    const r = await hostmaint(['run', wf, 'compute-01', ...cloud.args, '--yes', '--state-dir', dir], cloud.env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const recs = cloud.emu.requests.records;
    assert.equal(recs.filter((q) => q.method === 'DELETE' && /\/migrations\/\d+$/.test(q.path)).length, 1, 'aborted once');
    assert.equal(recs.filter((q) => q.action === 'os-migrateLive').length, 2, 'retried after the abort');
    assert.notEqual(cloud.emu.state.server('app-1')!.host, 'compute-01');
    writeFileSync(wf, 'version: 1\nname: ladder\npolicies:\n  on-timeout: [wait, later]\nsteps:\n  - type: disable\n');
    const bad = await hostmaint(['workflow', 'validate', wf]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr + bad.stdout, /on-timeout/);
  });

  it('--fallback: a live migration failing for good is moved cold instead (ACTIVE on another host); without it, partial (exit 4); an owner asking for live is never moved cold', async () => {
    const scenario = () => ({ ...runsScenario({ instances: [one('legacy-1'), one('pinned-1', { 'hostmaint:policy': 'live' })] }), faults: [{ kind: 'migration-fail', server: 'legacy-1', count: 10 }, { kind: 'migration-fail', server: 'pinned-1', count: 10 }] }) as Scenario;
    cloud = await startCloud(dir, scenario());
    const without = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--retries', '0', '--poll-interval', '200ms'], cloud.env);
    assert.equal(without.code, 4, without.stderr);
    assert.equal(cloud.emu.state.migrations({ type: 'migration' }).length, 0, 'no cold migration without --fallback');
    await cloud.stop();
    cloud = await startCloud(dir, scenario());
    const file = `${dir}/events.ndjson`;
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', dir, '--new-run', '--retries', '0', '--fallback', '--poll-interval', '200ms', '-f', 'json', '--events', `ndjson=${file}`], cloud.env);
    assert.equal(r.code, 4, r.stderr);
    const legacy = cloud.emu.state.server('legacy-1')!;
    assert.notEqual(legacy.host, 'compute-01');
    assert.equal(legacy.status, 'ACTIVE');
    assert.equal(cloud.emu.state.migrations({ type: 'migration' }).length, 1, 'one cold migration: legacy-1');
    assert.equal(cloud.emu.state.server('pinned-1')!.host, 'compute-01', 'its owner asked for live: left where it was');
    const byName = new Map(r.json<Json>().instances.map((i) => [i.name, i]));
    assert.deepEqual([byName.get('legacy-1')!.status, byName.get('legacy-1')!.method], ['moved', 'cold']);
    assert.deepEqual(byName.get('legacy-1')!.escalations, ['after 1 live attempt(s): fallback to cold migration']);
    assert.equal(byName.get('pinned-1')!.status, 'failed');
    const fb = events(file).filter((e) => e.type === 'migration-fallback');
    assert.deepEqual(fb.map((e) => [e.name, e.to]), [['legacy-1', 'cold']]);
  });

  it('--max-total 2 over a rolling wave of two hosts: never more than two moves in flight across both; the held ones say why', async () => {
    cloud = await startCloud(
      dir,
      withGroups([], [
        { name: 'a-{i}', count: 3, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' },
        { name: 'b-{i}', count: 3, project: 'tenant-a', flavor: 'm1.small', host: 'compute-02' },
      ]),
    );
    const wf = `${dir}/wave.yaml`;
    writeFileSync(wf, 'version: 1\nname: wave\nsteps:\n  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n');
    const file = `${dir}/events.ndjson`;
    const r = await hostmaint(['run', wf, 'compute-01', 'compute-02', ...cloud.args, '--yes', '--state-dir', dir, '--max-parallel', '2', '--max-total', '2', '--concurrency', '4', '--poll-interval', '200ms', '--events', `ndjson=${file}`], cloud.env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const migs = cloud.emu.state.migrations({ type: 'live-migration' });
    assert.equal(migs.length, 6);
    // At every migration's start, how many were in flight (itself included)?
    for (const m of migs) {
      const at = m.createdAt;
      const flying = migs.filter((x) => x.createdAt <= at && at < x.updatedAt).length;
      assert.ok(flying <= 2, `${flying} moves in flight at once`);
    }
    assert.ok(new Set(migs.map((m) => m.sourceCompute)).size === 2);
    const waits = events(file).filter((e) => e.type === 'instance-waiting' && e.waitingFor === 'total');
    assert.ok(waits.length > 0, 'the held ones said why');
    assert.match(String(waits[0]!.detail), /--max-total 2/);
  });
});
