// Microsoft cabinet (.cab) reader, pure and bounded: CFHEADER / CFFOLDER / CFFILE / CFDATA
// (MS-CAB), "none" and MSZIP compression (each CFDATA block is "CK" + raw deflate whose dictionary
// is the previous block's output, as in MS-MCI). LZX and Quantum are refused with a CabError that
// names the compression. Streaming: the cabinet comes in as sequential byte chunks and the members'
// bytes go out one CFDATA block at a time; nothing is held beyond a block and the header tables.
// Checksums are not verified (Windows writes none for CbsPersist), the structure is.
import { inflateRawSync } from 'node:zlib';
import { BadInputError } from '../shared/errors.js';
import type { ByteChunks } from './logs/lines.js';

export type CabCompression = 'none' | 'mszip' | 'quantum' | 'lzx' | 'unknown';

export interface CabFileEntry {
  /** Member name as stored ("CbsPersist_20240101000000.log"); backslashes kept. */
  name: string;
  /** Uncompressed size in bytes. */
  size: number;
  folder: number;
  /** Offset of the member in its folder's uncompressed stream. */
  offset: number;
}

export interface CabFolderInfo {
  compression: CabCompression;
  /** Offset of the first CFDATA block in the cabinet. */
  dataOffset: number;
  blocks: number;
}

export interface CabOptions {
  /** Total uncompressed bytes produced (default 1 GiB). */
  maxOutput?: number;
  /** Default 4096. */
  maxFiles?: number;
  /** Default 256. */
  maxFolders?: number;
}

export interface CabMember {
  entry: CabFileEntry;
  /** The member's bytes, one piece per CFDATA block; read it before asking for the next member. */
  chunks: AsyncIterable<Uint8Array>;
}

export type CabErrorReason = 'format' | 'truncated' | 'unsupported-compression' | 'limit' | 'multi-cabinet';

/** A cabinet that is damaged, refused (compression, multi-cabinet set) or over a cap: a typed bad-input error. */
export class CabError extends BadInputError {
  constructor(
    readonly reason: CabErrorReason,
    message: string,
    readonly compression?: CabCompression,
  ) {
    super(message, { code: reason === 'limit' ? 'too-large' : 'format' });
  }
}

const FLAG_PREV = 0x0001;
const FLAG_NEXT = 0x0002;
const FLAG_RESERVE = 0x0004;
/** MSZIP and "none" blocks hold at most 32 KiB of output; compressed data may be a little larger. */
const MAX_BLOCK_OUT = 32768;
const MAX_BLOCK_IN = 32768 + 6144;
const MAX_NAME = 1024;

function compressionOf(t: number): CabCompression {
  switch (t & 0x000f) {
    case 0:
      return 'none';
    case 1:
      return 'mszip';
    case 2:
      return 'quantum';
    case 3:
      return 'lzx';
    default:
      return 'unknown';
  }
}

/** Sequential reader over byte chunks: forward-only, absolute offsets. */
class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private done = false;
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  constructor(chunks: ByteChunks) {
    this.it = Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  }
  /** Let the source go (closes the file behind a file reader), also on an early exit. */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.it.return?.();
  }
  get pos(): number {
    return this.bufStart;
  }
  /** Make at least n bytes available at the current position; false at end of input. */
  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      const c = r.value;
      if (c.length === 0) continue;
      const nb = new Uint8Array(this.buf.length + c.length);
      nb.set(this.buf, 0);
      nb.set(c, this.buf.length);
      this.buf = nb;
    }
    return this.buf.length >= n;
  }
  async read(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.fill(n))) throw new CabError('truncated', `cabinet truncated in ${what} at offset ${this.bufStart + this.buf.length}`);
    const out = this.buf.slice(0, n);
    this.buf = this.buf.subarray(n);
    this.bufStart += n;
    return out;
  }
  async skipTo(off: number, what: string): Promise<void> {
    if (off < this.bufStart) throw new CabError('format', `${what} at offset ${off} lies before offset ${this.bufStart} (out of order)`);
    while (this.bufStart < off) {
      const need = off - this.bufStart;
      if (this.buf.length === 0 && !(await this.fill(1))) throw new CabError('truncated', `cabinet truncated before ${what} at offset ${off}`);
      const k = Math.min(need, this.buf.length);
      this.buf = this.buf.subarray(k);
      this.bufStart += k;
    }
  }
  /** A NUL-terminated string of at most `max` bytes. */
  async cstring(max: number, what: string): Promise<Uint8Array> {
    for (let n = 1; n <= max + 1; n++) {
      if (!(await this.fill(n))) throw new CabError('truncated', `cabinet truncated in ${what}`);
      if (this.buf[n - 1] === 0) {
        const s = this.buf.slice(0, n - 1);
        this.buf = this.buf.subarray(n);
        this.bufStart += n;
        return s;
      }
    }
    throw new CabError('format', `${what} longer than ${max} bytes`);
  }
}

const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

