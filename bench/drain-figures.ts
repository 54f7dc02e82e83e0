/**
 * P1 (orchestration overhead) and P2 (API requests) on the emulated cloud.
 *
 * One scenario: `n` instances of mixed sizes on compute-01, five targets,
 * Nova's per-compute limit `perCompute` (1 and 4). Everything runs on the
 * emulator's VirtualClock, shared with hostmaint, so times are exact (and a
 * 10-minute drain takes a few real seconds).
 *
 *   ideal    every live migration requested at time zero over plain HTTP;
 *            the emulator (Nova) queues them behind the compute's slots; the
 *            makespan is when the last one is `completed`. Requested in
 *            listing order, largest first and smallest first; the ideal is the
 *            shortest makespan of the three.
 *   hostmaint drainHost() with the CLI's defaults (concurrency 2, poll
 *            interval 2 s): disable, preflight, the pool, verify empty.
 *   waiter   the per-instance waiter of `openstack server migrate
 *            --live-migration --wait`, run for every instance at time zero:
 *            one POST, then one GET /servers/{id} per poll interval until the
 *            migration is over, every instance requested at time zero in the
 *            order `openstack server list --host` gives. Its count is computed
 *            from the ideal run's completion times (it would see the same
 *            schedule). The cheapest order (smallest first) is shown too.
 */
import { drainHost } from '../src/library/drain.js';
import { VirtualClock } from '../src/emulator/index.js';
import type { Emulator, Scenario } from '../src/emulator/index.js';
import { nullLogger } from '../src/core/log.js';
import type { DrainOptions } from '../src/machines/options.js';
import type { DrainResult } from '../src/machines/results.js';
import { closeEmulated, fmt, MIXED_FLAVORS, mixedHostScenario, openEmulated } from './lib/emulated.js';

/** The CLI's defaults (src/cli/commands/drain.ts): what an operator gets. */
export const CLI_DEFAULTS: DrainOptions = { concurrency: 2, pollIntervalMs: 2000 };

export interface IdealRun {
  makespanMs: number;
  /** Per migration: ms from time zero to `completed`. */
  completions: number[];
  waiterRequests: number;
}

