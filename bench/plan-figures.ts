/**
 * P4: `plan` (resolve + preflight, read-only) for a host with 200 instances in
 * an emulated cloud of 1,000 hosts. The emulator runs in a child process on
 * the real clock, so the time is hostmaint's work plus the emulated cloud's
 * answers over loopback HTTP, as an operator would see it (without node's
 * start-up, which P3 measures).
 *
 * Side by side: Placement requests for 250 and 1,000 hosts with 3 flavors,
 * and 1,000 hosts with 6 flavors: they follow the flavors, not the hosts.
 */
import { realClock } from '../src/core/clock.js';
import { drainHost } from '../src/library/drain.js';
import { generateBig, type Scenario } from '../src/emulator/index.js';
import { nullLogger } from '../src/core/log.js';
import { connect } from '../src/openstack/session.js';
import type { Figure } from './drain-figures.js';
import { spawnEmulator } from './lib/emulator-process.js';
import { cloudFor, fmt, median } from './lib/emulated.js';

/** generateBig with `flavors` distinct flavors used round robin (3 is the generator's own). */
export function bigCloud(hosts: number, onFirst: number, flavors = 3): Scenario {
  const sc = generateBig({ hosts, instances_on_first: onFirst, instances: Math.max(2000, onFirst) });
  if (flavors !== 3) {
    sc.flavors = Array.from({ length: flavors }, (_, i) => ({ name: `b2.f${i + 1}`, id: `f${i + 1}`, vcpus: 1 + (i % 4), ram_mb: 1024 * (1 + i), disk_gb: 10 * (1 + (i % 3)) }));
    sc.instances = sc.instances!.map((inst, i) => ({ ...inst, flavor: `b2.f${(i % flavors) + 1}` }));
  }
  return sc;
}

export interface PlanRun {
  hosts: number;
  flavors: number;
  instances: number;
  ms: number[];
  placement: number;
  compute: number;
  outcome: string;
  planned: number;
  targets: number;
}

export async function planRun(hosts: number, flavors: number, repeat = 3, onFirst = 200): Promise<PlanRun> {
  const sc = bigCloud(hosts, onFirst, flavors);
  const emu = await spawnEmulator(sc, 1);
  const width = Math.max(2, String(hosts).length);
  const host = `compute-${'1'.padStart(width, '0')}`;
  try {
    const session = await connect(cloudFor(emu.authUrl, emu.credentials, emu.regionName), { logger: nullLogger, clock: realClock, timeoutMs: 60_000 });
    try {
      const ms: number[] = [];
      let placement = 0;
      let compute = 0;
      let outcome = '';
      let planned = 0;
      let targets = 0;
      for (let i = 0; i < repeat; i++) {
        await emu.clearRequests();
        const t = performance.now();
        const r = await drainHost(session, host, { dryRun: true }, { logger: nullLogger, clock: realClock });
        ms.push(performance.now() - t);
        const reqs = await emu.requests();
        placement = reqs.filter((x) => x.service === 'placement').length;
        compute = reqs.filter((x) => x.service === 'compute').length;
        outcome = r.outcome;
        planned = r.plan.filter((p) => p.fits).length;
        targets = r.preflight?.targets.filter((x) => x.usable).length ?? 0;
      }
      return { hosts, flavors, instances: onFirst, ms, placement, compute, outcome, planned, targets };
    } finally {
      await session.close();
    }
  } finally {
    await emu.stop();
  }
}

export async function planFigures(log: (l: string) => void = (l) => console.log(l)): Promise<Figure[]> {
  const main = await planRun(1000, 3);
  const fewerHosts = await planRun(250, 3, 1);
  const moreFlavors = await planRun(1000, 6, 1);
  const cold = main.ms[0]!;
  const warm = median(main.ms.slice(1));
  log('\nP4 plan (200 instances on the host, emulator in a child process, real clock)');
  for (const r of [fewerHosts, main, moreFlavors]) {
    log(`  ${String(r.hosts).padStart(4)} hosts, ${r.flavors} flavors: ${r.outcome}, ${r.planned} planned onto ${r.targets} usable targets; ${r.placement} Placement + ${r.compute} Nova requests; ${r.ms.map((x) => `${fmt(x / 1000)} s`).join(', ')}`);
  }
  const grows = moreFlavors.placement - main.placement;
  const hostGrowth = main.placement - fewerHosts.placement;
  return [
    {
      id: 'P4',
      name: 'P4 plan time, 1,000 hosts',
      value: `${fmt(cold / 1000)} s first plan in the process, ${fmt(warm / 1000)} s warm median`,
      target: '<= 2 s',
      ok: cold <= 2000 && main.outcome === 'planned',
      inputs: `generateBig: 1,000 hosts (4 AZs), 200 instances on compute-0001 (3 flavors), 2,000 in all; library drainHost dryRun after connect; emulator in a child process`,
    },
    {
      id: 'P4',
      name: 'P4 Placement requests',
      value: `${fewerHosts.placement} (250 hosts, 3 flavors), ${main.placement} (1,000 hosts, 3 flavors), ${moreFlavors.placement} (1,000 hosts, 6 flavors)`,
      target: 'grow with flavors, not hosts x instances',
      ok: hostGrowth === 0 && grows > 0 && grows <= 3 + 1,
      inputs: 'same scenario with 250 hosts, and with 6 flavors',
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figs = await planFigures();
  for (const f of figs) console.log(`${f.name}: ${f.value} (${f.target}) ${f.ok === null ? '' : f.ok ? 'ok' : 'MISSED'}`);
  for (const inputs of new Set(figs.map((f) => `${f.id}: ${f.inputs}`))) console.log(`  inputs ${inputs}`);
}
