// A Task Scheduler task file (Windows\System32\Tasks\...: the task's XML, UTF-16LE with a BOM as
// Windows writes it, or UTF-8): its URI and whether the task itself is enabled (Settings/Enabled;
// a trigger's own <Enabled> inside <Triggers> is not the task's). Pure, bounded: at most
// MAX_TASK_XML_BYTES are read; anything unreadable gives undefined fields, never a throw.

export const MAX_TASK_XML_BYTES = 256 * 1024;

export interface TaskXml {
  uri?: string;
  /** Settings/Enabled: false when the task is disabled; undefined when the element is absent (enabled by default). */
  enabled?: boolean;
}

function decode(b: Uint8Array): string {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return Buffer.from(b.buffer, b.byteOffset + 2, (b.length - 2) & ~1).toString('utf16le');
  // UTF-16LE without a BOM: '<' then NUL.
  if (b.length >= 2 && b[0] === 0x3c && b[1] === 0x00) return Buffer.from(b.buffer, b.byteOffset, b.length & ~1).toString('utf16le');
  const s = Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

const unescape = (s: string) => s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e] ?? '');

/** The first <Settings> element's content: [from, to) of `text`, or undefined. Linear (indexOf). */
function settingsRange(text: string): { from: number; to: number } | undefined {
  const open = text.indexOf('<Settings>');
  if (open < 0) return undefined;
  const from = open + '<Settings>'.length;
  const to = text.indexOf('</Settings>', from);
  return to < 0 ? undefined : { from, to };
}

/**
 * The <Enabled> elements that are direct children of text[from, to) (Settings' own, not those of
 * IdleSettings or a trigger): where each one's text starts and the text. One pass over the tags
 * with a depth count, so a hostile file of unclosed tags costs linear time (a backtracking regex
 * over nested blocks was quadratic: test/fuzz/tasks.test.ts).
 */
export function directEnabled(text: string, from: number, to: number): { at: number; value: string }[] {
  const out: { at: number; value: string }[] = [];
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)[^<>]*>/g;
  tag.lastIndex = from;
  let depth = 0;
  let open: number | undefined;
  for (let m = tag.exec(text); m && m.index < to; m = tag.exec(text)) {
    const closing = m[1] === '/';
    const selfClosing = m[0].endsWith('/>');
    if (!closing) {
      if (selfClosing) continue;
      if (depth === 0 && m[2] === 'Enabled') open = m.index + m[0].length;
      depth++;
    } else {
      depth--;
      if (depth < 0) break; // more closing than opening tags: not a Settings element read further
      if (depth === 0 && m[2] === 'Enabled' && open !== undefined) {
        out.push({ at: open, value: text.slice(open, m.index) });
        open = undefined;
        if (out.length > 16) break;
      }
    }
  }
  return out;
}

export function parseTaskXml(bytes: Uint8Array): TaskXml {
  const text = decode(bytes.subarray(0, MAX_TASK_XML_BYTES));
  const out: TaskXml = {};
  const uri = /<URI>([^<]{1,1024})<\/URI>/.exec(text);
  if (uri) out.uri = unescape(uri[1]!.trim());
  const range = settingsRange(text);
  if (range) {
    const en = directEnabled(text, range.from, range.to).find((e) => /^\s*(true|false)\s*$/i.test(e.value));
    if (en) out.enabled = en.value.trim().toLowerCase() === 'true';
  }
  return out;
}

/** How a task file's text is stored: where it starts (after a BOM) and in which encoding. */
function layout(b: Uint8Array): { start: number; utf16: boolean } {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return { start: 2, utf16: true };
  if (b.length >= 2 && b[0] === 0x3c && b[1] === 0x00) return { start: 0, utf16: true };
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { start: 3, utf16: false };
  return { start: 0, utf16: false };
}

/**
 * The task file with only the text of Settings' own <Enabled> changed from false to true (a
 * trigger's <Enabled> and everything else, BOM, encoding and line endings, kept byte for byte), or
 * why not: no such element, more than one, it is not "false", or the file is larger than parsed.
 */
export function enableTaskXml(bytes: Uint8Array): Uint8Array | { error: string } {
  if (bytes.length > MAX_TASK_XML_BYTES) return { error: `the task file is larger than ${MAX_TASK_XML_BYTES} bytes` };
  const { start, utf16 } = layout(bytes);
  const body = Buffer.from(bytes.buffer, bytes.byteOffset + start, utf16 ? (bytes.length - start) & ~1 : bytes.length - start);
  // latin1 for UTF-8: one character per byte, so an index is a byte offset (the markup is ASCII).
  const text = body.toString(utf16 ? 'utf16le' : 'latin1');
  const range = settingsRange(text);
  if (!range) return { error: 'the task file has no <Settings> element' };
  const found = directEnabled(text, range.from, range.to).filter((e) => /^\s*(true|false)\s*$/i.test(e.value));
  if (found.length !== 1) return { error: `Settings has ${found.length} <Enabled> element(s), not one` };
  const e = found[0]!;
  const value = e.value.trim();
  if (value.toLowerCase() !== 'false') return { error: `Settings/Enabled is "${value}", not false` };
  const at = e.at + (e.value.length - e.value.trimStart().length);
  const unit = utf16 ? 2 : 1;
  const off = start + at * unit;
  const old = Buffer.from(value, utf16 ? 'utf16le' : 'latin1');
  if (!Buffer.from(bytes.buffer, bytes.byteOffset + off, old.length).equals(old)) return { error: 'the Enabled text is not where the parser found it' };
  const repl = Buffer.from('true', utf16 ? 'utf16le' : 'latin1');
  const out = new Uint8Array(bytes.length - old.length + repl.length);
  out.set(bytes.subarray(0, off), 0);
  out.set(repl, off);
  out.set(bytes.subarray(off + old.length), off + repl.length);
  return out;
}
