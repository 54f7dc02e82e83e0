/**
 * The emulator figures of issue #9 in one run, side by side:
 *
 *   P1  drain overhead against the emulator's ideal makespan   (bench/drain-figures.ts)
 *   P2  API requests against a per-instance waiter              (bench/drain-figures.ts)
 *   P3  start-up of --help and status against openstack --help  (bench/startup-figures.ts)
 *   P4  plan on 1,000 emulated hosts; Placement requests        (bench/plan-figures.ts)
 *   P5  peak RSS of a drain of 1,000 instances                  (bench/memory-figures.ts)
 *
 *   npm run bench                 all of them (builds first: P3 and P5 run the built CLI)
 *   npm run bench -- p1 p4        some of them (p1 and p2 are one run)
 *   npm run bench -- --no-build   use the dist/ as it is
 *
 * P6 needs the real lab: npm run bench:lab (bench/lab-drain.ts).
 * Each figure prints as `name: value (target)` with the inputs it used. This
 * machine is noisy: compare the ratios; absolute times are context.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drainFigures, type Figure } from './drain-figures.js';
import { memoryFigures } from './memory-figures.js';
import { planFigures } from './plan-figures.js';
import { startupFigures } from './startup-figures.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const wanted = new Set(args.filter((a) => /^p[1-6]$/i.test(a)).map((a) => a.toLowerCase()));
const want = (...ids: string[]) => wanted.size === 0 || ids.some((id) => wanted.has(id));

if (!args.includes('--no-build') && want('p3', 'p5')) {
  console.log('building (npm run build) ...');
  const b = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const started = Date.now();
const load = os.loadavg()[0]!;
const figures: Figure[] = [];
if (want('p1', 'p2')) figures.push(...(await drainFigures()));
if (want('p3')) figures.push(...(await startupFigures()));
if (want('p4')) figures.push(...(await planFigures()));
if (want('p5')) figures.push(...(await memoryFigures()));

console.log(`\n== issue #9 figures (node ${process.version}, ${os.cpus().length} cores, load ${load.toFixed(2)} at start, ${((Date.now() - started) / 1000).toFixed(0)} s) ==`);
for (const f of figures) console.log(`${f.name}: ${f.value} (${f.target}) ${f.ok === null ? '' : f.ok ? 'ok' : 'MISSED'}`);
console.log('\ninputs:');
const seen = new Set<string>();
for (const f of figures) {
  const key = `${f.id} ${f.inputs}`;
  if (seen.has(key)) continue;
  seen.add(key);
  console.log(`  ${f.id}: ${f.inputs}`);
}
if (figures.some((f) => f.ok === false)) process.exitCode = 1;
