/**
 * Minimal helpers for test suites that run against the real OpenStack lab
 * (test/lab/start.sh). Deliberately independent of src/openstack/: plain axios,
 * one Keystone v3 token, catalog lookup, raw requests.
 *
 *   const lab = loadLab();             // null -> no lab running: skip (or fail in CI)
 *   const s = await labToken(lab);     // token + catalog, scoped to lab.projectName
 *   const nova = findEndpoint(s, 'compute');
 *   const r = await labGet(s, `${nova}/os-services`, { 'OpenStack-API-Version': 'compute 2.93' });
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import axios, { type AxiosResponse } from 'axios';

export interface LabInfo {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
  regionName: string;
  computes: string[];
  labDir: string;
  cloudsYaml: string;
}

/** Repository root (this file is test/openstack/lab.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** $LAB_DIR, default <repo>/.lab */
export function labDir(): string {
  return resolve(process.env['LAB_DIR'] || resolve(REPO_ROOT, '.lab'));
}

/** Parse $LAB_DIR/lab.env (KEY=value lines). null if it does not exist. */
export function readLabEnv(dir: string = labDir()): Record<string, string> | null {
  const file = resolve(dir, 'lab.env');
  if (!existsSync(file)) return null;
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] !== undefined) env[m[1]] = (m[2] ?? '').trim();
  }
  return env;
}

/** Why the last loadLab() returned null (for skip messages). */
export let labUnavailableReason = '';

/**
 * The running lab, or null when there is none: lab.env missing, or Keystone not
 * answering at LAB_AUTH_URL within ~2 s. Synchronous (the probe runs in a child
 * node process) so suites can call it anywhere.
 */
export function loadLab(): LabInfo | null {
  const dir = labDir();
  const env = readLabEnv(dir);
  if (!env) {
    labUnavailableReason = `no ${resolve(dir, 'lab.env')}`;
    return null;
  }
  const authUrl = env['LAB_AUTH_URL'];
  const password = env['LAB_PASSWORD'];
  if (!authUrl || !password) {
    labUnavailableReason = `${resolve(dir, 'lab.env')} has no LAB_AUTH_URL/LAB_PASSWORD`;
    return null;
  }
  const probe = spawnSync(
    process.execPath,
    [
      '-e',
      'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })' +
        '.then((r) => process.exit(r.status < 500 ? 0 : 1), () => process.exit(1))',
      authUrl,
    ],
    { timeout: 5000, stdio: 'ignore' },
  );
  if (probe.status !== 0) {
    labUnavailableReason = `Keystone not answering at ${authUrl}`;
    return null;
  }
  const hosts = env['LAB_COMPUTE_HOSTS'];
  const count = Number(env['LAB_COMPUTES'] ?? '3');
  const computes = hosts
    ? hosts.split(',').filter((h) => h.length > 0)
    : Array.from({ length: count }, (_, i) => `compute-${String(i + 1).padStart(2, '0')}`);
  labUnavailableReason = '';
  return {
    authUrl,
    username: env['LAB_USERNAME'] ?? 'admin',
    password,
    projectName: env['LAB_PROJECT'] ?? 'admin',
    userDomainName: env['LAB_USER_DOMAIN'] ?? 'Default',
    projectDomainName: env['LAB_PROJECT_DOMAIN'] ?? 'Default',
    regionName: env['LAB_REGION'] ?? 'RegionOne',
    computes,
    labDir: dir,
    cloudsYaml: env['LAB_CLOUDS_YAML'] ?? resolve(dir, 'clouds.yaml'),
  };
}

export interface CatalogEndpoint {
  id?: string;
  interface: string;
  region?: string;
  region_id?: string;
  url: string;
}
export interface CatalogEntry {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}
export interface LabSession {
  lab: LabInfo;
  token: string;
  expiresAt: string;
  projectId: string;
  catalog: CatalogEntry[];
}

/** POST /v3/auth/tokens (password, project scope). projectName defaults to lab.projectName. */
export async function labToken(lab: LabInfo, projectName: string = lab.projectName): Promise<LabSession> {
  const url = `${lab.authUrl.replace(/\/+$/, '')}/auth/tokens`;
  const body = {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: { name: lab.username, domain: { name: lab.userDomainName }, password: lab.password },
        },
      },
      scope: { project: { name: projectName, domain: { name: lab.projectDomainName } } },
    },
  };
  const r = await axios.post(url, body, {
    timeout: 30_000,
    validateStatus: () => true,
    headers: { 'Content-Type': 'application/json', Connection: 'close' },
  });
  if (r.status !== 201) {
    throw new Error(`Keystone ${url} answered ${r.status}: ${JSON.stringify(r.data).slice(0, 300)}`);
  }
  const token = r.headers['x-subject-token'];
  if (typeof token !== 'string' || token.length === 0) throw new Error('Keystone returned no X-Subject-Token');
  const t = (r.data as { token?: { expires_at?: string; project?: { id?: string }; catalog?: CatalogEntry[] } })
    .token;
  return {
    lab,
    token,
    expiresAt: t?.expires_at ?? '',
    projectId: t?.project?.id ?? '',
    catalog: t?.catalog ?? [],
  };
}

