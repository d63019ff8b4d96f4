// regedit's .reg text format: export (formatRegFile/encodeRegFile) and import (parseRegFile).
//
// Export mirrors regedit's "Windows Registry Editor Version 5.00" writer: value lines
// `"name"="string"`, `dword:xxxxxxxx`, `hex:` / `hex(N):` byte lists wrapped with `,\` CRLF and a
// two-space indent once the running line length reaches 77 characters (so no wrapped line is
// longer than 80), sections separated by a blank line, CRLF line ends, UTF-16LE with a BOM.
//
// Import is deliberately stricter than regedit, which silently skips anything it does not
// understand: every malformed line is a FormatError naming its 1-based line number. Hex data is
// kept byte for byte in 5.00 files (no NUL is added to hex(1)/hex(2)/hex(7) data), so an export
// always imports back to the same bytes.
import { FormatError } from '../shared/errors.js';
import { upcase } from './names.js';

export const REG = {
  NONE: 0,
  SZ: 1,
  EXPAND_SZ: 2,
  BINARY: 3,
  DWORD: 4,
  DWORD_BIG_ENDIAN: 5,
  LINK: 6,
  MULTI_SZ: 7,
  RESOURCE_LIST: 8,
  FULL_RESOURCE_DESCRIPTOR: 9,
  RESOURCE_REQUIREMENTS_LIST: 10,
  QWORD: 11,
} as const;

/** name '' = the default value ("@"); data = the raw bytes as stored in the hive. */
export interface RegValue {
  name: string;
  type: number;
  data: Uint8Array;
}

/** path is relative to the hive root, '\\'-separated, '' = the root key. */
export interface ExportKey {
  path: string;
  values: RegValue[];
}

/** path is the full key path as written in the file (prefix included). */
export interface ImportOp {
  kind: 'key' | 'delete-key';
  path: string;
  values: (RegValue | { name: string; delete: true })[];
}

const HEADER_5 = 'Windows Registry Editor Version 5.00';
const HEADER_4 = 'REGEDIT4';
const CRLF = '\r\n';
/** regedit wraps hex data once the line (indent and "xx," groups counted, not the "\") reaches this. */
const MAX_HEX_CHARS = 77;

const TYPE_NAMES: readonly string[] = [
  'REG_NONE',
  'REG_SZ',
  'REG_EXPAND_SZ',
  'REG_BINARY',
  'REG_DWORD',
  'REG_DWORD_BIG_ENDIAN',
  'REG_LINK',
  'REG_MULTI_SZ',
  'REG_RESOURCE_LIST',
  'REG_FULL_RESOURCE_DESCRIPTOR',
  'REG_RESOURCE_REQUIREMENTS_LIST',
  'REG_QWORD',
];

function isUint32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** 'REG_SZ', ..., 'REG_QWORD' for the known types, else 'REG_0x<lowercase hex>'. */
export function typeName(type: number): string {
  if (!isUint32(type)) throw new FormatError(`registry value type ${type} is not a 32-bit unsigned integer`);
  return TYPE_NAMES[type] ?? `REG_0x${type.toString(16)}`;
}

