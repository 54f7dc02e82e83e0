/**
 * Fault injection for the emulated cloud.
 *
 * Request faults (`http-error`, `reset`, `delay`) are matched against each
 * incoming request before it is handled. Model faults (`migration-fail`,
 * `migration-stall`, `migration-error`) are consumed when a live migration
 * starts. `host-down` stops a compute service's heartbeats at a given time;
 * `revoke-tokens` / `token-lifetime` act on Keystone.
 *
 * Faults come from the scenario (`faults:`), from `startEmulator({ faults })`,
 * from `emulator.inject()`, or from `POST /_emulator/faults` (same JSON).
 * Probabilities use the emulator's seeded RNG: same seed, same dice.
 */
import type { Rng } from './rng.js';

/** Which requests a request fault applies to. Every given field must match. */
export interface RequestMatch {
  /** HTTP method, e.g. "POST". */
  method?: string;
  /**
   * Path pattern, matched against the path without the query string, relative
   * to the service root (e.g. "/servers/*\/action" or "/os-services"). `*`
   * matches one path segment, `**` any number. A pattern starting with "^" is a
   * regular expression on the full request path instead.
   */
  path?: string;
  /** identity | compute | placement | image | emulator */
  service?: 'identity' | 'compute' | 'placement' | 'image';
  /** Server action name in the POST body, e.g. "os-migrateLive", "migrate", "confirmResize". */
  action?: string;
}

interface RequestFaultBase {
  match?: RequestMatch;
  /** Apply to this fraction of matching requests (seeded RNG). Default 1. */
  probability?: number;
  /** Apply this many times, then the fault is spent. Default: unlimited. */
  count?: number;
  /** Let this many matching requests through first. Default 0. */
  after?: number;
  /** Optional label, shown in the request log. */
  name?: string;
}

export interface HttpErrorFault extends RequestFaultBase {
  kind: 'http-error';
  /** Default 500. */
  status?: number;
  /** Reply before handling (default: the request has no effect) or after handling ("after": the effect happened, the client sees an error). */
  when?: 'before' | 'after';
  /** The error body's message (default: the service's generic one), e.g. a 409's "Instance x is locked". */
  message?: string;
}

export interface ResetFault extends RequestFaultBase {
  kind: 'reset';
  /** Reset before handling (default) or after the request took effect (an unknown outcome for the client). */
  when?: 'before' | 'after';
}

export interface DelayFault extends RequestFaultBase {
  kind: 'delay';
  /** Delay in ms of the emulator's clock (virtual ms under a VirtualClock). */
  ms: number;
}

interface MigrationFaultBase {
  /** Instance name or uuid; absent = any instance. */
  server?: string;
  /** Only the Nth live migration started after the fault was added (1-based), counting matching ones. */
  attempt?: number;
  /** How many migrations it affects. Default 1. */
  count?: number;
  name?: string;
}

export interface MigrationFailFault extends MigrationFaultBase {
  kind: 'migration-fail';
  /**
   * precheck: the conductor's pre-checks fail (status `error`, instance stays ACTIVE on the source);
   * running (default): the transfer fails and rolls back (status `failed`, instance ACTIVE on the source).
   */
  phase?: 'precheck' | 'running';
  /** Event details (instance action), default a libvirt-style error. */
  message?: string;
}

export interface MigrationStallFault extends MigrationFaultBase {
  kind: 'migration-stall';
}

export interface MigrationErrorFault extends MigrationFaultBase {
  kind: 'migration-error';
  message?: string;
}

export interface HostDownFault {
  kind: 'host-down';
  host: string;
  /** Stop heartbeats this many ms (emulator clock) after the fault is added. Default 0 (now). It reports down service_down_time later. */
  in_ms?: number;
  /** Or at this absolute time (ms since the epoch, emulator clock). */
  at?: number;
  /** Report down at once (as if service_down_time had already passed). */
  immediate?: boolean;
  /** A reboot: heartbeats resume this many ms after they stopped. Default: never. */
  up_after_ms?: number;
  name?: string;
}

export interface RevokeTokensFault {
  kind: 'revoke-tokens';
  name?: string;
}

export interface TokenLifetimeFault {
  kind: 'token-lifetime';
  /** Lifetime of tokens issued from now on, seconds. */
  seconds: number;
  name?: string;
}

export type RequestFault = HttpErrorFault | ResetFault | DelayFault;
export type MigrationFault = MigrationFailFault | MigrationStallFault | MigrationErrorFault;
export type FaultSpec = RequestFault | MigrationFault | HostDownFault | RevokeTokensFault | TokenLifetimeFault;

const matchSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    method: { type: 'string' },
    path: { type: 'string' },
    service: { enum: ['identity', 'compute', 'placement', 'image'] },
    action: { type: 'string' },
  },
} as const;

const reqBase = {
  match: matchSchema,
  probability: { type: 'number', minimum: 0, maximum: 1 },
  count: { type: 'integer', minimum: 1 },
  after: { type: 'integer', minimum: 0 },
  name: { type: 'string' },
} as const;

const migBase = {
  server: { type: 'string' },
  attempt: { type: 'integer', minimum: 1 },
  count: { type: 'integer', minimum: 1 },
  name: { type: 'string' },
} as const;

