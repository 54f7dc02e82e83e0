/**
 * JSON schema of clouds.yaml / secure.yaml (the parts hostmaint reads) and the
 * translation of ajv's errors into messages a person can act on: the file, the
 * path inside it (`clouds.lab.auth.auth_url`) and what was expected. Values are
 * never quoted in these messages (a wrong-typed password must not be printed),
 * only their type.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

const str = { type: 'string' } as const;

/** Keys of a cloud's `auth` block that hostmaint reads (others are allowed and ignored). */
export const AUTH_KEYS = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'project_name',
  'project_id',
  'tenant_name',
  'tenant_id',
  'user_domain_name',
  'user_domain_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'default_domain_name',
  'default_domain_id',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
  'token',
  'system_scope',
] as const;

const authSchema = {
  type: 'object',
  properties: Object.fromEntries(AUTH_KEYS.map((k) => [k, str])),
  additionalProperties: true,
};

const cloudSchema = {
  type: 'object',
  properties: {
    auth: authSchema,
    auth_type: str,
    region_name: str,
    regions: {
      type: 'array',
      items: {
        anyOf: [str, { type: 'object', properties: { name: str }, required: ['name'], additionalProperties: true }],
      },
    },
    interface: str,
    endpoint_type: str,
    cacert: str,
    verify: { type: ['boolean', 'string'] },
    insecure: { type: 'boolean' },
    identity_api_version: { type: ['string', 'number'] },
    profile: str,
  },
  additionalProperties: true,
};

const fileSchema = {
  type: 'object',
  properties: {
    clouds: { type: 'object', additionalProperties: cloudSchema },
  },
  required: ['clouds'],
  additionalProperties: true,
};

let validator: ValidateFunction | null = null;

function validate(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    validator = ajv.compile(fileSchema);
  }
  return validator;
}

export interface SchemaProblem {
  /** Dotted path inside the file, e.g. `clouds.lab.auth.auth_url` ("(top level)" for the root). */
  path: string;
  /** The cloud the problem is in, when it is inside `clouds.<name>`. */
  cloud: string | null;
  /** What was expected, e.g. "must be a string (got number; quote the value in YAML)". */
  message: string;
}

/** Validate a parsed clouds.yaml / secure.yaml; every problem, none when valid. */
export function checkCloudsFile(data: unknown): SchemaProblem[] {
  const v = validate();
  if (v(data)) return [];
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of v.errors ?? []) {
    // anyOf reports each branch and then itself; the branch errors add nothing readable.
    if (e.schemaPath.includes('/anyOf/')) continue;
    const p = describeError(e, data);
    const key = `${p.path}|${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(p);
  }
  return problems;
}

function describeError(e: ErrorObject, data: unknown): SchemaProblem {
  const segments = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let message: string;
  switch (e.keyword) {
    case 'type': {
      const expected = ([] as string[]).concat((e.params as { type: string | string[] }).type);
      const got = typeName(valueAt(data, segments));
      const quote = expected.includes('string') && (got === 'number' || got === 'boolean') ? '; quote the value in YAML' : '';
      message = `must be ${expected.map(article).join(' or ')} (got ${got}${quote})`;
      break;
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      segments.push(missing);
      message = missing === 'clouds' ? 'is missing: the file must have a top-level "clouds:" mapping' : 'is missing';
      break;
    }
    case 'anyOf':
      message = 'must be a region name or a mapping with a "name"';
      break;
    default:
      message = e.message ?? 'is not valid';
  }
  const cloud = segments[0] === 'clouds' && segments.length >= 2 ? (segments[1] ?? null) : null;
  return { path: segments.length === 0 ? '(top level)' : jsonPath(segments), cloud, message };
}

/** `["clouds","my.cloud","auth"]` -> `clouds["my.cloud"].auth`. */
export function jsonPath(segments: string[]): string {
  let out = '';
  for (const s of segments) {
    if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out ? `.${s}` : s;
    else if (/^\d+$/.test(s)) out += `[${s}]`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function valueAt(data: unknown, segments: string[]): unknown {
  let cur: unknown = data;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

function article(t: string): string {
  switch (t) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'integer':
      return 'an integer';
    default:
      return `a ${t}`;
  }
}
