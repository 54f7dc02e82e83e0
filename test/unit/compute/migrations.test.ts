import assert from 'node:assert/strict';
import { isHostmaintError, isHttpError } from '../../../src/core/errors.js';
import { memoryLogger } from '../../../src/core/log.js';
import { createComputeClient } from '../../../src/openstack/compute/index.js';
import { FakeServiceClient } from '../../support/fake-service-client.js';

const SID = '0b5e2c1a-7d5c-4d1b-9a57-0f1e2d3c4b5a';

function setup(microversion: string, pageSize = 1000) {
  const fake = new FakeServiceClient({ microversion });
  const logger = memoryLogger();
  return { fake, logger, api: createComputeClient(fake, logger, { pageSize }) };
}

/** server_migrations.output() at 2.80+ (uuid 2.59+, user/project 2.80+). */
const serverMigration = (id: number, status: string) => ({
  created_at: '2024-05-01T10:00:00.000000',
  dest_compute: 'compute-02',
  dest_host: '127.0.0.1',
  dest_node: 'compute-02',
  disk_processed_bytes: 0,
  disk_remaining_bytes: 0,
  disk_total_bytes: 0,
  id,
  memory_processed_bytes: 1024,
  memory_remaining_bytes: 3072,
  memory_total_bytes: 4096,
  server_uuid: SID,
  source_compute: 'compute-01',
  source_node: 'compute-01',
  status,
  updated_at: '2024-05-01T10:00:05.000000',
  uuid: `mig-uuid-${id}`,
  user_id: 'u1',
  project_id: 'p1',
});

/** A GET /os-migrations row at 2.80 (migration_type from 2.23, uuid 2.59, links for live in progress). */
const osMigration = (id: number, over: Record<string, unknown> = {}) => ({
  created_at: '2024-05-01T10:00:00.000000',
  dest_compute: 'compute-02',
  dest_host: '127.0.0.1',
  dest_node: 'compute-02',
  id,
  instance_uuid: SID,
  new_instance_type_id: 1,
  old_instance_type_id: 1,
  source_compute: 'compute-01',
  source_node: 'compute-01',
  status: 'completed',
  updated_at: '2024-05-01T10:00:09.000000',
  migration_type: 'live-migration',
  uuid: `mig-uuid-${id}`,
  user_id: 'u1',
  project_id: 'p1',
  ...over,
});

