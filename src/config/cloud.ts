/**
 * Where the cloud comes from. hostmaint reads the same configuration the
 * OpenStack clients read, with the same precedence as openstackclient:
 *
 *   command-line flags  >  OS_* environment (openrc)  >  clouds.yaml + secure.yaml
 *
 * A cloud chosen with `--os-cloud NAME` / `OS_CLOUD=NAME` comes from
 * clouds.yaml (secure.yaml merged over it), with OS_* variables and flags laid
 * over it field by field (a warning says when an OS_* variable overrides a value
 * from the file). Without a cloud name, OS_* variables and flags describe the
 * cloud on their own, as after `source admin-openrc.sh`.
 *
 * The result, a ResolvedCloud, carries the secret (password, application
 * credential secret or token) for the identity layer, but is safe to log:
 * `JSON.stringify` and `util.inspect` of its `auth` show no secret, and
 * `describeCloud()` names the cloud without one.
 */
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { HostmaintError } from '../core/errors.js';
import { loadCloudsConfig, schemaError, type CloudsConfig, type ConfigSearch, type Env } from './cloud-files.js';
import { AUTH_KEYS } from './cloud-schema.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface PasswordAuth {
  type: 'password';
  username?: string;
  userId?: string;
  password: string;
  userDomainName?: string;
  userDomainId?: string;
}

export interface ApplicationCredentialAuth {
  type: 'applicationcredential';
  id?: string;
  name?: string;
  secret: string;
  /** Owner of a credential given by name (name + user is how Keystone finds it). */
  username?: string;
  userId?: string;
  userDomainName?: string;
  userDomainId?: string;
}

export interface TokenAuth {
  type: 'token';
  token: string;
}

export type CloudAuth = PasswordAuth | ApplicationCredentialAuth | TokenAuth;

export interface ResolvedCloud {
  /** The clouds.yaml name, "environment" (OS_*) or "command-line" (flags only). */
  name: string;
  /** Keystone v3 URL, always ending in /v3 (or /v3.x). */
  authUrl: string;
  auth: CloudAuth;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  regionName: string | null;
  interface: EndpointInterface;
  /** Absolute path of a CA bundle (PEM) to verify TLS with, or null for the system CAs. */
  cacert: string | null;
  /** TLS verification off. */
  insecure: boolean;
  /** Things the user should know (old /v2.0 URL rewritten, env overriding a file value ...). */
  warnings: string[];
  /** Where it came from, e.g. "clouds.yaml (/root/.config/openstack/clouds.yaml) cloud 'lab'" or "environment (OS_*)". */
  source: string;
}

/** Cloud flags as yargs gives them (camelCased `--os-*` names). */
export interface FlagOverrides {
  osCloud?: string;
  osAuthUrl?: string;
  osAuthType?: string;
  osUsername?: string;
  osUserId?: string;
  osPassword?: string;
  osProjectName?: string;
  osTenantName?: string;
  osProjectId?: string;
  osTenantId?: string;
  osUserDomainName?: string;
  osUserDomainId?: string;
  osProjectDomainName?: string;
  osProjectDomainId?: string;
  osDomainName?: string;
  osDomainId?: string;
  osDefaultDomainName?: string;
  osDefaultDomainId?: string;
  osApplicationCredentialId?: string;
  osApplicationCredentialName?: string;
  osApplicationCredentialSecret?: string;
  osToken?: string;
  osRegionName?: string;
  osInterface?: string;
  osCacert?: string;
  osIdentityApiVersion?: string;
  insecure?: boolean;
}

export interface ResolveOptions {
  cwd?: string;
  home?: string;
  /** Defaults to /etc/openstack. */
  systemDir?: string;
}

// ------------------------------------------------------------------ settings

const KEYS = [
  'auth_url',
  'auth_type',
  'username',
  'user_id',
  'password',
  'project_name',
  'project_id',
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
  'region_name',
  'interface',
  'cacert',
  'insecure',
  'identity_api_version',
] as const;
type Key = (typeof KEYS)[number];

const SECRET_KEYS: ReadonlySet<Key> = new Set(['password', 'application_credential_secret', 'token']);

