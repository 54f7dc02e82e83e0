/**
 * Nova's services: the scheduler and conductor on the controller, and one
 * nova-compute per host of the scenario with its compute node (and resource
 * provider: uuid, generation, inventories and traits live on the same record,
 * see ../placement/). A compute service is up while its heartbeats are newer
 * than service_down_time; it can be disabled (with a reason) or forced down.
 * GET /os-services and PUT /os-services/{id} (2.53+) or /os-services/{action}.
 */
import type { Engine } from '../engine.js';
import type { Obj, Route } from '../http.js';
import { fail, isObj, route } from '../http.js';
import type { HostState, Inventory, ServerState } from '../model.js';
import { vAtLeast } from '../model.js';
import type { Rng } from '../rng.js';
import type { Scenario } from '../scenario.js';
import { HOST_CPU, hostWithDefaults } from '../scenario.js';
import type { Wrap } from './api.js';
import { UUID_RE, boolFromString, naive, ok } from './api.js';

export interface ControlService {
  id: number;
  uuid: string;
  binary: string;
  host: string;
}

export class Services {
  /** Compute hosts by service host name. */
  readonly hosts = new Map<string, HostState>();
  /** Compute hosts by compute node (= resource provider) uuid. */
  readonly hostsByUuid = new Map<string, HostState>();
  /** nova-scheduler and nova-conductor on "controller" (always up). */
  readonly control: ControlService[] = [];
  readonly serviceDownTimeMs: number;
  readonly reportIntervalMs: number;

  constructor(
    sc: Scenario,
    rng: Rng,
    readonly engine: Engine,
    private readonly startedAt: number,
  ) {
    this.serviceDownTimeMs = (sc.nova?.service_down_time_s ?? 60) * 1000;
    this.reportIntervalMs = (sc.nova?.report_interval_s ?? 10) * 1000;
    const now = startedAt;
    let serviceSeq = 1;
    for (const binary of ['nova-scheduler', 'nova-conductor']) {
      this.control.push({ id: serviceSeq++, uuid: rng.uuid(), binary, host: 'controller' });
    }
    // ---- compute hosts: the nova-compute service, its compute node and resource provider
    let nodeSeq = 1;
    for (const h0 of sc.hosts) {
      const h = hostWithDefaults(sc, h0);
      const uuid = rng.uuid();
      const inv = (total: number, reserved: number, ratio: number): Inventory => ({
        total,
        reserved,
        min_unit: 1,
        max_unit: total,
        step_size: 1,
        allocation_ratio: ratio,
      });
      const inventories: Record<string, Inventory> = {
        VCPU: inv(h.vcpus, h.reserved_vcpus, h.cpu_allocation_ratio),
        MEMORY_MB: inv(h.ram_mb, h.reserved_host_memory_mb, h.ram_allocation_ratio),
        DISK_GB: inv(h.disk_gb, h.reserved_host_disk_gb, h.disk_allocation_ratio),
      };
      if (h.pcpus > 0) inventories['PCPU'] = inv(h.pcpus, 0, 1.0);
      const host: HostState = {
        name: h.name,
        hypervisorHostname: h.hypervisor_hostname,
        az: h.az ?? 'nova',
        aggregates: h.aggregates ?? [],
        serviceId: serviceSeq++,
        serviceUuid: rng.uuid(),
        computeNodeId: nodeSeq++,
        uuid,
        rpGeneration: 1,
        inventories,
        baseTraits: [
          'COMPUTE_NET_ATTACH_INTERFACE',
          'COMPUTE_VOLUME_ATTACH_WITH_TAG',
          'COMPUTE_IMAGE_TYPE_RAW',
          'COMPUTE_IMAGE_TYPE_QCOW2',
          'COMPUTE_NODE',
          'HW_CPU_X86_SSE42',
          ...(h.traits ?? []),
        ],
        maxConcurrent: h.max_concurrent_live_migrations,
        disabled: h.status === 'disabled',
        disabledReason: h.status === 'disabled' ? (h.disabled_reason ?? null) : null,
        forcedDown: h.forced_down,
        heartbeatStoppedAt: h.state === 'down' ? now - this.serviceDownTimeMs - this.reportIntervalMs : null,
        address: h.address === null ? null : (h.address ?? '127.0.0.1'),
        port: h.port ?? null,
        hypervisorType: h.hypervisor_type,
        cpuInfo: { ...HOST_CPU, ...(h.cpu_info ?? {}) },
        activeOut: new Set(),
        queue: [],
        createdAt: now,
        updatedAt: now,
      };
      this.hosts.set(host.name, host);
      this.hostsByUuid.set(host.uuid, host);
    }
  }

  get now(): number {
    return this.engine.now;
  }

