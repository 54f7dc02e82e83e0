/**
 * The settings of a cloud from each source, and their layering. Every key is
 * read from the command-line flags (`--os-*`), the OS_* environment (openrc)
 * and a clouds.yaml cloud (secure.yaml merged over it), each with its aliases;
 * a setting remembers where it came from, for messages. Field by field, flags
 * win over the environment, the environment over the files (with a warning).
 */
import { HostmaintError } from '../core/errors.js';
import type { CloudsConfig, Env } from './cloud-files.js';
import { AUTH_KEYS } from './cloud-schema.js';

/** Auth block keys read under another name (tenant_* are aliases of project_*), or not at all. */
type UnresolvedAuthKey = 'tenant_name' | 'tenant_id' | 'system_scope';
const UNRESOLVED_AUTH_KEYS: ReadonlySet<string> = new Set<UnresolvedAuthKey>(['tenant_name', 'tenant_id', 'system_scope']);
type AuthKey = Exclude<(typeof AUTH_KEYS)[number], UnresolvedAuthKey>;

/** The auth block's keys that are settings, in the schema's order. */
const AUTH_SETTINGS = AUTH_KEYS.filter((k): k is AuthKey => !UNRESOLVED_AUTH_KEYS.has(k));

/** Every setting: the auth block's (with the auth type second), then the cloud-level ones. */
export const KEYS = [
  'auth_url',
  'auth_type',
  ...AUTH_SETTINGS.filter((k): k is Exclude<AuthKey, 'auth_url'> => k !== 'auth_url'),
  'region_name',
  'interface',
  'cacert',
  'insecure',
  'identity_api_version',
] as const;
export type Key = (typeof KEYS)[number];

const SECRET_KEYS: ReadonlySet<Key> = new Set(['password', 'application_credential_secret', 'token']);

/** Keys that mean "a cloud was described": the auth block's but the domains (region, interface, TLS alone do not either). */
const DESCRIBING_KEYS: readonly Key[] = AUTH_SETTINGS.filter((k) => !k.includes('domain'));

export interface Setting {
  value: string | boolean;
  /** Where the value came from, for messages: `--os-password`, `OS_PASSWORD`, `clouds.yaml (path): clouds.lab.auth.password`. */
  origin: string;
  layer: 'flag' | 'env' | 'file';
}
export type Settings = Partial<Record<Key, Setting>>;

export const flagName = (k: Key): string => (k === 'insecure' ? '--insecure' : `--os-${k.replace(/_/g, '-')}`);
export const envName = (k: Key): string => `OS_${k.toUpperCase()}`;
const camel = (flag: string): string => flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Aliases within one layer: the first name present wins. */
const ALIASES: Partial<Record<Key, { flags: string[]; env: string[]; file: string[] }>> = {
  project_name: { flags: ['--os-project-name', '--os-tenant-name'], env: ['OS_PROJECT_NAME', 'OS_TENANT_NAME'], file: ['project_name', 'tenant_name'] },
  project_id: { flags: ['--os-project-id', '--os-tenant-id'], env: ['OS_PROJECT_ID', 'OS_TENANT_ID'], file: ['project_id', 'tenant_id'] },
  interface: { flags: ['--os-interface'], env: ['OS_INTERFACE', 'OS_ENDPOINT_TYPE'], file: ['interface', 'endpoint_type'] },
  default_domain_id: { flags: ['--os-default-domain-id'], env: ['OS_DEFAULT_DOMAIN_ID', 'OS_DEFAULT_DOMAIN'], file: ['default_domain_id'] },
};

function parseBool(raw: string, origin: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw new HostmaintError('config', `${origin} must be true or false (got an unrecognised value)`, {
    hint: `Set ${origin} to true or false.`,
  });
}

export function flagSettings(overrides: Record<string, unknown>): Settings {
  const out: Settings = {};
  for (const k of KEYS) {
    const names = ALIASES[k]?.flags ?? [flagName(k)];
    for (const name of names) {
      const raw = overrides[camel(name)];
      if (raw === undefined || raw === null) continue;
      if (k === 'insecure') {
        if (typeof raw !== 'boolean') throw new HostmaintError('usage', `${name} takes no value`);
        out.insecure = { value: raw, origin: name, layer: 'flag' };
        break;
      }
      if (typeof raw !== 'string') {
        throw new HostmaintError('usage', `${name} must be given once, as text${Array.isArray(raw) ? ' (it was given more than once)' : ''}`);
      }
      if (raw === '') continue;
      out[k] = { value: raw, origin: name, layer: 'flag' };
      break;
    }
  }
  return out;
}

