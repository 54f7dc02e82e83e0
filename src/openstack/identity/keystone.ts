/**
 * Keystone v3 authentication: `POST /v3/auth/tokens` with the password,
 * application credential or token method; the token comes back in the
 * `X-Subject-Token` header, the catalog, user, project and roles in the body.
 *
 * Failures say who was rejected and what to check, and never contain the
 * password, the secret or a token. Keystone answers 401 both for a wrong
 * password and for a project the user cannot use; when a scoped request is
 * refused, an unscoped one tells the two apart.
 */
import type { ResolvedCloud } from '../../config/cloud-types.js';
import { HostmaintError, HttpError, isHttpError } from '../../core/errors.js';
import type { ServiceClient } from '../service-client.js';
import { tlsReason } from '../http-errors.js';
import { scrub } from '../redact.js';
import { parseCatalog, type CatalogService } from './catalog.js';

export interface AuthUser {
  id: string;
  name: string | null;
  domainId: string | null;
  domainName: string | null;
}

export interface AuthProject {
  id: string;
  name: string | null;
  domainId: string | null;
  domainName: string | null;
}

export interface AuthResult {
  /** The token (non-enumerable: JSON.stringify / inspect of an AuthResult do not show it). */
  readonly token: string;
  /** Expiry and issue time as the server wrote them (ms since the epoch), when given. */
  expiresAt: number | null;
  issuedAt: number | null;
  user: AuthUser;
  project: AuthProject | null;
  roles: string[];
  catalog: CatalogService[];
  methods: string[];
  /** Set when the token came from an application credential. */
  applicationCredential: { id: string | null; name: string | null } | null;
}

type Json = Record<string, unknown>;

function domain(name?: string, id?: string): Json {
  return id !== undefined ? { id } : { name: name ?? 'Default' };
}

/** The JSON body Keystone receives for this cloud's credentials. */
export function authRequestBody(cloud: ResolvedCloud, opts: { unscoped?: boolean } = {}): Json {
  const a = cloud.auth;
  let identity: Json;
  if (a.type === 'password') {
    const user: Json = a.userId !== undefined && a.username === undefined ? { id: a.userId } : { name: a.username, domain: domain(a.userDomainName, a.userDomainId) };
    if (a.userId !== undefined && a.username !== undefined) user.id = a.userId;
    user.password = a.password;
    identity = { methods: ['password'], password: { user } };
  } else if (a.type === 'applicationcredential') {
    const ac: Json = {};
    if (a.id !== undefined) ac.id = a.id;
    else {
      ac.name = a.name;
      ac.user = a.userId !== undefined && a.username === undefined ? { id: a.userId } : { name: a.username, domain: domain(a.userDomainName, a.userDomainId) };
    }
    ac.secret = a.secret;
    identity = { methods: ['application_credential'], application_credential: ac };
  } else {
    identity = { methods: ['token'], token: { id: a.token } };
  }
  const auth: Json = { identity };
  // An application credential carries its own scope; Keystone refuses a scope with it.
  if (a.type !== 'applicationcredential' && !opts.unscoped) {
    if (cloud.projectId !== undefined) auth.scope = { project: { id: cloud.projectId } };
    else if (cloud.projectName !== undefined) auth.scope = { project: { name: cloud.projectName, domain: domain(cloud.projectDomainName, cloud.projectDomainId) } };
  }
  return { auth };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const time = (v: unknown): number | null => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : null;
};

/** Parse a 201 from POST /v3/auth/tokens. */
export function parseAuthResponse(subjectToken: string, body: unknown): AuthResult {
  const token = ((body ?? {}) as Json).token as Json | undefined;
  if (!token || typeof token !== 'object') {
    throw new HostmaintError('server-error', 'Keystone answered POST /auth/tokens without a token document');
  }
  const user = (token.user ?? {}) as Json;
  const userDomain = (user.domain ?? {}) as Json;
  const project = token.project as Json | undefined;
  const projectDomain = (project?.domain ?? {}) as Json;
  const ac = token.application_credential as Json | undefined;
  const result = {
    expiresAt: time(token.expires_at),
    issuedAt: time(token.issued_at),
    user: { id: str(user.id) ?? '', name: str(user.name), domainId: str(userDomain.id), domainName: str(userDomain.name) },
    project:
      project && typeof project === 'object'
        ? { id: str(project.id) ?? '', name: str(project.name), domainId: str(projectDomain.id), domainName: str(projectDomain.name) }
        : null,
    roles: Array.isArray(token.roles) ? token.roles.map((r) => str((r as Json)?.name)).filter((r): r is string => r !== null) : [],
    catalog: parseCatalog(token.catalog),
    methods: Array.isArray(token.methods) ? token.methods.filter((m): m is string => typeof m === 'string') : [],
    applicationCredential: ac && typeof ac === 'object' ? { id: str(ac.id), name: str(ac.name) } : null,
  } as AuthResult;
  Object.defineProperty(result, 'token', { value: subjectToken, enumerable: false });
  return result;
}

