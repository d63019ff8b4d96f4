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

export function parseTaskXml(bytes: Uint8Array): TaskXml {
  const text = decode(bytes.subarray(0, MAX_TASK_XML_BYTES));
  const out: TaskXml = {};
  const uri = /<URI>([^<]{1,1024})<\/URI>/.exec(text);
  if (uri) out.uri = unescape(uri[1]!.trim());
  const settings = /<Settings>([\s\S]*?)<\/Settings>/.exec(text);
  if (settings) {
    // Settings' direct children only: nested blocks (IdleSettings, NetworkSettings, ...) removed first.
    const flat = settings[1]!.replace(/<(\w+)>[\s\S]*?<\/\1>/g, (m, tag: string) => (tag === 'Enabled' ? m : ''));
    const en = /<Enabled>\s*(true|false)\s*<\/Enabled>/i.exec(flat);
    if (en) out.enabled = en[1]!.toLowerCase() === 'true';
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
  const open = /<Settings>/g.exec(text);
  const close = open ? text.indexOf('</Settings>', open.index) : -1;
  if (!open || close < 0) return { error: 'the task file has no <Settings> element' };
  const from = open.index + open[0].length;
  // Nested blocks blanked to spaces of the same length, so indexes still point into `text`.
  const flat = text.slice(from, close).replace(/<(\w+)>[\s\S]*?<\/\1>/g, (m, tag: string) => (tag === 'Enabled' ? m : ' '.repeat(m.length)));
  const found = [...flat.matchAll(/<Enabled>(\s*)(true|false)\s*<\/Enabled>/gi)];
  if (found.length !== 1) return { error: `Settings has ${found.length} <Enabled> element(s), not one` };
  const m = found[0]!;
  if (m[2]!.toLowerCase() !== 'false') return { error: `Settings/Enabled is "${m[2]}", not false` };
  const at = from + m.index + '<Enabled>'.length + m[1]!.length;
  const unit = utf16 ? 2 : 1;
  const off = start + at * unit;
  const old = Buffer.from(m[2]!, utf16 ? 'utf16le' : 'latin1');
  if (!Buffer.from(bytes.buffer, bytes.byteOffset + off, old.length).equals(old)) return { error: 'the Enabled text is not where the parser found it' };
  const repl = Buffer.from('true', utf16 ? 'utf16le' : 'latin1');
  const out = new Uint8Array(bytes.length - old.length + repl.length);
  out.set(bytes.subarray(0, off), 0);
  out.set(repl, off);
  out.set(bytes.subarray(off + old.length), off + repl.length);
  return out;
}
