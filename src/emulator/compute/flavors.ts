/**
 * Flavors (the scenario's, or m1.tiny .. m1.xlarge), the resources an
 * instance of a flavor takes in Placement, and GET /flavors(/detail),
 * /flavors/{id} and /flavors/{id}/os-extra_specs.
 */
import type { EmuRequest, Obj, Route } from '../http.js';
import { fail, route } from '../http.js';
import type { FlavorState, Resources } from '../model.js';
import { vAtLeast } from '../model.js';
import type { Rng } from '../rng.js';
import type { FlavorSpec } from '../scenario.js';
import type { Wrap } from './api.js';
import { links, ok } from './api.js';

export class Flavors {
  readonly byId = new Map<string, FlavorState>();

  constructor(
    specs: FlavorSpec[],
    private readonly rng: Rng,
  ) {
    for (const f of specs) this.add(f);
  }

  private add(f: FlavorSpec): FlavorState {
    const fl: FlavorState = {
      id: f.id ?? this.rng.uuid(),
      name: f.name,
      vcpus: f.vcpus,
      ram: f.ram_mb,
      disk: f.disk_gb ?? 0,
      ephemeral: f.ephemeral_gb ?? 0,
      swap: f.swap_mb ?? 0,
      isPublic: f.is_public ?? true,
      extraSpecs: { ...(f.extra_specs ?? {}) },
    };
    this.byId.set(fl.id, fl);
    return fl;
  }

  /** By id, a URL ending in the id, or name. */
  find(ref: string): FlavorState | undefined {
    const id = ref.includes('/') ? ref.slice(ref.lastIndexOf('/') + 1) : ref;
    return this.byId.get(id) ?? [...this.byId.values()].find((f) => f.name === id);
  }
}

/** What an instance of this flavor allocates in Placement (PCPU instead of VCPU for hw:cpu_policy=dedicated). */
export function flavorResources(f: FlavorState): Resources {
  const r: Resources = { VCPU: f.vcpus, MEMORY_MB: f.ram };
  const disk = f.disk + f.ephemeral + Math.ceil(f.swap / 1024);
  if (disk > 0) r['DISK_GB'] = disk;
  if (f.extraSpecs['hw:cpu_policy'] === 'dedicated') {
    r['PCPU'] = f.vcpus;
    delete r['VCPU'];
  }
  return r;
}

export function flavorsRoutes(h: Wrap, flavors: Flavors): Route[] {
  const flavorFull = (req: EmuRequest, f: FlavorState, v: [number, number]) => {
    const o: Obj = {
      id: f.id,
      name: f.name,
      ram: f.ram,
      disk: f.disk,
      vcpus: f.vcpus,
      'OS-FLV-EXT-DATA:ephemeral': f.ephemeral,
      'OS-FLV-DISABLED:disabled': false,
      swap: f.swap === 0 ? (vAtLeast(v, 75) ? 0 : '') : f.swap,
      rxtx_factor: 1.0,
      'os-flavor-access:is_public': f.isPublic,
      links: links(req, 'flavors', f.id),
    };
    if (vAtLeast(v, 55)) o['description'] = null;
    if (vAtLeast(v, 61)) o['extra_specs'] = { ...f.extraSpecs };
    return o;
  };

  const listFlavors = (detail: boolean) =>
    h((req, ctx) =>
      ok({
        flavors: [...flavors.byId.values()]
          .sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }))
          .map((f) => (detail ? flavorFull(req, f, ctx.version) : { id: f.id, name: f.name, links: links(req, 'flavors', f.id), ...(vAtLeast(ctx.version, 55) ? { description: null } : {}) })),
      }),
    );

  const showFlavor = h((req, ctx) => {
    const f = flavors.byId.get(req.params['id']!) ?? fail(404, `Flavor ${req.params['id']} could not be found.`);
    return ok({ flavor: flavorFull(req, f, ctx.version) });
  });

  const flavorExtraSpecs = h((req) => {
    const f = flavors.byId.get(req.params['id']!) ?? fail(404, `Flavor ${req.params['id']} could not be found.`);
    return ok({ extra_specs: { ...f.extraSpecs } });
  });

  return [
    route('GET', '/flavors', listFlavors(false)),
    route('GET', '/flavors/detail', listFlavors(true)),
    route('GET', '/flavors/:id', showFlavor),
    route('GET', '/flavors/:id/os-extra_specs', flavorExtraSpecs),
  ];
}
