/** Small file-system questions asked by more than one layer. */
import { statSync } from 'node:fs';

/** A regular file (following links) that exists and can be stat'ed. */
export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
