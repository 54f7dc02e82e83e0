/**
 * Validating and normalising workflow files (finding and reading them: find.ts).
 *
 * parseWorkflow never throws: it returns the workflow (or null) and every
 * problem, each with its JSON pointer, line and column. loadWorkflow throws a
 * HostmaintError('config') listing every error when the file is not valid.
 */
import path from 'node:path';
import { HostmaintError } from '../core/errors.js';
import { durationMs, formatDuration } from '../core/durations.js';
import { resolvePolicies, type PolicySources } from '../policies/policies.js';
import { placeholderProblem, placeholderRefs, withoutEnvRefs, PLACEHOLDER_HELP } from './placeholders.js';
import { escapePointer, schemaProblems, workflowValidator } from './schema.js';
import { DRAIN_STEPS, stepTypeDef, STEP_TYPES, type FieldDef } from './steps.js';
import type { StepType, Workflow, WorkflowSource, WorkflowStep } from './types.js';
import type { PolicyOverrides, WorkflowProblem } from '../policies/types.js';
import { MAX_WORKFLOW_BYTES, MAX_WORKFLOW_STEPS, findWorkflow, yamlLib, type FindOptions, type YamlModule } from './find.js';

export * from './find.js';

// ------------------------------------------------------------------ parsing

export interface ParseResult {
  workflow: Workflow | null;
  problems: WorkflowProblem[];
  /** Where each effective policy came from (file key -> default | file | flag). */
  policySources: PolicySources;
}

type Doc = import('yaml').Document.Parsed;
type Rec = Record<string, unknown>;

/** yaml, loaded on first use (CLI start-up stays fast). */

interface Locator {
  at(pointer: string, atKey?: boolean): { line: number | null; column: number | null };
}

function locator(y: YamlModule, doc: Doc | null, lc: import('yaml').LineCounter): Locator {
  return {
    at(pointer: string, atKey = false) {
      if (!doc) return { line: null, column: null };
      const segs = pointer === '' ? [] : pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      let node: unknown = doc.contents;
      let key: unknown = null;
      let last: unknown = doc.contents;
      for (const seg of segs) {
        if (y.isMap(node)) {
          const pair = node.items.find((p) => (y.isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
          if (!pair) break;
          key = pair.key;
          node = pair.value;
          last = node ?? key;
        } else if (y.isSeq(node)) {
          node = node.items[Number(seg)];
          key = null;
          if (!node) break;
          last = node;
        } else break;
      }
      const target = (atKey && key) || last;
      const range = (target as { range?: [number, number, number] } | null)?.range;
      if (!range) return { line: null, column: null };
      const pos = lc.linePos(range[0]);
      return { line: pos.line, column: pos.col };
    },
  };
}

function problem(path: string, message: string, expected: string | null, severity: 'error' | 'warning' = 'error'): WorkflowProblem {
  return { path, line: null, column: null, message, expected, severity };
}

function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse, validate and normalise a workflow's text. Never throws. */
export function parseWorkflow(source: WorkflowSource, overrides: PolicyOverrides = {}): ParseResult {
  const bytes = Buffer.byteLength(source.content);
  if (bytes > MAX_WORKFLOW_BYTES) {
    const problem: WorkflowProblem = { path: '', line: 1, column: 1, message: `the workflow is ${bytes} bytes: more than the ${MAX_WORKFLOW_BYTES} (${MAX_WORKFLOW_BYTES / 1024} KiB) a workflow may have; not parsed`, expected: null, severity: 'error' };
    return { workflow: null, problems: [problem], policySources: resolvePolicies(null, overrides).sources };
  }
  const y = yamlLib();
  const lc = new y.LineCounter();
  const doc = y.parseDocument(source.content, { lineCounter: lc, prettyErrors: true, uniqueKeys: true, merge: true });
  const loc = locator(y, doc, lc);
  const problems: WorkflowProblem[] = [];
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
      problems.push({ path: '', line: pos.line, column: pos.col, message: `${source.format === 'json' ? 'JSON/YAML' : 'YAML'} syntax: ${e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`, expected: null, severity: 'error' });
    }
    return { workflow: null, problems, policySources: resolvePolicies(null, overrides).sources };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    problems.push({ path: '', line: null, column: null, message: `YAML: its aliases expand to too much (${(e as Error).message.split('\n')[0]})`, expected: 'few aliases (an "alias bomb" is refused)', severity: 'error' });
    return { workflow: null, problems, policySources: resolvePolicies(null, overrides).sources };
  }
  const validate = workflowValidator();
  const schemaOk = validate(data) as boolean;
  const fromSchema = schemaOk ? [] : schemaProblems(validate.errors);
  for (const p of fromSchema) problems.push({ path: p.path, ...loc.at(p.path, p.atKey), message: p.message, expected: p.expected, severity: 'error' });
  const raw = isRec(data) ? data : {};
  const stepCount = (Array.isArray(raw.steps) ? raw.steps.length : 0) + (isRec(raw.compensations) ? Object.values(raw.compensations).reduce<number>((n, c) => n + (Array.isArray(c) ? c.length : 0), 0) : 0);
  if (stepCount > MAX_WORKFLOW_STEPS) {
    problems.push({ path: '/steps', ...loc.at('/steps', true), message: `${stepCount} steps (compensations included): more than the ${MAX_WORKFLOW_STEPS} a workflow may have`, expected: null, severity: 'error' });
    return { workflow: null, problems, policySources: resolvePolicies(null, overrides).sources };
  }

  // Policies (ranges, same rules as the flags) and overrides.
  const resolved = resolvePolicies(isRec(raw.policies) ? raw.policies : null, overrides);
  const semantic: WorkflowProblem[] = [...resolved.problems];
  semantic.push(...stepFieldProblems(raw), ...semanticProblems(raw));
  const covered = (p: string): boolean => fromSchema.some((s) => p === s.path || p.startsWith(`${s.path}/`) || s.path.startsWith(`${p}/`));
  for (const p of semantic) {
    if (p.severity === 'error' && covered(p.path) && p.path !== '') continue;
    const fromFlag = p.message.startsWith('--');
    problems.push({ ...p, ...(fromFlag ? {} : loc.at(p.path)) });
  }
  for (const w of doc.warnings) {
    const pos = w.linePos?.[0] ?? lc.linePos(w.pos[0]);
    problems.push({ path: '', line: pos.line, column: pos.col, message: `YAML: ${w.message.split('\n')[0]}`, expected: null, severity: 'warning' });
  }
  problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
  const errors = problems.filter((p) => p.severity === 'error');
  const workflow = errors.length === 0 ? normalise(raw, resolved.policies) : null;
  return { workflow, problems, policySources: resolved.sources };
}

