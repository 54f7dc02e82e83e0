/**
 * Benchmark: how fast the emulator loads the 500-host / 2,000-instance
 * scenario and answers a crowded host's server list.
 *
 *   npx tsx bench/emulator-load.ts
 *
 * Targets: load < 2 s; GET /servers/detail?all_tenants=1&host=compute-001
 * (200 servers) < 50 ms. Prints figures only; no assertions.
 */
import { loadScenario, startEmulator, VirtualClock } from '../src/emulator/index.js';

function ms(t0: number): number {
  return performance.now() - t0;
}

const t0 = performance.now();
const scenario = loadScenario('big-500-hosts');
const parsed = ms(t0);
const t1 = performance.now();
const emu = await startEmulator({ scenario, clock: new VirtualClock() });
const started = ms(t1);

const auth = await fetch(`${emu.authUrl}/auth/tokens`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    auth: {
      identity: { methods: ['password'], password: { user: { name: emu.credentials.username, domain: { name: 'Default' }, password: emu.credentials.password } } },
      scope: { project: { name: emu.credentials.projectName, domain: { name: 'Default' } } },
    },
  }),
});
const token = auth.headers.get('x-subject-token')!;
const headers = { 'x-auth-token': token, 'openstack-api-version': 'compute 2.93' };

async function timed(path: string, n: number): Promise<{ median: number; p95: number; count: number }> {
  const samples: number[] = [];
  let count = 0;
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const r = await fetch(`${emu.url}${path}`, { headers });
    const j = (await r.json()) as { servers?: unknown[]; hypervisors?: Array<{ servers?: unknown[] }> };
    samples.push(ms(s));
    count = j.servers?.length ?? j.hypervisors?.[0]?.servers?.length ?? 0;
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(n / 2)]!, p95: samples[Math.floor(n * 0.95)]!, count };
}

await timed('/compute/v2.1/servers/detail?all_tenants=1&host=compute-001', 3); // warm-up
const list = await timed('/compute/v2.1/servers/detail?all_tenants=1&host=compute-001', 20);
const hyp = await timed('/compute/v2.1/os-hypervisors?hypervisor_hostname_pattern=compute-001&with_servers=true', 20);
const all = await timed('/compute/v2.1/servers/detail?all_tenants=1', 5);
await emu.stop();

const f = (x: number) => `${x.toFixed(1)} ms`;
console.log(`emulator load (500 hosts, 2000 instances)`);
console.log(`  parse + validate scenario : ${f(parsed)}`);
console.log(`  build model + listen      : ${f(started)}`);
console.log(`  total load                : ${f(parsed + started)}   (target < 2000 ms: ${parsed + started < 2000 ? 'ok' : 'MISSED'})`);
console.log(`  host server list (${list.count})   : median ${f(list.median)}, p95 ${f(list.p95)}   (target < 50 ms: ${list.median < 50 ? 'ok' : 'MISSED'})`);
console.log(`  hypervisor with_servers (${hyp.count}): median ${f(hyp.median)}, p95 ${f(hyp.p95)}`);
console.log(`  all servers, first page (${all.count}): median ${f(all.median)}`);
