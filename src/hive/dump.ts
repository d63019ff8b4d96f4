// Walks a hive depth first and yields each key with its values: the source of `hive dump` (JSON
// Lines) and `hive export` (.reg). Subkeys in stored (Windows) order, values in value-list order.
import { BadInputError, FormatError } from '../shared/errors.js';
import { decodeName } from './names.js';
import { MAX_DEPTH, KEY_RAW, VALUE_RAW, type Hive } from './hive.js';
import { HBIN_START } from './baseblock.js';
import { VALUE_LIST_ENTRY } from './cells/vk.js';

export interface DumpedValue {
  name: string;
  type: number;
  data: Uint8Array;
}
export interface DumpedKey {
  path: string;
  values: DumpedValue[];
}

/** Resolve `keyPath` (relative to the root; '' = root) or fail with a clear message. */
export function requireKey(hive: Hive, keyPath: string, file?: string): number {
  const nk = hive.lookup(keyPath);
  if (nk === undefined) throw new BadInputError(`key not found: ${keyPath}`, { file, code: 'no-key' });
  return nk;
}

/** Every key below `keyPath` with its values, depth first (text dump and .reg export). */
export function collectKeys(hive: Hive, keyPath = ''): DumpedKey[] {
  const start = requireKey(hive, keyPath);
  const startPath = keyPath === '' ? '' : hive.pathOf(start);
  const items: DumpedKey[] = [];
  hive.walk(start, startPath, (nk, path) => {
    items.push({ path, values: hive.values(nk).map((vk) => hive.value(vk)) });
  });
  return items;
}

const enc = (s: string) => new TextEncoder().encode(s);
const K_PATH = enc('{"path":"');
const K_VALUES = enc('","values":[');
const K_NAME = enc('{"name":"');
const K_NAME2 = enc(',{"name":"');
const K_TYPE = enc('","type":');
const K_DATA = enc(',"data":"');
const K_VEND = enc('"}');
const K_END = enc(']}\n');
/** HEX_HI[x], HEX_LO[x]: the two lowercase hex digits of byte x. */
const HEX_DIGITS = '0123456789abcdef';
const HEX_HI = new Uint8Array(256);
const HEX_LO = new Uint8Array(256);
for (let x = 0; x < 256; x++) {
  HEX_HI[x] = HEX_DIGITS.charCodeAt(x >>> 4);
  HEX_LO[x] = HEX_DIGITS.charCodeAt(x & 15);
}
/** `","type":N,"data":"` for the common types N (one copy instead of three writes). */
const TYPE_DATA = Array.from({ length: 16 }, (_, t) => enc(`","type":${t},"data":"`));
/** The constant bytes around one value. */
const VALUE_OVERHEAD = K_NAME2.length + K_TYPE.length + K_DATA.length + K_VEND.length;
/** Output chunk size of writeJsonLines. */
const CHUNK = 1 << 22;
/** Most bytes one stored name byte can become inside a JSON string ("\u00XX"). */
const MAX_ESCAPED_PER_BYTE = 6;
/** Data longer than this is hexed natively (shorter: the loop; fewer strings for the GC). */
const NATIVE_HEX_MIN = 128;
/** Decimal digits of a u32. */
const MAX_UINT_DIGITS = 10;
const JSON_BACKSLASH = 0x5c;

/** A growable byte buffer (the dump's output chunk or its path). */
interface Bytes {
  b: Buffer;
}

/**
 * Write a stored name into `dest` at `at` as the inside of a JSON string (escaped exactly as
 * JSON.stringify does); grows `dest` when needed. Returns the end offset.
 */
function putName(dest: Bytes, at: number, src: Uint8Array, pos: number, len: number, compressed: boolean): number {
  if (compressed) {
    // Fast path: printable ASCII without '"' or '\' is copied as is (checked while copying).
    ensure(dest, at + len);
    const b = dest.b;
    let i = 0;
    for (; i < len; i++) {
      const c = src[pos + i] ?? 0;
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
      b[at + i] = c;
    }
    if (i === len) return at + len;
  }
  const s = JSON.stringify(decodeName(src, pos, len, compressed)).slice(1, -1);
  const n = Buffer.byteLength(s, 'utf8');
  ensure(dest, at + n);
  return at + dest.b.write(s, at, 'utf8');
}

function ensure(dest: Bytes, size: number): void {
  if (size <= dest.b.length) return;
  const grown = Buffer.allocUnsafe(Math.max(size, dest.b.length * 2));
  dest.b.copy(grown);
  dest.b = grown;
}

