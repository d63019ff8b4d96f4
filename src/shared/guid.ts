// GUIDs as GPT stores them: the first three fields little-endian, the last 8 bytes as-is.
import { randomBytes } from 'node:crypto';
import { FormatError } from './errors.js';

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isGuid(s: string): boolean {
  return GUID_RE.test(s.toLowerCase());
}

/** Lowercase text form of 16 on-disk bytes at `off`. */
/** A GUID as typed or stored (" {ABC...} "): lowercase, without braces; undefined when it is not one. */
export function parseGuidText(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const g = s
    .trim()
    .replace(/^\{(.*)\}$/, '$1')
    .toLowerCase();
  return isGuid(g) ? g : undefined;
}

export function guidFromBytes(buf: Uint8Array, off = 0): string {
  const h = (i: number) => buf[off + i]!.toString(16).padStart(2, '0');
  const order = [3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1, 10, 11, 12, 13, 14, 15];
  return order.map((i) => (i < 0 ? '-' : h(i))).join('');
}

/** On-disk bytes of a GUID in text form. */
export function guidToBytes(guid: string): Uint8Array {
  const g = guid.toLowerCase();
  if (!GUID_RE.test(g)) throw new FormatError(`not a GUID: "${guid}"`);
  const hex = g.replace(/-/g, '');
  const b = (i: number) => parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const out = new Uint8Array(16);
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  for (let i = 0; i < 16; i++) out[i] = b(order[i]!);
  return out;
}

export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** A random version-4 GUID (RFC 4122), as Windows creates partition GUIDs. */
export function randomGuid(): string {
  const r = randomBytes(16);
  r[6] = (r[6]! & 0x0f) | 0x40;
  r[8] = (r[8]! & 0x3f) | 0x80;
  const hex = r.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
