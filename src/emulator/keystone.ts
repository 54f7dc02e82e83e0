/**
 * Emulated Keystone v3: its state (domains, projects, users, application
 * credentials, from the scenario), version documents, token issue (password,
 * application_credential, token methods), validation, revocation, and the
 * `X-Auth-Token` check every other service does (keystonemiddleware's 401).
 */
import { randomBytes } from 'node:crypto';
import type { Engine } from './engine.js';
import type { Rng } from './rng.js';
import { stableUuid } from './rng.js';
import type { Scenario } from './scenario.js';
import type { EmuRequest, EmuResponse, Obj, Route } from './http.js';
import { err, isObj, route } from './http.js';

export interface UserState {
  id: string;
  name: string;
  password: string;
  domainId: string;
  domainName: string;
  /** project id -> role names */
  roles: Map<string, string[]>;
  defaultProjectId: string | null;
}

export interface ProjectState {
  id: string;
  name: string;
  domainId: string;
  domainName: string;
}

export interface AppCredState {
  id: string;
  name: string;
  secret: string;
  userId: string;
  projectId: string;
}

/** Keystone's state: domains, projects, users and their roles, application credentials, the cloud admin. */
export class Identity {
  /** The region of every catalog endpoint. */
  readonly region: string;
  /** Lifetime of tokens issued from now on (the token-lifetime fault changes it). */
  tokenLifetimeS: number;
  readonly domains = new Map<string, { id: string; name: string }>();
  readonly projects = new Map<string, ProjectState>();
  readonly users = new Map<string, UserState>();
  readonly appCreds = new Map<string, AppCredState>();
  readonly adminUser: UserState;
  readonly adminProject: ProjectState;
  readonly adminPassword: string;

  constructor(sc: Scenario, rng: Rng) {
    this.region = sc.region ?? 'RegionOne';
    this.tokenLifetimeS = sc.keystone?.token_lifetime_s ?? 3600;
    const dflt = { id: 'default', name: 'Default' };
    this.domains.set('default', dflt);
    const domainOf = (name?: string) => {
      if (!name || name === 'Default' || name === 'default') return dflt;
      let d = [...this.domains.values()].find((x) => x.name === name);
      if (!d) {
        d = { id: rng.hex(32), name };
        this.domains.set(d.id, d);
      }
      return d;
    };
    const admin = sc.keystone?.admin ?? {};
    const adminDomain = domainOf(admin.domain);
    this.adminProject = { id: rng.hex(32), name: admin.project ?? 'admin', domainId: adminDomain.id, domainName: adminDomain.name };
    this.projects.set(this.adminProject.id, this.adminProject);
    this.adminPassword = admin.password ?? 'emulator-admin-secret';
    this.adminUser = {
      id: rng.hex(32),
      name: admin.username ?? 'admin',
      password: this.adminPassword,
      domainId: adminDomain.id,
      domainName: adminDomain.name,
      roles: new Map([[this.adminProject.id, ['admin', 'member', 'reader']]]),
      defaultProjectId: this.adminProject.id,
    };
    this.users.set(this.adminUser.id, this.adminUser);
    for (const p of sc.projects ?? []) {
      const d = domainOf(p.domain);
      const proj: ProjectState = { id: p.id ?? rng.hex(32), name: p.name, domainId: d.id, domainName: d.name };
      this.projects.set(proj.id, proj);
      for (const u of p.users ?? []) {
        const ud = domainOf(u.domain);
        const roles = u.roles ?? ['member'];
        const expanded = roles.includes('admin') ? ['admin', 'member', 'reader'] : roles.includes('member') ? ['member', 'reader'] : roles;
        this.users.set(u.id ?? `${u.name}-id`, {
          id: u.id ?? rng.hex(32),
          name: u.name,
          password: u.password,
          domainId: ud.id,
          domainName: ud.name,
          roles: new Map([[proj.id, expanded]]),
          defaultProjectId: proj.id,
        });
      }
    }
    // The cloud admin also holds the admin role on every project (as on the lab), so it can
    // boot servers into another project with a forced host.
    for (const p of this.projects.values()) this.adminUser.roles.set(p.id, ['admin', 'member', 'reader']);
    // re-key users by id
    for (const [k, u] of [...this.users]) {
      if (k !== u.id) {
        this.users.delete(k);
        this.users.set(u.id, u);
      }
    }
    for (const a of sc.application_credentials ?? []) {
      const user = this.userByName(a.user)!;
      const proj = a.project ? this.projectByName(a.project)! : this.projects.get(user.defaultProjectId ?? this.adminProject.id)!;
      const id = a.id ?? rng.hex(32);
      this.appCreds.set(id, { id, name: a.name, secret: a.secret, userId: user.id, projectId: proj.id });
    }
  }

