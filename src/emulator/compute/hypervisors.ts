/**
 * GET /os-hypervisors (/detail, /{id}, and before 2.53 /{pattern}/search and
 * /{pattern}/servers): the compute nodes, their usage (from Placement, before
 * 2.88) and the servers on them.
 */
import type { Obj, Route } from '../http.js';
import { fail, route } from '../http.js';
import type { HostState, ServerState } from '../model.js';
import { vAtLeast } from '../model.js';
import type { Allocations } from '../placement/allocations.js';
import type { Wrap } from './api.js';
import { MAX_LIMIT, UUID_RE, boolFromString, limitMarker, nextHref, ok } from './api.js';
import type { Servers } from './servers.js';
import type { Services } from './services.js';

/** Nova's cpu_info (the libvirt driver's): a dict from 2.28, the same as a JSON string before. */
function cpuInfoView(hst: HostState, vcpus: number, v: [number, number]): Obj | string {
  const info = { arch: hst.cpuInfo.arch, model: hst.cpuInfo.model, vendor: hst.cpuInfo.vendor, topology: { sockets: 1, cores: vcpus, threads: 1 }, features: [] };
  return vAtLeast(v, 28) ? info : JSON.stringify(info);
}

export function hypervisorsRoutes(h: Wrap, services: Services, placement: Allocations, instances: Servers): Route[] {
  const instanceList = (list: ServerState[]) => list.map((s) => ({ name: instances.instanceName(s), uuid: s.id }));

  const hypervisorView = (hst: HostState, v: [number, number], detail: boolean, withServers: boolean) => {
    const body: Obj = {
      id: vAtLeast(v, 53) ? hst.uuid : hst.computeNodeId,
      hypervisor_hostname: hst.hypervisorHostname,
      state: services.serviceIsUp(hst) ? 'up' : 'down',
      status: hst.disabled ? 'disabled' : 'enabled',
    };
    if (detail) {
      body['hypervisor_type'] = hst.hypervisorType;
      body['hypervisor_version'] = 6002000;
      body['host_ip'] = hst.address;
      body['service'] = { id: vAtLeast(v, 53) ? hst.serviceUuid : hst.serviceId, host: hst.name, disabled_reason: hst.disabledReason };
      if (!vAtLeast(v, 88)) {
        const inv = hst.inventories;
        const u = placement.usage(hst);
        const servers = instances.byHost.get(hst.name)!;
        const vcpus = inv['VCPU']!.total;
        const mem = inv['MEMORY_MB']!.total;
        const disk = inv['DISK_GB']!.total;
        Object.assign(body, {
          vcpus,
          memory_mb: mem,
          local_gb: disk,
          vcpus_used: u['VCPU'] ?? 0,
          memory_mb_used: (u['MEMORY_MB'] ?? 0) + inv['MEMORY_MB']!.reserved,
          local_gb_used: u['DISK_GB'] ?? 0,
          free_ram_mb: mem - (u['MEMORY_MB'] ?? 0) - inv['MEMORY_MB']!.reserved,
          free_disk_gb: disk - (u['DISK_GB'] ?? 0),
          current_workload: 0,
          running_vms: servers.size,
          disk_available_least: disk - (u['DISK_GB'] ?? 0),
          cpu_info: cpuInfoView(hst, vcpus, v),
        });
      } else body['uptime'] = null;
    }
    const servers = instances.liveOn(hst.name);
    if (withServers || (!vAtLeast(v, 53) && servers.length > 0 && withServers)) {
      if (servers.length > 0) body['servers'] = instanceList(servers);
      else if (vAtLeast(v, 75)) body['servers'] = [];
    }
    return body;
  };

  const matchPattern = (pattern: string) => {
    // Nova: compute_node_search_by_hypervisor -> hypervisor_hostname LIKE %pattern%
    const p = pattern.toLowerCase();
    return [...services.hosts.values()].filter((x) => x.hypervisorHostname.toLowerCase().includes(p));
  };

  const hostsSorted = () => [...services.hosts.values()].sort((a, b) => a.computeNodeId - b.computeNodeId);

  const listHypervisors = (detail: boolean) =>
    h(
      (req, ctx) => {
        const v = ctx.version;
        let withServers = false;
        let list: HostState[];
        let pageable = vAtLeast(v, 33);
        if (vAtLeast(v, 53)) {
          for (const k of req.query.keys()) {
            if (!['hypervisor_hostname_pattern', 'with_servers', 'limit', 'marker'].includes(k)) fail(400, `Invalid input for query parameters ${k}. Additional properties are not allowed ('${k}' was unexpected)`);
          }
          const ws = req.query.get('with_servers');
          withServers = ws !== null ? boolFromString(ws) : false;
          const pattern = req.query.get('hypervisor_hostname_pattern');
          if (pattern !== null) {
            if (req.query.has('limit') || req.query.has('marker')) fail(400, 'Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
            list = matchPattern(pattern).sort((a, b) => a.computeNodeId - b.computeNodeId);
            if (list.length === 0) fail(404, `No hypervisor matching '${pattern}' could be found.`);
            pageable = false;
          } else list = hostsSorted();
        } else list = hostsSorted();
        let linksOut: Obj[] | undefined;
        if (pageable) {
          const { limit, marker } = limitMarker(req);
          if (marker !== null) {
            const idx = list.findIndex((x) => (vAtLeast(v, 53) ? x.uuid : String(x.computeNodeId)) === marker);
            if (idx < 0) fail(400, `marker [${marker}] not found`);
            list = list.slice(idx + 1);
          }
          list = list.slice(0, limit);
          if (list.length > 0 && list.length === Math.min(Number(req.query.get('limit') ?? MAX_LIMIT), MAX_LIMIT)) {
            const last = list[list.length - 1]!;
            linksOut = [{ rel: 'next', href: nextHref(req, vAtLeast(v, 53) ? last.uuid : String(last.computeNodeId)) }];
          }
        }
        const body: Obj = { hypervisors: list.map((x) => hypervisorView(x, v, detail, withServers)) };
        if (linksOut) body['hypervisors_links'] = linksOut;
        return ok(body);
      },
      { admin: `os_compute_api:os-hypervisors:${detail ? 'list-detail' : 'list'}` },
    );

  const showHypervisor = h(
    (req, ctx) => {
      const id = req.params['id']!;
      const v = ctx.version;
      let hst: HostState | undefined;
      if (vAtLeast(v, 53)) {
        if (!UUID_RE.test(id)) fail(400, `Invalid uuid ${id}`);
        hst = services.hostsByUuid.get(id);
      } else hst = [...services.hosts.values()].find((x) => String(x.computeNodeId) === id);
      if (!hst) return fail(404, `Hypervisor with ID '${id}' could not be found.`);
      const ws = req.query.get('with_servers');
      const withServers = vAtLeast(v, 53) && ws !== null ? boolFromString(ws) : false;
      return ok({ hypervisor: hypervisorView(hst, v, true, withServers) });
    },
    { admin: 'os_compute_api:os-hypervisors:show' },
  );

  const searchHypervisors = (servers: boolean) =>
    h(
      (req, ctx) => {
        const pattern = decodeURIComponent(req.params['pattern']!);
        const list = matchPattern(pattern).sort((a, b) => a.computeNodeId - b.computeNodeId);
        if (list.length === 0) fail(404, `No hypervisor matching '${pattern}' could be found.`);
        return ok({
          hypervisors: list.map((x) => {
            const view = hypervisorView(x, ctx.version, false, false);
            if (servers) {
              const ss = instances.liveOn(x.name);
              if (ss.length > 0) view['servers'] = instanceList(ss);
            }
            return view;
          }),
        });
      },
      { admin: `os_compute_api:os-hypervisors:${servers ? 'servers' : 'search'}`, maxVersion: 52 },
    );

  return [
    route('GET', '/os-hypervisors', listHypervisors(false)),
    route('GET', '/os-hypervisors/detail', listHypervisors(true)),
    route('GET', '/os-hypervisors/:pattern/search', searchHypervisors(false)),
    route('GET', '/os-hypervisors/:pattern/servers', searchHypervisors(true)),
    route('GET', '/os-hypervisors/:id', showHypervisor),
  ];
}
