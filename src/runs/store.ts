/**
 * Saved runs in the state directory:
 *
 *   <state-dir>/                      0700
 *     runs/<run-id>/run.json          the record: metadata, state, the versioned xstate
 *                                     persisted snapshot, the final result (schema.ts)
 *     runs/<run-id>/journal.ndjson    append-only: every progress event and every decision
 *                                     (run created, resumed, lock taken over, migration
 *                                     requested with its request id, interrupted, finished)
 *     locks/<host>.lock               one run per host (lock.ts)
 *
 * Records are written atomically (temp file + fsync + rename + fsync of the
 * directory), files 0600. Reads validate with ajv and refuse a record of
 * another schema version whole. No secret is written: records hold the
 * cloud's and the user's names, never credentials or tokens, and every record
 * and journal line is redacted as data before it is serialised, as a second
 * net (core/secrets.ts: a value that is a secret in use, URL user-info; never a
 * substring of the JSON text, so a short password cannot break the document).
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync, appendFileSync, mkdirSync, chmodSync, accessSync, constants as FS, unlinkSync, rmSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HostmaintError } from '../core/errors.js';
import { redactDeep } from '../core/secrets.js';
import { isValidRunId } from '../machines/marker.js';
import { RUN_RECORD_SCHEMA_VERSION, recordProblems, type RunRecord, type RunState } from './schema.js';

export { RUN_RECORD_SCHEMA_VERSION, type RunRecord, type RunState } from './schema.js';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'hostmaint');
}

/** One journal line. */
export type JournalEntry =
  | ({ kind: 'event'; pid: number } & Record<string, unknown>)
  | { kind: 'decision'; time: string; runId: string; host: string; pid: number; decision: string; detail: Record<string, unknown> };

let tmpCounter = 0;

/**
 * mkdir -p, one component at a time (Node's recursive mkdir can loop forever
 * on filesystems such as /proc that answer ENOENT for a parent that exists).
 */
