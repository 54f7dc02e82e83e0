/**
 * Placement's allocations: each consumer's (an instance, or a migration during
 * a move) resources on each provider, kept from both sides (by consumer and by
 * provider), and what they add up to: a provider's usage, and whether more
 * fits. GET /allocations/{consumer}, /resource_providers/{uuid}/allocations
 * and /usages.
 */
import type { Obj, Route } from '../http.js';
import { fail, route } from '../http.js';
import type { FlavorState, HostState, Inventory, Resources } from '../model.js';
import { flavorResources } from '../compute/flavors.js';
import type { PlacementWrap } from './api.js';
import { at, ok, provider } from './api.js';

export interface ConsumerAllocation {
  projectId: string;
  userId: string;
  generation: number;
  consumerType: 'INSTANCE' | 'MIGRATION';
  /** provider uuid -> resources */
  byRp: Map<string, Resources>;
}

/** What a provider can hand out of an inventory: (total - reserved) * allocation_ratio. */
export function capacity(inv: Inventory): number {
  return Math.floor((inv.total - inv.reserved) * inv.allocation_ratio);
}

export class Allocations {
  readonly consumers = new Map<string, ConsumerAllocation>();
  /** provider uuid -> consumer uuid -> resources */
  readonly byProvider = new Map<string, Map<string, Resources>>();

  constructor(readonly hostsByUuid: Map<string, HostState>) {
    for (const uuid of hostsByUuid.keys()) this.byProvider.set(uuid, new Map());
  }

  allocate(consumer: string, host: HostState, flavor: FlavorState, type: 'INSTANCE' | 'MIGRATION', projectId: string, userId: string): void {
    const res = flavorResources(flavor);
    let c = this.consumers.get(consumer);
    if (!c) {
      c = { projectId, userId, generation: 0, consumerType: type, byRp: new Map() };
      this.consumers.set(consumer, c);
    }
    c.byRp.set(host.uuid, res);
    c.generation++;
    this.byProvider.get(host.uuid)!.set(consumer, res);
    host.rpGeneration++;
  }

  /** Remove all of a consumer's allocations. */
  deallocate(consumer: string): void {
    const c = this.consumers.get(consumer);
    if (!c) return;
    for (const rp of c.byRp.keys()) {
      this.byProvider.get(rp)?.delete(consumer);
      const h = this.hostsByUuid.get(rp);
      if (h) h.rpGeneration++;
    }
    this.consumers.delete(consumer);
  }

  /** Move `from`'s allocations to `to` (replace_allocation_with_migration and its revert). */
  moveAllocations(from: string, to: string, type: 'INSTANCE' | 'MIGRATION'): void {
    const c = this.consumers.get(from);
    if (!c) return;
    this.deallocate(to);
    this.consumers.delete(from);
    const moved: ConsumerAllocation = { ...c, generation: 1, consumerType: type, byRp: new Map(c.byRp) };
    this.consumers.set(to, moved);
    for (const [rp, res] of moved.byRp) {
      const m = this.byProvider.get(rp)!;
      m.delete(from);
      m.set(to, res);
      const h = this.hostsByUuid.get(rp);
      if (h) h.rpGeneration++;
    }
  }

  usage(h: HostState): Resources {
    const u: Resources = {};
    for (const rc of Object.keys(h.inventories)) u[rc] = 0;
    for (const res of this.byProvider.get(h.uuid)!.values()) {
      for (const [rc, n] of Object.entries(res)) u[rc] = (u[rc] ?? 0) + n;
    }
    return u;
  }

  /** Does `res` fit on the host on top of its current usage? */
  fits(h: HostState, res: Resources, usage = this.usage(h)): boolean {
    for (const [rc, n] of Object.entries(res)) {
      const inv = h.inventories[rc];
      if (!inv) return false;
      if (n > inv.max_unit || n < inv.min_unit) return false;
      if ((usage[rc] ?? 0) + n > capacity(inv)) return false;
    }
    return true;
  }
}

export function allocationsRoutes(h: PlacementWrap, placement: Allocations): Route[] {
  const usages = h((req) => {
    const hst = provider(placement.hostsByUuid, req.params['uuid']!);
    return ok({ resource_provider_generation: hst.rpGeneration, usages: placement.usage(hst) });
  });

  const rpAllocations = h((req, v) => {
    const hst = provider(placement.hostsByUuid, req.params['uuid']!);
    const out: Obj = {};
    for (const [consumer, res] of placement.byProvider.get(hst.uuid)!) {
      const o: Obj = { resources: { ...res } };
      if (at(v, 28)) o['consumer_generation'] = placement.consumers.get(consumer)?.generation ?? null;
      out[consumer] = o;
    }
    return ok({ resource_provider_generation: hst.rpGeneration, allocations: out });
  });

  const consumerAllocations = h((req, v) => {
    const consumer = req.params['consumer']!;
    const c = placement.consumers.get(consumer);
    const allocations: Obj = {};
    if (c) {
      for (const [rp, res] of c.byRp) {
        const hst = placement.hostsByUuid.get(rp);
        allocations[rp] = { generation: hst?.rpGeneration ?? 0, resources: { ...res } };
      }
    }
    const body: Obj = { allocations };
    if (at(v, 12) && c) {
      body['project_id'] = c.projectId;
      body['user_id'] = c.userId;
    }
    if (at(v, 28) && c) body['consumer_generation'] = c.generation;
    if (at(v, 38) && c) body['consumer_type'] = c.consumerType;
    return ok(body);
  });

  // Releasing a consumer's allocations (PUT with none), checked against its generation (1.28+), as Placement does.
  const putAllocations = h((req, v) => {
    const consumer = req.params['consumer']!;
    const b = req.body as Obj | null;
    if (!b || typeof b !== 'object' || typeof b['allocations'] !== 'object' || b['allocations'] === null) return fail(400, "JSON does not validate: 'allocations' is a required property");
    if (Object.keys(b['allocations'] as Obj).length > 0) return fail(400, 'the emulator only releases allocations (an empty allocations object)');
    const c = placement.consumers.get(consumer);
    if (at(v, 28)) {
      const want = b['consumer_generation'];
      const have = c ? c.generation : null;
      if (want !== have) return fail(409, `consumer generation conflict - expected ${String(have)} but got ${String(want)}`);
    }
    placement.deallocate(consumer);
    return { status: 204, body: null };
  });

  return [
    route('PUT', '/allocations/:consumer', putAllocations),
    route('GET', '/resource_providers/:uuid/usages', usages),
    route('GET', '/resource_providers/:uuid/allocations', rpAllocations),
    route('GET', '/allocations/:consumer', consumerAllocations),
  ];
}