/** Keys that mean "a cloud was described" (region, interface, TLS alone do not). */
const DESCRIBING_KEYS: readonly Key[] = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'project_name',
  'project_id',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
  'token',
];

interface Setting {
  value: string | boolean;
  /** Where the value came from, for messages: `--os-password`, `OS_PASSWORD`, `clouds.yaml (path): clouds.lab.auth.password`. */
  origin: string;
  layer: 'flag' | 'env' | 'file';
}
type Settings = Partial<Record<Key, Setting>>;

const flagName = (k: Key): string => (k === 'insecure' ? '--insecure' : `--os-${k.replace(/_/g, '-')}`);
const envName = (k: Key): string => `OS_${k.toUpperCase()}`;
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

function flagSettings(overrides: Record<string, unknown>): Settings {
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

function envSettings(env: Env): Settings {
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

function fileSettings(cfg: CloudsConfig, cloudName: string): Settings {
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
  const SCOPE = new Set<string>(['project_name', 'project_id', 'tenant_name', 'tenant_id', 'system_scope']);
  const AUTH_SIDE = AUTH_KEYS.filter((k) => !SCOPE.has(k)) as Key[];
  for (const k of AUTH_SIDE) put(k, auth[k], label(true, k));
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

// ------------------------------------------------------------------ public API

function searchFor(env: Env, opts: ResolveOptions): ConfigSearch {
  return {
    cwd: opts.cwd ?? process.cwd(),
    home: opts.home ?? os.homedir(),
    env,
    systemDir: opts.systemDir ?? '/etc/openstack',
  };
}

function cloudNameOf(overrides: Record<string, unknown>, env: Env): string | null {
  const flag = overrides.osCloud;
  if (flag !== undefined && flag !== null && flag !== '') {
    if (typeof flag !== 'string') throw new HostmaintError('usage', '--os-cloud must be given once, as a name');
    return flag;
  }
  return env.OS_CLOUD ? env.OS_CLOUD : null;
}

/** The cloud name reserved for the built-in emulated cloud. */
export const DEMO_CLOUD = 'demo';

/**
 * True when `--os-cloud demo` / `OS_CLOUD=demo` asks for the built-in emulated
 * cloud: the name is `demo` and no clouds.yaml / secure.yaml defines a cloud of
 * that name. (A broken clouds.yaml gives false, so resolveCloud reports it.)
 */
export function isBuiltinDemo(overrides: FlagOverrides | Record<string, unknown>, env: Env = process.env, opts: ResolveOptions = {}): boolean {
  let name: string | null;
  try {
    name = cloudNameOf(overrides as Record<string, unknown>, env);
  } catch {
    return false;
  }
  if (name !== DEMO_CLOUD) return false;
  try {
    const cfg = loadCloudsConfig(searchFor(env, opts));
    return !Object.hasOwn(cfg.clouds, DEMO_CLOUD);
  } catch {
    return false;
  }
}

/**
 * Resolve the cloud to talk to from flags, environment and files (in that
 * precedence). Throws `config` errors (and `usage` for malformed flags) that
 * say what is wrong and how to fix it; no error message contains a secret.
 */
export function resolveCloud(
  overrides: FlagOverrides | Record<string, unknown>,
  env: Env = process.env,
  opts: ResolveOptions = {},
): ResolvedCloud {
  const flags = overrides as Record<string, unknown>;
  const search = searchFor(env, opts);
  const warnings: string[] = [];
  const fromFlags = flagSettings(flags);
  const fromEnv = envSettings(env);
  const cloudName = cloudNameOf(flags, env);
  let fromFile: Settings = {};
  let name: string;
  let source: string;

  if (cloudName !== null) {
    const cfg = loadCloudsConfig(search);
    if (!Object.hasOwn(cfg.clouds, cloudName)) {
      if (cloudName === DEMO_CLOUD) {
        throw new HostmaintError('config', "The cloud name 'demo' is the built-in emulated cloud and is not defined in any clouds.yaml", {
          hint: 'Run hostmaint with --os-cloud demo to use it (the CLI starts the emulator), or define a cloud named demo in clouds.yaml.',
          details: { builtinDemo: true },
        });
      }
      throw unknownCloud(cloudName, cfg);
    }
    for (const file of [cfg.cloudsFile, cfg.secureFile]) {
      if (!file) continue;
      const mine = file.problems.filter((p) => p.cloud === cloudName);
      if (mine.length) throw schemaError(file.path, mine);
      const others = [...new Set(file.problems.filter((p) => p.cloud !== cloudName).map((p) => p.cloud))];
      for (const other of others) {
        const list = file.problems.filter((p) => p.cloud === other).map((p) => `${p.path} ${p.message}`);
        warnings.push(`${file.path}: cloud '${other}' (not in use) has problems: ${list.join('; ')}`);
      }
    }
    fromFile = fileSettings(cfg, cloudName);
    name = cloudName;
    const secure = cfg.secureFile && Object.hasOwn(cfg.secureFile.data.clouds, cloudName) ? ` + secure.yaml (${cfg.secureFile.path})` : '';
    source = cfg.cloudsFile && Object.hasOwn(cfg.cloudsFile.data.clouds, cloudName)
      ? `clouds.yaml (${cfg.cloudsFile.path})${secure} cloud '${cloudName}'`
      : `secure.yaml (${cfg.secureFile?.path ?? '?'}) cloud '${cloudName}'`;
  } else {
    const describes = (s: Settings) => DESCRIBING_KEYS.some((k) => s[k] !== undefined);
    if (!describes(fromEnv) && !describes(fromFlags)) throw nothingConfigured(search);
    name = describes(fromEnv) ? 'environment' : 'command-line';
    source = describes(fromEnv) ? 'environment (OS_*)' : 'command-line flags';
  }
  if (Object.keys(fromFlags).length > 0 && name !== 'command-line') source += ' with command-line overrides';

  // Field by field: flags > environment > files.
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
  return build(name, source, s, warnings, search);
}

function unknownCloud(name: string, cfg: CloudsConfig): HostmaintError {
  const defined = Object.keys(cfg.clouds).sort();
  const files = [cfg.cloudsFile?.path, cfg.secureFile?.path].filter((p): p is string => !!p);
  const where = files.length ? ` in ${files.join(' or ')}` : ': no clouds.yaml was found';
  const list = defined.length ? ` Clouds defined: ${defined.map((d) => `'${d}'`).join(', ')}.` : files.length ? ' It defines no clouds.' : '';
  return new HostmaintError('config', `Cloud '${name}' is not defined${where}.${list} Looked for clouds.yaml in: ${cfg.searchedText}.`, {
    hint: `Check the name given with --os-cloud / OS_CLOUD, or add '${name}' to clouds.yaml. ('--os-cloud demo' runs the built-in emulated cloud.)`,
    details: { cloud: name, definedClouds: defined, files, searched: cfg.searched },
  });
}

function nothingConfigured(search: ConfigSearch): HostmaintError {
  let cfg: CloudsConfig | null = null;
  try {
    cfg = loadCloudsConfig(search);
  } catch {
    cfg = null;
  }
  const defined = cfg ? Object.keys(cfg.clouds).sort() : [];
  const found = defined.length && cfg?.cloudsFile ? ` ${cfg.cloudsFile.path} defines ${defined.map((d) => `'${d}'`).join(', ')}: choose one with --os-cloud NAME.` : '';
  const searched = cfg?.searched ?? [];
  return new HostmaintError(
    'config',
    `No OpenStack cloud is configured: no --os-cloud / OS_CLOUD, and no OS_AUTH_URL or other OS_* credentials in the environment.${found}`,
    {
      hint:
        'Either put your cloud in clouds.yaml (./clouds.yaml, ~/.config/openstack/clouds.yaml or /etc/openstack/clouds.yaml) ' +
        'and select it with --os-cloud NAME (or OS_CLOUD=NAME), or source your openrc file (it sets OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME ...). ' +
        'To try hostmaint without a cloud, use the built-in demo: --os-cloud demo',
      details: { definedClouds: defined, searched },
    },
  );
}

function missing(what: string, keys: Key[], source: string, fileKeys: string[]): HostmaintError {
  const flags = keys.map(flagName).join(' / ');
  const envs = keys.map(envName).join(' / ');
  return new HostmaintError('config', `No ${what} for the cloud from ${source}`, {
    hint: `Set ${envs} (e.g. by sourcing your openrc), ${flags}, or ${fileKeys.join(' / ')} in clouds.yaml (secrets may go in secure.yaml).`,
    details: { missing: keys },
  });
}

const str = (s: Settings, k: Key): string | undefined => {
  const v = s[k]?.value;
  return typeof v === 'string' ? v : undefined;
};

function normaliseAuthType(s: Settings): 'password' | 'applicationcredential' | 'token' {
  const raw = str(s, 'auth_type');
  if (raw === undefined) {
    if (str(s, 'application_credential_secret') !== undefined || str(s, 'application_credential_id') !== undefined) return 'applicationcredential';
    if (str(s, 'token') !== undefined && str(s, 'password') === undefined) return 'token';
    return 'password';
  }
  const t = raw.trim().toLowerCase().replace(/-/g, '_');
  if (t === 'password' || t === 'v3password') return 'password';
  if (t === 'v3applicationcredential' || t === 'applicationcredential' || t === 'v3_application_credential' || t === 'application_credential') {
    return 'applicationcredential';
  }
  if (t === 'token' || t === 'v3token') return 'token';
  throw new HostmaintError('config', `Auth type '${raw}' (from ${s.auth_type?.origin}) is not supported`, {
    hint: 'hostmaint supports password (v3password), v3applicationcredential and token (v3token).',
  });
}

function normaliseInterface(s: Settings): EndpointInterface {
  const raw = str(s, 'interface');
  if (raw === undefined) return 'public';
  const v = raw.trim().toLowerCase().replace(/url$/, '');
  if (v === 'public' || v === 'internal' || v === 'admin') return v;
  throw new HostmaintError('config', `Interface '${raw}' (from ${s.interface?.origin}) is not one of public, internal, admin`, {
    hint: 'Use public (the default), internal or admin; publicURL / internalURL / adminURL are accepted too.',
  });
}

function normaliseAuthUrl(raw: string, origin: string, warnings: string[]): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new HostmaintError('config', `The auth URL from ${origin} is not a URL`, {
      hint: 'It looks like https://keystone.example.com:5000/v3',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HostmaintError('config', `The auth URL from ${origin} must start with http:// or https://`, {
      hint: 'It looks like https://keystone.example.com:5000/v3',
    });
  }
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  const p = url.pathname.replace(/\/+$/, '');
  if (/\/v2\.0$/.test(p)) {
    url.pathname = p.replace(/\/v2\.0$/, '/v3');
    const fixed = url.toString().replace(/\/+$/, '');
    warnings.push(
      `The auth URL from ${origin} ends in /v2.0, but Keystone's v2.0 API was removed (Queens); using ${fixed} instead. ` +
        'Update the auth URL (old openrc files still say /v2.0).',
    );
    return fixed;
  }
  url.pathname = /\/v3(\.\d+)?$/.test(p) ? p : `${p}/v3`;
  return url.toString().replace(/\/+$/, '');
}

function resolvePath(p: string, cwd: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return path.resolve(cwd, p);
}

function build(name: string, source: string, s: Settings, warnings: string[], search: ConfigSearch): ResolvedCloud {
  const authUrlRaw = str(s, 'auth_url');
  if (authUrlRaw === undefined) {
    throw new HostmaintError('config', `No auth URL for the cloud from ${source}`, {
      hint: 'Set OS_AUTH_URL (source your openrc file), --os-auth-url, or auth.auth_url in clouds.yaml and select the cloud with --os-cloud.',
      details: { missing: ['auth_url'] },
    });
  }
  const api = str(s, 'identity_api_version');
  if (api !== undefined && !/^3(\.\d+)?$/.test(api.trim())) {
    warnings.push(`Identity API version ${api} (from ${s.identity_api_version?.origin}) is not supported; using Keystone v3.`);
  }
  const authUrl = normaliseAuthUrl(authUrlRaw, s.auth_url?.origin ?? 'configuration', warnings);
  const type = normaliseAuthType(s);

  const defaultDomainId = str(s, 'default_domain_id');
  const defaultDomainName = str(s, 'default_domain_name');
  const projectName = str(s, 'project_name');
  const projectId = str(s, 'project_id');
  const hasProject = projectName !== undefined || projectId !== undefined;
  // openstacksdk: with a project, domain_name / domain_id are shorthand for both user and project domain.
  const domainId = str(s, 'domain_id');
  const domainName = str(s, 'domain_name');

  function domainFor(nameKey: Key, idKey: Key): { name?: string; id?: string } {
    const n = str(s, nameKey);
    const i = str(s, idKey);
    if (n !== undefined || i !== undefined) return { ...(n !== undefined ? { name: n } : {}), ...(i !== undefined ? { id: i } : {}) };
    if (domainName !== undefined || domainId !== undefined) return domainId !== undefined ? { id: domainId } : { name: domainName as string };
    if (defaultDomainName !== undefined || defaultDomainId !== undefined) {
      return defaultDomainId !== undefined ? { id: defaultDomainId } : { name: defaultDomainName as string };
    }
    return { name: 'Default' };
  }

  let auth: CloudAuth;
  const username = str(s, 'username');
  const userId = str(s, 'user_id');
  const userDomain = (): Pick<PasswordAuth, 'userDomainName' | 'userDomainId'> => {
    if (userId !== undefined && username === undefined) return {};
    const d = domainFor('user_domain_name', 'user_domain_id');
    return { ...(d.name !== undefined ? { userDomainName: d.name } : {}), ...(d.id !== undefined ? { userDomainId: d.id } : {}) };
  };
  if (type === 'password') {
    const password = str(s, 'password');
    if (username === undefined && userId === undefined) throw missing('user name', ['username', 'user_id'], source, ['auth.username', 'auth.user_id']);
    if (password === undefined) throw missing('password', ['password'], source, ['auth.password']);
    auth = { type: 'password', ...(username !== undefined ? { username } : {}), ...(userId !== undefined ? { userId } : {}), password, ...userDomain() };
  } else if (type === 'applicationcredential') {
    const secret = str(s, 'application_credential_secret');
    const id = str(s, 'application_credential_id');
    const acName = str(s, 'application_credential_name');
    if (secret === undefined) {
      throw missing('application credential secret', ['application_credential_secret'], source, ['auth.application_credential_secret']);
    }
    if (id === undefined && acName === undefined) {
      throw missing('application credential id or name', ['application_credential_id', 'application_credential_name'], source, [
        'auth.application_credential_id',
        'auth.application_credential_name',
      ]);
    }
    if (id === undefined && username === undefined && userId === undefined) {
      throw new HostmaintError('config', `The application credential '${acName}' is given by name, but no user owns it (cloud from ${source})`, {
        hint: 'Give its id (OS_APPLICATION_CREDENTIAL_ID) instead, or also the user (OS_USERNAME + OS_USER_DOMAIN_NAME, or OS_USER_ID).',
      });
    }
    auth = {
      type: 'applicationcredential',
      ...(id !== undefined ? { id } : {}),
      ...(id === undefined && acName !== undefined ? { name: acName } : {}),
      secret,
      ...(id === undefined && username !== undefined ? { username } : {}),
      ...(id === undefined && userId !== undefined ? { userId } : {}),
      ...(id === undefined ? userDomain() : {}),
    };
  } else {
    const token = str(s, 'token');
    if (token === undefined) throw missing('token', ['token'], source, ['auth.token']);
    auth = { type: 'token', token };
  }

  if (type !== 'applicationcredential' && !hasProject) {
    const domainScoped = domainName !== undefined || domainId !== undefined;
    throw new HostmaintError('config', `No project for the cloud from ${source}${domainScoped ? ' (a domain alone would give a domain-scoped token)' : ''}`, {
      hint:
        'hostmaint needs a project-scoped token with the admin role: set OS_PROJECT_NAME (or OS_PROJECT_ID), --os-project-name, or auth.project_name in clouds.yaml.',
      details: { missing: ['project_name'] },
    });
  }

  const cloud: ResolvedCloud = {
    name,
    authUrl,
    auth: protectSecrets(auth),
    regionName: str(s, 'region_name') ?? null,
    interface: normaliseInterface(s),
    cacert: str(s, 'cacert') !== undefined ? resolvePath(str(s, 'cacert') as string, search.cwd, search.home) : null,
    insecure: s.insecure?.value === true,
    warnings,
    source,
  };
  if (type !== 'applicationcredential') {
    if (projectId !== undefined) cloud.projectId = projectId;
    if (projectName !== undefined) cloud.projectName = projectName;
    if (projectName !== undefined && projectId === undefined) {
      const d = domainFor('project_domain_name', 'project_domain_id');
      if (d.name !== undefined) cloud.projectDomainName = d.name;
      if (d.id !== undefined) cloud.projectDomainId = d.id;
    }
  }
  if (cloud.insecure && cloud.cacert) {
    warnings.push(`TLS verification is off (${s.insecure?.origin}), so the CA bundle ${cloud.cacert} is not used.`);
  }
  return cloud;
}

// ------------------------------------------------------------------ safe to log

const SECRET_FIELDS = ['password', 'secret', 'token'] as const;

/** The auth object with its secrets shown as [REDACTED]. */
export function redactedAuth(auth: CloudAuth): Record<string, unknown> {
  const out: Record<string, unknown> = { ...auth };
  for (const f of SECRET_FIELDS) if (f in out) out[f] = '[REDACTED]';
  return out;
}

/**
 * Give the auth object a `toJSON` and an `inspect` view without the secret
 * (non-enumerable, so copies of the data stay plain). JSON.stringify(cloud),
 * console.log(cloud) and winston meta then never show the secret.
 */
export function protectSecrets<T extends CloudAuth>(auth: T): T {
  Object.defineProperty(auth, 'toJSON', { value: () => redactedAuth(auth), enumerable: false, configurable: true });
  Object.defineProperty(auth, inspect.custom, { value: () => redactedAuth(auth), enumerable: false, configurable: true });
  return auth;
}

/** The secret strings of a cloud (for scrubbers and tests). */
export function cloudSecrets(cloud: ResolvedCloud): string[] {
  const a = cloud.auth as Partial<Record<(typeof SECRET_FIELDS)[number], string>>;
  return SECRET_FIELDS.map((f) => a[f]).filter((v): v is string => typeof v === 'string' && v.length > 0);
}

function domainText(name?: string, id?: string): string {
  return name !== undefined ? name : id !== undefined ? `id ${id}` : '';
}

/** One line naming the cloud, user and project: never a secret. */
export function describeCloud(c: ResolvedCloud): string {
  const parts: string[] = [];
  const a = c.auth;
  if (a.type === 'password') {
    const who = a.username !== undefined ? `user '${a.username}'` : `user id ${a.userId}`;
    const dom = domainText(a.userDomainName, a.userDomainId);
    parts.push(`${who}${dom ? ` (domain ${dom})` : ''}`);
  } else if (a.type === 'applicationcredential') {
    parts.push(a.id !== undefined ? `application credential ${a.id}` : `application credential '${a.name}' of user '${a.username ?? a.userId}'`);
  } else {
    parts.push('an existing token');
  }
  if (c.projectName !== undefined || c.projectId !== undefined) {
    const proj = c.projectName !== undefined ? `project '${c.projectName}'` : `project id ${c.projectId}`;
    const dom = domainText(c.projectDomainName, c.projectDomainId);
    parts.push(`${proj}${dom && c.projectName !== undefined ? ` (domain ${dom})` : ''}`);
  }
  parts.push(`region ${c.regionName ?? '(any)'}`, `${c.interface} endpoints`);
  if (c.insecure) parts.push('TLS verification OFF');
  else if (c.cacert) parts.push(`CA ${c.cacert}`);
  return `cloud '${c.name}' at ${c.authUrl}: ${parts.join(', ')} [from ${c.source}]`;
}