/** Inverse of typeName, case-insensitive; also accepts REG_DWORD_LITTLE_ENDIAN / REG_QWORD_LITTLE_ENDIAN. */
export function parseTypeName(name: string): number {
  const n = name.trim().toUpperCase();
  const i = TYPE_NAMES.indexOf(n);
  if (i >= 0) return i;
  if (n === 'REG_DWORD_LITTLE_ENDIAN') return REG.DWORD;
  if (n === 'REG_QWORD_LITTLE_ENDIAN') return REG.QWORD;
  const m = /^REG_0X([0-9A-F]{1,8})$/.exec(n);
  if (m) return parseInt(m[1]!, 16);
  throw new FormatError(
    `unknown registry value type ${JSON.stringify(name)} (expected REG_NONE, REG_SZ, REG_EXPAND_SZ, REG_BINARY, ` +
      `REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_LINK, REG_MULTI_SZ, REG_RESOURCE_LIST, REG_FULL_RESOURCE_DESCRIPTOR, ` +
      `REG_RESOURCE_REQUIREMENTS_LIST, REG_QWORD or REG_0x<hex>)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Export

/** Escape a name or string for a quoted .reg field: \ " and (as Wine's regedit does) CR and LF. */
function escapeQuoted(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    switch (c) {
      case '\\':
        out += '\\\\';
        break;
      case '"':
        out += '\\"';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\n':
        out += '\\n';
        break;
      default:
        out += c;
    }
  }
  return out;
}

/**
 * The data as a JS string when regedit's `"..."` form reproduces it exactly: even length, exactly
 * one NUL code unit and it is the last, well-formed UTF-16 (no lone surrogates). Strings holding
 * CR or LF are also refused so the text stays one line per value on every importer (Windows
 * regedit does not understand the \r \n escapes Wine writes); those fall back to hex(1).
 */
function szAsString(data: Uint8Array): string | null {
  if (data.length < 2 || data.length % 2 !== 0) return null;
  const n = data.length / 2;
  if (data[2 * n - 2] !== 0 || data[2 * n - 1] !== 0) return null;
  let s = '';
  for (let i = 0; i < n - 1; i++) {
    const u = data[2 * i]! | (data[2 * i + 1]! << 8);
    if (u === 0 || u === 0x0a || u === 0x0d) return null;
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 1 >= n - 1) return null;
      const v = data[2 * i + 2]! | (data[2 * i + 3]! << 8);
      if (v < 0xdc00 || v > 0xdfff) return null;
      s += String.fromCharCode(u, v);
      i++;
      continue;
    }
    if (u >= 0xdc00 && u <= 0xdfff) return null;
    s += String.fromCharCode(u);
  }
  return s;
}

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `hex:`/`hex(N):` plus the byte list, wrapped exactly as regedit does. `lineLen` = chars already on the line. */
function formatHex(type: number, data: Uint8Array, lineLen: number): string {
  const tag = type === REG.BINARY ? 'hex:' : `hex(${type.toString(16)}):`;
  const parts: string[] = [tag];
  let len = lineLen + tag.length;
  const last = data.length - 1;
  for (let i = 0; i < data.length; i++) {
    parts.push(HEX2[data[i]!]!);
    if (i === last) break;
    parts.push(',');
    len += 3;
    if (len >= MAX_HEX_CHARS) {
      parts.push('\\' + CRLF + '  ');
      len = 2;
    }
  }
  return parts.join('');
}

function formatValue(v: RegValue): string {
  if (!isUint32(v.type)) {
    throw new FormatError(`value ${JSON.stringify(v.name)} has type ${v.type}, not a 32-bit unsigned integer`);
  }
  if (v.name.includes('\0')) {
    throw new FormatError(`value name ${JSON.stringify(v.name)} contains a NUL character, which .reg files cannot hold`);
  }
  const head = v.name === '' ? '@=' : `"${escapeQuoted(v.name)}"=`;
  const data = v.data;
  if (v.type === REG.SZ) {
    const s = szAsString(data);
    if (s !== null) return `${head}"${escapeQuoted(s)}"`;
  } else if (v.type === REG.DWORD && data.length === 4) {
    const dw = (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
    return `${head}dword:${dw.toString(16).padStart(8, '0')}`;
  }
  return head + formatHex(v.type, data, head.length);
}

function checkKeyPath(full: string): void {
  if (full === '') throw new FormatError('cannot export a key with an empty path (give a prefix)');
  if (/[\r\n\0]/.test(full)) {
    throw new FormatError(`key path ${JSON.stringify(full)} contains CR, LF or NUL, which .reg files cannot hold`);
  }
  if (full.startsWith('-')) {
    throw new FormatError(`key path ${JSON.stringify(full)} starts with '-', which regedit would read as a deletion`);
  }
}

/**
 * The .reg text (CRLF line ends, no BOM) for `keys`, each written as "[prefix\path]" ("[prefix]"
 * for the root), in the order given. Encode with encodeRegFile() for a file regedit writes.
 */
export function formatRegFile(keys: Iterable<ExportKey>, opts: { prefix: string }): string {
  const prefix = trimChar(opts.prefix, '\\', false);
  const out: string[] = [HEADER_5, CRLF];
  for (const key of keys) {
    const full = key.path === '' ? prefix : prefix === '' ? key.path : `${prefix}\\${key.path}`;
    checkKeyPath(full);
    out.push(CRLF, '[', full, ']', CRLF);
    for (const v of key.values) out.push(formatValue(v), CRLF);
  }
  out.push(CRLF);
  return out.join('');
}

/** UTF-16LE with a BOM, as regedit writes .reg files (lone surrogates are kept as they are). */
export function encodeRegFile(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    out[2 + 2 * i] = u & 0xff;
    out[3 + 2 * i] = u >> 8;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Import

/** Windows-1252 code points for bytes 0x80..0x9f (undefined bytes map to themselves, as WHATWG does). */
const CP1252_80: readonly number[] = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c,
  0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];

function decodeCp1252(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 8192) {
    const codes: number[] = [];
    const end = Math.min(bytes.length, i + 8192);
    for (let j = i; j < end; j++) {
      const b = bytes[j]!;
      codes.push(b >= 0x80 && b < 0xa0 ? CP1252_80[b - 0x80]! : b);
    }
    parts.push(String.fromCharCode(...codes));
  }
  return parts.join('');
}

function decodeUtf16le(bytes: Uint8Array, start: number): string {
  const parts: string[] = [];
  const n = (bytes.length - start) >> 1; // a dangling odd byte is ignored, as regedit's reader does
  for (let i = 0; i < n; i += 8192) {
    const codes: number[] = [];
    const end = Math.min(n, i + 8192);
    for (let j = i; j < end; j++) codes.push(bytes[start + 2 * j]! | (bytes[start + 2 * j + 1]! << 8));
    parts.push(String.fromCharCode(...codes));
  }
  return parts.join('');
}

/**
 * Bytes to text: UTF-16LE with BOM (regedit's default), UTF-16LE without BOM (second byte NUL),
 * UTF-8 with or without BOM, and otherwise Windows-1252 (what regedit's ANSI REGEDIT4 files are on
 * Western systems).
 */
function decodeRegBytes(bytes: Uint8Array): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return decodeUtf16le(bytes, 2);
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    throw new FormatError('line 1: the file is UTF-16 big-endian; regedit files are UTF-16 little-endian or 8-bit');
  }
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(3));
    } catch {
      throw new FormatError('line 1: the file has a UTF-8 byte order mark but is not valid UTF-8');
    }
  }
  if (bytes.length >= 2 && bytes[0] !== 0 && bytes[1] === 0) return decodeUtf16le(bytes, 0);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return decodeCp1252(bytes);
  }
}

function utf16le(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    out[2 * i] = u & 0xff;
    out[2 * i + 1] = u >> 8;
  }
  return out;
}

function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

function isHexDigit(c: string | undefined): boolean {
  if (c === undefined || c.length !== 1) return false;
  const x = c.charCodeAt(0) | 0x20; // folds A-F onto a-f (and leaves digits alone)
  return (x >= 0x30 && x <= 0x39) || (x >= 0x61 && x <= 0x66);
}

function skipWs(s: string, pos: number): number {
  while (isWs(s[pos])) pos++;
  return pos;
}

function show(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s);
}

/** Only whitespace or a ';' comment may follow at `pos`. */
function expectEnd(s: string, pos: number, ln: number, what: string): void {
  pos = skipWs(s, pos);
  if (pos < s.length && s[pos] !== ';') {
    throw new FormatError(`line ${ln}: unexpected text ${show(s.slice(pos))} after ${what}`);
  }
}

/** Parse a quoted string whose opening '"' is at s[start-1]; returns the text and the index after the closing quote. */
function parseQuoted(s: string, start: number, ln: number, what: string): [string, number] {
  let out = '';
  let i = start;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') return [out, i + 1];
    if (c === '\\') {
      const e = s[i + 1];
      switch (e) {
        case '\\':
        case '"':
          out += e;
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case undefined:
          throw new FormatError(`line ${ln}: ${what} ends in a lone backslash and has no closing quote`);
        default:
          throw new FormatError(`line ${ln}: unknown escape sequence \\${e} in ${what} (only \\\\, \\", \\n and \\r are allowed; write a backslash as \\\\)`);
      }
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  throw new FormatError(`line ${ln}: ${what} has no closing quote`);
}

/**
 * Append the comma-separated bytes of one hex line to `out`; true when the line ends in a
 * continuation backslash. Whitespace is allowed around bytes and commas; a ';' starts a comment.
 */
function parseHexLine(s: string, pos: number, ln: number, out: number[]): boolean {
  for (;;) {
    pos = skipWs(s, pos);
    if (pos >= s.length || s[pos] === ';') return false;
    if (s[pos] === '\\') {
      expectEnd(s, pos + 1, ln, "the continuation '\\'");
      return true;
    }
    const start = pos;
    while (isHexDigit(s[pos])) pos++;
    if (pos === start) throw new FormatError(`line ${ln}: expected a hex byte at ${show(s.slice(start))}`);
    if (pos - start > 2) throw new FormatError(`line ${ln}: ${show(s.slice(start, pos))} is not a byte (two hex digits at most)`);
    out.push(parseInt(s.slice(start, pos), 16));
    pos = skipWs(s, pos);
    if (pos >= s.length || s[pos] === ';') return false;
    if (s[pos] !== ',') {
      throw new FormatError(`line ${ln}: expected ',' between hex bytes, found ${show(s.slice(pos))}`);
    }
    pos++;
  }
}

/** REGEDIT4 hex(1)/hex(2)/hex(7) data is 8-bit text: widen it to UTF-16LE, NUL-terminated as regedit does. */
function widenAnsi(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 0) return bytes;
  let withNul = bytes;
  if (bytes[bytes.length - 1] !== 0) {
    // (Uint8Array.of(...bytes, 0) overflowed the stack for data above ~100 KB.)
    withNul = new Uint8Array(bytes.length + 1);
    withNul.set(bytes);
  }
  return utf16le(decodeCp1252(withNul));
}