/** URL of the endpoint of `type` with `iface` in the lab's region; throws if the catalog has none. */
export function findEndpoint(session: LabSession, type: string, iface = 'public', region?: string): string {
  const want = region ?? session.lab.regionName;
  for (const entry of session.catalog) {
    if (entry.type !== type) continue;
    const ep = entry.endpoints.find(
      (e) => e.interface === iface && (e.region_id === want || e.region === want),
    );
    if (ep) return ep.url.replace(/\/+$/, '');
  }
  throw new Error(`no ${iface} endpoint of type ${type} in region ${want} in the catalog`);
}

/** A request with the session's token. Never throws on HTTP status: check r.status. */
export async function labRequest<T = unknown>(
  session: LabSession,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  opts: { headers?: Record<string, string>; data?: unknown; timeoutMs?: number } = {},
): Promise<AxiosResponse<T>> {
  return axios.request<T>({
    method,
    url,
    data: opts.data,
    timeout: opts.timeoutMs ?? 60_000,
    validateStatus: () => true,
    headers: {
      'X-Auth-Token': session.token,
      Accept: 'application/json',
      Connection: 'close',
      ...(opts.headers ?? {}),
    },
  });
}

export function labGet<T = unknown>(
  session: LabSession,
  url: string,
  headers: Record<string, string> = {},
): Promise<AxiosResponse<T>> {
  return labRequest<T>(session, 'GET', url, { headers });
}

/** Run `bash test/lab/compute.sh stop|start|restart HOST` (start/restart wait until it is up). */
export async function labCompute(
  action: 'stop' | 'start' | 'restart',
  host: string,
  env: Record<string, string> = {},
): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(
    'bash',
    [resolve(REPO_ROOT, 'test/lab/compute.sh'), action, host],
    { env: { ...process.env, LAB_DIR: labDir(), ...env }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return `${stdout}${stderr}`;
}

export interface LabComputeService {
  id: string | number;
  binary: string;
  host: string;
  status: string;
  state: string;
  updated_at?: string | null;
  disabled_reason?: string | null;
}

/**
 * Throws (with a message naming every offending host) unless each of `hosts`
 * has a nova-compute service that is state "up" and status "enabled".
 */
export function assertComputesUp(services: LabComputeService[], hosts: string[]): void {
  const problems: string[] = [];
  for (const host of hosts) {
    const s = services.find((x) => x.binary === 'nova-compute' && x.host === host);
    if (!s) problems.push(`${host}: no nova-compute service`);
    else if (s.state !== 'up' || s.status !== 'enabled') {
      problems.push(`${host}: state ${s.state}, status ${s.status} (last heartbeat ${s.updated_at ?? 'never'})`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`not all computes are up and enabled: ${problems.join('; ')}`);
  }
}

/**
 * Advisory lock for suites that change the shared lab (disable hosts, kill or
 * resize computes, fill hosts): take it in before(), release it in after(), so
 * two such suites (e.g. two engineers on one machine) do not run interleaved.
 * The lock file is $LAB_DIR/run/tests.lock; a lock whose holder process is gone
 * is taken over. Resolves to the release function.
 */
export async function acquireLabLock(owner: string, timeoutMs = 15 * 60_000): Promise<() => void> {
  const file = resolve(labDir(), 'run', 'tests.lock');
  const mine = JSON.stringify({ pid: process.pid, owner, since: new Date().toISOString() });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: { pid?: number; owner?: string } = {};
    try {
      holder = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number; owner?: string };
    } catch {
      // being written or removed right now
    }
    if (typeof holder.pid === 'number' && !processAlive(holder.pid)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`lab lock ${file} still held by ${holder.owner ?? '?'} (pid ${holder.pid ?? '?'})`);
    }
    if (!announced) {
      console.log(`      waiting for the lab lock held by ${holder.owner ?? '?'} (pid ${holder.pid ?? '?'})`);
      announced = true;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const release = (): void => {
    try {
      if (readFileSync(file, 'utf8') === mine) rmSync(file, { force: true });
    } catch {
      // already gone
    }
    process.removeListener('exit', release);
  };
  process.on('exit', release);
  return release;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The lab, or skip the suite with a message saying how to start one. Under CI
 * (process.env.CI set) a missing lab is an error: CI must run the lab suites.
 */
export function requireLab(ctx: Mocha.Context): LabInfo {
  const lab = loadLab();
  if (!lab) {
    const msg =
      `no OpenStack lab running (${labUnavailableReason}); start one with \`npm run lab:start\` ` +
      '(needs root on Debian 12, packages via `npm run lab:install`)';
    if (process.env['CI']) throw new Error(`CI requires the lab: ${msg}`);
    console.log(`    SKIPPED: ${msg}`);
    ctx.skip();
  }
  return lab as LabInfo;
}
