/**
 * The OpenStack access layer against the real lab (test/lab/start.sh):
 * config (the lab's generated clouds.yaml via OS_CLIENT_CONFIG_FILE) ->
 * Keystone -> catalog -> microversion negotiation -> Nova and Placement, the
 * error messages for bad configuration as a real Keystone answers them, and
 * the debug-log redaction grep (password and token absent).
 *
 * Skips when no lab is running, except under CI (CI must always run it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { resolveCloud, type FlagOverrides, type ResolvedCloud } from '../../src/config/index.js';
import { HostmaintError, isHttpError } from '../../src/core/errors.js';
import { memoryLogger, type MemoryLogger } from '../../src/core/log.js';
import { HttpTransport, negotiateMicroversion } from '../../src/openstack/http.js';
import { TokenProvider, findEndpoint } from '../../src/openstack/identity/index.js';
import { PLACEMENT_MAX_MICROVERSION } from '../../src/openstack/placement/index.js';
import { compareMicroversions } from '../../src/openstack/service-client.js';
import { connect, type HostmaintSession } from '../../src/openstack/session.js';
import { requireLab, type LabInfo } from './lab.js';

/** Keystone Fernet tokens start like this; none may ever reach a log. */
const FERNET = /gAAAAA[A-Za-z0-9_-]{20,}/;

function noSecrets(secrets: string[], logger: MemoryLogger, errors: unknown[] = []): void {
  const texts = [logger.text()];
  for (const e of errors) texts.push(JSON.stringify(e), String(e), (e as Error).stack ?? '', inspect(e, { depth: 10 }));
  for (const t of texts) {
    for (const s of secrets) assert.ok(!t.includes(s), `a secret (${s.slice(0, 4)}…) appears in: ${t.slice(0, 400)}`);
    assert.ok(!FERNET.test(t), `something token-like appears in: ${t.slice(0, 400)}`);
  }
}

