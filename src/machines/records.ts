/**
 * Small records that the options, events, actor I/O and results all carry:
 * a service as recorded, how an instance moves, what a drain moved where,
 * what is left on a host.
 */

/** The service as recorded (before / after). */
export interface ServiceRecord {
  id: string;
  host: string;
  zone: string | null;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  disabledReason: string | null;
  forcedDown: boolean;
}

export type MoveMethod = 'live' | 'cold' | 'offload';

export interface Leftover {
  kind: 'server' | 'hypervisor-server' | 'allocation' | 'migration';
  id: string;
  name: string | null;
  status: string | null;
  reason: string;
}

/** What a drain moved where: the input of undrain's returnInstances. */
export interface ManifestEntry {
  serverId: string;
  name?: string;
  from: string;
  to: string;
  method?: 'live' | 'cold';
  /** Status it was moved in (ACTIVE, PAUSED, SHUTOFF). */
  status?: string;
}