function decodeName(b: Uint8Array, utf8: boolean): string {
  // Without the UTF-8 attribute the name is in the OEM code page; ASCII is what CBS writes.
  if (utf8) return new TextDecoder('utf-8').decode(b);
  let s = '';
  for (const c of b) s += c < 0x80 ? String.fromCharCode(c) : '?';
  return s;
}

interface Parsed {
  cabinetSize: number;
  folders: CabFolderInfo[];
  files: CabFileEntry[];
  reserveData: number;
  reserveFolder: number;
}

async function readHeader(r: ByteReader, opts: Required<CabOptions>): Promise<Parsed> {
  const h = await r.read(36, 'CFHEADER');
  if (h[0] !== 0x4d || h[1] !== 0x53 || h[2] !== 0x43 || h[3] !== 0x46) throw new CabError('format', 'not a cabinet (no MSCF signature)');
  const cabinetSize = u32(h, 8);
  const coffFiles = u32(h, 16);
  const minor = h[24]!;
  const major = h[25]!;
  const cFolders = u16(h, 26);
  const cFiles = u16(h, 28);
  const flags = u16(h, 30);
  if (major !== 1 || minor !== 3) throw new CabError('format', `cabinet version ${major}.${minor} (expected 1.3)`);
  if (cabinetSize < 36 || coffFiles < 36 || coffFiles >= cabinetSize)
    throw new CabError('format', `bad cabinet size ${cabinetSize} / file table offset ${coffFiles}`);
  if (cFolders === 0 || cFolders > opts.maxFolders) throw new CabError(cFolders === 0 ? 'format' : 'limit', `${cFolders} folders (limit ${opts.maxFolders})`);
  if (cFiles > opts.maxFiles) throw new CabError('limit', `${cFiles} files (limit ${opts.maxFiles})`);
  if (flags & (FLAG_PREV | FLAG_NEXT)) throw new CabError('multi-cabinet', 'part of a multi-cabinet set (not read)');
  let reserveFolder = 0;
  let reserveData = 0;
  if (flags & FLAG_RESERVE) {
    const rs = await r.read(4, 'CFHEADER reserve sizes');
    const cbHeader = u16(rs, 0);
    reserveFolder = rs[2]!;
    reserveData = rs[3]!;
    if (cbHeader > 60000) throw new CabError('format', `header reserve of ${cbHeader} bytes`);
    await r.read(cbHeader, 'CFHEADER reserve');
  }
  const folders: CabFolderInfo[] = [];
  for (let i = 0; i < cFolders; i++) {
    const f = await r.read(8 + reserveFolder, 'CFFOLDER');
    const dataOffset = u32(f, 0);
    if (dataOffset < 36 || dataOffset >= cabinetSize) throw new CabError('format', `folder ${i} data offset ${dataOffset} outside the cabinet`);
    folders.push({ dataOffset, blocks: u16(f, 4), compression: compressionOf(u16(f, 6)) });
  }
  await r.skipTo(coffFiles, 'CFFILE table');
  const files: CabFileEntry[] = [];
  for (let i = 0; i < cFiles; i++) {
    const f = await r.read(16, 'CFFILE');
    const size = u32(f, 0);
    const offset = u32(f, 4);
    const folder = u16(f, 8);
    const attribs = u16(f, 14);
    const name = decodeName(await r.cstring(MAX_NAME, 'CFFILE name'), (attribs & 0x80) !== 0);
    if (folder >= 0xfffd) throw new CabError('multi-cabinet', `member ${name} continues in another cabinet (not read)`);
    if (folder >= cFolders) throw new CabError('format', `member ${name} in folder ${folder} of ${cFolders}`);
    files.push({ name, size, folder, offset });
  }
  return { cabinetSize, folders, files, reserveData, reserveFolder };
}

/** The header tables only (reads the start of the stream). */
export async function cabInfo(chunks: ByteChunks, opts: CabOptions = {}): Promise<{ folders: CabFolderInfo[]; files: CabFileEntry[] }> {
  const r = new ByteReader(chunks);
  try {
    const p = await readHeader(r, withDefaults(opts));
    return { folders: p.folders, files: p.files };
  } finally {
    await r.close();
  }
}

function withDefaults(o: CabOptions): Required<CabOptions> {
  return { maxOutput: o.maxOutput ?? 1 << 30, maxFiles: o.maxFiles ?? 4096, maxFolders: o.maxFolders ?? 256 };
}

interface Piece {
  file: number;
  data: Uint8Array;
}

