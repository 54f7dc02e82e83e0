/**
 * The JSON schema (draft-07) of a workflow file, built from POLICIES and
 * STEP_TYPES, and its validator (compiled on first use: the CLI starts fast).
 * Steps use one if/then per type, so a step of a known type gets precise
 * errors and an unknown type gets one error listing the valid ones.
 * Ranges of durations are checked by the normaliser (load.ts), with the same
 * rules as the command-line flags.
 */
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { DURATION_PATTERN } from '../core/durations.js';
import { POLICIES, type PolicyDef } from '../policies/policies.js';
import { COMMON_FIELDS, STEP_TYPES, STEP_TYPE_NAMES, type FieldDef, type StepTypeDef } from './steps.js';
import { WORKFLOW_FILE_VERSION } from './types.js';

/** Names of workflows, steps and compensations. */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const NAME_RULE = 'letters, digits, . _ - (starting with a letter or digit, at most 64)';
/** Environment variable names (exec env keys, {env:NAME}). */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";

type Schema = Record<string, unknown>;

function fieldSchema(f: FieldDef | PolicyDef, nullable = false): Schema {
  const description = f.description;
  const withNull = (t: string | string[]): string | string[] => {
    const list = Array.isArray(t) ? t : [t];
    return nullable ? [...list, 'null'] : list.length === 1 ? (list[0] as string) : list;
  };
  switch (f.kind) {
    case 'duration':
      return { description, type: withNull(['string', 'number']), pattern: DURATION_PATTERN, minimum: 0 };
    case 'int':
      return { description, type: withNull('integer') };
    case 'boolean':
      return { description, type: withNull('boolean') };
    case 'enum':
      return { description, enum: nullable ? [...f.choices, null] : [...f.choices] };
    case 'string':
      return { description, type: withNull('string'), minLength: 1 };
    case 'string-list':
      return f.key === 'pass-env'
        ? { description, type: 'array', items: { type: 'string', pattern: '^([A-Za-z_][A-Za-z0-9_]*|\\*)$', description: "An environment variable name, or '*'" } }
        : { description, type: withNull('array'), items: { type: 'string', minLength: 1, description: 'A host name' } };
    case 'enum-list':
      // One value, a comma-separated text, or a list of them ("on-timeout: abort" stays valid); a
      // text is checked word by word by the policy table (one problem, naming the choices).
      return { description, type: ['string', 'array'], minItems: 1, items: { enum: [...f.choices] } };
    case 'command':
      return { description, type: ['string', 'array'], minLength: 1, minItems: 1, items: { type: 'string', description: 'One argument' } };
    case 'string-map':
      return {
        description,
        type: 'object',
        propertyNames: { pattern: f.key === 'env' ? ENV_NAME_PATTERN : HEADER_NAME_PATTERN },
        additionalProperties: { type: 'string', description: 'A value (may use {placeholders} and {env:NAME})' },
      };
    case 'json':
      return { description, type: ['object', 'array', 'string', 'number', 'boolean', 'null'] };
  }
}

function commonSchema(f: FieldDef): Schema {
  if (f.key === 'name' || f.key === 'on-failure') return { description: f.description, type: 'string', pattern: NAME_PATTERN };
  return { description: f.description, type: ['string', 'null'] };
}

function stepSchema(t: StepTypeDef): Schema {
  const properties: Schema = { type: { description: 'The step type', const: t.type } };
  for (const f of COMMON_FIELDS) properties[f.key] = commonSchema(f);
  for (const f of t.fields) properties[f.key] = fieldSchema(f);
  return {
    description: t.description,
    type: 'object',
    properties,
    required: ['type', ...t.fields.filter((f) => f.required).map((f) => f.key)],
    additionalProperties: false,
  };
}

let built: Schema | null = null;

/** The schema, as a plain JSON document. */
export function workflowSchema(): Schema {
  if (built) return built;
  const definitions: Schema = {};
  for (const t of STEP_TYPES) definitions[`step-${t.type}`] = stepSchema(t);
  definitions.step = {
    description: 'One step; `type` says which, and which other keys it takes',
    type: 'object',
    required: ['type'],
    properties: { type: { description: `The step type: ${STEP_TYPE_NAMES.join(', ')}`, enum: [...STEP_TYPE_NAMES] } },
    allOf: STEP_TYPES.map((t) => ({
      if: { type: 'object', properties: { type: { const: t.type } }, required: ['type'] },
      then: { $ref: `#/definitions/step-${t.type}` },
    })),
  };
  const policies: Schema = {};
  for (const p of POLICIES) policies[p.key] = fieldSchema(p, p.nullable);
  built = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://hostmaint.invalid/workflow-v1.schema.json',
    title: 'hostmaint workflow',
    description: 'A hostmaint workflow file (version 1): the steps run on a host, and the policies they run with',
    type: 'object',
    required: ['version', 'name', 'steps'],
    additionalProperties: false,
    properties: {
      version: { description: `Version of the file format: ${WORKFLOW_FILE_VERSION}`, const: WORKFLOW_FILE_VERSION },
      name: { description: `Name of the workflow (${NAME_RULE})`, type: 'string', pattern: NAME_PATTERN },
      description: { description: 'What the workflow does, in a sentence or two', type: ['string', 'null'] },
      policies: {
        description: 'Policies of the drain, the undrain and rolling runs (all optional; command-line flags of the same names override them)',
        type: 'object',
        additionalProperties: false,
        properties: policies,
      },
      secrets: {
        description: 'Environment variables whose values are secret: redacted (***) from everything hostmaint stores and prints (run records, journals, step output). {env:NAME} values are redacted from step output too',
        type: 'array',
        items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'An environment variable name' },
      },
      steps: { description: 'The steps, run in order', type: 'array', minItems: 1, items: { $ref: '#/definitions/step' } },
      compensations: {
        description: "Named step lists run when a step's on-failure names them (enable, exec, http and wait-for-service steps only)",
        type: 'object',
        propertyNames: { pattern: NAME_PATTERN },
        additionalProperties: { description: 'The steps of one compensation', type: 'array', minItems: 1, items: { $ref: '#/definitions/step' } },
      },
    },
    definitions,
  };
  return built;
}

