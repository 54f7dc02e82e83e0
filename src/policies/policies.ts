/**
 * Every option of a drain, an undrain and a workflow run, in one table: the
 * file key (kebab-case), the flag that overrides it, the model key
 * (WorkflowPolicies), its kind and bounds, its default, its help text, and
 * which commands take it as a flag. The library's defaults (./options.ts), the
 * JSON schema of workflow files, docs/workflows.md, and the policy flags of
 * `drain`, `plan`, `undrain` and `run` are all built from it.
 */
import type { Options } from 'yargs';
import { durationMs, formatDuration, parseDuration, parseIntFlag } from '../core/durations.js';
import { usageError } from '../core/errors.js';
import { type DrainOptions, type UndrainOptions } from '../machines/options.js';
import type { PolicyOverrides, WorkflowPolicies, WorkflowProblem } from './types.js';

export type PolicyKind =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'duration'; minMs: number; maxMs: number; /** 0 means "off" (stored as null). */ zeroIsNull?: boolean }
  | { kind: 'enum'; choices: readonly string[] }
  | { kind: 'boolean' }
  | { kind: 'string' }
  | { kind: 'string-list' }
  /** A list of some of `choices` (a flag: comma-separated). */
  | { kind: 'enum-list'; choices: readonly string[] };

/** The commands that take a policy as a flag (every policy is a flag of `run`). */
export type PolicyCommand = 'drain' | 'undrain' | 'run';

export type PolicyDef = PolicyKind & {
  /** File key, and the flag's name unless `flag` says otherwise. */
  key: string;
  /** The flag's name where it differs from the file key; the file key is then an alias. */
  flag?: string;
  /** Key in WorkflowPolicies. */
  model: keyof WorkflowPolicies;
  /** null is accepted (and means "none"). */
  nullable: boolean;
  /** In model terms (ms for durations). */
  default: unknown;
  description: string;
  /** Example value shown in docs, in file terms. */
  example?: unknown;
  /** Besides `run`, the commands that take it as a flag. */
  commands: readonly Exclude<PolicyCommand, 'run'>[];
  /** Heading it is listed under in --help. */
  group: string;
};

/** Where an effective policy value came from. */
export type PolicySourceKind = 'default' | 'file' | 'flag';
export type PolicySources = Record<string, PolicySourceKind>;

const H = 3_600_000;
const EXACT = { exact: true } as const;
const DRAIN = ['drain'] as const;
const BOTH = ['drain', 'undrain'] as const;
const G = { drain: 'Drain:', targets: 'Targets:', instances: 'Instances:', migrations: 'Migrations:', undrain: 'Undrain:', rolling: 'Rolling runs:' };

