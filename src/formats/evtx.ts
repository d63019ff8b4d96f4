// Windows XML Event Log (EVTX) reader, pure part: parses one 64 KiB chunk from bytes.
//
// Layout (libyal "Windows XML Event Log (EVTX)" and [MS-EVEN6]):
//   file header 4096 bytes "ElfFile\0" (CRC32 of bytes 0..120 at 124, flags at 120: 1 dirty, 2 full,
//   4 no CRC32), then chunks of 65536 bytes "ElfChnk\0" with a 512-byte header (free space offset at 48,
//   CRC32 of the event records [512, free) at 52, CRC32 of bytes 0..120 + 128..512 at 124), then event
//   records "\x2a\x2a\0\0", u32 size, u64 record id, FILETIME, Binary XML, u32 copy of the size.
// Binary XML offsets (names, template definitions) are relative to the chunk start, so everything
// here indexes the chunk buffer directly. Template definitions are cached per chunk by offset.
//
// Damage is expected: a bad chunk or record becomes an EvtxProblem and parsing goes on with the
// next record/chunk. Nothing but FormatError leaves this module, and everything is bounded
// (recursion depth, nodes per record, offsets inside the chunk), so random bytes cannot hang it.
import { FormatError } from '../shared/errors.js';
import { crc32, crc32Continue } from '../shared/crc32.js';

export interface EvtxEvent {
  /** The record header's number (differs from EventRecordID in exported logs). */
  recordId: bigint;
  /** System/EventRecordID: the number Event Viewer shows (absent when the element is missing or not a number). */
  eventRecordId?: bigint;
  timeCreated: Date;
  provider: string;
  eventId: number;
  level?: number;
  computer?: string;
  /** EventData/UserData named fields, also positional ones as "0","1",.. (unnamed <Data>). */
  data: Record<string, string>;
  xml?: string;
}

export interface EvtxProblem {
  /** Chunk index (0 = first chunk after the file header); -1 for the file header. */
  chunk: number;
  /** File offset (assuming the standard 4096-byte file header). */
  offset: number;
  message: string;
}

export const EVTX_FILE_HEADER_SIZE = 0x1000;
export const EVTX_CHUNK_SIZE = 0x10000;
const CHUNK_HEADER_SIZE = 0x200;
const RECORD_HEADER_SIZE = 24;
const MAX_DEPTH = 48;
const MAX_NODES_PER_RECORD = 200_000;
/**
 * Expanded size of one record (elements + characters of text, counting every substitution and
 * every reuse of a cached template in full): templates and values are shared by reference, so
 * without this a record of a few hundred bytes that substitutes one value 1,000 times, nested a few
 * levels deep, renders to gigabytes. 1 Mi units: 16x a whole 64 KiB chunk (real records render to
 * about twice their size).
 */
export const MAX_EXPANSION_PER_RECORD = 1 << 20;
/** The same over a whole chunk: 32x its 64 KiB (the real chunks of the fixtures render to < 2x). */
export const MAX_EXPANSION_PER_CHUNK = 32 * 0x10000;

export const FILE_FLAG_DIRTY = 1;
export const FILE_FLAG_FULL = 2;
export const FILE_FLAG_NO_CRC32 = 4;

// ---------------------------------------------------------------------------------------------
// File header (used by evtx-file.ts; pure)

export interface EvtxFileHeader {
  firstChunk: bigint;
  lastChunk: bigint;
  nextRecordId: bigint;
  minorVersion: number;
  majorVersion: number;
  headerBlockSize: number;
  chunkCount: number;
  flags: number;
  checksum: number;
  checksumOk: boolean;
}

const FILE_MAGIC = [0x45, 0x6c, 0x66, 0x46, 0x69, 0x6c, 0x65, 0x00]; // "ElfFile\0"
const CHUNK_MAGIC = [0x45, 0x6c, 0x66, 0x43, 0x68, 0x6e, 0x6b, 0x00]; // "ElfChnk\0"

function hasMagic(b: Uint8Array, at: number, magic: number[]): boolean {
  if (b.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[at + i] !== magic[i]) return false;
  return true;
}