let compiled: ValidateFunction | null = null;

export function workflowValidator(): ValidateFunction {
  if (!compiled) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    compiled = ajv.compile(workflowSchema());
  }
  return compiled;
}

export interface SchemaProblem {
  /** JSON pointer of the value (or of the unknown key). */
  path: string;
  message: string;
  expected: string | null;
  /** Point at the key rather than the value (unknown keys). */
  atKey: boolean;
}

function typeWords(t: unknown): string {
  const list = (Array.isArray(t) ? t : [t]).map((x) => (x === 'integer' ? 'a whole number' : x === 'object' ? 'a mapping' : x === 'array' ? 'a list' : x === 'null' ? 'null' : `a ${String(x)}`));
  return list.join(' or ');
}

/** ajv's errors as problems a person can act on (values are not quoted: they may be secrets). */
export function schemaProblems(errors: ErrorObject[] | null | undefined): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  const push = (p: SchemaProblem): void => {
    const k = `${p.path}\u0000${p.message}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(p);
  };
  const all = errors ?? [];
  // A step whose type is unknown: only that error, not the ones of its other keys.
  for (const e of all) {
    const path = e.instancePath;
    const parent = (e.parentSchema ?? {}) as Schema;
    const last = path.split('/').pop() ?? '';
    switch (e.keyword) {
      case 'if':
      case 'propertyNames':
        break;
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const allowed = Object.keys((parent.properties as Schema | undefined) ?? {});
        push({ path: `${path}/${escapePointer(key)}`, message: `unknown key "${key}"`, expected: allowed.length ? `one of the keys: ${allowed.join(', ')}` : null, atKey: true });
        break;
      }
      case 'required': {
        const key = String((e.params as { missingProperty: string }).missingProperty);
        push({ path, message: `missing required key "${key}"`, expected: describeKey(parent, key), atKey: false });
        break;
      }
      case 'enum': {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => (v === null ? 'null' : String(v)));
        const isType = last === 'type' && /^\/(steps|compensations\/[^/]+)\/\d+\/type$/.test(path);
        push({
          path,
          message: isType ? `unknown step type ${JSON.stringify(e.data)}` : `${JSON.stringify(e.data)} is not allowed`,
          expected: `one of: ${allowed.join(', ')}`,
          atKey: false,
        });
        break;
      }
      case 'const':
        push({ path, message: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`, expected: JSON.stringify((e.params as { allowedValue: unknown }).allowedValue), atKey: false });
        break;
      case 'type':
        push({ path, message: `must be ${typeWords(parent.type ?? (e.params as { type: unknown }).type)}`, expected: typeWords(parent.type ?? (e.params as { type: unknown }).type), atKey: false });
        break;
      case 'pattern': {
        const pattern = (e.params as { pattern: string }).pattern;
        if (e.propertyName !== undefined) {
          push({ path: `${path}/${escapePointer(e.propertyName)}`, message: `"${e.propertyName}" is not a valid key here`, expected: patternWords(pattern), atKey: true });
        } else if (pattern === DURATION_PATTERN) {
          push({ path, message: `${JSON.stringify(e.data)} is not a duration`, expected: patternWords(pattern), atKey: false });
        } else {
          push({ path, message: `${JSON.stringify(e.data)} is not a valid name`, expected: patternWords(pattern), atKey: false });
        }
        break;
      }
      case 'minLength':
        push({ path, message: 'must not be empty', expected: 'a non-empty string', atKey: false });
        break;
      case 'minItems':
        push({ path, message: 'must not be an empty list', expected: `at least ${(e.params as { limit: number }).limit} item(s)`, atKey: false });
        break;
      case 'minimum':
        push({ path, message: 'must not be negative', expected: '0 or more', atKey: false });
        break;
      default:
        push({ path, message: e.message ?? `fails ${e.keyword}`, expected: null, atKey: false });
    }
  }
  // Problems inside a step of an unknown type are noise: keep the type error only.
  const unknownSteps = out.filter((p) => p.message.startsWith('unknown step type')).map((p) => p.path.replace(/\/type$/, ''));
  return out.filter((p) => !unknownSteps.some((s) => p.path.startsWith(`${s}/`) && !p.path.endsWith('/type')));
}

function describeKey(parent: Schema, key: string): string | null {
  const prop = ((parent.properties as Schema | undefined) ?? {})[key] as Schema | undefined;
  return prop && typeof prop.description === 'string' ? `"${key}": ${prop.description}` : `"${key}"`;
}

function patternWords(pattern: string): string {
  if (pattern === DURATION_PATTERN) return 'a duration: 250ms, 30s, 5m, 1h30m, or a number of seconds';
  if (pattern === NAME_PATTERN) return NAME_RULE;
  if (pattern === ENV_NAME_PATTERN) return 'an environment variable name: [A-Za-z_][A-Za-z0-9_]*';
  return `text matching ${pattern}`;
}

export function escapePointer(seg: string): string {
  return seg.replace(/~/g, '~0').replace(/\//g, '~1');
}

