// Names and text from the image reach the terminal only through here: control characters (C0, DEL,
// C1 such as CSI 0x9b) and bidirectional overrides are shown as escapes, so an ESC sequence in a
// folder name cannot clear the screen, move the cursor or fake a message (issue #14).

const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const esc = (c: string): string => {
  const n = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
};

/** One name or line: every control character escaped (newlines too). */
export function termSafe(s: string): string {
  return s.replace(UNSAFE, esc);
}

/** A block of lines: like termSafe, but newlines are kept. */
export function termSafeBlock(s: string): string {
  return s.replace(UNSAFE, (c) => (c === '\n' ? c : esc(c)));
}

/** A copy of a JSON-like value with every string passed through termSafe (for text renderers). */
export function termSafeDeep<T>(v: T): T {
  if (typeof v === 'string') return termSafe(v) as T;
  if (Array.isArray(v)) return (v as unknown[]).map((x) => termSafeDeep(x)) as T;
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = termSafeDeep(x);
    return out as T;
  }
  return v;
}
