/**
 * docs/events.schema.json against the events hostmaint really emits: every
 * line of every recorded stream, and a fresh drain on the demo cloud. The
 * list of event types is checked against the TypeScript union at compile
 * time, so a new event type cannot ship undocumented.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { DrainEvent, DrainEventType } from '../../../src/machines/events.js';
import { fixtureNames, readEvents, readWorkflowEvents } from './replay.js';
import { hostmaint, tempDir } from '../../cli/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const schema = JSON.parse(readFileSync(path.join(root, 'docs/events.schema.json'), 'utf8')) as { properties: { type: { enum: string[] } }; definitions: Record<string, unknown> };
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Every event type, checked by the compiler against the union: add the new type here and to the schema. */
const ALL_TYPES: Record<DrainEventType, true> = {
  'run-started': true,
  'phase-changed': true,
  'service-changed': true,
  'instance-classified': true,
  'preflight-finished': true,
  'migration-queued': true,
  'instance-waiting': true,
  'migration-started': true,
  'migration-fallback': true,
  'migration-progress': true,
  'migration-stalled': true,
  'migration-completed': true,
  'migration-retried': true,
  'migration-failed': true,
  verification: true,
  'source-down': true,
  'source-up': true,
  'run-finished': true,
  'step-started': true,
  'step-waiting': true,
  'step-finished': true,
  'approval-required': true,
  'workflow-finished': true,
  'host-started': true,
  'host-finished': true,
  'rolling-finished': true,
};

/** Emitted only by workflow and rolling runs (hostmaint run): the drain recordings have none; test/emulator/workflow-events.test.ts validates them as emitted, and the recorded workflow streams below. */
const WORKFLOW_TYPES = new Set(['step-started', 'step-waiting', 'step-finished', 'approval-required', 'workflow-finished', 'host-started', 'host-finished', 'rolling-finished']);
const WORKFLOW_STREAMS = ['workflow-cycle', 'workflow-waiting', 'workflow-failed', 'rolling-reboot'];

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('NDJSON events: docs/events.schema.json', () => {
  const validate = validator();
  const check = (e: unknown, where: string) => {
    assert.ok(validate(e), `${where}: ${JSON.stringify(validate.errors?.slice(0, 3))}\n${JSON.stringify(e)}`);
  };

  it('documents exactly the event types of the DrainEvent union, each with its own definition', () => {
    assert.deepEqual([...schema.properties.type.enum].sort(), Object.keys(ALL_TYPES).sort());
    for (const t of Object.keys(ALL_TYPES)) assert.ok(schema.definitions[t], `no definition for ${t}`);
  });

  it('every line of every recorded drain stream is valid, and together they use every drain event type', () => {
    const seen = new Set<string>();
    for (const name of fixtureNames()) {
      readEvents(name).forEach((e, i) => {
        check(e, `${name}.ndjson line ${i + 1}`);
        seen.add(e.type);
      });
    }
    assert.deepEqual([...seen].sort(), Object.keys(ALL_TYPES).filter((t) => !WORKFLOW_TYPES.has(t)).sort());
  });

  it('every line of the recorded workflow and rolling streams is valid, and together they use every event type', () => {
    const seen = new Set<string>();
    for (const name of WORKFLOW_STREAMS) {
      readWorkflowEvents(name).forEach((e, i) => {
        check(e, `${name}.ndjson line ${i + 1}`);
        seen.add(e.type);
      });
    }
    assert.deepEqual([...WORKFLOW_TYPES].filter((t) => !seen.has(t)), []);
    const rolling = readWorkflowEvents('rolling-reboot');
    assert.equal(rolling[rolling.length - 1]?.type, 'rolling-finished');
    assert.equal(rolling[rolling.length - 1]?.host, '*');
  });

  it('a run starts with run-started and ends with run-finished; every event has the run id, host and time', () => {
    for (const name of fixtureNames()) {
      const events = readEvents(name);
      assert.equal(events[0]?.type, 'run-started', name);
      assert.equal(events[events.length - 1]?.type, 'run-finished', name);
      const runId = events[0]?.runId;
      assert.ok(events.every((e) => e.runId === runId && e.host === 'compute-01' && !Number.isNaN(Date.parse(e.time))), name);
      const times = events.map((e) => Date.parse(e.time));
      assert.deepEqual(times, [...times].sort((a, b) => a - b), `${name}: times go backwards`);
    }
  });

  it('rejects what is not an event: unknown type, missing envelope, extra field, wrong type', () => {
    const good = readEvents('drain-demo').find((e) => e.type === 'migration-progress') as DrainEvent;
    check(good, 'the sample');
    const bad: Array<[string, unknown]> = [
      ['unknown type', { ...good, type: 'migration-teleported' }],
      ['no runId', { ...good, runId: undefined }],
      ['no time', Object.fromEntries(Object.entries(good).filter(([k]) => k !== 'time'))],
      ['bad time', { ...good, time: 'yesterday' }],
      ['extra field', { ...good, surprise: 1 }],
      ['percent as text', { ...good, percent: '50' }],
      ['percent over 100', { ...good, percent: 140 }],
    ];
    for (const [what, e] of bad) assert.equal(validate(e), false, what);
  });

  it('the optional fields (projectId, to) are allowed where documented', () => {
    const classified = readEvents('drain-demo').find((e) => e.type === 'instance-classified') as DrainEvent;
    check({ ...classified, projectId: 'f00d' }, 'instance-classified with projectId');
    const queued = readEvents('drain-demo').find((e) => e.type === 'migration-queued') as DrainEvent;
    check({ ...queued, to: 'compute-02' }, 'migration-queued with to');
  });

  it('a fresh drain on the demo cloud, to stdout with --events ndjson: every line valid', async function () {
    this.timeout(60_000);
    const dir = tempDir();
    const r = await hostmaint(['drain', 'compute-01', '--os-cloud', 'demo', '--yes', '--events', 'ndjson', '--state-dir', dir, '-q']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
    assert.ok(lines.length > 30, `${lines.length} events`);
    lines.forEach((l, i) => check(JSON.parse(l), `line ${i + 1}`));
  });
});