function secretsOf(cloud: ResolvedCloud): string[] {
  const a = cloud.auth;
  return a.type === 'password' ? [a.password] : a.type === 'applicationcredential' ? [a.secret] : [a.token];
}

function who(cloud: ResolvedCloud): string {
  const a = cloud.auth;
  const dom = (n?: string, i?: string) => (n !== undefined ? n : i !== undefined ? `id ${i}` : undefined);
  if (a.type === 'applicationcredential') {
    return a.id !== undefined ? `application credential ${a.id}` : `application credential '${a.name}' of user '${a.username ?? a.userId}'`;
  }
  const project =
    cloud.projectName !== undefined ? `project '${cloud.projectName}'` : cloud.projectId !== undefined ? `project id ${cloud.projectId}` : 'no project';
  const projectDomain = cloud.projectName !== undefined ? dom(cloud.projectDomainName, cloud.projectDomainId) : undefined;
  if (a.type === 'token') return `the given token in ${project}${projectDomain ? ` (domain ${projectDomain})` : ''}`;
  const user = a.username !== undefined ? `user '${a.username}'` : `user id ${a.userId}`;
  const userDomain = a.username !== undefined ? dom(a.userDomainName, a.userDomainId) : undefined;
  if (userDomain && projectDomain && userDomain === projectDomain) return `${user} in ${project} (domain ${userDomain})`;
  return `${user}${userDomain ? ` (domain ${userDomain})` : ''} in ${project}${projectDomain ? ` (domain ${projectDomain})` : ''}`;
}

function credentialHint(cloud: ResolvedCloud): string {
  switch (cloud.auth.type) {
    case 'password':
      return (
        'Check the password (OS_PASSWORD, --os-password, or auth.password in clouds.yaml / secure.yaml), the user name and its domain ' +
        '(OS_USERNAME, OS_USER_DOMAIN_NAME). Keystone does not say which one is wrong; a disabled user looks the same.'
      );
    case 'applicationcredential':
      return 'Check the application credential id/name and secret (OS_APPLICATION_CREDENTIAL_*); it may have expired or been deleted (`openstack application credential list`).';
    default:
      return 'The token is expired, revoked, or not valid for that project; get a new one (`openstack token issue`).';
  }
}

/**
 * Authenticate against Keystone v3 (`client` is the identity ServiceClient on
 * the auth URL, without a token source).
 */
export async function authenticate(client: ServiceClient, cloud: ResolvedCloud, opts: { signal?: AbortSignal | undefined } = {}): Promise<AuthResult> {
  const secrets = secretsOf(cloud);
  try {
    return await post(client, authRequestBody(cloud), opts.signal);
  } catch (e) {
    throw await explain(e, client, cloud, secrets, opts.signal);
  }
}

async function post(client: ServiceClient, body: Json, signal: AbortSignal | undefined): Promise<AuthResult> {
  // Issuing a token changes nothing that a repeat would break: safe to retry.
  const res = await client.request<unknown>({ method: 'POST', path: '/auth/tokens', body, idempotent: true, signal });
  const subject = res.headers['x-subject-token'];
  if (!subject) {
    throw new HttpError('server-error', `Keystone answered ${res.status} to POST /auth/tokens without an X-Subject-Token header`, {
      status: res.status,
      method: 'POST',
      url: `${client.endpoint}/auth/tokens`,
      service: 'identity',
      requestId: res.requestId ?? undefined,
    });
  }
  return parseAuthResponse(subject, res.data);
}