/** Copy all of `src` to dst at `at` (a native copy); returns the end offset. */
function putBytes(dst: Uint8Array, at: number, src: Uint8Array): number {
  dst.set(src, at);
  return at + src.length;
}

/** `","type":N,"data":"` into dst at `at`; returns the end offset. */
function putTypeData(dst: Uint8Array, at: number, type: number): number {
  // Checked before indexing: an out-of-range read (types such as 0xffff0012 are common in SYSTEM)
  // would send the optimized caller back to the interpreter every time.
  if (type < TYPE_DATA.length) {
    const t = TYPE_DATA[type];
    if (t !== undefined) return putBytes(dst, at, t);
  }
  return putBytes(dst, putUint(dst, putBytes(dst, at, K_TYPE), type), K_DATA);
}

/** Big data, read from its segments; its place in the result goes into the VALUE_RAW slots. */
function bigData(hive: Hive, vk: number, v: Uint32Array): Buffer {
  const d = hive.valueDataView(vk);
  v[VALUE_RAW.dataPos] = 0;
  v[VALUE_RAW.dataLen] = d.length;
  return Buffer.from(d.buffer, d.byteOffset, d.length);
}

/**
 * Lowercase hex of src[from, from + n) into dst at `at`; returns the end offset. Native for long
 * data (fast before the JIT has compiled anything), a table loop for the many short values.
 */
function putHex(dst: Buffer, at: number, src: Buffer, from: number, n: number): number {
  if (n > NATIVE_HEX_MIN) return at + dst.write(src.toString('hex', from, from + n), at, 'latin1');
  for (let j = from, e = from + n; j < e; j++) {
    const x = src[j] ?? 0;
    dst[at++] = HEX_HI[x] ?? 0;
    dst[at++] = HEX_LO[x] ?? 0;
  }
  return at;
}

/** Decimal digits of `v` (a u32) into dst at `at`; returns the end offset. */
function putUint(dst: Uint8Array, at: number, v: number): number {
  let digits = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
  for (let i = digits - 1, t = v; i >= 0; i--, t = Math.floor(t / 10)) dst[at + i] = 0x30 + (t % 10);
  return at + digits;
}

/**
 * The output of writeJsonLines: bytes are appended at `p` and handed to the sink a chunk at a
 * time. A sink that returns true has consumed the bytes (written synchronously): the chunk is
 * reused; otherwise it may still hold it, so a new one is taken.
 */
class ChunkOut implements Bytes {
  b = Buffer.allocUnsafe(CHUNK);
  p = 0;
  constructor(private readonly sink: (chunk: Buffer) => boolean | void) {}

  flush(): void {
    if (this.p === 0) return;
    if (this.sink(this.b.subarray(0, this.p)) !== true || this.b.length !== CHUNK) this.b = Buffer.allocUnsafe(CHUNK);
    this.p = 0;
  }

  /** Make room for `n` more bytes: flush when they do not fit, grow when they exceed a chunk. */
  room(n: number): void {
    if (this.p + n > this.b.length) this.flush();
    ensure(this, this.p + n);
  }
}

/**
 * Write the JSON Lines dump as byte chunks (`wufix hive dump --json`): one object per key, depth
 * first, subkeys in stored order, values in value-list order, data as lowercase hex. The sink
 * returns true when it has consumed a chunk (so the buffer can be reused). Byte-level
 * because this is the hot loop on large hives; the text equals JSON.stringify({path, values}).
 */
export function writeJsonLines(hive: Hive, keyPath: string, sink: (chunk: Buffer) => boolean | void): void {
  const start = requireKey(hive, keyPath);
  const w = new JsonLinesWalk(hive, new ChunkOut(sink));
  w.run(start, Buffer.from(keyPath === '' ? '' : JSON.stringify(hive.pathOf(start)).slice(1, -1), 'utf8'));
}

/** One writeJsonLines run: the walk's state and the per-key and per-value writers. */
class JsonLinesWalk {
  /** The hive image (as a Buffer view, for native hex). */
  private readonly src: Buffer;
  private readonly dv: DataView;
  /** Escaped path bytes of the current ancestor chain; depth d's path ends at pathEnd[d]. */
  private readonly path: Bytes = { b: Buffer.allocUnsafe(1 << 16) };
  private readonly pathEnd = new Int32Array(MAX_DEPTH + 2);
  private readonly key = new Uint32Array(KEY_RAW.size);
  private readonly val = new Uint32Array(VALUE_RAW.size);
  private readonly subs: number[] = [];

