/**
 * The {placeholders} of step strings: `{host}`, `{runId}` ... (PLACEHOLDER_NAMES)
 * and `{env:NAME}`. A `{` right after `$` is the shell's (`${VAR}`), not ours;
 * braces holding anything but a word or env:NAME (`{print $1}`, `{a,b}`) are
 * left alone.
 */
import { PLACEHOLDER_NAMES } from './types.js';

export interface PlaceholderRef {
  /** The text matched, braces included. */
  raw: string;
  /** "host", or the NAME of {env:NAME}. */
  name: string;
  env: boolean;
  index: number;
}

const REF = /(?<!\$)\{(env:[^{}\s]*|[A-Za-z][A-Za-z0-9_]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function placeholderRefs(text: string): PlaceholderRef[] {
  const out: PlaceholderRef[] = [];
  for (const m of text.matchAll(REF)) {
    const inner = m[1] as string;
    const env = inner.startsWith('env:');
    out.push({ raw: m[0], name: env ? inner.slice(4) : inner, env, index: m.index ?? 0 });
  }
  return out;
}

/** What is wrong with a reference, or null when it is a known placeholder or a well-formed {env:NAME}. */
export function placeholderProblem(ref: PlaceholderRef): string | null {
  if (ref.env) return ENV_NAME.test(ref.name) ? null : `${ref.raw}: "${ref.name}" is not an environment variable name`;
  return (PLACEHOLDER_NAMES as readonly string[]).includes(ref.name) ? null : `${ref.raw} is not a known placeholder`;
}

/** The text with every {env:NAME} removed (what is left is literal). */
export function withoutEnvRefs(text: string): string {
  return text.replace(REF, (all, inner: string) => (inner.startsWith('env:') ? '' : all));
}

export const PLACEHOLDER_HELP = `{${PLACEHOLDER_NAMES.join('}, {')}} or {env:NAME}`;
