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
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import YAML from 'yaml';
import type { FaultSpec } from './faults.js';
import { FAULT_SCHEMA } from './faults.js';

export type InstanceStateName =
  | 'ACTIVE'
  | 'PAUSED'
  | 'SHUTOFF'
  | 'SUSPENDED'
  | 'SHELVED'
  | 'SHELVED_OFFLOADED'
  | 'ERROR'
  | 'BUILD'
  | 'RESCUE';

export interface HostSpec {
  /** nova-compute service host, e.g. compute-01. */
  name: string;
  /** Hypervisor (compute node) hostname; default = name. Can be an FQDN. */
  hypervisor_hostname?: string;
  az?: string;
  aggregates?: string[];
  vcpus?: number;
  pcpus?: number;
  ram_mb?: number;
  disk_gb?: number;
  cpu_allocation_ratio?: number;
  ram_allocation_ratio?: number;
  disk_allocation_ratio?: number;
  reserved_vcpus?: number;
  reserved_host_memory_mb?: number;
  reserved_host_disk_gb?: number;
  max_concurrent_live_migrations?: number;
  status?: 'enabled' | 'disabled';
  disabled_reason?: string | null;
  state?: 'up' | 'down';
  forced_down?: boolean;
  /** host_ip of the hypervisor (for reachability checks). */
  address?: string;
  port?: number;
  hypervisor_type?: string;
  traits?: string[];
}

export interface FlavorSpec {
  name: string;
  id?: string;
  vcpus: number;
  ram_mb: number;
  disk_gb?: number;
  ephemeral_gb?: number;
  swap_mb?: number;
  is_public?: boolean;
  extra_specs?: Record<string, string>;
}

export interface ImageSpec {
  name: string;
  id?: string;
}

export interface UserSpec {
  name: string;
  id?: string;
  password: string;
  /** Role names on the project: admin, member, reader. Default [member]. */
  roles?: string[];
  domain?: string;
}

export interface ProjectSpec {
  name: string;
  id?: string;
  domain?: string;
  users?: UserSpec[];
}

export interface AppCredentialSpec {
  id?: string;
  name: string;
  secret: string;
  /** User name (any project's user, or the admin user). */
  user: string;
  /** Project name the credential is scoped to (default: the user's project). */
  project?: string;
}

export interface ServerGroupSpec {
  name: string;
  id?: string;
  policy: 'anti-affinity' | 'affinity' | 'soft-anti-affinity' | 'soft-affinity';
  project?: string;
  /** max_server_per_host rule (anti-affinity, 2.64+). */
  max_server_per_host?: number;
}

export interface InstanceMigrationBehaviour {
  /** Page dirtying rate in MB/s; >= bandwidth never converges (stalls). */
  dirty_rate_mbps?: number;
  /** Every live migration of this instance fails while running (rolls back). */
  fail?: boolean;
}

export interface InstanceSpec {
  name: string;
  id?: string;
  project?: string;
  flavor: string;
  /** Required for every state but SHELVED_OFFLOADED (and BUILD, which the scheduler places). */
  host?: string;
  state?: InstanceStateName;
  task_state?: string | null;
  locked?: boolean;
  locked_reason?: string;
  server_group?: string;
  /** Availability zone the instance was booted into (constrains moves). */
  az?: string;
  metadata?: Record<string, string>;
  image?: string;
  migration?: InstanceMigrationBehaviour;
  /** Expand into N instances; `{i}` in the name is replaced by 1..N (zero-padded to 2). */
  count?: number;
}