export const POLICIES: readonly PolicyDef[] = [
  { key: 'reason', model: 'reason', kind: 'string', nullable: false, default: 'maintenance', commands: DRAIN, group: G.drain, description: 'Why: stamped on the service as "hostmaint:<run-id>: <reason>"' },
  { key: 'concurrency', model: 'concurrency', kind: 'int', min: 1, max: 64, nullable: false, default: 2, commands: BOTH, group: G.migrations, description: "Migration requests kept queued in Nova ahead of the source compute's free slots (Nova runs max_concurrent_live_migrations per compute; in flight at most 16, or this many when higher)" },
  { key: 'retries', model: 'retries', kind: 'int', min: 0, max: 10, nullable: false, default: 2, commands: BOTH, group: G.migrations, description: 'Extra attempts after a failed migration' },
  { key: 'migration-timeout', model: 'migrationTimeoutMs', kind: 'duration', minMs: 10_000, maxMs: 48 * H, nullable: false, default: H, commands: BOTH, group: G.migrations, description: 'A migration running longer than this gets the on-timeout policy' },
  { key: 'stall-timeout', model: 'stallTimeoutMs', kind: 'duration', minMs: 5_000, maxMs: 24 * H, nullable: false, default: 300_000, commands: BOTH, group: G.migrations, description: 'A migration with no memory progress for this long gets the on-timeout policy' },
  { key: 'on-timeout', model: 'onTimeout', kind: 'enum-list', choices: ['abort', 'force-complete', 'wait'], nullable: false, default: ['abort'], commands: BOTH, group: G.migrations, description: 'What to do with a stalled or overlong migration, as a ladder tried in order, each step when the one before has not finished it within another stall timeout (e.g. force-complete,abort; abort: it stays on the source, then is retried)', example: ['force-complete', 'abort'] },
  { key: 'poll-interval', model: 'pollIntervalMs', kind: 'duration', minMs: 200, maxMs: 600_000, nullable: false, default: 2000, commands: BOTH, group: G.migrations, description: 'How often to look at the migrations (a constant number of API calls per poll)' },
  { key: 'wait-timeout', model: 'waitTimeoutMs', kind: 'duration', minMs: 0, maxMs: 24 * H, nullable: false, default: 300_000, commands: DRAIN, group: G.instances, description: 'How long to wait for busy instances (task in progress, BUILD) before calling them blocked' },
  { key: 'stopped', model: 'stopped', kind: 'enum', choices: ['cold', 'leave', 'fail'], nullable: false, default: 'cold', commands: DRAIN, group: G.instances, description: 'SHUTOFF instances: cold-migrate (then confirm), leave them, or refuse' },
  { key: 'shelved', model: 'shelved', kind: 'enum', choices: ['offload', 'leave', 'fail'], nullable: false, default: 'offload', commands: DRAIN, group: G.instances, description: 'SHELVED instances: shelve-offload, leave them, or refuse' },
  { key: 'deadline', model: 'deadlineMs', kind: 'duration', minMs: 10_000, maxMs: 7 * 24 * H, zeroIsNull: true, nullable: true, default: null, commands: DRAIN, group: G.migrations, description: 'Bound the whole drain, from its start: after this long no migration is started, those still running get the on-timeout action, and what has not left is reported (exit 4); null: no deadline' },
  { key: 'instance-order', model: 'instanceOrder', kind: 'enum', choices: ['largest-first', 'smallest-first', 'listing', 'priority'], nullable: false, default: 'largest-first', commands: DRAIN, group: G.migrations, description: "The order the instances are asked to move in: largest first (the shortest drain, measured), smallest first, Nova's listing, or by the server metadata hostmaint:priority (highest first)" },
  { key: 'max-incoming', model: 'maxIncoming', kind: 'int', min: 1, max: 64, nullable: true, default: null, commands: DRAIN, group: G.migrations, description: 'At most this many moves in flight to one destination host (pins each instance to its planned host); null: no limit' },
  { key: 'instance-policies', model: 'instancePolicies', kind: 'enum-list', choices: ['live', 'cold', 'stop'], nullable: false, default: ['live', 'cold'], commands: DRAIN, group: G.instances, description: "The owners' hostmaint:policy server metadata values honoured: live, cold (Nova's migrate of a running server), stop (stop, cold-migrate, start); an owner's value outside the list is ignored", example: ['live', 'cold'] },
  { key: 'fallback', model: 'fallback', kind: 'boolean', nullable: false, default: false, commands: DRAIN, group: G.migrations, description: "After a live migration failed (every attempt), move an ACTIVE instance cold, or stopped and started again, where its policy allows it (the owner asked for nothing else and --instance-policies allows cold or stop); costs the instance downtime" },
  { key: 'skip-blocked', model: 'skipBlocked', kind: 'boolean', nullable: false, default: false, commands: DRAIN, group: G.instances, description: 'Leave instances that cannot move (SUSPENDED, ERROR, RESCUE, locked, PCI ...) instead of refusing' },
  { key: 'targets', flag: 'target', model: 'targets', kind: 'string-list', nullable: true, default: null, commands: DRAIN, group: G.targets, description: 'Only these hosts may receive instances (Nova still validates; never forced); null: any host', example: ['compute-02', 'compute-03'] },
  { key: 'aggregate', model: 'aggregate', kind: 'string', nullable: true, default: null, commands: DRAIN, group: G.targets, description: 'Only hosts of this host aggregate (name or id)' },
  { key: 'availability-zone', model: 'availabilityZone', kind: 'string', nullable: true, default: null, commands: DRAIN, group: G.targets, description: 'Only hosts in this availability zone' },
  { key: 'pin-to-plan', model: 'pinToPlan', kind: 'boolean', nullable: false, default: false, commands: DRAIN, group: G.targets, description: 'Request the planned host for each instance instead of letting the scheduler choose' },
  { key: 'allow-unreachable-targets', model: 'allowUnreachableTargets', kind: 'boolean', nullable: false, default: false, commands: DRAIN, group: G.targets, description: "Use targets this machine cannot reach, by name or by Nova's host_ip, instead of refusing (from a jump host the computes may still reach each other)" },
  { key: 'probe-port', model: 'probePort', kind: 'int', min: 1, max: 65535, nullable: true, default: null, commands: DRAIN, group: G.targets, description: "TCP port each target must answer on, at Nova's host_ip or its name (e.g. 16509 for libvirt, 22 for ssh); null: a route check only" },
  { key: 'probe-timeout', model: 'probeTimeoutMs', kind: 'duration', minMs: 100, maxMs: 60_000, nullable: false, default: 3000, commands: DRAIN, group: G.targets, description: 'Timeout of one reachability check (a name lookup or a TCP probe)' },
  { key: 'wait-up', model: 'waitUpTimeoutMs', kind: 'duration', minMs: 1_000, maxMs: 24 * H, zeroIsNull: true, nullable: true, default: null, commands: ['undrain'], group: G.undrain, description: 'Before enabling, wait up to this long for the service to report up, e.g. after a reboot (0 or null: do not wait)' },
  { key: 'max-parallel', model: 'maxParallel', kind: 'int', min: 1, max: 64, nullable: false, default: 1, commands: [], group: G.rolling, description: 'Rolling runs over several hosts: how many hosts are worked on at once' },
  { key: 'max-total', model: 'maxTotal', kind: 'int', min: 1, max: 256, nullable: true, default: null, commands: [], group: G.rolling, description: "Rolling runs: at most this many moves in flight across all the hosts being worked on at once (each host's drain waits for room); null: no limit beyond each host's" },
  { key: 'continue-on-failure', model: 'continueOnFailure', kind: 'boolean', nullable: false, default: false, commands: [], group: G.rolling, description: 'Rolling runs: go on with the next hosts after one failed (default: stop starting new ones)' },
  { key: 'order', model: 'order', kind: 'enum', choices: ['given', 'emptiest'], nullable: false, default: 'given', commands: [], group: G.rolling, description: 'Rolling runs: the order of the hosts (as given, or the emptiest first)' },
];

