/**
 * The coordination flags as an operator meets them without an etcd: impossible
 * combinations are exit 2 before the cloud is touched, and the disruption
 * budget holds on the local backend too (counted on Nova's services).
 */
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { runsScenario, startCloud, type TestCloud } from './runs-helpers.js';

describe('coordination flags: --coordination, --max-hosts-out, status --fleet (local backend)', function () {
  this.timeout(60_000);
  let dir: string;
  let cloud: TestCloud | null = null;
  beforeEach(() => {
    dir = tempDir('hm-coordflags-');
  });
  afterEach(async () => {
    await cloud?.stop();
    cloud = null;
    rmSync(dir, { recursive: true, force: true });
  });
  const state = () => path.join(dir, 'state');
  const untouched = () => cloud!.emu.requests.records.filter((r) => r.method !== 'GET' && r.service !== 'identity').length === 0;

  for (const [flags, why] of [
    [['--coordination', 'zookeeper://10.0.0.5:2181'], /--coordination 'zookeeper:\/\/10\.0\.0\.5:2181' is not an etcd URL/],
    [['--coordination', 'etcd3+http://10.0.0.5'], /each etcd endpoint must be HOST:PORT/],
    [['--max-hosts-out', '0'], /--max-hosts-out 0 is not a whole number from 1 to 10000/],
    [['--budget-scope', 'cloud'], /--budget-scope needs --max-hosts-out/],
    [['--no-wait'], /--no-wait needs --max-hosts-out/],
    [['--lease-ttl', '1s'], /lease-ttl/],
  ] as Array<[string[], RegExp]>) {
    it(`drain ${flags.join(' ')}: exit 2, nothing changed in the cloud`, async () => {
      cloud = await startCloud(dir, runsScenario());
      const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state(), ...flags], cloud.env);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, why);
      assert.ok(untouched(), 'nothing changed in the cloud');
      assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled');
    });
  }

  it('HOSTMAINT_COORDINATION malformed: exit 2 naming the variable', async () => {
    cloud = await startCloud(dir, runsScenario());
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state()], { ...cloud.env, HOSTMAINT_COORDINATION: 'etcd://x' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /HOSTMAINT_COORDINATION 'etcd:\/\/x' is not an etcd URL/);
  });

  it('the operator\'s config file: its coordination is used (an etcd that does not answer: exit 6, nothing changed); a key it does not know is exit 2 naming the file', async () => {
    cloud = await startCloud(dir, runsScenario());
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, 'coordination: etcd3+http://127.0.0.1:9\nlease-ttl: 5s\n');
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state()], { ...cloud.env, HOSTMAINT_CONFIG: file });
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /cannot reach the coordination backend \(etcd 127\.0\.0\.1:9\)/);
    assert.ok(untouched(), 'nothing changed in the cloud');
    const local = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state(), '--coordination', 'local', '-q'], { ...cloud.env, HOSTMAINT_CONFIG: file });
    assert.equal(local.code, 0, `--coordination local overrides the file: ${local.stderr}`);
    writeFileSync(file, 'coordinaton: etcd3+http://127.0.0.1:2379\n');
    const bad = await hostmaint(['status', '--state-dir', state()], { HOSTMAINT_CONFIG: file });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /config file .*config\.yaml is not valid: unknown key 'coordinaton'/);
  });

  it('status --fleet without etcd: exit 2, saying what it needs', async () => {
    const r = await hostmaint(['status', '--fleet', '--state-dir', state()]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--fleet needs the etcd backend/);
  });

  it('--max-hosts-out 1 on the local backend: a host disabled by someone else in the zone fills it; --no-wait refuses (exit 5), naming it, nothing changed; with room the drain goes on', async () => {
    cloud = await startCloud(dir, runsScenario({ hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }, { name: 'compute-04', status: 'disabled', disabled_reason: 'broken PSU' }] }));
    const r = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state(), '--max-hosts-out', '1', '--no-wait'], cloud.env);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /compute-01 would exceed the disruption budget: availability-zone:nova has 1 of 1 hosts out of service \(compute-04\)/);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'enabled', 'nothing changed');
    const cloudScope = await hostmaint(['drain', 'compute-01', ...cloud.args, '--yes', '--state-dir', state(), '--max-hosts-out', '2', '--budget-scope', 'cloud', '--no-wait', '-q'], cloud.env);
    assert.equal(cloudScope.code, 0, cloudScope.stderr);
    assert.equal(cloud.emu.state.host('compute-01')!.status, 'disabled');
  });
});