  serviceIsUp(h: HostState): boolean {
    if (h.forcedDown) return false;
    if (h.heartbeatStoppedAt === null) return true;
    return this.now < h.heartbeatStoppedAt + this.serviceDownTimeMs;
  }

  /** Time of the latest regular heartbeat (every report_interval since the start): the control services' updated_at. */
  heartbeat(): number {
    return this.now - ((this.now - this.startedAt) % this.reportIntervalMs);
  }

  /** Time of the last heartbeat (service updated_at). */
  lastHeartbeat(h: HostState): number {
    const beat = this.heartbeat();
    if (h.heartbeatStoppedAt !== null && h.heartbeatStoppedAt < beat) {
      const stoppedSince = h.heartbeatStoppedAt - this.startedAt;
      return h.heartbeatStoppedAt - (((stoppedSince % this.reportIntervalMs) + this.reportIntervalMs) % this.reportIntervalMs);
    }
    return beat;
  }

  /** host_status of a server (2.16+). */
  hostStatus(s: ServerState): string {
    if (!s.host) return '';
    const h = this.hosts.get(s.host);
    if (!h) return '';
    if (h.forcedDown) return 'DOWN';
    if (h.disabled) return 'MAINTENANCE';
    return this.serviceIsUp(h) ? 'UP' : 'UNKNOWN';
  }

  setServiceStatus(h: HostState, disabled: boolean, reason: string | null): void {
    if (h.disabled !== disabled) h.rpGeneration++;
    h.disabled = disabled;
    h.disabledReason = disabled ? reason : null;
    h.updatedAt = this.now;
  }

  setForcedDown(h: HostState, forced: boolean): void {
    h.forcedDown = forced;
    h.updatedAt = this.now;
  }

  /**
   * Stop a compute service's heartbeats at model time `at`, and call `onStop`
   * then (the Cloud freezes the host's migrations); with `upAfterMs`, a reboot:
   * they resume that much later.
   */
  stopHeartbeats(h: HostState, at: number, immediate: boolean, upAfterMs: number | null, onStop: () => void, onUp: () => void = () => undefined): void {
    const apply = () => {
      h.heartbeatStoppedAt = immediate ? this.now - this.serviceDownTimeMs : this.now;
      if (upAfterMs !== null) {
        this.engine.at(this.now + upAfterMs, `host-up ${h.name}`, () => {
          h.heartbeatStoppedAt = null;
          onUp();
        });
      }
      onStop();
    };
    if (at <= this.now) apply();
    else this.engine.at(at, `host-down ${h.name}`, apply);
  }
}