/**
 * Options only the library takes (no flag, no file key): how long a request
 * may leave no trace before it counts as failed, and how many polls in a row
 * may fail before a run gives up.
 */
export const LIBRARY_DEFAULTS = { requestGraceMs: 60_000, maxPollErrors: 5 } as const;

/** The flag's name of a policy. */
export function flagName(p: PolicyDef): string {
  return p.flag ?? p.key;
}

/** The range of a policy, in words ("from 1 to 64", "from 10s to 48h"). */
export function rangeText(p: PolicyDef): string | null {
  if (p.kind === 'int') return `a whole number from ${p.min} to ${p.max}`;
  if (p.kind === 'duration') return `a duration from ${formatDuration(p.minMs, EXACT)} to ${formatDuration(p.maxMs, EXACT)} (250ms, 30s, 5m, 1h30m, or a number of seconds)${p.zeroIsNull ? ', or 0' : ''}`;
  if (p.kind === 'enum') return `one of: ${p.choices.join(', ')}`;
  if (p.kind === 'boolean') return 'true or false';
  if (p.kind === 'string-list') return 'a list of host names';
  if (p.kind === 'enum-list') return `a list of: ${p.choices.join(', ')}`;
  return 'a non-empty string';
}

/** What a policy accepts, in words. */
export function policyExpected(p: PolicyDef): string {
  return `${rangeText(p)}${p.nullable && !zeroIsNull(p) ? ', or null' : ''}`;
}

/** A duration policy where 0 means "off" (null). */
export function zeroIsNull(p: PolicyDef): boolean {
  return p.kind === 'duration' && p.zeroIsNull === true;
}

/** A policy value in file terms (durations as text), for show and docs. */
export function fileValue(p: PolicyDef, v: unknown): unknown {
  if (v === null || v === undefined) return zeroIsNull(p) ? 0 : null;
  if (p.kind === 'duration' && typeof v === 'number') return formatDuration(v, EXACT);
  return v;
}

export function policyByKey(key: string): PolicyDef | undefined {
  return POLICIES.find((p) => p.key === key);
}