/**
 * `s` without the runs of `c` at its end (and at its start when `both`). A loop, not a regex: the
 * engine retries /c+$/ from every position of an inner run, quadratic on a line of 80,000
 * backslashes or NULs followed by anything (3 s; a crafted .reg file could hang the import).
 */
function trimChar(s: string, c: string, both: boolean): string {
  let a = 0;
  let b = s.length;
  if (both) while (a < b && s[a] === c) a++;
  while (b > a && s[b - 1] === c) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** `s` without leading and trailing spaces and tabs (the .reg notion of blank), in linear time. */
function trimSpaceTab(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === ' ' || s[a] === '\t')) a++;
  while (b > a && (s[b - 1] === ' ' || s[b - 1] === '\t')) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** The header line: false for "Windows Registry Editor Version 5.00", true for (ANSI) "REGEDIT4". */
function parseHeader(line: string): boolean {
  const header = trimSpaceTab(line);
  if (header === HEADER_5) return false;
  if (header === HEADER_4) return true;
  if (header === 'REGEDIT') {
    throw new FormatError('line 1: Windows 3.1 "REGEDIT" files are not supported (need "Windows Registry Editor Version 5.00" or "REGEDIT4")');
  }
  throw new FormatError(`line 1: not a .reg file: expected "Windows Registry Editor Version 5.00" or "REGEDIT4", found ${show(header)}`);
}