export function servicesRoutes(h: Wrap, services: Services): Route[] {
  const serviceView = (hst: HostState, v: [number, number]) => {
    const body: Obj = {
      binary: 'nova-compute',
      host: hst.name,
      id: vAtLeast(v, 53) ? hst.serviceUuid : hst.serviceId,
      zone: hst.az,
      status: hst.disabled ? 'disabled' : 'enabled',
      state: services.serviceIsUp(hst) ? 'up' : 'down',
      updated_at: naive(services.engine.wall(services.lastHeartbeat(hst))),
      disabled_reason: hst.disabledReason,
    };
    if (vAtLeast(v, 11)) body['forced_down'] = hst.forcedDown;
    return body;
  };

  const controlView = (c: ControlService, v: [number, number]) => {
    const body: Obj = {
      binary: c.binary,
      host: c.host,
      id: vAtLeast(v, 53) ? c.uuid : c.id,
      zone: 'internal',
      status: 'enabled',
      state: 'up',
      updated_at: naive(services.engine.wall(services.heartbeat())),
      disabled_reason: null,
    };
    if (vAtLeast(v, 11)) body['forced_down'] = false;
    return body;
  };

  const listServices = h(
    (req, ctx) => {
      const host = req.query.get('host');
      const binary = req.query.get('binary');
      if (vAtLeast(ctx.version, 75)) {
        for (const k of req.query.keys()) if (k !== 'host' && k !== 'binary') fail(400, `Invalid input for query parameters ${k}. Value: ${req.query.get(k)}. Additional properties are not allowed ('${k}' was unexpected)`);
      }
      const out: Obj[] = [];
      for (const c of services.control) {
        if ((host && c.host !== host) || (binary && c.binary !== binary)) continue;
        out.push(controlView(c, ctx.version));
      }
      const hosts = host ? [services.hosts.get(host)].filter((x): x is HostState => !!x) : [...services.hosts.values()];
      if (!binary || binary === 'nova-compute') for (const hst of hosts) out.push(serviceView(hst, ctx.version));
      return ok({ services: out });
    },
    { admin: 'os_compute_api:os-services:list' },
  );

  const validateReason = (reason: unknown, legacy: boolean) => {
    if (reason === undefined) return;
    if (typeof reason !== 'string' || reason.length < 1 || reason.length > 255) {
      const why = typeof reason !== 'string' ? `${JSON.stringify(reason)} is not of type 'string'` : reason.length < 1 ? `'' is too short` : `'${reason.slice(0, 40)}...' is too long`;
      fail(400, `Invalid input for field/attribute disabled_reason. Value: ${String(reason)}. ${why}`);
    }
    void legacy;
  };

  const updateService = h(
    (req, ctx) => {
      const id = req.params['id']!;
      const body = req.body;
      if (!vAtLeast(ctx.version, 53)) {
        // PUT /os-services/{enable|disable|disable-log-reason|force-down} with host + binary
        if (!isObj(body)) fail(400, 'The request body is invalid.');
        const b = body as Obj;
        const allowed = ['host', 'binary', 'disabled_reason', ...(vAtLeast(ctx.version, 11) ? ['forced_down'] : [])];
        for (const k of Object.keys(b)) if (!allowed.includes(k)) fail(400, `Invalid input for field/attribute ${k}. Additional properties are not allowed ('${k}' was unexpected)`);
        if (typeof b['host'] !== 'string') fail(400, "Invalid input for field/attribute host. 'host' is a required property");
        if (typeof b['binary'] !== 'string') fail(400, "Invalid input for field/attribute binary. 'binary' is a required property");
        validateReason(b['disabled_reason'], true);
        const actions = ['enable', 'disable', 'disable-log-reason', ...(vAtLeast(ctx.version, 11) ? ['force-down'] : [])];
        if (!actions.includes(id)) fail(404, 'Unknown action');
        if (b['binary'] !== 'nova-compute') fail(400, `Updating a ${String(b['binary'])} service is not supported. Only nova-compute services can be updated.`);
        const hst = services.hosts.get(b['host'] as string) ?? fail(404, `Service ${String(b['binary'])} on host ${String(b['host'])} could not be found.`);
        if (id === 'force-down') {
          if (b['forced_down'] === undefined) fail(400, 'Missing forced_down field');
          const fd = typeof b['forced_down'] === 'boolean' ? b['forced_down'] : boolFromString(String(b['forced_down']));
          services.setForcedDown(hst, fd);
          return ok({ service: { host: hst.name, binary: 'nova-compute', forced_down: fd } });
        }
        if (id === 'disable-log-reason' && b['disabled_reason'] === undefined) fail(400, 'Missing disabled reason field');
        const disable = id !== 'enable';
        const reason = id === 'disable-log-reason' ? (b['disabled_reason'] as string) : null;
        services.setServiceStatus(hst, disable, reason);
        const svc: Obj = { host: hst.name, binary: 'nova-compute', status: disable ? 'disabled' : 'enabled' };
        if (reason) svc['disabled_reason'] = reason;
        return ok({ service: svc });
      }
      if (!UUID_RE.test(id)) fail(400, `Invalid uuid ${id}`);
      const ctl = services.control.find((c) => c.uuid === id);
      if (ctl) fail(400, `Updating a ${ctl.binary} service is not supported. Only nova-compute services can be updated.`);
      const hst = [...services.hosts.values()].find((x) => x.serviceUuid === id) ?? fail(404, `Service ${id} could not be found.`);
      if (!isObj(body)) fail(400, 'The request body is invalid.');
      const b = body as Obj;
      for (const k of Object.keys(b)) if (!['status', 'disabled_reason', 'forced_down'].includes(k)) fail(400, `Invalid input for field/attribute ${k}. Additional properties are not allowed ('${k}' was unexpected)`);
      if (b['status'] !== undefined && b['status'] !== 'enabled' && b['status'] !== 'disabled') {
        fail(400, `Invalid input for field/attribute status. Value: ${String(b['status'])}. '${String(b['status'])}' is not one of ['enabled', 'disabled']`);
      }
      validateReason(b['disabled_reason'], false);
      let changed = false;
      if (b['status'] === 'enabled') {
        if (b['disabled_reason']) fail(400, "Specifying 'disabled_reason' with status 'enabled' is invalid.");
        changed = changed || hst.disabled || hst.disabledReason !== null;
        services.setServiceStatus(hst, false, null);
        changed = true;
      } else if (b['status'] === 'disabled') {
        services.setServiceStatus(hst, true, (b['disabled_reason'] as string | undefined) ?? null);
        changed = true;
      }
      if (b['forced_down'] !== undefined) {
        const fd = typeof b['forced_down'] === 'boolean' ? b['forced_down'] : boolFromString(String(b['forced_down']));
        services.setForcedDown(hst, fd);
        changed = true;
      }
      if (!changed) fail(400, "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
      const view = serviceView(hst, ctx.version);
      view['forced_down'] = hst.forcedDown;
      return ok({ service: view });
    },
    { admin: 'os_compute_api:os-services:update' },
  );

  return [route('GET', '/os-services', listServices), route('PUT', '/os-services/:id', updateService)];
}