/** The defaults, as WorkflowPolicies. */
export function defaultPolicies(): WorkflowPolicies {
  const out: Record<string, unknown> = {};
  for (const p of POLICIES) out[p.model] = Array.isArray(p.default) ? [...(p.default as unknown[])] : p.default;
  return out as unknown as WorkflowPolicies;
}

/**
 * A character a policy string (a reason, an aggregate or zone name) must not hold,
 * described, or null: control characters (a terminal escape), and characters outside
 * the Basic Multilingual Plane (emoji), which Nova's utf8 (3-byte) MySQL columns
 * cannot store and which count twice against its 255-character limits.
 */
export function unstorableChar(text: string): string | null {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    if (cp < 0x20 && ch !== '\t' && ch !== '\n') return `a control character (${hex})`;
    if (cp >= 0x7f && cp <= 0x9f) return `a control character (${hex})`;
    if (cp > 0xffff) return `the character ${ch} (${hex}, outside the Basic Multilingual Plane)`;
  }
  return null;
}

type Parsed = { ok: true; value: unknown } | { ok: false; message: string; expected: string };

/**
 * One raw value (from the file, or a flag as given) to its model value.
 * `fromFlag`: strings are accepted for numbers and booleans, "none"/"null" for nullable ones,
 * and a comma-separated string for lists.
 */
export function parsePolicyValue(p: PolicyDef, raw: unknown, fromFlag = false): Parsed {
  const expected = policyExpected(p);
  const bad = (message: string): Parsed => ({ ok: false, message, expected });
  if (raw === null || (fromFlag && p.nullable && typeof raw === 'string' && /^(none|null)$/i.test(raw.trim()))) {
    return p.nullable ? { ok: true, value: null } : bad('must not be null');
  }
  switch (p.kind) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : fromFlag && typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (typeof raw !== 'number' && !fromFlag) return bad('must be a number');
      if (!Number.isInteger(n)) return bad(`${JSON.stringify(raw)} is not a whole number`);
      if (n < p.min || n > p.max) return bad(`${n} is out of range`);
      return { ok: true, value: n };
    }
    case 'duration': {
      const ms = durationMs(raw);
      if (ms === null) return bad(`${JSON.stringify(raw)} is not a duration`);
      if (ms === 0 && p.zeroIsNull) return { ok: true, value: null };
      if (ms < p.minMs || ms > p.maxMs) return bad(`${typeof raw === 'number' ? `${raw}s` : String(raw)} is out of range`);
      return { ok: true, value: ms };
    }
    case 'enum':
      if (typeof raw !== 'string' || !p.choices.includes(raw)) return bad(`${JSON.stringify(raw)} is not allowed`);
      return { ok: true, value: raw };
    case 'boolean':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (fromFlag && typeof raw === 'string' && /^(true|false)$/i.test(raw.trim())) return { ok: true, value: raw.trim().toLowerCase() === 'true' };
      return bad('must be true or false');
    case 'string':
      if (typeof raw !== 'string' && !(fromFlag && typeof raw === 'number')) return bad('must be a string');
      if (String(raw).trim() === '') return bad('must not be empty');
      {
        const odd = unstorableChar(String(raw));
        if (odd !== null) return bad(`holds ${odd}, which Nova's records cannot hold: use plain text`);
      }
      return { ok: true, value: String(raw).trim() };
    case 'enum-list': {
      // One value is a list of one ("on-timeout: abort"); a flag may be comma-separated.
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : null;
      if (!items) return bad('must be a list');
      const words = items.flatMap((t) => (typeof t === 'string' ? t.split(',') : [t])).map((t) => (typeof t === 'string' ? t.trim() : t)).filter((t) => t !== '');
      const wrong = words.find((w) => typeof w !== 'string' || !p.choices.includes(w));
      if (wrong !== undefined) return bad(`${JSON.stringify(wrong)} is not allowed`);
      if (words.length === 0) return bad('must name at least one');
      return { ok: true, value: [...new Set(words as string[])] };
    }
    case 'string-list': {
      const items = Array.isArray(raw) ? raw : fromFlag && typeof raw === 'string' ? [raw] : null;
      if (!items) return bad('must be a list');
      const names = fromFlag ? items.flatMap((t) => String(t).split(',')).map((t) => t.trim()).filter(Boolean) : items;
      if (fromFlag && names.length === 0) return bad(`${JSON.stringify(items.join(','))} names no host`);
      if (names.some((t) => typeof t !== 'string' || t.trim() === '' || /\s/.test(t))) return bad('must hold host names (no spaces, not empty)');
      return { ok: true, value: names.length > 0 ? [...(names as string[])] : null };
    }
  }
}

