/**
 * Text from outside (the cloud's answers: names, disabled reasons, fault
 * messages) never carries a control character to the operator's terminal:
 * the HTTP layer escapes them once, as the answer is read, so every place that
 * prints cloud text (results, status, errors, logs, reports) shows `\x1b`
 * where the cloud sent ESC, `\x07` for BEL. Newline and tab are kept (the
 * progress views fold them into spaces).
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` with every control character but newline and tab shown as `\xHH`. */
export function escapeControls(text: string): string {
  CONTROL.lastIndex = 0;
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A deep copy of parsed JSON with every string (keys too) passed through escapeControls. */
export function escapeControlsDeep<T>(value: T): T {
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return escapeControls(v);
    if (v === null || typeof v !== 'object' || depth > 64) return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[escapeControls(k)] = walk(x, depth + 1);
    return out;
  };
  return walk(value, 0) as T;
}
