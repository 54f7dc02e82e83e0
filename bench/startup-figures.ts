/**
 * P3: start-up of `hostmaint --help` and `hostmaint status` (the built CLI,
 * bin/hostmaint.js) against `openstack --help` (Debian's python3-openstackclient),
 * with bare `node -e 0` as the floor and the unbundled CLI (tsc's dist/cli/main.js)
 * for the effect of the bundle. Runs are interleaved so machine noise hits
 * every command alike; medians are compared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './drain-figures.js';
import { fmt, median } from './lib/emulated.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OPENSTACK = '/usr/bin/openstack';

interface Cmd {
  name: string;
  argv: string[];
  times: number[];
  runs: number;
}

function wall(argv: string[], env: NodeJS.ProcessEnv): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr?.toString().slice(0, 400)}`);
  return ms;
}

export async function startupFigures(log: (l: string) => void = (l) => console.log(l), runs = 15): Promise<Figure[]> {
  const bin = path.join(root, 'bin', 'hostmaint.js');
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.bundle.js'))) throw new Error('no dist/cli/main.bundle.js: run `npm run build` first');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-bench-start-'));
  // The CLI as tsc alone builds it (no bundle), for the bundle's effect.
  const plain = path.join(tmp, 'plain.mjs');
  writeFileSync(
    plain,
    `import { runCli } from ${JSON.stringify(path.join(root, 'dist/cli/main.js'))};\nimport { processIO } from ${JSON.stringify(path.join(root, 'dist/cli/io.js'))};\nprocess.exitCode = await runCli(process.argv.slice(2), processIO());\n`,
  );
  const env = { ...process.env, XDG_STATE_HOME: tmp, NO_COLOR: '1' };
  const node = process.execPath;
  const cmds: Cmd[] = [
    { name: 'node -e 0', argv: [node, '-e', '0'], times: [], runs },
    { name: 'hostmaint --help', argv: [node, bin, '--help'], times: [], runs },
    { name: 'hostmaint status', argv: [node, bin, 'status'], times: [], runs },
    { name: 'unbundled --help', argv: [node, plain, '--help'], times: [], runs },
    { name: 'unbundled status', argv: [node, plain, 'status'], times: [], runs },
  ];
  const haveOpenstack = existsSync(OPENSTACK);
  if (haveOpenstack) cmds.push({ name: 'openstack --help', argv: [OPENSTACK, '--help'], times: [], runs: Math.max(3, Math.ceil(runs / 3)) });
  for (const c of cmds) wall(c.argv, env); // warm the page cache
  for (let i = 0; i < runs; i++) {
    for (const c of cmds) if (c.times.length < c.runs) c.times.push(wall(c.argv, env));
  }
  const med = Object.fromEntries(cmds.map((c) => [c.name, median(c.times)])) as Record<string, number>;
  log(`\nP3 start-up (median of ${runs} interleaved runs; openstack ${haveOpenstack ? `${cmds.at(-1)!.runs} runs` : 'not installed'})`);
  for (const c of cmds) log(`  ${c.name.padEnd(18)} ${fmt(med[c.name]! / 1000)} s  (min ${fmt(Math.min(...c.times) / 1000)}, max ${fmt(Math.max(...c.times) / 1000)})`);
  const os_ = med['openstack --help'];
  const figs: Figure[] = [];
  for (const name of ['hostmaint --help', 'hostmaint status']) {
    const v = med[name]!;
    const unb = med[name.replace('hostmaint', 'unbundled')]!;
    figs.push({
      id: 'P3',
      name: `P3 ${name}`,
      value: `${fmt(v / 1000)} s median${os_ ? `, ${fmt(v / os_, 3)} x openstack --help (${fmt(os_ / 1000)} s)` : ''}; node -e 0 ${fmt(med['node -e 0']! / 1000)} s; unbundled ${fmt(unb / 1000)} s`,
      target: '<= 0.35 s and <= 0.25 x openstack',
      ok: v <= 350 && (os_ === undefined ? null : v <= 0.25 * os_) !== false,
      inputs: `bin/hostmaint.js after npm run build; empty state directory; ${runs} runs each, interleaved`,
    });
  }
  return figs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figs = await startupFigures();
  for (const f of figs) console.log(`${f.name}: ${f.value} (${f.target}) ${f.ok === null ? '' : f.ok ? 'ok' : 'MISSED'}`);
  for (const inputs of new Set(figs.map((f) => `${f.id}: ${f.inputs}`))) console.log(`  inputs ${inputs}`);
}
