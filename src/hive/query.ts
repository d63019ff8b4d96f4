// Typed value queries on a hive, the way Windows code reads values: a string value is cut at its
// first NUL, a DWORD must be 4 bytes, a value of the wrong type or size reads as absent (never throws).
import type { Hive } from './hive.js';
import { REG } from './regtext.js';

/** UTF-16LE bytes to a JS string (an odd trailing byte is ignored). */
export function utf16le(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < data.length; i += 2) s += String.fromCharCode(data[i]! | (data[i + 1]! << 8));
  return s;
}

/** All strings of REG_MULTI_SZ data, empty strings in the middle kept, the terminator(s) dropped. */
export function multiSzStrings(data: Uint8Array): string[] {
  const parts = utf16le(data).split('\u0000');
  while (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The key at `path` (relative to the hive root; '' = root), or undefined. */
export function keyAt(h: Hive, path: string): number | undefined {
  return path === '' ? h.rootCell : h.lookup(path);
}

function valueOf(h: Hive, nkOrPath: number | string, name: string): { type: number; data: Uint8Array } | undefined {
  const nk = typeof nkOrPath === 'number' ? nkOrPath : keyAt(h, nkOrPath);
  if (nk === undefined) return undefined;
  const vk = h.findValue(nk, name);
  if (vk === undefined) return undefined;
  return { type: h.valueType(vk), data: h.valueData(vk) };
}

/** REG_SZ / REG_EXPAND_SZ (also REG_MULTI_SZ: its first string) as text, cut at the first NUL. */
export function regString(h: Hive, nkOrPath: number | string, name: string): string | undefined {
  const v = valueOf(h, nkOrPath, name);
  if (!v) return undefined;
  if (v.type !== REG.SZ && v.type !== REG.EXPAND_SZ && v.type !== REG.MULTI_SZ) return undefined;
  return utf16le(v.data).split('\u0000')[0];
}

/** REG_DWORD (or 4-byte REG_BINARY / REG_NONE, as several Windows readers accept) as an unsigned number. */
export function regDword(h: Hive, nkOrPath: number | string, name: string): number | undefined {
  const v = valueOf(h, nkOrPath, name);
  if (!v || v.data.length !== 4) return undefined;
  if (v.type !== REG.DWORD && v.type !== REG.BINARY && v.type !== REG.NONE) return undefined;
  return new DataView(v.data.buffer, v.data.byteOffset, 4).getUint32(0, true);
}

/** REG_MULTI_SZ as its list of strings (empty strings in the middle kept). */
export function regMultiSz(h: Hive, nkOrPath: number | string, name: string): string[] | undefined {
  const v = valueOf(h, nkOrPath, name);
  if (!v || v.type !== REG.MULTI_SZ) return undefined;
  return multiSzStrings(v.data);
}

/** Raw data and type of a value, or undefined. */
export function regRaw(h: Hive, nkOrPath: number | string, name: string): { type: number; data: Uint8Array } | undefined {
  return valueOf(h, nkOrPath, name);
}
