/**
 * `hostmaint doctor HOST`: a read-only diagnosis of what a drain (anyone's) may have left
 * behind on one compute host, from Nova's and Placement's own records. Each finding carries the
 * evidence read and the exact commands that fix it. `repair` applies only what is safe and what
 * hostmaint's own runs caused: confirming a resize (VERIFY_RESIZE) of a cold migration a saved run
 * of this state directory requested. Everything else is for a person.
 *
 * What it looks at: the nova-compute service (a hostmaint marker no saved run explains), the
 * servers on the host (ERROR, VERIFY_RESIZE), Nova's migration records touching the host within
 * `sinceMs` (stuck in queued/preparing, a server not where its last completed migration put it),
 * and the consumers of the host's resource provider (allocations on two providers with no
 * migration in progress).
 */
import type { ActorDeps } from '../actors/deps.js';
import { resolveHostRef } from '../actors/service.js';
import { errorText, HostmaintError, isHostmaintError } from '../core/errors.js';
import { parseMarker } from '../machines/marker.js';
import type { CallOptions } from '../openstack/api.js';
import type { Migration, Server } from '../openstack/types.js';
import type { ServiceRecord } from '../machines/records.js';

export type FindingKind = 'unexplained-marker' | 'verify-resize' | 'error-after-migration' | 'stuck-migration' | 'host-mismatch' | 'split-allocations';

export interface DoctorFinding {
  kind: FindingKind;
  serverId: string | null;
  name: string | null;
  /** One line: what is wrong. */
  summary: string;
  /** What was read, as facts (migration ids, statuses, hosts, providers). */
  evidence: string[];
  /** The exact commands that fix it (for a person), in order. */
  fix: string[];
  /** `--repair` would apply it: safe, and caused by hostmaint's own saved run. */
  repairable: boolean;
  /** After `--repair`: what was done (null: nothing was tried). */
  repaired: string | null;
  /** split-allocations: the Placement consumer holding them (a server, or a migration's uuid). */
  consumer?: string;
}

export interface DoctorReport {
  command: 'doctor';
  host: string;
  service: ServiceRecord | null;
  findings: DoctorFinding[];
  /** What was read: servers on the host, migration records, consumers of its provider. */
  checked: { servers: number; migrations: number; consumers: number; since: string };
  warnings: string[];
}

export interface DoctorOptions {
  now: number;
  /** Migration records younger than this are read (default 7 days). */
  sinceMs: number;
  /** A migration queued or preparing for longer than this is stuck (default 10 min). */
  stuckAfterMs: number;
  /**
   * Servers the saved runs of this state directory planned to cold-migrate off or onto the host,
   * with the time the earliest such run started (ms): a cold migration of one of them that Nova
   * created after that is hostmaint's own.
   */
  ownColdMoves: ReadonlyMap<string, number>;
  /** The Nova migration ids the saved runs of this state directory recorded for their moves: a leftover hold of one of them is hostmaint's own. */
  ownMigrations?: ReadonlySet<number>;
  signal?: AbortSignal | undefined;
}

export const DOCTOR_SINCE_MS = 7 * 24 * 3_600_000;
export const DOCTOR_STUCK_AFTER_MS = 10 * 60_000;
const CONFIRM_WAIT_MS = 120_000;
const CONFIRM_POLL_MS = 2_000;

const QUEUED = new Set(['accepted', 'queued', 'preparing', 'pre-migrating']);
const DONE = new Set(['completed', 'confirmed']);
const FAILED = new Set(['failed', 'error']);
const TERMINAL = new Set(['completed', 'confirmed', 'failed', 'error', 'cancelled', 'reverted', 'done']);

function finding(f: Omit<DoctorFinding, 'repairable' | 'repaired'> & { repairable?: boolean }): DoctorFinding {
  return { repairable: false, repaired: null, ...f };
}

function label(s: { name: string | null; serverId: string | null }): string {
  return s.name ? `${s.name} (${s.serverId})` : (s.serverId ?? '?');
}

function migrationFacts(m: Migration): string {
  return `migration ${m.id} (${m.migrationType}): ${m.status}, ${m.sourceCompute ?? '?'} -> ${m.destCompute ?? '?'}, updated ${m.updatedAt ?? m.createdAt ?? '?'}`;
}

