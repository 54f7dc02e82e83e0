/**
 * The operator's own config file: $HOSTMAINT_CONFIG, else
 * $XDG_CONFIG_HOME/hostmaint/config.yaml (~/.config/hostmaint/config.yaml).
 * It holds what is the same for every command of an operator or a runner,
 * today the coordination backend:
 *
 *   coordination: etcd3+http://10.0.0.5:2379,10.0.0.6:2379
 *   lease-ttl: 15s
 *
 * Flags win over the environment, the environment over this file. A file that
 * is not valid (YAML, or keys it does not know) is exit 2 naming it.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parseDocument } from 'yaml';
import { HostmaintError } from '../core/errors.js';

export interface OperatorConfig {
  coordination?: string;
  'lease-ttl'?: string;
  /** The file it came from, for messages; null when there is none. */
  file: string | null;
}

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    coordination: { type: 'string', minLength: 1 },
    'lease-ttl': { type: 'string', minLength: 1 },
  },
} as const;

export function operatorConfigFile(env: NodeJS.ProcessEnv): { file: string; explicit: boolean } {
  if (env.HOSTMAINT_CONFIG) return { file: path.resolve(env.HOSTMAINT_CONFIG), explicit: true };
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(env.HOME ?? os.homedir(), '.config');
  return { file: path.join(base, 'hostmaint', 'config.yaml'), explicit: false };
}

export function loadOperatorConfig(env: NodeJS.ProcessEnv): OperatorConfig {
  const { file, explicit } = operatorConfigFile(env);
  if (!existsSync(file)) {
    if (explicit) throw new HostmaintError('config', `HOSTMAINT_CONFIG names ${file}, which does not exist`, { hint: 'Point HOSTMAINT_CONFIG at your config file, or unset it.' });
    return { file: null };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HostmaintError('config', `cannot read the config file ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { hint: 'Check that it is a readable file.' });
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    throw new HostmaintError('config', `the config file ${file} is not valid YAML (at line ${pos?.line ?? '?'})`, { hint: 'Fix the YAML syntax at that line; it holds keys such as `coordination: etcd3+http://HOST:2379`.' });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 20 }) ?? {};
  } catch {
    throw new HostmaintError('config', `the config file ${file} is not usable YAML: its aliases expand to too much`, { hint: 'Write the values out.' });
  }
  const validate = new Ajv({ allErrors: true }).compile(SCHEMA);
  if (!validate(data)) {
    const what = (validate.errors ?? []).map((e) => (e.keyword === 'additionalProperties' ? `unknown key '${String((e.params as { additionalProperty: string }).additionalProperty)}'` : `${e.instancePath || '(top level)'} ${e.message ?? ''}`)).join('; ');
    throw new HostmaintError('config', `the config file ${file} is not valid: ${what}`, { hint: 'It takes `coordination: etcd3+http://HOST:PORT[,HOST:PORT...]` and `lease-ttl: 15s` (docs/commands.md).' });
  }
  return { ...(data as Omit<OperatorConfig, 'file'>), file };
}