export interface ResolvedPolicies {
  policies: WorkflowPolicies;
  sources: PolicySources;
  problems: WorkflowProblem[];
}

/**
 * Effective policies: defaults <- the file's `policies` <- overrides (raw CLI values keyed by
 * file key; undefined = not given). A bad value in the file is a problem (its default is kept);
 * a bad flag is a usage error.
 */
export function resolvePolicies(filePolicies: Record<string, unknown> | null | undefined, overrides: PolicyOverrides = {}): ResolvedPolicies {
  const policies = defaultPolicies() as unknown as Record<string, unknown>;
  const sources: PolicySources = {};
  const problems: WorkflowProblem[] = [];
  for (const p of POLICIES) {
    sources[p.key] = 'default';
    const file = filePolicies ?? {};
    if (Object.prototype.hasOwnProperty.call(file, p.key) && file[p.key] !== undefined) {
      const r = parsePolicyValue(p, file[p.key]);
      if (r.ok) {
        policies[p.model] = r.value;
        sources[p.key] = 'file';
      } else {
        problems.push({ path: `/policies/${p.key}`, line: null, column: null, message: `${p.key}: ${r.message}`, expected: r.expected, severity: 'error' });
      }
    }
    const flag = overrides[p.key];
    if (flag !== undefined) {
      policies[p.model] = parseFlagValue(p, flag);
      sources[p.key] = 'flag';
    }
  }
  for (const key of Object.keys(overrides)) {
    if (overrides[key] !== undefined && !policyByKey(key)) {
      problems.push({ path: '', line: null, column: null, message: `--${key} is not a policy`, expected: `one of: ${POLICIES.map((p) => p.key).join(', ')}`, severity: 'error' });
    }
  }
  return { policies: policies as unknown as WorkflowPolicies, sources, problems };
}

/** How migrations are driven: the same for a drain and for moving instances back. */
function migrationOptions(p: WorkflowPolicies) {
  return {
    concurrency: p.concurrency,
    retries: p.retries,
    migrationTimeoutMs: p.migrationTimeoutMs,
    stallTimeoutMs: p.stallTimeoutMs,
    onTimeout: p.onTimeout,
    pollIntervalMs: p.pollIntervalMs,
  };
}

/** The drain's options from the effective policies (runId and dryRun are the caller's). */
export function drainOptionsFrom(p: WorkflowPolicies): DrainOptions {
  return {
    reason: p.reason,
    ...migrationOptions(p),
    waitTimeoutMs: p.waitTimeoutMs,
    stopped: p.stopped,
    shelved: p.shelved,
    skipBlocked: p.skipBlocked,
    instanceOrder: p.instanceOrder,
    deadlineMs: p.deadlineMs,
    maxIncoming: p.maxIncoming,
    instancePolicies: [...p.instancePolicies],
    fallback: p.fallback,
    targets: p.targets ? [...p.targets] : null,
    aggregate: p.aggregate,
    availabilityZone: p.availabilityZone,
    pinToPlan: p.pinToPlan,
    probePort: p.probePort,
    probeTimeoutMs: p.probeTimeoutMs,
    allowUnreachableTargets: p.allowUnreachableTargets,
  };
}

/** The undrain's options (enable, return-instances) from the effective policies. */
export function undrainOptionsFrom(p: WorkflowPolicies): UndrainOptions {
  return { waitUpTimeoutMs: p.waitUpTimeoutMs, ...migrationOptions(p) };
}

/**
 * A flag's value (as given on the command line, or recorded from it) to its model value, within
 * the same bounds as the file; a usage error naming the flag otherwise. "none" is null for the
 * policies that take null, and 0 is "off" where the file's 0 is (wait-up).
 */
export function parseFlagValue(p: PolicyDef, raw: unknown): unknown {
  const flag = flagName(p);
  if (p.nullable && typeof raw === 'string' && /^(none|null)$/i.test(raw.trim())) return null;
  if (p.kind === 'int') return parseIntFlag(flag, raw, p.min, p.max);
  if (p.kind === 'duration') return p.zeroIsNull && durationMs(raw) === 0 ? null : parseDuration(flag, raw, { minMs: p.minMs, maxMs: p.maxMs });
  if (p.kind === 'string' && String(raw ?? '').trim() === '') throw usageError(`--${flag} is empty`, `Give ${policyExpected(p)}.`);
  const r = parsePolicyValue(p, raw, true);
  if (!r.ok) throw usageError(`--${flag} ${r.message}`, `Give ${r.expected}.`);
  return r.value;
}

