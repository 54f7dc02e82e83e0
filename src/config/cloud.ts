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
 *
 * This file chooses the cloud and its sources; cloud-settings.ts reads and
 * layers the settings of each source, cloud-build.ts makes the ResolvedCloud
 * of them (cloud-types.ts), cloud-secrets.ts keeps it safe to log.
 */
import os from 'node:os';
import { HostmaintError } from '../core/errors.js';
import { buildCloud } from './cloud-build.js';
import { loadCloudsConfig, schemaError, type CloudsConfig, type ConfigSearch, type Env } from './cloud-files.js';
import { describesCloud, envSettings, fileSettings, flagSettings, layerSettings, type Settings } from './cloud-settings.js';
import type { FlagOverrides, ResolveOptions, ResolvedCloud } from './cloud-types.js';

export type {
  ApplicationCredentialAuth,
  CloudAuth,
  EndpointInterface,
  FlagOverrides,
  PasswordAuth,
  ResolveOptions,
  ResolvedCloud,
  TokenAuth,
} from './cloud-types.js';
export { cloudSecrets, describeCloud, protectSecrets, redactedAuth } from './cloud-secrets.js';

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
    if (!describesCloud(fromEnv) && !describesCloud(fromFlags)) throw nothingConfigured(search);
    name = describesCloud(fromEnv) ? 'environment' : 'command-line';
    source = describesCloud(fromEnv) ? 'environment (OS_*)' : 'command-line flags';
  }
  if (Object.keys(fromFlags).length > 0 && name !== 'command-line') source += ' with command-line overrides';
  return buildCloud(name, source, layerSettings(fromFlags, fromEnv, fromFile, warnings), warnings, search);
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
