/**
 * The one secret redactor. Everything hostmaint writes (run records, journal
 * lines, log lines, error messages) is redacted as data, before it is
 * serialised, never by replacing substrings of the serialised text (that broke
 * JSON when a password was `true` and renamed hosts when it was `compute`):
 *
 * - by field: a property whose name looks secret (password, secret, token,
 *   credential, authorization, cookie) shows `[REDACTED]` (optional: records
 *   keep their fields, they hold no credentials by design);
 * - by value: a string that *is* a secret in use becomes `[REDACTED]`, whatever
 *   its length; a URL's user-info (`http://user:PW@host`) is removed and its
 *   secret-looking query parameters redacted, wherever a URL appears in text;
 * - the string-level safety net: a secret long enough not to be an ordinary
 *   word (MIN_EMBEDDED_SECRET characters) is also replaced where it appears
 *   inside a longer string. A shorter secret (`true`, `wrong`, `compute`)
 *   cannot be told from ordinary text there and is left to the first rules,
 *   which cover every place hostmaint itself puts a credential.
 */

export const REDACTED = '[REDACTED]';

/** Keys whose values are secrets wherever they appear (bodies, meta, headers). */
export const SECRET_KEY = /password|secret|token|credential|authorization|cookie/i;

/** Shortest secret replaced inside longer text (shorter ones only as whole values). */
export const MIN_EMBEDDED_SECRET = 8;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

// scheme://user[:password]@  (user-info of any URL in free text)
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/gi;
// ?os_token=... &password=...
const QUERY_SECRET = /([?&][^=&#\s]*(?:password|secret|token|credential)[^=&#\s]*=)[^&#\s]*/gi;

/** The secrets worth checking, longest first (a secret containing another goes whole). */
function normalise(secrets: Iterable<string | null | undefined>): string[] {
  const list = new Set<string>();
  for (const s of secrets) if (typeof s === 'string' && s.length > 0) list.add(s);
  return [...list].sort((a, b) => b.length - a.length);
}

/** One string, redacted by value (see the module comment). */
export function redactText(text: string, secrets: Iterable<string | null | undefined> = []): string {
  return redactPrepared(text, normalise(secrets));
}

/** redactText with the secrets already normalised (the deep walk prepares them once). */
function redactPrepared(text: string, list: readonly string[]): string {
  if (list.includes(text)) return REDACTED;
  let out = text;
  if (out.includes('://')) out = out.replace(URL_USERINFO, '$1');
  if (out.includes('=')) out = out.replace(QUERY_SECRET, `$1${REDACTED}`);
  for (const s of list) if (s.length >= MIN_EMBEDDED_SECRET && out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

export interface RedactOptions {
  /** Redact values of secret-looking keys (default true). */
  byKey?: boolean;
  /** Deeper than this is cut (default 32). */
  maxDepth?: number;
}

/**
 * Deep copy of `value` with every string redacted by value and (unless
 * `byKey: false`) every secret-looking property shown as `[REDACTED]`.
 * Numbers, booleans and null stay what they are: the document's shape never changes.
 */
export function redactDeep<T>(value: T, secrets: Iterable<string | null | undefined> = [], opts: RedactOptions = {}): T {
  const list = normalise(secrets);
  const byKey = opts.byKey ?? true;
  const maxDepth = opts.maxDepth ?? 32;
  const seen = new WeakMap<object, unknown>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redactPrepared(v, list);
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return seen.get(v);
    if (depth > maxDepth) return '[…]';
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const x of v) out.push(walk(x, depth + 1));
      return out;
    }
    if (v instanceof Date) return v.toISOString();
    if (v instanceof Error) {
      const out: Record<string, unknown> = { name: v.name, message: redactPrepared(v.message, list) };
      seen.set(v, out);
      return out;
    }
    const json = (v as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return walk((json as () => unknown).call(v), depth + 1);
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      out[k] = byKey && isSecretKey(k) && x !== undefined && x !== null && typeof x !== 'boolean' ? REDACTED : walk(x, depth + 1);
    }
    return out;
  };
  return walk(value, 0) as T;
}
