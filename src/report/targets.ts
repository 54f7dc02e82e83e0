/**
 * Output files a run writes as it goes (--log-file, --events ndjson=FILE) and
 * the one it writes at the end (--report). One mechanism for all of them:
 *
 * - before anything changes in the cloud, each target is opened (or, for the
 *   report, checked) here: a directory, a missing parent, a file that cannot be
 *   written is a usage error (exit 2) naming the flag and the path. Parents are
 *   never created (a mkdir -p under /proc can loop forever);
 * - files are created 0600 (an existing file is set to 0600 when it is ours);
 * - writes are synchronous and guarded: a target that fails during the run (a
 *   disk filling up, /dev/full) never stops or corrupts the drain. The first
 *   failure is warned about once on stderr, later writes to that target are
 *   dropped and counted, and `failures()` says at the end what was not written.
 */
import { accessSync, closeSync, constants as FS, fchmodSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { HostmaintError } from '../core/errors.js';

export interface TargetFailure {
  flag: string;
  file: string;
  error: string;
  /** Writes dropped (the first failed one included). */
  lost: number;
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EISDIR') return 'it is a directory';
  if (err.code === 'ENOENT') return 'its directory does not exist';
  if (err.code === 'ENOTDIR') return 'a part of its path is not a directory';
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied';
  if (err.code === 'ENAMETOOLONG') return 'the path is too long';
  if (err.code === 'ENOSPC') return 'no space left on the device';
  return err.code ?? err.message ?? String(e);
}

function targetError(flag: string, file: string, e: unknown): HostmaintError {
  return new HostmaintError('usage', `${flag} ${file}: cannot write there (${reason(e)})`, {
    hint: `Give ${flag} a writable file in an existing directory; nothing was changed in the cloud.`,
    details: { flag, file },
  });
}

export class FileTarget {
  private fd: number | null;
  private failure: TargetFailure | null = null;

  private constructor(
    readonly flag: string,
    readonly file: string,
    fd: number,
    private readonly warn: (text: string) => void,
  ) {
    this.fd = fd;
  }

  /** Open `file` for appending (created 0600); a usage error (exit 2) naming `flag` and the path when that fails. */
  static open(flag: string, file: string, warn: (text: string) => void): FileTarget {
    const resolved = path.resolve(file);
    let fd: number;
    try {
      fd = openSync(resolved, FS.O_WRONLY | FS.O_APPEND | FS.O_CREAT | FS.O_NOCTTY, 0o600);
    } catch (e) {
      throw targetError(flag, resolved, e);
    }
    try {
      const st = fstatSync(fd);
      if (st.isFile() && typeof process.getuid === 'function' && st.uid === process.getuid()) fchmodSync(fd, 0o600);
    } catch {
      /* a file we cannot chmod keeps its mode */
    }
    return new FileTarget(flag, resolved, fd, warn);
  }

  /** Write `text`; a failure is warned about once and never thrown. */
  write(text: string): void {
    if (this.failure) {
      this.failure.lost += 1;
      return;
    }
    if (this.fd === null) return;
    try {
      const buf = Buffer.from(text);
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off);
    } catch (e) {
      this.failure = { flag: this.flag, file: this.file, error: reason(e), lost: 1 };
      this.warn(`hostmaint: warning: cannot write ${this.flag} ${this.file} (${reason(e)}); the run goes on, and what it would have written there is dropped`);
    }
  }

  /** What was not written, or null. */
  failed(): TargetFailure | null {
    return this.failure ? { ...this.failure } : null;
  }

  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      /* nothing more to write */
    }
    this.fd = null;
  }
}

/**
 * A file written at the end (--report): checked now without creating it.
 * It must not be a directory, and it (or, when it does not exist yet, its
 * directory) must be writable.
 */
export function checkEndTarget(flag: string, file: string): void {
  const resolved = path.resolve(file);
  try {
    let st;
    try {
      st = statSync(resolved);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      st = null;
    }
    if (st?.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    accessSync(st ? resolved : path.dirname(resolved), FS.W_OK);
  } catch (e) {
    throw targetError(flag, resolved, e);
  }
}

/** One line per target that lost writes, for the end of the run. */
export function describeFailures(failures: TargetFailure[]): string[] {
  return failures.map((f) => `hostmaint: warning: ${f.flag} ${f.file} is incomplete: ${f.lost} write(s) were dropped (${f.error}); the run itself was not affected`);
}
