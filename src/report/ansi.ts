/**
 * Small terminal text helpers: colour (honouring NO_COLOR), control-code
 * stripping, display width and truncation. Names of instances and projects
 * come from tenants; everything shown to people passes through `clean` so a
 * name cannot carry escape sequences onto the operator's terminal.
 */

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => (s === '' ? s : `\u001b[${open}m${s}\u001b[${close}m`);

export const COLOR: Style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
};

const id = (s: string) => s;
export const PLAIN: Style = { bold: id, dim: id, red: id, green: id, yellow: id, cyan: id };

/** Any CSI / OSC / other escape sequence. */
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
const STICKY = new RegExp(ESCAPES.source, 'y');
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Remove escape sequences (what a pipe or a snapshot should see). */
export function stripAnsi(s: string): string {
  return s.replace(ESCAPES, '');
}

/** One line of text from an untrusted string: escape sequences and control characters removed, newlines and tabs become spaces. */
export function clean(s: string | null | undefined): string {
  if (s === null || s === undefined) return '';
  return String(s).replace(ESCAPES, '').replace(/[\n\t]/g, ' ').replace(CONTROLS, '');
}

/** Columns a character takes (0 for combining marks, 2 for wide East Asian ones, else 1). */
function charWidth(cp: number): number {
  if (cp === 0) return 0;
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Columns the text takes on a terminal (escape sequences take none). */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of stripAnsi(s)) w += charWidth(ch.codePointAt(0) ?? 0);
  return w;
}

/**
 * Cut styled text to `width` columns, ending with an ellipsis when cut. Escape
 * sequences are kept (they take no room), and a reset is added after a cut so
 * a colour never bleeds into the next line.
 */
export function truncate(s: string, width: number, ellipsis = '…'): string {
  if (width <= 0) return '';
  if (displayWidth(s) <= width) return s;
  const room = width - displayWidth(ellipsis);
  let out = '';
  let w = 0;
  let styled = false;
  let i = 0;
  while (i < s.length) {
    STICKY.lastIndex = i;
    const m = STICKY.exec(s);
    if (m) {
      out += m[0];
      styled = true;
      i += m[0].length;
      continue;
    }
    const cp = s.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    const cw = charWidth(cp);
    if (w + cw > room) break;
    out += ch;
    w += cw;
    i += ch.length;
  }
  return `${out}${room >= 0 ? ellipsis : ''}${styled ? '\u001b[0m' : ''}`;
}

/** Pad styled text with spaces to `width` columns (never cuts). */
export function padEnd(s: string, width: number): string {
  const w = displayWidth(s);
  return w >= width ? s : s + ' '.repeat(width - w);
}

export function padStart(s: string, width: number): string {
  const w = displayWidth(s);
  return w >= width ? s : ' '.repeat(width - w) + s;
}

/** Fit to exactly `width` columns: cut with an ellipsis or pad. */
export function fit(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  const t = truncate(s, width);
  return align === 'right' ? padStart(t, width) : padEnd(t, width);
}

/** Whether a terminal of this environment should get colour: NO_COLOR (any value) or TERM=dumb turn it off. */
export function colorWanted(env: NodeJS.ProcessEnv, flag?: unknown): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return true;
}

/** Whether the terminal's locale can show Unicode block characters; otherwise ASCII bars are drawn. */
export function unicodeWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.TERM === 'linux' || env.TERM === 'dumb') return false;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  if (locale === '') return true;
  return /utf-?8/i.test(locale);
}
