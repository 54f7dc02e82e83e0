/**
 * What the shared contract suites (compute-contract.ts, placement-contract.ts)
 * need from a cloud: a hostmaint session (the clients under test), a raw
 * compute ServiceClient for setup, the compute hosts, and setup helpers that
 * speak plain Nova REST, so the same suites run against the real lab
 * (lab-cloud.ts) and against hostmaint's emulated cloud.
 */
import type { CloudSession } from '../../src/openstack/api.js';
import type { ServiceClient } from '../../src/openstack/service-client.js';
import type { Server } from '../../src/openstack/types.js';

export interface BootOptions {
  name: string;
  /** Compute service host to boot on (as admin: availability_zone "nova:<host>"). */
  host: string;
  /** Flavor name, e.g. "m1.tiny". */
  flavor: string;
  /** Project name to own the server (default: the session's project). Must be one of `projects`. */
  project?: string;
  /** Server metadata (e.g. hostmaint:policy). */
  metadata?: Record<string, string>;
  /** Server group id: the scheduler hint `group` (the server becomes a member). */
  group?: string;
}

export interface CloudUnderTest {
  name: string;
  session: CloudSession;
  /** Raw compute ServiceClient (admin, session's project, negotiated microversion) for setup and checks. */
  admin: ServiceClient;
  /** Raw placement ServiceClient (admin, negotiated microversion), where the cloud has one to give (the lab). */
  placementAdmin?: ServiceClient;
  /** nova-compute hosts, at least 3: the suites move servers from computes[0]/[1] to the others. */
  computes: string[];
  /** Project names bootServer can use; [0] is the session's own, [1] a second project. */
  projects: string[];
  /** POST /servers (networks "none", availability_zone nova:<host>), waits until ACTIVE; returns the id. */
  bootServer(opts: BootOptions): Promise<string>;
  /** Unlocks if needed, DELETE, waits until it is gone (404). Never throws for an already missing server. */
  deleteServer(id: string): Promise<void>;
  /** os-stop, waits for SHUTOFF. */
  stopServer(id: string): Promise<void>;
  /** pause, waits for PAUSED. */
  pauseServer(id: string): Promise<void>;
  /** lock (with a reason from 2.73), waits for locked. */
  lockServer(id: string): Promise<void>;
  /** Polls GET /servers/{id} (through session.compute.getServer) until pred holds; throws on timeout with the last state. */
  waitForServer(id: string, pred: (s: Server) => boolean, timeoutMs: number): Promise<Server>;
  /** Release what the cloud holds (tokens, sockets). */
  close?(): Promise<void>;
}
