/** Shell completion (from yargs) and --help / --version. */
import { COMMAND_NAMES } from '../../src/cli/commands/index.js';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostmaint, tempDir } from './helpers.js';
import { builtCliReady } from './runs-helpers.js';
import { VERSION } from '../../src/version.js';
import { cachedHosts, HOSTS_CACHE_TTL_MS, rememberHosts } from '../../src/cli/hosts-cache.js';

const root = path.resolve('.');
const commandsIn = (file: string) => [...readFileSync(path.join(root, file), 'utf8').matchAll(/\.command\((\w+)\(state\)\)/g)].map((m) => m[1]).sort();

describe('CLI: completion, help, version', function () {
  this.timeout(60_000);

  it('completion bash / zsh print scripts that ask hostmaint for the words', async () => {
    const bash = await hostmaint(['completion', 'bash']);
    assert.equal(bash.code, 0);
    assert.match(bash.stdout, /^complete -o bashdefault -o default -F _hostmaint_completions hostmaint$/m);
    assert.match(bash.stdout, /hostmaint completion --words -- /);
    const zsh = await hostmaint(['completion', 'zsh']);
    assert.match(zsh.stdout, /^#compdef hostmaint$/m);
    const fish = await hostmaint(['completion', 'fish']);
    assert.equal(fish.code, 2);
  });

  it('completes commands, flags of the command typed, and the choices of a flag', async () => {
    const words = async (...w: string[]) => (await hostmaint(['completion', '--words', '--', 'hostmaint', ...w])).stdout.trim().split('\n');
    assert.deepEqual((await words('')).sort(), ['completion', 'continue', 'doctor', 'drain', 'emulator', 'history', 'plan', 'resume', 'run', 'status', 'undrain', 'workflow']);
    const drainFlags = await words('drain', 'compute-01', '--');
    for (const f of ['--reason', '--concurrency', '--stopped', '--skip-blocked', '--os-cloud', '--report', '--quiet']) assert.ok(drainFlags.includes(f), f);
    assert.ok(!drainFlags.includes('--return'), 'undrain flags are not drain flags');
    assert.deepEqual(await words('drain', 'compute-01', '--on-timeout', ''), ['abort', 'force-complete', 'wait']);
    assert.deepEqual(await words('drain', 'compute-01', '--on-timeout', 'force-complete,'), ['force-complete,abort', 'force-complete,wait']);
    assert.deepEqual(await words('drain', 'compute-01', '--instance-policies', 'live,c'), ['live,cold']);
    assert.ok((await words('undrain', 'x', '--')).includes('--return'));
  });

  it('completion knows every command main.ts registers', () => {
    assert.deepEqual(commandsIn('src/cli/commands/completion.ts'), commandsIn('src/cli/main.ts'));
  });

  it('bash: sourcing the script completes with the real executable', function () {
    const ready = builtCliReady();
    if (!ready.ok || spawnSync('sh', ['-c', 'command -v bash']).status !== 0) this.skip();
    const dir = tempDir('hm-comp-');
    try {
      writeFileSync(path.join(dir, 'hostmaint'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'bin/hostmaint.js')}" "$@"\n`);
      chmodSync(path.join(dir, 'hostmaint'), 0o755);
      const script = 'source <(hostmaint completion bash); COMP_WORDS=(hostmaint drain compute-01 --on-timeout f); COMP_CWORD=4; _hostmaint_completions; echo "${COMPREPLY[@]}"; COMP_WORDS=(hostmaint hi); COMP_CWORD=1; _hostmaint_completions; echo "${COMPREPLY[@]}"';
      const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
      assert.equal(r.stdout, 'force-complete\nhistory\n', r.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every command\'s --help has examples; --version prints the version', function () {
    const ready = builtCliReady();
    if (!ready.ok) this.skip();
    for (const cmd of COMMAND_NAMES) {
      const r = spawnSync(process.execPath, [path.join(root, 'bin/hostmaint.js'), cmd, '--help'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, /^Examples:$/m, `${cmd} --help has no examples`);
    }
    const v = spawnSync(process.execPath, [path.join(root, 'bin/hostmaint.js'), '--version'], { encoding: 'utf8' });
    assert.equal(v.stdout.trim(), VERSION);
  });
});

describe('CLI: completion offers the values that fit (issue 17)', function () {
  this.timeout(120_000);
  const words = async (env: NodeJS.ProcessEnv, ...w: string[]) => {
    const r = await hostmaint(['completion', '--words', '--', 'hostmaint', ...w], env);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').filter((x) => x !== '');
  };

  it('--os-cloud: the clouds of clouds.yaml, and demo', async () => {
    const home = tempDir('hm-comp-home-');
    try {
      mkdirSync(path.join(home, '.config', 'openstack'), { recursive: true });
      writeFileSync(path.join(home, '.config', 'openstack', 'clouds.yaml'), 'clouds:\n  prod-east:\n    auth: {auth_url: "https://keystone.example/v3"}\n  lab: {}\n');
      assert.deepEqual(await words({ HOME: home }, 'drain', 'compute-01', '--os-cloud', ''), ['demo', 'lab', 'prod-east']);
      assert.deepEqual(await words({ HOME: home }, 'drain', 'compute-01', '--os-cloud', 'pr'), ['prod-east']);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('run and workflow show: the workflow names, yours first-found; never a command run', async () => {
    const dir = tempDir('hm-comp-wf-');
    try {
      writeFileSync(path.join(dir, 'patch-tuesday.yaml'), 'version: 1\nname: patch-tuesday\nsteps:\n  - name: drain\n    type: drain\n');
      const run = await words({ HOSTMAINT_WORKFLOWS_DIR: dir }, 'run', '');
      for (const w of ['maintenance-cycle', 'drain', 'undrain', 'patch-tuesday']) assert.ok(run.includes(w), `${w} in ${run.join(' ')}`);
      assert.deepEqual(await words({ HOSTMAINT_WORKFLOWS_DIR: dir }, 'workflow', 'show', 'pat'), ['patch-tuesday']);
      assert.deepEqual(await words({}, 'run', 'maint'), ['maintenance-cycle']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hosts seen by a plan, run ids and hosts of saved runs; nothing is changed by completing', async () => {
    const state = tempDir('hm-comp-state-');
    try {
      // Completing a drain's words runs no drain: no run saved, no demo cloud started.
      await words({}, 'drain', 'compute-01', '--os-cloud', 'demo', '--state-dir', state, '--yes', '');
      assert.equal(existsSync(path.join(state, 'demo', 'cloud.json')), false, 'no demo cloud was started');
      assert.deepEqual(await words({}, 'drain', '--os-cloud', 'demo', '--state-dir', state, 'comp'), [], 'no hosts known yet');

      const plan = await hostmaint(['plan', 'compute-01', '--os-cloud', 'demo', '--state-dir', state, '-q']);
      assert.equal(plan.code, 0, plan.stderr);
      const hosts = await words({}, 'drain', '--os-cloud', 'demo', '--state-dir', state, 'comp');
      assert.deepEqual(hosts, ['compute-01', 'compute-02', 'compute-03', 'compute-04']);
      assert.deepEqual(await words({ OS_CLOUD: 'other' }, 'undrain', '--state-dir', state, 'comp'), [], 'hosts are per cloud');

      const drain = await hostmaint(['drain', 'compute-02', '--os-cloud', 'demo', '--state-dir', state, '--yes', '-f', 'json']);
      assert.equal(drain.code, 0, drain.stderr);
      const runId = drain.json<{ runId: string }>().runId;
      assert.ok((await words({}, 'resume', '--state-dir', state, '')).includes(runId), 'after the flags, the run ids');
      assert.deepEqual(await words({}, 'resume', '--state-dir', state, runId.slice(0, 8)), [runId]);
      assert.deepEqual(await words({}, 'status', '--state-dir', state, 'compute'), ['compute-02']);
      assert.deepEqual(await words({}, 'history', '--state-dir', state, 'c'), ['compute-02']);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('the hosts cache forgets a host not seen for its TTL', () => {
    const state = tempDir('hm-comp-ttl-');
    try {
      const t0 = Date.UTC(2026, 11, 3, 12, 0, 0);
      rememberHosts(state, 'prod', ['compute-01', 'compute-02'], t0);
      rememberHosts(state, 'prod', ['compute-02'], t0 + HOSTS_CACHE_TTL_MS / 2);
      rememberHosts(state, 'lab', ['lab-01'], t0);
      assert.deepEqual(cachedHosts([state], 'prod', t0 + HOSTS_CACHE_TTL_MS / 2).sort(), ['compute-01', 'compute-02']);
      assert.deepEqual(cachedHosts([state], 'prod', t0 + HOSTS_CACHE_TTL_MS + 1), ['compute-02'], 'compute-01 was last seen a TTL ago');
      assert.deepEqual(cachedHosts([state], null, t0 + 1).sort(), ['compute-01', 'compute-02', 'lab-01'], 'any cloud when none is named');
      writeFileSync(path.join(state, 'hosts-cache.json'), '{not json');
      assert.deepEqual(cachedHosts([state], 'prod', t0), [], 'a broken cache offers nothing');
      rememberHosts(state, 'prod', ['compute-03'], t0);
      assert.deepEqual(cachedHosts([state], 'prod', t0), ['compute-03'], 'and is rewritten');
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});
