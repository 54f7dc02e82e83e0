/**
 * Scenario files: what cloud the emulator pretends to be.
 *
 * A scenario is YAML or JSON, validated by ajv against SCENARIO_SCHEMA, then
 * checked for references (an instance's host, flavor, project, group exist;
 * nothing overflows a host). Every error names the file and the JSON path,
 * e.g. `scenarios/x.yaml: /instances/3/flavor: unknown flavor "m1.huge"`.
 *
 * Shipped scenarios live in `scenarios/` at the top of the repository and can
 * be named without a path (`loadScenario('demo')`). A scenario may instead
 * name a generator (`generator: { name: big, ... }`) that builds it in code.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { checkReferences } from './scenario/check.js';
import { GENERATORS } from './scenario/generators.js';
import { ScenarioError, ajvProblem, validator } from './scenario/schema.js';
import type { InstanceSpec, Scenario } from './scenario/spec.js';

export type {
  InstanceStateName,
  HostSpec,
  FlavorSpec,
  ImageSpec,
  UserSpec,
  ProjectSpec,
  AppCredentialSpec,
  ServerGroupSpec,
  InstanceMigrationBehaviour,
  InstanceSpec,
  MigrationModel,
  Scenario,
} from './scenario/spec.js';
export { INSTANCE_STATES, HOST_DEFAULTS, HOST_CPU, DEFAULT_FLAVORS, hostWithDefaults } from './scenario/spec.js';
export { SCENARIO_SCHEMA, ScenarioError } from './scenario/schema.js';
export type { ScenarioGenerator } from './scenario/generators.js';
export { generateBig, GENERATORS } from './scenario/generators.js';

/** Where shipped scenarios live: <repo>/scenarios (works from src/ under tsx and from dist/). */
export function scenariosDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../scenarios', '../../../scenarios']) {
    const p = path.resolve(here, up);
    if (existsSync(p)) return p;
  }
  return path.resolve(here, '../../scenarios');
}

/** Names of the scenarios shipped in scenarios/. */
export const SHIPPED_SCENARIOS = ['demo', 'demo-failures', 'tight-capacity', 'anti-affinity-unsatisfiable', 'big-500-hosts'] as const;

function resolveScenarioPath(pathOrName: string): string {
  if (existsSync(pathOrName)) return pathOrName;
  const dir = scenariosDir();
  for (const ext of ['.yaml', '.yml', '.json']) {
    const p = path.join(dir, pathOrName + ext);
    if (existsSync(p)) return p;
  }
  const p = path.join(dir, pathOrName);
  if (existsSync(p)) return p;
  throw new ScenarioError(pathOrName, [{ path: '', message: `no such scenario file or shipped scenario (shipped: ${SHIPPED_SCENARIOS.join(', ')})` }]);
}

/** Read, parse, validate and expand a scenario file (or a shipped scenario by name). */
export function loadScenario(pathOrName: string): Scenario {
  const file = resolveScenarioPath(pathOrName);
  const shown = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(shown, [{ path: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  let data: unknown;
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ScenarioError(shown, [{ path: '', message: `cannot parse: ${(e as Error).message}` }]);
  }
  return validateScenario(data, shown);
}

/**
 * Validate a scenario object (schema, then references), run its generator if
 * any, and expand `count`. Returns a new object; the input is not modified.
 */
export function validateScenario(data: unknown, source = '<scenario>'): Scenario {
  if (data && typeof data === 'object' && !Array.isArray(data) && 'generator' in data && !('hosts' in data)) {
    data = { ...(data as object), hosts: [] };
  }
  const validate = validator();
  if (!validate(data)) {
    throw new ScenarioError(source, (validate.errors ?? []).map(ajvProblem));
  }
  let sc = structuredClone(data) as Scenario;
  if (sc.generator) {
    const gen = GENERATORS[sc.generator.name];
    if (!gen) {
      throw new ScenarioError(source, [
        { path: '/generator/name', message: `unknown generator "${sc.generator.name}" (known: ${Object.keys(GENERATORS).join(', ')})` },
      ]);
    }
    const { generator, ...rest } = sc;
    const generated = gen(generator);
    sc = { ...generated, ...Object.fromEntries(Object.entries(rest).filter(([k, v]) => !(k === 'hosts' && Array.isArray(v) && v.length === 0))) } as Scenario;
  }
  sc.instances = expandInstances(sc.instances ?? []);
  const problems = checkReferences(sc);
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return sc;
}

function expandInstances(list: InstanceSpec[]): InstanceSpec[] {
  const out: InstanceSpec[] = [];
  for (const spec of list) {
    if (!spec.count || spec.count === 1) {
      const { count: _c, ...one } = spec;
      out.push({ ...one, name: one.name.replace('{i}', '01') });
      continue;
    }
    const width = Math.max(2, String(spec.count).length);
    for (let i = 1; i <= spec.count; i++) {
      const { count: _c, id: _id, ...one } = spec;
      const n = String(i).padStart(width, '0');
      out.push({ ...one, name: spec.name.includes('{i}') ? spec.name.replace('{i}', n) : `${spec.name}-${n}` });
    }
  }
  return out;
}
