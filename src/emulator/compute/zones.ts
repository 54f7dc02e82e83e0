/**
 * GET /os-availability-zone(/detail): the zones of the compute hosts, as Nova's
 * availability_zone.py lists them (and "internal" for the control services).
 */
import type { Obj, Route } from '../http.js';
import { route } from '../http.js';
import type { HostState } from '../model.js';
import type { Wrap } from './api.js';
import { naive, ok } from './api.js';
import type { Services } from './services.js';

export function zonesRoutes(h: Wrap, services: Services): Route[] {
  /** Nova's availability_zone.py: zones of enabled services are available; disabled hosts are left out of the listing. */
  const azDetail = (detail: boolean) =>
    h(
      (_req, _ctx) => {
        const enabledZones = new Map<string, HostState[]>();
        const allZones = new Set<string>();
        for (const hst of services.hosts.values()) {
          allZones.add(hst.az);
          if (!hst.disabled) enabledZones.set(hst.az, [...(enabledZones.get(hst.az) ?? []), hst]);
        }
        const out: Obj[] = [];
        if (detail) {
          out.push({
            zoneName: 'internal',
            zoneState: { available: true },
            hosts: {
              controller: Object.fromEntries(
                services.control.map((c) => [c.binary, { available: true, active: true, updated_at: naive(services.engine.wall(services.heartbeat())) }]),
              ),
            },
          });
        }
        for (const [zone, hs] of enabledZones) {
          out.push({
            zoneName: zone,
            zoneState: { available: true },
            hosts: detail
              ? Object.fromEntries(
                  hs.map((x) => [x.name, { 'nova-compute': { available: services.serviceIsUp(x), active: true, updated_at: naive(services.engine.wall(services.lastHeartbeat(x))) } }]),
                )
              : null,
          });
        }
        for (const zone of allZones) if (!enabledZones.has(zone)) out.push({ zoneName: zone, zoneState: { available: false }, hosts: null });
        return ok({ availabilityZoneInfo: out });
      },
      detail ? { admin: 'os_compute_api:os-availability-zone:detail' } : {},
    );

  return [route('GET', '/os-availability-zone', azDetail(false)), route('GET', '/os-availability-zone/detail', azDetail(true))];
}
