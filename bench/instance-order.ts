/**
 * Which --instance-order should be the default? hostmaint drains the same host (50 instances,
 * m1.tiny..m1.xlarge round robin, five targets; bench/lib/emulated.ts mixedHostScenario) once per
 * order, with the CLI's defaults, on the emulator's VirtualClock, with Nova running 1 and then 4
 * live migrations per compute. For each order it prints, side by side:
 *
 *   makespan     disable -> verified empty (the host is free for its maintenance)
 *   first freed  when the first instance has left
 *   half freed   when half of the host's instance memory has left (room for what needs to land)
 *
 * as times and as ratios to the best order of each column.
 *
 *   node --import tsx bench/instance-order.ts [--n 50]
 */
import { CLI_DEFAULTS, hostmaintRun } from './drain-figures.js';
import { fmt, mixedHostScenario } from './lib/emulated.js';
import type { InstanceOrder } from '../src/machines/options.js';

const args = process.argv.slice(2);
const n = Number(args[args.indexOf('--n') + 1] ?? 50) || 50;
const ORDERS: InstanceOrder[] = ['largest-first', 'smallest-first', 'listing'];

interface Row {
  order: InstanceOrder;
  makespanMs: number;
  firstMs: number;
  halfMs: number;
}

async function measure(order: InstanceOrder, perCompute: number): Promise<Row> {
  const hm = await hostmaintRun(mixedHostScenario(n, perCompute), { ...CLI_DEFAULTS, instanceOrder: order });
  const r = hm.result;
  const start = Date.parse(r.timings.phases.find((p) => p.phase === 'disablingService')!.startedAt);
  const ram = new Map(r.plan.map((p) => [p.serverId, p.request['MEMORY_MB'] ?? 0]));
  const total = [...ram.values()].reduce((a, b) => a + b, 0);
  const done = r.instances.filter((i) => i.finishedAt !== null).map((i) => ({ at: Date.parse(i.finishedAt!) - start, mb: ram.get(i.serverId) ?? 0 })).sort((a, b) => a.at - b.at);
  let freed = 0;
  let halfMs = NaN;
  for (const d of done) {
    freed += d.mb;
    if (freed * 2 >= total) {
      halfMs = d.at;
      break;
    }
  }
  return { order, makespanMs: hm.drainMs, firstMs: done[0]?.at ?? NaN, halfMs };
}

const s = (ms: number) => `${fmt(ms / 1000, 1)} s`;
for (const perCompute of [1, 4]) {
  const rows: Row[] = [];
  for (const o of ORDERS) rows.push(await measure(o, perCompute));
  const best = { makespanMs: Math.min(...rows.map((r) => r.makespanMs)), firstMs: Math.min(...rows.map((r) => r.firstMs)), halfMs: Math.min(...rows.map((r) => r.halfMs)) };
  console.log(`\n${n} instances, ${perCompute} live migration(s) per compute, hostmaint --concurrency ${CLI_DEFAULTS.concurrency} --poll-interval ${CLI_DEFAULTS.pollIntervalMs! / 1000}s (emulated time)`);
  console.log(`  ${'order'.padEnd(16)} ${'makespan'.padEnd(22)} ${'first freed'.padEnd(22)} half the memory freed`);
  for (const r of rows) {
    const cell = (ms: number, b: number) => `${s(ms)} (${fmt(ms / b, 3)} x)`.padEnd(22);
    console.log(`  ${r.order.padEnd(16)} ${cell(r.makespanMs, best.makespanMs)} ${cell(r.firstMs, best.firstMs)} ${cell(r.halfMs, best.halfMs).trimEnd()}`);
  }
}
