/**
 * What must hold after any drain that was killed and resumed, judged from the
 * emulator's own model and its log of requests (never from hostmaint's word):
 *
 * - the host is empty;
 * - every instance that was on it exists, is on another host, and is in its
 *   original state (ACTIVE stays ACTIVE, PAUSED PAUSED, SHUTOFF SHUTOFF), never ERROR;
 * - no instance was migrated twice: no live-migrate (or cold-migrate) request
 *   for a server was sent while an earlier migration of it was still in
 *   progress, and no server completed more than one migration;
 * - the host's nova-compute is disabled with a hostmaint marker.
 *
 * Used by test/emulator/crash-*.test.ts, test/cli/runs-*.test.ts and
 * bench/crash-trials.ts.
 */
import type { Emulator } from '../../src/emulator/index.js';

export interface OriginalServer {
  id: string;
  name: string;
  status: string;
}

export function captureOriginals(emu: Emulator, host: string): OriginalServer[] {
  return emu.state.serversOn(host).map((s) => ({ id: s.id, name: s.name, status: s.status }));
}

const FINAL = new Set(['completed', 'confirmed', 'error', 'failed', 'cancelled', 'reverted', 'done']);
const MOVED = new Set(['completed', 'confirmed']);

export interface DoubleMove {
  server: string;
  action: string;
  requestSeq: number;
  requestTime: number;
  /** The migration that was still in progress. */
  migrationId: number;
  migrationStatus: string;
}

/** Move requests (os-migrateLive / migrate) sent for a server while an earlier migration of it was in progress. */
export function doubleMoves(emu: Emulator): DoubleMove[] {
  const cloud = emu.state.cloud;
  const out: DoubleMove[] = [];
  const byServer = new Map<string, Array<{ id: number; requestId: string; createdAt: number; updatedAt: number; status: string }>>();
  for (const m of cloud.migrations.values()) {
    const list = byServer.get(m.serverId) ?? [];
    list.push({ id: m.id, requestId: m.requestId, createdAt: m.createdAt, updatedAt: m.updatedAt, status: m.status });
    byServer.set(m.serverId, list);
  }
  for (const r of emu.requests.records) {
    if (r.method !== 'POST' || (r.action !== 'os-migrateLive' && r.action !== 'migrate')) continue;
    const serverId = /\/servers\/([^/]+)\/action/.exec(r.path)?.[1];
    if (!serverId) continue;
    for (const m of byServer.get(serverId) ?? []) {
      if (m.requestId === r.requestId) continue;
      const over = FINAL.has(m.status) ? m.updatedAt : Number.POSITIVE_INFINITY;
      if (m.createdAt <= r.time && r.time < over) {
        out.push({ server: cloud.servers.get(serverId)?.name ?? serverId, action: r.action, requestSeq: r.seq, requestTime: r.time, migrationId: m.id, migrationStatus: m.status });
      }
    }
  }
  return out;
}

/** Servers that completed more than one migration. */
export function movedTwice(emu: Emulator, ids: string[]): string[] {
  const cloud = emu.state.cloud;
  const out: string[] = [];
  for (const id of ids) {
    const done = [...cloud.migrations.values()].filter((m) => m.serverId === id && MOVED.has(m.status));
    if (done.length > 1) out.push(`${cloud.servers.get(id)?.name ?? id} completed ${done.length} migrations`);
  }
  return out;
}

export interface InvariantOptions {
  /** Expect the host empty (default true). */
  empty?: boolean;
  /** Servers allowed to stay (e.g. a failing migration reported in the partial result). */
  allowedLeftovers?: string[];
  /** Expect every request to have been accepted once per instance (no faults: exactly one move request per instance). */
  exactlyOneRequest?: boolean;
}

/** Every violated invariant, as a sentence (empty: all hold). */
export function checkInvariants(emu: Emulator, host: string, originals: OriginalServer[], opts: InvariantOptions = {}): string[] {
  const problems: string[] = [];
  const allowed = new Set(opts.allowedLeftovers ?? []);
  const left = emu.state.serversOn(host).filter((s) => !allowed.has(s.name) && !allowed.has(s.id));
  if (opts.empty !== false && left.length > 0) problems.push(`${host} is not empty: ${left.map((s) => `${s.name} (${s.status})`).join(', ')}`);
  for (const o of originals) {
    const s = emu.state.server(o.id);
    if (!s || s.deleted) {
      problems.push(`${o.name} is gone`);
      continue;
    }
    if (s.status === 'ERROR') problems.push(`${o.name} is in ERROR`);
    if (allowed.has(o.name) || allowed.has(o.id)) continue;
    if (s.host === host) continue; // reported above
    if (s.status !== o.status) problems.push(`${o.name} is ${s.status} on ${s.host}, was ${o.status}`);
  }
  for (const d of doubleMoves(emu)) {
    problems.push(`${d.server}: ${d.action} request #${d.requestSeq} sent while migration ${d.migrationId} (${d.migrationStatus}) was in progress`);
  }
  problems.push(...movedTwice(emu, originals.map((o) => o.id)));
  if (opts.exactlyOneRequest) {
    for (const o of originals) {
      const n = emu.requests.records.filter((r) => r.method === 'POST' && (r.action === 'os-migrateLive' || r.action === 'migrate') && r.path.includes(o.id)).length;
      if (n !== 1) problems.push(`${o.name}: ${n} move requests, expected exactly 1`);
    }
  }
  const h = emu.state.host(host);
  if (!h) problems.push(`${host} is gone`);
  else if (h.status !== 'disabled' || !/^hostmaint:/.test(h.disabledReason ?? '')) problems.push(`${host}'s service is ${h.status} ("${h.disabledReason ?? ''}"), not disabled by hostmaint`);
  return problems;
}