export function mkdirpSync(dir: string, mode = 0o700): void {
  const abs = path.resolve(dir);
  const parts = abs.split(path.sep).filter(Boolean);
  let cur = path.parse(abs).root;
  for (const part of parts) {
    cur = path.join(cur, part);
    try {
      mkdirSync(cur, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  accessSync(abs, FS.F_OK);
}

/** `text` written and fsynced to a new temp file next to `file`; returns its path. */
export function writeTempSync(file: string, text: string, mode = 0o600): string {
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Write a file atomically: temp file in the same directory, fsync, rename over, fsync the directory. */
export function writeFileAtomicSync(file: string, text: string, mode = 0o600): void {
  const tmp = writeTempSync(file, text, mode);
  try {
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  fsyncDirSync(path.dirname(file));
}

export function fsyncDirSync(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* some filesystems do not fsync directories; the rename is still atomic */
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Where a run's writes are copied to as well (the etcd backend's shared runs: coord/etcd.ts). */
export interface RunSink {
  accepts(runId: string): boolean;
  record(rec: RunRecord): void;
  journal(runId: string, entry: JournalEntry): void;
}

export class RunStore {
  private secrets: string[] = [];
  private readonly sinks = new Set<RunSink>();

  addSink(s: RunSink): void {
    this.sinks.add(s);
  }

  removeSink(s: RunSink): void {
    this.sinks.delete(s);
  }

  constructor(readonly dir: string) {}

  /** Strings never to be written (the password or token in use): redacted from every value of every file. */
  addSecrets(secrets: Iterable<string>): void {
    for (const s of secrets) if (s && !this.secrets.includes(s)) this.secrets.push(s);
  }

  get runsDir(): string {
    return path.join(this.dir, 'runs');
  }

  get locksDir(): string {
    return path.join(this.dir, 'locks');
  }

  runDir(runId: string): string {
    checkRunId(runId);
    return path.join(this.runsDir, runId);
  }

  recordFile(runId: string): string {
    return path.join(this.runDir(runId), 'run.json');
  }

  journalFile(runId: string): string {
    return path.join(this.runDir(runId), 'journal.ndjson');
  }

  /** Create the state directory (0700) and check it is usable. Config error (exit 2) when not. */
  ensureSync(): void {
    try {
      mkdirpSync(this.runsDir);
      mkdirpSync(this.locksDir);
      chmodSync(this.dir, 0o700);
      accessSync(this.runsDir, FS.W_OK | FS.R_OK | FS.X_OK);
      accessSync(this.locksDir, FS.W_OK | FS.R_OK | FS.X_OK);
    } catch (e) {
      throw stateDirError(this.dir, e);
    }
  }

  async ensure(): Promise<void> {
    this.ensureSync();
  }

  /** The document with the secrets in use redacted from its values (its fields and shape kept). */
  redact<T>(doc: T): T {
    return redactDeep(doc, this.secrets, { byKey: false });
  }

  /** Write the record atomically (its directory is created 0700). */
  writeSync(record: RunRecord): string {
    const dir = this.runDir(record.runId);
    try {
      mkdirpSync(dir);
      const file = path.join(dir, 'run.json');
      const doc = this.redact(record);
      writeFileAtomicSync(file, `${JSON.stringify(doc, null, 2)}\n`);
      for (const s of this.sinks) if (s.accepts(record.runId)) s.record(doc);
      return file;
    } catch (e) {
      throw stateDirError(this.dir, e);
    }
  }

  async save(record: RunRecord): Promise<string> {
    this.ensureSync();
    return this.writeSync(record);
  }

  /** Append one line to the run's journal (O_APPEND; fsync'd with the next record write by the recorder). */
  /** Remove a run's files (a run that is not worth keeping: its host does not exist). */
  discardSync(runId: string): void {
    checkRunId(runId);
    rmSync(this.runDir(runId), { recursive: true, force: true });
  }

  appendJournalSync(runId: string, entry: JournalEntry): void {
    const file = this.journalFile(runId);
    for (const s of this.sinks) if (s.accepts(runId)) s.journal(runId, this.redact(entry));
    try {
      appendFileSync(file, `${JSON.stringify(this.redact(entry))}\n`, { mode: 0o600 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        mkdirpSync(path.dirname(file));
        appendFileSync(file, `${JSON.stringify(this.redact(entry))}\n`, { mode: 0o600 });
        return;
      }
      throw stateDirError(this.dir, e);
    }
  }

  /** A run copied from the shared store (etcd): its record and journal replace the local ones. */
  importRun(record: RunRecord, journalLines: string[]): void {
    const dir = this.runDir(record.runId);
    try {
      mkdirpSync(dir);
      writeFileAtomicSync(this.journalFile(record.runId), journalLines.map((l) => `${l}\n`).join(''));
      writeFileAtomicSync(path.join(dir, 'run.json'), `${JSON.stringify(this.redact(record), null, 2)}\n`);
    } catch (e) {
      throw stateDirError(this.dir, e);
    }
  }

  /** fsync the journal (after a burst of appends). */
  syncJournalSync(runId: string): void {
    let fd: number | null = null;
    try {
      fd = openSync(this.journalFile(runId), 'r');
      fsyncSync(fd);
    } catch {
      /* no journal yet */
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  /** The journal's entries in order; a torn last line (a crash mid-append) is reported, not fatal. */
  async readJournal(runId: string): Promise<{ entries: JournalEntry[]; problems: string[] }> {
    let text = '';
    try {
      text = await fs.readFile(this.journalFile(runId), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], problems: [] };
      throw stateDirError(this.dir, e);
    }
    const entries: JournalEntry[] = [];
    const problems: string[] = [];
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        entries.push(JSON.parse(line) as JournalEntry);
      } catch {
        problems.push(`journal line ${i + 1} of run ${runId} is not JSON (torn write?); skipped`);
      }
    });
    return { entries, problems };
  }

  async load(runId: string): Promise<RunRecord> {
    if (!isValidRunId(runId)) {
      throw new HostmaintError('usage', `'${runId}' is not a run id`, { hint: 'Run ids look like 20240101T000000Z-3f2a; list them with `hostmaint status`.' });
    }
    const file = this.recordFile(runId);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new HostmaintError('usage', `no run '${runId}' in ${this.dir}`, {
          hint: 'List runs with `hostmaint status`; pass --state-dir if runs were kept elsewhere (runs on the demo cloud are under <state-dir>/demo).',
        });
      }
      throw stateDirError(this.dir, e);
    }
    return parseRecord(file, text);
  }

  /** Every readable record, newest first. Unreadable or foreign files are reported, not fatal. */
  async list(): Promise<{ records: RunRecord[]; problems: string[] }> {
    let names: string[] = [];
    try {
      names = await fs.readdir(this.runsDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
      throw new HostmaintError('config', `cannot read the state directory ${this.runsDir}: ${(e as Error).message}`, {
        hint: 'Pass a readable directory with --state-dir, or fix its permissions.',
      });
    }
    const records: RunRecord[] = [];
    const problems: string[] = [];
    for (const name of names.sort()) {
      const full = path.join(this.runsDir, name);
      if (name.endsWith('.tmp')) continue;
      if (name.endsWith('.json')) {
        problems.push(`${full} is a run record of an older hostmaint (one file per run); it is not read: move it out of the state directory`);
        continue;
      }
      if (!isValidRunId(name)) continue;
      const file = path.join(full, 'run.json');
      try {
        records.push(parseRecord(file, await fs.readFile(file, 'utf8')));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          problems.push(`${full} has no run.json (a run that died before its first save?)`);
          continue;
        }
        problems.push((e as Error).message);
      }
    }
    records.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.runId < b.runId ? 1 : -1));
    return { records, problems };
  }

  /** The newest record of a host (optionally of one command, optionally only those with a result). */
  async latestForHost(host: string, command?: RunRecord['command'], opts: { withResult?: boolean; where?: (r: RunRecord) => boolean } = {}): Promise<RunRecord | null> {
    const { records } = await this.list();
    return records.find((r) => r.host === host && (command === undefined || r.command === command) && (!opts.withResult || r.result !== null) && (!opts.where || opts.where(r))) ?? null;
  }

  /** The newest run that moved instances off the host (a drain, or a workflow run with a drain): what `undrain --return` moves back. */
  async latestDrainOf(host: string): Promise<RunRecord | null> {
    const moved = (r: RunRecord) => r.command === 'drain' || (r.command === 'run' && Array.isArray(r.result?.['manifest']) && (r.result['manifest'] as unknown[]).length > 0);
    return this.latestForHost(host, undefined, { withResult: true, where: moved });
  }

  /** Runs of a host that are not over (running or interrupted), newest first. */
  async unfinishedFor(host: string): Promise<RunRecord[]> {
    const { records } = await this.list();
    return records.filter((r) => r.host === host && isUnfinished(r.state));
  }
}