export interface MigrationModel {
  /** Memory copy bandwidth, MB/s. */
  bandwidth_mbps?: number;
  /** Default page dirtying rate, MB/s. */
  dirty_rate_mbps?: number;
  /** Conductor pre-checks and scheduling (status accepted), ms. */
  schedule_ms?: number;
  /** Status preparing (pre_live_migration on the destination), ms. */
  preparing_ms?: number;
  /** Status post-migrating, ms. */
  post_migrating_ms?: number;
  /** Switch-over threshold: converge when remaining <= bandwidth * max_downtime_ms. */
  max_downtime_ms?: number;
  /** Shared storage (default) or block migration of the root disk (disk_* bytes then advance first). */
  shared_storage?: boolean;
  /** Cold migration, request to VERIFY_RESIZE, ms. */
  cold_migration_ms?: number;
  /** confirmResize, ms. */
  confirm_ms?: number;
  /** POST /servers to ACTIVE, ms. */
  boot_ms?: number;
  /** os-stop, pause, shelve ... to their end state, ms. */
  action_ms?: number;
  /** DELETE /servers/{id} to gone, ms. */
  delete_ms?: number;
}

export interface Scenario {
  name?: string;
  description?: string;
  /** Suggested clock speed for a real-time demo (scaledClock(speed)). */
  speed?: number;
  region?: string;
  keystone?: {
    token_lifetime_s?: number;
    admin?: { username?: string; password?: string; project?: string; domain?: string };
  };
  nova?: {
    max_microversion?: string;
    service_down_time_s?: number;
    report_interval_s?: number;
    /** Let non-admin project members live-migrate (a custom policy), so the lock check (409) is reachable. */
    members_can_migrate?: boolean;
  };
  placement?: { max_microversion?: string };
  migration?: MigrationModel;
  defaults?: { host?: Omit<HostSpec, 'name'> };
  hosts: HostSpec[];
  aggregates?: Array<{ name: string; az?: string; metadata?: Record<string, string> }>;
  flavors?: FlavorSpec[];
  images?: ImageSpec[];
  projects?: ProjectSpec[];
  application_credentials?: AppCredentialSpec[];
  server_groups?: ServerGroupSpec[];
  instances?: InstanceSpec[];
  faults?: FaultSpec[];
  /** Build the rest in code (see GENERATORS). Fields given here override the generated ones. */
  generator?: { name: string; [param: string]: unknown };
}

const str = { type: 'string', minLength: 1 } as const;
const nonNeg = { type: 'number', minimum: 0 } as const;
const posInt = { type: 'integer', minimum: 1 } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

const HOST_PROPS = {
  hypervisor_hostname: str,
  az: str,
  aggregates: { type: 'array', items: str },
  vcpus: posInt,
  pcpus: { type: 'integer', minimum: 0 },
  ram_mb: posInt,
  disk_gb: posInt,
  cpu_allocation_ratio: { type: 'number', exclusiveMinimum: 0 },
  ram_allocation_ratio: { type: 'number', exclusiveMinimum: 0 },
  disk_allocation_ratio: { type: 'number', exclusiveMinimum: 0 },
  reserved_vcpus: { type: 'integer', minimum: 0 },
  reserved_host_memory_mb: { type: 'integer', minimum: 0 },
  reserved_host_disk_gb: { type: 'integer', minimum: 0 },
  max_concurrent_live_migrations: { type: 'integer', minimum: 0 },
  status: { enum: ['enabled', 'disabled'] },
  disabled_reason: { type: ['string', 'null'], maxLength: 255 },
  state: { enum: ['up', 'down'] },
  forced_down: { type: 'boolean' },
  address: str,
  port: { type: 'integer', minimum: 1, maximum: 65535 },
  hypervisor_type: str,
  traits: { type: 'array', items: { type: 'string', pattern: '^[A-Z0-9_]+$' } },
} as const;

export const INSTANCE_STATES: InstanceStateName[] = [
  'ACTIVE',
  'PAUSED',
  'SHUTOFF',
  'SUSPENDED',
  'SHELVED',
  'SHELVED_OFFLOADED',
  'ERROR',
  'BUILD',
  'RESCUE',
];

