// The hosts file (Windows\System32\drivers\etc\hosts): bytes in, one record per line out, and the
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

export interface HostsLine {
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
  /** The first field when it is an IPv4 or IPv6 address and names follow it: the line is an entry. */
  address?: string;
  /** The host names of an entry, as written. */
  names: string[];
  /** The text after "#", when the line has a comment. */
  comment?: string;
}

export interface HostsFile {
  /** The file starts with a UTF-8 byte order mark (EF BB BF). */
  bom: boolean;
  lines: HostsLine[];
  /** The line ending most lines use (CRLF on a file Windows wrote), LF when there is none. */
  eol: '\r\n' | '\n';
}

const FIELD_SEP = /[ \t\r\v\f]+/;
const utf8 = new TextDecoder('utf-8', { fatal: false });

const isAddress = (s: string) => isIPv4(s) || isIPv6(s);

function parseLine(number: number, start: number, end: number, eol: HostsLine['eol'], bytes: Uint8Array): HostsLine {
  const text = utf8.decode(bytes.subarray(start, end));
  const hash = text.indexOf('#');
  const body = hash < 0 ? text : text.slice(0, hash);
  const fields = body.split(FIELD_SEP).filter((f) => f !== '');
  const line: HostsLine = { number, start, end, eol, text, names: [] };
  if (hash >= 0) line.comment = text.slice(hash + 1);
  const [first, ...rest] = fields;
  if (first !== undefined && rest.length && isAddress(first)) {
    line.address = first;
    line.names = rest;
  }
  return line;
}

/** Every line of a hosts file, with its entry when it is one. Throws FormatError over MAX_HOSTS_BYTES. */
export function parseHosts(bytes: Uint8Array): HostsFile {
  if (bytes.length > MAX_HOSTS_BYTES)
    throw new FormatError(`the hosts file is ${bytes.length} bytes, more than the ${MAX_HOSTS_BYTES} wufix reads (a real one is a few KB)`, MAX_HOSTS_BYTES);
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const lines: HostsLine[] = [];
  let crlf = 0;
  let lf = 0;
  let start = bom ? 3 : 0;
  while (start < bytes.length) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl < 0) {
      lines.push(parseLine(lines.length + 1, start, bytes.length, '', bytes));
      break;
    }
    const cr = nl > start && bytes[nl - 1] === 0x0d;
    if (cr) crlf++;
    else lf++;
    lines.push(parseLine(lines.length + 1, start, cr ? nl - 1 : nl, cr ? '\r\n' : '\n', bytes));
    start = nl + 1;
  }
  return { bom, lines, eol: crlf >= lf && crlf > 0 ? '\r\n' : '\n' };
}

/** One line to comment out, and optionally a line (written as UTF-8, without a line break) to write right after it. */
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
  for (const e of edits) {
    if (!file.lines.some((l) => l.number === e.line)) throw new RangeError(`hosts: no line ${e.line}`);
    if (e.after !== undefined && /[\r\n]/.test(e.after)) throw new RangeError(`hosts: the line added after ${e.line} holds a line break`);
  }
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const l of file.lines) {
    const e = byLine.get(l.number);
    if (!e) continue;
    parts.push(bytes.subarray(at, l.start), Buffer.from(HOSTS_COMMENT_PREFIX, 'ascii'), bytes.subarray(l.start, l.end + l.eol.length));
    at = l.end + l.eol.length;
    if (e.after !== undefined) parts.push(Buffer.from(l.eol === '' ? `${file.eol}${e.after}` : `${e.after}${l.eol}`, 'utf8'));
  }
  parts.push(bytes.subarray(at));
  return new Uint8Array(Buffer.concat(parts));
}
