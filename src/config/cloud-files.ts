/**
 * Finding and reading clouds.yaml and secure.yaml the way openstacksdk does:
 * the first file found wins (no merging across locations), searched in
 * `$OS_CLIENT_CONFIG_FILE` / `$OS_CLIENT_SECURE_FILE`, `./`,
 * `$XDG_CONFIG_HOME/openstack/`, `~/.config/openstack/`, `/etc/openstack/`,
 * each as .yaml, .yml and .json; secure.yaml is deep-merged over clouds.yaml.
 * Every file read is parsed (YAML errors name the file and line) and checked
 * against the schema (ajv, all errors).
 */
import { readFileSync, statSync } from 'node:fs';
import { isFile } from '../core/files.js';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { HostmaintError } from '../core/errors.js';
import { checkCloudsFile, type SchemaProblem } from './cloud-schema.js';

export type Env = Record<string, string | undefined>;

export interface ConfigSearch {
  cwd: string;
  home: string;
  env: Env;
  /** The system directory, `/etc/openstack` (tests point it elsewhere). */
  systemDir: string;
}

export interface LoadedFile {
  path: string;
  data: { clouds: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  /** Schema problems; the caller decides which are fatal (those in the cloud in use). */
  problems: SchemaProblem[];
}

export interface CloudsConfig {
  cloudsFile: LoadedFile | null;
  secureFile: LoadedFile | null;
  /** clouds.yaml's clouds with secure.yaml deep-merged over them. */
  clouds: Record<string, Record<string, unknown>>;
  /** Every clouds.yaml location looked at, in order. */
  searched: string[];
  /** The same, short: `$OS_CLIENT_CONFIG_FILE`, then each directory as `DIR/clouds.{yaml,yml,json}`. */
  searchedText: string;
}

const SUFFIXES = ['.yaml', '.yml', '.json'];

export function searchDirs(s: ConfigSearch): string[] {
  const dirs = [s.cwd];
  const xdg = s.env.XDG_CONFIG_HOME;
  if (xdg && path.isAbsolute(xdg)) dirs.push(path.join(xdg, 'openstack'));
  dirs.push(path.join(s.home, '.config', 'openstack'));
  dirs.push(s.systemDir);
  return [...new Set(dirs.map((d) => path.resolve(d)))];
}

function candidates(s: ConfigSearch, base: 'clouds' | 'secure'): string[] {
  const out: string[] = [];
  for (const d of searchDirs(s)) for (const suf of SUFFIXES) out.push(path.join(d, base + suf));
  return out;
}

/** Read, parse and schema-check one file. Throws `config` errors naming the file. */
export function loadFile(file: string): LoadedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new HostmaintError('config', `Cannot read ${file} (${code})`, {
      hint: code === 'EACCES' ? 'Check the file permissions.' : 'Check that the path is a readable file.',
      details: { file },
    });
  }
  // merge: YAML merge keys (`<<: *base`), which openstacksdk (PyYAML) accepts.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, merge: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    // The yaml library appends a snippet of the source to its message; it could hold a secret, so leave it out.
    const reason = (err.message.split(/ at line \d+/)[0] ?? err.message).trim();
    const where = pos ? `line ${pos.line}, column ${pos.col}` : 'an unknown position';
    throw new HostmaintError('config', `${file} is not valid YAML: ${reason} (at ${where})`, {
      hint: 'Fix the YAML syntax at that line (indentation, quotes, colons).',
      details: { file, line: pos?.line ?? null, column: pos?.col ?? null, yamlError: err.code },
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new HostmaintError('config', `${file} is not usable YAML: its aliases expand to too much (${(e as Error).message.split('\n')[0]})`, {
      hint: 'A clouds file needs few aliases; write the repeated parts out, or use fewer nested aliases (an "alias bomb" is refused).',
      details: { file },
    });
  }
  const problems = checkCloudsFile(data);
  if (data === null || typeof data !== 'object' || Array.isArray(data) || problems.some((p) => p.cloud === null)) {
    throw schemaError(file, problems.filter((p) => p.cloud === null));
  }
  return { path: file, data: data as LoadedFile['data'], problems };
}

/** A `config` error listing schema problems of a file. Never quotes values. */
export function schemaError(file: string, problems: SchemaProblem[]): HostmaintError {
  const list = problems.length ? problems : [{ path: '(top level)', cloud: null, message: 'must be a mapping with a "clouds:" key' }];
  const text = list.map((p) => `${p.path} ${p.message}`).join('; ');
  return new HostmaintError('config', `${file} is not a valid clouds file: ${text}`, {
    hint: 'See https://docs.openstack.org/openstacksdk/latest/user/config/configuration.html for the clouds.yaml format.',
    details: { file, problems: list.map((p) => ({ path: p.path, expected: p.message })) },
  });
}

function firstExisting(list: string[]): string | null {
  for (const p of list) if (isFile(p)) return p;
  return null;
}

function override(s: ConfigSearch, name: 'OS_CLIENT_CONFIG_FILE' | 'OS_CLIENT_SECURE_FILE'): string | null {
  const v = s.env[name];
  if (!v) return null;
  const p = path.resolve(s.cwd, v);
  if (!isFile(p)) {
    throw new HostmaintError('config', `${name} points to ${p}, which is not a readable file`, {
      hint: `Fix or unset ${name}.`,
      details: { file: p, variable: name },
    });
  }
  return p;
}

/** Locate and load clouds.yaml and secure.yaml, merged. */
export function loadCloudsConfig(s: ConfigSearch): CloudsConfig {
  const cloudsOverride = override(s, 'OS_CLIENT_CONFIG_FILE');
  const secureOverride = override(s, 'OS_CLIENT_SECURE_FILE');
  const cloudCandidates = candidates(s, 'clouds');
  const searched = cloudsOverride ? [cloudsOverride, ...cloudCandidates] : cloudCandidates;
  const cloudsPath = cloudsOverride ?? firstExisting(cloudCandidates);
  const securePath = secureOverride ?? firstExisting(candidates(s, 'secure'));
  const cloudsFile = cloudsPath ? loadFile(cloudsPath) : null;
  const secureFile = securePath ? loadFile(securePath) : null;
  let clouds: Record<string, Record<string, unknown>> = { ...(cloudsFile?.data.clouds ?? {}) };
  if (secureFile) clouds = deepMerge(clouds, secureFile.data.clouds) as Record<string, Record<string, unknown>>;
  const dirsText = searchDirs(s).map((d) => path.join(d, 'clouds.{yaml,yml,json}'));
  const searchedText = (cloudsOverride ? [cloudsOverride, ...dirsText] : dirsText).join(', ');
  return { cloudsFile, secureFile, clouds, searched, searchedText };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `over` wins; mappings merge recursively; lists and scalars replace. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}