/** The latest migration record of each server (by id). */
function latestByServer(migrations: Migration[]): Map<string, Migration> {
  const out = new Map<string, Migration>();
  for (const m of migrations) {
    const seen = out.get(m.serverId);
    if (!seen || m.id > seen.id) out.set(m.serverId, m);
  }
  return out;
}

/** Read the host's state and name what is wrong. Read-only. */
export async function diagnoseHost(deps: ActorDeps, host: string, o: DoctorOptions): Promise<DoctorReport> {
  const opts: CallOptions = { signal: o.signal };
  const resolved = await resolveHostRef(deps, host, opts);
  if (!resolved.found || !resolved.ref) {
    throw new HostmaintError('unknown-host', `Nova has no nova-compute service on a host named '${host}'`, {
      hint: resolved.suggestions.length > 0 ? `Did you mean ${resolved.suggestions.join(', ')}?` : 'List the hosts with `openstack compute service list --service nova-compute`.',
    });
  }
  const ref = resolved.ref;
  const findings: DoctorFinding[] = [];
  const warnings = [...resolved.warnings];
  const since = new Date(o.now - o.sinceMs).toISOString();

  // 1. The service: a hostmaint marker that no saved run here explains.
  const marker = ref.service.status === 'disabled' ? parseMarker(ref.service.disabledReason) : null;
  if (marker && resolved.markerRun === null) {
    findings.push(finding({
      kind: 'unexplained-marker', serverId: null, name: null,
      summary: `nova-compute on ${host} is disabled by hostmaint run ${marker.runId}, which no saved run in this state directory explains`,
      evidence: [`service ${ref.service.id}: disabled, "${ref.service.disabledReason ?? ''}"`, `no run ${marker.runId} in this state directory (it may be another machine's, or its state directory is gone)`],
      fix: [
        `hostmaint status ${marker.runId}            # on the machine that ran it, with its --state-dir`,
        `hostmaint drain ${host} --adopt              # carry the drain on from here`,
        `hostmaint undrain ${host} --force            # or give the host back, once nobody works on it`,
      ],
    }));
  }

  // 2. The servers on the host, and Nova's migration records that touch it.
  const servers = await deps.compute.listServersOnHost(host, opts);
  const onHost = new Map(servers.map((s) => [s.id, s]));
  const migrations = await deps.compute.listMigrations({ host, changesSince: since }, opts);
  const latest = latestByServer(migrations.filter((m) => m.sourceCompute === host || m.destCompute === host));
  const serverOf = async (id: string): Promise<Server | null> => {
    if (onHost.has(id)) return onHost.get(id)!;
    try {
      return await deps.compute.getServer(id, opts);
    } catch (e) {
      if (isHostmaintError(e) && e.kind === 'not-found') return null;
      throw e;
    }
  };

  for (const [serverId, m] of latest) {
    const inProgress = !TERMINAL.has(m.status.toLowerCase()) && m.status.toLowerCase() !== 'finished';
    const st = m.status.toLowerCase();
    // 2a. Queued or preparing for too long.
    if (QUEUED.has(st)) {
      const at = Date.parse(m.updatedAt ?? m.createdAt ?? '');
      if (Number.isFinite(at) && o.now - at >= o.stuckAfterMs) {
        const s = await serverOf(serverId);
        const live = m.migrationType === 'live-migration';
        findings.push(finding({
          kind: 'stuck-migration', serverId, name: s?.name ?? null,
          summary: `migration ${m.id} of ${label({ name: s?.name ?? null, serverId })} has been ${st} for ${Math.round((o.now - at) / 60_000)} min`,
          evidence: [migrationFacts(m), ...(s ? [`server: ${s.status}, task ${s.taskState ?? 'none'}, on ${s.host ?? '?'}`] : [])],
          fix: live
            ? [`nova live-migration-abort ${serverId} ${m.id}     # a queued or preparing live migration can be aborted (API 2.65+)`, `hostmaint drain ${host}                       # then again`]
            : [`openstack server show ${serverId}         # a cold migration cannot be aborted: look at nova-conductor and nova-compute logs on ${m.sourceCompute ?? host}`],
        }));
      }
      continue;
    }
    if (inProgress) continue;
    // 2b. A cold migration waiting for its confirmation.
    if (st === 'finished') {
      const s = await serverOf(serverId);
      if (s && s.status === 'VERIFY_RESIZE') {
        const since = o.ownColdMoves.get(serverId);
        const created = Date.parse(m.createdAt ?? '');
        const own = since !== undefined && m.migrationType === 'migration' && Number.isFinite(created) && created >= since - 1000;
        findings.push(finding({
          kind: 'verify-resize', serverId, name: s.name,
          summary: `${label({ name: s.name, serverId })} waits in VERIFY_RESIZE on ${s.host ?? '?'}: its cold migration was never confirmed${own ? ' (a hostmaint run of this state directory requested it)' : ''}`,
          evidence: [migrationFacts(m), `server: VERIFY_RESIZE on ${s.host ?? '?'}`],
          fix: [`openstack server resize confirm ${serverId}`],
          repairable: own,
        }));
      }
      continue;
    }
    const s = await serverOf(serverId);
    if (!s) continue; // deleted since
    // 2c. ERROR after a failed migration.
    if (FAILED.has(st) && s.status === 'ERROR') {
      findings.push(finding({
        kind: 'error-after-migration', serverId, name: s.name,
        summary: `${label({ name: s.name, serverId })} is in ERROR on ${s.host ?? '?'} after its migration ${m.id} ${st}`,
        evidence: [migrationFacts(m), `server: ERROR, vm_state ${s.vmState ?? '?'}, on ${s.host ?? '?'} (${s.hypervisorHostname ?? '?'})`],
        fix: [
          `virsh list --all          # on ${m.sourceCompute ?? '?'} and ${m.destCompute ?? '?'}: where does the domain ${s.instanceName ?? serverId} run?`,
          `openstack server set --state active ${serverId}     # once it runs where Nova says (${s.host ?? '?'})`,
          `hostmaint drain ${host}`,
        ],
      }));
      continue;
    }
    // 2d. Not where its last completed migration put it (its last of all: it may have moved on between other hosts since).
    if (DONE.has(st) && m.destCompute && s.host !== m.destCompute && s.taskState === null) {
      const all = await deps.compute.listMigrations({ instanceUuid: serverId }, opts);
      const last = all.reduce<Migration | null>((a, b) => (a === null || b.id > a.id ? b : a), null);
      if (last && last.id !== m.id && (!DONE.has(last.status.toLowerCase()) || last.destCompute === s.host)) continue;
      findings.push(finding({
        kind: 'host-mismatch', serverId, name: s.name,
        summary: `${label({ name: s.name, serverId })} is on ${s.host ?? 'no host'}, but its last migration (${m.id}, ${st}) put it on ${m.destCompute}`,
        evidence: [migrationFacts(m), `server: ${s.status} on ${s.host ?? 'no host'} (${s.hypervisorHostname ?? '?'})`],
        fix: [
          `openstack server migration list --server ${serverId}`,
          `virsh list --all          # on ${m.sourceCompute ?? '?'} and ${m.destCompute}: where does the domain ${s.instanceName ?? serverId} really run?`,
          `nova-manage placement heal_allocations --instance ${serverId}     # once Nova's host is right`,
        ],
      }));
    }
  }

  // 3. Placement: consumers of the host's provider with allocations on two providers and no migration in progress.
  let consumers = 0;
  if (ref.provider) {
    const moving = new Set<string>();
    for (const m of migrations) {
      const st = m.status.toLowerCase();
      if (!TERMINAL.has(st)) {
        moving.add(m.serverId);
        if (m.uuid) moving.add(m.uuid);
      }
    }
    const byUuid = new Map(migrations.filter((m) => m.uuid).map((m) => [m.uuid!, m]));
    const held = await deps.placement.getProviderAllocations(ref.provider.uuid, opts);
    consumers = Object.keys(held).length;
    for (const consumer of Object.keys(held)) {
      if (moving.has(consumer)) continue;
      let alloc;
      try {
        alloc = await deps.placement.getConsumerAllocations(consumer, opts);
      } catch (e) {
        warnings.push(`allocations of consumer ${consumer} could not be read: ${errorText(e)}`);
        continue;
      }
      const providers = Object.keys(alloc.allocations);
      if (providers.length < 2) continue;
      const mig = byUuid.get(consumer);
      const s = mig ? null : (onHost.get(consumer) ?? null);
      const name = s?.name ?? null;
      const who = mig ? `migration ${mig.id} (${mig.status}) of server ${mig.serverId}` : label({ name, serverId: consumer });
      const others = providers.filter((p) => p !== ref.provider!.uuid);
      // A migration's leftover hold, of a move a saved run of this state directory recorded: hostmaint's own to release.
      const own = !!mig && (o.ownMigrations?.has(mig.id) ?? false);
      findings.push(finding({
        kind: 'split-allocations', serverId: mig ? mig.serverId : consumer, name, consumer,
        repairable: own,
        summary: `${who} holds allocations on ${providers.length} resource providers, with no migration in progress${own ? ' (a hostmaint run of this state directory made that migration)' : ''}`,
        evidence: providers.map((p) => `provider ${p}${p === ref.provider!.uuid ? ` (${ref.provider!.name}, this host)` : ''}: ${Object.entries(alloc.allocations[p] ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}`),
        fix: mig
          ? [`openstack resource provider allocation delete ${consumer}     # the migration's leftover hold (osc-placement)`]
          : [
            `openstack server show ${consumer} -c OS-EXT-SRV-ATTR:host     # which provider is the server really on?`,
            ...others.map((p) => `openstack resource provider allocation unset --provider ${s?.host === host ? p : ref.provider!.uuid} ${consumer}     # drop the hold on the provider it is not on`).slice(0, 1),
          ],
      }));
    }
  } else {
    warnings.push(`no Placement resource provider for ${host}: allocations were not checked`);
  }

  return { command: 'doctor', host, service: ref.service, findings, checked: { servers: servers.length, migrations: migrations.length, consumers, since }, warnings };
}

