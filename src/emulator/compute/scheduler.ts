/**
 * Nova's scheduler, as the emulator needs it: the filters (compute service
 * enabled and up, the availability zone the instance asked for, its server
 * group's policy, capacity from Placement) and the weighers (soft group
 * policies, then free RAM: spread, then the host name).
 */
import type { HostState, ServerState } from '../model.js';
import type { Allocations } from '../placement/allocations.js';
import { capacity } from '../placement/allocations.js';
import { flavorResources } from './flavors.js';
import type { ServerGroups } from './groups.js';
import type { Migrations } from './migrations.js';
import type { Servers } from './servers.js';
import type { Services } from './services.js';

export interface ScheduleOptions {
  /** Not this host (the source of a move). */
  exclude?: string | null;
  /** Only this host. */
  requested?: string | null;
  /** A forced host ("nova:compute-01" at boot): the filters are skipped, Placement's capacity check is not. */
  force?: boolean;
}

export class Scheduler {
  constructor(
    private readonly services: Services,
    private readonly servers: Servers,
    private readonly groups: ServerGroups,
    private readonly placement: Allocations,
    private readonly migrations: Migrations,
  ) {}

  /**
   * Choose a destination like Nova's filter scheduler would: compute service
   * enabled and up, AZ (if the instance asked for one), server group policy,
   * capacity from Placement. Weigh by free RAM (spread), then name. Returns
   * the host or null (NoValidHost).
   */
  schedule(s: ServerState, opts: ScheduleOptions = {}): HostState | null {
    const res = flavorResources(s.flavor);
    const group = s.groupId ? this.groups.byId.get(s.groupId) : undefined;
    const groupHosts = new Map<string, number>();
    if (group) {
      for (const mid of group.members) {
        // As Nova's group.get_hosts(): every member's host, the moving one's own included (for
        // affinity that is the source, which a move never targets: a member alone cannot move).
        if (mid === s.id && group.policy !== 'affinity') continue;
        const m = this.servers.byId.get(mid);
        if (!m || m.deleted) continue;
        // As Nova: a member's host is instance.host; one still migrating counts on its source only,
        // so two members moving at once can land on one host (bug 1821755).
        if (m.host) groupHosts.set(m.host, (groupHosts.get(m.host) ?? 0) + 1);
      }
    }
    const candidates: Array<{ h: HostState; freeRam: number; soft: number }> = [];
    const pool = opts.requested ? [this.services.hosts.get(opts.requested)].filter((x): x is HostState => !!x) : [...this.services.hosts.values()];
    for (const h of pool) {
      if (opts.exclude && h.name === opts.exclude) continue;
      // A forced host ("nova:compute-01" at boot) skips the filters but not Placement's capacity check.
      if (!opts.force && (h.disabled || !this.services.serviceIsUp(h))) continue;
      if (!opts.force && s.requestedAz && h.az !== s.requestedAz) continue;
      if (group && !opts.force) {
        const n = groupHosts.get(h.name) ?? 0;
        if (group.policy === 'anti-affinity' && n >= (group.maxServerPerHost ?? 1)) continue;
        if (group.policy === 'affinity' && groupHosts.size > 0 && n === 0) continue;
      }
      const usage = this.placement.usage(h);
      if (!this.placement.fits(h, res, usage)) continue;
      const inv = h.inventories['MEMORY_MB']!;
      let soft = 0;
      if (group?.policy === 'soft-anti-affinity') soft = -(groupHosts.get(h.name) ?? 0);
      if (group?.policy === 'soft-affinity') soft = groupHosts.get(h.name) ?? 0;
      candidates.push({ h, freeRam: capacity(inv) - (usage['MEMORY_MB'] ?? 0), soft });
    }
    candidates.sort((a, b) => b.soft - a.soft || b.freeRam - a.freeRam || a.h.name.localeCompare(b.h.name));
    return candidates[0]?.h ?? null;
  }
}
