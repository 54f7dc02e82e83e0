/**
 * Undrain's return list: every instance moved off the host since it was
 * disabled, by any hostmaint run on any machine, from Nova's own migration
 * records (source host, time, status), checked against where each instance is
 * now. Skipped, with the reason: moved again since, resized since, deleted,
 * not in the state it was moved in, a cold migration never confirmed.
 *
 * When the time of the disable is unknown (no hostmaint marker), the local
 * saved drain's manifest is the list instead.
 *
 * Requests: one migration listing of the host (paged), one server listing per
 * host the instances went to, and one migration listing per candidate instance
 * (a later move or resize shows there).
 */
import { errorText } from '../core/errors.js';
import type { CallOptions } from '../openstack/api.js';
import type { Migration, Server } from '../openstack/types.js';
import { newRun } from '../machines/pool.js';
import type { InstanceRun, SelectReturnsInput, SelectReturnsOutput } from '../machines/actor-io.js';
import type { ManifestEntry } from '../machines/records.js';
import type { ActorDeps } from './deps.js';

/** Migration records of a finished move (a cold one confirmed). */
const MOVED = new Set(['completed', 'confirmed', 'done']);
const MOVE_TYPES = new Set(['live-migration', 'migration']);

type Candidate = ManifestEntry & { migrationId: number | null; createdAt: string | null };

/** What left `host` since `since`, one entry per instance (its latest such move), from Nova. */
async function movedOff(deps: ActorDeps, host: string, since: string, manifest: ManifestEntry[] | null, notReturned: SelectReturnsOutput['notReturned'], opts: CallOptions): Promise<Candidate[]> {
  // Nova's DB keeps whole seconds (DATETIME): a move requested in the second the run started shows a
  // created_at before the run's start. A move created in that second is the run's when this machine's
  // manifest of the run lists it, or when there is no manifest to ask (null: a run of another machine);
  // else it was an earlier move (a rolling run's previous host giving its instances back).
  const startSecond = Math.floor(Date.parse(since) / 1000) * 1000;
  const listed = manifest === null ? null : new Set(manifest.map((e) => e.serverId));
  const ours = (m: Migration): boolean => {
    if (m.createdAt === null) return true;
    const created = Date.parse(m.createdAt);
    if (created >= startSecond + 1000) return true;
    return created >= startSecond && (listed === null || listed.has(m.serverId));
  };
  const migrations = await deps.compute.listMigrations({ sourceCompute: host, changesSince: new Date(startSecond).toISOString() }, opts);
  const latest = new Map<string, Migration>();
  for (const m of migrations) {
    if (m.sourceCompute !== host || !MOVE_TYPES.has(m.migrationType) || !m.destCompute || m.destCompute === host) continue;
    if (!ours(m)) continue;
    const prev = latest.get(m.serverId);
    if (!prev || m.id > prev.id) latest.set(m.serverId, m);
  }
  const out: Candidate[] = [];
  for (const m of [...latest.values()].sort((a, b) => a.id - b.id)) {
    if (!MOVED.has(m.status.toLowerCase())) {
      const why = m.status === 'finished' ? 'its cold migration awaits a resize confirm' : `its last move off the host ended ${m.status}`;
      if (m.status.toLowerCase() !== 'error' && m.status.toLowerCase() !== 'failed' && m.status.toLowerCase() !== 'cancelled') notReturned.push({ serverId: m.serverId, name: null, reason: why, stranded: true });
      continue;
    }
    const method = m.migrationType === 'migration' ? 'cold' : 'live';
    out.push({ serverId: m.serverId, from: host, to: m.destCompute!, method, migrationId: m.id, createdAt: m.createdAt });
  }
  return out;
}

export async function selectReturns(deps: ActorDeps, input: SelectReturnsInput, signal?: AbortSignal): Promise<SelectReturnsOutput> {
  const opts: CallOptions = { signal };
  const pool: InstanceRun[] = [];
  const notReturned: SelectReturnsOutput['notReturned'] = [];
  const fromNova = input.since !== null;
  const candidates: Candidate[] = fromNova
    ? await movedOff(deps, input.host, input.since!, input.manifestOfRun || input.manifest.length > 0 ? input.manifest : null, notReturned, opts)
    : input.manifest.map((m) => ({ ...m, migrationId: null, createdAt: null }));

  const byTarget = new Map<string, Map<string, Server>>();
  for (const to of [...new Set(candidates.map((m) => m.to))]) {
    const servers = await deps.compute.listServersOnHost(to, opts);
    byTarget.set(to, new Map(servers.map((s) => [s.id, s])));
  }
  const seen = new Set<string>();
  for (const entry of candidates) {
    if (seen.has(entry.serverId)) continue;
    seen.add(entry.serverId);
    const name = entry.name ?? null;
    if (entry.from !== input.host) {
      notReturned.push({ serverId: entry.serverId, name, reason: `the manifest says it came from ${entry.from}, not ${input.host}`, stranded: false });
      continue;
    }
    const s = byTarget.get(entry.to)?.get(entry.serverId);
    if (!s) {
      let where = 'deleted since';
      let stranded = false;
      try {
        const now = await deps.compute.getServer(entry.serverId, opts);
        where = now.host === input.host ? `already back on ${input.host}` : `moved again since: now ${now.status}${now.host ? ` on ${now.host}` : ''}`;
        stranded = now.host !== input.host;
      } catch (e) {
        deps.logger.debug('a moved server was not found', { serverId: entry.serverId, error: errorText(e) });
      }
      notReturned.push({ serverId: entry.serverId, name, reason: `no longer on ${entry.to}, where it was moved: ${where}`, stranded });
      continue;
    }
    if (fromNova && entry.migrationId !== null) {
      // A later migration of this instance (a resize, a move there and back): it is not as it was moved.
      const later = (await deps.compute.listMigrations({ instanceUuid: s.id }, opts)).filter((m) => m.id > entry.migrationId!);
      if (later.length > 0) {
        const last = later.reduce((a, b) => (b.id > a.id ? b : a));
        notReturned.push({ serverId: s.id, name: s.name, reason: `${last.migrationType === 'resize' ? 'resized' : 'moved'} since (migration ${last.id}, ${last.status}): left where it is`, stranded: true });
        continue;
      }
    }
    const wanted = entry.status ? [entry.status] : entry.method === 'cold' ? ['SHUTOFF'] : ['ACTIVE', 'PAUSED'];
    if (!wanted.includes(s.status) || s.taskState) {
      notReturned.push({ serverId: s.id, name: s.name, reason: `${s.status}${s.taskState ? ` (task ${s.taskState})` : ''}, not ${wanted.join(' or ')} as when it was moved: left where it is on ${entry.to}`, stranded: true });
      continue;
    }
    const method = s.status === 'SHUTOFF' ? 'cold' : 'live';
    pool.push(newRun({ serverId: s.id, name: s.name, method, source: entry.to, originalStatus: s.status, plannedTarget: input.host, pinnedHosts: [input.host] }));
  }
  return { pool, notReturned };
}
