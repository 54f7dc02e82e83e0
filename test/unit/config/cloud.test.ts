import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { HostmaintError } from '../../../src/core/errors.js';
import { describeCloud, isBuiltinDemo, resolveCloud, type ResolveOptions, type ResolvedCloud } from '../../../src/config/index.js';

const PASSWORD = 'pw-Zq9!secret-value';

interface Dirs extends Required<ResolveOptions> {
  root: string;
  /** ~/.config/openstack */
  user: string;
}

function dirs(): Dirs {
  const root = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-config-'));
  const cwd = path.join(root, 'cwd');
  const home = path.join(root, 'home');
  const systemDir = path.join(root, 'etc-openstack');
  const user = path.join(home, '.config', 'openstack');
  for (const d of [cwd, user, systemDir]) mkdirSync(d, { recursive: true });
  return { root, cwd, home, systemDir, user };
}

function write(dir: string, name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

function opts(d: Dirs): ResolveOptions {
  return { cwd: d.cwd, home: d.home, systemDir: d.systemDir };
}

function fails(fn: () => unknown): HostmaintError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof HostmaintError, `expected a HostmaintError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

function noSecret(e: HostmaintError, secret = PASSWORD): void {
  for (const text of [e.message, e.hint ?? '', JSON.stringify(e), String(e), e.stack ?? '', inspect(e)]) {
    assert.ok(!text.includes(secret), `secret leaked in: ${text}`);
  }
}

const LAB_YAML = `
clouds:
  lab:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: admin
      password: "${PASSWORD}"
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: internal
  other:
    auth:
      auth_url: https://other.example.com:5000
      application_credential_id: ac-123
      application_credential_secret: ac-secret
    auth_type: v3applicationcredential
    verify: false
`;

describe('config: resolveCloud', () => {
  let d: Dirs;
  beforeEach(() => {
    d = dirs();
  });
  afterEach(() => {
    rmSync(d.root, { recursive: true, force: true });
  });

  describe('clouds.yaml locations', () => {
    it('reads ~/.config/openstack/clouds.yaml selected by OS_CLOUD', () => {
      const file = write(d.user, 'clouds.yaml', LAB_YAML);
      const c = resolveCloud({}, { OS_CLOUD: 'lab' }, opts(d));
      assert.equal(c.name, 'lab');
      assert.equal(c.authUrl, 'http://127.0.0.1:5000/v3');
      assert.deepEqual({ ...c.auth }, {
        type: 'password',
        username: 'admin',
        password: PASSWORD,
        userDomainName: 'Default',
      });
      assert.equal(c.projectName, 'admin');
      assert.equal(c.projectDomainName, 'Default');
      assert.equal(c.regionName, 'RegionOne');
      assert.equal(c.interface, 'internal');
      assert.equal(c.insecure, false);
      assert.equal(c.cacert, null);
      assert.equal(c.source, `clouds.yaml (${file}) cloud 'lab'`);
      assert.deepEqual(c.warnings, []);
    });

    it('prefers ./clouds.yaml over ~/.config over /etc/openstack (first found wins, no merge)', () => {
      write(d.systemDir, 'clouds.yaml', 'clouds:\n  sys:\n    auth: {auth_url: http://sys:5000, username: u, password: p, project_name: p}\n');
      write(d.user, 'clouds.yaml', 'clouds:\n  user:\n    auth: {auth_url: http://user:5000, username: u, password: p, project_name: p}\n');
      write(d.cwd, 'clouds.yaml', 'clouds:\n  here:\n    auth: {auth_url: http://here:5000, username: u, password: p, project_name: p}\n');
      assert.equal(resolveCloud({ osCloud: 'here' }, {}, opts(d)).authUrl, 'http://here:5000/v3');
      const e = fails(() => resolveCloud({ osCloud: 'user' }, {}, opts(d)));
      assert.match(e.message, /Cloud 'user' is not defined/);
      rmSync(path.join(d.cwd, 'clouds.yaml'));
      assert.equal(resolveCloud({ osCloud: 'user' }, {}, opts(d)).authUrl, 'http://user:5000/v3');
      rmSync(path.join(d.user, 'clouds.yaml'));
      assert.equal(resolveCloud({ osCloud: 'sys' }, {}, opts(d)).authUrl, 'http://sys:5000/v3');
    });

    it('reads clouds.yml and clouds.json too', () => {
      write(d.user, 'clouds.json', JSON.stringify({ clouds: { j: { auth: { auth_url: 'http://j:5000/v3', username: 'u', password: 'p', project_name: 'x' } } } }));
      assert.equal(resolveCloud({ osCloud: 'j' }, {}, opts(d)).authUrl, 'http://j:5000/v3');
    });

    it('OS_CLIENT_CONFIG_FILE comes first, and must exist', () => {
      write(d.cwd, 'clouds.yaml', LAB_YAML);
      const custom = write(d.root, 'custom.yaml', 'clouds:\n  lab:\n    auth: {auth_url: http://custom:5000/v3, username: u, password: p, project_id: pid}\n');
      const c = resolveCloud({ osCloud: 'lab' }, { OS_CLIENT_CONFIG_FILE: custom }, opts(d));
      assert.equal(c.authUrl, 'http://custom:5000/v3');
      assert.equal(c.projectId, 'pid');
      assert.equal(c.source, `clouds.yaml (${custom}) cloud 'lab'`);
      const e = fails(() => resolveCloud({ osCloud: 'lab' }, { OS_CLIENT_CONFIG_FILE: path.join(d.root, 'nope.yaml') }, opts(d)));
      assert.equal(e.kind, 'config');
      assert.match(e.message, /OS_CLIENT_CONFIG_FILE points to .*nope\.yaml/);
    });

    it('XDG_CONFIG_HOME/openstack is searched before ~/.config/openstack', () => {
      const xdg = path.join(d.root, 'xdg');
      mkdirSync(path.join(xdg, 'openstack'), { recursive: true });
      write(path.join(xdg, 'openstack'), 'clouds.yaml', 'clouds:\n  x:\n    auth: {auth_url: http://xdg:5000, username: u, password: p, project_name: p}\n');
      write(d.user, 'clouds.yaml', LAB_YAML);
      assert.equal(resolveCloud({ osCloud: 'x' }, { XDG_CONFIG_HOME: xdg }, opts(d)).authUrl, 'http://xdg:5000/v3');
    });
  });

  describe('secure.yaml', () => {
    it('deep-merges secure.yaml over clouds.yaml', () => {
      write(d.user, 'clouds.yaml', 'clouds:\n  lab:\n    auth:\n      auth_url: http://k:5000/v3\n      username: admin\n      project_name: admin\n    region_name: RegionOne\n');
      const secure = write(d.systemDir, 'secure.yaml', `clouds:\n  lab:\n    auth:\n      password: "${PASSWORD}"\n`);
      const c = resolveCloud({ osCloud: 'lab' }, {}, opts(d));
      assert.equal(c.auth.type, 'password');
      assert.equal(c.auth.type === 'password' && c.auth.password, PASSWORD);
      assert.equal(c.auth.type === 'password' && c.auth.username, 'admin');
      assert.equal(c.regionName, 'RegionOne');
      assert.match(c.source, new RegExp(`secure\\.yaml \\(${secure.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    });

    it('OS_CLIENT_SECURE_FILE names the secure file', () => {
      write(d.user, 'clouds.yaml', 'clouds:\n  lab:\n    auth: {auth_url: http://k:5000/v3, username: admin, project_name: admin}\n');
      write(d.user, 'secure.yaml', 'clouds:\n  lab:\n    auth: {password: wrong-one}\n');
      const s = write(d.root, 's.yaml', `clouds:\n  lab:\n    auth: {password: "${PASSWORD}"}\n`);
      const c = resolveCloud({ osCloud: 'lab' }, { OS_CLIENT_SECURE_FILE: s }, opts(d));
      assert.equal(c.auth.type === 'password' && c.auth.password, PASSWORD);
    });

    it('a password missing everywhere says where to put it', () => {
      write(d.user, 'clouds.yaml', 'clouds:\n  lab:\n    auth: {auth_url: http://k:5000/v3, username: admin, project_name: admin}\n');
      const e = fails(() => resolveCloud({ osCloud: 'lab' }, {}, opts(d)));
      assert.equal(e.kind, 'config');
      assert.match(e.message, /No password for the cloud from clouds\.yaml/);
      assert.match(e.hint ?? '', /OS_PASSWORD/);
      assert.match(e.hint ?? '', /secure\.yaml/);
    });
  });

  describe('environment (openrc)', () => {
    const openrc = {
      OS_AUTH_URL: 'https://keystone.example.com:5000/v3',
      OS_USERNAME: 'admin',
      OS_PASSWORD: PASSWORD,
      OS_PROJECT_NAME: 'admin',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_ID: 'default',
      OS_REGION_NAME: 'RegionOne',
      OS_INTERFACE: 'internal',
      OS_IDENTITY_API_VERSION: '3',
    };

    it('reads OS_* variables as openrc sets them', () => {
      const c = resolveCloud({}, openrc, opts(d));
      assert.equal(c.name, 'environment');
      assert.equal(c.source, 'environment (OS_*)');
      assert.equal(c.authUrl, 'https://keystone.example.com:5000/v3');
      assert.deepEqual({ ...c.auth }, { type: 'password', username: 'admin', password: PASSWORD, userDomainName: 'Default' });
      assert.equal(c.projectName, 'admin');
      assert.equal(c.projectDomainId, 'default');
      assert.equal(c.projectDomainName, undefined);
      assert.equal(c.regionName, 'RegionOne');
      assert.equal(c.interface, 'internal');
      assert.deepEqual(c.warnings, []);
    });

    it('accepts the old OS_TENANT_NAME, publicURL-style interfaces, and defaults domains to Default', () => {
      const c = resolveCloud({}, { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_TENANT_NAME: 't', OS_ENDPOINT_TYPE: 'adminURL' }, opts(d));
      assert.equal(c.projectName, 't');
      assert.equal(c.projectDomainName, 'Default');
      assert.equal(c.auth.type === 'password' && c.auth.userDomainName, 'Default');
      assert.equal(c.interface, 'admin');
      assert.equal(resolveCloud({}, { ...openrc, OS_INTERFACE: 'publicURL' }, opts(d)).interface, 'public');
      assert.equal(resolveCloud({}, { ...openrc, OS_INTERFACE: undefined }, opts(d)).interface, 'public');
    });

    it('OS_PROJECT_NAME wins over OS_TENANT_NAME; OS_PROJECT_ID and OS_USER_ID work', () => {
      const c = resolveCloud({}, { OS_AUTH_URL: 'http://k:5000/v3', OS_USER_ID: 'uid1', OS_PASSWORD: 'p', OS_PROJECT_ID: 'pid1', OS_TENANT_NAME: 'old', OS_PROJECT_NAME: 'new' }, opts(d));
      assert.deepEqual({ ...c.auth }, { type: 'password', userId: 'uid1', password: 'p' });
      assert.equal(c.projectId, 'pid1');
      assert.equal(c.projectName, 'new');
    });

    it('OS_CACERT and OS_INSECURE', () => {
      const c = resolveCloud({}, { ...openrc, OS_CACERT: 'ca.pem' }, opts(d));
      assert.equal(c.cacert, path.join(d.cwd, 'ca.pem'));
      assert.equal(resolveCloud({}, { ...openrc, OS_CACERT: '~/ca.pem' }, opts(d)).cacert, path.join(d.home, 'ca.pem'));
      assert.equal(resolveCloud({}, { ...openrc, OS_INSECURE: 'true' }, opts(d)).insecure, true);
      assert.equal(resolveCloud({}, { ...openrc, OS_INSECURE: '0' }, opts(d)).insecure, false);
      const e = fails(() => resolveCloud({}, { ...openrc, OS_INSECURE: 'maybe' }, opts(d)));
      assert.match(e.message, /OS_INSECURE must be true or false/);
    });

    it('application credential by id (OS_AUTH_TYPE=v3applicationcredential)', () => {
      const c = resolveCloud({}, {
        OS_AUTH_TYPE: 'v3applicationcredential',
        OS_AUTH_URL: 'http://k:5000/v3',
        OS_APPLICATION_CREDENTIAL_ID: 'ac1',
        OS_APPLICATION_CREDENTIAL_SECRET: 'acs',
        OS_PROJECT_NAME: 'ignored',
      }, opts(d));
      assert.deepEqual({ ...c.auth }, { type: 'applicationcredential', id: 'ac1', secret: 'acs' });
      assert.equal(c.projectName, undefined, 'an application credential carries its own scope');
    });

    it('application credential by name needs the user', () => {
      const base = { OS_AUTH_TYPE: 'v3applicationcredential', OS_AUTH_URL: 'http://k:5000/v3', OS_APPLICATION_CREDENTIAL_NAME: 'drain', OS_APPLICATION_CREDENTIAL_SECRET: 'acs' };
      const c = resolveCloud({}, { ...base, OS_USERNAME: 'ops', OS_USER_DOMAIN_NAME: 'Corp' }, opts(d));
      assert.deepEqual({ ...c.auth }, { type: 'applicationcredential', name: 'drain', secret: 'acs', username: 'ops', userDomainName: 'Corp' });
      const e = fails(() => resolveCloud({}, base, opts(d)));
      assert.match(e.message, /given by name, but no user owns it/);
      assert.ok(!e.message.includes('acs'));
    });

    it('token auth (OS_AUTH_TYPE=v3token or token alone)', () => {
      const c = resolveCloud({}, { OS_AUTH_TYPE: 'v3token', OS_AUTH_URL: 'http://k:5000/v3', OS_TOKEN: 'tok-1', OS_PROJECT_ID: 'p1' }, opts(d));
      assert.deepEqual({ ...c.auth }, { type: 'token', token: 'tok-1' });
      assert.equal(c.projectId, 'p1');
      const c2 = resolveCloud({}, { OS_AUTH_URL: 'http://k:5000/v3', OS_TOKEN: 'tok-1', OS_PROJECT_NAME: 'p' }, opts(d));
      assert.equal(c2.auth.type, 'token');
      assert.equal(resolveCloud({}, { ...openrc, OS_AUTH_TYPE: 'v3password' }, opts(d)).auth.type, 'password');
    });

    it('rejects unsupported auth types', () => {
      const e = fails(() => resolveCloud({}, { ...openrc, OS_AUTH_TYPE: 'v3oidcpassword' }, opts(d)));
      assert.equal(e.kind, 'config');
      assert.match(e.message, /Auth type 'v3oidcpassword' \(from OS_AUTH_TYPE\) is not supported/);
    });

    it('rejects an unknown interface naming where it came from', () => {
      const e = fails(() => resolveCloud({}, { ...openrc, OS_INTERFACE: 'private' }, opts(d)));
      assert.match(e.message, /Interface 'private' \(from OS_INTERFACE\)/);
    });

    it('needs a project for password auth', () => {
      const e = fails(() => resolveCloud({}, { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'u', OS_PASSWORD: PASSWORD }, opts(d)));
      assert.equal(e.kind, 'config');
      assert.match(e.message, /No project/);
      noSecret(e);
    });

    it('credentials without OS_AUTH_URL', () => {
      const e = fails(() => resolveCloud({}, { OS_USERNAME: 'u', OS_PASSWORD: PASSWORD, OS_PROJECT_NAME: 'p' }, opts(d)));
      assert.match(e.message, /No auth URL/);
      noSecret(e);
    });

    it('a domain given once applies to user and project (openstacksdk shorthand)', () => {
      const c = resolveCloud({}, { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'p', OS_DOMAIN_NAME: 'Corp' }, opts(d));
      assert.equal(c.auth.type === 'password' && c.auth.userDomainName, 'Corp');
      assert.equal(c.projectDomainName, 'Corp');
      const c2 = resolveCloud({}, { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'p', OS_DEFAULT_DOMAIN: 'default' }, opts(d));
      assert.equal(c2.auth.type === 'password' && c2.auth.userDomainId, 'default');
      assert.equal(c2.projectDomainId, 'default');
    });
  });

  describe('auth URL', () => {
    const env = (url: string) => ({ OS_AUTH_URL: url, OS_USERNAME: 'u', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'p' });
    it('rewrites /v2.0 to /v3 with a warning that says so', () => {
      const c = resolveCloud({}, env('http://keystone:5000/v2.0/'), opts(d));
      assert.equal(c.authUrl, 'http://keystone:5000/v3');
      assert.equal(c.warnings.length, 1);
      assert.match(c.warnings[0] ?? '', /ends in \/v2\.0/);
      assert.match(c.warnings[0] ?? '', /using http:\/\/keystone:5000\/v3 instead/);
    });
    it('appends /v3 to an unversioned URL, keeps /v3', () => {
      assert.equal(resolveCloud({}, env('http://keystone:5000'), opts(d)).authUrl, 'http://keystone:5000/v3');
      assert.equal(resolveCloud({}, env('https://cloud.example.com/identity/'), opts(d)).authUrl, 'https://cloud.example.com/identity/v3');
      assert.equal(resolveCloud({}, env('https://cloud.example.com/identity/v3/'), opts(d)).authUrl, 'https://cloud.example.com/identity/v3');
      assert.deepEqual(resolveCloud({}, env('http://keystone:5000'), opts(d)).warnings, []);
    });
    it('rejects something that is not a URL', () => {
      const e = fails(() => resolveCloud({}, env('keystone:5000:x'), opts(d)));
      assert.match(e.message, /OS_AUTH_URL must start with http/);
      const e2 = fails(() => resolveCloud({}, env('not a url'), opts(d)));
      assert.match(e2.message, /is not a URL/);
    });
  });

  describe('precedence: flags > environment > files', () => {
    it('environment overrides the file field by field, with a warning; flags override both', () => {
      write(d.user, 'clouds.yaml', LAB_YAML);
      const c = resolveCloud({}, { OS_CLOUD: 'lab', OS_REGION_NAME: 'RegionTwo', OS_PASSWORD: 'env-pw' }, opts(d));
      assert.equal(c.regionName, 'RegionTwo');
      assert.equal(c.auth.type === 'password' && c.auth.password, 'env-pw');
      assert.equal(c.auth.type === 'password' && c.auth.username, 'admin', 'other fields still from the file');
      assert.ok(c.warnings.some((w) => /OS_REGION_NAME from the environment overrides clouds\.yaml .*clouds\.lab\.region_name \('RegionOne' -> 'RegionTwo'\)/.test(w)), c.warnings.join('\n'));
      const pwWarning = c.warnings.find((w) => w.startsWith('OS_PASSWORD'));
      assert.ok(pwWarning, 'warns about the password override');
      assert.ok(!pwWarning.includes('env-pw') && !pwWarning.includes(PASSWORD), 'without printing either password');

      const f = resolveCloud({ osRegionName: 'RegionThree', osCloud: 'lab', osPassword: 'flag-pw', osInterface: 'admin' }, { OS_CLOUD: 'other', OS_REGION_NAME: 'RegionTwo' }, opts(d));
      assert.equal(f.name, 'lab', '--os-cloud beats OS_CLOUD');
      assert.equal(f.regionName, 'RegionThree');
      assert.equal(f.interface, 'admin');
      assert.equal(f.auth.type === 'password' && f.auth.password, 'flag-pw');
      assert.match(f.source, /with command-line overrides$/);
    });

    it('flags alone describe a cloud', () => {
      const c = resolveCloud({ osAuthUrl: 'http://k:5000', osUsername: 'u', osPassword: 'p', osProjectName: 'p', insecure: true, osCacert: '/ca.pem' }, {}, opts(d));
      assert.equal(c.name, 'command-line');
      assert.equal(c.source, 'command-line flags');
      assert.equal(c.insecure, true);
      assert.ok(c.warnings.some((w) => /CA bundle \/ca\.pem is not used/.test(w)));
    });

    it('flags override the environment', () => {
      const c = resolveCloud({ osUsername: 'flag-user', osProjectId: 'fp' }, { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'env-user', OS_PASSWORD: 'p', OS_PROJECT_NAME: 'ep' }, opts(d));
      assert.equal(c.auth.type === 'password' && c.auth.username, 'flag-user');
      assert.equal(c.projectId, 'fp');
      assert.equal(c.source, 'environment (OS_*) with command-line overrides');
    });

    it('clouds.yaml verify: false means insecure; --no-insecure turns it back on', () => {
      write(d.user, 'clouds.yaml', LAB_YAML);
      const c = resolveCloud({ osCloud: 'other' }, {}, opts(d));
      assert.equal(c.insecure, true);
      assert.deepEqual({ ...c.auth }, { type: 'applicationcredential', id: 'ac-123', secret: 'ac-secret' });
      assert.equal(resolveCloud({ osCloud: 'other', insecure: false }, {}, opts(d)).insecure, false);
    });

    it('a repeated flag is a usage error', () => {
      const e = fails(() => resolveCloud({ osPassword: [PASSWORD, 'x'], osAuthUrl: 'http://k' }, {}, opts(d)));
      assert.equal(e.kind, 'usage');
      assert.match(e.message, /--os-password must be given once/);
      noSecret(e);
    });

    it('regions: the first listed region when region_name is absent', () => {
      write(d.user, 'clouds.yaml', 'clouds:\n  r:\n    auth: {auth_url: http://k:5000, username: u, password: p, project_name: p}\n    regions:\n      - name: RegionA\n      - RegionB\n');
      assert.equal(resolveCloud({ osCloud: 'r' }, {}, opts(d)).regionName, 'RegionA');
    });
  });

  describe('malformed files', () => {
    it('a YAML syntax error names the file and line, without echoing the line', () => {
      const file = write(d.user, 'clouds.yaml', `clouds:\n  lab:\n    auth:\n      password: ${PASSWORD}\n      username: [admin\n    region_name: x\n`);
      const e = fails(() => resolveCloud({ osCloud: 'lab' }, {}, opts(d)));
      assert.equal(e.kind, 'config');
      assert.ok(e.message.includes(file), e.message);
      assert.match(e.message, /is not valid YAML: .*\(at line \d+, column \d+\)/);
      assert.equal(typeof e.details.line, 'number');
      noSecret(e);
    });

    it('a duplicate key is a YAML error too', () => {
      write(d.user, 'clouds.yaml', 'clouds:\n  lab: {}\n  lab: {}\n');
      const e = fails(() => resolveCloud({ osCloud: 'lab' }, {}, opts(d)));
      assert.match(e.message, /unique.*line 3/);
    });

    it('wrong types name the file, the JSON path and what was expected; every problem at once', () => {
      const file = write(
        d.user,
        'clouds.yaml',
        'clouds:\n  mycloud:\n    auth:\n      auth_url: 5000\n      password: 123456\n      username: [a, b]\n    region_name: {x: 1}\n    verify: 3\n',
      );
      const e = fails(() => resolveCloud({ osCloud: 'mycloud' }, {}, opts(d)));
      assert.equal(e.kind, 'config');
      assert.ok(e.message.startsWith(file), e.message);
      assert.match(e.message, /clouds\.mycloud\.auth\.auth_url must be a string \(got number; quote the value in YAML\)/);
      assert.match(e.message, /clouds\.mycloud\.auth\.password must be a string \(got number/);
      assert.match(e.message, /clouds\.mycloud\.auth\.username must be a string \(got a list\)/);
      assert.match(e.message, /clouds\.mycloud\.region_name must be a string \(got a mapping\)/);
      assert.match(e.message, /clouds\.mycloud\.verify must be a boolean or a string/);
      noSecret(e, '123456');
      const problems = e.details.problems as Array<{ path: string }>;
      assert.equal(problems.length, 5);
    });

    it('a file without clouds:, or a list at the top, is rejected whatever the cloud', () => {
      const file = write(d.user, 'clouds.yaml', 'cloud:\n  lab: {}\n');
      const e = fails(() => resolveCloud({ osCloud: 'lab' }, {}, opts(d)));
      assert.ok(e.message.includes(file));
      assert.match(e.message, /clouds is missing/);
      write(d.user, 'clouds.yaml', '- a\n- b\n');
      assert.match(fails(() => resolveCloud({ osCloud: 'lab' }, {}, opts(d))).message, /\(top level\) must be a mapping/);
      write(d.user, 'clouds.yaml', '');
      assert.match(fails(() => resolveCloud({ osCloud: 'lab' }, {}, opts(d))).message, /top level/);
      write(d.user, 'clouds.yaml', 'clouds: [1]\n');
      assert.match(fails(() => resolveCloud({ osCloud: 'lab' }, {}, opts(d))).message, /clouds must be a mapping \(got a list\)/);
    });

    it('problems in another cloud are warnings, not errors', () => {
      write(d.user, 'clouds.yaml', `${LAB_YAML}  broken:\n    auth:\n      auth_url: 1\n`);
      const c = resolveCloud({ osCloud: 'lab' }, {}, opts(d));
      assert.equal(c.name, 'lab');
      assert.ok(c.warnings.some((w) => /cloud 'broken' \(not in use\) has problems: clouds\.broken\.auth\.auth_url must be a string/.test(w)), c.warnings.join('\n'));
    });

    it('a malformed secure.yaml is named', () => {
      write(d.user, 'clouds.yaml', LAB_YAML);
      const s = write(d.user, 'secure.yaml', 'clouds:\n  lab:\n    auth:\n      password: 1234\n');
      const e = fails(() => resolveCloud({ osCloud: 'lab' }, {}, opts(d)));
      assert.ok(e.message.startsWith(s), e.message);
      assert.match(e.message, /clouds\.lab\.auth\.password must be a string/);
    });

    it('an unreadable file is named', function () {
      if (process.getuid?.() === 0) this.skip(); // root reads anything
      const f = write(d.user, 'clouds.yaml', LAB_YAML);
      chmodSync(f, 0);
      const e = fails(() => resolveCloud({ osCloud: 'lab' }, {}, opts(d)));
      assert.match(e.message, /Cannot read .*clouds\.yaml \(EACCES\)/);
    });
  });

  describe('nothing configured, unknown cloud, demo', () => {
    it('nothing configured says how to configure and how to try the demo', () => {
      const e = fails(() => resolveCloud({}, { OS_REGION_NAME: 'RegionOne', PATH: '/bin' }, opts(d)));
      assert.equal(e.kind, 'config');
      assert.match(e.message, /No OpenStack cloud is configured/);
      assert.match(e.hint ?? '', /clouds\.yaml/);
      assert.match(e.hint ?? '', /~\/\.config\/openstack\/clouds\.yaml/);
      assert.match(e.hint ?? '', /openrc/);
      assert.match(e.hint ?? '', /--os-cloud demo/);
    });

    it('nothing selected but clouds.yaml exists: lists its clouds', () => {
      write(d.user, 'clouds.yaml', LAB_YAML);
      const e = fails(() => resolveCloud({}, {}, opts(d)));
      assert.match(e.message, /defines 'lab', 'other': choose one with --os-cloud NAME/);
    });

    it('unknown cloud lists the defined clouds and where they were looked for', () => {
      const file = write(d.user, 'clouds.yaml', LAB_YAML);
      const e = fails(() => resolveCloud({ osCloud: 'prod' }, {}, opts(d)));
      assert.equal(e.kind, 'config');
      assert.ok(e.message.includes(`Cloud 'prod' is not defined in ${file}`), e.message);
      assert.match(e.message, /Clouds defined: 'lab', 'other'/);
      assert.ok(e.message.includes(path.join(d.cwd, 'clouds.{yaml,yml,json}')), e.message);
      assert.ok(e.message.includes(path.join(d.systemDir, 'clouds.{yaml,yml,json}')));
      assert.deepEqual(e.details.definedClouds, ['lab', 'other']);
      noSecret(e);
      noSecret(e, 'ac-secret');
    });

    it('unknown cloud with no clouds.yaml at all', () => {
      const e = fails(() => resolveCloud({}, { OS_CLOUD: 'prod' }, opts(d)));
      assert.match(e.message, /^Cloud 'prod' is not defined: no clouds\.yaml was found\. Looked for clouds\.yaml in: /);
    });

    it("isBuiltinDemo: 'demo' is the emulator unless clouds.yaml defines it", () => {
      assert.equal(isBuiltinDemo({ osCloud: 'demo' }, {}, opts(d)), true);
      assert.equal(isBuiltinDemo({}, { OS_CLOUD: 'demo' }, opts(d)), true);
      assert.equal(isBuiltinDemo({ osCloud: 'lab' }, { OS_CLOUD: 'demo' }, opts(d)), false);
      assert.equal(isBuiltinDemo({}, {}, opts(d)), false);
      const e = fails(() => resolveCloud({ osCloud: 'demo' }, {}, opts(d)));
      assert.equal(e.details.builtinDemo, true);
      write(d.user, 'clouds.yaml', 'clouds:\n  demo:\n    auth: {auth_url: http://mine:5000, username: u, password: p, project_name: p}\n');
      assert.equal(isBuiltinDemo({ osCloud: 'demo' }, {}, opts(d)), false);
      assert.equal(resolveCloud({ osCloud: 'demo' }, {}, opts(d)).authUrl, 'http://mine:5000/v3');
    });
  });

  describe('safe to log', () => {
    let c: ResolvedCloud;
    beforeEach(() => {
      write(d.user, 'clouds.yaml', LAB_YAML);
      c = resolveCloud({ osCloud: 'lab' }, {}, opts(d));
    });
    it('JSON.stringify and util.inspect show no secret; the secret is still there to use', () => {
      assert.ok(!JSON.stringify(c).includes(PASSWORD));
      assert.ok(!inspect(c, { depth: 10 }).includes(PASSWORD));
      assert.ok(JSON.stringify(c).includes('[REDACTED]'));
      assert.equal(c.auth.type === 'password' && c.auth.password, PASSWORD);
      const copy = { ...c, name: 'renamed' };
      assert.ok(!JSON.stringify(copy).includes(PASSWORD), 'a spread copy of the cloud keeps the protected auth');
    });
    it('describeCloud names the cloud, user, project, region; no secret', () => {
      const text = describeCloud(c);
      assert.ok(!text.includes(PASSWORD));
      assert.match(text, /cloud 'lab' at http:\/\/127\.0\.0\.1:5000\/v3: user 'admin' \(domain Default\), project 'admin' \(domain Default\), region RegionOne, internal endpoints/);
      const ac = resolveCloud({ osCloud: 'other' }, {}, opts(d));
      assert.ok(!describeCloud(ac).includes('ac-secret'));
      assert.match(describeCloud(ac), /application credential ac-123.*TLS verification OFF/);
    });
  });
});