export const POLICY_FLAG_GROUP = 'Policies (override the workflow file):';

function takes(p: PolicyDef, command: PolicyCommand): boolean {
  return command === 'run' || (p.commands as readonly string[]).includes(command);
}

/**
 * yargs options of a command's policy flags, keyed by flag name. No yargs defaults: an absent flag
 * leaves the workflow's value. `run` lists every policy with its range; `drain` and `undrain` list
 * theirs under their own headings with the default of the workflow they run.
 */
export function policyFlagOptions(command: PolicyCommand): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const p of POLICIES.filter((x) => takes(x, command))) {
    const range = `${rangeText(p)}${p.nullable ? '; "none" for none' : ''}`;
    const shipped = fileValue(p, p.default);
    const o: Options =
      command === 'run'
        ? { group: POLICY_FLAG_GROUP, describe: `${p.description} [${range}]` }
        : { group: p.group, describe: `${p.description} [default: from the ${command} workflow, shipped ${Array.isArray(shipped) ? shipped.join(' ') : String(shipped ?? 'none')}]` };
    if (p.kind === 'enum') o.choices = [...p.choices];
    else if (p.kind === 'boolean') o.type = 'boolean';
    else if (p.kind === 'int') o.type = 'number';
    else if (p.kind === 'enum-list') o.type = 'string'; // comma-separated (not a yargs array: that would take the next words too)
    else if (p.kind === 'string-list') {
      o.type = 'string';
      o.array = true;
    } else o.type = 'string';
    if (p.flag) o.alias = p.key;
    out[flagName(p)] = o;
  }
  return out;
}

/** The policy flags a command was given (yargs argv), as PolicyOverrides keyed by file key, raw as given. */
export function policyOverridesFromArgv(argv: Record<string, unknown>, command: PolicyCommand): PolicyOverrides {
  const out: PolicyOverrides = {};
  for (const p of POLICIES.filter((x) => takes(x, command))) {
    const v = argv[flagName(p)] ?? argv[p.key];
    if (v !== undefined) out[p.key] = v;
  }
  return out;
}

/**
 * What is wrong with saved options (a run record's `options`, a snapshot's
 * `context.options`: model keys, durations in ms), by the same bounds as the
 * flags; null when nothing is. Keys that are not policies are not checked.
 */
export function savedOptionsProblem(options: unknown): string | null {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return 'the options are not an object';
  const o = options as Record<string, unknown>;
  for (const p of POLICIES) {
    if (!Object.prototype.hasOwnProperty.call(o, p.model)) continue;
    const v = o[p.model];
    if (v === undefined) continue;
    const name = `${p.model} (--${flagName(p)})`;
    if (v === null) {
      if (p.nullable || (p.kind === 'duration' && p.zeroIsNull)) continue;
      return `${name} is null`;
    }
    if (p.kind === 'int' && (!Number.isInteger(v) || (v as number) < p.min || (v as number) > p.max)) return `${name} is ${JSON.stringify(v)}, not ${rangeText(p)}`;
    if (p.kind === 'duration' && (typeof v !== 'number' || !Number.isFinite(v) || v < p.minMs || v > p.maxMs)) return `${name} is ${JSON.stringify(v)} ms, not ${rangeText(p)}`;
    if (p.kind === 'enum' && (typeof v !== 'string' || !p.choices.includes(v))) return `${name} is ${JSON.stringify(v)}, not ${rangeText(p)}`;
    if (p.kind === 'boolean' && typeof v !== 'boolean') return `${name} is ${JSON.stringify(v)}, not true or false`;
    // A single value is a list of one (on-timeout was a single value in runs saved by older versions).
    if (p.kind === 'enum-list' && !(Array.isArray(v) ? v.length > 0 && v.every((x) => p.choices.includes(x)) : typeof v === 'string' && p.choices.includes(v))) return `${name} is ${JSON.stringify(v)}, not ${rangeText(p)}`;
  }
  return null;
}
