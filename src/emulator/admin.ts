/**
 * The emulator's own API under /_emulator (state, the request log, faults,
 * token revocation, the virtual clock) and fault application: the same JSON
 * from the scenario's `faults:`, startEmulator({ faults }), emulator.inject()
 * and POST /_emulator/faults.
 */
import type { Clock } from '../core/clock.js';
import { isVirtualClock } from './clock.js';
import type { Cloud } from './cloud.js';
import type { FaultBook, FaultSpec } from './faults.js';
import { FAULT_SCHEMA, isMigrationFault, isRequestFault } from './faults.js';
import type { RequestLog, Route } from './http.js';
import { route } from './http.js';
import type { TokenStore } from './keystone.js';
import type { Scenario } from './scenario.js';
import type { EmulatorState } from './state.js';
import { Ajv } from 'ajv';

let faultValidator: ReturnType<Ajv['compile']> | null = null;
function validateFault(f: unknown): FaultSpec {
  faultValidator ??= new Ajv({ allErrors: true, strict: false }).compile(FAULT_SCHEMA);
  if (!faultValidator(f)) {
    const kind = f && typeof f === 'object' ? (f as { kind?: unknown }).kind : undefined;
    const errs = (faultValidator.errors ?? []).filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'const');
    const msg = errs.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.keyword === 'additionalProperties' ? ` "${String(e.params['additionalProperty'])}"` : ''}`);
    throw new Error(`invalid fault ${JSON.stringify(kind)}: ${msg.slice(0, 3).join('; ') || 'unknown kind'}`);
  }
  return f as FaultSpec;
}

/** Validate a fault and put it into effect now. */
export function faultApplier(cloud: Cloud, faults: FaultBook, tokens: TokenStore): (f: FaultSpec) => void {
  return (f0) => {
    const f = validateFault(f0);
    cloud.sync();
    if (isRequestFault(f)) faults.addRequestFault(f);
    else if (isMigrationFault(f)) faults.addMigrationFault(f);
    else if (f.kind === 'host-down') {
      const h = cloud.hosts.get(f.host);
      if (!h) throw new Error(`host-down fault: unknown host "${f.host}"`);
      cloud.stopHeartbeats(h, f.at ?? cloud.now + (f.in_ms ?? 0), f.immediate ?? false, f.up_after_ms ?? null);
    } else if (f.kind === 'revoke-tokens') tokens.revokeAll();
    else if (f.kind === 'token-lifetime') cloud.identity.tokenLifetimeS = f.seconds;
  };
}

export interface AdminDeps {
  scenario: Scenario;
  clock: Clock;
  cloud: Cloud;
  log: RequestLog;
  state: EmulatorState;
  faults: FaultBook;
  tokens: TokenStore;
  applyFault: (f: FaultSpec) => void;
}

export function adminRoutes({ scenario, clock, cloud, log, state, faults, tokens, applyFault }: AdminDeps): Route[] {
  return [
    route('GET', '/', () => ({
      status: 200,
      body: {
        scenario: scenario.name ?? null,
        now: new Date(cloud.now).toISOString(),
        virtualClock: isVirtualClock(clock),
        hosts: cloud.hosts.size,
        servers: [...cloud.servers.values()].filter((s) => !s.deleted).length,
        migrations: cloud.migrations.size,
        requests: log.length,
      },
    })),
    route('GET', '/state', () => ({ status: 200, body: { hosts: state.hosts(), servers: state.servers(), migrations: state.migrations() } })),
    route('GET', '/requests', (req) => {
      const f = {
        ...(req.query.get('method') ? { method: req.query.get('method')! } : {}),
        ...(req.query.get('action') ? { action: req.query.get('action')! } : {}),
        ...(req.query.get('path') ? { path: req.query.get('path')! } : {}),
      };
      return { status: 200, body: { requests: log.filter(f).filter((r) => r.service !== 'emulator') } };
    }),
    route('DELETE', '/requests', () => (log.clear(), { status: 204 })),
    route('GET', '/faults', () => ({ status: 200, body: { faults: faults.list() } })),
    route('POST', '/faults', (req) => {
      const list = Array.isArray(req.body) ? req.body : [req.body];
      try {
        for (const f of list) applyFault(f as FaultSpec);
      } catch (e) {
        return { status: 400, body: { error: { code: 400, message: (e as Error).message, title: 'Bad Request' } } };
      }
      return { status: 201, body: { faults: faults.list() } };
    }),
    route('DELETE', '/faults', () => (faults.clear(), { status: 204 })),
    route('POST', '/revoke-tokens', () => (tokens.revokeAll(), { status: 204 })),
    route('POST', '/clock/advance', (req) => {
      if (!isVirtualClock(clock)) return { status: 409, body: { error: { code: 409, message: 'not a virtual clock', title: 'Conflict' } } };
      const ms = Number((req.body as { ms?: unknown } | undefined)?.ms ?? 0);
      clock.advance(ms);
      cloud.sync();
      return { status: 200, body: { now: new Date(clock.now()).toISOString() } };
    }),
  ];
}