/** Turn a failed POST /auth/tokens into an error that says what to fix. */
async function explain(e: unknown, client: ServiceClient, cloud: ResolvedCloud, secrets: string[], signal: AbortSignal | undefined): Promise<unknown> {
  if (!isHttpError(e)) return e;
  const facts = { status: e.status, method: e.method, url: e.url, service: e.service, requestId: e.requestId, faultMessage: e.faultMessage ? scrub(e.faultMessage, secrets) : undefined };
  const make = (kind: HttpError['kind'], message: string, hint: string, details: Record<string, unknown> = {}) =>
    new HttpError(kind, scrub(message, secrets), facts, { cause: e, hint: scrub(hint, secrets), retryable: e.retryable, details: { authUrl: cloud.authUrl, ...details } });
  const keystoneSaid = facts.faultMessage ? ` (Keystone: ${facts.faultMessage})` : '';

  switch (e.kind) {
    case 'auth': {
      const scoped = cloud.auth.type !== 'applicationcredential' && (cloud.projectName !== undefined || cloud.projectId !== undefined);
      if (scoped) {
        // Are the credentials good without the project?
        let credentialsOk = false;
        try {
          await post(client, authRequestBody(cloud, { unscoped: true }), signal);
          credentialsOk = true;
        } catch {
          credentialsOk = false;
        }
        if (credentialsOk) {
          const project = cloud.projectName !== undefined ? `'${cloud.projectName}'` : `id ${cloud.projectId}`;
          const dom = cloud.projectName !== undefined ? ` in domain ${cloud.projectDomainName ?? `id ${cloud.projectDomainId}`}` : '';
          return make(
            'auth',
            `The cloud accepted the credentials of ${who({ ...cloud, projectName: undefined, projectId: undefined }).replace(/ in no project$/, '')} at ${cloud.authUrl}, ` +
              `but not for project ${project}${dom}: the project does not exist there, is disabled, or the user has no role on it${keystoneSaid}`,
            `Check the project name and domain (OS_PROJECT_NAME / OS_PROJECT_ID, OS_PROJECT_DOMAIN_NAME, or auth.project_name in clouds.yaml) ` +
              `and the user's role assignments (\`openstack role assignment list --names --user ...\`).`,
            { reason: 'scope' },
          );
        }
      }
      return make('auth', `The cloud rejected the credentials for ${who(cloud)} at ${cloud.authUrl}${keystoneSaid}`, credentialHint(cloud), {
        reason: 'credentials',
      });
    }
    case 'not-found':
    case 'bad-request':
      if (e.status === 404 || e.status === 405 || (e.status >= 300 && e.status < 400)) {
        return make(
          'config',
          `There is no Keystone v3 API at ${cloud.authUrl} (POST /auth/tokens answered ${e.status})`,
          'Check the auth URL (OS_AUTH_URL / --os-auth-url / auth.auth_url): it is the identity endpoint, e.g. https://keystone.example.com:5000/v3.',
        );
      }
      return make(
        'bad-request',
        `Keystone at ${cloud.authUrl} refused the authentication request for ${who(cloud)} as malformed${keystoneSaid}`,
        'Check the user and project domains (OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME) and the auth type.',
      );
    case 'forbidden':
      return make('forbidden', `Keystone at ${cloud.authUrl} refused to issue a token for ${who(cloud)}${keystoneSaid}`, credentialHint(cloud));
    case 'network':
      return make(
        'network',
        `Cannot reach Keystone at ${cloud.authUrl} (${String(e.details.code ?? 'network error')}${Number(e.details.attempts) > 1 ? `, ${String(e.details.attempts)} attempts` : ''})`,
        'Check the auth URL (OS_AUTH_URL / --os-auth-url / auth.auth_url) and that its host is reachable from here (VPN, firewall, DNS, proxy).',
        { code: e.details.code },
      );
    case 'timeout':
      return make('timeout', `Keystone at ${cloud.authUrl} did not answer in time`, 'Check the auth URL and that Keystone is healthy, or raise --timeout.');
    case 'tls':
      return make('tls', `TLS verification failed for Keystone at ${cloud.authUrl}: ${tlsReason(String(e.details.code ?? ''))} (${String(e.details.code ?? 'TLS error')})`, e.hint ?? '', {
        code: e.details.code,
      });
    default:
      return e;
  }
}