/** The JSON Schema of a scenario file (draft-07, ajv). */
export const SCENARIO_SCHEMA = {
  $id: 'https://hostmaint.dev/schemas/emulator-scenario.json',
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    name: str,
    description: { type: 'string' },
    speed: { type: 'number', exclusiveMinimum: 0 },
    region: str,
    keystone: {
      type: 'object',
      additionalProperties: false,
      properties: {
        token_lifetime_s: { type: 'number', exclusiveMinimum: 0 },
        admin: {
          type: 'object',
          additionalProperties: false,
          properties: { username: str, password: str, project: str, domain: str },
        },
      },
    },
    nova: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_microversion: { type: 'string', pattern: '^2\\.[0-9]+$' },
        service_down_time_s: { type: 'number', exclusiveMinimum: 0 },
        report_interval_s: { type: 'number', exclusiveMinimum: 0 },
        members_can_migrate: { type: 'boolean' },
      },
    },
    placement: {
      type: 'object',
      additionalProperties: false,
      properties: { max_microversion: { type: 'string', pattern: '^1\\.[0-9]+$' } },
    },
    migration: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bandwidth_mbps: { type: 'number', exclusiveMinimum: 0 },
        dirty_rate_mbps: nonNeg,
        schedule_ms: nonNeg,
        preparing_ms: nonNeg,
        post_migrating_ms: nonNeg,
        max_downtime_ms: nonNeg,
        shared_storage: { type: 'boolean' },
        cold_migration_ms: nonNeg,
        confirm_ms: nonNeg,
        boot_ms: nonNeg,
        action_ms: nonNeg,
        delete_ms: nonNeg,
      },
    },
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: { host: { type: 'object', additionalProperties: false, properties: HOST_PROPS } },
    },
    hosts: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }, ...HOST_PROPS },
      },
    },
    aggregates: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: str, az: str, metadata: stringMap },
      },
    },
    flavors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'vcpus', 'ram_mb'],
        properties: {
          name: str,
          id: str,
          vcpus: posInt,
          ram_mb: posInt,
          disk_gb: { type: 'integer', minimum: 0 },
          ephemeral_gb: { type: 'integer', minimum: 0 },
          swap_mb: { type: 'integer', minimum: 0 },
          is_public: { type: 'boolean' },
          extra_specs: stringMap,
        },
      },
    },
    images: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: str, id: str } },
    },
    projects: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: str,
          id: str,
          domain: str,
          users: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'password'],
              properties: {
                name: str,
                id: str,
                password: str,
                roles: { type: 'array', items: { enum: ['admin', 'member', 'reader'] } },
                domain: str,
              },
            },
          },
        },
      },
    },
    application_credentials: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'secret', 'user'],
        properties: { id: str, name: str, secret: str, user: str, project: str },
      },
    },
    server_groups: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'policy'],
        properties: {
          name: str,
          id: str,
          policy: { enum: ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'] },
          project: str,
          max_server_per_host: posInt,
        },
      },
    },
    instances: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'flavor'],
        properties: {
          name: str,
          id: str,
          project: str,
          flavor: str,
          host: str,
          state: { enum: INSTANCE_STATES },
          task_state: { type: ['string', 'null'] },
          locked: { type: 'boolean' },
          locked_reason: { type: 'string' },
          server_group: str,
          az: str,
          metadata: stringMap,
          image: str,
          count: posInt,
          migration: {
            type: 'object',
            additionalProperties: false,
            properties: { dirty_rate_mbps: nonNeg, fail: { type: 'boolean' } },
          },
        },
      },
    },
    faults: { type: 'array', items: FAULT_SCHEMA },
    generator: {
      type: 'object',
      required: ['name'],
      properties: { name: str },
    },
  },
} as const;

export class ScenarioError extends Error {
  readonly source: string;
  readonly problems: Array<{ path: string; message: string }>;

  constructor(source: string, problems: Array<{ path: string; message: string }>) {
    super(
      `invalid scenario ${source}:\n` + problems.map((p) => `  ${source}: ${p.path || '/'}: ${p.message}`).join('\n'),
    );
    this.name = 'ScenarioError';
    this.source = source;
    this.problems = problems;
  }
}