/** Parses the 4096-byte file header. Throws FormatError when the bytes are not an EVTX file. */
export function parseEvtxFileHeader(b: Uint8Array): EvtxFileHeader {
  if (!hasMagic(b, 0, FILE_MAGIC)) throw new FormatError('not an EVTX file: no "ElfFile" signature', 0);
  if (b.length < 128) throw new FormatError(`EVTX file header truncated (${b.length} bytes)`, b.length);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const checksum = dv.getUint32(124, true);
  return {
    firstChunk: dv.getBigUint64(8, true),
    lastChunk: dv.getBigUint64(16, true),
    nextRecordId: dv.getBigUint64(24, true),
    minorVersion: dv.getUint16(36, true),
    majorVersion: dv.getUint16(38, true),
    headerBlockSize: dv.getUint16(40, true),
    chunkCount: dv.getUint16(42, true),
    flags: dv.getUint32(120, true),
    checksum,
    checksumOk: crc32(b.subarray(0, 120)) === checksum,
  };
}

// ---------------------------------------------------------------------------------------------
// In-memory model

interface XElem {
  name: string;
  attrs: [string, string][];
  children: XNode[];
}
interface XPi {
  pi: string;
  data: string;
}
type XNode = XElem | XPi | string;

/** A substitution value: scalar text, array items, or an embedded Binary XML fragment. */
interface Val {
  type: number;
  text?: string;
  items?: string[];
  nodes?: XNode[];
  /** Expanded size of `nodes` (nodes + characters): what each substitution of it adds. */
  weight?: number;
}

/** Template parts: substitutions stay placeholders until instantiated with values. */
type TPart =
  | { k: 'text'; s: string }
  | { k: 'sub'; index: number; optional: boolean }
  | { k: 'elem'; e: TElem }
  | { k: 'pi'; target: string; data: string }
  | { k: 'nodes'; nodes: XNode[]; weight: number };
interface TElem {
  name: string;
  attrs: { name: string; parts: TPart[] }[];
  children: TPart[];
}

const isElem = (n: XNode): n is XElem => typeof n === 'object' && 'name' in n;

// ---------------------------------------------------------------------------------------------
// Chunk parser

const utf16 = new TextDecoder('utf-16le');
const latin1 = new TextDecoder('latin1');

class ChunkParser {
  readonly dv: DataView;
  readonly names = new Map<number, { name: string; size: number }>();
  readonly templates = new Map<number, TPart[]>();
  readonly inProgress = new Set<number>();
  nodes = 0;
  /** Expanded size of the current record and of the chunk so far (MAX_EXPANSION_*). */
  expanded = 0;
  chunkExpanded = 0;

