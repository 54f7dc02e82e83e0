/**
 * {placeholder} substitution for workflow steps (exec commands, http URLs,
 * headers and payloads, step env values), and the redaction of the secrets it
 * pulled in.
 *
 * `{host}`, `{runId}`, `{workflow}`, `{step}`, `{cloud}`, `{reason}` come
 * from the run; `{env:NAME}` from the environment, and every value taken from
 * the environment is reported as a secret so callers can keep it out of
 * messages, details and logs. Anything else in braces is left as written
 * (a shell `${VAR}` or a JSON fragment in a command stays intact).
 */
import { HostmaintError } from '../core/errors.js';
import { PLACEHOLDER_NAMES, type PlaceholderName, type PlaceholderValues } from '../workflow-file/types.js';

export type SubstituteMode = 'plain' | 'shell';

export interface Substituted {
  text: string;
  /** The values taken from {env:NAME}, for redaction. */
  secrets: string[];
}

const PLACEHOLDER = new RegExp(`\\{(?:(${PLACEHOLDER_NAMES.join('|')})|env:([A-Za-z_][A-Za-z0-9_]*))\\}`, 'g');

/** `value` as one shell word: single-quoted, an embedded `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Replace the placeholders of `template`. In 'shell' mode each substituted
 * value is single-quoted, so a value cannot break out of its word (write
 * `echo {host}`, not `echo "{host}"`). A missing `{env:NAME}` is a config
 * error naming the variable (never a value).
 */
export function substitute(template: string, vars: PlaceholderValues, env: NodeJS.ProcessEnv, mode: SubstituteMode): Substituted {
  const secrets: string[] = [];
  const text = template.replace(PLACEHOLDER, (_all, name: string | undefined, envName: string | undefined) => {
    let value: string;
    if (name !== undefined) {
      value = vars[name as PlaceholderName] ?? '';
    } else {
      const v = env[envName!];
      if (v === undefined || v.trim() === '') {
        throw new HostmaintError('config', `environment variable ${envName} is ${v === undefined ? 'not set' : 'set but empty'} (the workflow uses {env:${envName}})`, {
          hint: `Export ${envName} before running the workflow.`,
          details: { variable: envName },
        });
      }
      value = v;
      if (!secrets.includes(v)) secrets.push(v);
    }
    return mode === 'shell' ? shellQuote(value) : value;
  });
  return { text, secrets };
}

/** Substitute (plain mode) every string inside a JSON value: object values and array items, at any depth. Keys stay as written. */
export function substituteDeep(value: unknown, vars: PlaceholderValues, env: NodeJS.ProcessEnv): { value: unknown; secrets: string[] } {
  const secrets = new Set<string>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const r = substitute(v, vars, env, 'plain');
      for (const s of r.secrets) secrets.add(s);
      return r.text;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  const out = walk(value);
  return { value: out, secrets: [...secrets] };
}

/** Every secret of 4 characters or more replaced by `***` (longest first, so a secret containing another goes whole). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const list = [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of list) out = out.split(s).join('***');
  return out;
}
