/**
 * The JSON Schema of a scenario file and its ajv validator, and the error every
 * invalid scenario is reported with (the file and the JSON path of each problem).
 */
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { FAULT_SCHEMA } from '../faults.js';
import { INSTANCE_STATES } from './spec.js';

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
  address: { type: ['string', 'null'], minLength: 1 },
  port: { type: 'integer', minimum: 1, maximum: 65535 },
  hypervisor_type: str,
  traits: { type: 'array', items: { type: 'string', pattern: '^[A-Z0-9_]+$' } },
  cpu_info: { type: 'object', additionalProperties: false, properties: { vendor: str, model: str, arch: str } },
} as const;

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
          config_drive: { type: 'boolean' },
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
export function validator() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    compiled = ajv.compile(SCENARIO_SCHEMA);
  }
  return compiled;
}

export function ajvProblem(e: ErrorObject): { path: string; message: string } {
  let message = e.message ?? 'invalid';
  if (e.keyword === 'additionalProperties') message = `unknown property "${String(e.params['additionalProperty'])}"`;
  else if (e.keyword === 'enum') message = `${message}: ${(e.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  else if (e.keyword === 'required') message = `missing required property "${String(e.params['missingProperty'])}"`;
  return { path: e.instancePath, message };
}