/** Uncompressed folder blocks, cut into the members they belong to (files in folder-offset order). */
async function* pieces(r: ByteReader, p: Parsed, opts: Required<CabOptions>, order: number[][]): AsyncGenerator<Piece> {
  let total = 0;
  const folderOrder = p.folders.map((_, i) => i).sort((a, b) => p.folders[a]!.dataOffset - p.folders[b]!.dataOffset);
  for (const fi of folderOrder) {
    const folder = p.folders[fi]!;
    const members = order[fi]!;
    if (members.length === 0) continue;
    if (folder.compression !== 'none' && folder.compression !== 'mszip') {
      throw new CabError(
        'unsupported-compression',
        `compressed with ${folder.compression === 'lzx' ? 'LZX' : folder.compression === 'quantum' ? 'Quantum' : 'an unknown method'}, not read`,
        folder.compression,
      );
    }
    await r.skipTo(folder.dataOffset, `folder ${fi} data`);
    let out = 0;
    let mi = 0;
    let dict: Uint8Array | undefined;
    const end = Math.max(...members.map((m) => p.files[m]!.offset + p.files[m]!.size));
    for (let b = 0; b < folder.blocks && out < end; b++) {
      const hd = await r.read(8 + p.reserveData, `CFDATA ${b} of folder ${fi}`);
      const cbData = u16(hd, 4);
      const cbUncomp = u16(hd, 6);
      if (cbData === 0 || cbData > MAX_BLOCK_IN || cbUncomp > MAX_BLOCK_OUT)
        throw new CabError('format', `CFDATA ${b} of folder ${fi}: ${cbData} -> ${cbUncomp} bytes`);
      const raw = await r.read(cbData, `CFDATA ${b} of folder ${fi}`);
      let data: Uint8Array;
      if (folder.compression === 'none') {
        if (cbData !== cbUncomp) throw new CabError('format', `CFDATA ${b}: stored block of ${cbData} bytes says ${cbUncomp}`);
        data = raw;
      } else {
        if (raw[0] !== 0x43 || raw[1] !== 0x4b) throw new CabError('format', `CFDATA ${b} of folder ${fi}: no MSZIP "CK" signature`);
        try {
          const o = dict
            ? inflateRawSync(raw.subarray(2), { dictionary: dict, maxOutputLength: MAX_BLOCK_OUT })
            : inflateRawSync(raw.subarray(2), { maxOutputLength: MAX_BLOCK_OUT });
          data = new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
        } catch (e) {
          throw new CabError('format', `CFDATA ${b} of folder ${fi}: bad MSZIP data (${(e as Error).message})`);
        }
        if (data.length !== cbUncomp) throw new CabError('format', `CFDATA ${b} of folder ${fi}: inflated to ${data.length} bytes, header says ${cbUncomp}`);
        dict = data;
      }
      total += data.length;
      if (total > opts.maxOutput) throw new CabError('limit', `more than ${opts.maxOutput} uncompressed bytes`);
      const bStart = out;
      out += data.length;
      // Members overlapping [bStart, out).
      while (mi < members.length && p.files[members[mi]!]!.offset + p.files[members[mi]!]!.size <= bStart) mi++;
      for (let k = mi; k < members.length; k++) {
        const f = p.files[members[k]!]!;
        if (f.offset >= out) break;
        const s = Math.max(f.offset, bStart) - bStart;
        const e = Math.min(f.offset + f.size, out) - bStart;
        if (e > s) yield { file: members[k]!, data: data.subarray(s, e) };
      }
    }
    if (out < end) throw new CabError('truncated', `folder ${fi} holds ${out} bytes, its members need ${end}`);
  }
}

/**
 * The members of a cabinet in stream order, each with its bytes as chunks (one per CFDATA block).
 * Throws CabError on a damaged or unsupported cabinet (possibly after some members were read).
 */
export async function* cabMembers(chunks: ByteChunks, options: CabOptions = {}): AsyncGenerator<CabMember> {
  const opts = withDefaults(options);
  const r = new ByteReader(chunks);
  try {
    yield* members(r, opts);
  } finally {
    await r.close();
  }
}

async function* members(r: ByteReader, opts: Required<CabOptions>): AsyncGenerator<CabMember> {
  const p = await readHeader(r, opts);
  const order: number[][] = p.folders.map(() => []);
  p.files.forEach((f, i) => order[f.folder]!.push(i));
  for (const list of order) list.sort((a, b) => p.files[a]!.offset - p.files[b]!.offset);
  const folderOrder = p.folders.map((_, i) => i).sort((a, b) => p.folders[a]!.dataOffset - p.folders[b]!.dataOffset);
  const sequence = folderOrder.flatMap((fi) => order[fi]!);
  const src = pieces(r, p, opts, order);
  let peeked: Piece | undefined;
  let ended = false;
  const next = async (): Promise<Piece | undefined> => {
    if (peeked) {
      const x = peeked;
      peeked = undefined;
      return x;
    }
    if (ended) return undefined;
    const n = await src.next();
    if (n.done) {
      ended = true;
      return undefined;
    }
    return n.value;
  };
  const pos = new Map<number, number>(sequence.map((f, i) => [f, i]));
  for (const [i, fileIndex] of sequence.entries()) {
    const own = async function* (): AsyncGenerator<Uint8Array> {
      for (;;) {
        const x = await next();
        if (!x) return;
        const at = pos.get(x.file)!;
        if (at > i) {
          // A later member's bytes: keep them for it.
          peeked = x;
          return;
        }
        if (at === i) yield x.data;
      }
    };
    yield { entry: { ...p.files[fileIndex]! }, chunks: own() };
    // Drop what the consumer left of this member (and of earlier ones).
    for (;;) {
      const x = await next();
      if (!x) break;
      if (pos.get(x.file)! > i) {
        peeked = x;
        break;
      }
    }
  }
}