/** Line `ln` without its surrounding blanks; a NUL in it is a FormatError. */
function regLine(line: string, ln: number): string {
  if (line.includes('\0')) throw new FormatError(`line ${ln}: NUL character in the text`);
  return trimSpaceTab(line);
}

/** A "[key]" or "[-key]" line. */
function parseKeyLine(s: string, ln: number): ImportOp {
  if (!s.endsWith(']')) throw new FormatError(`line ${ln}: key line ${show(s)} must end with ']'`);
  let path = s.slice(1, -1);
  let kind: ImportOp['kind'] = 'key';
  if (path.startsWith('-')) {
    kind = 'delete-key';
    path = path.slice(1);
  }
  if (path === '') throw new FormatError(`line ${ln}: empty key name`);
  return { kind, path, values: [] };
}

type ImportValue = ImportOp['values'][number];

/**
 * A value line (`"name"=...` or `@=...`) at lines[idx]; hex data may continue on the lines after
 * it. Returns the value and the index of the last line it used.
 */
function parseValueLine(s: string, lines: string[], idx: number, ansi: boolean): { value: ImportValue; last: number } {
  const ln = idx + 1;
  let name: string;
  let pos: number;
  if (s[0] === '@') {
    name = '';
    pos = 1;
  } else {
    [name, pos] = parseQuoted(s, 1, ln, 'the value name');
  }
  pos = skipWs(s, pos);
  if (s[pos] !== '=') throw new FormatError(`line ${ln}: expected '=' after the value name`);
  pos = skipWs(s, pos + 1);
  const rest = s.slice(pos);
  const one = (value: ImportValue) => ({ value, last: idx });
  if (rest[0] === '-') {
    expectEnd(s, pos + 1, ln, "'-'");
    return one({ name, delete: true });
  }
  if (rest[0] === '"') {
    const [str, end] = parseQuoted(s, pos + 1, ln, 'the string');
    expectEnd(s, end, ln, 'the closing quote');
    return one({ name, type: REG.SZ, data: utf16le(str + '\0') });
  }
  const dw = /^dword:/i.exec(rest);
  if (dw) return one({ name, type: REG.DWORD, data: parseDword(s, pos + dw[0].length, ln) });
  const hx = /^hex(?:\(([0-9a-fA-F]+)\))?:/i.exec(rest);
  if (hx) {
    let type: number = REG.BINARY;
    if (hx[1] !== undefined) {
      const digits = hx[1].replace(/^0+(?=.)/, '');
      if (digits.length > 8) throw new FormatError(`line ${ln}: value type hex(${hx[1]}) is larger than 0xffffffff`);
      type = parseInt(digits, 16);
    }
    const { data: raw, last } = parseHexData(s, pos + hx[0].length, lines, idx);
    let data = raw;
    if (ansi && (type === REG.SZ || type === REG.EXPAND_SZ || type === REG.MULTI_SZ)) data = widenAnsi(data);
    return { value: { name, type, data }, last };
  }
  throw new FormatError(`line ${ln}: unknown value data ${show(rest)} (expected "string", dword:, hex: or hex(N):)`);
}

