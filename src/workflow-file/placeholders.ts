/**
 * The {placeholders} of step strings: `{host}`, `{runId}` ... (PLACEHOLDER_NAMES)
 * and `{env:NAME}`. A `{` right after `$` is the shell's (`${VAR}`), not ours;
 * braces holding anything but a word or env:NAME (`{print $1}`, `{a,b}`) are
 * left alone.
 */
import { HostmaintError } from '../core/errors.js';
import { PLACEHOLDER_NAMES, type Workflow, type WorkflowStep } from './types.js';

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

/** Every string a step substitutes placeholders in (command, env values, url, headers, payload). */
function stepStrings(step: WorkflowStep): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  if (step.type === 'exec') walk([step.command, step.env]);
  if (step.type === 'http') walk([step.url, step.headers, step.payload]);
  return out;
}

/**
 * The {env:NAME} a workflow uses that the environment does not set, by step: checked before a run
 * starts, so a missing variable stops it before the drain, not at the step after it.
 */
/** An {env:NAME} value that cannot be used: unset, or empty (or only blanks: `X=` would make a silent no-op command). */
export function unusableEnvValue(v: string | undefined): 'unset' | 'empty' | null {
  if (v === undefined) return 'unset';
  return v.trim() === '' ? 'empty' : null;
}

export function missingEnvRefs(workflow: Workflow, env: NodeJS.ProcessEnv): Array<{ step: string; name: string; empty: boolean }> {
  const steps = [...workflow.steps, ...Object.values(workflow.compensations).flat()];
  const out: Array<{ step: string; name: string; empty: boolean }> = [];
  for (const step of steps) {
    for (const text of stepStrings(step)) {
      for (const ref of placeholderRefs(text)) {
        const why = ref.env ? unusableEnvValue(env[ref.name]) : null;
        if (why !== null && !out.some((o) => o.name === ref.name && o.step === step.name)) out.push({ step: step.name, name: ref.name, empty: why === 'empty' });
      }
    }
  }
  return out;
}

/** Refuse (usage, exit 2, nothing changed) a run whose workflow uses {env:NAME} that is not set, or set but empty. */
export function checkEnvRefs(workflow: Workflow, env: NodeJS.ProcessEnv): void {
  const missing = missingEnvRefs(workflow, env);
  if (missing.length === 0) return;
  const names = [...new Set(missing.map((m) => m.name))];
  const empties = missing.some((m) => m.empty);
  const unset = missing.some((m) => !m.empty);
  throw new HostmaintError('usage', `workflow ${workflow.name} needs ${names.map((n) => `$${n}`).join(', ')}, ${empties && unset ? 'not set or empty' : empties ? 'set but empty' : 'not set'} (used by step${missing.length === 1 ? '' : 's'} ${[...new Set(missing.map((m) => m.step))].join(', ')})`, {
    hint: `Nothing was changed. Export ${names.length === 1 ? 'it' : 'them'} first, e.g. export ${names[0]}=...${names.includes('HOSTMAINT_MAINTENANCE_COMMAND') ? ` (HOSTMAINT_MAINTENANCE_COMMAND is the command that patches or reboots the host, e.g. 'ssh "$HOSTMAINT_HOST" sudo reboot')` : ''}.`,
    details: { missing },
  });
}