describe('compute migrations', () => {
  describe('server migrations (in progress)', () => {
    it('lists GET /servers/{id}/migrations with progress bytes', async () => {
      const { fake, api } = setup('2.93');
      fake.json('GET', `/servers/${SID}/migrations`, { migrations: [serverMigration(7, 'running')] });
      const got = await api.listServerMigrations(SID);
      assert.equal(fake.only().path, `/servers/${SID}/migrations`);
      assert.deepEqual(got, [
        {
          id: 7,
          uuid: 'mig-uuid-7',
          serverId: SID,
          status: 'running',
          sourceCompute: 'compute-01',
          destCompute: 'compute-02',
          sourceNode: 'compute-01',
          destNode: 'compute-02',
          destHost: '127.0.0.1',
          memoryTotalBytes: 4096,
          memoryProcessedBytes: 1024,
          memoryRemainingBytes: 3072,
          diskTotalBytes: 0,
          diskProcessedBytes: 0,
          diskRemainingBytes: 0,
          createdAt: '2024-05-01T10:00:00.000000Z',
          updatedAt: '2024-05-01T10:00:05.000000Z',
        },
      ]);
    });

    it('Nova\'s zone-less times are UTC: made explicit, so they read the same on a machine in any time zone', async () => {
      const { fake, api } = setup('2.93');
      fake.json('GET', `/servers/${SID}/migrations`, { migrations: [serverMigration(7, 'running'), { ...serverMigration(8, 'running'), created_at: '2024-05-01T10:00:00+02:00' }] });
      const [plain, zoned] = await api.listServerMigrations(SID);
      assert.equal(Date.parse(plain!.createdAt!), Date.UTC(2024, 4, 1, 10, 0, 0));
      assert.equal(zoned!.createdAt, '2024-05-01T10:00:00+02:00', 'a time with its zone is kept as it is');
    });

    it('gets one by id; a null progress field stays null; no uuid before 2.59', async () => {
      const { fake, api } = setup('2.23');
      const w: Record<string, unknown> = { ...serverMigration(7, 'preparing'), memory_total_bytes: null };
      delete w.uuid;
      fake.json('GET', `/servers/${SID}/migrations/7`, { migration: w });
      const got = await api.getServerMigration(SID, 7);
      assert.equal(got.memoryTotalBytes, null);
      assert.equal(got.uuid, null);
    });

    it('needs 2.23 (refused before sending)', async () => {
      const { fake, api } = setup('2.22');
      await assert.rejects(api.listServerMigrations(SID), (e: unknown) => isHostmaintError(e) && e.kind === 'not-acceptable');
      assert.equal(fake.requests.length, 0);
    });

    it('force-complete: POST /servers/{id}/migrations/{mid}/action {"force_complete": null} (2.22+)', async () => {
      const { fake, api } = setup('2.22');
      fake.on('POST', `/servers/${SID}/migrations/7/action`, { status: 202, requestId: 'req-fc' });
      assert.deepEqual(await api.forceCompleteMigration(SID, 7), { requestId: 'req-fc' });
      assert.deepEqual(fake.only().body, { force_complete: null });
      const old = setup('2.21');
      await assert.rejects(old.api.forceCompleteMigration(SID, 7), (e: unknown) => isHostmaintError(e) && e.kind === 'not-acceptable');
      assert.equal(old.fake.requests.length, 0);
    });

    it('abort: DELETE /servers/{id}/migrations/{mid} (2.24+); a 409 keeps Nova\'s message', async () => {
      const { fake, api } = setup('2.24');
      fake.on('DELETE', `/servers/${SID}/migrations/7`, { status: 202, requestId: 'req-ab' });
      assert.deepEqual(await api.abortMigration(SID, 7), { requestId: 'req-ab' });
      assert.equal(fake.only().method, 'DELETE');
      assert.equal(fake.only().body, undefined);
      fake.fail('DELETE', `/servers/${SID}/migrations/8`, 409, "Cannot 'abort live migration' instance X while it is in task_state None");
      await assert.rejects(api.abortMigration(SID, 8), (e: unknown) => isHttpError(e, 'conflict') && e.message.startsWith("Cannot 'abort live migration'"));
      const old = setup('2.23');
      await assert.rejects(old.api.abortMigration(SID, 7), (e: unknown) => isHostmaintError(e) && e.kind === 'not-acceptable');
    });
  });

  describe('GET /os-migrations', () => {
    it('2.59+: filters, changes-since, limit + marker paging by uuid', async () => {
      const { fake, api } = setup('2.93', 2);
      fake.on('GET', '/os-migrations', (req) =>
        req.query?.marker === undefined
          ? { data: { migrations: [osMigration(3), osMigration(2)], migrations_links: [{ rel: 'next', href: 'http://nova/v2.1/os-migrations?host=compute-01&limit=2&marker=mig-uuid-2' }] } }
          : { data: { migrations: [osMigration(1, { migration_type: 'migration', status: 'finished' })] } },
      );
      const got = await api.listMigrations({ host: 'compute-01', migrationType: 'live-migration', status: 'running', instanceUuid: SID, sourceCompute: 'compute-01', changesSince: '2024-05-01T00:00:00Z' });
      const base = { host: 'compute-01', source_compute: 'compute-01', migration_type: 'live-migration', status: 'running', instance_uuid: SID, 'changes-since': '2024-05-01T00:00:00Z', limit: 2 };
      assert.deepEqual(fake.requests.map((r) => r.query), [base, { ...base, marker: 'mig-uuid-2' }]);
      assert.deepEqual(got.map((m) => [m.id, m.migrationType, m.status]), [[3, 'live-migration', 'completed'], [2, 'live-migration', 'completed'], [1, 'migration', 'finished']]);
      assert.deepEqual(got[0], {
        id: 3,
        uuid: 'mig-uuid-3',
        serverId: SID,
        migrationType: 'live-migration',
        status: 'completed',
        sourceCompute: 'compute-01',
        destCompute: 'compute-02',
        sourceNode: 'compute-01',
        destNode: 'compute-02',
        destHost: '127.0.0.1',
        projectId: 'p1',
        userId: 'u1',
        createdAt: '2024-05-01T10:00:00.000000Z',
        updatedAt: '2024-05-01T10:00:09.000000Z',
      });
    });

    it('before 2.59: no paging, changes-since dropped with a debug log', async () => {
      const { fake, api, logger } = setup('2.58');
      fake.json('GET', '/os-migrations', { migrations: [osMigration(1)] });
      await api.listMigrations({ host: 'compute-01', changesSince: '2024-05-01T00:00:00Z' });
      assert.deepEqual(fake.only().query, { host: 'compute-01' });
      assert.ok(logger.records.some((r) => r.level === 'debug' && /changes-since/.test(r.message)));
    });

    it('before 2.23 there is no migration_type: a flavor change means resize, else unknown', async () => {
      const { fake, api } = setup('2.1');
      const strip = (o: Record<string, unknown>) => {
        const c = { ...o };
        delete c.migration_type;
        delete c.uuid;
        delete c.user_id;
        delete c.project_id;
        return c;
      };
      fake.json('GET', '/os-migrations', { migrations: [strip(osMigration(1)), strip(osMigration(2, { new_instance_type_id: 2 }))] });
      const got = await api.listMigrations({});
      assert.deepEqual(got.map((m) => [m.migrationType, m.uuid, m.projectId]), [['unknown', null, null], ['resize', null, null]]);
      // filtered on a type, Nova only returns that type: the rows carry it
      const typed = await api.listMigrations({ migrationType: 'live-migration' });
      assert.deepEqual(fake.last().query, { migration_type: 'live-migration' });
      assert.deepEqual(typed.map((m) => m.migrationType), ['live-migration', 'live-migration']);
    });
  });
});