  constructor(readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  need(p: number, n: number, end: number, what: string): void {
    if (!(p >= 0 && n >= 0 && p + n <= end)) throw new FormatError(`${what} runs past its end`, p);
  }
  u8(p: number, end: number): number {
    this.need(p, 1, end, 'byte');
    return this.b[p]!;
  }
  u16(p: number, end: number): number {
    this.need(p, 2, end, 'u16');
    return this.dv.getUint16(p, true);
  }
  u32(p: number, end: number): number {
    this.need(p, 4, end, 'u32');
    return this.dv.getUint32(p, true);
  }
  str16(p: number, chars: number, end: number): string {
    this.need(p, chars * 2, end, 'UTF-16 string');
    return utf16.decode(this.b.subarray(p, p + chars * 2));
  }
  count(): void {
    if (++this.nodes > MAX_NODES_PER_RECORD) throw new FormatError('record expands to too many nodes');
    this.grow(1);
  }
  grow(n: number): void {
    this.expanded += n;
    this.chunkExpanded += n;
    if (this.expanded > MAX_EXPANSION_PER_RECORD) {
      throw new FormatError(`record expands to more than ${MAX_EXPANSION_PER_RECORD} nodes and characters (a value or template repeated: crafted?)`);
    }
    if (this.chunkExpanded > MAX_EXPANSION_PER_CHUNK) {
      throw new FormatError(`chunk expands to more than ${MAX_EXPANSION_PER_CHUNK} nodes and characters (32x its size: crafted?)`);
    }
  }

  /** BinXml name: u32 next, u16 hash, u16 chars, UTF-16 chars, NUL. Offset relative to the chunk. */
  name(off: number): { name: string; size: number } {
    let n = this.names.get(off);
    if (!n) {
      const len = this.b.length;
      const chars = this.u16(off + 6, len);
      const name = this.str16(off + 8, chars, len);
      n = { name, size: 8 + chars * 2 + 2 };
      this.names.set(off, n);
    }
    return n;
  }

  /** Reads a name offset at p; skips the name when it is stored inline right after. Returns [name, p]. */
  nameRef(p: number, end: number): [string, number] {
    const off = this.u32(p, end);
    p += 4;
    const n = this.name(off);
    if (off === p) {
      this.need(p, n.size, end, 'inline name');
      p += n.size;
    }
    return [n.name, p];
  }

  /**
   * The tokens a stream and element content share: an element, a PI, a template instance or a
   * fragment header. Appends to `parts`; returns the offset after it, or undefined for other tokens.
   */
  node(tok: number, p: number, end: number, depth: number, parts: TPart[]): number | undefined {
    switch (tok) {
      case 0x01:
      case 0x41: {
        const [e, q] = this.element(p, end, depth + 1);
        parts.push({ k: 'elem', e });
        return q;
      }
      case 0x0a: {
        const [part, q] = this.pi(p, end);
        parts.push(part);
        return q;
      }
      case 0x0c: {
        const before = this.expanded;
        const [nodes, q] = this.templateInstance(p, end, depth + 1);
        parts.push({ k: 'nodes', nodes, weight: this.expanded - before });
        return q;
      }
      case 0x0f:
        this.need(p, 4, end, 'fragment header');
        return p + 4;
      default:
        return undefined;
    }
  }

  // A stream: fragment headers, elements, PIs, a template instance (which ends it), EOF.
  stream(p: number, end: number, depth: number): [TPart[], number] {
    if (depth > MAX_DEPTH) throw new FormatError('Binary XML nested too deeply', p);
    const parts: TPart[] = [];
    while (p < end) {
      const tok = this.b[p]!;
      if (tok === 0x00) return [parts, p + 1];
      const q = this.node(tok, p, end, depth, parts);
      if (q === undefined) throw new FormatError(`unexpected Binary XML token 0x${tok.toString(16)}`, p);
      if (tok === 0x0c) return [parts, q];
      p = q;
    }
    return [parts, p];
  }

  pi(p: number, end: number): [TPart, number] {
    const [target, q] = this.nameRef(p + 1, end);
    p = q;
    if (this.u8(p, end) !== 0x0b) throw new FormatError('PI target without PI data', p);
    const chars = this.u16(p + 1, end);
    const data = this.str16(p + 3, chars, end);
    return [{ k: 'pi', target, data }, p + 3 + chars * 2];
  }

  element(p: number, end: number, depth: number): [TElem, number] {
    if (depth > MAX_DEPTH) throw new FormatError('Binary XML nested too deeply', p);
    this.count();
    const tok = this.u8(p, end);
    // p+1: u16 dependency id, p+3: u32 data size
    this.need(p, 7, end, 'element start');
    const ref = this.nameRef(p + 7, end);
    const name = ref[0];
    let q = ref[1];
    const e: TElem = { name, attrs: [], children: [] };
    if (tok & 0x40) {
      this.u32(q, end); // attribute list size
      q += 4;
      while (q < end && (this.b[q]! & 0xbf) === 0x06) {
        this.count();
        const [aname, r] = this.nameRef(q + 1, end);
        const [parts, s] = this.attrValue(r, end);
        e.attrs.push({ name: aname, parts });
        q = s;
      }
    }
    const close = this.u8(q, end);
    if (close === 0x03) return [e, q + 1];
    if (close !== 0x02) throw new FormatError(`element <${name}>: expected close start tag, found 0x${close.toString(16)}`, q);
    const [children, r] = this.content(q + 1, end, depth + 1);
    e.children = children;
    return [e, r];
  }

  attrValue(p: number, end: number): [TPart[], number] {
    const parts: TPart[] = [];
    while (p < end) {
      const base = this.b[p]! & 0xbf;
      if (base !== 0x05 && base !== 0x0d && base !== 0x0e && base !== 0x08 && base !== 0x09) break;
      const [part, q] = this.item(p, end);
      parts.push(part);
      p = q;
    }
    return [parts, p];
  }

  /** Value text, substitution, character/entity reference or CDATA at p. */
  item(p: number, end: number): [TPart, number] {
    const tok = this.u8(p, end);
    this.count();
    switch (tok & 0xbf) {
      case 0x05: {
        const type = this.u8(p + 1, end);
        const chars = this.u16(p + 2, end);
        if (type === 0x01) return [{ k: 'text', s: this.str16(p + 4, chars, end) }, p + 4 + chars * 2];
        if (type === 0x02) {
          this.need(p + 4, chars, end, 'ANSI string');
          return [{ k: 'text', s: latin1.decode(this.b.subarray(p + 4, p + 4 + chars)) }, p + 4 + chars];
        }
        throw new FormatError(`value text of type 0x${type.toString(16)}`, p);
      }
      case 0x0d:
      case 0x0e: {
        if (tok & 0x40) throw new FormatError('bad substitution token', p);
        const index = this.u16(p + 1, end);
        this.u8(p + 3, end); // declared type; the value descriptor's type is used
        return [{ k: 'sub', index, optional: tok === 0x0e }, p + 4];
      }
      case 0x08: {
        const cp = this.u16(p + 1, end);
        return [{ k: 'text', s: String.fromCharCode(cp) }, p + 3];
      }
      case 0x09: {
        const [name, q] = this.nameRef(p + 1, end);
        return [{ k: 'text', s: ENTITIES[name] ?? `&${name};` }, q];
      }
      case 0x07: {
        const chars = this.u16(p + 1, end);
        return [{ k: 'text', s: this.str16(p + 3, chars, end) }, p + 3 + chars * 2];
      }
      default:
        throw new FormatError(`unexpected Binary XML token 0x${tok.toString(16)} in content`, p);
    }
  }

  content(p: number, end: number, depth: number): [TPart[], number] {
    if (depth > MAX_DEPTH) throw new FormatError('Binary XML nested too deeply', p);
    const parts: TPart[] = [];
    for (;;) {
      const tok = this.u8(p, end);
      if (tok === 0x04) return [parts, p + 1];
      if (tok === 0x00) throw new FormatError('end of stream inside an element', p);
      const q = this.node(tok, p, end, depth, parts);
      if (q !== undefined) {
        p = q;
        continue;
      }
      const [part, r] = this.item(p, end);
      parts.push(part);
      p = r;
    }
  }

  /** Template definition at a chunk offset: u32 next, GUID, u32 size, Binary XML. Cached. */
  template(off: number, depth: number): TPart[] {
    const cached = this.templates.get(off);
    if (cached) return cached;
    if (this.inProgress.has(off)) throw new FormatError('template refers to itself', off);
    this.inProgress.add(off);
    try {
      const len = this.b.length;
      const size = this.u32(off + 20, len);
      this.need(off + 24, size, len, 'template definition');
      const [parts] = this.stream(off + 24, off + 24 + size, depth + 1);
      this.templates.set(off, parts);
      return parts;
    } finally {
      this.inProgress.delete(off);
    }
  }

  templateInstance(p: number, end: number, depth: number): [XNode[], number] {
    if (depth > MAX_DEPTH) throw new FormatError('Binary XML nested too deeply', p);
    this.need(p, 10, end, 'template instance');
    const defOff = this.dv.getUint32(p + 6, true);
    p += 10;
    if (defOff === p) {
      const size = this.u32(p + 20, end);
      this.need(p + 24, size, end, 'inline template definition');
      p += 24 + size;
    }
    const def = this.template(defOff, depth + 1);
    const n = this.u32(p, end);
    p += 4;
    this.need(p, n * 4, end, 'template value descriptors');
    const descs: [number, number][] = [];
    for (let i = 0; i < n; i++, p += 4) descs.push([this.dv.getUint16(p, true), this.b[p + 2]!]);
    const vals: Val[] = [];
    for (const [size, type] of descs) {
      this.need(p, size, end, 'template value');
      vals.push(this.value(type, p, size, depth + 1));
      p += size;
    }
    return [this.instantiate(def, vals), p];
  }

  // --- values -----------------------------------------------------------------------------

  value(type: number, p: number, size: number, depth: number): Val {
    const end = p + size;
    if (type === 0x21) {
      const [parts] = this.stream(p, end, depth + 1);
      const before = this.expanded;
      const nodes = this.instantiate(parts, []);
      return { type, nodes, weight: this.expanded - before };
    }
    if (type & 0x80) {
      const base = type & 0x7f;
      const items: string[] = [];
      if (base === 0x01) {
        const s = this.str16(p, size >> 1, end);
        const list = s.split('\0');
        if (s.endsWith('\0')) list.pop();
        for (const x of list) items.push(x);
      } else if (base === 0x02) {
        const s = latin1.decode(this.b.subarray(p, end));
        const list = s.split('\0');
        if (s.endsWith('\0')) list.pop();
        for (const x of list) items.push(x);
      } else if (base === 0x13) {
        let q = p;
        while (q < end) {
          const [s, w] = this.sid(q, end);
          items.push(s);
          q += w;
        }
      } else {
        const w = FIXED_WIDTH[base];
        if (!w) throw new FormatError(`array of unsupported value type 0x${base.toString(16)}`, p);
        for (let q = p; q + w <= end; q += w) items.push(this.scalar(base, q, w));
      }
      return { type, items };
    }
    return { type, text: this.scalar(type, p, size) };
  }

  sid(p: number, end: number): [string, number] {
    const rev = this.u8(p, end);
    const n = this.u8(p + 1, end);
    this.need(p, 8 + 4 * n, end, 'SID');
    const auth = (BigInt(this.dv.getUint32(p + 2, false)) << 16n) | BigInt(this.dv.getUint16(p + 6, false));
    let s = `S-${rev}-${auth}`;
    for (let i = 0; i < n; i++) s += `-${this.dv.getUint32(p + 8 + 4 * i, true)}`;
    return [s, 8 + 4 * n];
  }

  /** Renders one value of a scalar type stored in [p, p+size). */
  scalar(type: number, p: number, size: number): string {
    const end = p + size;
    const w = FIXED_WIDTH[type];
    if (w !== undefined && type !== 0x10) this.need(p, w, end, `value of type 0x${type.toString(16)}`);
    const dv = this.dv;
    switch (type) {
      case 0x00:
        return '';
      case 0x01:
        return this.str16(p, size >> 1, end).replace(/\0+$/, '');
      case 0x02:
        return latin1.decode(this.b.subarray(p, end)).replace(/\0+$/, '');
      case 0x03:
        return String(dv.getInt8(p));
      case 0x04:
        return String(dv.getUint8(p));
      case 0x05:
        return String(dv.getInt16(p, true));
      case 0x06:
        return String(dv.getUint16(p, true));
      case 0x07:
        return String(dv.getInt32(p, true));
      case 0x08:
        return String(dv.getUint32(p, true));
      case 0x09:
        return String(dv.getBigInt64(p, true));
      case 0x0a:
        return String(dv.getBigUint64(p, true));
      case 0x0b:
        return pyFloat(dv.getFloat32(p, true));
      case 0x0c:
        return pyFloat(dv.getFloat64(p, true));
      case 0x0d:
        return dv.getInt32(p, true) > 0 ? 'True' : 'False';
      case 0x0e:
        return Buffer.from(this.b.subarray(p, end)).toString('base64');
      case 0x0f:
        return guidString(this.b, p);
      case 0x10:
        if (size === 4) return String(dv.getUint32(p, true));
        this.need(p, 8, end, 'size_t value');
        return String(dv.getBigUint64(p, true));
      case 0x11:
        return filetimeIso(dv.getBigUint64(p, true));
      case 0x12: {
        const f = (i: number) => dv.getUint16(p + 2 * i, true);
        return `${pad(f(0), 4)}-${pad(f(1), 2)}-${pad(f(3), 2)}T${pad(f(4), 2)}:${pad(f(5), 2)}:${pad(f(6), 2)}.${pad(f(7), 3)}Z`;
      }
      case 0x13:
        return this.sid(p, end)[0];
      case 0x14:
        return '0x' + dv.getUint32(p, true).toString(16).padStart(8, '0');
      case 0x15:
        return '0x' + dv.getBigUint64(p, true).toString(16).padStart(16, '0');
      default:
        // EvtHandle, EvtXml and unknown types: show the bytes
        return Buffer.from(this.b.subarray(p, end)).toString('base64');
    }
  }

  // --- instantiation ------------------------------------------------------------------------

  instantiate(parts: TPart[], vals: Val[], arrayIndex?: number): XNode[] {
    const out: XNode[] = [];
    for (const part of parts) {
      switch (part.k) {
        case 'text':
          this.grow(part.s.length);
          out.push(part.s);
          break;
        case 'pi':
          this.grow(1 + part.target.length + part.data.length);
          out.push({ pi: part.target, data: part.data });
          break;
        case 'nodes':
          this.grow(part.weight);
          for (const n of part.nodes) out.push(n);
          break;
        case 'sub': {
          const v = vals[part.index];
          if (!v) break;
          if (v.nodes) {
            this.grow(v.weight ?? v.nodes.length);
            for (const n of v.nodes) out.push(n);
          } else if (v.items) {
            const t = arrayIndex !== undefined ? (v.items[arrayIndex] ?? '') : v.items.join(', ');
            this.grow(t.length);
            out.push(t);
          } else if (v.text) {
            this.grow(v.text.length);
            out.push(v.text);
          }
          break;
        }
        case 'elem':
          for (const n of this.instElem(part.e, vals)) out.push(n);
          break;
      }
    }
    return out;
  }

  /** An element whose content is an array substitution is repeated once per item (MS-EVEN6). */
  instElem(e: TElem, vals: Val[]): XElem[] {
    this.count();
    let n = -1;
    for (const c of e.children) {
      if (c.k === 'sub') {
        const items = vals[c.index]?.items;
        if (items) n = Math.max(n, items.length);
      }
    }
    const copies = n < 0 ? 1 : Math.max(n, 1);
    const out: XElem[] = [];
    let names = e.name.length;
    for (const a of e.attrs) names += a.name.length;
    for (let i = 0; i < copies; i++) {
      this.grow(names);
      const attrs: [string, string][] = [];
      for (const a of e.attrs) {
        const allNull = a.parts.length > 0 && a.parts.every((p) => p.k === 'sub' && p.optional && (vals[p.index]?.type ?? 0) === 0);
        if (allNull) continue;
        attrs.push([a.name, textOf(this.instantiate(a.parts, vals))]);
      }
      out.push({ name: e.name, attrs, children: this.instantiate(e.children, vals, n < 0 ? undefined : i) });
      if (i > 0) this.count();
    }
    return out;
  }
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const FIXED_WIDTH: Record<number, number> = {
  0x03: 1,
  0x04: 1,
  0x05: 2,
  0x06: 2,
  0x07: 4,
  0x08: 4,
  0x09: 8,
  0x0a: 8,
  0x0b: 4,
  0x0c: 8,
  0x0d: 4,
  0x0f: 16,
  0x10: 8,
  0x11: 8,
  0x12: 16,
  0x14: 4,
  0x15: 8,
};

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function guidString(b: Uint8Array, p: number): string {
  const h = (i: number) => b[p + i]!.toString(16).padStart(2, '0');
  const s = h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' + h(10) + h(11) + h(12) + h(13) + h(14) + h(15);
  return `{${s.toUpperCase()}}`;
}

const FILETIME_UNIX_EPOCH = 116444736000000000n;

/** FILETIME as ISO 8601 UTC with 100 ns precision, e.g. 2017-07-23T07:25:41.8045023Z. */
export function filetimeIso(ft: bigint): string {
  const ms = Number((ft - FILETIME_UNIX_EPOCH) / 10000n) - (ft < FILETIME_UNIX_EPOCH && (ft - FILETIME_UNIX_EPOCH) % 10000n !== 0n ? 1 : 0);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ft);
  const iso = d.toISOString(); // ...SS.mmmZ
  const frac = (((ft % 10000000n) + 10000000n) % 10000000n).toString().padStart(7, '0');
  return iso.slice(0, iso.indexOf('.')) + '.' + frac + 'Z';
}

export function filetimeToDate(ft: bigint): Date {
  return new Date(Number((ft - FILETIME_UNIX_EPOCH) / 10000n));
}

const ISO_RE = /^([+-]?\d{4,6})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z$/;

function isoToDate(s: string): Date | undefined {
  const m = ISO_RE.exec(s);
  if (!m) return undefined;
  const ms = Number(((m[7] ?? '') + '000').slice(0, 3));
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Python-style repr of a float (the independent reader's rendering). */
function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  const s = String(x);
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(s);
  if (m) return `${m[1]}e${m[2]}${m[3]!.padStart(2, '0')}`;
  return s;
}

// ---------------------------------------------------------------------------------------------
// DOM helpers and rendering

function textOf(nodes: XNode[]): string {
  let s = '';
  for (const n of nodes) {
    if (typeof n === 'string') s += n;
    else if (isElem(n)) s += textOf(n.children);
  }
  return s;
}

function child(e: XElem | undefined, name: string): XElem | undefined {
  if (!e) return undefined;
  for (const c of e.children) if (isElem(c) && c.name === name) return c;
  return undefined;
}

function attr(e: XElem | undefined, name: string): string | undefined {
  return e?.attrs.find((a) => a[0] === name)?.[1];
}

function escXml(s: string, quote: boolean): string {
  let r = s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
  if (quote) r = r.replace(/"/g, '&quot;');
  return r;
}

function renderXml(nodes: XNode[], out: string[] = []): string[] {
  for (const n of nodes) {
    if (typeof n === 'string') out.push(escXml(n, false));
    else if (isElem(n)) {
      out.push('<', n.name);
      for (const [k, v] of n.attrs) out.push(' ', k, '="', escXml(v, true), '"');
      if (n.children.length === 0) out.push('/>');
      else {
        out.push('>');
        renderXml(n.children, out);
        out.push('</', n.name, '>');
      }
    } else out.push('<?', n.pi, ' ', n.data.replace(/\?>/g, '? >'), '?>');
  }
  return out;
}

/** EventData: <Data Name=..> by name, unnamed ones by position; UserData: leaf elements by name. */
function extractData(event: XElem): Record<string, string> {
  const data: Record<string, string> = {};
  const put = (k: string, v: string) => {
    data[k] = Object.prototype.hasOwnProperty.call(data, k) ? `${data[k]}\n${v}` : v;
  };
  const ed = child(event, 'EventData');
  if (ed) {
    let pos = 0;
    for (const c of ed.children) {
      if (!isElem(c)) continue;
      if (c.name === 'Data') {
        const name = attr(c, 'Name');
        put(name !== undefined && name !== '' ? name : String(pos), textOf(c.children));
        pos++;
      } else put(c.name, textOf(c.children));
    }
  }
  const ud = child(event, 'UserData');
  if (ud) {
    const walk = (e: XElem) => {
      const kids = e.children.filter(isElem);
      if (kids.length === 0) {
        if (!Object.prototype.hasOwnProperty.call(data, e.name)) data[e.name] = textOf(e.children);
      } else kids.forEach(walk);
    };
    for (const c of ud.children) if (isElem(c)) c.children.filter(isElem).forEach(walk);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Public entry point

/**
 * Parses one chunk (normally 65536 bytes; a shorter one is a truncated file's last chunk).
 * `checkCrc: false` skips the CRC32 checks (files with the "no CRC32" flag 0x4).
 * Never throws: every problem is returned in `problems`.
 */
export function parseEvtxChunk(
  chunk: Uint8Array,
  chunkIndex: number,
  opts: { xml?: boolean; checkCrc?: boolean } = {},
): { events: EvtxEvent[]; problems: EvtxProblem[] } {
  const events: EvtxEvent[] = [];
  const problems: EvtxProblem[] = [];
  const base = EVTX_FILE_HEADER_SIZE + chunkIndex * EVTX_CHUNK_SIZE;
  const problem = (off: number, message: string) => problems.push({ chunk: chunkIndex, offset: base + off, message });
  const checkCrc = opts.checkCrc !== false;

  if (chunk.length > EVTX_CHUNK_SIZE) chunk = chunk.subarray(0, EVTX_CHUNK_SIZE);
  const len = chunk.length;
  if (!hasMagic(chunk, 0, CHUNK_MAGIC)) {
    if (chunk.every((x) => x === 0)) return { events, problems }; // unused (preallocated) chunk
    problem(0, `chunk ${chunkIndex}: bad signature (not "ElfChnk"), chunk skipped`);
    return { events, problems };
  }
  if (len < CHUNK_HEADER_SIZE) {
    problem(0, `chunk ${chunkIndex}: truncated to ${len} bytes, chunk header incomplete, chunk skipped`);
    return { events, problems };
  }
  if (len < EVTX_CHUNK_SIZE) problem(len, `chunk ${chunkIndex}: truncated to ${len} of ${EVTX_CHUNK_SIZE} bytes`);
  const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);

  let headerOk = true;
  if (checkCrc) {
    const c = crc32Continue(crc32(chunk.subarray(0, 120)), chunk.subarray(128, CHUNK_HEADER_SIZE));
    if (c !== dv.getUint32(124, true)) {
      headerOk = false;
      problem(124, `chunk ${chunkIndex}: header CRC32 mismatch (stored 0x${dv.getUint32(124, true).toString(16)}, computed 0x${c.toString(16)})`);
    }
  }
  let free = dv.getUint32(48, true);
  if (free < CHUNK_HEADER_SIZE || free > EVTX_CHUNK_SIZE) {
    problem(48, `chunk ${chunkIndex}: free space offset 0x${free.toString(16)} out of range, scanning the whole chunk`);
    free = EVTX_CHUNK_SIZE;
  }
  if (checkCrc && headerOk && free <= len) {
    const c = crc32(chunk.subarray(CHUNK_HEADER_SIZE, free));
    if (c !== dv.getUint32(52, true)) {
      problem(
        52,
        `chunk ${chunkIndex}: event records CRC32 mismatch (stored 0x${dv.getUint32(52, true).toString(16)}, computed 0x${c.toString(16)}); records checked one by one`,
      );
    }
  }
  const end = Math.min(free, len);

  const validAt = (p: number): number => {
    if (p + RECORD_HEADER_SIZE + 4 > end) return 0;
    if (dv.getUint32(p, true) !== 0x2a2a) return 0;
    const size = dv.getUint32(p + 4, true);
    if (size < RECORD_HEADER_SIZE + 4 || p + size > end) return 0;
    if (dv.getUint32(p + size - 4, true) !== size) return 0;
    return size;
  };

  const parser = new ChunkParser(chunk);
  let p = CHUNK_HEADER_SIZE;
  while (p + RECORD_HEADER_SIZE <= end) {
    const size = validAt(p);
    if (size === 0) {
      // Slack after the last record is zero: nothing to report.
      let allZero = true;
      for (let i = p; i < end; i++)
        if (chunk[i] !== 0) {
          allZero = false;
          break;
        }
      if (allZero) break;
      let q = p + 1;
      while (q + RECORD_HEADER_SIZE <= end && !validAt(q)) q++;
      problem(
        p,
        `chunk ${chunkIndex}: no valid event record at chunk offset 0x${p.toString(16)}; skipped ${q + RECORD_HEADER_SIZE <= end ? q - p : end - p} bytes`,
      );
      p = q;
      continue;
    }
    try {
      const ev = parseRecord(parser, dv, p, size, opts.xml === true);
      events.push(ev);
    } catch (e) {
      const msg = e instanceof Error ? (e instanceof FormatError ? e.message : `${e.name}: ${e.message}`) : String(e);
      problem(p, `chunk ${chunkIndex}: record ${dv.getBigUint64(p + 8, true)} unreadable: ${msg}`);
    }
    p += size;
  }
  return { events, problems };
}

function parseRecord(parser: ChunkParser, dv: DataView, p: number, size: number, wantXml: boolean): EvtxEvent {
  const recordId = dv.getBigUint64(p + 8, true);
  const written = dv.getBigUint64(p + 16, true);
  parser.nodes = 0;
  parser.expanded = 0;
  const [parts] = parser.stream(p + RECORD_HEADER_SIZE, p + size - 4, 0);
  const nodes = parser.instantiate(parts, []);
  const event = nodes.find((n): n is XElem => isElem(n) && n.name === 'Event');
  if (!event) throw new FormatError('no <Event> element', p);
  const sys = child(event, 'System');
  if (!sys) throw new FormatError('no <System> element', p);
  const eventIdText = textOf(child(sys, 'EventID')?.children ?? []).trim();
  if (!/^\d+$/.test(eventIdText)) throw new FormatError(`bad EventID "${eventIdText}"`, p);
  const provider = attr(child(sys, 'Provider'), 'Name') ?? attr(child(sys, 'Provider'), 'EventSourceName') ?? '';
  const tc = attr(child(sys, 'TimeCreated'), 'SystemTime');
  const timeCreated = (tc !== undefined ? isoToDate(tc) : undefined) ?? filetimeToDate(written);
  const ev: EvtxEvent = { recordId, timeCreated, provider, eventId: Number(eventIdText), data: extractData(event) };
  const levelText = textOf(child(sys, 'Level')?.children ?? []).trim();
  if (/^\d+$/.test(levelText)) ev.level = Number(levelText);
  const eridText = textOf(child(sys, 'EventRecordID')?.children ?? []).trim();
  if (/^\d{1,20}$/.test(eridText)) {
    const erid = BigInt(eridText);
    if (erid <= 0xffffffffffffffffn) ev.eventRecordId = erid;
  }
  const comp = child(sys, 'Computer');
  if (comp) ev.computer = textOf(comp.children);
  if (wantXml) ev.xml = renderXml(nodes).join('');
  return ev;
}
