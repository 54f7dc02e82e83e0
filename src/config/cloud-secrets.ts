/**
 * A cloud, safe to log: its auth object shows no secret through JSON or
 * util.inspect, and describeCloud() names it without one.
 */
import { inspect } from 'node:util';
import type { CloudAuth, ResolvedCloud } from './cloud-types.js';

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
