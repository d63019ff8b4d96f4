// The hosts file (Windows\System32\drivers\etc\hosts): bytes in, one record per entry out, and the
// one edit wufix makes to it - chosen lines commented out as "# wufix: <original line>", every other
// byte kept. Pure and bounded: a file over MAX_HOSTS_BYTES is refused (FormatError), never read.
//
// The syntax the Windows resolver reads: one entry per line, an IP address, whitespace (spaces or
// tabs), one or more host names; "#" starts a comment to the end of the line. Lines end in CRLF or LF
// (a lone CR counts as whitespace). A UTF-8 byte order mark before the first line is skipped. A line
// whose first field is not an IPv4 or IPv6 address is not an entry (the resolver ignores it); a
// UTF-16 file (Notepad's "Unicode") has NULs between the characters and so holds no entry either.
import { isIPv4, isIPv6 } from 'node:net';
import { FormatError } from '../shared/errors.js';

/** A real hosts file is a few KB; the largest ad-block lists are a few hundred. */
export const MAX_HOSTS_BYTES = 1 << 20;

/** The prefix a commented-out line gets ("# wufix: <original line>"). */
export const HOSTS_COMMENT_PREFIX = '# wufix: ';

export interface HostsEntry {
  /** 1-based line number. */
  number: number;
  /** Byte offset of the line's first byte (after the BOM on line 1). */
  start: number;
  /** Byte offset just past the line's content (before its line ending). */
  end: number;
  /** The line ending as found: '' only on a last line without one. */
  eol: '\r\n' | '\n' | '';
  /** The content as text (UTF-8, invalid bytes as U+FFFD): for display only, the bytes are what is kept. */
  text: string;
  /** The first field: an IPv4 or IPv6 address. */
  address: string;
  /** The host names after it, as written (at least one). */
  names: string[];
  /** The text after "#", when the line has a trailing comment. */
  comment?: string;
}

export interface HostsFile {
  /** The file starts with a UTF-8 byte order mark (EF BB BF). */
  bom: boolean;
  /** How many lines the file has (a last line without an ending counts). */
  lines: number;
  /**
   * The lines that are entries (an address, then names), in file order. Comment lines, blank lines
   * and lines the resolver ignores are not kept: memory follows the entries, not the line count.
   */
  entries: HostsEntry[];
  /** The line ending most lines use (CRLF on a file Windows wrote), LF when there is none. */
  eol: '\r\n' | '\n';
}

const FIELD_SEP = /[ \t\r\v\f]+/;
const utf8 = new TextDecoder('utf-8', { fatal: false });

const isAddress = (s: string) => isIPv4(s) || isIPv6(s);
/** Space, tab, CR, VT, FF: what separates fields. */
const isBlank = (b: number) => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/** The entry on bytes [start, end), or undefined when the line is blank, a comment or not an entry. */
function entryOf(number: number, start: number, end: number, eol: HostsEntry['eol'], bytes: Uint8Array): HostsEntry | undefined {
  let i = start;
  while (i < end && isBlank(bytes[i]!)) i++;
  if (i === end || bytes[i] === 0x23) return undefined; // blank, or a comment line: nothing decoded
  const text = utf8.decode(bytes.subarray(start, end));
  const hash = text.indexOf('#');
  const fields = (hash < 0 ? text : text.slice(0, hash)).split(FIELD_SEP).filter((f) => f !== '');
  const [first, ...names] = fields;
  if (first === undefined || !names.length || !isAddress(first)) return undefined;
  const e: HostsEntry = { number, start, end, eol, text, address: first, names };
  if (hash >= 0) e.comment = text.slice(hash + 1);
  return e;
}

/** The entries of a hosts file. Throws FormatError over MAX_HOSTS_BYTES. Time and memory linear in the input. */
export function parseHosts(bytes: Uint8Array): HostsFile {
  if (bytes.length > MAX_HOSTS_BYTES)
    throw new FormatError(`the hosts file is ${bytes.length} bytes, more than the ${MAX_HOSTS_BYTES} wufix reads (a real one is a few KB)`, MAX_HOSTS_BYTES);
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const entries: HostsEntry[] = [];
  let lines = 0;
  let crlf = 0;
  let lf = 0;
  let start = bom ? 3 : 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(0x0a, start);
    lines++;
    let e: HostsEntry | undefined;
    if (nl < 0) {
      e = entryOf(lines, start, bytes.length, '', bytes);
      start = bytes.length;
    } else {
      const cr = nl > start && bytes[nl - 1] === 0x0d;
      if (cr) crlf++;
      else lf++;
      e = entryOf(lines, start, cr ? nl - 1 : nl, cr ? '\r\n' : '\n', bytes);
      start = nl + 1;
    }
    if (e) entries.push(e);
  }
  return { bom, lines, entries, eol: crlf >= lf && crlf > 0 ? '\r\n' : '\n' };
}

/** One entry to comment out, and optionally a line (written as UTF-8, without a line break) to write right after it. */
export interface HostsEdit {
  line: number;
  /** Written after the commented-out line (e.g. the entry's names that stay mapped). */
  after?: string;
}

/**
 * `bytes` with each edited line turned into "# wufix: <original line>" (its bytes and line ending
 * kept) and its `after` line following it; every other byte as it was. An `after` on a last line
 * without a line ending is separated from it with the file's usual ending, and gets none itself.
 */
export function commentOutHostsLines(bytes: Uint8Array, file: HostsFile, edits: readonly HostsEdit[]): Uint8Array {
  const byLine = new Map(edits.map((e) => [e.line, e]));
  const entry = new Set(file.entries.map((l) => l.number));
  for (const e of edits) {
    if (!entry.has(e.line)) throw new RangeError(`hosts: line ${e.line} is not an entry`);
    if (e.after !== undefined && /[\r\n]/.test(e.after)) throw new RangeError(`hosts: the line added after ${e.line} holds a line break`);
  }
  // One pass to size the result, one to fill it: no intermediate piece per edit.
  const prefix = new TextEncoder().encode(HOSTS_COMMENT_PREFIX);
  const extra = new Map<number, Uint8Array>();
  let size = bytes.length;
  for (const l of file.entries) {
    const e = byLine.get(l.number);
    if (!e) continue;
    size += prefix.length;
    if (e.after === undefined) continue;
    const add = new TextEncoder().encode(l.eol === '' ? `${file.eol}${e.after}` : `${e.after}${l.eol}`);
    extra.set(l.number, add);
    size += add.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  let to = 0;
  const copy = (b: Uint8Array) => {
    out.set(b, to);
    to += b.length;
  };
  for (const l of file.entries) {
    if (!byLine.has(l.number)) continue;
    copy(bytes.subarray(at, l.start));
    copy(prefix);
    at = l.end + l.eol.length;
    copy(bytes.subarray(l.start, at));
    const add = extra.get(l.number);
    if (add) copy(add);
  }
  copy(bytes.subarray(at));
  return out;
}
