/**
 * Choosing the coordination backend: `--coordination URL`, else
 * $HOSTMAINT_COORDINATION, else the local backend (the state directory).
 */
import { HostmaintError } from '../../core/errors.js';
import { parseDuration } from '../../core/durations.js';
import type { Logger } from '../../core/log.js';
import { parseEtcdUrl } from './etcd-url.js';
import { loadOperatorConfig } from '../../config/operator.js';
import { LocalCoordination } from './local.js';
import { DEFAULT_TTL_SECONDS } from './types.js';
import type { Coordination } from './types.js';

export type { Coordination, CoordLock, BudgetScope, BudgetClaim, ServiceOut } from './types.js';
export { BUDGET_SCOPES } from './types.js';
export { LocalCoordination } from './local.js';
export { DEFAULT_TTL_SECONDS } from './types.js';

export interface CoordinationChoice {
  /** The flag's value, if given. */
  url?: string | undefined;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  /** The cloud's identity for the keys: its auth URL and region. */
  cloudKey: string;
  cloudName: string;
  ttlSeconds?: number | undefined;
  logger?: Logger;
  notice?: (line: string) => void;
}

/** The URL in force ("local" is the local backend), and where it came from: the flag, the env, the operator's config file. */
export function coordinationUrl(flag: string | undefined, env: NodeJS.ProcessEnv): { url: string | null; from: string } {
  if (flag !== undefined && flag.trim() !== '') return { url: flag.trim() === 'local' ? null : flag.trim(), from: '--coordination' };
  const e = env.HOSTMAINT_COORDINATION;
  if (e !== undefined && e.trim() !== '') return { url: e.trim() === 'local' ? null : e.trim(), from: 'HOSTMAINT_COORDINATION' };
  const file = loadOperatorConfig(env);
  if (file.coordination !== undefined) return { url: file.coordination.trim() === 'local' ? null : file.coordination.trim(), from: `coordination in ${file.file}` };
  return { url: null, from: 'default' };
}

/** Check the URL's form without connecting (usage errors come before anything else). */
export function checkCoordinationUrl(flag: string | undefined, env: NodeJS.ProcessEnv): void {
  const { url, from } = coordinationUrl(flag, env);
  if (url === null) return;
  try {
    parseEtcdUrl(url);
  } catch (e) {
    if (e instanceof HostmaintError && from !== '--coordination') throw new HostmaintError('usage', e.message.replace('--coordination', from), { ...(e.hint !== undefined ? { hint: e.hint } : {}) });
    throw e;
  }
}

/** Open the backend; an etcd that does not answer is exit 6, before anything changes. */
export async function openCoordination(c: CoordinationChoice): Promise<Coordination> {
  const { url } = coordinationUrl(c.url, c.env);
  if (url === null) return new LocalCoordination(c.stateDir);
  const endpoints = parseEtcdUrl(url);
  const fromFile = loadOperatorConfig(c.env)['lease-ttl'];
  const ttl = c.ttlSeconds ?? (c.env.HOSTMAINT_LEASE_TTL ? Number(c.env.HOSTMAINT_LEASE_TTL) : fromFile !== undefined ? parseDuration('lease-ttl', fromFile, { minMs: 2000, maxMs: 3_600_000 }) / 1000 : DEFAULT_TTL_SECONDS);
  if (!Number.isInteger(ttl) || ttl < 2 || ttl > 3600) {
    throw new HostmaintError('usage', `lease TTL ${ttl} is not a whole number of seconds between 2 and 3600`, { hint: 'Give --lease-ttl 15 (the default), or fix HOSTMAINT_LEASE_TTL.' });
  }
  const { EtcdCoordination } = await import('./etcd.js');
  const coord = new EtcdCoordination({ endpoints, cloudKey: c.cloudKey, cloudName: c.cloudName, ttlSeconds: ttl, ...(c.logger ? { logger: c.logger } : {}), ...(c.notice ? { notice: c.notice } : {}) });
  try {
    await coord.check();
  } catch (e) {
    await coord.close().catch(() => undefined);
    throw e;
  }
  return coord;
}
