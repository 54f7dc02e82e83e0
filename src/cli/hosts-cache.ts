/**
 * The compute hosts that drain, plan and undrain saw, kept a short while for shell completion
 * (completion-values.ts), per cloud, in the state directory. Light on purpose: every command
 * loads it. Best effort: a cache that cannot be read or written changes nothing.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** How long the hosts a command saw are offered by completion. */
export const HOSTS_CACHE_TTL_MS = 10 * 60_000;
const HOSTS_CACHE_FILE = 'hosts-cache.json';

/** cloud -> host -> when a command last saw it (ms since the epoch, real time). */
type HostsCache = Record<string, Record<string, number>>;

function readCache(stateDir: string): HostsCache {
  try {
    const data = JSON.parse(readFileSync(path.join(stateDir, HOSTS_CACHE_FILE), 'utf8')) as unknown;
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as HostsCache) : {};
  } catch {
    return {};
  }
}

function fresh(at: unknown, now: number): boolean {
  return typeof at === 'number' && now - at <= HOSTS_CACHE_TTL_MS;
}

/** Keep the compute hosts a command saw on `cloud`, for completion; hosts not seen for the TTL drop out. Best effort. */
export function rememberHosts(stateDir: string, cloud: string, hosts: string[], now: number = Date.now()): void {
  try {
    const cache: HostsCache = {};
    for (const [c, seen] of Object.entries(readCache(stateDir))) {
      if (seen === null || typeof seen !== 'object') continue;
      const kept = Object.entries(seen).filter(([, at]) => fresh(at, now));
      if (kept.length > 0) cache[c] = Object.fromEntries(kept);
    }
    const mine = (cache[cloud] ??= {});
    for (const h of hosts) if (typeof h === 'string' && h !== '') mine[h] = now;
    const file = path.join(stateDir, HOSTS_CACHE_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(cache)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // completion is a convenience: never fail a command for it
  }
}

/** The hosts seen on `cloud` (on any cloud when it is not known) within the TTL. */
export function cachedHosts(stateDirs: string[], cloud: string | null, now: number = Date.now()): string[] {
  const out = new Set<string>();
  for (const dir of stateDirs) {
    for (const [name, seen] of Object.entries(readCache(dir))) {
      if ((cloud !== null && name !== cloud) || seen === null || typeof seen !== 'object') continue;
      for (const [h, at] of Object.entries(seen)) if (fresh(at, now)) out.add(h);
    }
  }
  return [...out];
}
