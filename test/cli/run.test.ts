/**
 * `hostmaint run`, `continue` and workflow-backed `drain`, in this process, as
 * an operator types them, against an emulated cloud that outlives each run
 * (`--os-cloud emu`): what a user sees (exit code, output) and what the cloud
 * looks like afterwards; bad input changes nothing.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { journalEntries, runsScenario, startCloud, type TestCloud } from './runs-helpers.js';

const STEPS_DRAIN = '  - type: disable\n  - type: preflight\n  - type: migrate\n  - type: verify-empty\n';

describe('hostmaint run / continue (CLI against a live emulated cloud)', function () {
  this.timeout(120_000);
  let dir: string;
  let state: string;
  let cloud: TestCloud;
  beforeEach(async () => {
    dir = tempDir('hm-run-');
    state = path.join(dir, 'state');
    cloud = await startCloud(dir, runsScenario({ maxConcurrent: 2 }));
  });
  afterEach(async () => {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const common = () => [...cloud.args, '--state-dir', state, '--poll-interval', '200ms'];
  const writes = () => cloud.emu.requests.records.filter((r) => r.method !== 'GET' && !r.path.includes('/auth/tokens'));
  const disabled = (h: string) => cloud.emu.state.cloud.hosts.get(h)!.disabled;

  it('runs the shipped maintenance cycle on one host, the command a reboot that returns at once: exit 0, the host back with its instances', async () => {
    const before = cloud.emu.state.serversOn('compute-01').map((s) => s.name).sort();
    // Like `ssh host sudo reboot`: asks for the reboot and returns; nova-compute stops a moment later and is back
    // 15 s (real) later (the emulated cloud runs 50x: 750 s of its time).
    const reboot = `node -e 'fetch(process.argv[1] + "/_emulator/faults", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "host-down", host: process.env.HOSTMAINT_HOST, in_ms: 2000, up_after_ms: 750000 }) }).then((r) => process.exit(r.status === 201 ? 0 : 1))' ${cloud.emu.url}`;
    const r = await hostmaint(['run', 'maintenance-cycle', 'compute-01', ...common(), '--yes', '-f', 'json'], { ...cloud.env, HOSTMAINT_MAINTENANCE_COMMAND: reboot });
    assert.equal(r.code, 0, r.stderr);
    const result = r.json<{ outcome: string; steps: Array<{ name: string; status: string }> }>();
    assert.equal(result.outcome, 'completed');
    assert.deepEqual(result.steps.map((s) => s.status), result.steps.map(() => 'ok'));
    assert.deepEqual(result.steps.map((s) => s.name), ['disable', 'preflight', 'migrate', 'verify-empty', 'maintenance', 'wait-for-service', 'enable', 'return-instances']);
    const wait = result.steps.find((s) => s.name === 'wait-for-service') as unknown as { detail: { seenStopped: boolean; waitedMs: number } };
    assert.equal(wait.detail.seenStopped, true, 'it waited to see nova-compute stop');
    assert.ok(wait.detail.waitedMs >= 10_000, `waited ${wait.detail.waitedMs} ms: not through the reboot`);
    assert.equal(disabled('compute-01'), false);
    assert.deepEqual(cloud.emu.state.serversOn('compute-01').map((s) => s.name).sort(), before);
  });

  it('the maintenance cycle without HOSTMAINT_MAINTENANCE_COMMAND is refused before anything happens (exit 2, nothing changed)', async () => {
    const r = await hostmaint(['run', 'maintenance-cycle', 'compute-01', 'compute-02', ...common(), '--yes'], cloud.env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /needs \$HOSTMAINT_MAINTENANCE_COMMAND, not set \(used by step maintenance\)/);
    assert.match(r.stderr, /Nothing was changed/);
    assert.deepEqual(writes(), []);
    assert.equal(disabled('compute-01'), false);
  });

  it('a failing maintenance command stops the run at that step (exit 7): the host stays drained and disabled for a person', async () => {
    const r = await hostmaint(['run', 'maintenance-cycle', 'compute-01', ...common(), '--yes'], { ...cloud.env, HOSTMAINT_MAINTENANCE_COMMAND: 'echo "patch failed on $HOSTMAINT_HOST" >&2; exit 3' });
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stdout + r.stderr, /maintenance.*exited 3/);
    assert.equal(disabled('compute-01'), true);
    assert.equal(cloud.emu.state.serversOn('compute-01').length, 0);
  });

  it('an approve step saves the run (exit 8) and `continue` approves it and carries on (exit 0); a second continue is refused (exit 2)', async () => {
    const wf = file('gate.yaml', `version: 1\nname: gate\nsteps:\n  - type: disable\n  - type: approve\n    message: Look at the host first.\n  - type: enable\n`);
    const first = await hostmaint(['run', wf, 'compute-02', ...common(), '--yes', '-f', 'json'], cloud.env);
    assert.equal(first.code, 8, first.stderr);
    const { runId } = first.json<{ runId: string }>();
    assert.match(first.stderr, new RegExp(`hostmaint continue ${runId}`));
    assert.equal(disabled('compute-02'), true);
    const st = await hostmaint(['status', '--state-dir', state, '-f', 'json'], cloud.env);
    assert.equal(st.code, 0);
    const cont = await hostmaint(['continue', runId, ...cloud.args, '--state-dir', state, '-f', 'json'], { ...cloud.env, USER: 'alice' });
    assert.equal(cont.code, 0, cont.stderr);
    assert.match(cont.stderr, /approved step approve of compute-02 .* as alice@/);
    const done = cont.json<{ outcome: string; steps: Array<{ name: string; message: string }> }>();
    assert.equal(done.outcome, 'completed');
    assert.match(done.steps.find((s) => s.name === 'approve')!.message, /approved by alice@/);
    assert.equal(disabled('compute-02'), false);
    const again = await hostmaint(['continue', runId, ...cloud.args, '--state-dir', state], cloud.env);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /not waiting for approval/);
  });

  it('a malformed workflow file is exit 2 with file:line and what was expected, before any request to the cloud', async () => {
    const wf = file('bad.yaml', `version: 1\nname: bad\nsteps:\n  - type: disable\n  - type: exec\n    command: ['true']\n    timeout: forever\n`);
    const before = cloud.emu.requests.records.length;
    const r = await hostmaint(['run', wf, 'compute-01', ...common(), '--yes'], cloud.env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml:7:\d+: \/steps\/1\/timeout/);
    assert.equal(cloud.emu.requests.records.length, before, 'no request at all');
  });

  it('impossible flags and unknown names are exit 2 and change nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', 'no-such-workflow', 'compute-01'], /no-such-workflow/],
      [['run', 'maintenance-cycle'], /no host given/],
      [['run', 'maintenance-cycle', 'compute-01', 'compute-02', '--adopt'], /--adopt applies to one host/],
      [['run', 'maintenance-cycle', 'compute-01', '--concurrency', '0'], /concurrency/],
      [['run', 'maintenance-cycle', 'compute-01', 'compute-9'], /compute-9/],
      [['run', 'drain', 'compute-9'], /compute-9/],
    ];
    for (const [args, re] of cases) {
      const r = await hostmaint([...args, ...common(), '--yes'], { ...cloud.env, HOSTMAINT_MAINTENANCE_COMMAND: 'true' });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    assert.deepEqual(writes(), []);
  });

  it('a rolling run over a hosts file: --dry-run shows the order (emptiest first) and changes nothing; the run takes one host after the other', async () => {
    const hosts = file('hosts.txt', '# rack 1\ncompute-01\ncompute-02\n\ncompute-03\n');
    const dry = await hostmaint(['run', 'maintenance-cycle', '--hosts-file', hosts, '--order', 'emptiest', '--dry-run', ...common(), '-f', 'json'], { ...cloud.env, HOSTMAINT_MAINTENANCE_COMMAND: 'true' });
    assert.equal(dry.code, 0, dry.stderr);
    const plan = dry.json<{ hosts: Array<{ host: string; ok: boolean }> }>();
    assert.deepEqual(plan.hosts.map((h) => h.host), ['compute-02', 'compute-03', 'compute-01'], 'empty hosts first, compute-01 (5 instances) last');
    // Without the maintenance command, the dry run still shows the plan, and says (exit 2) that the run would be refused.
    const unset = await hostmaint(['run', 'maintenance-cycle', '--hosts-file', hosts, '--dry-run', ...common()], cloud.env);
    assert.equal(unset.code, 2, unset.stderr);
    assert.match(unset.stdout, /would run on 3 host\(s\)/);
    assert.match(unset.stderr, /the run would be refused: workflow maintenance-cycle needs \$HOSTMAINT_MAINTENANCE_COMMAND/);
    assert.deepEqual(writes(), []);
    const wf = file('cycle.yaml', `version: 1\nname: cycle\nsteps:\n${STEPS_DRAIN}  - type: enable\n  - type: return-instances\n`);
    const r = await hostmaint(['run', wf, '--hosts-file', hosts, ...common(), '--yes', '-f', 'json'], cloud.env);
    assert.equal(r.code, 0, r.stderr);
    const result = r.json<{ command: string; hosts: Array<{ host: string; status: string }> }>();
    assert.equal(result.command, 'rolling');
    assert.deepEqual(result.hosts.map((h) => [h.host, h.status]), [['compute-01', 'done'], ['compute-02', 'done'], ['compute-03', 'done']]);
    for (const h of ['compute-01', 'compute-02', 'compute-03']) assert.equal(disabled(h), false);
    assert.equal(cloud.emu.state.serversOn('compute-01').length, 5);
  });

  it('drain takes its defaults from the drain workflow: an operator\'s own drain.yaml sets them, flags still win; other steps are refused', async () => {
    const wfDir = path.join(dir, 'workflows');
    mkdirSync(wfDir);
    writeFileSync(path.join(wfDir, 'drain.yaml'), `version: 1\nname: drain\npolicies:\n  reason: from-my-drain-yaml\n  concurrency: 3\nsteps:\n${STEPS_DRAIN}`);
    const env = { ...cloud.env, HOSTMAINT_WORKFLOWS_DIR: wfDir };
    const r = await hostmaint(['drain', 'compute-01', ...common(), '--yes', '-f', 'json'], env);
    assert.equal(r.code, 0, r.stderr);
    const result = r.json<{ options: { concurrency: number; reason: string }; service: { after: { disabledReason: string } } }>();
    assert.equal(result.options.concurrency, 3);
    assert.match(result.service.after.disabledReason, /from-my-drain-yaml/);
    const plan = await hostmaint(['plan', 'compute-02', ...common(), '--concurrency', '5', '-f', 'json'], env);
    assert.equal(plan.json<{ options: { concurrency: number } }>().options.concurrency, 5);
    writeFileSync(path.join(wfDir, 'drain.yaml'), `version: 1\nname: drain\nsteps:\n${STEPS_DRAIN}  - type: exec\n    command: ['true']\n`);
    const bad = await hostmaint(['drain', 'compute-02', ...common(), '--yes'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /hostmaint run <your-workflow>/);
    assert.equal(disabled('compute-02'), false);
  });

  it('a drain of a host whose workflow run waits for approval is refused (exit 5); undrain --return ends it and moves back what it moved', async () => {
    const wf = file('hold.yaml', `version: 1\nname: hold\nsteps:\n${STEPS_DRAIN}  - type: approve\n  - type: enable\n`);
    const first = await hostmaint(['run', wf, 'compute-01', ...common(), '--yes', '-f', 'json'], cloud.env);
    assert.equal(first.code, 8, first.stderr);
    const { runId } = first.json<{ runId: string }>();
    assert.equal(cloud.emu.state.serversOn('compute-01').length, 0);
    const drain = await hostmaint(['drain', 'compute-01', ...common(), '--yes'], cloud.env);
    assert.equal(drain.code, 5, drain.stderr);
    assert.match(drain.stderr, new RegExp(`workflow run ${runId}.*waiting`));
    assert.match(drain.stderr, new RegExp(`hostmaint continue ${runId}`));
    const undrain = await hostmaint(['undrain', 'compute-01', '--return', ...common(), '-f', 'json'], cloud.env);
    assert.equal(undrain.code, 0, undrain.stderr);
    assert.equal(disabled('compute-01'), false);
    assert.equal(cloud.emu.state.serversOn('compute-01').length, 5, 'the 5 instances the workflow moved are back');
  });

  describe('a new run of a host an earlier failed run left disabled (issue 21)', () => {
    const cycle = (flag: string) => file('inherit.yaml', `version: 1\nname: inherit\nsteps:\n${STEPS_DRAIN}  - type: exec\n    name: maintenance\n    command: 'test -f ${flag}'\n  - type: enable\n  - type: return-instances\n`);

    it('takes over the disable and returns everything moved off the host since it, from Nova: the earlier run\'s instances too', async () => {
      const flag = path.join(dir, 'patched');
      const wf = cycle(flag);
      const before = cloud.emu.state.serversOn('compute-01').map((s) => s.name).sort();
      const first = await hostmaint(['run', wf, 'compute-01', ...common(), '--yes', '-f', 'json'], cloud.env);
      assert.equal(first.code, 7, first.stderr);
      assert.equal(disabled('compute-01'), true);
      assert.equal(cloud.emu.state.serversOn('compute-01').length, 0, 'the failed run left it empty');
      writeFileSync(flag, '');
      const again = await hostmaint(['run', wf, 'compute-01', ...common(), '--yes', '-f', 'json'], cloud.env);
      assert.equal(again.code, 0, again.stderr);
      const r = again.json<{ outcome: string; runId: string; steps: Array<{ name: string; detail: { returned?: number } }> }>();
      assert.equal(r.outcome, 'completed');
      assert.notEqual(r.runId, first.json<{ runId: string }>().runId, 'a new run');
      assert.equal(r.steps.find((s) => s.name === 'return-instances')!.detail.returned, 5);
      assert.equal(disabled('compute-01'), false);
      assert.deepEqual(cloud.emu.state.serversOn('compute-01').map((s) => s.name).sort(), before, 'the earlier run\'s instances are back');
    });

    it('one of them cannot be returned (stopped since): the run is not done, says which one is stranded, exit 4', async () => {
      const flag = path.join(dir, 'patched');
      const wf = cycle(flag);
      const first = await hostmaint(['run', wf, 'compute-01', ...common(), '--yes', '-f', 'json'], cloud.env);
      assert.equal(first.code, 7, first.stderr);
      // Someone stops web-01 where the drain put it: it is no longer as it was moved, and is left there.
      const web1 = [...cloud.emu.state.cloud.servers.values()].find((s) => s.name === 'web-01')!;
      web1.vmState = 'stopped';
      web1.powerState = 4;
      writeFileSync(flag, '');
      const again = await hostmaint(['run', wf, 'compute-01', ...common(), '--yes', '-f', 'json'], cloud.env);
      assert.equal(again.code, 4, again.stderr);
      const r = again.json<{ outcome: string; failure: { step: string; message: string }; steps: Array<{ name: string; status: string; detail: { stranded?: Array<{ name: string; reason: string }> } }> }>();
      assert.equal(r.outcome, 'failed');
      assert.equal(r.failure.step, 'return-instances');
      assert.match(r.failure.message, /1 instance\(s\) moved off compute-01 .*not back: web-01 \(SHUTOFF/);
      const ret = r.steps.find((s) => s.name === 'return-instances')!;
      assert.equal(ret.status, 'failed');
      assert.deepEqual(ret.detail.stranded!.map((x) => x.name), ['web-01']);
      assert.equal(disabled('compute-01'), false, 'enabled: the host itself is fine');
      assert.equal(cloud.emu.state.serversOn('compute-01').length, 4);
    });
  });

  describe('approvals: one per gate, refused before anything is recorded (issue 21)', () => {
    const approvedEntries = (runId: string) => journalEntries(state).filter((e) => e.runId === runId && e.kind === 'decision' && e.decision === 'approved');
    const gate = () => file('gate2.yaml', `version: 1\nname: gate2\nsteps:\n  - type: disable\n  - type: approve\n  - type: enable\n`);

    it('two `continue` at once: one approves and carries on, the other is refused having recorded nothing', async () => {
      const first = await hostmaint(['run', gate(), 'compute-02', ...common(), '--yes', '-f', 'json'], cloud.env);
      assert.equal(first.code, 8, first.stderr);
      const { runId } = first.json<{ runId: string }>();
      const [a, b] = await Promise.all([1, 2].map((n) => hostmaint(['continue', runId, ...cloud.args, '--state-dir', state], { ...cloud.env, USER: `op${n}` })));
      const codes = [a!.code, b!.code].sort();
      assert.equal(codes[0], 0, a!.stderr + b!.stderr);
      assert.ok(codes[1] === 5 || codes[1] === 2, `the loser exits 5 or 2: ${codes[1]}`);
      const loser = a!.code === 0 ? b! : a!;
      assert.doesNotMatch(loser.stderr, /approved step/);
      assert.equal((a!.stderr + b!.stderr).match(/approved step/g)?.length, 1);
      assert.equal(approvedEntries(runId).length, 1, 'one approval in the journal');
      const rec = JSON.parse(readFileSync(path.join(state, 'runs', runId, 'run.json'), 'utf8')) as { approvals: unknown[]; outcome: string };
      assert.equal(rec.approvals.length, 1);
      assert.equal(rec.outcome, 'completed');
      assert.equal(disabled('compute-02'), false);
    });

    it('a `continue` after the host was enabled by someone: refused (exit 5) with no approval printed or recorded', async () => {
      const first = await hostmaint(['run', gate(), 'compute-02', ...common(), '--yes', '-f', 'json'], cloud.env);
      assert.equal(first.code, 8, first.stderr);
      const { runId } = first.json<{ runId: string }>();
      const h = cloud.emu.state.cloud.hosts.get('compute-02')!;
      h.disabled = false;
      h.disabledReason = null;
      const cont = await hostmaint(['continue', runId, ...cloud.args, '--state-dir', state], cloud.env);
      assert.equal(cont.code, 5, cont.stderr);
      assert.match(cont.stderr, /enabled again/);
      assert.doesNotMatch(cont.stderr, /approved step/);
      assert.equal(approvedEntries(runId).length, 0);
      const rec = JSON.parse(readFileSync(path.join(state, 'runs', runId, 'run.json'), 'utf8')) as { approvals: unknown[] };
      assert.deepEqual(rec.approvals, []);
    });
  });

  describe('environment: empty values refused, exec steps get a minimal environment, declared secrets redacted (issue 21)', () => {
    /** Every file hostmaint stored under the state directory, concatenated. */
    const stored = () => {
      const out: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else out.push(readFileSync(p, 'utf8'));
        }
      };
      walk(state);
      return out.join('\n');
    };

    it('an {env:NAME} set but empty is refused like an unset one (exit 2, nothing changed): HOSTMAINT_MAINTENANCE_COMMAND=\'\' is no silent no-op', async () => {
      const r = await hostmaint(['run', 'maintenance-cycle', 'compute-01', ...common(), '--yes'], { ...cloud.env, HOSTMAINT_MAINTENANCE_COMMAND: '' });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /needs \$HOSTMAINT_MAINTENANCE_COMMAND, set but empty \(used by step maintenance\)/);
      const wf = file('xv.yaml', 'version: 1\nname: xv\nsteps:\n  - type: disable\n  - type: exec\n    command: ["echo", "{env:XV}"]\n');
      const blank = await hostmaint(['run', wf, 'compute-01', ...common(), '--yes'], { ...cloud.env, XV: '  ' });
      assert.equal(blank.code, 2, blank.stderr);
      assert.match(blank.stderr, /needs \$XV, set but empty/);
      assert.deepEqual(writes(), []);
    });

    it("an exec step does not get the operator's shell: MYTOKEN stays out of the command, the record and the journal", async () => {
      const wf = file('envdump.yaml', 'version: 1\nname: envdump\nsteps:\n  - type: exec\n    command: env\n');
      const r = await hostmaint(['run', wf, 'compute-01', ...common(), '--yes', '-f', 'json'], { ...cloud.env, MYTOKEN: 'tok123', HOSTMAINT_EXTRA: 'kept' });
      assert.equal(r.code, 0, r.stderr);
      const out = r.json<{ steps: Array<{ detail: { stdoutTail: string } }> }>().steps[0]!.detail.stdoutTail;
      assert.match(out, /^PATH=/m);
      assert.match(out, /^HOSTMAINT_HOST=compute-01$/m);
      assert.match(out, /^HOSTMAINT_EXTRA=kept$/m, 'the HOSTMAINT_* variables are passed');
      assert.doesNotMatch(out, /MYTOKEN|OS_CLIENT_CONFIG_FILE/);
      assert.doesNotMatch(stored() + r.stdout + r.stderr, /tok123/);
    });

    it("a variable the step passes by name and the workflow declares secret reaches the command and is *** in everything stored", async () => {
      const wf = file('token.yaml', 'version: 1\nname: token\nsecrets: [MYTOKEN]\nsteps:\n  - type: exec\n    command: \'test "${#MYTOKEN}" = 9 && echo "using $MYTOKEN" && echo "again $MYTOKEN" >&2\'\n    pass-env: [MYTOKEN]\n');
      const r = await hostmaint(['run', wf, 'compute-01', ...common(), '--yes', '-f', 'json'], { ...cloud.env, MYTOKEN: 'tok123456' });
      assert.equal(r.code, 0, r.stderr);
      const detail = r.json<{ steps: Array<{ detail: { stdoutTail: string; stderrTail: string } }> }>().steps[0]!.detail;
      assert.match(detail.stdoutTail, /using \*\*\*/);
      assert.match(detail.stderrTail, /again \*\*\*/);
      assert.doesNotMatch(stored() + r.stdout + r.stderr, /tok123456/);
    });
  });

  it('--dry-run of a wave whose hosts fit alone but not together: the wave is planned at once, and the second host is refused (issue 19)', async () => {
    await cloud.stop();
    cloud = await startCloud(dir, runsScenario({
      hosts: [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03', ram_mb: 10240 }],
      instances: [
        { name: 'a-{i}', count: 3, project: 'tenant-a', flavor: 'm1.small', host: 'compute-01' },
        { name: 'b-{i}', count: 3, project: 'tenant-a', flavor: 'm1.small', host: 'compute-02' },
      ],
    }));
    const wf = file('pair.yaml', `version: 1\nname: pair\nsteps:\n${STEPS_DRAIN}  - type: enable\n  - type: return-instances\n`);
    const dry = await hostmaint(['run', wf, 'compute-01', 'compute-02', '--max-parallel', '2', '--dry-run', ...common(), '-f', 'json'], cloud.env);
    assert.equal(dry.code, 3, dry.stderr);
    const plan = dry.json<{ hosts: Array<{ host: string; ok: boolean; message: string }>; warnings: string[] }>();
    assert.deepEqual(plan.hosts.map((h) => h.ok), [true, false], 'compute-01 fits; compute-02 fits alone, not with it');
    assert.match(plan.hosts[1]!.message, /^no room for compute-02 together with compute-01 \(the wave is planned at once\): b-0\d: needs .*MB RAM.*; largest free: \d+ MB RAM on compute-03/);
    // One at a time, both fit (compute-01's instances are back on it before compute-02 is checked).
    const one = await hostmaint(['run', wf, 'compute-01', 'compute-02', '--max-parallel', '1', '--dry-run', ...common(), '-f', 'json'], cloud.env);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(writes(), []);
  });
});