  userByName(name: string, domainName?: string): UserState | undefined {
    for (const u of this.users.values()) if (u.name === name && (!domainName || u.domainName === domainName || u.domainId === domainName)) return u;
    return undefined;
  }

  projectByName(name: string, domainName?: string): ProjectState | undefined {
    for (const p of this.projects.values()) if (p.name === name && (!domainName || p.domainName === domainName || p.domainId === domainName)) return p;
    return undefined;
  }

  /** The first user whose default project this is (the scenario's project user), else the cloud admin. */
  userOfProject(projectId: string): UserState {
    for (const u of this.users.values()) if (u.defaultProjectId === projectId) return u;
    return this.adminUser;
  }
}

export interface TokenRecord {
  id: string;
  userId: string;
  projectId: string | null;
  roles: string[];
  methods: string[];
  issuedAt: number;
  expiresAt: number;
  auditId: string;
  appCredId: string | null;
  revoked: boolean;
}

export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();
  constructor(
    private readonly keystone: Identity,
    /** Model time (tokens are issued and expire on the model's clock). */
    private readonly time: Pick<Engine, 'now'>,
  ) {}

  issue(user: UserState, project: ProjectState | null, methods: string[], appCredId: string | null = null, expiresAt?: number): TokenRecord {
    const now = this.time.now;
    const t: TokenRecord = {
      id: `gAAAAAB${randomBytes(30).toString('base64url')}`,
      userId: user.id,
      projectId: project?.id ?? null,
      roles: project ? (user.roles.get(project.id) ?? []) : [],
      methods,
      issuedAt: now,
      expiresAt: expiresAt ?? now + this.keystone.tokenLifetimeS * 1000,
      auditId: randomBytes(16).toString('base64url').slice(0, 22),
      appCredId,
      revoked: false,
    };
    this.tokens.set(t.id, t);
    return t;
  }

  /** A valid (known, unexpired, unrevoked) token, or null. */
  check(id: string | undefined): TokenRecord | null {
    if (!id) return null;
    const t = this.tokens.get(id);
    if (!t || t.revoked) return null;
    if (this.time.now >= t.expiresAt) return null;
    return t;
  }

  revokeAll(): void {
    for (const t of this.tokens.values()) t.revoked = true;
  }

  revoke(id: string): boolean {
    const t = this.tokens.get(id);
    if (!t) return false;
    t.revoked = true;
    return true;
  }

  get size(): number {
    return this.tokens.size;
  }
}

export function isoMicro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const UNAUTH = 'The request you have made requires authentication.';

function unauthorized(req: EmuRequest, service: 'identity' | 'compute' | 'placement' | 'image', message = UNAUTH): EmuResponse {
  return err(service, 401, message, req.requestId, { 'www-authenticate': `Keystone uri="${req.baseUrl}/v3"` });
}

/** keystonemiddleware: 401 unless X-Auth-Token is a valid scoped token. */
export function authenticate(
  tokens: TokenStore,
  req: EmuRequest,
  service: 'compute' | 'placement' | 'image',
): { token: TokenRecord; isAdmin: boolean } | EmuResponse {
  const raw = req.headers['x-auth-token'];
  const id = Array.isArray(raw) ? raw[0] : raw;
  const t = tokens.check(id);
  if (!t || !t.projectId) return unauthorized(req, service);
  return { token: t, isAdmin: t.roles.includes('admin') };
}

function versionV3(base: string) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${base}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export function catalog(keystone: Identity, base: string) {
  const hexId = (s: string) => stableUuid(s).replace(/-/g, '');
  const svc = (type: string, name: string, url: string) => ({
    id: hexId(`service:${type}`),
    type,
    name,
    endpoints: ['public', 'internal', 'admin'].map((iface) => ({
      id: hexId(`endpoint:${type}:${iface}`),
      interface: iface,
      region_id: keystone.region,
      region: keystone.region,
      url,
    })),
  });
  return [
    svc('identity', 'keystone', `${base}/v3`),
    svc('compute', 'nova', `${base}/compute/v2.1`),
    svc('placement', 'placement', `${base}/placement`),
    svc('image', 'glance', `${base}/image`),
  ];
}

