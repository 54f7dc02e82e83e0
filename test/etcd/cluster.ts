/**
 * Test harness: a real etcd (Debian's etcd-server 3.4, /usr/bin/etcd) cluster of
 * 1 or 3 members on 127.0.0.1, free ports, data under os.tmpdir().
 * Install the binaries with `bash test/etcd/install.sh`.
 *
 * Every member's stdout/stderr goes to <member dir>/etcd.log; a member that does
 * not come up healthy within 20 s fails startEtcd/restart with the tail of its log.
 * All members still running when the test process exits are SIGKILLed (and their
 * temp dirs removed), so nothing is left behind even if a test forgets stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  pid: number | null;
  dataDir: string;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** "etcd3+http://127.0.0.1:P1,127.0.0.1:P2,..." */
  url: string;
  endpoints: string[]; // "http://127.0.0.1:P"
  /**
   * The current leader: a running member that reports itself leader and that every
   * other answering member agrees on (POST /v3/maintenance/status on each member).
   * Polls until one is known, up to timeoutMs (default 5000), then throws.
   */
  leader(opts?: { timeoutMs?: number }): Promise<EtcdMember>;
  /** SIGKILL by default; waits (up to 10 s) for the process to exit. No-op if not running. */
  kill(member: EtcdMember, signal?: NodeJS.Signals): Promise<void>;
  /** Start a stopped member again on its data dir (initial-cluster-state existing); waits healthy. */
  restart(member: EtcdMember): Promise<void>;
  /** Stop all members, remove the temp dir; safe to call twice. */
  stop(): Promise<void>;
}

export function etcdAvailable(): boolean {
  return existsSync(ETCD_BIN);
}

const HEALTH_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------
// Process-exit safety net: SIGKILL every member still running, remove temp dirs.

const liveChildren = new Set<ChildProcess>();
const liveRoots = new Set<string>();
let exitHooksInstalled = false;