describe('OpenStack lab: config -> Keystone -> Nova/Placement (src/openstack/session)', function () {
  let lab: LabInfo;
  let home: string;

  before(function () {
    lab = requireLab(this);
    home = mkdtempSync(path.join(os.tmpdir(), 'hostmaint-lab-home-'));
  });
  after(() => {
    if (home) rmSync(home, { recursive: true, force: true });
  });

  /** The lab cloud as a user would select it: --os-cloud lab with OS_CLIENT_CONFIG_FILE; nothing else from this machine. */
  function labCloud(overrides: FlagOverrides = {}): ResolvedCloud {
    return resolveCloud({ osCloud: 'lab', ...overrides }, { OS_CLIENT_CONFIG_FILE: lab.cloudsYaml }, { cwd: home, home, systemDir: home });
  }

  async function failure(p: Promise<unknown>): Promise<HostmaintError> {
    try {
      const s = await p;
      await (s as HostmaintSession).close();
    } catch (e) {
      assert.ok(e instanceof HostmaintError, inspect(e));
      return e;
    }
    assert.fail('expected a failure');
  }

  it('the generated clouds.yaml resolves to the lab', () => {
    const c = labCloud();
    assert.equal(c.name, 'lab');
    const expected = lab.authUrl.replace(/\/+$/, '');
    assert.equal(c.authUrl, /\/v3$/.test(expected) ? expected : `${expected}/v3`);
    assert.equal(c.auth.type, 'password');
    assert.equal(c.auth.type === 'password' && c.auth.password, lab.password);
    assert.ok(c.source.includes(lab.cloudsYaml), c.source);
  });

  it('connects: identity, negotiated microversions (compute 2.93 on Zed), working calls', async () => {
    const logger = memoryLogger();
    const s = await connect(labCloud(), { logger, timeoutMs: 60_000 });
    try {
      assert.equal(s.cloudName, 'lab');
      assert.equal(s.compute.microversion, '2.93', 'Zed compute max 2.93 = hostmaint max');
      assert.equal(s.serverVersions.compute.max, '2.93');
      assert.equal(s.serverVersions.compute.min, '2.1');
      const pmax = s.serverVersions.placement.max;
      assert.equal(s.placement.microversion, compareMicroversions(pmax, PLACEMENT_MAX_MICROVERSION) < 0 ? pmax : PLACEMENT_MAX_MICROVERSION);
      assert.match(s.placement.microversion, /^1\.\d+$/);
      assert.equal(s.identity.userName, lab.username);
      assert.equal(s.identity.projectName, lab.projectName);
      assert.match(s.identity.projectId, /^[0-9a-f]{32}$/);
      assert.match(s.identity.userId, /^[0-9a-f]{32}$/);
      assert.ok(s.identity.roles.includes('admin'), `roles: ${s.identity.roles.join(',')}`);
      assert.equal(s.identity.regionName, lab.regionName);

      const services = await s.compute.listServices({ binary: 'nova-compute' });
      const hosts = services.map((x) => x.host).sort();
      for (const h of lab.computes) assert.ok(hosts.includes(h), `nova-compute ${h} listed (${hosts.join(', ')})`);
      const providers = await s.placement.listProviders({});
      assert.ok(providers.length >= 1);

      const missing = await failure(s.compute.getServer('00000000-0000-4000-8000-000000000000'));
      assert.equal(missing.kind, 'not-found');
      assert.ok(isHttpError(missing));
      assert.match(missing.requestId ?? '', /^req-[0-9a-f-]{36}$/);
      assert.match(missing.faultMessage ?? '', /could not be found/);

      const counts = s.requestCount();
      assert.equal(counts.identity, 1);
      assert.ok((counts.compute ?? 0) >= 3);
      assert.ok((counts.placement ?? 0) >= 2);
      noSecrets([lab.password], logger, [missing]);
    } finally {
      await s.close();
    }
  });

  /** The lab's openrc as the environment a user gets from `source .lab/openrc` (without the clouds.yaml pointer). */
  function openrcEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const line of readFileSync(path.join(lab.labDir, 'openrc'), 'utf8').split('\n')) {
      const m = /^\s*export\s+(OS_[A-Z_]+)=(.*)$/.exec(line);
      if (m?.[1] && m[1] !== 'OS_CLIENT_CONFIG_FILE') env[m[1]] = (m[2] ?? '').trim().replace(/^(['"])(.*)\1$/, '$2');
    }
    return env;
  }

  it('the openrc variables work too; an old /v2.0 auth URL is rewritten (with a warning), an unversioned one gets /v3', async function () {
    if (!existsSync(path.join(lab.labDir, 'openrc'))) this.skip();
    const env = openrcEnv();
    const fromEnv = resolveCloud({}, env, { cwd: home, home, systemDir: home });
    assert.equal(fromEnv.source, 'environment (OS_*)');
    const base = env.OS_AUTH_URL?.replace(/\/v3\/?$/, '') ?? '';
    const old = resolveCloud({}, { ...env, OS_AUTH_URL: `${base}/v2.0` }, { cwd: home, home, systemDir: home });
    assert.equal(old.authUrl, `${base}/v3`);
    assert.match(old.warnings.join('\n'), /ends in \/v2\.0/);
    const bare = resolveCloud({}, { ...env, OS_AUTH_URL: base }, { cwd: home, home, systemDir: home });
    assert.equal(bare.authUrl, `${base}/v3`);
    for (const c of [fromEnv, old, bare]) {
      const logger = memoryLogger();
      const s = await connect(c, { logger });
      assert.equal(s.compute.microversion, '2.93');
      assert.equal(s.identity.projectName, lab.projectName);
      await s.close();
      noSecrets([lab.password], logger);
    }
  });

  it('wrong password: auth error naming user and project, no password anywhere', async () => {
    const wrong = `${lab.password}-not`;
    const logger = memoryLogger();
    const e = await failure(connect(labCloud({ osPassword: wrong }), { logger }));
    assert.equal(e.kind, 'auth');
    assert.match(e.message, new RegExp(`^The cloud rejected the credentials for user '${lab.username}' in project '${lab.projectName}' \\(domain ${lab.projectDomainName}\\)`));
    assert.equal(e.details.reason, 'credentials');
    noSecrets([lab.password, wrong], logger, [e]);
  });

  it('unknown project: told apart from a wrong password', async () => {
    const logger = memoryLogger();
    const e = await failure(connect(labCloud({ osProjectName: 'hostmaint-no-such-project' }), { logger }));
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /but not for project 'hostmaint-no-such-project' in domain Default: the project does not exist there/);
    assert.equal(e.details.reason, 'scope');
    noSecrets([lab.password], logger, [e]);
  });

  it('wrong region: lists the regions the catalog has', async () => {
    const logger = memoryLogger();
    const e = await failure(connect(labCloud({ osRegionName: 'RegionNowhere' }), { logger }));
    assert.equal(e.kind, 'config');
    assert.equal(e.message, `The catalog has no 'compute' endpoint for interface public in region RegionNowhere (regions with compute: ${lab.regionName})`);
    noSecrets([lab.password], logger, [e]);
  });

  it('debug-log redaction: auth, requests, a forced re-auth and a failing call; password and tokens absent', async () => {
    const logger = memoryLogger();
    const cloud = labCloud();
    const transport = new HttpTransport({ logger });
    try {
      const tokens = new TokenProvider({ cloud, identity: transport.client({ serviceType: 'identity', endpoint: cloud.authUrl }), logger });
      const first = await tokens.auth();
      const nova = findEndpoint(first.catalog, 'compute', cloud.interface, cloud.regionName);
      const { microversion } = await negotiateMicroversion(transport, { serviceType: 'compute', endpoint: nova, code: { min: '2.1', max: '2.93' }, tokens });
      const compute = transport.client({ serviceType: 'compute', endpoint: nova, microversion, tokens });
      await compute.request({ method: 'GET', path: '/os-services', query: { binary: 'nova-compute' } });
      const second = await tokens.token({ force: true, stale: first.token });
      assert.notEqual(second, first.token);
      await compute.request({ method: 'GET', path: '/os-hypervisors' });
      let err: unknown;
      try {
        await compute.request({ method: 'POST', path: '/servers/00000000-0000-4000-8000-000000000000/action', body: { 'os-migrateLive': { host: null, block_migration: 'auto' } } });
      } catch (e) {
        err = e;
      }
      assert.ok(isHttpError(err, 'not-found'), inspect(err));
      assert.ok(logger.records.filter((r) => r.level === 'debug').length >= 5);
      assert.ok(logger.text().includes('[REDACTED]'), 'the auth request body was logged redacted');
      noSecrets([lab.password, first.token, second], logger, [err]);
    } finally {
      transport.close();
    }
  });
});