// ------------------------------------------------------------------ normalising

function fieldValue(f: FieldDef, v: unknown): unknown {
  if (v === undefined) return typeof f.default === 'object' && f.default !== null ? JSON.parse(JSON.stringify(f.default)) : f.default;
  if (f.kind === 'duration') return durationMs(v);
  if (f.kind === 'command' && Array.isArray(v)) return [...(v as string[])];
  if (f.kind === 'string-map' || f.kind === 'json') return JSON.parse(JSON.stringify(v));
  return v;
}

/** Names for unnamed steps: the type, then type-2, type-3 ... (skipping names taken). */
export function stepNames(steps: Rec[]): string[] {
  const taken = new Set(steps.map((s) => s.name).filter((n): n is string => typeof n === 'string'));
  const count = new Map<string, number>();
  return steps.map((s) => {
    if (typeof s.name === 'string') return s.name;
    const type = String(s.type);
    let n = count.get(type) ?? 0;
    let name: string;
    do {
      n += 1;
      name = n === 1 ? type : `${type}-${n}`;
    } while (taken.has(name));
    count.set(type, n);
    taken.add(name);
    return name;
  });
}

function normaliseSteps(list: Rec[]): WorkflowStep[] {
  const names = stepNames(list);
  return list.map((s, i) => {
    const def = stepTypeDef(String(s.type));
    const step: Rec = { type: s.type, name: names[i], description: typeof s.description === 'string' ? s.description : null, onFailure: typeof s['on-failure'] === 'string' ? s['on-failure'] : 'stop' };
    for (const f of def?.fields ?? []) step[f.model] = fieldValue(f, s[f.key]);
    return step as unknown as WorkflowStep;
  });
}

function normalise(raw: Rec, policies: Workflow['policies']): Workflow {
  const compensations: Record<string, WorkflowStep[]> = {};
  for (const [name, list] of Object.entries(isRec(raw.compensations) ? raw.compensations : {})) compensations[name] = normaliseSteps(list as Rec[]);
  return {
    version: raw.version as number,
    name: raw.name as string,
    description: typeof raw.description === 'string' ? raw.description.trim() : null,
    policies,
    steps: normaliseSteps(raw.steps as Rec[]),
    compensations,
    secrets: Array.isArray(raw.secrets) ? [...new Set(raw.secrets as string[])] : [],
  };
}