/**
 * Release a leftover hold of hostmaint's own migration: read the consumer again, and release it
 * only with the generation just read (Placement refuses with 409 if anyone changed it since).
 */
async function releaseOwnHold(deps: ActorDeps, f: DoctorFinding, o: { signal?: AbortSignal | undefined }): Promise<string> {
  const c = await deps.placement.getConsumerAllocations(f.consumer!, { signal: o.signal });
  if (Object.keys(c.allocations).length === 0) return 'nothing to do: it holds nothing now';
  if (c.consumerGeneration === null || c.projectId === null || c.userId === null) return 'not released: Placement gave no consumer generation (needs placement 1.28+)';
  await deps.placement.releaseConsumer(f.consumer!, { consumerGeneration: c.consumerGeneration, projectId: c.projectId, userId: c.userId }, { signal: o.signal });
  return `released: the allocations of consumer ${f.consumer} on ${Object.keys(c.allocations).length} provider(s) (consumer generation ${c.consumerGeneration})`;
}

/** Apply the repairable findings (confirm hostmaint's own VERIFY_RESIZE, release its own migration's leftover hold); each outcome is recorded on its finding. */
export async function repairFindings(deps: ActorDeps, report: DoctorReport, o: { signal?: AbortSignal | undefined }): Promise<number> {
  let done = 0;
  for (const f of report.findings) {
    if (f.repairable && f.kind === 'split-allocations' && f.consumer) {
      try {
        f.repaired = await releaseOwnHold(deps, f, o);
        if (f.repaired.startsWith('released')) done++;
      } catch (e) {
        f.repaired = `failed: ${errorText(e)}`;
      }
      continue;
    }
    if (!f.repairable || f.kind !== 'verify-resize' || !f.serverId) continue;
    try {
      // Reconcile first: confirm only what is still waiting.
      const s = await deps.compute.getServer(f.serverId, { signal: o.signal });
      if (s.status !== 'VERIFY_RESIZE') {
        f.repaired = `nothing to do: now ${s.status}`;
        continue;
      }
      await deps.compute.confirmResize(f.serverId, { signal: o.signal });
      // Read back: the confirm is asynchronous in Nova; wait (bounded) until the server leaves VERIFY_RESIZE.
      let now = s;
      for (let waited = 0; now.status === 'VERIFY_RESIZE' && waited < CONFIRM_WAIT_MS; waited += CONFIRM_POLL_MS) {
        await deps.clock.sleep(CONFIRM_POLL_MS, o.signal);
        now = await deps.compute.getServer(f.serverId, { signal: o.signal });
      }
      f.repaired = now.status === 'VERIFY_RESIZE' ? `confirm requested; still VERIFY_RESIZE after ${CONFIRM_WAIT_MS / 1000} s` : `resize confirmed: now ${now.status} on ${now.host ?? '?'}`;
      done++;
    } catch (e) {
      f.repaired = `failed: ${errorText(e)}`;
    }
  }
  return done;
}
