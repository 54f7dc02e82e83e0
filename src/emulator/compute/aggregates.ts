/**
 * Host aggregates: the scenario's named ones, and one per availability zone
 * other than "nova" (holding that zone's hosts); POST/GET /os-aggregates,
 * add_host / remove_host / set_metadata, DELETE. Placement lists a provider's
 * aggregates from here.
 */
import type { Engine } from '../engine.js';
import type { Obj, Route } from '../http.js';
import { fail, isObj, route } from '../http.js';
import type { HostState } from '../model.js';
import { vAtLeast } from '../model.js';
import type { Rng } from '../rng.js';
import type { Scenario } from '../scenario.js';
import type { Wrap } from './api.js';
import { naive, ok } from './api.js';

export interface AggregateState {
  id: number;
  uuid: string;
  name: string;
  az: string | null;
  hosts: string[];
  metadata: Record<string, string>;
  createdAt: number;
}

export class Aggregates {
  readonly list: AggregateState[] = [];

  constructor(
    sc: Scenario,
    private readonly rng: Rng,
    private readonly engine: Engine,
    hosts: Map<string, HostState>,
  ) {
    const now = engine.now;
    const aggNames = new Map<string, AggregateState>();
    let aggSeq = 1;
    const aggregate = (name: string): AggregateState => {
      let a = aggNames.get(name);
      if (!a) {
        const spec = (sc.aggregates ?? []).find((x) => x.name === name);
        a = { id: aggSeq++, uuid: rng.uuid(), name, az: spec?.az ?? null, hosts: [], metadata: { ...(spec?.metadata ?? {}) }, createdAt: now };
        if (a.az) a.metadata['availability_zone'] = a.az;
        aggNames.set(name, a);
        this.list.push(a);
      }
      return a;
    };
    for (const spec of sc.aggregates ?? []) aggregate(spec.name);
    for (const host of hosts.values()) {
      if (host.az !== 'nova') {
        const a = aggregate(`${host.az}`);
        a.az = host.az;
        a.metadata['availability_zone'] = host.az;
        a.hosts.push(host.name);
      }
      for (const name of host.aggregates) {
        const a = aggregate(name);
        if (!a.hosts.includes(host.name)) a.hosts.push(host.name);
      }
    }
  }

  create(name: string, az: string | null): AggregateState {
    const a: AggregateState = {
      id: Math.max(0, ...this.list.map((x) => x.id)) + 1,
      uuid: this.rng.uuid(),
      name,
      az,
      hosts: [],
      metadata: az ? { availability_zone: az } : {},
      createdAt: this.engine.now,
    };
    this.list.push(a);
    return a;
  }
}

export function aggregatesRoutes(h: Wrap, aggregates: Aggregates, hosts: Map<string, HostState>): Route[] {
  const aggregateView = (a: AggregateState, v: [number, number]) => {
    const o: Obj = {
      availability_zone: a.az,
      created_at: naive(a.createdAt),
      deleted: false,
      deleted_at: null,
      hosts: [...a.hosts],
      id: a.id,
      metadata: { ...a.metadata },
      name: a.name,
      updated_at: null,
    };
    if (vAtLeast(v, 41)) o['uuid'] = a.uuid;
    return o;
  };

  const getAggregate = (id: string) => aggregates.list.find((a) => String(a.id) === id) ?? fail(404, `Aggregate ${id} could not be found.`);

  const createAggregate = h(
    (req, ctx) => {
      const b = req.body;
      if (!isObj(b) || !isObj(b['aggregate'])) return fail(400, "Invalid input for field/attribute aggregate. 'aggregate' is a required property");
      const ag = b['aggregate'];
      if (typeof ag['name'] !== 'string' || !ag['name'].trim()) fail(400, "Invalid input for field/attribute name. 'name' is a required property");
      if (aggregates.list.some((a) => a.name === ag['name'])) fail(409, `Aggregate ${String(ag['name'])} already exists.`);
      const az = typeof ag['availability_zone'] === 'string' ? ag['availability_zone'] : null;
      const a = aggregates.create(ag['name'] as string, az);
      const view = aggregateView(a, ctx.version);
      delete view['hosts'];
      delete view['metadata'];
      return ok({ aggregate: view });
    },
    { admin: 'os_compute_api:os-aggregates:create' },
  );

  const aggregateAction = h(
    (req, ctx) => {
      const a = getAggregate(req.params['id']!);
      const b = req.body;
      if (!isObj(b) || Object.keys(b).length !== 1) return fail(400, 'Invalid request body');
      const action = Object.keys(b)[0]!;
      const arg = b[action];
      if (action === 'add_host' || action === 'remove_host') {
        const host = isObj(arg) && typeof arg['host'] === 'string' ? arg['host'] : fail(400, "Invalid input for field/attribute host. 'host' is a required property");
        if (!hosts.has(host)) fail(404, `Compute host ${host} could not be found.`);
        if (action === 'add_host') {
          if (a.hosts.includes(host)) fail(409, `Aggregate ${a.id} already has host ${host}.`);
          a.hosts.push(host);
        } else {
          if (!a.hosts.includes(host)) fail(404, `Cannot remove host ${host} in aggregate ${a.id}`);
          a.hosts = a.hosts.filter((x) => x !== host);
        }
      } else if (action === 'set_metadata') {
        const md = isObj(arg) && isObj(arg['metadata']) ? arg['metadata'] : fail(400, "Invalid input for field/attribute metadata. 'metadata' is a required property");
        for (const [k, val] of Object.entries(md)) {
          if (val === null) delete a.metadata[k];
          else a.metadata[k] = String(val);
        }
      } else fail(400, `Invalid request body: unknown action ${action}`);
      return ok({ aggregate: aggregateView(a, ctx.version) });
    },
    { admin: 'os_compute_api:os-aggregates:add_host' },
  );

  const deleteAggregate = h(
    (req) => {
      const a = getAggregate(req.params['id']!);
      if (a.hosts.length > 0) fail(400, `Cannot remove aggregate ${a.id}: it still has hosts.`);
      aggregates.list.splice(aggregates.list.indexOf(a), 1);
      return { status: 200 };
    },
    { admin: 'os_compute_api:os-aggregates:delete' },
  );

  const listAggregates = h((_req, ctx) => ok({ aggregates: aggregates.list.map((a) => aggregateView(a, ctx.version)) }), { admin: 'os_compute_api:os-aggregates:index' });

  return [
    route('POST', '/os-aggregates', createAggregate),
    route('POST', '/os-aggregates/:id/action', aggregateAction),
    route('DELETE', '/os-aggregates/:id', deleteAggregate),
    route('GET', '/os-aggregates', listAggregates),
  ];
}
