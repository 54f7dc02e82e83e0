/**
 * Run records in the state directory: one JSON file per run, written
 * atomically (temp file + fsync + rename), directory created 0700, validated
 * with ajv when read. No secret is ever written here: records hold the
 * cloud's name and the user's name, never credentials or tokens.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { HostmaintError } from '../errors.js';

export const RUN_RECORD_SCHEMA_VERSION = 1;

export interface RunRecord {
  schemaVersion: number;
  runId: string;
  command: 'drain' | 'undrain';
  host: string;
  cloud: string;
  user: string | null;
  startedAt: string;
  finishedAt: string | null;
  outcome: string;
  exitCode: number;
  /** The workflow's result document (plain JSON). */
  result: Record<string, unknown>;
}

const schema = {
  type: 'object',
  required: ['schemaVersion', 'runId', 'command', 'host', 'cloud', 'startedAt', 'outcome', 'exitCode', 'result'],
  properties: {
    schemaVersion: { type: 'integer' },
    runId: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
    command: { enum: ['drain', 'undrain'] },
    host: { type: 'string', minLength: 1 },
    cloud: { type: 'string' },
    user: { type: ['string', 'null'] },
    startedAt: { type: 'string' },
    finishedAt: { type: ['string', 'null'] },
    outcome: { type: 'string' },
    exitCode: { type: 'integer' },
    result: { type: 'object' },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(schema);

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)
    ? env.XDG_STATE_HOME
    : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'hostmaint');
}

export class RunStore {
  constructor(readonly dir: string) {}

  private get runsDir(): string {
    return path.join(this.dir, 'runs');
  }

  async ensure(): Promise<void> {
    try {
      await fs.mkdir(this.runsDir, { recursive: true, mode: 0o700 });
      await fs.chmod(this.dir, 0o700);
      await fs.access(this.runsDir, fs.constants.W_OK);
    } catch (e) {
      throw new HostmaintError('config', `cannot use the state directory ${this.dir}: ${(e as Error).message}`, {
        hint: 'Pass a writable directory with --state-dir, or fix its permissions.',
        cause: e,
      });
    }
  }

  async save(record: RunRecord): Promise<string> {
    await this.ensure();
    const file = path.join(this.runsDir, `${record.runId}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
    return file;
  }

  async load(runId: string): Promise<RunRecord> {
    const file = path.join(this.runsDir, `${runId}.json`);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      throw new HostmaintError('usage', `no run '${runId}' in ${this.runsDir}`, {
        hint: 'List runs with `hostmaint status`.',
        cause: e,
      });
    }
    return parseRecord(file, text);
  }

  /** Every readable record, newest first. Unreadable files are reported, not fatal. */
  async list(): Promise<{ records: RunRecord[]; problems: string[] }> {
    let names: string[] = [];
    try {
      names = (await fs.readdir(this.runsDir)).filter((n) => n.endsWith('.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
      throw new HostmaintError('config', `cannot read the state directory ${this.runsDir}: ${(e as Error).message}`, {
        hint: 'Pass a readable directory with --state-dir.',
      });
    }
    const records: RunRecord[] = [];
    const problems: string[] = [];
    for (const name of names) {
      const file = path.join(this.runsDir, name);
      try {
        records.push(parseRecord(file, await fs.readFile(file, 'utf8')));
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
    records.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
    return { records, problems };
  }

  async latestForHost(host: string, command?: RunRecord['command']): Promise<RunRecord | null> {
    const { records } = await this.list();
    return records.find((r) => r.host === host && (command === undefined || r.command === command)) ?? null;
  }
}

function parseRecord(file: string, text: string): RunRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new HostmaintError('config', `the run record ${file} is not valid JSON (${(e as Error).message})`, {
      hint: 'The file is corrupt; move it out of the state directory.',
    });
  }
  if (!validate(data)) {
    const errs = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
    throw new HostmaintError('config', `the run record ${file} is not a hostmaint run record: ${errs}`, {
      hint: 'The file is corrupt or from another tool; move it out of the state directory.',
    });
  }
  const rec = data as unknown as RunRecord;
  if (rec.schemaVersion !== RUN_RECORD_SCHEMA_VERSION) {
    throw new HostmaintError('config', `the run record ${file} has schema version ${rec.schemaVersion}; this hostmaint reads version ${RUN_RECORD_SCHEMA_VERSION}`, {
      hint: 'Use the hostmaint version that wrote it, or move the file away.',
    });
  }
  return rec;
}
