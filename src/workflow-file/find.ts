/**
 * Where workflow files are: the lookup order (--workflows-dir, $HOSTMAINT_WORKFLOWS_DIR,
 * ~/.config/hostmaint/workflows, shipped), finding one by name or path, listing them, and reading
 * one within the size cap.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isFile } from '../core/files.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { HostmaintError } from '../core/errors.js';
import type { WorkflowSource } from './types.js';

export type YamlModule = typeof import('yaml');

let yamlModule: YamlModule | null = null;

/** The yaml library, loaded when first needed (a command that reads no workflow never pays for it). */
export function yamlLib(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

export const WORKFLOW_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

// ------------------------------------------------------------------ finding

let packageRootCache: string | null | undefined;

/** The directory of hostmaint's package.json (from src/ under tsx, from the tsc output, or from the bundle in dist/cli/). */
export function packageRoot(): string | null {
  if (packageRootCache !== undefined) return packageRootCache;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  packageRootCache = null;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'hostmaint') {
          packageRootCache = dir;
          break;
        }
      } catch {
        // not ours: keep walking up
      }
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return packageRootCache;
}

/** The workflows/ directory shipped with hostmaint. */
export function shippedWorkflowsDir(): string {
  const root = packageRoot();
  return path.join(root ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..'), 'workflows');
}

export interface FindOptions {
  /** Searched first (e.g. a --workflows-dir flag). */
  dirs?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export type SearchDirKind = 'given' | 'env' | 'user' | 'shipped';

/** Where names are looked up, in order. */
export function workflowSearchDirs(opts: FindOptions = {}): Array<{ dir: string; kind: SearchDirKind }> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const out: Array<{ dir: string; kind: SearchDirKind }> = [];
  for (const d of opts.dirs ?? []) out.push({ dir: path.resolve(cwd, d), kind: 'given' });
  for (const d of (env.HOSTMAINT_WORKFLOWS_DIR ?? '').split(':').filter(Boolean)) out.push({ dir: path.resolve(cwd, d), kind: 'env' });
  const home = env.HOME || os.homedir();
  const config = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  out.push({ dir: path.join(config, 'hostmaint', 'workflows'), kind: 'user' });
  out.push({ dir: shippedWorkflowsDir(), kind: 'shipped' });
  return out;
}

/** A ref is a path when it contains "/" or ends in .yaml, .yml or .json; otherwise a name. */
export function isWorkflowPath(ref: string): boolean {
  return ref.includes('/') || ref.includes(path.sep) || /\.(ya?ml|json)$/i.test(ref);
}

export function sourceFromText(ref: string, file: string | null, content: string): WorkflowSource {
  const format = (file && /\.json$/i.test(file)) || (!file && content.trimStart().startsWith('{')) ? 'json' : 'yaml';
  return { ref, path: file, content, sha256: createHash('sha256').update(content).digest('hex'), format };
}

/** The largest workflow file read (a 10 MB one took 9.7 s and 1.2 GB to validate): far above any real workflow. */
export const MAX_WORKFLOW_BYTES = 256 * 1024;
/** The most steps a workflow may have, its compensations' steps included. */
export const MAX_WORKFLOW_STEPS = 200;

function tooBig(file: string, bytes: number): HostmaintError {
  return new HostmaintError('config', `workflow file ${file} is ${bytes} bytes: more than the ${MAX_WORKFLOW_BYTES} (${MAX_WORKFLOW_BYTES / 1024} KiB) a workflow may have; not read`, {
    hint: 'A workflow is a few dozen steps; check that this is the file you meant.',
  });
}

/** Read a workflow file, refusing (exit 2) one over MAX_WORKFLOW_BYTES before reading it. */
async function readCapped(file: string): Promise<string> {
  const size = statSync(file).size;
  if (size > MAX_WORKFLOW_BYTES) throw tooBig(file, size);
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(file, 'utf8');
  if (Buffer.byteLength(text) > MAX_WORKFLOW_BYTES) throw tooBig(file, Buffer.byteLength(text));
  return text;
}

/** Names of the workflows in a directory (files ending .yaml, .yml, .json). */
function namesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => WORKFLOW_EXTENSIONS.some((e) => f.endsWith(e)))
      .map((f) => f.replace(/\.(ya?ml|json)$/, ''))
      .sort();
  } catch {
    return [];
  }
}

/** Find and read a workflow by name or path. */
export async function findWorkflow(ref: string, opts: FindOptions = {}): Promise<WorkflowSource> {
  const cwd = opts.cwd ?? process.cwd();
  if (!ref || ref.trim() === '') throw new HostmaintError('usage', 'no workflow given', { hint: 'Name a workflow (e.g. drain, maintenance-cycle) or give the path of a workflow file.' });
  if (isWorkflowPath(ref)) {
    const file = path.resolve(cwd, ref);
    if (!isFile(file)) {
      throw new HostmaintError('usage', `workflow file ${file} does not exist`, { hint: `Check the path, or name a workflow: ${namesIn(shippedWorkflowsDir()).join(', ')}.` });
    }
    return sourceFromText(ref, file, await readCapped(file));
  }
  const dirs = workflowSearchDirs(opts);
  for (const { dir } of dirs) {
    for (const ext of WORKFLOW_EXTENSIONS) {
      const file = path.join(dir, `${ref}${ext}`);
      if (isFile(file)) return sourceFromText(ref, file, await readCapped(file));
    }
  }
  const shipped = namesIn(shippedWorkflowsDir());
  throw new HostmaintError('usage', `no workflow named '${ref}' (looked for ${ref}.yaml, .yml, .json in: ${dirs.map((d) => d.dir).join(', ')})`, {
    hint: `Shipped workflows: ${shipped.join(', ') || '(none)'}. Give a path (./${ref}.yaml) or put the file in one of those directories; \`hostmaint workflow list\` lists them.`,
    details: { searched: dirs.map((d) => d.dir), shipped },
  });
}

export interface WorkflowListing {
  name: string;
  description: string | null;
  path: string;
  where: SearchDirKind;
  /** A workflow of the same name earlier in the search order hides this one. */
  shadowed: boolean;
}

/** Every workflow in the search directories, in search order. */
export async function listWorkflows(opts: FindOptions = {}): Promise<WorkflowListing[]> {
  const { parse } = yamlLib();
  const seen = new Set<string>();
  const out: WorkflowListing[] = [];
  for (const { dir, kind } of workflowSearchDirs(opts)) {
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => WORKFLOW_EXTENSIONS.some((e) => f.endsWith(e))).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      const name = f.replace(/\.(ya?ml|json)$/, '');
      const file = path.join(dir, f);
      let description: string | null = null;
      try {
        if (statSync(file).size > MAX_WORKFLOW_BYTES) throw new Error('too big');
        const data = parse(readFileSync(file, 'utf8')) as { description?: unknown } | null;
        description = typeof data?.description === 'string' ? data.description.trim() : null;
      } catch {
        description = '(cannot be parsed: see `hostmaint workflow validate`)';
      }
      out.push({ name, description, path: file, where: kind, shadowed: seen.has(name) });
      seen.add(name);
    }
  }
  return out;
}

