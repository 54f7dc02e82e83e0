/**
 * Whose disable it is, decided once, the same way by drain and undrain, from
 * what Nova shows (the service's status and disabled_reason) and what this
 * machine's saved runs know of the run a hostmaint marker names. Nova's
 * service is the record operators share: a run that this machine has no
 * record of may be live on another machine.
 */
import { identifyDisabler, parseMarker } from './marker.js';
import type { ServiceRecord } from './records.js';

/** A saved run this machine knows, as the runner reads it from its state directory. */
export interface KnownRun {
  runId: string;
  command: string;
  host: string;
  /** Over (finished or superseded): it will never act again. */
  finished: boolean;
  /** "running", "interrupted", "finished" ... as saved. */
  state: string;
  who: string;
  startedAt: string;
}

export type ServiceVerdict =
  | { kind: 'enabled' }
  /** Disabled with this run's own marker. */
  | { kind: 'ours' }
  /** Disabled with another hostmaint run's marker; `run` is what this machine knows of it. */
  | { kind: 'hostmaint'; runId: string; reason: string; run: KnownRun | null }
  /** Disabled by someone else (libvirt AUTO:, Masakari, Watcher, a person). */
  | { kind: 'foreign'; reason: string | null };

export function readService(service: ServiceRecord, runId: string, markerRun: KnownRun | null): ServiceVerdict {
  if (service.status === 'enabled') return { kind: 'enabled' };
  const marker = parseMarker(service.disabledReason);
  if (!marker) return { kind: 'foreign', reason: service.disabledReason };
  if (marker.runId === runId) return { kind: 'ours' };
  return { kind: 'hostmaint', runId: marker.runId, reason: marker.reason, run: markerRun && markerRun.runId === marker.runId ? markerRun : null };
}

/** When a generated run id says it started ("20240101T093000Z-3f2a" -> 2024-01-01T09:30:00Z); null for other ids. */
export function runIdTime(runId: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(runId);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : null;
}

/** "hostmaint run R (reason "..."; started T by W, this machine saved it as running)". */
export function describeMarkerRun(v: Extract<ServiceVerdict, { kind: 'hostmaint' }>): string {
  const started = v.run?.startedAt ?? runIdTime(v.runId);
  const facts = [`reason "${v.reason}"`, started ? `started ${started}${v.run ? ` by ${v.run.who}` : ''}` : null];
  facts.push(v.run ? (v.run.finished ? `its run is over (${v.run.state})` : `this machine has it as ${v.run.state}`) : 'this machine has no record of it: it may be live on another machine');
  return `hostmaint run ${v.runId} (${facts.filter(Boolean).join('; ')})`;
}

/** A marker of a run that is over, of this host: nothing will act under it again. */
function isOverOnThisHost(v: Extract<ServiceVerdict, { kind: 'hostmaint' }>, host: string): boolean {
  return v.run !== null && v.run.finished && v.run.host === host;
}

export type DrainDecision =
  | { action: 'disable' }
  | { action: 'keep'; ownership: 'ours' | 'adopted' | 'foreign'; adoptedRunId: string | null; note: string | null }
  | { action: 'refuse'; message: string; hint: string };

/**
 * A drain disables an enabled service; carries on under its own marker; under another hostmaint
 * run's marker only with --adopt, or when this machine knows that run is over; under anyone
 * else's disable it drains and never enables (foreign).
 */
export function drainDecision(v: ServiceVerdict, adopt: boolean, host: string): DrainDecision {
  switch (v.kind) {
    case 'enabled':
      return { action: 'disable' };
    case 'ours':
      return { action: 'keep', ownership: 'ours', adoptedRunId: null, note: null };
    case 'foreign':
      return { action: 'keep', ownership: 'foreign', adoptedRunId: null, note: null };
    case 'hostmaint':
      if (adopt || isOverOnThisHost(v, host)) {
        return { action: 'keep', ownership: 'adopted', adoptedRunId: v.runId, note: `${host} is disabled by ${describeMarkerRun(v)}: this run carries on under its marker${adopt ? ' (--adopt)' : ''}` };
      }
      return {
        action: 'refuse',
        message: `${host} is already disabled by ${describeMarkerRun(v)}`,
        hint: 'Another hostmaint (on another machine, or with another --state-dir) may still be draining it. If that run is over or abandoned, re-run with --adopt to carry on under its marker.',
      };
  }
}

export type UndrainDecision =
  | { action: 'nothing' }
  | { action: 'enable'; forced: boolean }
  | { action: 'refuse'; message: string; hint: string; disabledBy: string };

/**
 * An undrain enables only a disable whose hostmaint run this machine knows is over (its own
 * finished drain); any other marker, or anyone else's disable, only with --force.
 */
export function undrainDecision(v: ServiceVerdict, force: boolean, host: string): UndrainDecision {
  if (v.kind === 'enabled') return { action: 'nothing' };
  // Its own run's disable: a workflow run's enable after its own drain (the same run id).
  if (v.kind === 'ours') return { action: 'enable', forced: false };
  if (v.kind === 'hostmaint' && isOverOnThisHost(v, host)) return { action: 'enable', forced: false };
  if (force) return { action: 'enable', forced: true };
  if (v.kind === 'hostmaint') {
    const by = describeMarkerRun(v);
    return {
      action: 'refuse',
      message: `${host} is disabled by ${by}; undrain enables only the disable of a hostmaint run this machine knows is over`,
      hint: v.run && !v.run.finished ? `Finish or stop that run first (hostmaint status ${v.runId}), or enable anyway with --force.` : 'Ask whoever runs it; if it is over or abandoned, enable anyway with --force.',
      disabledBy: by,
    };
  }
  const by = identifyDisabler(v.kind === 'foreign' ? v.reason : null).description;
  return { action: 'refuse', message: `${host} was disabled by ${by}, not by hostmaint`, hint: 'Find out who disabled it and why; enable anyway with --force.', disabledBy: by };
}

/** How a run holds a service it disabled or carries on under. */
export interface Holding {
  ownership: 'ours' | 'adopted' | 'foreign' | 'none';
  runId: string;
  adoptedRunId: string | null;
  /** The reason it found (foreign) or left: a foreign disable is held while Nova shows exactly that. */
  reason: string | null;
}

/**
 * Nova shows the service as the run holds it: disabled, with the run's own marker, the adopted
 * run's marker, or (foreign) exactly the reason it found.
 */
export function holdsService(svc: ServiceRecord | null, h: Holding): boolean {
  if (!svc || svc.status !== 'disabled') return false;
  const marker = parseMarker(svc.disabledReason);
  if (h.ownership === 'ours') return marker?.runId === h.runId;
  if (h.ownership === 'adopted') return marker?.runId === h.adoptedRunId;
  return svc.disabledReason === h.reason;
}
