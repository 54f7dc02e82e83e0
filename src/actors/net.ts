/**
 * The real reachability checks, from the machine hostmaint runs on: does the
 * hostname resolve (node:dns), is there a route to an address (a UDP
 * connect(): a route lookup, no packet sent), does a TCP port answer
 * (node:net). Tests inject fakes instead (ActorDeps).
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';

/** The checks a preflight makes from this machine; tests inject fakes for any of them. */
export interface NetChecks {
  /** The address the name resolves to, or null (not found, or no answer within timeoutMs). */
  resolve(name: string, timeoutMs: number): Promise<string | null>;
  /** Null when this machine has a route to the address, else why not. */
  routeTo(address: string): Promise<string | null>;
  /** True when a TCP connection to address:port opens within timeoutMs. */
  probeTcp(address: string, port: number, timeoutMs: number): Promise<boolean>;
}

/** Answers of the resolver, kept a minute: a rolling run's preflights ask for the same names host after host. */
const RESOLVE_TTL_MS = 60_000;
const resolved = new Map<string, { at: number; address: string | null }>();

/** The address the name resolves to (cached a minute), or null when it does not resolve within timeoutMs. */
export async function resolveHostDns(name: string, timeoutMs: number): Promise<string | null> {
  const now = performance.now();
  const hit = resolved.get(name);
  if (hit && now - hit.at < RESOLVE_TTL_MS) return hit.address;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
    timer.unref();
  });
  const address = await Promise.race([lookup(name).then((r) => r.address, () => null), timeout]);
  clearTimeout(timer);
  resolved.set(name, { at: now, address });
  return address;
}

/** Route lookups, kept a minute as the resolver's answers: a rolling dry-run checks every target once per host (1,000 hosts: a million sockets otherwise). */
const routes = new Map<string, { at: number; why: Promise<string | null> }>();

/**
 * Null when this machine has a route to `address`, else why not. The kernel's
 * route lookup (connect() on a UDP socket) sends nothing on the wire. Cached a minute.
 */
export function routeTo(address: string): Promise<string | null> {
  const now = performance.now();
  const hit = routes.get(address);
  if (hit && now - hit.at < RESOLVE_TTL_MS) return hit.why;
  const why = lookupRoute(address);
  routes.set(address, { at: now, why });
  return why;
}

function lookupRoute(address: string): Promise<string | null> {
  const family = isIP(address);
  if (family === 0) return Promise.resolve(`'${address}' is not an IP address`);
  if (address === '0.0.0.0' || address === '::') return Promise.resolve(`${address} is the unspecified address`);
  return new Promise<string | null>((resolve) => {
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    let settled = false;
    const done = (why: string | null) => {
      if (settled) return;
      settled = true;
      try {
        socket.close();
      } catch {
        /* already closed */
      }
      resolve(why);
    };
    socket.once('error', (e: NodeJS.ErrnoException) => done(`no route (${e.code ?? e.message})`));
    socket.connect(9, address, () => done(null));
  });
}

/** True when a TCP connection to host:port opens within timeoutMs. */
export function probeTcpConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = new Socket();
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

export const realNet: NetChecks = { resolve: resolveHostDns, routeTo, probeTcp: probeTcpConnect };

/** The real checks, with whichever the caller injected instead. */
export function netChecks(deps: { net?: Partial<NetChecks> | undefined }): NetChecks {
  return { ...realNet, ...deps.net };
}
