/**
 * Records the raw JSON bodies of the real lab (test/lab/start.sh) into
 * test/fixtures/nova/ and test/fixtures/placement/, one file per call and
 * microversion (`<call>.<microversion>.json`), plus an INDEX.json per folder
 * with method, path, query, status and the date.
 *
 *   npx tsx test/support/record-fixtures.ts
 *
 * It boots servers on compute-01 (ACTIVE in project 1; SHUTOFF, PAUSED in
 * project 2; a locked one), disables/enables compute-01 and compute-03,
 * live-migrates (watching the in-progress migration), fails a live migration
 * onto a disabled host (NoValidHost with event details), cold-migrates and
 * confirms, reads everything a drain reads, then deletes every server it
 * booted and restores every service it touched. Bodies hold no token (checked).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLabCloud } from '../contract/lab-cloud.js';
import { loadLab, REPO_ROOT, labUnavailableReason } from '../openstack/lab.js';
import { compareMicroversions, type ServiceRequest } from '../../src/openstack/service-client.js';
import { LabServiceClient, LabTokens, negotiateLab, type RecordedExchange } from './lab-service-client.js';

const lab = loadLab();
if (!lab) {
  console.error(`no lab: ${labUnavailableReason}`);
  process.exit(2);
}
const today = new Date().toISOString().slice(0, 10);
const tokens = new LabTokens(lab);
const nova = await negotiateLab(tokens, 'compute', '2.93');
const placementEp = await negotiateLab(tokens, 'placement', '1.39');
const cloud = await createLabCloud(lab);
const secret = (await tokens.session()).token;

interface IndexEntry { file: string; method: string; path: string; query: ServiceRequest['query']; microversion: string | null; status: number; recorded: string; note?: string }
const index: Record<'nova' | 'placement', IndexEntry[]> = { nova: [], placement: [] };

function save(kind: 'nova' | 'placement', name: string, x: RecordedExchange, note?: string): void {
  const text = `${JSON.stringify(x.data, null, 2)}\n`;
  if (text.includes(secret) || /"password"|x-auth-token|x-subject-token/i.test(text)) throw new Error(`refusing to save ${name}: looks like a secret`);
  const dir = resolve(REPO_ROOT, 'test/fixtures', kind);
  mkdirSync(dir, { recursive: true });
  const file = `${name}.${x.microversion ?? 'none'}.json`;
  writeFileSync(resolve(dir, file), text);
  index[kind] = index[kind].filter((e) => e.file !== file);
  index[kind].push({ file, method: x.method, path: x.path, query: x.query, microversion: x.microversion, status: x.status, recorded: today, ...(note ? { note } : {}) });
  console.log(`  ${kind}/${file} (${x.status})`);
}

/** Send one raw request at microversion `mv` and save its body (errors too when `allowError`). */
async function rec(kind: 'nova' | 'placement', name: string, mv: string, req: ServiceRequest, opts: { allowError?: boolean; note?: string } = {}): Promise<unknown> {
  let last: RecordedExchange | null = null;
  const ep = kind === 'nova' ? nova.endpoint : placementEp.endpoint;
  const client = new LabServiceClient(tokens, { serviceType: kind === 'nova' ? 'compute' : 'placement', endpoint: ep, microversion: mv, recorder: (x) => (last = x) });
  try {
    await client.request(req);
  } catch (e) {
    if (!opts.allowError) throw e;
  }
  if (!last) throw new Error(`no exchange for ${name}`);
  save(kind, name, last, opts.note);
  return (last as RecordedExchange).data;
}
const N = (name: string, mv: string, req: ServiceRequest, o?: { allowError?: boolean; note?: string }) => rec('nova', name, mv, req, o);
const P = (name: string, mv: string, req: ServiceRequest, o?: { allowError?: boolean; note?: string }) => rec('placement', name, mv, req, o);
const GET = (path: string, query?: ServiceRequest['query']): ServiceRequest => ({ method: 'GET', path, query });

const api = cloud.session.compute;
const [SRC, , OTHER] = cloud.computes as [string, string, string];
const booted: string[] = [];
const servicesBefore = await api.listServices({ binary: 'nova-compute' });
const tag = `hm-fx-${Date.now().toString(36)}`;