/** JSON Schema of one FaultSpec. */
export const FAULT_SCHEMA = {
  type: 'object',
  required: ['kind'],
  oneOf: [
    {
      additionalProperties: false,
      properties: { kind: { const: 'http-error' }, status: { type: 'integer', minimum: 400, maximum: 599 }, when: { enum: ['before', 'after'] }, message: { type: 'string' }, ...reqBase },
    },
    { additionalProperties: false, properties: { kind: { const: 'reset' }, when: { enum: ['before', 'after'] }, ...reqBase } },
    { additionalProperties: false, required: ['ms'], properties: { kind: { const: 'delay' }, ms: { type: 'number', minimum: 0 }, ...reqBase } },
    {
      additionalProperties: false,
      properties: { kind: { const: 'migration-fail' }, phase: { enum: ['precheck', 'running'] }, message: { type: 'string' }, ...migBase },
    },
    { additionalProperties: false, properties: { kind: { const: 'migration-stall' }, ...migBase } },
    { additionalProperties: false, properties: { kind: { const: 'migration-error' }, message: { type: 'string' }, ...migBase } },
    {
      additionalProperties: false,
      required: ['host'],
      properties: {
        kind: { const: 'host-down' },
        host: { type: 'string' },
        in_ms: { type: 'number', minimum: 0 },
        at: { type: 'number' },
        immediate: { type: 'boolean' },
        up_after_ms: { type: 'number', minimum: 0 },
        name: { type: 'string' },
      },
    },
    { additionalProperties: false, properties: { kind: { const: 'revoke-tokens' }, name: { type: 'string' } } },
    {
      additionalProperties: false,
      required: ['seconds'],
      properties: { kind: { const: 'token-lifetime' }, seconds: { type: 'number', exclusiveMinimum: 0 }, name: { type: 'string' } },
    },
  ],
} as const;

export interface RequestInfo {
  method: string;
  /** Full path, e.g. /compute/v2.1/servers/abc/action */
  path: string;
  /** Path relative to the service root, e.g. /servers/abc/action */
  servicePath: string;
  service: string;
  action: string | null;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}/?$`);
}

export function requestMatches(m: RequestMatch | undefined, r: RequestInfo): boolean {
  if (!m) return true;
  if (m.method && m.method.toUpperCase() !== r.method) return false;
  if (m.service && m.service !== r.service) return false;
  if (m.action && m.action !== r.action) return false;
  if (m.path) {
    if (m.path.startsWith('^')) {
      if (!new RegExp(m.path).test(r.path)) return false;
    } else if (!globToRegExp(m.path).test(r.servicePath) && !globToRegExp(m.path).test(r.path)) return false;
  }
  return true;
}

interface ActiveRequestFault {
  spec: RequestFault;
  seen: number;
  applied: number;
}

export interface ActiveMigrationFault {
  spec: MigrationFault;
  seen: number;
  applied: number;
}

/** The emulator's set of active faults. */
export class FaultBook {
  private requestFaults: ActiveRequestFault[] = [];
  private migrationFaults: ActiveMigrationFault[] = [];

  constructor(private readonly rng: Rng) {}

  addRequestFault(spec: RequestFault): void {
    this.requestFaults.push({ spec, seen: 0, applied: 0 });
  }

  addMigrationFault(spec: MigrationFault): void {
    this.migrationFaults.push({ spec, seen: 0, applied: 0 });
  }

  clear(): void {
    this.requestFaults = [];
    this.migrationFaults = [];
  }

  /** Active (unspent) faults, for diagnostics. */
  list(): FaultSpec[] {
    return [...this.requestFaults.map((f) => f.spec), ...this.migrationFaults.map((f) => f.spec)];
  }

  /**
   * The request faults that fire for this request (at most one of each kind;
   * delay composes with the others). Counts are consumed.
   */
  forRequest(r: RequestInfo): RequestFault[] {
    const fired: RequestFault[] = [];
    const kinds = new Set<string>();
    for (const f of this.requestFaults) {
      if (kinds.has(f.spec.kind)) continue;
      if (f.spec.kind !== 'delay' && (kinds.has('http-error') || kinds.has('reset'))) continue;
      if (!requestMatches(f.spec.match, r)) continue;
      f.seen++;
      if (f.seen <= (f.spec.after ?? 0)) continue;
      const p = f.spec.probability ?? 1;
      if (p < 1 && this.rng.next() >= p) continue;
      f.applied++;
      fired.push(f.spec);
      kinds.add(f.spec.kind);
    }
    this.requestFaults = this.requestFaults.filter((f) => f.spec.count === undefined || f.applied < f.spec.count);
    return fired;
  }

  /** The model fault for a live migration of this server that is starting, if any (consumed). */
  forMigration(server: { id: string; name: string }): MigrationFault | null {
    let hit: ActiveMigrationFault | null = null;
    for (const f of this.migrationFaults) {
      if (f.spec.server && f.spec.server !== server.id && f.spec.server !== server.name) continue;
      f.seen++;
      if (f.spec.attempt !== undefined && f.seen < f.spec.attempt) continue;
      if (!hit) {
        hit = f;
        f.applied++;
      }
    }
    this.migrationFaults = this.migrationFaults.filter((f) => f.applied < (f.spec.count ?? 1));
    return hit?.spec ?? null;
  }
}

export function isRequestFault(f: FaultSpec): f is RequestFault {
  return f.kind === 'http-error' || f.kind === 'reset' || f.kind === 'delay';
}

export function isMigrationFault(f: FaultSpec): f is MigrationFault {
  return f.kind === 'migration-fail' || f.kind === 'migration-stall' || f.kind === 'migration-error';
}
