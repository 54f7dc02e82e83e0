/**
 * The token of a session, in memory only. Authenticates on first use,
 * refreshes shortly before expiry, and on demand after a 401 (once for any
 * number of requests that saw the same stale token). Concurrent callers share
 * one authentication.
 */
import { realClock, type Clock } from '../../core/clock.js';
import type { ResolvedCloud } from '../../config/cloud-types.js';
import { HostmaintError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { ServiceClient, TokenSource } from '../service-client.js';
import { authenticate, type AuthResult } from './keystone.js';

export interface TokenProviderOptions {
  cloud: ResolvedCloud;
  /** The identity ServiceClient on the auth URL (no token source of its own). */
  identity: ServiceClient;
  logger: Logger;
  clock?: Clock;
  /** Refresh this long before expiry (default 5 minutes, at most a tenth of the token's lifetime). */
  refreshMarginMs?: number;
}

/** Resolve `p`, or reject when `signal` aborts first (without cancelling `p` for others). */
function raced<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new HostmaintError('interrupted', 'Cancelled while authenticating'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new HostmaintError('interrupted', 'Cancelled while authenticating'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export class TokenProvider implements TokenSource {
  private readonly cloud: ResolvedCloud;
  private readonly identity: ServiceClient;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly marginMs: number;
  private currentAuth: AuthResult | null = null;
  /** Local clock time after which the token is refreshed. */
  private refreshAt = 0;
  private inflight: Promise<AuthResult> | null = null;
  private count = 0;

  constructor(opts: TokenProviderOptions) {
    this.cloud = opts.cloud;
    this.identity = opts.identity;
    this.logger = opts.logger;
    this.clock = opts.clock ?? realClock;
    this.marginMs = opts.refreshMarginMs ?? 5 * 60_000;
  }

  /** The current authentication (user, project, roles, catalog), authenticating when needed. */
  async auth(opts: { signal?: AbortSignal | undefined } = {}): Promise<AuthResult> {
    if (this.currentAuth && this.clock.now() < this.refreshAt) return this.currentAuth;
    return raced(this.refresh(this.currentAuth ? 'the token is about to expire' : null), opts.signal);
  }

  async token(opts: { force?: boolean; stale?: string | null; signal?: AbortSignal | undefined } = {}): Promise<string> {
    if (opts.force) {
      // Another request already replaced the token this one was refused with.
      if (this.currentAuth && opts.stale != null && this.currentAuth.token !== opts.stale && this.clock.now() < this.refreshAt) {
        return this.currentAuth.token;
      }
      return (await raced(this.refresh('the service rejected the token (401)'), opts.signal)).token;
    }
    return (await this.auth(opts)).token;
  }

  /** The last authentication, or null before the first. */
  get current(): AuthResult | null {
    return this.currentAuth;
  }

  /** How many times Keystone was asked for a token. */
  get authentications(): number {
    return this.count;
  }

  /** Forget the token (e.g. on close). */
  clear(): void {
    this.currentAuth = null;
    this.refreshAt = 0;
  }

  private refresh(why: string | null): Promise<AuthResult> {
    if (this.inflight) return this.inflight;
    this.count++;
    const p = (async () => {
      const receivedBefore = this.clock.now();
      const a = await authenticate(this.identity, this.cloud);
      const now = this.clock.now();
      // Measure the lifetime on the server's own clock, then count it from our clock: clock skew does not matter.
      const lifetime =
        a.expiresAt !== null ? (a.issuedAt !== null ? a.expiresAt - a.issuedAt : Math.max(0, a.expiresAt - receivedBefore)) : 60 * 60_000;
      const margin = Math.min(this.marginMs, lifetime / 10);
      this.refreshAt = now + lifetime - margin;
      this.currentAuth = a;
      const facts = {
        user: a.user.name ?? a.user.id,
        project: a.project?.name ?? a.project?.id ?? null,
        roles: a.roles,
        validForMs: lifetime,
      };
      if (why) this.logger.info(`re-authenticated with Keystone: ${why}`, facts);
      else this.logger.debug('authenticated with Keystone', facts);
      return a;
    })();
    this.inflight = p;
    const done = () => {
      if (this.inflight === p) this.inflight = null;
    };
    p.then(done, done);
    return p;
  }
}