export function isUnfinished(state: RunState): boolean {
  return state === 'running' || state === 'interrupted' || state === 'waiting';
}

function checkRunId(runId: string): void {
  if (!isValidRunId(runId)) throw new HostmaintError('usage', `'${runId}' is not a run id`, { hint: 'List runs with `hostmaint status`.' });
}

function stateDirError(dir: string, e: unknown): HostmaintError {
  if (e instanceof HostmaintError) return e;
  return new HostmaintError('config', `cannot use the state directory ${dir}: ${(e as Error).message}`, {
    hint: 'Pass a writable directory with --state-dir (default $XDG_STATE_HOME/hostmaint or ~/.local/state/hostmaint), or fix its permissions.',
    cause: e,
  });
}

export function parseRecord(file: string, text: string): RunRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new HostmaintError('config', `the saved run ${file} is corrupt: not valid JSON (${(e as Error).message})`, {
      hint: 'Nothing was restored from it. Move the run directory out of the state directory; the host\'s state is in the cloud (hostmaint drain reconciles with it).',
    });
  }
  const version = data && typeof data === 'object' ? (data as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (typeof version === 'number' && version !== RUN_RECORD_SCHEMA_VERSION) {
    throw new HostmaintError('config', `the saved run ${file} has record schema version ${version}; this hostmaint reads version ${RUN_RECORD_SCHEMA_VERSION}`, {
      hint: 'Nothing was restored from it. Finish it with the hostmaint version that wrote it, or move it away and start a new run.',
    });
  }
  const problems = recordProblems(data);
  if (problems !== null) {
    throw new HostmaintError('config', `the saved run ${file} is not a valid hostmaint run record: ${problems}`, {
      hint: 'Nothing was restored from it. The file is corrupt or from another tool; move it out of the state directory.',
    });
  }
  const rec = data as unknown as RunRecord;
  if (path.basename(path.dirname(file)) !== rec.runId) {
    throw new HostmaintError('config', `the saved run ${file} names run ${rec.runId}, not the directory it is in`, {
      hint: 'Nothing was restored from it. Move the file back where it belongs, or out of the state directory.',
    });
  }
  return rec;
}
