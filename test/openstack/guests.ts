/**
 * Real guests on the lab's libvirt computes (qemu-01, qemu-02; test/lab/libvirt.sh):
 * boot them, watch their heartbeats, read Nova's migration records.
 *
 * Each guest (test/lab/guest.sh) prints `HB <n> up=<seconds>` on its serial console
 * every round. Nova's libvirt driver logs that console to console.log in the
 * instance's directory on the host it runs on; the file starts afresh on the target
 * after a move and is removed from the source. A HeartbeatWatch tails the file on
 * both hosts (the test runs as root on the lab's machine) and stamps every line with
 * this machine's clock when it appears: the longest gap between two consecutive
 * heartbeats is what the guest's users saw as downtime. Nova's own view of the
 * console (`openstack console log show`) is read through the API as well.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { readLabEnv, labGet, labRequest, findEndpoint, type LabInfo, type LabSession } from './lab.js';

export const MV = { 'OpenStack-API-Version': 'compute 2.80' };

export interface QemuLab {
  hosts: string[];
  subnet: string;
  bridge: string;
  disabledReason: string;
  image: string;
  busyImage: string;
  flavor: string;
}

/** The libvirt computes of the running lab, or null when it was started without them (LAB_LIBVIRT=0). */
export function qemuLab(lab: LabInfo): QemuLab | null {
  const env = readLabEnv(lab.labDir) ?? {};
  const hosts = (env['LAB_QEMU_HOSTS'] ?? '').split(',').filter((h) => h.length > 0);
  if (hosts.length < 2) return null;
  return {
    hosts,
    subnet: env['LAB_QEMU_SUBNET'] ?? '10.99.0.0/24',
    bridge: env['LAB_QEMU_BRIDGE'] ?? 'hmlab0',
    disabledReason: (env['LAB_QEMU_DISABLED_REASON'] ?? '').replace(/^'(.*)'$/, '$1'),
    image: env['LAB_GUEST_IMAGE'] ?? 'hostmaint-guest',
    busyImage: env['LAB_GUEST_BUSY_IMAGE'] ?? 'hostmaint-guest-busy',
    flavor: env['LAB_GUEST_FLAVOR'] ?? 'g1.guest',
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Guests {
  readonly nova: string;
  readonly glance: string;
  readonly created: string[] = [];
  constructor(
    readonly session: LabSession,
    readonly q: QemuLab,
  ) {
    this.nova = findEndpoint(session, 'compute');
    this.glance = findEndpoint(session, 'image');
  }

  async service(host: string): Promise<{ id: string; status: string; state: string; disabled_reason: string | null }> {
    const r = await labGet<{ services: { id: string; host: string; status: string; state: string; disabled_reason: string | null }[] }>(
      this.session,
      `${this.nova}/os-services?binary=nova-compute&host=${host}`,
      MV,
    );
    const s = r.data.services[0];
    if (!s) throw new Error(`no nova-compute service on ${host}`);
    return s;
  }

  /** Enable (or disable with the lab's reason) a libvirt compute, as the lab keeps them between suites. */
  async setEnabled(host: string, enabled: boolean): Promise<void> {
    const s = await this.service(host);
    const body = enabled ? { status: 'enabled' } : { status: 'disabled', disabled_reason: this.q.disabledReason };
    const r = await labRequest(this.session, 'PUT', `${this.nova}/os-services/${s.id}`, { headers: MV, data: body });
    if (r.status !== 200) throw new Error(`PUT os-services ${host}: ${r.status} ${JSON.stringify(r.data)}`);
  }

  async imageId(name: string): Promise<string> {
    const r = await labGet<{ images: { id: string; status: string }[] }>(this.session, `${this.glance}/v2/images?name=${name}`);
    const img = r.data.images.find((i) => i.status === 'active');
    if (!img) throw new Error(`no active image ${name} (test/lab/start.sh registers it)`);
    return img.id;
  }

  async flavorId(name: string): Promise<string> {
    const r = await labGet<{ flavors: { id: string; name: string }[] }>(this.session, `${this.nova}/flavors?is_public=None`, MV);
    const f = r.data.flavors.find((x) => x.name === name);
    if (!f) throw new Error(`no flavor ${name}`);
    return f.id;
  }

  /** Boot a guest on `host` (admin's host-forced AZ form) and wait until it is ACTIVE and its first heartbeat is logged. */
  async boot(name: string, host: string, busy = false): Promise<string> {
    const [imageRef, flavorRef] = await Promise.all([this.imageId(busy ? this.q.busyImage : this.q.image), this.flavorId(this.q.flavor)]);
    const r = await labRequest<{ server: { id: string } }>(this.session, 'POST', `${this.nova}/servers`, {
      headers: MV,
      data: { server: { name, imageRef, flavorRef, networks: 'none', availability_zone: `nova:${host}` } },
    });
    if (r.status !== 202) throw new Error(`boot ${name}: ${r.status} ${JSON.stringify(r.data)}`);
    const id = r.data.server.id;
    this.created.push(id);
    await this.waitFor(id, (s) => s.status === 'ACTIVE', 180_000, `${name} ACTIVE`);
    const t0 = Date.now();
    while (lastBeat(await this.consoleLog(id)) === null) {
      if (Date.now() - t0 > 120_000) throw new Error(`${name}: no heartbeat on its console 120 s after ACTIVE`);
      await sleep(1000);
    }
    return id;
  }

  async server(id: string): Promise<{ id: string; name: string; status: string; host: string | null; taskState: string | null }> {
    const r = await labGet<{ server: Record<string, unknown> }>(this.session, `${this.nova}/servers/${id}`, MV);
    if (r.status !== 200) throw new Error(`GET server ${id}: ${r.status}`);
    const s = r.data.server;
    return {
      id,
      name: String(s['name']),
      status: String(s['status']),
      host: (s['OS-EXT-SRV-ATTR:host'] as string | null) ?? null,
      taskState: (s['OS-EXT-STS:task_state'] as string | null) ?? null,
    };
  }

  async waitFor(id: string, ok: (s: Awaited<ReturnType<Guests['server']>>) => boolean, timeoutMs: number, what: string) {
    const t0 = Date.now();
    for (;;) {
      const s = await this.server(id);
      if (ok(s)) return s;
      if (s.status === 'ERROR') throw new Error(`${what}: server went to ERROR`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: still ${s.status}/${s.taskState} on ${s.host} after ${timeoutMs / 1000} s`);
      await sleep(1000);
    }
  }

  /** Nova's view of the console (`openstack console log show`). */
  async consoleLog(id: string): Promise<string> {
    const r = await labRequest<{ output: string }>(this.session, 'POST', `${this.nova}/servers/${id}/action`, {
      headers: MV,
      data: { 'os-getConsoleOutput': { length: -1 } },
    });
    return r.status === 200 ? r.data.output : '';
  }

  /** Nova's migration records of a server (newest first), any status. */
  async migrations(id: string): Promise<{ id: number; status: string; migration_type: string; source_compute: string; dest_compute: string }[]> {
    const r = await labGet<{ migrations: { id: number; status: string; migration_type: string; source_compute: string; dest_compute: string }[] }>(
      this.session,
      `${this.nova}/os-migrations?instance_uuid=${id}`,
      MV,
    );
    return [...r.data.migrations].sort((a, b) => b.id - a.id);
  }

  /** Servers on a host (all projects). */
  async onHost(host: string): Promise<string[]> {
    const r = await labGet<{ servers: { id: string }[] }>(this.session, `${this.nova}/servers?all_tenants=1&host=${host}`, MV);
    return r.data.servers.map((s) => s.id);
  }

  /** Placement: allocations of a consumer, by provider name. */
  async allocations(id: string): Promise<string[]> {
    const placement = findEndpoint(this.session, 'placement');
    const r = await labGet<{ allocations: Record<string, unknown> }>(this.session, `${placement}/allocations/${id}`, { 'OpenStack-API-Version': 'placement 1.28' });
    const names: string[] = [];
    for (const rp of Object.keys(r.data.allocations ?? {})) {
      const p = await labGet<{ name: string }>(this.session, `${placement}/resource_providers/${rp}`, { 'OpenStack-API-Version': 'placement 1.28' });
      names.push(p.data.name);
    }
    return names;
  }

  /** Delete one server and wait until Nova has forgotten it. */
  async deleteOne(id: string): Promise<void> {
    await labRequest(this.session, 'DELETE', `${this.nova}/servers/${id}`, { headers: MV });
    const t0 = Date.now();
    while (Date.now() - t0 < 120_000 && (await labGet(this.session, `${this.nova}/servers/${id}`, MV)).status !== 404) await sleep(1000);
    this.created.splice(this.created.indexOf(id), 1);
  }

  async deleteAll(): Promise<void> {
    await Promise.all([...this.created].map((id) => this.deleteOne(id)));
  }

}

export interface Beat {
  n: number;
  up: number;
  at: number;
  host: string;
}

const HB = /^HB (\d+) up=([\d.]+)/;

/** The last heartbeat in a console log, or null. */
export function lastBeat(log: string): { n: number; up: number } | null {
  let last: { n: number; up: number } | null = null;
  for (const line of log.split(/\r?\n/)) {
    const m = HB.exec(line.trim());
    if (m) last = { n: Number(m[1]), up: Number(m[2]) };
  }
  return last;
}

/** Tails a guest's console.log on every libvirt host, stamping each heartbeat with this machine's clock. */
/**
 * What the host's libvirt says of a guest (its domain has the server's uuid): running or not, and
 * the guest's CPU time so far (ns). null when libvirt cannot be asked.
 */
export function guestCpu(labDir: string, host: string, serverId: string): { running: boolean; cpuNs: number } | null {
  const sock = resolve(labDir, 'hosts', host, 'run-libvirt', 'libvirt-sock');
  try {
    const out = execFileSync('virsh', ['-c', `qemu:///system?socket=${sock}`, 'domstats', '--state', '--cpu-total', serverId], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const state = /state\.state=(\d+)/.exec(out);
    const cpu = /cpu\.time=(\d+)/.exec(out);
    if (!state || !cpu) return null;
    return { running: state[1] === '1', cpuNs: Number(cpu[1]) };
  } catch {
    return null;
  }
}

export class HeartbeatWatch {
  readonly beats: Beat[] = [];
  private readonly offsets = new Map<string, { ino: number; off: number; rest: string }>();
  private timer: NodeJS.Timeout | null = null;
  constructor(
    readonly labDir: string,
    readonly hosts: string[],
    readonly serverId: string,
  ) {}

  file(host: string): string {
    return resolve(this.labDir, 'hosts', host, 'nova', 'instances', this.serverId, 'console.log');
  }

  start(): this {
    this.poll();
    this.timer = setInterval(() => this.poll(), 50);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.poll();
  }

  private poll(): void {
    try {
      this.read();
    } catch {
      // the file went away between two calls (the guest left this host): the next poll sees it
    }
  }

  /**
   * Where this guest's console log can be read on `host`: the file at its path, and the files the
   * host's virtlogd holds open for it. virtlogd may keep writing a guest's console into the file of
   * an earlier stay on this host that Nova has since deleted (the path then shows another file, or
   * none): /proc/PID/fd/N still reads it.
   */
  sources(host: string): string[] {
    const out = [this.file(host)];
    try {
      const pid = readFileSync(resolve(this.labDir, 'hosts', host, 'run-libvirt', 'virtlogd.pid'), 'utf8').trim();
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const p = `/proc/${pid}/fd/${fd}`;
        try {
          if (readlinkSync(p).includes(`${this.serverId}/console.log`)) out.push(p);
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // no virtlogd (yet), or not readable: the path alone
    }
    return out;
  }

  private read(): void {
    const now = Date.now();
    for (const host of this.hosts) {
      for (const f of this.sources(host)) this.readSource(host, f, now);
    }
  }

  private readSource(host: string, f: string, now: number): void {
    const key = `${host} ${f}`;
    let st;
    try {
      st = statSync(f);
    } catch {
      this.offsets.delete(key);
      return;
    }
    let cur = this.offsets.get(key);
    if (!cur || cur.ino !== st.ino || st.size < cur.off) {
      // a file not seen before (the guest arrived on this host, or came back): read it whole; beats are unique by number
      cur = { ino: st.ino, off: 0, rest: '' };
      this.offsets.set(key, cur);
    }
    if (st.size <= cur.off) return;
    const fd = openSync(f, 'r');
    try {
      const buf = Buffer.alloc(st.size - cur.off);
      const n = readSync(fd, buf, 0, buf.length, cur.off);
      cur.off += n;
      const text = cur.rest + buf.subarray(0, n).toString('latin1');
      const lines = text.split('\n');
      cur.rest = lines.pop() ?? '';
      for (const line of lines) {
        const m = HB.exec(line.replace(/\r$/, '').trim());
        if (!m) continue;
        const beat = { n: Number(m[1]), up: Number(m[2]), at: now, host };
        if (this.beats.some((b) => b.n === beat.n)) continue;
        this.beats.push(beat);
      }
    } finally {
      closeSync(fd);
    }
  }

  last(): Beat | null {
    return this.beats.reduce<Beat | null>((a, b) => (a === null || b.n > a.n ? b : a), null);
  }

  /** The longest gap, by this machine's clock, between two consecutive heartbeats seen (ms), and where. */
  longestGap(): { ms: number; after: Beat | null } {
    const sorted = [...this.beats].sort((a, b) => a.n - b.n);
    let best = { ms: 0, after: null as Beat | null };
    for (let i = 1; i < sorted.length; i++) {
      const gap = sorted[i]!.at - sorted[i - 1]!.at;
      if (gap > best.ms) best = { ms: gap, after: sorted[i - 1]! };
    }
    return best;
  }
}
