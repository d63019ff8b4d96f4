// Walks a hive depth first and yields each key with its values: the source of `hive dump` (JSON
// Lines) and `hive export` (.reg). Subkeys in stored (Windows) order, values in value-list order.
import { BadInputError } from '../shared/errors.js';
import { decodeName } from './names.js';
import { MAX_DEPTH, type Hive } from './hive.js';
import { FormatError } from '../shared/errors.js';

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
const HEX = enc('0123456789abcdef');
const K_PATH = enc('{"path":"');
const K_VALUES = enc('","values":[');
const K_NAME = enc('{"name":"');
const K_NAME2 = enc(',{"name":"');
const K_TYPE = enc('","type":');
const K_DATA = enc(',"data":"');
const K_VEND = enc('"}');
const K_END = enc(']}\n');

/**
 * Write a stored name into `dest` at `at` as the inside of a JSON string (escaped exactly as
 * JSON.stringify does); grows `dest` through `grow` when needed. Returns the end offset.
 */
function putName(dest: { b: Buffer }, at: number, src: Uint8Array, pos: number, len: number, compressed: boolean): number {
  if (compressed) {
    // Fast path: printable ASCII without '"' or '\' is copied as is.
    let plain = true;
    for (let i = 0; i < len; i++) {
      const c = src[pos + i]!;
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        plain = false;
        break;
      }
    }
    if (plain) {
      ensure(dest, at + len);
      const b = dest.b;
      for (let i = 0; i < len; i++) b[at + i] = src[pos + i]!;
      return at + len;
    }
  }
  const s = JSON.stringify(decodeName(src, pos, len, compressed)).slice(1, -1);
  const n = Buffer.byteLength(s, 'utf8');
  ensure(dest, at + n);
  return at + dest.b.write(s, at, 'utf8');
}

function ensure(dest: { b: Buffer }, size: number): void {
  if (size <= dest.b.length) return;
  const grown = Buffer.allocUnsafe(Math.max(size, dest.b.length * 2));
  dest.b.copy(grown);
  dest.b = grown;
}

/**
 * Write the JSON Lines dump as byte chunks (`wufix hive dump --json`): one object per key, depth
 * first, subkeys in stored order, values in value-list order, data as lowercase hex. The sink
 * returns true when it has consumed a chunk (so the buffer can be reused). Byte-level
 * because this is the hot loop on large hives; the text equals JSON.stringify({path, values}).
 */
export function writeJsonLines(hive: Hive, keyPath: string, sink: (chunk: Buffer) => boolean | void): void {
  const CHUNK = 1 << 22;
  const start = requireKey(hive, keyPath);
  const src = hive.bytes;
  const out = { b: Buffer.allocUnsafe(CHUNK) };
  let p = 0;
  const flush = () => {
    if (p === 0) return;
    // A sink that returns true has consumed the bytes (written synchronously): the chunk is reused.
    // Otherwise it may still hold it, so a new one is taken.
    if (sink(out.b.subarray(0, p)) !== true || out.b.length !== CHUNK) out.b = Buffer.allocUnsafe(CHUNK);
    p = 0;
  };
  const put = (bytes: Uint8Array) => {
    if (p + bytes.length > out.b.length) flush();
    const b = out.b;
    for (let i = 0; i < bytes.length; i++) b[p + i] = bytes[i]!;
    p += bytes.length;
  };
  const raw = new Int32Array(3);
  const putUint = (v: number) => {
    if (p + 10 > out.b.length) flush();
    if (v < 10) {
      out.b[p++] = 0x30 + v;
      return;
    }
    p += out.b.write(String(v), p, 'latin1');
  };
  const startPath = Buffer.from(keyPath === '' ? '' : JSON.stringify(hive.pathOf(start)).slice(1, -1), 'utf8');
  // Escaped path bytes of the current ancestor chain; depth d's path ends at pathEnd[d]. In a
  // preorder walk the parent's path is still in place when a child is visited.
  const path = { b: Buffer.allocUnsafe(1 << 16) };
  const pathEnd = new Int32Array(MAX_DEPTH + 2);
  // Same guards as Hive.walk: keys marked when pushed (a shared list is refused at its first
  // repeat, so the stack stays within the number of distinct keys) and the cells a key owns alone
  // (value list, values, data, class name) claimed once per walk.
  const seen = hive.newCellMap();
  const owned = hive.newCellMap();
  hive.markKey(seen, start);
  const stack: number[] = [start, 0];
  while (stack.length) {
    const depth = stack.pop()!;
    const nk = stack.pop()!;
    if (depth > MAX_DEPTH) throw new FormatError(`key tree deeper than ${MAX_DEPTH} levels`, 0x1000 + nk);
    hive.claimKeyCells(nk, owned);
    let end: number;
    if (depth === 0) {
      ensure(path, startPath.length);
      startPath.copy(path.b, 0);
      end = startPath.length;
    } else {
      let at = pathEnd[depth - 1]!;
      if (at > 0 || depth > 1) {
        ensure(path, at + 2);
        path.b[at++] = 0x5c; // JSON-escaped backslash
        path.b[at++] = 0x5c;
      }
      hive.keyNameRaw(nk, raw);
      end = putName(path, at, src, raw[0]!, raw[1]!, raw[2] === 1);
    }
    pathEnd[depth] = end;
    put(K_PATH);
    if (p + end > out.b.length) flush();
    ensure(out, p + end);
    path.b.copy(out.b, p, 0, end);
    p += end;
    put(K_VALUES);
    const vks = hive.values(nk);
    for (let i = 0; i < vks.length; i++) {
      const vk = vks[i]!;
      put(i ? K_NAME2 : K_NAME);
      hive.valueNameRaw(vk, raw);
      if (p + raw[1]! * 6 > out.b.length) flush();
      p = putName(out, p, src, raw[0]!, raw[1]!, raw[2] === 1);
      put(K_TYPE);
      putUint(hive.valueType(vk));
      put(K_DATA);
      // Data in place (no copy) unless it is big data spread over segments.
      let d: Uint8Array = src;
      let from = 0;
      let n = 0;
      if (hive.valueDataRaw(vk, raw)) {
        from = raw[0]!;
        n = raw[1]!;
      } else {
        d = hive.valueDataView(vk);
        n = d.length;
      }
      if (p + n * 2 > out.b.length) flush();
      ensure(out, p + n * 2);
      if (n > 8) {
        // Native hex for long data; a table loop for the many short values.
        p += out.b.write(Buffer.from(d.buffer, d.byteOffset + from, n).toString('hex'), p, 'latin1');
      } else {
        const b = out.b;
        for (let j = from, e = from + n; j < e; j++) {
          const x = d[j]!;
          b[p++] = HEX[x >>> 4]!;
          b[p++] = HEX[x & 15]!;
        }
      }
      put(K_VEND);
    }
    put(K_END);
    const subs = hive.subkeys(nk);
    for (let i = subs.length - 1; i >= 0; i--) {
      hive.markKey(seen, subs[i]!);
      stack.push(subs[i]!, depth + 1);
    }
  }
  flush();
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