function tokenBody(keystone: Identity, t: TokenRecord, base: string, withCatalog: boolean) {
  const user = keystone.users.get(t.userId)!;
  const project = t.projectId ? keystone.projects.get(t.projectId)! : null;
  const body: Record<string, unknown> = {
    methods: t.methods,
    user: { domain: { id: user.domainId, name: user.domainName }, id: user.id, name: user.name, password_expires_at: null },
    audit_ids: [t.auditId],
    expires_at: isoMicro(t.expiresAt),
    issued_at: isoMicro(t.issuedAt),
  };
  if (project) {
    body['project'] = { domain: { id: project.domainId, name: project.domainName }, id: project.id, name: project.name };
    body['is_domain'] = false;
    body['roles'] = t.roles.map((r) => ({ id: `role-${r}`, name: r }));
    if (withCatalog) body['catalog'] = catalog(keystone, base);
  }
  if (t.appCredId) {
    const ac = keystone.appCreds.get(t.appCredId);
    if (ac) body['application_credential'] = { id: ac.id, name: ac.name, restricted: true };
  }
  return { token: body };
}

function findUser(keystone: Identity, u: Obj): UserState | undefined {
  if (typeof u['id'] === 'string') return keystone.users.get(u['id']);
  if (typeof u['name'] === 'string') {
    const d = isObj(u['domain']) ? u['domain'] : {};
    const dn = typeof d['name'] === 'string' ? d['name'] : typeof d['id'] === 'string' ? d['id'] : undefined;
    if (!dn) return undefined; // Keystone requires a domain with a user name
    return keystone.userByName(u['name'], dn);
  }
  return undefined;
}

function findProject(keystone: Identity, p: Obj): ProjectState | undefined {
  if (typeof p['id'] === 'string') return keystone.projects.get(p['id']);
  if (typeof p['name'] === 'string') {
    const d = isObj(p['domain']) ? p['domain'] : {};
    const dn = typeof d['name'] === 'string' ? d['name'] : typeof d['id'] === 'string' ? d['id'] : undefined;
    if (!dn) return undefined;
    return keystone.projectByName(p['name'], dn);
  }
  return undefined;
}

