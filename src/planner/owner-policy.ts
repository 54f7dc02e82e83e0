/**
 * Owners state how their instance may move (server metadata `hostmaint:policy`: live, cold or
 * stop); the operator decides which of those are honoured (--instance-policies, default live,cold).
 * An owner can only choose among the ways that empty the host: never to stay (that is the
 * operator's --skip-blocked). Pure: a classification and its server in, the classification with the
 * policy in force out.
 */
import type { Server } from '../openstack/types.js';
import type { InstancePolicy } from '../machines/options.js';
import type { Classification } from '../machines/plan.js';
import { hardwareFeatures } from './classify.js';

export const OWNER_POLICY_KEY = 'hostmaint:policy';
const ALL: readonly InstancePolicy[] = ['live', 'cold', 'stop'];

/** The owner's stated policy: live, cold, stop; 'invalid' for anything else; null when unset. */
export function ownerPolicyOf(server: Pick<Server, 'metadata'>): InstancePolicy | 'invalid' | null {
  const v = (server.metadata ?? {})[OWNER_POLICY_KEY];
  if (typeof v !== 'string') return null;
  const w = v.trim().toLowerCase();
  return (ALL as readonly string[]).includes(w) ? (w as InstancePolicy) : 'invalid';
}

/**
 * A running instance whose hardware forbids a live migration but not a cold one (a vGPU, PCI
 * passthrough, vTPM, SEV) moves cold when its owner asks for cold or stop within
 * --instance-policies, or when the operator allows no live migration: blocked otherwise.
 */
function hardwareByPolicy(c: Classification, server: Pick<Server, 'metadata' | 'id' | 'flavor'>, allowed: readonly InstancePolicy[]): Classification {
  if (hardwareFeatures(server.flavor.extraSpecs ?? {}).some((h) => h.blocksCold)) return { ...c, policy: defaultPolicy(c) };
  const owner = ownerPolicyOf(server);
  let chosen: InstancePolicy | null = null;
  let source: 'owner' | 'operator' = 'owner';
  if ((owner === 'cold' || owner === 'stop') && allowed.includes(owner)) chosen = owner;
  else if (!allowed.includes('live')) {
    chosen = allowed.includes('cold') ? 'cold' : allowed.includes('stop') ? 'stop' : null;
    source = 'operator';
  }
  if (chosen === null) return { ...c, policy: defaultPolicy(c) };
  const by = source === 'owner' ? `its owner's ${OWNER_POLICY_KEY}` : '--instance-policies';
  const what = c.reason.replace(/: cannot be live-migrated$/, '');
  return {
    ...c,
    class: 'cold',
    reason: chosen === 'cold' ? `${what}: cannot be live-migrated; cold migration, as ${by} asks, then confirm` : `${what}: cannot be live-migrated; stopped, cold-migrated, confirmed and started again, as ${by} asks`,
    category: null,
    remedy: null,
    override: null,
    blocking: false,
    notes: c.notes.filter((n) => !n.includes('--skip-blocked')),
    policy: { value: chosen, source },
    stopFirst: chosen === 'stop',
  };
}

/** How a classification moves, as a policy value (its class for those that are not moved live or cold). */
function defaultPolicy(c: Classification): Classification['policy'] {
  return { value: c.class, source: 'default' };
}

/**
 * The classification with the policy in force. Only a running instance (class live: ACTIVE or
 * PAUSED, not already moving) has a choice: a stopped one is cold-migrated anyway, a shelved one
 * offloaded. Nova cold-migrates ACTIVE and SHUTOFF servers only: a PAUSED one stays live.
 */
export function applyInstancePolicy(c: Classification, server: Pick<Server, 'metadata' | 'id' | 'flavor'>, allowed: readonly InstancePolicy[]): Classification {
  if (c.class === 'blocked' && c.category === 'hardware' && c.status === 'ACTIVE') return hardwareByPolicy(c, server, allowed);
  if (c.class !== 'live' || c.adopt) return { ...c, policy: defaultPolicy(c) };
  const owner = ownerPolicyOf(server);
  const notes = [...c.notes];
  let chosen: InstancePolicy | null = null;
  let source: 'default' | 'owner' | 'operator' = 'default';
  if (owner === 'invalid') notes.push(`${OWNER_POLICY_KEY} is "${String(server.metadata?.[OWNER_POLICY_KEY]).slice(0, 40)}", not live, cold or stop: ignored`);
  else if (owner !== null && !allowed.includes(owner)) notes.push(`its owner asks for ${owner} (${OWNER_POLICY_KEY}), which --instance-policies does not allow (${allowed.join(',')}): ignored`);
  else if (owner !== null) {
    chosen = owner;
    source = 'owner';
  }
  if (chosen === null) {
    chosen = allowed.includes('live') ? 'live' : (ALL.find((p) => allowed.includes(p)) ?? 'live');
    source = chosen === 'live' ? 'default' : 'operator';
  }
  if (chosen !== 'live' && c.status !== 'ACTIVE') {
    if (source === 'owner' && allowed.includes('live')) {
      notes.push(`its owner asks for ${chosen}, but Nova cold-migrates only ACTIVE or SHUTOFF servers (this one is ${c.status}): moved live`);
      return { ...c, notes, policy: { value: 'live', source: 'default' } };
    }
    return {
      ...c,
      class: 'blocked',
      reason: `${c.status}: --instance-policies (${allowed.join(',')}) does not allow a live migration, and Nova cold-migrates only ACTIVE or SHUTOFF servers`,
      category: 'instance-policy',
      remedy: `allow live (--instance-policies live,${allowed.join(',')}), or unpause it (openstack server unpause ${server.id}) so it can be moved cold`,
      override: { option: 'instancePolicies', flag: '--instance-policies' },
      blocking: true,
      notes,
      policy: { value: chosen, source },
    };
  }
  if (chosen === 'live') {
    // A fallback (--fallback) only where the owner did not ask for live, for an ACTIVE server (Nova cold-migrates no PAUSED one).
    const fallback = owner !== 'live' && c.status === 'ACTIVE' ? (allowed.includes('cold') ? 'cold' : allowed.includes('stop') ? 'stop' : null) : null;
    return { ...c, notes, policy: { value: 'live', source }, fallback };
  }
  const by = source === 'owner' ? `its owner's ${OWNER_POLICY_KEY}` : '--instance-policies';
  return {
    ...c,
    class: 'cold',
    reason:
      chosen === 'cold'
        ? `ACTIVE: cold migration, as ${by} asks (Nova stops it on the source and starts it on the target), then confirm`
        : `ACTIVE: stopped, cold-migrated, confirmed and started again, as ${by} asks`,
    notes,
    policy: { value: chosen, source },
    stopFirst: chosen === 'stop',
  };
}
