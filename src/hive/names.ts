// Registry name handling: Windows collation (RtlUpcaseUnicodeChar), lh hashes, lf hints and the
// two on-disk name encodings (COMP_NAME = Latin-1 bytes, otherwise UTF-16LE).
import { UPCASE_RUNS } from './upcase-table.js';

/** UP[c] = Windows' uppercase of UTF-16 code unit c. */
export const UP: Uint16Array = (() => {
  const t = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = i;
  for (let r = 0; r < UPCASE_RUNS.length; r += 4) {
    const [first, count, delta, stride] = UPCASE_RUNS.slice(r, r + 4) as [number, number, number, number];
    for (let j = 0; j < count; j++) {
      const c = first + j * stride;
      t[c] = (c + delta) & 0xffff;
    }
  }
  return t;
})();

/** Uppercase a JS string code unit by code unit (no surrogate handling, as Windows does). */
export function upcase(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(UP[s.charCodeAt(i)]!);
  return out;
}

/** Windows key order: compare uppercased code units; a shorter prefix sorts first. */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = UP[a.charCodeAt(i)]! - UP[b.charCodeAt(i)]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function namesEqual(a: string, b: string): boolean {
  return a.length === b.length && compareNames(a, b) === 0;
}

/** lh hash: h = h*37 + up(c) mod 2^32 over the code units. */
export function lhHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 37) + UP[name.charCodeAt(i)]!) >>> 0;
  return h;
}

/**
 * lf hint as Windows writes it (ReactOS CmpAddToLeaf): the first four code units as bytes, case
 * preserved, NUL padded, filled from the fourth down and stopping at the first code unit >= 256
 * (so byte 0 is then 0 and readers fall back to a full name compare).
 */
export function lfHint(name: string): number {
  const b = [0, 0, 0, 0];
  for (let j = Math.min(4, name.length); j > 0; j--) {
    const c = name.charCodeAt(j - 1);
    if (c > 255) break;
    b[j - 1] = c;
  }
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** True when the name can be stored compressed (every code unit < 256). */
export function canCompress(name: string): boolean {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) >= 256) return false;
  return true;
}

/** Decode a stored name: Latin-1 when compressed, else UTF-16LE. */
export function decodeName(buf: Uint8Array, off: number, len: number, compressed: boolean): string {
  if (compressed) return latin1(buf, off, len);
  return utf16le(buf, off, len);
}

export function latin1(buf: Uint8Array, off: number, len: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + off, len).toString('latin1');
}

export function utf16le(buf: Uint8Array, off: number, len: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + off, len & ~1).toString('utf16le');
}

/** Encode a name for storage: returns the bytes and whether they are compressed. */
export function encodeName(name: string): { bytes: Uint8Array; compressed: boolean } {
  if (canCompress(name)) {
    const b = new Uint8Array(name.length);
    for (let i = 0; i < name.length; i++) b[i] = name.charCodeAt(i);
    return { bytes: b, compressed: true };
  }
  const b = new Uint8Array(name.length * 2);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    b[2 * i] = c & 0xff;
    b[2 * i + 1] = c >> 8;
  }
  return { bytes: b, compressed: false };
}