// ------------------------------------------------------------------ checks

interface StepAt {
  step: Rec;
  path: string;
  type: string;
}

function stepsAt(list: unknown, base: string): StepAt[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((s, i) => (isRec(s) && typeof s.type === 'string' ? [{ step: s, path: `${base}/${i}`, type: s.type }] : []));
}

/** Ranges of step durations and numbers (the schema checks only their form). */
function stepFieldProblems(raw: Rec): WorkflowProblem[] {
  const out: WorkflowProblem[] = [];
  const all = [...stepsAt(raw.steps, '/steps'), ...Object.entries(isRec(raw.compensations) ? raw.compensations : {}).flatMap(([n, l]) => stepsAt(l, `/compensations/${escapePointer(n)}`))];
  for (const { step, path } of all) {
    for (const f of stepTypeDef(String(step.type))?.fields ?? []) {
      const v = step[f.key];
      if (v === undefined) continue;
      if (f.kind === 'duration') {
        const ms = durationMs(v);
        if (ms !== null && (ms < f.minMs || ms > f.maxMs)) out.push(problem(`${path}/${f.key}`, `${f.key} ${typeof v === 'number' ? `${v}s` : String(v)} is out of range`, `a duration from ${formatDuration(f.minMs, { exact: true })} to ${formatDuration(f.maxMs, { exact: true })}`));
      } else if (f.kind === 'int' && typeof v === 'number' && Number.isInteger(v) && (v < f.min || v > f.max)) {
        out.push(problem(`${path}/${f.key}`, `${f.key} ${v} is out of range`, `a whole number from ${f.min} to ${f.max}`));
      }
    }
  }
  return out;
}

const SECRET_HEADER = /authorization|token|secret|passw|api[-_]?key|cookie|credential/i;
const SECRET_KEY = /passw|secret|token|api[-_]?key|credential/i;
/** What may stay literal next to {env:NAME} in a secret: an auth scheme ("Bearer ") or a cookie/key name ("session="). */
const SECRET_PREFIX = /^([A-Za-z][A-Za-z0-9_-]{0,30}[ =:]?)?$/;

function secretProblem(where: string, value: string): string | null {
  const hasEnv = placeholderRefs(value).some((r) => r.env);
  const literal = withoutEnvRefs(value).trim();
  if (hasEnv && SECRET_PREFIX.test(literal)) return null;
  return `${where} looks like a secret but holds a literal value: move it to an environment variable and write {env:NAME} here (a run record stores the file's text)`;
}

function walkStrings(v: unknown, path: string, fn: (s: string, path: string, key: string | null) => void, key: string | null = null): void {
  if (typeof v === 'string') fn(v, path, key);
  else if (Array.isArray(v)) v.forEach((x, i) => walkStrings(x, `${path}/${i}`, fn, key));
  else if (isRec(v)) for (const [k, x] of Object.entries(v)) walkStrings(x, `${path}/${escapePointer(k)}`, fn, k);
}

