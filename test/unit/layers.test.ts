/**
 * The structure of src/: every layer imports only its own folder and the
 * layers below it, no file takes part in an import loop, and the machines
 * import nothing but xstate and src/machines/. Type-only and dynamic imports
 * count like any other: a loop through `import type` is still a loop to read.
 *
 * LAYERS is the one place the order is written (docs/architecture.md draws it).
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bottom first. A folder (or a single file) of src/ per layer. */
export const LAYERS: readonly string[] = [
  'machines', // the xstate machines and their vocabulary (outcomes, exit codes, options, events): pure
  'core', // errors, exit codes by error kind, durations, clock, logger interface
  'version.ts',
  'config', // where the cloud comes from (clouds.yaml, OS_* env, flags)
  'openstack', // the typed HTTP clients
  'emulator', // the emulated cloud
  'planner', // pure planning: classify, capacity, place
  'policies', // the one table of drain, undrain and run options
  'workflow-file', // workflow files: schema, loader, show, docs
  'steps', // exec, http and wait-for-service executors
  'actors', // the drain's and undrain's side effects, built by createActors
  'library', // drainHost / undrainHost and the workflow's unit runner
  'rolling', // host lists, order, the gate between waves
  'runs', // saved runs: store, locks, resume
  'report', // output: live view, plain lines, events, results, reports
  'cli', // the commands and the error funnel
  'index.ts', // the library's public entry
];

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): number {
  const rel = path.relative(SRC, file).split(path.sep);
  const i = LAYERS.indexOf(rel.length === 1 ? rel[0]! : rel[0]!);
  return i;
}

/** Every module a file imports: static, re-exports and dynamic import(), type-only included. */
function importsOf(file: string): Array<{ spec: string; resolved: string | null }> {
  const src = readFileSync(file, 'utf8');
  const specs = new Set<string>();
  for (const m of src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) specs.add(m[1]!);
  for (const m of src.matchAll(/^\s*import\s+'([^']+)'/gm)) specs.add(m[1]!);
  for (const m of src.matchAll(/import\(\s*'([^']+)'\s*\)/g)) specs.add(m[1]!);
  return [...specs].map((spec) => ({ spec, resolved: spec.startsWith('.') ? path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts') : null }));
}

type Graph = Map<string, Array<{ spec: string; resolved: string | null }>>;

/** Imports from a file into a higher layer. */
function upwardImports(graph: Graph): string[] {
  const up: string[] = [];
  for (const [f, imps] of graph) {
    for (const i of imps) {
      if (i.resolved && layerOf(i.resolved) > layerOf(f)) up.push(`${rel(f)} -> ${rel(i.resolved)} (${LAYERS[layerOf(f)]} imports ${LAYERS[layerOf(i.resolved)]})`);
    }
  }
  return up;
}

/** Import loops, each as the chain of files that closes it. */
function importLoops(graph: Graph): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const loops: string[] = [];
  const visit = (f: string, stack: string[]) => {
    state.set(f, 'open');
    for (const i of graph.get(f) ?? []) {
      if (!i.resolved || !graph.has(i.resolved)) continue;
      const s = state.get(i.resolved);
      if (s === 'open') loops.push([...stack.slice(stack.indexOf(i.resolved)), i.resolved].map(rel).join(' -> '));
      else if (s === undefined) visit(i.resolved, [...stack, i.resolved]);
    }
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f, [f]);
  return loops;
}

const rel = (f: string) => path.relative(SRC, f);
const all = files(SRC);
const graph: Graph = new Map(all.map((f) => [f, importsOf(f)]));

describe('the layers of src/', () => {
  it('every file belongs to a layer', () => {
    const stray = all.filter((f) => layerOf(f) < 0).map(rel);
    assert.deepEqual(stray, [], `files outside every layer (add their folder to LAYERS): ${stray.join(', ')}`);
  });

  it('imports run only downward (or within a layer)', () => {
    assert.deepEqual(upwardImports(graph), []);
  });

  it('the machines import only xstate and src/machines/', () => {
    const bad: string[] = [];
    for (const [f, imps] of graph) {
      if (LAYERS[layerOf(f)] !== 'machines') continue;
      for (const i of imps) if (i.spec !== 'xstate' && (!i.resolved || LAYERS[layerOf(i.resolved)] !== 'machines')) bad.push(`${rel(f)} imports ${i.spec}`);
    }
    assert.deepEqual(bad, []);
  });

  it('no import loop', () => {
    assert.deepEqual(importLoops(graph), []);
  });

  it('the checks find an upward import and a loop (on a made-up tree)', () => {
    const at = (p: string) => path.join(SRC, p);
    const made: Graph = new Map([
      [at('steps/a.ts'), [{ spec: '../cli/b.js', resolved: at('cli/b.ts') }]],
      [at('cli/b.ts'), [{ spec: './c.js', resolved: at('cli/c.ts') }]],
      [at('cli/c.ts'), [{ spec: './b.js', resolved: at('cli/b.ts') }]],
    ]);
    assert.deepEqual(upwardImports(made), ['steps/a.ts -> cli/b.ts (steps imports cli)']);
    assert.deepEqual(importLoops(made), ['cli/b.ts -> cli/c.ts -> cli/b.ts']);
  });
});