  constructor(
    private readonly hive: Hive,
    private readonly out: ChunkOut,
  ) {
    const bytes = hive.bytes;
    this.src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(start: number, startPath: Buffer): void {
    const hive = this.hive;
    // Same guards as Hive.walk: keys marked when pushed (a shared list is refused at its first
    // repeat, so the stack stays within the number of distinct keys) and the cells a key owns
    // alone (value list, values, data, class name) claimed once per walk.
    const seen = hive.newCellMap();
    const owned = hive.newCellMap();
    hive.markKey(seen, start);
    const stack: number[] = [start, 0];
    const subs = this.subs;
    while (stack.length) {
      const depth = stack.pop() ?? 0;
      const nk = stack.pop() ?? 0;
      if (depth > MAX_DEPTH) throw new FormatError(`key tree deeper than ${MAX_DEPTH} levels`, HBIN_START + nk);
      hive.claimKeyCells(nk, owned);
      this.keyLine(nk, depth, startPath);
      hive.subkeysInto(nk, subs);
      for (let i = subs.length - 1; i >= 0; i--) {
        const c = subs[i] ?? 0;
        hive.markKey(seen, c);
        stack.push(c, depth + 1);
      }
    }
    this.out.flush();
  }

  /** {"path":"...","values":[...]}\n for one key; its path is built on its parent's. */
  private keyLine(nk: number, depth: number, startPath: Buffer): void {
    const out = this.out;
    const count = this.hive.keyRaw(nk, this.key);
    const end = depth === 0 ? this.rootPath(startPath) : this.childPath(depth);
    this.pathEnd[depth] = end;
    out.room(K_PATH.length + end + K_VALUES.length);
    const p = putBytes(out.b, out.p, K_PATH);
    const path = this.path.b;
    out.b.set(new Uint8Array(path.buffer, path.byteOffset, end), p); // a plain view: Buffer.subarray costs more
    out.p = putBytes(out.b, p + end, K_VALUES);
    const entries = this.key[KEY_RAW.valueEntries] ?? 0;
    for (let i = 0; i < count; i++) this.value(this.dv.getUint32(entries + i * VALUE_LIST_ENTRY, true), i === 0);
    out.room(K_END.length);
    out.p = putBytes(out.b, out.p, K_END);
  }

  private rootPath(startPath: Buffer): number {
    ensure(this.path, startPath.length);
    startPath.copy(this.path.b, 0);
    return startPath.length;
  }

  /** The parent's path (still in place in a preorder walk), "\\" and this key's name. */
  private childPath(depth: number): number {
    const path = this.path;
    let at = this.pathEnd[depth - 1] ?? 0;
    if (at > 0 || depth > 1) {
      ensure(path, at + 2);
      path.b[at++] = JSON_BACKSLASH; // an escaped backslash
      path.b[at++] = JSON_BACKSLASH;
    }
    const k = this.key;
    return putName(path, at, this.src, k[KEY_RAW.namePos] ?? 0, k[KEY_RAW.nameLen] ?? 0, k[KEY_RAW.compressed] === 1);
  }

  /** {"name":"...","type":N,"data":"hex"} for one value; room for all of it is made first. */
  private value(vk: number, first: boolean): void {
    const v = this.val;
    const hive = this.hive;
    // Data in place (no copy) unless it is big data spread over segments. The rare branch only
    // calls: a property read there would send the optimized method back to the interpreter.
    const d = hive.valueRaw(vk, v) ? this.src : bigData(hive, vk, v);
    const from = v[VALUE_RAW.dataPos] ?? 0;
    const n = v[VALUE_RAW.dataLen] ?? 0;
    const nameLen = v[VALUE_RAW.nameLen] ?? 0;
    const out = this.out;
    out.room(VALUE_OVERHEAD + nameLen * MAX_ESCAPED_PER_BYTE + MAX_UINT_DIGITS + n * 2);
    let p = putBytes(out.b, out.p, first ? K_NAME : K_NAME2);
    p = putName(out, p, this.src, v[VALUE_RAW.namePos] ?? 0, nameLen, v[VALUE_RAW.compressed] === 1);
    const b = out.b;
    p = putTypeData(b, p, v[VALUE_RAW.type] ?? 0);
    p = putHex(b, p, d, from, n);
    out.p = putBytes(b, p, K_VEND);
  }
}

/** The same dump as strings, one line each (with "\n"); for tests and small tools. */
export function dumpJsonLines(hive: Hive, keyPath: string, emit: (line: string) => void): void {
  let rest = '';
  writeJsonLines(hive, keyPath, (chunk) => {
    const text = rest + chunk.toString('utf8');
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const l of lines) emit(l + '\n');
    return true;
  });
  if (rest) emit(rest);
}
