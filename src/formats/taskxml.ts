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
