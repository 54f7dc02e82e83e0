/**
 * What a saved run looks like on disk, and the ajv schemas that check it when
 * it is read back. A record that does not validate, or that was written by an
 * incompatible hostmaint (schema version) or machine (machine version), is
 * refused whole: never half-restored.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';

/** Version of the record layout below. v1 (one JSON file per run, no snapshot) is not read. */
export const RUN_RECORD_SCHEMA_VERSION = 2;

/**
 * - running: a process is (or was, until it died) working on it;
 * - interrupted: stopped by a signal, or by a cloud that could not be reached; resumable;
 * - finished: ended with an outcome (drained, partial, refused, undrained ...);
 * - superseded: an unfinished run replaced by a newer one for the same host (never resumed).
 */
export type RunState = 'running' | 'interrupted' | 'finished' | 'superseded';

export interface RunRecord {
  schemaVersion: number;
  runId: string;
  command: 'drain' | 'undrain';
  host: string;
  /** clouds.yaml name ("lab"), "environment" or "demo". */
  cloud: string;
  /** Keystone user name (never a credential). */
  user: string | null;
  /** Local "user@machine" that started it. */
  who: string;
  /** The command line, secret flags' values replaced. */
  argv: string[];
  /** The last process that worked on it, and where. */
  pid: number;
  machine: string;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  state: RunState;
  /** Why it is interrupted or superseded (one sentence), else null. */
  stateReason: string | null;
  /** The machine's state value as text, e.g. "migrating.waiting". */
  phase: string | null;
  outcome: string | null;
  exitCode: number | null;
  /** Which machine the snapshot belongs to and its version (DRAIN_MACHINE_VERSION ...). */
  workflow: { name: 'drain' | 'undrain'; version: number };
  /** The options the run was started with (used when no snapshot was saved yet). */
  options: Record<string, unknown>;
  /** xstate's persisted snapshot to resume from: the last active one (never a restoringService one); null before the first step. */
  snapshot: unknown;
  /** How many times it was resumed. */
  resumes: number;
  /** The final result document (plain JSON), once it ended (also when interrupted). */
  result: Record<string, unknown> | null;
}

const isoOrNull = { type: ['string', 'null'] } as const;

const RECORD_SCHEMA = {
  type: 'object',
  required: [
    'schemaVersion', 'runId', 'command', 'host', 'cloud', 'user', 'who', 'argv', 'pid', 'machine', 'startedAt', 'updatedAt',
    'finishedAt', 'state', 'stateReason', 'phase', 'outcome', 'exitCode', 'workflow', 'options', 'snapshot', 'resumes', 'result',
  ],
  properties: {
    schemaVersion: { type: 'integer' },
    runId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    command: { enum: ['drain', 'undrain'] },
    host: { type: 'string', minLength: 1 },
    cloud: { type: 'string' },
    user: { type: ['string', 'null'] },
    who: { type: 'string' },
    argv: { type: 'array', items: { type: 'string' } },
    pid: { type: 'integer' },
    machine: { type: 'string' },
    startedAt: { type: 'string' },
    updatedAt: { type: 'string' },
    finishedAt: isoOrNull,
    state: { enum: ['running', 'interrupted', 'finished', 'superseded'] },
    stateReason: { type: ['string', 'null'] },
    phase: { type: ['string', 'null'] },
    outcome: { type: ['string', 'null'] },
    exitCode: { type: ['integer', 'null'] },
    workflow: {
      type: 'object',
      required: ['name', 'version'],
      properties: { name: { enum: ['drain', 'undrain'] }, version: { type: 'integer', minimum: 1 } },
    },
    options: { type: 'object' },
    snapshot: { type: ['object', 'null'] },
    resumes: { type: 'integer', minimum: 0 },
    result: { type: ['object', 'null'] },
  },
} as const;

const serviceRecord = {
  type: ['object', 'null'],
  required: ['id', 'host', 'status', 'state', 'disabledReason'],
  properties: {
    id: { type: 'string' },
    host: { type: 'string' },
    status: { enum: ['enabled', 'disabled'] },
    state: { enum: ['up', 'down'] },
    disabledReason: { type: ['string', 'null'] },
  },
} as const;

const poolEntry = {
  type: 'object',
  required: ['serverId', 'name', 'method', 'source', 'originalStatus', 'phase', 'attempts', 'adopted', 'migrationIds', 'baselineMigrationId', 'errors', 'pinnedHosts'],
  properties: {
    serverId: { type: 'string' },
    name: { type: 'string' },
    method: { enum: ['live', 'cold', 'offload'] },
    source: { type: 'string' },
    originalStatus: { type: 'string' },
    phase: { enum: ['pending', 'requested', 'queued', 'running', 'confirming', 'done', 'failed'] },
    attempts: { type: 'integer', minimum: 0 },
    adopted: { type: 'boolean' },
    migrationIds: { type: 'array', items: { type: 'integer' } },
    baselineMigrationId: { type: 'integer' },
    errors: { type: 'array', items: { type: 'string' } },
    pinnedHosts: { type: 'array', items: { type: 'string' } },
    requestId: { type: ['string', 'null'] },
  },
} as const;

/** The parts of a persisted snapshot that resume depends on; the machines' own restore does the rest. */
const SNAPSHOT_SCHEMA = {
  type: 'object',
  required: ['status', 'value', 'context'],
  properties: {
    status: { const: 'active' },
    value: { type: ['string', 'object'] },
    children: { type: 'object' },
    context: {
      type: 'object',
      required: ['runId', 'host', 'options', 'pool', 'pollErrors', 'ticks', 'warnings'],
      properties: {
        runId: { type: 'string' },
        host: { type: 'string' },
        options: { type: 'object' },
        pool: { type: 'array', items: poolEntry },
        pollErrors: { type: 'integer', minimum: 0 },
        ticks: { type: 'integer', minimum: 0 },
        warnings: { type: 'array', items: { type: 'string' } },
        service: {
          type: 'object',
          required: ['before', 'after', 'ownership'],
          properties: { before: serviceRecord, after: serviceRecord, ownership: { enum: ['ours', 'adopted', 'foreign', 'none'] } },
        },
      },
    },
  },
} as const;

/** Compiled on first use: `hostmaint status` with no runs never loads ajv (start-up time). */
let compiled: { record: ValidateFunction; snapshot: ValidateFunction } | null = null;
function validators(): { record: ValidateFunction; snapshot: ValidateFunction } {
  if (!compiled) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    compiled = { record: ajv.compile(RECORD_SCHEMA), snapshot: ajv.compile(SNAPSHOT_SCHEMA) };
  }
  return compiled;
}

/** Null when `data` is a valid run record, else what is wrong. */
export function recordProblems(data: unknown): string | null {
  const v = validators().record;
  return v(data) ? null : ajvErrors(v.errors);
}

/** Null when `data` is a valid persisted snapshot, else what is wrong. */
export function snapshotProblems(data: unknown): string | null {
  const v = validators().snapshot;
  return v(data) ? null : ajvErrors(v.errors);
}

export function ajvErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim())
    .join('; ');
}