try {
  console.log(`recording against the lab: compute ${nova.microversion} (max ${nova.serverMax}), placement ${placementEp.microversion}`);
  const boot = async (key: string, project: string | undefined, flavor = 'm1.tiny') => {
    const id = await cloud.bootServer({ name: `${tag}-${key}`, host: SRC, flavor, project });
    booted.push(id);
    return id;
  };
  const active = await boot('active', cloud.projects[0]);
  const shutoff = await boot('shutoff', cloud.projects[1], 'm1.small');
  const paused = await boot('paused', cloud.projects[1]);
  const locked = await boot('locked', cloud.projects[0]);
  await cloud.stopServer(shutoff);
  await cloud.pauseServer(paused);
  await cloud.lockServer(locked);

  // ---- services
  for (const mv of ['2.93', '2.52', '2.1']) await N('services-list-host', mv, GET('/os-services', { binary: 'nova-compute', host: SRC }));
  const svc = (await api.listServices({ host: SRC, binary: 'nova-compute' }))[0]!;
  await N('service-disable', '2.93', { method: 'PUT', path: `/os-services/${svc.id}`, body: { status: 'disabled', disabled_reason: `hostmaint:${tag}: fixture recording` } });
  await N('service-enable', '2.93', { method: 'PUT', path: `/os-services/${svc.id}`, body: { status: 'enabled' } });
  await N('service-disable-log-reason', '2.52', { method: 'PUT', path: '/os-services/disable-log-reason', body: { host: SRC, binary: 'nova-compute', disabled_reason: `hostmaint:${tag}: fixture recording` } });
  await N('services-list-host-disabled', '2.93', GET('/os-services', { binary: 'nova-compute', host: SRC }));
  await N('service-enable-legacy', '2.52', { method: 'PUT', path: '/os-services/enable', body: { host: SRC, binary: 'nova-compute' } });
  await N('service-disable-reason-too-long', '2.93', { method: 'PUT', path: `/os-services/${svc.id}`, body: { status: 'disabled', disabled_reason: 'x'.repeat(256) } }, { allowError: true, note: 'what Nova says to a 256-character reason (the client refuses it before sending)' });

  // ---- hypervisors
  await N('hypervisors-detail-pattern-servers', '2.87', GET('/os-hypervisors/detail', { hypervisor_hostname_pattern: SRC, with_servers: 'true' }));
  await N('hypervisors-detail-pattern-servers', '2.93', GET('/os-hypervisors/detail', { hypervisor_hostname_pattern: SRC, with_servers: 'true' }), { note: '2.88+ detail includes uptime (one RPC per hypervisor): the client caps this call at 2.87' });
  await N('hypervisors-detail-pattern-servers', '2.53', GET('/os-hypervisors/detail', { hypervisor_hostname_pattern: 'compute-0', with_servers: 'true' }), { note: 'pattern compute-0 matches every lab compute' });
  await N('hypervisors-pattern-nomatch', '2.93', GET('/os-hypervisors/detail', { hypervisor_hostname_pattern: 'no-such-host' }), { allowError: true });
  await N('hypervisors-detail', '2.87', GET('/os-hypervisors/detail', { limit: 1000 }));
  const legacy = (await N('hypervisors-pattern-servers', '2.52', GET(`/os-hypervisors/${SRC}/servers`))) as { hypervisors: Array<{ id: number }> };
  await N('hypervisors-pattern-search', '2.52', GET(`/os-hypervisors/${SRC}/search`));
  await N('hypervisor-show', '2.52', GET(`/os-hypervisors/${legacy.hypervisors[0]!.id}`));

  // ---- servers
  for (const mv of ['2.93', '2.47', '2.46', '2.1']) await N('servers-detail-host', mv, GET('/servers/detail', { all_tenants: '1', host: SRC, limit: 1000 }));
  await N('servers-detail-host-paged', '2.93', GET('/servers/detail', { all_tenants: '1', host: SRC, limit: 2 }), { note: 'a full page: servers_links carries the next marker' });
  await N('servers-detail-soft-deleted', '2.93', GET('/servers/detail', { all_tenants: '1', host: SRC, status: 'SOFT_DELETED', deleted: 'true', limit: 1000 }));
  for (const mv of ['2.93', '2.1']) await N('server-show-locked', mv, GET(`/servers/${locked}`));
  const flavors = (await cloud.admin.request<{ flavors: Array<{ id: string; name: string }> }>({ method: 'GET', path: '/flavors' })).data.flavors;
  for (const name of ['m1.tiny', 'm1.small']) {
    const id = flavors.find((f) => f.name === name)!.id;
    const key = name.replace('m1.', '');
    await N(`flavor-show-${key}`, '2.93', GET(`/flavors/${id}`));
    await N(`flavor-show-${key}`, '2.60', GET(`/flavors/${id}`));
    await N(`flavor-extra-specs-${key}`, '2.60', GET(`/flavors/${id}/os-extra_specs`));
  }

  // ---- live migration refused (SHUTOFF)
  await N('live-migrate-shutoff-conflict', '2.93', { method: 'POST', path: `/servers/${shutoff}/action`, body: { 'os-migrateLive': { host: null, block_migration: 'auto' } } }, { allowError: true });

  // ---- live migration, watched in progress
  const svcSrc = (await api.listServices({ host: SRC, binary: 'nova-compute' }))[0]!;
  await api.disableService(svcSrc, `hostmaint:${tag}: fixture recording (drain)`);
  const accepted = await api.liveMigrate(active, { host: null });
  let sawRunning = false;
  for (let i = 0; i < 150 && !sawRunning; i++) {
    const list = (await cloud.admin.request<{ migrations: Array<{ id: number; status: string }> }>({ method: 'GET', path: `/servers/${active}/migrations` })).data.migrations;
    const running = list.find((m) => m.status === 'running');
    if (running) {
      sawRunning = true;
      await N('server-migrations-running', '2.93', GET(`/servers/${active}/migrations`));
      await N('server-migrations-running', '2.23', GET(`/servers/${active}/migrations`));
      await N('server-migration-show-running', '2.93', GET(`/servers/${active}/migrations/${running.id}`), { allowError: true });
    } else await sleep(100);
  }
  if (!sawRunning) console.warn('  (never saw the live migration running)');
  await cloud.waitForServer(active, (s) => s.status === 'ACTIVE' && s.taskState === null && s.host !== SRC, 120_000);
  await N('server-migrations-none', '2.93', GET(`/servers/${active}/migrations`));
  for (const mv of ['2.93', '2.59', '2.58', '2.22']) await N('os-migrations-instance', mv, GET('/os-migrations', { instance_uuid: active, ...(compareMicroversions(mv, '2.59') >= 0 ? { limit: 1000 } : {}) }));
  for (const mv of ['2.93', '2.58']) await N('instance-actions-list', mv, GET(`/servers/${active}/os-instance-actions`));
  for (const mv of ['2.93', '2.83', '2.50']) await N('instance-action-live-migration', mv, GET(`/servers/${active}/os-instance-actions/${accepted.requestId}`));

  // ---- live migration onto a disabled host: 202, then NoValidHost (migration error, event details)
  const svcOther = (await api.listServices({ host: OTHER, binary: 'nova-compute' }))[0]!;
  await api.disableService(svcOther, `hostmaint:${tag}: fixture recording (target disabled)`);
  const failing = await api.liveMigrate(paused, { host: OTHER });
  const failed = await (async () => {
    for (let i = 0; i < 120; i++) {
      const ms = await api.listMigrations({ instanceUuid: paused, migrationType: 'live-migration' });
      if (ms.some((m) => m.status === 'error' || m.status === 'failed')) return true;
      await sleep(500);
    }
    return false;
  })();
  await api.enableService((await api.listServices({ host: OTHER, binary: 'nova-compute' }))[0]!);
  if (failed) {
    await N('os-migrations-live-error', '2.93', GET('/os-migrations', { instance_uuid: paused, limit: 1000 }));
    await N('instance-action-live-migration-novalidhost', '2.93', GET(`/servers/${paused}/os-instance-actions/${failing.requestId}`));
  } else console.warn('  (the live migration onto a disabled host did not fail?)');

  // ---- cold migration + confirm
  await api.coldMigrate(shutoff, {});
  await cloud.waitForServer(shutoff, (s) => s.status === 'VERIFY_RESIZE', 120_000);
  await N('server-show-verify-resize', '2.93', GET(`/servers/${shutoff}`));
  await N('os-migrations-cold-finished', '2.93', GET('/os-migrations', { instance_uuid: shutoff, migration_type: 'migration', limit: 1000 }));
  await N('os-migrations-host', '2.93', GET('/os-migrations', { host: SRC, limit: 1000 }));
  await N('os-migrations-host-paged', '2.93', GET('/os-migrations', { host: SRC, limit: 1 }), { note: 'a full page: migrations_links carries the next marker (uuid)' });
  await api.confirmResize(shutoff);
  await cloud.waitForServer(shutoff, (s) => s.status === 'SHUTOFF' && s.taskState === null, 120_000);

  // ---- groups, zones, aggregates
  const g = (await cloud.admin.request<{ server_group: { id: string } }>({ method: 'POST', path: '/os-server-groups', body: { server_group: { name: `${tag}-grp`, policy: 'anti-affinity', rules: { max_server_per_host: 1 } } }, microversion: '2.64' })).data.server_group.id;
  try {
    for (const mv of ['2.93', '2.63']) await N('server-groups-list', mv, GET('/os-server-groups', { all_projects: 'true', limit: 1000, offset: 0 }));
    await N('server-group-show', '2.93', GET(`/os-server-groups/${g}`));
  } finally {
    await cloud.admin.request({ method: 'DELETE', path: `/os-server-groups/${g}` });
  }
  await N('availability-zone-detail', '2.93', GET('/os-availability-zone/detail'));
  const agg = (await cloud.admin.request<{ aggregate: { id: number } }>({ method: 'POST', path: '/os-aggregates', body: { aggregate: { name: `${tag}-agg`, availability_zone: null } } })).data.aggregate.id;
  try {
    await cloud.admin.request({ method: 'POST', path: `/os-aggregates/${agg}/action`, body: { add_host: { host: SRC } } });
    await cloud.admin.request({ method: 'POST', path: `/os-aggregates/${agg}/action`, body: { set_metadata: { metadata: { 'hostmaint:fixture': 'yes' } } } });
    await N('aggregates-list', '2.93', GET('/os-aggregates'));
  } finally {
    await cloud.admin.request({ method: 'POST', path: `/os-aggregates/${agg}/action`, body: { remove_host: { host: SRC } } }).catch(() => undefined);
    await cloud.admin.request({ method: 'DELETE', path: `/os-aggregates/${agg}` });
  }

  // ---- placement (SRC still disabled: trait COMPUTE_STATUS_DISABLED)
  const [hyp] = await api.findHypervisors(SRC);
  for (const mv of ['1.39', '1.13']) await P('resource-providers-name', mv, GET('/resource_providers', { name: hyp!.hostname }));
  const rp = (await cloud.session.placement.listProviders({ name: hyp!.hostname }))[0]!;
  await P('resource-providers-in-tree', '1.39', GET('/resource_providers', { in_tree: rp.uuid }));
  await P('resource-provider-show', '1.39', GET(`/resource_providers/${rp.uuid}`));
  await P('inventories', '1.39', GET(`/resource_providers/${rp.uuid}/inventories`));
  await P('usages', '1.39', GET(`/resource_providers/${rp.uuid}/usages`));
  await P('resource-provider-allocations', '1.39', GET(`/resource_providers/${rp.uuid}/allocations`));
  await P('resource-provider-allocations', '1.27', GET(`/resource_providers/${rp.uuid}/allocations`));
  for (const mv of ['1.39', '1.28', '1.12', '1.11']) await P('consumer-allocations', mv, GET(`/allocations/${locked}`));
  await P('consumer-allocations-none', '1.39', GET('/allocations/00000000-0000-4000-8000-000000000000'));
  await P('traits-disabled', '1.39', GET(`/resource_providers/${rp.uuid}/traits`));
  const resources = 'VCPU:1,MEMORY_MB:512,DISK_GB:1';
  await P('allocation-candidates-not-disabled', '1.39', GET('/allocation_candidates', { resources, required: '!COMPUTE_STATUS_DISABLED', limit: 10 }));
  await P('allocation-candidates', '1.39', GET('/allocation_candidates', { resources, limit: 10 }));
  await P('allocation-candidates', '1.17', GET('/allocation_candidates', { resources, limit: 10 }));
  await P('allocation-candidates', '1.10', GET('/allocation_candidates', { resources }));
  await P('allocation-candidates-forbidden-too-old', '1.21', GET('/allocation_candidates', { resources, required: '!COMPUTE_STATUS_DISABLED' }), { allowError: true });
} finally {
  // ---- cleanup: servers, then every service back as it was
  for (const id of booted) await cloud.deleteServer(id).catch((e: unknown) => console.error(`cleanup ${id}: ${String(e)}`));
  for (const before of servicesBefore) {
    const [now] = await api.listServices({ host: before.host, binary: before.binary });
    if (!now) continue;
    if (before.status === 'enabled' && now.status !== 'enabled') await api.enableService(now);
    if (before.status === 'disabled' && (now.status !== 'disabled' || now.disabledReason !== before.disabledReason)) await api.disableService(now, before.disabledReason ?? 'restored');
  }
  for (const kind of ['nova', 'placement'] as const) {
    if (index[kind].length === 0) continue;
    const file = resolve(REPO_ROOT, 'test/fixtures', kind, 'INDEX.json');
    let old: IndexEntry[] = [];
    try {
      old = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8')) as IndexEntry[];
    } catch {
      old = [];
    }
    const merged = [...old.filter((e) => !index[kind].some((n) => n.file === e.file)), ...index[kind]].sort((a, b) => a.file.localeCompare(b.file));
    writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
  }
}
console.log('done');