export function keystoneRoutes(keystone: Identity, tokens: TokenStore): Route[] {
  const versions = (req: EmuRequest): EmuResponse => ({
    status: 300,
    body: { versions: { values: [versionV3(req.baseUrl)] } },
  });

  const issue = (req: EmuRequest): EmuResponse => {
    const body = req.body;
    const bad = (m: string) => err('identity', 400, m, req.requestId);
    if (!isObj(body) || !isObj(body['auth']) || !isObj(body['auth']['identity'])) return bad("'auth' is a required property");
    const auth = body['auth'];
    const identity = auth['identity'] as Obj;
    const methods = identity['methods'];
    if (!Array.isArray(methods) || methods.length === 0) return bad("'methods' is a required property");
    const method = String(methods[0]);
    let user: UserState | undefined;
    let appCredId: string | null = null;
    let scoped: ProjectState | null | undefined = undefined;
    let expiresAt: number | undefined;
    if (method === 'password') {
      const pw = isObj(identity['password']) ? identity['password'] : null;
      const u = pw && isObj(pw['user']) ? pw['user'] : null;
      if (!u) return bad("'user' is a required property");
      user = findUser(keystone, u);
      if (!user || u['password'] !== user.password) return unauthorized(req, 'identity');
    } else if (method === 'application_credential') {
      const ac = isObj(identity['application_credential']) ? identity['application_credential'] : null;
      if (!ac) return bad("'application_credential' is a required property");
      let cred = typeof ac['id'] === 'string' ? keystone.appCreds.get(ac['id']) : undefined;
      if (!cred && typeof ac['name'] === 'string' && isObj(ac['user'])) {
        const owner = findUser(keystone, ac['user']);
        cred = [...keystone.appCreds.values()].find((c) => c.name === ac['name'] && c.userId === owner?.id);
      }
      if (!cred || ac['secret'] !== cred.secret) return unauthorized(req, 'identity');
      user = keystone.users.get(cred.userId);
      appCredId = cred.id;
      scoped = keystone.projects.get(cred.projectId) ?? null;
      if (auth['scope'] !== undefined) return unauthorized(req, 'identity', 'Cannot scope an application credential token.');
    } else if (method === 'token') {
      const tk = isObj(identity['token']) ? identity['token'] : null;
      const old = tokens.check(tk && typeof tk['id'] === 'string' ? tk['id'] : undefined);
      if (!old) return unauthorized(req, 'identity');
      user = keystone.users.get(old.userId);
      expiresAt = old.expiresAt; // a rescoped token never outlives the original
      if (auth['scope'] === undefined) scoped = old.projectId ? (keystone.projects.get(old.projectId) ?? null) : null;
    } else {
      return unauthorized(req, 'identity', `Attempted to authenticate with an unsupported method.`);
    }
    if (!user) return unauthorized(req, 'identity');
    if (scoped === undefined) {
      const scope = auth['scope'];
      if (scope === undefined || scope === 'unscoped') scoped = null;
      else if (isObj(scope) && isObj(scope['project'])) {
        const p = findProject(keystone, scope['project']);
        if (!p || !user.roles.has(p.id)) return unauthorized(req, 'identity');
        scoped = p;
      } else if (isObj(scope) && (isObj(scope['domain']) || isObj(scope['system']))) {
        return unauthorized(req, 'identity', 'Domain and system scope are not emulated.');
      } else return bad('Invalid scope');
    }
    const t = tokens.issue(user, scoped, [method], appCredId, expiresAt);
    const nocatalog = req.query.has('nocatalog');
    return { status: 201, headers: { 'x-subject-token': t.id }, body: tokenBody(keystone, t, req.baseUrl, !nocatalog) };
  };

  const validate = (req: EmuRequest): EmuResponse => {
    const caller = tokens.check(String(req.headers['x-auth-token'] ?? ''));
    if (!caller) return unauthorized(req, 'identity');
    const subjectId = String(req.headers['x-subject-token'] ?? '');
    const subject = tokens.check(subjectId);
    if (!subject) return err('identity', 404, `Could not find token: ${subjectId}.`, req.requestId);
    if (req.method === 'HEAD') return { status: 200 };
    if (req.method === 'DELETE') {
      tokens.revoke(subject.id);
      return { status: 204 };
    }
    return { status: 200, headers: { 'x-subject-token': subject.id }, body: tokenBody(keystone, subject, req.baseUrl, !req.query.has('nocatalog')) };
  };

  const projectsOfUser = (req: EmuRequest): EmuResponse => {
    const caller = tokens.check(String(req.headers['x-auth-token'] ?? ''));
    if (!caller) return unauthorized(req, 'identity');
    const user = keystone.users.get(caller.userId)!;
    const list = [...user.roles.keys()].map((pid) => keystone.projects.get(pid)!).map((p) => ({ id: p.id, name: p.name, domain_id: p.domainId, enabled: true, is_domain: false }));
    return { status: 200, body: { projects: list, links: { self: req.path, next: null, previous: null } } };
  };

  /** GET /v3/projects/{id}: Keystone's identity:get_project lets an admin read any project, a member its own. */
  const getProject = (req: EmuRequest): EmuResponse => {
    const caller = tokens.check(String(req.headers['x-auth-token'] ?? ''));
    if (!caller) return unauthorized(req, 'identity');
    const id = req.params['id'] ?? '';
    if (!caller.roles.includes('admin') && caller.projectId !== id) {
      return err('identity', 403, 'You are not authorized to perform the requested action: identity:get_project.', req.requestId);
    }
    const p = keystone.projects.get(id);
    if (!p) return err('identity', 404, `Could not find project: ${id}.`, req.requestId);
    return {
      status: 200,
      body: { project: { id: p.id, name: p.name, domain_id: p.domainId, description: '', enabled: true, is_domain: false, parent_id: p.domainId, tags: [], options: {}, links: { self: `${req.baseUrl}/v3/projects/${p.id}` } } },
    };
  };

  return [
    route('GET', '/', versions),
    route('GET', '/v3/projects/:id', getProject),
    route('GET', '/v3', (req) => ({ status: 200, body: { version: versionV3(req.baseUrl) } })),
    route('POST', '/v3/auth/tokens', issue),
    route('GET', '/v3/auth/tokens', validate),
    route('HEAD', '/v3/auth/tokens', validate),
    route('DELETE', '/v3/auth/tokens', validate),
    route('GET', '/v3/auth/projects', projectsOfUser),
    route('GET', '/v3/auth/catalog', (req) => {
      const caller = tokens.check(String(req.headers['x-auth-token'] ?? ''));
      if (!caller) return unauthorized(req, 'identity');
      return { status: 200, body: { catalog: catalog(keystone, req.baseUrl) } };
    }),
  ];
}