/** The digits of `dword:` from `p` on (1 to 8 hex digits), as 4 little-endian bytes. */
function parseDword(s: string, from: number, ln: number): Uint8Array {
  let p = skipWs(s, from);
  const start = p;
  while (isHexDigit(s[p])) p++;
  if (p === start || p - start > 8) {
    throw new FormatError(`line ${ln}: dword: needs 1 to 8 hex digits, found ${show(s.slice(start))}`);
  }
  expectEnd(s, p, ln, 'the dword');
  const v = parseInt(s.slice(start, p), 16);
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
}

/** Hex bytes from s[pos] on, following '\' continuations onto the lines after lines[idx]. */
function parseHexData(s: string, pos: number, lines: string[], idx: number): { data: Uint8Array; last: number } {
  const firstLn = idx + 1;
  const bytes: number[] = [];
  let more = parseHexLine(s, pos, firstLn, bytes);
  while (more) {
    idx++;
    if (idx >= lines.length) break; // regedit accepts a continuation at the end of the file
    const cl = idx + 1;
    const c = regLine(lines[idx] ?? '', cl);
    if (c === '' || c[0] === ';') continue; // regedit skips blank and comment lines inside hex data
    if (!isHexDigit(c[0])) {
      throw new FormatError(`line ${cl}: expected hex bytes continuing the value on line ${firstLn} (which ends in '\\'), found ${show(c)}`);
    }
    more = parseHexLine(c, 0, cl, bytes);
  }
  return { data: Uint8Array.from(bytes), last: Math.min(idx, lines.length - 1) };
}

