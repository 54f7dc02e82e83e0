/**
 * The library's options resolved: every value the caller left out takes its
 * default. The defaults are the policy table's (./policies.ts), the same the
 * CLI and the workflow files use.
 */
import { ladderOf } from '../machines/options.js';
import type { DrainOptions, MoveOptions, ResolvedDrainOptions, ResolvedMoveOptions, ResolvedUndrainOptions, UndrainOptions } from '../machines/options.js';
import { defaultPolicies, drainOptionsFrom, LIBRARY_DEFAULTS } from './policies.js';

/** Every drain option's default: the policy table's, and the library's own knobs. */
export const DRAIN_DEFAULTS: ResolvedDrainOptions = {
  ...(drainOptionsFrom(defaultPolicies()) as Omit<ResolvedDrainOptions, 'dryRun' | 'admin' | 'requestGraceMs' | 'maxPollErrors'>),
  ...LIBRARY_DEFAULTS,
  dryRun: false,
  admin: true,
  // Set from deadlineMs when a drain starts (library/drain.ts).
  deadlineAt: null,
};

/** The options a drain and an undrain's return share (MoveOptions), with the table's defaults. */
function resolveMoveOptions(o: MoveOptions): ResolvedMoveOptions {
  return {
    retries: Math.max(0, Math.floor(o.retries ?? DRAIN_DEFAULTS.retries)),
    stallTimeoutMs: o.stallTimeoutMs ?? DRAIN_DEFAULTS.stallTimeoutMs,
    migrationTimeoutMs: o.migrationTimeoutMs ?? DRAIN_DEFAULTS.migrationTimeoutMs,
    onTimeout: ladderOf(o.onTimeout ?? DRAIN_DEFAULTS.onTimeout),
    pollIntervalMs: Math.max(1, o.pollIntervalMs ?? DRAIN_DEFAULTS.pollIntervalMs),
    requestGraceMs: o.requestGraceMs ?? DRAIN_DEFAULTS.requestGraceMs,
    maxPollErrors: Math.max(1, o.maxPollErrors ?? DRAIN_DEFAULTS.maxPollErrors),
  };
}

export function resolveDrainOptions(o: DrainOptions = {}): ResolvedDrainOptions {
  const pick = <K extends keyof ResolvedDrainOptions>(k: K): ResolvedDrainOptions[K] => {
    const v = (o as Record<string, unknown>)[k];
    return (v === undefined ? DRAIN_DEFAULTS[k] : v) as ResolvedDrainOptions[K];
  };
  const r: ResolvedDrainOptions = {
    reason: pick('reason'),
    dryRun: pick('dryRun'),
    concurrency: Math.max(1, Math.floor(pick('concurrency'))),
    stopped: pick('stopped'),
    shelved: pick('shelved'),
    skipBlocked: pick('skipBlocked'),
    instanceOrder: pick('instanceOrder'),
    deadlineMs: o.deadlineMs && o.deadlineMs > 0 ? o.deadlineMs : null,
    deadlineAt: null,
    maxIncoming: o.maxIncoming && o.maxIncoming > 0 ? Math.floor(o.maxIncoming) : null,
    fallback: pick('fallback'),
    instancePolicies: o.instancePolicies && o.instancePolicies.length > 0 ? [...o.instancePolicies] : [...DRAIN_DEFAULTS.instancePolicies],
    waitTimeoutMs: Math.max(0, pick('waitTimeoutMs')),
    targets: o.targets && o.targets.length > 0 ? [...o.targets] : null,
    aggregate: o.aggregate ?? null,
    availabilityZone: o.availabilityZone ?? null,
    pinToPlan: pick('pinToPlan'),
    probePort: o.probePort ?? null,
    allowUnreachableTargets: pick('allowUnreachableTargets'),
    probeTimeoutMs: pick('probeTimeoutMs'),
    ...resolveMoveOptions(o),
    admin: pick('admin'),
  };
  return r;
}

export function resolveUndrainOptions(o: UndrainOptions = {}): ResolvedUndrainOptions {
  return {
    force: o.force ?? false,
    waitUpTimeoutMs: o.waitUpTimeoutMs && o.waitUpTimeoutMs > 0 ? o.waitUpTimeoutMs : null,
    returnInstances: o.returnInstances ?? false,
    manifest: (o.manifest ?? []).map((m) => ({ ...m })),
    concurrency: Math.max(1, Math.floor(o.concurrency ?? DRAIN_DEFAULTS.concurrency)),
    ...resolveMoveOptions(o),
  };
}