export function envSettings(env: Env): Settings {
  const out: Settings = {};
  for (const k of KEYS) {
    const names = ALIASES[k]?.env ?? [envName(k)];
    for (const name of names) {
      const raw = env[name];
      if (raw === undefined || raw === '') continue;
      out[k] = { value: k === 'insecure' ? parseBool(raw, name) : raw, origin: name, layer: 'env' };
      break;
    }
  }
  return out;
}

export function fileSettings(cfg: CloudsConfig, cloudName: string): Settings {
  const cloud = cfg.clouds[cloudName] ?? {};
  const auth = (cloud.auth ?? {}) as Record<string, unknown>;
  const secureCloud = (cfg.secureFile?.data.clouds[cloudName] ?? {}) as Record<string, unknown>;
  const secureAuth = (secureCloud.auth ?? {}) as Record<string, unknown>;
  const label = (inAuth: boolean, key: string): string => {
    const fromSecure = inAuth ? key in secureAuth : key in secureCloud;
    const file = fromSecure ? cfg.secureFile?.path : cfg.cloudsFile?.path;
    const base = fromSecure ? 'secure.yaml' : 'clouds.yaml';
    return `${base} (${file ?? '?'}): clouds.${cloudName}.${inAuth ? 'auth.' : ''}${key}`;
  };
  const out: Settings = {};
  const put = (k: Key, value: unknown, origin: string) => {
    if (typeof value === 'string' && value !== '') out[k] = { value, origin, layer: 'file' };
    else if (typeof value === 'boolean') out[k] = { value, origin, layer: 'file' };
  };
  // The auth block's keys except the project scope, which is read below with its aliases.
  for (const k of AUTH_SETTINGS) if (k !== 'project_name' && k !== 'project_id') put(k, auth[k], label(true, k));
  for (const k of ['project_name', 'project_id'] as const) {
    for (const name of ALIASES[k]?.file ?? []) {
      if (auth[name] !== undefined) {
        put(k, auth[name], label(true, name));
        break;
      }
    }
  }
  // openstacksdk also accepts domain_name / domain_id / auth_type at the cloud's top level.
  for (const k of ['domain_name', 'domain_id'] as const) if (!out[k]) put(k, cloud[k], label(false, k));
  put('auth_type', cloud.auth_type, label(false, 'auth_type'));
  if (typeof cloud.region_name === 'string') put('region_name', cloud.region_name, label(false, 'region_name'));
  else if (Array.isArray(cloud.regions) && cloud.regions.length > 0) {
    const first: unknown = cloud.regions[0];
    const name = typeof first === 'string' ? first : (first as { name?: unknown }).name;
    put('region_name', name, label(false, 'regions[0]'));
  }
  for (const name of ALIASES.interface?.file ?? []) {
    if (cloud[name] !== undefined) {
      put('interface', cloud[name], label(false, name));
      break;
    }
  }
  put('cacert', cloud.cacert, label(false, 'cacert'));
  if (typeof cloud.insecure === 'boolean') put('insecure', cloud.insecure, label(false, 'insecure'));
  if (cloud.verify === false) put('insecure', true, label(false, 'verify'));
  else if (cloud.verify === true) put('insecure', false, label(false, 'verify'));
  else if (typeof cloud.verify === 'string') {
    const v = cloud.verify.trim().toLowerCase();
    if (v === 'false' || v === 'true') put('insecure', v === 'false', label(false, 'verify'));
    else if (!out.cacert) put('cacert', cloud.verify, label(false, 'verify'));
  }
  if (cloud.identity_api_version !== undefined) put('identity_api_version', String(cloud.identity_api_version), label(false, 'identity_api_version'));
  return out;
}

/** True when the settings name a cloud (an auth URL or a credential; region, interface and TLS alone do not). */
export function describesCloud(s: Settings): boolean {
  return DESCRIBING_KEYS.some((k) => s[k] !== undefined);
}

/** Field by field: flags > environment > files; a warning where the environment overrides a file's value. */
export function layerSettings(fromFlags: Settings, fromEnv: Settings, fromFile: Settings, warnings: string[]): Settings {
  const s: Settings = {};
  for (const k of KEYS) {
    const chosen = fromFlags[k] ?? fromEnv[k] ?? fromFile[k];
    if (chosen) s[k] = chosen;
    const file = fromFile[k];
    const envv = fromEnv[k];
    if (file && envv && !fromFlags[k] && envv.value !== file.value) {
      warnings.push(`${envv.origin} from the environment overrides ${file.origin}${SECRET_KEYS.has(k) ? '' : ` ('${String(file.value)}' -> '${String(envv.value)}')`}`);
    }
  }
  return s;
}

/** The value of a text setting. */
export const str = (s: Settings, k: Key): string | undefined => {
  const v = s[k]?.value;
  return typeof v === 'string' ? v : undefined;
};