describe('a rolling --dry-run asks a constant number of requests per host (issue 21)', function () {
  this.timeout(120_000);
  it('50 vs 100 hosts: a fixed set of listings, served to every host from memory (under 0.5 request per extra host, at most 30 in all for 50 hosts)', async () => {
    const { generateBig } = await import('../../src/emulator/index.js');
    const counts: number[] = [];
    for (const n of [50, 100]) {
      const dir = tempDir('hm-dry-count-');
      const cloud = await startCloud(dir, generateBig({ hosts: n, instances_on_first: 20, instances: 200 }));
      try {
        const names = Array.from({ length: n }, (_, i) => `compute-${String(i + 1).padStart(Math.max(2, String(n).length), '0')}`);
        const hosts = path.join(dir, 'hosts.txt');
        writeFileSync(hosts, `${names.join('\n')}\n`);
        const wf = path.join(dir, 'wf.yaml');
        writeFileSync(wf, `version: 1\nname: cycle\nsteps:\n${STEPS_DRAIN}`);
        const before = cloud.emu.requests.records.length;
        const r = await hostmaint(['run', wf, '--hosts-file', hosts, '--dry-run', ...cloud.args, '--state-dir', path.join(dir, 'state'), '-f', 'json'], cloud.env);
        assert.equal((JSON.parse(r.stdout) as { hosts: unknown[] }).hosts.length, n, r.stderr);
        counts.push(cloud.emu.requests.records.length - before);
      } finally {
        await cloud.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const perExtraHost = (counts[1]! - counts[0]!) / 50;
    assert.ok(perExtraHost < 0.5, `requests ${counts.join(' -> ')}: ${perExtraHost} per extra host`);
    assert.ok(counts[0]! <= 30, `requests for 50 hosts: ${counts[0]} (at most 30)`);
  });
});
