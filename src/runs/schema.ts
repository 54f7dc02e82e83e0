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
 * - waiting: a workflow run saved at an approve step; `hostmaint continue` carries on;
 * - finished: ended with an outcome (drained, partial, refused, undrained ...);
 * - superseded: an unfinished run replaced by a newer one for the same host (never resumed).
 */
export type RunState = 'running' | 'interrupted' | 'waiting' | 'finished' | 'superseded';

/** drain / undrain: the commands; run: a workflow on one host; rolling: a workflow over several hosts. */
export type RunCommand = 'drain' | 'undrain' | 'run' | 'rolling';

export interface RunRecord {
  schemaVersion: number;
  runId: string;
  command: RunCommand;
  /** The host; '*' for a rolling run (its hosts are in `hosts`). */
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
  workflow: { name: 'drain' | 'undrain' | 'workflow' | 'rolling'; version: number };
  /** The options the run was started with (used when no snapshot was saved yet). */
  options: Record<string, unknown>;
  /** xstate's persisted snapshot to resume from: the last active one (never a restoringService one); null before the first step. */
  snapshot: unknown;
  /** How many times it was resumed. */
  resumes: number;
  /** The final result document (plain JSON), once it ended (also when interrupted). */
  result: Record<string, unknown> | null;
  /** Workflow and rolling runs: the workflow file as it was when the run started (resumes use this text, not the file). */
  workflowFile?: { ref: string; path: string | null; sha256: string; content: string; format: 'yaml' | 'json' };
  /** Workflow and rolling runs: the policy flags given (file keys, raw values). */
  overrides?: Record<string, unknown>;
  /** Workflow runs: the nested drain/undrain's last resumable snapshot, by unit ("main:0"). */
  inner?: Record<string, { machine: string; snapshot: unknown }>;
  /** Workflow runs: approvals given with `hostmaint continue`. */
  approvals?: Array<{ step: string; by: string; at: string }>;
  /** A host's run inside a rolling run: the rolling run's id. */
  parentRunId?: string | null;
  /** Rolling runs: the hosts, in order. */
  hosts?: string[];
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
    command: { enum: ['drain', 'undrain', 'run', 'rolling'] },
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
    state: { enum: ['running', 'interrupted', 'waiting', 'finished', 'superseded'] },
    stateReason: { type: ['string', 'null'] },
    phase: { type: ['string', 'null'] },
    outcome: { type: ['string', 'null'] },
    exitCode: { type: ['integer', 'null'] },
    workflow: {
      type: 'object',
      required: ['name', 'version'],
      properties: { name: { enum: ['drain', 'undrain', 'workflow', 'rolling'] }, version: { type: 'integer', minimum: 1 } },
    },
    options: { type: 'object' },
    snapshot: { type: ['object', 'null'] },
    resumes: { type: 'integer', minimum: 0 },
    result: { type: ['object', 'null'] },
    workflowFile: {
      type: 'object',
      required: ['ref', 'path', 'sha256', 'content', 'format'],
      properties: { ref: { type: 'string' }, path: { type: ['string', 'null'] }, sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' }, content: { type: 'string' }, format: { enum: ['yaml', 'json'] } },
    },
    overrides: { type: 'object' },
    inner: { type: 'object', additionalProperties: { type: 'object', required: ['machine', 'snapshot'], properties: { machine: { type: 'string' }, snapshot: { type: 'object' } } } },
    approvals: { type: 'array', items: { type: 'object', required: ['step', 'by', 'at'], properties: { step: { type: 'string' }, by: { type: 'string' }, at: { type: 'string' } } } },
    parentRunId: { type: ['string', 'null'] },
    hosts: { type: 'array', items: { type: 'string' } },
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

/** A persisted snapshot of one of the machines: active, its state value, and a context with these fields. */
function snapshotOf(context: Record<string, unknown>) {
  return {
    type: 'object',
    required: ['status', 'value', 'context'],
    properties: { status: { const: 'active' }, value: { type: ['string', 'object'] }, context },
  } as const;
}

/** A workflow run's snapshot (src/machines/workflow.machine.ts): where it is in its steps, and what they gave. */
const WORKFLOW_SNAPSHOT_SCHEMA = snapshotOf({
  type: 'object',
  required: ['runId', 'host', 'workflow', 'steps', 'units', 'cursor', 'results', 'manifest'],
  properties: {
    runId: { type: 'string' },
    host: { type: 'string' },
    workflow: { type: 'string' },
    steps: { type: 'array', items: { type: 'object', required: ['name', 'type', 'onFailure'] } },
    units: { type: 'array', items: { type: 'object', required: ['kind', 'steps'] } },
    cursor: { type: 'integer', minimum: 0 },
    results: { type: 'array', items: { type: 'object', required: ['name', 'type', 'status', 'exitCode', 'message'] } },
    manifest: { type: 'array', items: { type: 'object', required: ['serverId', 'from', 'to'] } },
  },
});

/** A rolling run's snapshot (src/machines/rolling.machine.ts): its hosts and how each went. */
const ROLLING_SNAPSHOT_SCHEMA = snapshotOf({
  type: 'object',
  required: ['runId', 'hosts'],
  properties: {
    runId: { type: 'string' },
    hosts: { type: 'array', items: { type: 'object', required: ['host', 'childRunId', 'status'] } },
  },
});

interface Validators {
  record: ValidateFunction;
  snapshot: ValidateFunction;
  workflow: ValidateFunction;
  rolling: ValidateFunction;
}

/** Compiled on first use: `hostmaint status` with no runs never loads ajv (start-up time). */
let compiled: Validators | null = null;
function validators(): Validators {
  if (!compiled) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    compiled = { record: ajv.compile(RECORD_SCHEMA), snapshot: ajv.compile(SNAPSHOT_SCHEMA), workflow: ajv.compile(WORKFLOW_SNAPSHOT_SCHEMA), rolling: ajv.compile(ROLLING_SNAPSHOT_SCHEMA) };
  }
  return compiled;
}

/** Null when `data` is a valid run record, else what is wrong. */
export function recordProblems(data: unknown): string | null {
  const v = validators().record;
  return v(data) ? null : ajvErrors(v.errors);
}

/** Null when `data` is a valid persisted snapshot, else what is wrong. */
export function snapshotProblems(data: unknown, machine: RunRecord['workflow']['name'] = 'drain'): string | null {
  const all = validators();
  const v = machine === 'workflow' ? all.workflow : machine === 'rolling' ? all.rolling : all.snapshot;
  return v(data) ? null : ajvErrors(v.errors);
}

export function ajvErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim())
    .join('; ');
}
