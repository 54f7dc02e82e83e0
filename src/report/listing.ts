/**
 * A listing in the formats openstackclient users expect: `-f table|json|yaml|value|csv` and
 * `-c COLUMN` (repeatable) to keep only some columns, by their header (case does not matter).
 */
import { stringify } from 'yaml';
import { usageError } from '../core/errors.js';
import { table } from './result.js';

export const LISTING_FORMATS = ['table', 'json', 'yaml', 'value', 'csv'] as const;
export type ListingFormat = (typeof LISTING_FORMATS)[number];

/** The columns -c picks (all when none), as indexes into headers; an unknown one is a usage error naming the columns. */
export function pickColumns(headers: string[], columns: readonly string[] | undefined): number[] {
  if (!columns || columns.length === 0) return headers.map((_, i) => i);
  return columns.flatMap((c) => String(c).split(',')).map((c) => {
    const i = headers.findIndex((h) => h.toLowerCase() === c.trim().toLowerCase());
    if (i < 0) throw usageError(`-c ${c}: no such column`, `The columns are: ${headers.map((h) => (/\s/.test(h) ? `'${h}'` : h)).join(', ')}.`);
    return i;
  });
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The rows in a row format (table, yaml, value, csv); json documents stay the command's own. */
export function formatListing(headers: string[], rows: string[][], format: Exclude<ListingFormat, 'json'>, columns?: readonly string[]): string {
  const idx = pickColumns(headers, columns);
  const h = idx.map((i) => headers[i] as string);
  const r = rows.map((row) => idx.map((i) => row[i] ?? ''));
  switch (format) {
    case 'table':
      return table(h, r);
    case 'csv':
      return `${[h, ...r].map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
    case 'value':
      return r.map((row) => row.join(' ')).join('\n') + (r.length ? '\n' : '');
    case 'yaml':
      return r.length === 0 ? '[]\n' : stringify(r.map((row) => Object.fromEntries(h.map((k, i) => [k, row[i]]))));
  }
}
