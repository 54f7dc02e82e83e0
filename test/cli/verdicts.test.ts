/**
 * Migratability verdicts as an operator sees them: `hostmaint plan` and
 * `hostmaint drain` on emulated clouds whose flavors ask for a vGPU or
 * dedicated CPUs, whose targets differ in CPU, whose instances have local
 * disks, NUMA, huge pages or a config drive (Nova's own shapes: flavor
 * extra_specs, hypervisor cpu_info, Placement PCPU inventory).
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import { hostmaint, tempDir, writeScenario } from './helpers.js';

interface Group {
  kind: string;
  category: string | null;
  message: string;
  servers: Array<{ name: string; reason: string; remedy: string | null }>;
}
interface Result {
  outcome: string;
  exitCode: number;
  manifest: unknown[];
  service: { before: { status: string }; after: { status: string; disabledReason: string | null } | null; restored?: boolean };
  plan: Array<{ name: string; method: string; target: string | null; alternatives: string[]; fits: boolean; notes?: string[] }>;
  warnings: string[];
  preflight: { blocking: Group[]; targets: Array<{ host: string; usable: boolean; reasons: string[] }>; instances: Array<{ name: string; class: string; notes: string[] }> };
}

function cloud(o: { hosts?: unknown[]; flavors?: unknown[]; instances: unknown[] }): Record<string, unknown> {
  return {
    name: 'verdicts',
    defaults: { host: { vcpus: 16, ram_mb: 32768, disk_gb: 500, reserved_host_memory_mb: 0, max_concurrent_live_migrations: 1 } },
    hosts: o.hosts ?? [{ name: 'compute-01' }, { name: 'compute-02' }, { name: 'compute-03' }],
    flavors: [{ name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 }, ...(o.flavors ?? [])],
    instances: o.instances,
  };
}

describe('migratability verdicts (plan and drain on the emulator)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = tempDir('hm-verdicts-');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const env = (body: unknown) => ({ HOSTMAINT_DEMO_SCENARIO: writeScenario(dir, 's', body) });
  const run = (args: string[], e: NodeJS.ProcessEnv) => hostmaint([...args, '--os-cloud', 'demo', '--state-dir', dir], e);

  it('a vGPU flavor: drain refused (exit 3) before anything moves, one hardware group naming both instances; the service is back as it was', async () => {
    const e = env(
      cloud({
        flavors: [{ name: 'g1.vgpu', vcpus: 2, ram_mb: 4096, disk_gb: 20, extra_specs: { 'resources:VGPU': '1' } }],
        instances: [
          { name: 'render-1', flavor: 'g1.vgpu', host: 'compute-01' },
          { name: 'render-2', flavor: 'g1.vgpu', host: 'compute-01' },
          { name: 'web-1', flavor: 'm1.small', host: 'compute-01' },
        ],
      }),
    );
    const r = await run(['drain', 'compute-01', '--yes', '-f', 'json'], e);
    assert.equal(r.code, 3, r.stderr);
    const res = r.json<Result>();
    assert.equal(res.outcome, 'preflight-refused');
    assert.deepEqual(res.manifest, []);
    assert.equal(res.service.before.status, 'enabled');
    assert.equal(res.service.after?.status, 'enabled', 'the disable was put back');
    assert.equal(res.service.after?.disabledReason ?? null, null);
    const hw = res.preflight.blocking.filter((g) => g.category === 'hardware');
    assert.equal(hw.length, 1, JSON.stringify(res.preflight.blocking));
    assert.deepEqual(hw[0]!.servers.map((s) => s.name).sort(), ['render-1', 'render-2']);
    assert.match(hw[0]!.message, /host-bound hardware.*: render-\d, render-\d \(override: --skip-blocked\)/);
    assert.match(hw[0]!.servers[0]!.reason, /vGPU \(mediated device; Nova's libvirt driver refuses to live-migrate it before Xena\): cannot be live-migrated/);

    // The plan says the same, as text, and changes nothing either: web-1 is still planned, the service still enabled.
    const plan = await run(['plan', 'compute-01'], e);
    assert.equal(plan.code, 3, plan.stderr);
    assert.match(plan.stdout, /Preflight found \(all problems at once\):\n {2}- instances with host-bound hardware cannot be live-migrated: render-\d, render-\d \(override: --skip-blocked\)\n {6}render-\d \(.*\): ACTIVE with vGPU/);
    assert.match(plan.stdout, /web-1 +\S+ +live +live \(default\) +compute-0\d/);
    assert.match(plan.stdout, /Host compute-01: nova-compute enabled, up\./);
  });

  it('dedicated CPUs: refused while no target has PCPU inventory (naming the instance and every target); planned on the one target that has it', async () => {
    const body = (pcpuOn03: number) =>
      cloud({
        hosts: [{ name: 'compute-01', pcpus: 8 }, { name: 'compute-02' }, { name: 'compute-03', pcpus: pcpuOn03 }],
        flavors: [{ name: 'p1.pinned', vcpus: 4, ram_mb: 4096, disk_gb: 20, extra_specs: { 'hw:cpu_policy': 'dedicated' } }],
        instances: [
          { name: 'db-1', flavor: 'p1.pinned', host: 'compute-01' },
          { name: 'web-1', flavor: 'm1.small', host: 'compute-01' },
        ],
      });
    const refused = await run(['plan', 'compute-01', '-f', 'json'], env(body(0)));
    assert.equal(refused.code, 3, refused.stderr);
    const res = refused.json<Result>();
    const g = res.preflight.blocking.find((x) => x.category === 'dedicated-cpu');
    assert.ok(g, JSON.stringify(res.preflight.blocking));
    assert.deepEqual(g.servers.map((s) => s.name), ['db-1']);
    assert.match(g.servers[0]!.reason, /db-1 \(.*\): ACTIVE: needs 4 dedicated CPUs \(hw:cpu_policy=dedicated\); no target has PCPU inventory: compute-02, compute-03$/);
    assert.match(g.servers[0]!.remedy!, /PCPU inventory .*cpu_dedicated_set.*--target/);
    assert.deepEqual(res.preflight.blocking.map((x) => x.kind), ['instance'], 'not also a capacity refusal');
    assert.deepEqual(res.plan.map((p) => p.name), ['web-1']);
    const text = await run(['plan', 'compute-01'], env(body(0)));
    assert.match(text.stdout, /- instances with dedicated CPUs that no target has PCPU for: db-1 \(override: --skip-blocked\)/);

    const planned = await run(['plan', 'compute-01', '-f', 'json'], env(body(8)));
    assert.equal(planned.code, 0, planned.stdout);
    const p = planned.json<Result>().plan.find((x) => x.name === 'db-1')!;
    assert.equal(p.target, 'compute-03');
    assert.deepEqual(p.alternatives, []);
  });

  it('a target with another CPU vendor is excluded for live instances (reason shown), still used for a cold one; a model difference is a warning', async () => {
    const e = env(
      cloud({
        hosts: [
          { name: 'compute-01', cpu_info: { vendor: 'Intel', model: 'Skylake-Server' } },
          { name: 'compute-02', cpu_info: { vendor: 'Intel', model: 'Cascadelake-Server' } },
          { name: 'compute-03', cpu_info: { vendor: 'AMD', model: 'EPYC-Rome' } },
        ],
        instances: [
          { name: 'web-{i}', count: 3, flavor: 'm1.small', host: 'compute-01' },
          { name: 'batch-1', flavor: 'm1.small', host: 'compute-01', state: 'SHUTOFF' },
        ],
      }),
    );
    const r = await run(['plan', 'compute-01', '-f', 'json'], e);
    assert.equal(r.code, 0, r.stdout);
    const res = r.json<Result>();
    for (const p of res.plan.filter((x) => x.method === 'live')) {
      assert.equal(p.target, 'compute-02', p.name);
      assert.ok(!p.alternatives.includes('compute-03'), p.name);
    }
    const cold = res.plan.find((x) => x.name === 'batch-1')!;
    assert.ok([cold.target, ...cold.alternatives].includes('compute-03'), 'a cold move may go to the AMD host');
    const amd = res.preflight.targets.find((t) => t.host === 'compute-03')!;
    assert.equal(amd.usable, true);
    assert.deepEqual(amd.reasons, ["CPU vendor AMD differs from compute-01's Intel: excluded for live migration"]);
    assert.ok(res.warnings.includes("target compute-03: CPU vendor AMD differs from compute-01's Intel: excluded for live migration"), JSON.stringify(res.warnings));
    assert.ok(res.warnings.some((w) => /^target compute-02: CPU model Cascadelake-Server differs from compute-01's Skylake-Server: Nova's libvirt driver compares CPUs/.test(w)));

    const text = await run(['plan', 'compute-01'], e);
    assert.match(text.stdout, /warning: target compute-03: CPU vendor AMD differs from compute-01's Intel: excluded for live migration/);

    // Only the AMD host left: the live instances fit nowhere, and the reason says why.
    const only = await run(['plan', 'compute-01', '--target', 'compute-03', '-f', 'json'], e);
    assert.equal(only.code, 3);
    const unplaced = only.json<Result>().preflight.blocking.find((g) => g.kind === 'capacity')!;
    assert.equal(unplaced.servers.length, 3);
    assert.match(unplaced.servers[0]!.reason, /no target can take it live: compute-03: CPU vendor AMD differs/);
  });

  it('plan shows each move\'s block-migration estimate, and NUMA, huge-page and config-drive notes (text and JSON)', async () => {
    const e = env(
      cloud({
        flavors: [
          { name: 'e1.local', vcpus: 2, ram_mb: 4096, disk_gb: 40, ephemeral_gb: 1, swap_mb: 1024 },
          { name: 'n1.numa', vcpus: 2, ram_mb: 4096, disk_gb: 10, extra_specs: { 'hw:numa_nodes': '2', 'hw:mem_page_size': '1GB' } },
        ],
        instances: [
          { name: 'big-1', flavor: 'e1.local', host: 'compute-01' },
          { name: 'numa-1', flavor: 'n1.numa', host: 'compute-01', config_drive: true },
        ],
      }),
    );
    const r = await run(['plan', 'compute-01'], e);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /big-1 +\S+ +live +live \(default\) +compute-0\d +\S+ +block migration unless storage is shared: ~42 GB local disk, ~6 min at 1 Gbit\/s \(assumed\)/);
    assert.match(r.stdout, /warning: numa-1: NUMA topology \(hw:numa_nodes=2\): the target must have matching NUMA cells; Nova checks it/);
    assert.match(r.stdout, /warning: numa-1: huge pages \(hw:mem_page_size=1GB\)/);
    assert.match(r.stdout, /warning: numa-1: config drive: live migration needs config_drive_format=vfat or block migration of the iso9660 drive/);

    const j = (await run(['plan', 'compute-01', '-f', 'json'], e)).json<Result>();
    assert.deepEqual(j.plan.find((p) => p.name === 'big-1')!.notes, ['block migration unless storage is shared: ~42 GB local disk, ~6 min at 1 Gbit/s (assumed)']);
    assert.equal(j.preflight.instances.find((i) => i.name === 'numa-1')!.notes.length, 3);
    const csv = await run(['plan', 'compute-01', '-f', 'csv', '-c', 'INSTANCE', '-c', 'NOTE'], e);
    assert.match(csv.stdout, /big-1.*~42 GB local disk/);
  });
});
