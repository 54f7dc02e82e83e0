/**
 * From the layered settings to a ResolvedCloud: the auth type and the
 * credentials it needs, the user's and the project's domains, the auth URL
 * (made a Keystone v3 URL), the interface and the CA bundle. What is missing or
 * malformed is a `config` error saying where to set it; what is odd but usable
 * is a warning.
 */
import path from 'node:path';
import { HostmaintError } from '../core/errors.js';
import type { ConfigSearch } from './cloud-files.js';
import { protectSecrets } from './cloud-secrets.js';
import { envName, flagName, str, type Key, type Settings } from './cloud-settings.js';
import type { CloudAuth, EndpointInterface, PasswordAuth, ResolvedCloud } from './cloud-types.js';

function missing(what: string, keys: Key[], source: string, fileKeys: string[]): HostmaintError {
  const flags = keys.map(flagName).join(' / ');
  const envs = keys.map(envName).join(' / ');
  return new HostmaintError('config', `No ${what} for the cloud from ${source}`, {
    hint: `Set ${envs} (e.g. by sourcing your openrc), ${flags}, or ${fileKeys.join(' / ')} in clouds.yaml (secrets may go in secure.yaml).`,
    details: { missing: keys },
  });
}

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

export function buildCloud(name: string, source: string, s: Settings, warnings: string[], search: ConfigSearch): ResolvedCloud {
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