async function adminToken(emu: Emulator): Promise<string> {
  const c = emu.credentials;
  const r = await fetch(`${emu.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: c.username, domain: { name: c.userDomainName }, password: c.password } } },
        scope: { project: { name: c.projectName, domain: { name: c.projectDomainName } } },
      },
    }),
  });
  if (r.status !== 201) throw new Error(`auth failed: ${r.status}`);
  return r.headers.get('x-subject-token')!;
}

/** Every migration requested at t0; Nova queues. */
export type RequestOrder = 'listing' | 'largest-first' | 'smallest-first';

export async function idealRun(scenario: Scenario, pollIntervalMs: number, order: RequestOrder = 'listing'): Promise<IdealRun> {
  const { startEmulator } = await import('../src/emulator/index.js');
  const clock = new VirtualClock();
  const emu = await startEmulator({ scenario, clock });
  try {
    const token = await adminToken(emu);
    // 'listing': the order `openstack server list --host compute-01 --all-projects` gives (what an
    // operator's loop uses); largest first (hostmaint's plan order, the better one for the makespan
    // with several slots); smallest first (the fewest waiter polls: the smallest sum of completion times).
    const listed = await fetch(`${emu.url}/compute/v2.1/servers/detail?all_tenants=1&host=compute-01`, { headers: { 'x-auth-token': token, 'openstack-api-version': 'compute 2.93' } });
    const byApi = ((await listed.json()) as { servers: Array<{ id: string; name: string; flavor: { original_name: string } }> }).servers;
    const size = (flavor: string) => MIXED_FLAVORS.indexOf(flavor) * (order === 'largest-first' ? 1 : -1);
    const ids = (order === 'listing' ? byApi : [...byApi].sort((a, b) => size(b.flavor.original_name) - size(a.flavor.original_name) || a.name.localeCompare(b.name))).map((x) => x.id);
    const t0 = clock.now();
    for (const id of ids) {
      const r = await fetch(`${emu.url}/compute/v2.1/servers/${id}/action`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'content-type': 'application/json', 'openstack-api-version': 'compute 2.93' },
        body: JSON.stringify({ 'os-migrateLive': { host: null, block_migration: 'auto' } }),
      });
      if (r.status !== 202) throw new Error(`migrate ${id}: ${r.status} ${await r.text()}`);
    }
    if (clock.now() !== t0) throw new Error('virtual time moved while requesting');
    for (;;) {
      const migs = emu.state.migrations({ type: 'live-migration' });
      if (migs.length === ids.length && migs.every((m) => ['completed', 'error', 'failed', 'cancelled'].includes(m.status))) {
        if (migs.some((m) => m.status !== 'completed')) throw new Error('a migration failed in the ideal run');
        const completions = migs.map((m) => m.updatedAt - t0);
        const makespanMs = Math.max(...completions);
        // The waiter: 1 POST + ceil(t/interval) polls (the poll that sees it finished included).
        const waiterRequests = completions.reduce((sum, t) => sum + 1 + Math.ceil(t / pollIntervalMs), 0);
        return { makespanMs, completions, waiterRequests };
      }
      await clock.sleep(250);
    }
  } finally {
    await emu.stop();
  }
}

export interface HostmaintRun {
  result: DrainResult;
  /** Disable to verified empty (emulated ms). */
  drainMs: number;
  /** Requests the drain sent (after connect). */
  requests: number;
  byKind: Record<string, number>;
  /** Per poll of the migrating phase: requests that recur (server lists, migration list, progress reads). */
  recurringPerPoll: number[];
  /** Per poll: every request of that poll (POSTs and one-off reads included). */
  allPerPoll: number[];
  polls: number;
  /** GET /os-services sent before the disable (PUT): the machine reads the service once, then decides. */
  serviceReadsBeforeDisable: number;
}

function kindOf(method: string, path: string, action: string | null): string {
  if (method === 'POST' && action) return `POST ${action}`;
  if (path.endsWith('/servers/detail')) return 'GET servers/detail';
  if (path.endsWith('/os-migrations')) return 'GET os-migrations';
  if (/\/servers\/[^/]+\/migrations\/\d+$/.test(path)) return 'GET server migration (progress)';
  if (/\/servers\/[^/]+$/.test(path)) return 'GET server';
  if (path.includes('/placement')) return `placement ${path.replace(/[0-9a-f-]{36}/g, '{uuid}').replace(/^.*\/placement/, '')}`;
  return `${method} ${path.replace(/[0-9a-f-]{36}/g, '{id}').replace(/^\/compute\/v2\.1/, '')}`;
}

export async function hostmaintRun(scenario: Scenario, options: DrainOptions = CLI_DEFAULTS): Promise<HostmaintRun> {
  const env = await openEmulated(scenario, new VirtualClock());
  const { emu, session } = env;
  try {
    const marks: Record<string, number> = {};
    const before = emu.requests.records.length;
    const result = await drainHost(session, 'compute-01', options, {
      logger: nullLogger,
      clock: emu.clock,
      emit: (e) => {
        if (e.type === 'phase-changed') marks[e.phase] = emu.requests.records.length;
      },
    });
    if (result.outcome !== 'drained') throw new Error(`drain: ${result.outcome}: ${result.message}`);
    const phase = (name: string) => result.timings.phases.find((p) => p.phase === name);
    const start = Date.parse(phase('disablingService')!.startedAt);
    const end = Date.parse(phase('verifyingEmpty')!.finishedAt!);
    const records = emu.requests.records.slice(before);
    const byKind: Record<string, number> = {};
    for (const r of records) {
      const k = r.service === 'identity' ? 'identity' : kindOf(r.method, r.path, r.action);
      byKind[k] = (byKind[k] ?? 0) + 1;
    }
    const migrating = emu.requests.records.slice(marks.migrating, marks.verifyingEmpty);
    const byTime = new Map<number, typeof migrating>();
    for (const r of migrating) byTime.set(r.time, [...(byTime.get(r.time) ?? []), r]);
    const recurring = (r: (typeof migrating)[number]) =>
      r.method === 'GET' && (r.path.endsWith('/servers/detail') || r.path.endsWith('/os-migrations') || r.path.endsWith('/os-services') || /\/servers\/[^/]+\/migrations\/\d+$/.test(r.path));
    const polls = [...byTime.values()].filter((xs) => xs.some((x) => x.path.endsWith('/os-migrations')));
    return {
      result,
      drainMs: end - start,
      requests: records.length,
      byKind,
      recurringPerPoll: polls.map((xs) => xs.filter(recurring).length),
      allPerPoll: polls.map((xs) => xs.length),
      polls: polls.length,
      serviceReadsBeforeDisable: records.slice(0, records.findIndex((r) => r.method === 'PUT' && r.path.includes('/os-services'))).filter((r) => r.method === 'GET' && r.path.endsWith('/os-services')).length,
    };
  } finally {
    await closeEmulated(env);
  }
}

export interface Figure {
  id: string;
  name: string;
  value: string;
  target: string;
  ok: boolean | null;
  inputs: string;
}

const s = (ms: number) => `${fmt(ms / 1000, 1)} s`;

export async function drainFigures(opts: { n?: number; small?: number; log?: (line: string) => void } = {}): Promise<Figure[]> {
  const n = opts.n ?? 50;
  const small = opts.small ?? 10;
  const log = opts.log ?? ((l: string) => console.log(l));
  const poll = CLI_DEFAULTS.pollIntervalMs!;
  const figures: Figure[] = [];
  for (const perCompute of [1, 4]) {
    const t = performance.now();
    const runs = await Promise.all((['listing', 'largest-first', 'smallest-first'] as const).map(async (o) => [o, await idealRun(mixedHostScenario(n, perCompute), poll, o)] as const));
    const byOrder = Object.fromEntries(runs) as Record<RequestOrder, IdealRun>;
    const ideal = { makespanMs: Math.min(...runs.map(([, r]) => r.makespanMs)), waiterRequests: byOrder.listing.waiterRequests };
    const cheapestWaiter = Math.min(...runs.map(([, r]) => r.waiterRequests));
    const hm = await hostmaintRun(mixedHostScenario(n, perCompute));
    const hmSmall = await hostmaintRun(mixedHostScenario(small, perCompute));
    const realS = (performance.now() - t) / 1000;
    const bound = 1.05 * ideal.makespanMs + 2 * poll;
    const ratio = hm.drainMs / ideal.makespanMs;
    const inputs = `${n} instances (m1.tiny..m1.xlarge round robin) on compute-01, 5 targets, max_concurrent_live_migrations=${perCompute}, 1000 MB/s copy, 50 MB/s dirtied, hostmaint --concurrency ${CLI_DEFAULTS.concurrency} --poll-interval ${poll / 1000}s, VirtualClock`;
    log(`\nP1/P2 with ${perCompute} live migration(s) per compute (${fmt(realS, 1)} s real)`);
    const each = (f: (r: IdealRun) => string) => runs.map(([o, r]) => `${o} ${f(r)}`).join(', ');
    log(`  ideal makespan (all requested at t0) : ${s(ideal.makespanMs)}, the shortest of: ${each((r) => s(r.makespanMs))}`);
    log(`  hostmaint disable -> verified empty  : ${s(hm.drainMs)}  (${fmt(ratio, 3)} x ideal, +${s(hm.drainMs - ideal.makespanMs)}; bound ${s(bound)})`);
    log(`  hostmaint requests                   : ${hm.requests} (${fmt(hm.requests / n, 1)} per instance), polls ${hm.polls}`);
    log(`  per-instance waiter requests         : ${ideal.waiterRequests} in listing order (${each((r) => String(r.waiterRequests))}); hostmaint is ${fmt(hm.requests / cheapestWaiter, 3)} x the cheapest`);
    log(`  requests by kind                     : ${Object.entries(hm.byKind).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    const maxRec = Math.max(...hm.recurringPerPoll);
    const maxRecSmall = Math.max(...hmSmall.recurringPerPoll);
    log(`  recurring requests per poll          : max ${maxRec} with ${n} instances, max ${maxRecSmall} with ${small} (lists + progress reads)`);
    figures.push({
      id: 'P1',
      name: `P1 drain overhead, ${perCompute}/compute`,
      value: `${fmt(ratio, 3)} x ideal (${s(hm.drainMs)} vs ${s(ideal.makespanMs)})`,
      target: `<= 1.05 x ideal + 2 polls = ${s(bound)}`,
      ok: hm.drainMs <= bound,
      inputs,
    });
    figures.push({
      id: 'P2',
      name: `P2 API requests, ${perCompute}/compute`,
      value: `${fmt(hm.requests / ideal.waiterRequests, 3)} x waiter (${hm.requests} vs ${ideal.waiterRequests}; ${fmt(hm.requests / cheapestWaiter, 3)} x the cheapest request order's ${cheapestWaiter})`,
      target: '<= 0.25 x waiter',
      ok: hm.requests <= 0.25 * ideal.waiterRequests,
      inputs,
    });
    figures.push({
      id: 'P2',
      name: `P2 recurring requests per poll, ${perCompute}/compute`,
      value: `max ${maxRec} with ${n} instances, ${maxRecSmall} with ${small}`,
      target: 'does not grow with queued instances',
      ok: maxRec <= maxRecSmall,
      inputs: `same, ${n} vs ${small} instances`,
    });
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figs = await drainFigures();
  for (const f of figs) console.log(`${f.name}: ${f.value} (${f.target}) ${f.ok === null ? '' : f.ok ? 'ok' : 'MISSED'}`);
  for (const inputs of new Set(figs.map((f) => `${f.id}: ${f.inputs}`))) console.log(`  inputs ${inputs}`);
}
