/**
 * A cloud that outlives its process: the journal of the requests that changed
 * the model (every request but reads, token requests and the emulator's own
 * reads), each with the model time it was handled at. The model is a pure
 * function of the scenario, the seed and these requests at these times, so
 * replaying them on a fresh cloud (startEmulator({ journal })) rebuilds it
 * exactly: the same ids, the same migrations half-way at the same point. The
 * demo cloud keeps its journal in the state directory (src/cli/cloud.ts).
 */
import type { EmuRequest, Service } from './http.js';

export interface JournalEntry {
  /** Model time the request was handled at. */
  t: number;
  method: string;
  /** Path and query string. */
  url: string;
  /** Headers that change how it is handled (microversions), never the token. */
  headers: Record<string, string>;
  rawBody: string;
  requestId: string;
}

export interface EmulatorJournal {
  version: 1;
  /** The scenario's name, or the file it was loaded from. */
  scenario: string;
  seed: number;
  /** Model time the cloud was created at. */
  startedAt: number;
  /** Model time it was saved at: a restored cloud's clock starts here. */
  savedAt: number;
  /** How many times it was restored (keeps request ids apart). */
  generation: number;
  entries: JournalEntry[];
}

const KEPT_HEADERS = ['openstack-api-version', 'x-openstack-nova-api-version', 'content-type'];

/** Whether a request may change the model (and so goes into the journal). */
export function changesModel(method: string, service: Service, servicePath: string): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
  if (service === 'identity' || service === 'root') return false;
  // The emulator's own API: only faults change the model (a demo host's reboot is a host-down fault).
  if (service === 'emulator') return method === 'POST' && /^\/faults\/?$/.test(servicePath);
  return true;
}

export function journalEntry(req: EmuRequest, t: number, query: string): JournalEntry {
  const headers: Record<string, string> = {};
  for (const h of KEPT_HEADERS) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  return { t, method: req.method, url: `${req.path}${query ? `?${query}` : ''}`, headers, rawBody: req.rawBody, requestId: req.requestId };
}

export function isJournal(v: unknown): v is EmulatorJournal {
  const j = v as Partial<EmulatorJournal> | null;
  return !!j && typeof j === 'object' && j.version === 1 && typeof j.scenario === 'string' && typeof j.seed === 'number' && typeof j.startedAt === 'number' && typeof j.savedAt === 'number' && Array.isArray(j.entries);
}