function stepProblems(s: StepAt, compensationNames: string[], inCompensation: string | null): WorkflowProblem[] {
  const out: WorkflowProblem[] = [];
  const { step, path, type } = s;
  const onFailure = step['on-failure'];
  if (typeof onFailure === 'string') {
    const allowed = inCompensation ? ['stop', 'continue'] : ['stop', 'continue', ...compensationNames];
    if (!allowed.includes(onFailure)) {
      out.push(
        problem(
          `${path}/on-failure`,
          inCompensation ? `a step of compensation ${inCompensation} cannot run another compensation ("${onFailure}")` : `on-failure "${onFailure}" is neither stop, continue nor a compensation of this workflow`,
          `one of: ${allowed.join(', ')}`,
        ),
      );
    }
  }
  if (inCompensation && !stepTypeDef(type)?.compensation) {
    const ok = STEP_TYPES.filter((t) => t.compensation).map((t) => t.type);
    if (stepTypeDef(type)) out.push(problem(`${path}/type`, `${type} steps cannot be part of a compensation`, `one of: ${ok.join(', ')}`));
  }
  // Placeholders in every string a step sends or runs.
  const placeholderKeys = ['command', 'url', 'headers', 'payload', 'env'];
  for (const key of placeholderKeys) {
    walkStrings(step[key], `${path}/${key}`, (text, p) => {
      for (const ref of placeholderRefs(text)) {
        const why = placeholderProblem(ref);
        if (why) out.push(problem(p, why, PLACEHOLDER_HELP));
      }
    });
  }
  if (type === 'exec') {
    const c = step.command;
    if ((typeof c === 'string' && c.trim() === '') || (Array.isArray(c) && (c.length === 0 || typeof c[0] !== 'string' || c[0].trim() === ''))) {
      out.push(problem(`${path}/command`, 'the command is empty', 'a shell command line, or an argv array whose first item is the program'));
    }
    if (isRec(step.env)) {
      for (const [k, v] of Object.entries(step.env)) {
        if (typeof v === 'string' && SECRET_KEY.test(k)) {
          const why = secretProblem(`env ${k}`, v);
          if (why) out.push(problem(`${path}/env/${escapePointer(k)}`, why, `{env:NAME}, e.g. ${k}: '{env:${k.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}}'`));
        }
      }
    }
  }
  if (type === 'http') {
    const url = step.url;
    if (typeof url === 'string') {
      if (!/^(https?:\/\/|\{)/i.test(url.trim())) out.push(problem(`${path}/url`, 'the url must start with http:// or https:// (or with a placeholder such as {env:WEBHOOK_URL})', 'an http(s) URL'));
      if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(url.trim())) {
        out.push(problem(`${path}/url`, 'the url holds a user and password: move the credentials to an environment variable (an Authorization header with {env:NAME}, or the whole url as {env:NAME})', 'a url without user:password@'));
      }
    }
    if (isRec(step.headers)) {
      for (const [k, v] of Object.entries(step.headers)) {
        if (typeof v === 'string' && SECRET_HEADER.test(k)) {
          const why = secretProblem(`header ${k}`, v);
          if (why) out.push(problem(`${path}/headers/${escapePointer(k)}`, why, "{env:NAME}, e.g. Authorization: 'Bearer {env:CHAT_TOKEN}'"));
        }
      }
    }
    walkStrings(step.payload, `${path}/payload`, (text, p, key) => {
      if (key !== null && SECRET_KEY.test(key)) {
        const why = secretProblem(`payload key ${key}`, text);
        if (why) out.push(problem(p, why, `{env:NAME}, e.g. ${key}: '{env:${key.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}}'`));
      }
    });
  }
  return out;
}

/** The rules the schema cannot say: names, on-failure targets, the order of drain steps, secrets, placeholders. */
function semanticProblems(raw: Rec): WorkflowProblem[] {
  const out: WorkflowProblem[] = [];
  const compensations = isRec(raw.compensations) ? raw.compensations : {};
  const compensationNames = Object.keys(compensations);
  for (const name of compensationNames) {
    if (name === 'stop' || name === 'continue') out.push(problem(`/compensations/${escapePointer(name)}`, `a compensation cannot be named "${name}" (it is an on-failure keyword)`, 'another name'));
  }
  const steps = stepsAt(raw.steps, '/steps');
  const all = Array.isArray(raw.steps) ? (raw.steps as unknown[]) : [];
  const typeAt = (i: number): string | null => {
    const s = all[i];
    return isRec(s) && typeof s.type === 'string' ? s.type : null;
  };
  const checkNames = (list: StepAt[], where: string): void => {
    const names = stepNames(list.map((s) => s.step));
    const seen = new Map<string, number>();
    names.forEach((n, i) => {
      const s = list[i] as StepAt;
      if (seen.has(n)) out.push(problem(typeof s.step.name === 'string' ? `${s.path}/name` : s.path, `step name "${n}" is used twice${where} (also step ${(seen.get(n) ?? 0) + 1})`, 'a unique name'));
      else seen.set(n, i);
    });
  };
  checkNames(steps, '');
  for (const s of steps) out.push(...stepProblems(s, compensationNames, null));
  for (const [name, list] of Object.entries(compensations)) {
    const cs = stepsAt(list, `/compensations/${escapePointer(name)}`);
    checkNames(cs, ` in compensation ${name}`);
    for (const s of cs) out.push(...stepProblems(s, compensationNames, name));
  }

  // The drain: disable, preflight, migrate, verify-empty, in that order, as one.
  const firstMigrate = all.findIndex((_s, i) => typeAt(i) === 'migrate');
  all.forEach((_s, i) => {
    const type = typeAt(i);
    const path = `/steps/${i}/type`;
    if (type === 'migrate') {
      if (typeAt(i - 1) !== 'preflight' || typeAt(i - 2) !== 'disable') {
        out.push(problem(path, 'migrate must come right after preflight, which comes right after disable (the engine runs disable, preflight, migrate and verify-empty as one drain)', 'disable, preflight, migrate, verify-empty in a row'));
      }
      if (typeAt(i + 1) !== 'verify-empty') {
        out.push(problem(path, 'migrate must be followed right away by verify-empty (the engine runs disable, preflight, migrate and verify-empty as one drain, and verifies the host empty)', 'disable, preflight, migrate, verify-empty in a row'));
      }
    }
    if (type === 'return-instances') {
      if (typeAt(i - 1) !== 'enable') out.push(problem(path, 'return-instances must come right after an enable step (instances go back to an enabled host)', 'enable, then return-instances'));
      if (firstMigrate < 0 || firstMigrate > i) out.push(problem(path, 'return-instances moves back what this run moved: it needs a migrate step earlier in the workflow', 'a migrate step before it'));
    }
  });

  // The drain steps never let the run go on after they failed: the steps after them (a reboot ...) would
  // run on a host that may be enabled and full.
  for (const s of steps) {
    if (DRAIN_STEPS.includes(s.type as StepType) && s.step['on-failure'] === 'continue') {
      out.push(problem(`${s.path}/on-failure`, `on-failure: continue is not allowed on ${s.type}: after a failed ${s.type} the steps after it would run on a host that may be enabled and not empty`, 'stop, or a compensation (which then stops the run)'));
    }
  }
  if (firstMigrate < 0) {
    let disabledAt: number | null = null;
    all.forEach((_s, i) => {
      const type = typeAt(i);
      if (type === 'disable') disabledAt = i;
      else if (type === 'verify-empty' || type === 'enable') disabledAt = null;
      else if ((type === 'exec' || type === 'approve') && disabledAt !== null) {
        out.push(problem(`/steps/${i}`, `${type} step after disable with no migrate or verify-empty before it: maintenance on a host not verified empty`, 'a verify-empty step between disable and this step (or the drain: disable, preflight, migrate, verify-empty)', 'warning'));
        disabledAt = null;
      }
    });
  }
  return out;
}