/**
 * Parse .reg text or bytes into key/value operations, in file order. Accepts "Windows Registry
 * Editor Version 5.00" and "REGEDIT4" files; any malformed line is a FormatError "line N: ...".
 */
export function parseRegFile(input: Uint8Array | string): ImportOp[] {
  let text = typeof input === 'string' ? input : decodeRegBytes(input);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = trimChar(text, '\0', false); // some writers pad the end with NULs
  const lines = text.split(/\r\n|\r|\n/);
  const ansi = parseHeader(lines[0] ?? '');
  const ops: ImportOp[] = [];
  let current: ImportOp | null = null;
  for (let idx = 1; idx < lines.length; idx++) {
    const ln = idx + 1;
    const s = regLine(lines[idx] ?? '', ln);
    if (s === '' || s[0] === ';') continue;
    if (s[0] === '[') {
      current = parseKeyLine(s, ln);
      ops.push(current);
      continue;
    }
    if (s[0] !== '@' && s[0] !== '"') {
      throw new FormatError(`line ${ln}: expected a [key], a value ("name"=... or @=...) or a ';' comment, found ${show(s)}`);
    }
    if (current === null) throw new FormatError(`line ${ln}: value before any [key] section`);
    if (current.kind === 'delete-key') {
      throw new FormatError(`line ${ln}: value inside a key deletion [-${current.path}]`);
    }
    const { value, last } = parseValueLine(s, lines, idx, ansi);
    current.values.push(value);
    idx = last;
  }
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Key paths

function stripSlashes(p: string): string {
  return trimChar(p, '\\', true);
}

/**
 * Map a key path from a .reg file to a path relative to the offline hive root.
 * With `prefix`: it must be a (case-insensitive, whole-component) prefix of `fullPath`; the rest
 * is returned. Without: HKLM\<mount>\rest and HKU\<mount>\rest give rest, HKCU\rest gives rest;
 * other roots need an explicit prefix.
 */
export function stripHivePrefix(fullPath: string, prefix?: string): string {
  const full = stripSlashes(fullPath);
  if (prefix !== undefined) {
    const p = stripSlashes(prefix);
    if (p === '') return full;
    const head = full.slice(0, p.length);
    if (upcase(head) === upcase(p) && (full.length === p.length || full[p.length] === '\\')) {
      return full.slice(p.length + 1);
    }
    throw new FormatError(`key ${JSON.stringify(fullPath)} is not under the prefix ${JSON.stringify(prefix)}`);
  }
  const parts = full.split('\\');
  const root = upcase(parts[0]!);
  if (root === 'HKEY_LOCAL_MACHINE' || root === 'HKLM' || root === 'HKEY_USERS' || root === 'HKU') {
    if (parts.length >= 2 && parts[1] !== '') return parts.slice(2).join('\\');
  } else if (root === 'HKEY_CURRENT_USER' || root === 'HKCU') {
    return parts.slice(1).join('\\');
  }
  throw new FormatError(
    `cannot tell which part of the key ${JSON.stringify(fullPath)} is the offline hive's root; ` +
      `pass --prefix with the path the hive was exported from (for example --prefix "HKEY_LOCAL_MACHINE\\SOFTWARE")`,
  );
}
