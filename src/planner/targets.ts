/**
 * Candidate target hosts for a drain (pure): the other nova-compute services
 * that are enabled and up, restricted by named targets, an aggregate or an
 * availability zone when given.
 */
import type { ComputeService } from '../openstack/types.js';

export interface TargetRestriction {
  /** Only these hosts (exact names). */
  targets: string[] | null;
  /** Hosts of the named aggregate (resolved by the caller), or null for no restriction. */
  aggregateHosts: string[] | null;
  /** Only hosts in this availability zone. */
  availabilityZone: string | null;
}

export interface TargetVerdict {
  host: string;
  zone: string | null;
  usable: boolean;
  /** Why it is not usable (empty when usable). */
  reasons: string[];
  /** The operator named this host in `targets`. */
  named: boolean;
}

export interface CandidateResult {
  verdicts: TargetVerdict[];
  /** Names in `targets` that are no nova-compute service at all. */
  unknownNamed: string[];
}

export function candidateTargets(services: ComputeService[], sourceHost: string, restrict: TargetRestriction): CandidateResult {
  const computes = services.filter((s) => s.binary === 'nova-compute' && s.host !== sourceHost);
  const named = restrict.targets ? new Set(restrict.targets) : null;
  const inAggregate = restrict.aggregateHosts ? new Set(restrict.aggregateHosts) : null;
  const verdicts: TargetVerdict[] = [];
  for (const s of [...computes].sort((a, b) => a.host.localeCompare(b.host))) {
    if (named && !named.has(s.host)) continue;
    if (inAggregate && !inAggregate.has(s.host)) continue;
    if (restrict.availabilityZone !== null && s.zone !== restrict.availabilityZone) continue;
    const reasons: string[] = [];
    if (s.status !== 'enabled') reasons.push(`service disabled${s.disabledReason ? ` (${s.disabledReason})` : ''}`);
    if (s.state !== 'up') reasons.push('service down');
    if (s.forcedDown) reasons.push('service forced down');
    verdicts.push({ host: s.host, zone: s.zone, usable: reasons.length === 0, reasons, named: named !== null });
  }
  const known = new Set(services.filter((s) => s.binary === 'nova-compute').map((s) => s.host));
  const unknownNamed = restrict.targets ? restrict.targets.filter((t) => !known.has(t) || t === sourceHost) : [];
  return { verdicts, unknownNamed };
}

/** Can an instance in `instanceZone` go to a host in `targetZone`? Same AZ unless the instance has none. */
export function zoneAllows(instanceZone: string | null, targetZone: string | null): boolean {
  if (!instanceZone) return true;
  return instanceZone === targetZone;
}
