/**
 * The real target checks: does the hostname resolve (node:dns), does a TCP
 * port answer (node:net). Tests inject fakes instead (ActorDeps).
 */
import { lookup } from 'node:dns/promises';
import { Socket } from 'node:net';

/** The address the name resolves to, or false. */
export async function resolveHostDns(name: string): Promise<boolean | string> {
  try {
    const r = await lookup(name);
    return r.address;
  } catch {
    return false;
  }
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
