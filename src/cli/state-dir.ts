import path from 'node:path';
import { usageError } from '../core/errors.js';

/** The --state-dir flag: a non-empty path, made absolute. Light on purpose (status start-up). */
export function checkStateDirFlag(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw usageError(`--state-dir '${String(value ?? '')}' is not a directory path`, 'Give a directory hostmaint may create and write, e.g. --state-dir ~/.local/state/hostmaint.');
  }
  return path.resolve(value);
}