// ------------------------------------------------------------------ loading

/** One problem as `file:line:col: /pointer: message (expected: ...)`. */
export function formatProblem(p: WorkflowProblem, file: string): string {
  const where = p.line !== null ? `${file}:${p.line}:${p.column ?? 1}` : file;
  return `${where}: ${p.path || '/'}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}${p.expected ? ` (expected: ${p.expected})` : ''}`;
}

export function sourceLabel(source: WorkflowSource): string {
  if (!source.path) return source.ref;
  const rel = path.relative(process.cwd(), source.path);
  return rel && !rel.startsWith('..') && rel.length < source.path.length ? rel : source.path;
}

export interface LoadedWorkflow {
  workflow: Workflow;
  source: WorkflowSource;
  /** Warnings only (errors throw). */
  problems: WorkflowProblem[];
  policySources: PolicySources;
}

function invalid(source: WorkflowSource, problems: WorkflowProblem[]): HostmaintError {
  const errors = problems.filter((p) => p.severity === 'error');
  const label = sourceLabel(source);
  if (errors.length > 0 && errors.every((p) => p.message.startsWith('--'))) {
    return new HostmaintError('usage', errors.map((p) => `${p.message}${p.expected ? ` (expected: ${p.expected})` : ''}`).join('; '), {
      hint: 'Fix the policy flag; `hostmaint workflow show <workflow> --help` lists them with their ranges.',
      details: { workflow: source.ref, problems: errors },
    });
  }
  return new HostmaintError('config', `workflow ${label} is not valid (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${errors.map((p) => `  ${formatProblem(p, label)}`).join('\n')}`, {
    hint: `Fix the file and check it with \`hostmaint workflow validate ${source.ref}\`; docs/workflows.md describes every key.`,
    details: { workflow: source.ref, path: source.path, problems: errors },
  });
}

/** The workflow of a source's text (e.g. a saved run's recorded file), with the same checks as a file. */
export function workflowFromSource(source: WorkflowSource, overrides: PolicyOverrides = {}): LoadedWorkflow {
  const r = parseWorkflow(source, overrides);
  if (!r.workflow || r.problems.some((p) => p.severity === 'error')) throw invalid(source, r.problems);
  return { workflow: r.workflow, source, problems: r.problems, policySources: r.policySources };
}

/** Find, read, validate and normalise a workflow; throws HostmaintError('config') listing every error. */
export async function loadWorkflow(ref: string, opts: FindOptions & { overrides?: PolicyOverrides } = {}): Promise<LoadedWorkflow> {
  const source = await findWorkflow(ref, opts);
  return workflowFromSource(source, opts.overrides ?? {});
}