let compiled: ReturnType<Ajv['compile']> | null = null;
function validator() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    compiled = ajv.compile(SCENARIO_SCHEMA);
  }
  return compiled;
}

function ajvProblem(e: ErrorObject): { path: string; message: string } {
  let message = e.message ?? 'invalid';
  if (e.keyword === 'additionalProperties') message = `unknown property "${String(e.params['additionalProperty'])}"`;
  else if (e.keyword === 'enum') message = `${message}: ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  else if (e.keyword === 'required') message = `missing required property "${String(e.params['missingProperty'])}"`;
  return { path: e.instancePath, message };
}

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
export const SHIPPED_SCENARIOS = ['demo', 'tight-capacity', 'anti-affinity-unsatisfiable', 'big-500-hosts'] as const;

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

/** Defaults every host gets unless the scenario says otherwise. */
export const HOST_DEFAULTS = {
  vcpus: 16,
  pcpus: 0,
  ram_mb: 32768,
  disk_gb: 500,
  cpu_allocation_ratio: 4.0,
  ram_allocation_ratio: 1.0,
  disk_allocation_ratio: 1.0,
  reserved_vcpus: 0,
  reserved_host_memory_mb: 512,
  reserved_host_disk_gb: 0,
  max_concurrent_live_migrations: 1,
  hypervisor_type: 'QEMU',
} as const;

export const DEFAULT_FLAVORS: FlavorSpec[] = [
  { name: 'm1.tiny', id: '1', vcpus: 1, ram_mb: 512, disk_gb: 1 },
  { name: 'm1.small', id: '2', vcpus: 1, ram_mb: 2048, disk_gb: 20 },
  { name: 'm1.medium', id: '3', vcpus: 2, ram_mb: 4096, disk_gb: 40 },
  { name: 'm1.large', id: '4', vcpus: 4, ram_mb: 8192, disk_gb: 80 },
  { name: 'm1.xlarge', id: '5', vcpus: 8, ram_mb: 16384, disk_gb: 160 },
];

/** Effective host spec: defaults < scenario defaults < the host's own fields. */
export function hostWithDefaults(sc: Scenario, h: HostSpec): Required<Omit<HostSpec, 'address' | 'port' | 'az' | 'disabled_reason' | 'traits'>> & HostSpec {
  return { ...HOST_DEFAULTS, status: 'enabled', state: 'up', forced_down: false, aggregates: [], hypervisor_hostname: h.name, ...(sc.defaults?.host ?? {}), ...h } as never;
}

function checkReferences(sc: Scenario): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const dup = (items: Array<{ name: string }>, where: string) => {
    const seen = new Set<string>();
    items.forEach((it, i) => {
      if (seen.has(it.name)) problems.push({ path: `/${where}/${i}/name`, message: `duplicate name "${it.name}"` });
      seen.add(it.name);
    });
  };
  dup(sc.hosts, 'hosts');
  if (sc.hosts.length === 0) problems.push({ path: '/hosts', message: 'a scenario needs at least one host' });
  const flavors = sc.flavors ?? DEFAULT_FLAVORS;
  dup(flavors, 'flavors');
  dup(sc.projects ?? [], 'projects');
  dup(sc.server_groups ?? [], 'server_groups');
  const hypNames = new Set<string>();
  sc.hosts.forEach((h, i) => {
    const hh = h.hypervisor_hostname ?? h.name;
    if (hypNames.has(hh)) problems.push({ path: `/hosts/${i}/hypervisor_hostname`, message: `duplicate hypervisor hostname "${hh}"` });
    hypNames.add(hh);
    if (h.status !== 'disabled' && h.disabled_reason) problems.push({ path: `/hosts/${i}/disabled_reason`, message: 'disabled_reason needs status: disabled' });
    if (h.disabled_reason === '') problems.push({ path: `/hosts/${i}/disabled_reason`, message: 'must be 1-255 characters (or null)' });
  });
  const hosts = new Map(sc.hosts.map((h) => [h.name, hostWithDefaults(sc, h)]));
  const flavorByName = new Map<string, FlavorSpec>();
  for (const f of flavors) {
    flavorByName.set(f.name, f);
    if (f.id) flavorByName.set(f.id, f);
  }
  const projects = new Set(['admin', ...(sc.projects ?? []).map((p) => p.name)]);
  const groups = new Map((sc.server_groups ?? []).map((g) => [g.name, g]));
  const images = new Set((sc.images ?? [{ name: 'cirros' }]).flatMap((i) => [i.name, ...(i.id ? [i.id] : [])]));
  const users = new Set([sc.keystone?.admin?.username ?? 'admin', ...(sc.projects ?? []).flatMap((p) => (p.users ?? []).map((u) => u.name))]);
  (sc.application_credentials ?? []).forEach((a, i) => {
    if (!users.has(a.user)) problems.push({ path: `/application_credentials/${i}/user`, message: `unknown user "${a.user}"` });
    if (a.project && !projects.has(a.project)) problems.push({ path: `/application_credentials/${i}/project`, message: `unknown project "${a.project}"` });
  });
  (sc.server_groups ?? []).forEach((g, i) => {
    if (g.project && !projects.has(g.project)) problems.push({ path: `/server_groups/${i}/project`, message: `unknown project "${g.project}"` });
  });
  const used = new Map<string, { vcpu: number; ram: number; disk: number }>();
  const groupHosts = new Map<string, string[]>();
  const names = new Set<string>();
  (sc.instances ?? []).forEach((inst, i) => {
    const at = `/instances/${i}`;
    if (names.has(inst.name)) problems.push({ path: `${at}/name`, message: `duplicate instance name "${inst.name}"` });
    names.add(inst.name);
    const f = flavorByName.get(inst.flavor);
    if (!f) problems.push({ path: `${at}/flavor`, message: `unknown flavor "${inst.flavor}"` });
    if (inst.project && !projects.has(inst.project)) problems.push({ path: `${at}/project`, message: `unknown project "${inst.project}"` });
    if (inst.image && !images.has(inst.image)) problems.push({ path: `${at}/image`, message: `unknown image "${inst.image}"` });
    const state = inst.state ?? 'ACTIVE';
    if (state === 'SHELVED_OFFLOADED') {
      if (inst.host) problems.push({ path: `${at}/host`, message: 'a SHELVED_OFFLOADED instance has no host' });
    } else if (!inst.host) {
      if (state !== 'BUILD') problems.push({ path: `${at}/host`, message: `an instance in state ${state} needs a host` });
    } else if (!hosts.has(inst.host)) {
      problems.push({ path: `${at}/host`, message: `unknown host "${inst.host}"` });
    } else if (f) {
      const h = hosts.get(inst.host)!;
      const u = used.get(inst.host) ?? { vcpu: 0, ram: 0, disk: 0 };
      u.vcpu += f.vcpus;
      u.ram += f.ram_mb;
      u.disk += (f.disk_gb ?? 0) + (f.ephemeral_gb ?? 0);
      used.set(inst.host, u);
      const capV = Math.floor((h.vcpus - h.reserved_vcpus) * h.cpu_allocation_ratio);
      const capR = Math.floor((h.ram_mb - h.reserved_host_memory_mb) * h.ram_allocation_ratio);
      const capD = Math.floor((h.disk_gb - h.reserved_host_disk_gb) * h.disk_allocation_ratio);
      if (u.vcpu > capV || u.ram > capR || u.disk > capD) {
        problems.push({
          path: `${at}/host`,
          message: `host "${inst.host}" is over capacity with this instance (VCPU ${u.vcpu}/${capV}, MEMORY_MB ${u.ram}/${capR}, DISK_GB ${u.disk}/${capD})`,
        });
      }
      if (inst.az && h.az && inst.az !== h.az) problems.push({ path: `${at}/az`, message: `instance az "${inst.az}" but host "${inst.host}" is in "${h.az}"` });
    }
    if (inst.server_group) {
      const g = groups.get(inst.server_group);
      if (!g) problems.push({ path: `${at}/server_group`, message: `unknown server group "${inst.server_group}"` });
      else if (inst.host) {
        const hs = groupHosts.get(g.name) ?? [];
        if (g.policy === 'anti-affinity' && hs.filter((x) => x === inst.host).length >= (g.max_server_per_host ?? 1)) {
          problems.push({ path: `${at}/host`, message: `anti-affinity group "${g.name}" already has a member on "${inst.host}"` });
        }
        if (g.policy === 'affinity' && hs.length > 0 && hs[0] !== inst.host) {
          problems.push({ path: `${at}/host`, message: `affinity group "${g.name}" members are on "${hs[0]}"` });
        }
        hs.push(inst.host);
        groupHosts.set(g.name, hs);
      }
    }
  });
  return problems;
}

// ------------------------------------------------------------------ generators

export type ScenarioGenerator = (params: Record<string, unknown>) => Scenario;

function num(params: Record<string, unknown>, key: string, dflt: number): number {
  const v = params[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

/**
 * `big`: many hosts, one of them crowded. Defaults: 500 hosts (compute-001 ..
 * compute-500), 200 instances on compute-001, 2,000 instances in all, spread
 * round-robin over the other hosts; 3 projects; 4 AZs.
 */
export function generateBig(params: Record<string, unknown> = {}): Scenario {
  const hostCount = num(params, 'hosts', 500);
  const onFirst = num(params, 'instances_on_first', 200);
  const total = num(params, 'instances', 2000);
  const width = Math.max(2, String(hostCount).length);
  const hostName = (i: number) => `compute-${String(i).padStart(width, '0')}`;
  const hosts: HostSpec[] = [];
  for (let i = 1; i <= hostCount; i++) {
    hosts.push({ name: hostName(i), az: `az-${((i - 1) % 4) + 1}`, vcpus: 128, ram_mb: 786432, disk_gb: 10000 });
  }
  const flavors: FlavorSpec[] = [
    { name: 'b1.small', id: 'b1', vcpus: 1, ram_mb: 1024, disk_gb: 10 },
    { name: 'b1.medium', id: 'b2', vcpus: 2, ram_mb: 2048, disk_gb: 20 },
    { name: 'b1.large', id: 'b3', vcpus: 4, ram_mb: 4096, disk_gb: 40 },
  ];
  const projects: ProjectSpec[] = ['alpha', 'beta', 'gamma'].map((p) => ({ name: p, users: [{ name: `${p}-user`, password: `${p}-pass` }] }));
  const instances: InstanceSpec[] = [];
  const fl = ['b1.small', 'b1.medium', 'b1.large'];
  for (let i = 0; i < total; i++) {
    const host = i < onFirst ? hostName(1) : hostName(2 + ((i - onFirst) % Math.max(1, hostCount - 1)));
    instances.push({
      name: `vm-${String(i + 1).padStart(5, '0')}`,
      project: projects[i % projects.length]!.name,
      flavor: fl[i % fl.length]!,
      host: hostCount === 1 ? hostName(1) : host,
      state: i % 10 === 9 ? 'SHUTOFF' : 'ACTIVE',
    });
  }
  return {
    name: `big-${hostCount}-hosts`,
    description: `${hostCount} hosts, ${onFirst} instances on ${hostName(1)}, ${total} in total (generated)`,
    hosts,
    flavors,
    projects,
    instances,
    migration: { bandwidth_mbps: 2000, dirty_rate_mbps: 20, schedule_ms: 200, preparing_ms: 500, post_migrating_ms: 500 },
  };
}

export const GENERATORS: Record<string, ScenarioGenerator> = { big: generateBig };
