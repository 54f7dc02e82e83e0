/**
 * The host list of a rolling run, from every source the operator may give:
 * positional names, a file (one per line), a host aggregate, an availability
 * zone. Combined in that order, de-duplicated keeping the first position, and
 * checked against the nova-compute services (one listServices call; plus one
 * listAggregates call when an aggregate is given).
 *
 * The zone of a host is its nova-compute service's `zone`: the
 * os-availability-zone listing leaves out disabled hosts (a host still
 * disabled from an earlier maintenance would silently drop out), and the
 * services are read anyway, so an AZ costs no extra request.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import { suggestHosts } from '../actors/service.js';
import { HostmaintError, errorText } from '../core/errors.js';
import type { ComputeApi } from '../openstack/api.js';
import type { ComputeService } from '../openstack/types.js';

export interface HostListRequest {
  hosts: string[];
  file?: string | null;
  aggregate?: string | null;
  availabilityZone?: string | null;
}

export interface HostListDeps {
  readFile?: (path: string) => Promise<string>;
}

export interface HostList {
  hosts: string[];
  warnings: string[];
}

const HOW_TO_GIVE = 'give hosts as arguments (hostmaint run WORKFLOW compute-01 compute-02), with --hosts-file FILE (one per line), --hosts-from-aggregate NAME or --hosts-from-zone NAME';

/** One host per line; `#` starts a comment; blank lines ignored; whitespace trimmed. */
export function parseHostFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
}

async function hostsFromFile(path: string, deps: HostListDeps): Promise<string[]> {
  const read = deps.readFile ?? ((p: string) => fsReadFile(p, 'utf8'));
  let text: string;
  try {
    text = await read(path);
  } catch (e) {
    throw new HostmaintError('usage', `cannot read the host file ${path}: ${errorText(e)}`, { hint: 'one host name per line; # starts a comment', cause: e });
  }
  return parseHostFile(text);
}

function listed(names: string[]): string {
  return names.length > 0 ? names.join(', ') : '(none)';
}

export async function resolveHostList(compute: ComputeApi, req: HostListRequest, deps: HostListDeps = {}): Promise<HostList> {
  const warnings: string[] = [];
  const sources: Array<{ from: string; hosts: string[] }> = [{ from: 'the command line', hosts: req.hosts.map((h) => h.trim()).filter((h) => h !== '') }];

  if (req.file) {
    const hosts = await hostsFromFile(req.file, deps);
    if (hosts.length === 0) warnings.push(`the host file ${req.file} names no host`);
    sources.push({ from: `file ${req.file}`, hosts });
  }

  const services: ComputeService[] = await compute.listServices({ binary: 'nova-compute' });
  const computes = services.filter((s) => s.binary === 'nova-compute');

  if (req.aggregate) {
    const aggregates = await compute.listAggregates();
    const agg = aggregates.find((a) => a.name === req.aggregate) ?? aggregates.find((a) => String(a.id) === req.aggregate || a.uuid === req.aggregate);
    if (!agg) {
      throw new HostmaintError('usage', `no host aggregate named '${req.aggregate}'; the aggregates are: ${listed(aggregates.map((a) => `${a.name} (id ${a.id})`))}`, {
        hint: 'list them with: openstack aggregate list',
        details: { aggregate: req.aggregate, aggregates: aggregates.map((a) => a.name) },
      });
    }
    if (agg.hosts.length === 0) warnings.push(`aggregate ${agg.name} has no hosts`);
    sources.push({ from: `aggregate ${agg.name}`, hosts: agg.hosts });
  }

  if (req.availabilityZone) {
    const zones = [...new Set(computes.map((s) => s.zone).filter((z): z is string => z !== null && z !== ''))].sort();
    if (!zones.includes(req.availabilityZone)) {
      throw new HostmaintError('usage', `no availability zone named '${req.availabilityZone}' holds a nova-compute host; the zones are: ${listed(zones)}`, {
        hint: 'list them with: openstack availability zone list --compute --long',
        details: { availabilityZone: req.availabilityZone, zones },
      });
    }
    sources.push({ from: `availability zone ${req.availabilityZone}`, hosts: computes.filter((s) => s.zone === req.availabilityZone).map((s) => s.host).sort() });
  }

  const hosts: string[] = [];
  const origin = new Map<string, string>();
  for (const src of sources) {
    for (const h of src.hosts) {
      if (origin.has(h)) continue;
      origin.set(h, src.from);
      hosts.push(h);
    }
  }
  if (hosts.length === 0) throw new HostmaintError('usage', 'no hosts to work on', { hint: HOW_TO_GIVE });

  const byHost = new Map(computes.map((s) => [s.host, s] as const));
  const unknown = hosts.filter((h) => !byHost.has(h));
  if (unknown.length > 0) {
    const known = computes.map((s) => s.host);
    const lines = unknown.map((h) => {
      const near = suggestHosts(h, known);
      return `${h} (from ${origin.get(h)})${near.length > 0 ? `: did you mean ${near.join(' or ')}?` : ''}`;
    });
    throw new HostmaintError('unknown-host', `${unknown.length === 1 ? 'no nova-compute service named' : 'no nova-compute services named'} ${lines.join('; ')}; nothing was changed`, {
      hint: 'list them with: openstack compute service list --service nova-compute',
      details: { unknown, suggestions: Object.fromEntries(unknown.map((h) => [h, suggestHosts(h, known)])) },
    });
  }

  for (const h of hosts) {
    const s = byHost.get(h)!;
    if (s.state !== 'up' || s.forcedDown) warnings.push(`${h}: nova-compute is ${s.forcedDown ? 'forced down' : 'down'}`);
    if (s.status !== 'enabled') warnings.push(`${h}: nova-compute is already disabled${s.disabledReason ? ` (${s.disabledReason})` : ''}`);
  }
  return { hosts, warnings };
}