function killAllSync(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  liveChildren.clear();
  for (const root of liveRoots) {
    try {
      rmSync(root, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  liveRoots.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllSync);
  // A fatal signal skips 'exit' handlers: clean up, then die of the same signal
  // unless somebody else (e.g. mocha) also handles it.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.once(sig, onSignal);
  }
}

// ---------------------------------------------------------------------------
// Helpers

/** n distinct free TCP ports on 127.0.0.1 (all bound at once, then released). */
async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') throw new Error('freePorts: no port');
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

interface HttpReply {
  status: number;
  body: unknown;
}

/** One JSON request, no keep-alive; rejects on network error or timeout. */
function httpJson(method: 'GET' | 'POST', url: string, body?: unknown, timeoutMs = 1000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      {
        method,
        agent: false,
        timeout: timeoutMs,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function logTail(file: string, lines = 40): string {
  try {
    const all = readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  } catch (e) {
    return `(no log: ${(e as Error).message})`;
  }
}

/** The environment for etcd: no ETCD_* variables (etcd 3.4 refuses env vars shadowed by flags). */
function etcdEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ETCD_') && !k.startsWith('ETCDCTL_')) env[k] = v;
  }
  // etcd 3.4 only runs on amd64/ppc64le unless told otherwise.
  if (process.arch !== 'x64' && process.arch !== 'ppc64') env.ETCD_UNSUPPORTED_ARCH = process.arch;
  return env;
}

// ---------------------------------------------------------------------------

interface MemberState {
  member: EtcdMember;
  dir: string;
  log: string;
  child: ChildProcess | null;
  exited: Promise<void> | null;
  /** exit description once the process is gone */
  exitInfo: string | null;
}

export async function startEtcd(opts: { members?: 1 | 3; name?: string } = {}): Promise<EtcdCluster> {
  const count = opts.members ?? 1;
  const base = (opts.name ?? 'hm').replace(/[^A-Za-z0-9-]/g, '-');
  if (!etcdAvailable()) throw new Error(`${ETCD_BIN} not found: run bash test/etcd/install.sh`);
  installExitHooks();

  const root = mkdtempSync(path.join(os.tmpdir(), `hostmaint-etcd-${base}-`));
  liveRoots.add(root);
  const token = `${base}-${path.basename(root)}-${process.pid}`;
  const ports = await freePorts(count * 2);

  const states: MemberState[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${base}-${i + 1}`;
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    states.push({
      member: {
        name,
        clientUrl: `http://127.0.0.1:${ports[2 * i]}`,
        peerUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
        pid: null,
        dataDir: path.join(dir, 'data'),
      },
      dir,
      log: path.join(dir, 'etcd.log'),
      child: null,
      exited: null,
      exitInfo: null,
    });
  }
  const initialCluster = states.map((s) => `${s.member.name}=${s.member.peerUrl}`).join(',');

  const argsFor = (m: EtcdMember, state: 'new' | 'existing'): string[] => [
    '--name', m.name,
    '--data-dir', m.dataDir,
    '--listen-client-urls', m.clientUrl,
    '--advertise-client-urls', m.clientUrl,
    '--listen-peer-urls', m.peerUrl,
    '--initial-advertise-peer-urls', m.peerUrl,
    '--initial-cluster', initialCluster,
    '--initial-cluster-state', state,
    '--initial-cluster-token', token,
    '--heartbeat-interval', '100',
    '--election-timeout', '1000',
    '--logger', 'zap',
    '--log-level', 'warn',
    '--log-outputs', 'stderr',
  ];

  const launch = (s: MemberState, state: 'new' | 'existing'): void => {
    const fd = openSync(s.log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(ETCD_BIN, argsFor(s.member, state), { stdio: ['ignore', fd, fd], env: etcdEnv(), cwd: s.dir });
    } finally {
      closeSync(fd);
    }
    s.child = child;
    s.exitInfo = null;
    s.member.pid = child.pid ?? null;
    liveChildren.add(child);
    s.exited = new Promise<void>((resolve) => {
      const done = (info: string): void => {
        liveChildren.delete(child);
        if (s.child === child) {
          s.exitInfo = info;
          s.member.pid = null;
        }
        resolve();
      };
      child.once('exit', (code, signal) => done(signal ? `killed by ${signal}` : `exited with code ${code}`));
      child.once('error', (err) => done(`failed to start: ${err.message}`));
    });
  };

  const running = (s: MemberState): boolean => s.child !== null && s.exitInfo === null;

  const stateOf = (m: EtcdMember): MemberState => {
    const s = states.find((x) => x.member === m || x.member.name === m.name);
    if (!s) throw new Error(`not a member of this cluster: ${m.name}`);
    return s;
  };

  const waitHealthy = async (targets: MemberState[]): Promise<void> => {
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    const pending = new Set(targets);
    const lastError = new Map<MemberState, string>();
    while (pending.size > 0) {
      for (const s of [...pending]) {
        if (!running(s)) {
          throw new Error(`etcd member ${s.member.name} ${s.exitInfo ?? 'is not running'} before becoming healthy; log ${s.log}:\n${logTail(s.log)}`);
        }
        try {
          const r = await httpJson('GET', `${s.member.clientUrl}/health`, undefined, 1000);
          const health = (r.body as { health?: unknown } | null)?.health;
          if (r.status === 200 && (health === 'true' || health === true)) pending.delete(s);
          else lastError.set(s, `HTTP ${r.status} ${JSON.stringify(r.body)}`);
        } catch (e) {
          lastError.set(s, (e as Error).message);
        }
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        const detail = [...pending]
          .map((s) => `--- ${s.member.name} (${s.member.clientUrl}, last: ${lastError.get(s) ?? '?'}) log ${s.log}:\n${logTail(s.log)}`)
          .join('\n');
        throw new Error(`etcd not healthy within ${HEALTH_TIMEOUT_MS} ms:\n${detail}`);
      }
      await sleep(100);
    }
  };

  let stopped = false;

  const kill = async (m: EtcdMember, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const s = stateOf(m);
    if (!running(s) || !s.child) return;
    s.child.kill(signal);
    if (signal === 'SIGSTOP' || signal === 'SIGCONT' || signal === 'SIGTSTP') return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), EXIT_TIMEOUT_MS)));
    const res = await Promise.race([s.exited!.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    if (res === 'timeout') throw new Error(`etcd member ${m.name} (pid ${s.child.pid}) did not exit within ${EXIT_TIMEOUT_MS} ms of ${signal}`);
  };

  const cluster: EtcdCluster = {
    members: states.map((s) => s.member),
    url: `etcd3+http://${states.map((s) => s.member.clientUrl.replace(/^http:\/\//, '')).join(',')}`,
    endpoints: states.map((s) => s.member.clientUrl),

    async leader(o: { timeoutMs?: number } = {}): Promise<EtcdMember> {
      const timeoutMs = o.timeoutMs ?? 5000;
      const deadline = Date.now() + timeoutMs;
      let last = 'no member answered';
      for (;;) {
        const statuses = await Promise.all(
          states.filter(running).map(async (s) => {
            try {
              const r = await httpJson('POST', `${s.member.clientUrl}/v3/maintenance/status`, {}, 1000);
              const b = r.body as { header?: { member_id?: string | number }; leader?: string | number } | null;
              if (r.status !== 200 || b?.header?.member_id === undefined) return null;
              return { s, id: String(b.header.member_id), leader: String(b.leader ?? '0') };
            } catch {
              return null;
            }
          }),
        );
        const answered = statuses.filter((x): x is NonNullable<typeof x> => x !== null);
        const self = answered.filter((x) => x.leader === x.id);
        if (self.length === 1 && answered.every((x) => x.leader === self[0]!.id)) return self[0]!.s.member;
        last = answered.length === 0 ? 'no member answered' : answered.map((x) => `${x.s.member.name}: id ${x.id} leader ${x.leader}`).join('; ');
        if (Date.now() > deadline) throw new Error(`no etcd leader within ${timeoutMs} ms (${last})`);
        await sleep(50);
      }
    },

    kill,

    async restart(m: EtcdMember): Promise<void> {
      if (stopped) throw new Error('cluster stopped');
      const s = stateOf(m);
      if (running(s)) throw new Error(`etcd member ${m.name} is still running (pid ${s.member.pid}); kill it first`);
      launch(s, 'existing');
      await waitHealthy([s]);
    },

    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      try {
        await Promise.all(states.map((s) => kill(s.member, 'SIGKILL')));
      } finally {
        rmSync(root, { recursive: true, force: true });
        liveRoots.delete(root);
      }
    },
  };

  for (const s of states) launch(s, 'new');
  try {
    await waitHealthy(states);
  } catch (e) {
    await cluster.stop().catch(() => undefined);
    throw e;
  }
  return cluster;
}

/**
 * A mocha `before` hook: suites that need etcd. In CI (CI set) a missing etcd fails
 * (the CI installs it with test/etcd/install.sh); a developer's run without it skips.
 */
export function requireEtcd(this: Mocha.Context): void {
  if (etcdAvailable()) return;
  if (process.env.CI) throw new Error(`${ETCD_BIN} is not installed: run bash test/etcd/install.sh`);
  console.log('    (skipped: etcd is not installed: bash test/etcd/install.sh)');
  this.skip();
}
