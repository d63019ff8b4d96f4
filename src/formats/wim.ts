// The WIM header (208 bytes) and its XML data (one <IMAGE> per image: name, counts, Windows version),
// as wimlib's `wiminfo` prints them: enough to say which Winre.wim a recovery partition holds without
// reading its metadata or file data. Pure: bytes in, values out; bounded by what it is given.
import { FormatError } from '../shared/errors.js';
import type { WimSummary, WimImageSummary } from '../model/scan.js';

export const WIM_HEADER_BYTES = 208;
/** The XML data wufix reads (a WIM's is a few KB per image). */
export const MAX_WIM_XML_BYTES = 1 << 20;

const MAGIC = 'MSWIM\0\0\0';
const FLAG_COMPRESSION = 0x2;
const COMPRESSION: readonly [number, WimSummary['compression']][] = [
  [0x20000, 'XPRESS'],
  [0x40000, 'LZX'],
  [0x80000, 'LZMS'],
  [0x200000, 'XPRESS'],
];

/** Where the XML data lies in the file (a resource header: 7-byte stored size, flags, offset, size). */
export interface WimHeader extends Omit<WimSummary, 'images' | 'totalBytes'> {
  xml: { offset: number; size: number; compressed: boolean };
}

function u64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`WIM header: value at byte ${at} is too large`);
  return Number(v);
}

export function parseWimHeader(b: Uint8Array): WimHeader {
  if (b.length < WIM_HEADER_BYTES) throw new FormatError(`WIM header: ${b.length} bytes, need ${WIM_HEADER_BYTES}`);
  if (String.fromCharCode(...b.subarray(0, 8)) !== MAGIC) throw new FormatError('not a WIM file (no MSWIM magic)');
  const dv = new DataView(b.buffer, b.byteOffset, WIM_HEADER_BYTES);
  const headerSize = dv.getUint32(8, true);
  if (headerSize < WIM_HEADER_BYTES) throw new FormatError(`WIM header size ${headerSize} is below ${WIM_HEADER_BYTES}`);
  const flags = dv.getUint32(16, true);
  let compression: WimSummary['compression'] = 'None';
  if (flags & FLAG_COMPRESSION) compression = COMPRESSION.find(([bit]) => flags & bit)?.[1] ?? 'unknown';
  const guid = '0x' + Buffer.from(b.subarray(24, 40)).toString('hex');
  // XML resource header at 72: size in the file (7 bytes), flags (1), offset (8), original size (8).
  const xmlStored = dv.getUint32(72, true) + dv.getUint16(76, true) * 2 ** 32 + b[78]! * 2 ** 48;
  return {
    guid,
    version: dv.getUint32(12, true),
    flags,
    compression,
    chunkSize: dv.getUint32(20, true),
    partNumber: dv.getUint16(40, true),
    totalParts: dv.getUint16(42, true),
    imageCount: dv.getUint32(44, true),
    bootIndex: dv.getUint32(120, true),
    xml: { offset: u64(dv, 80), size: xmlStored, compressed: (b[79]! & 0x04) !== 0 },
  };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** The text of the first <TAG>...</TAG> in `xml` (tags upper case as WIMs write them). */
function element(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? m[1] : undefined;
}
const text = (xml: string, tag: string) => {
  const v = element(xml, tag);
  return v === undefined ? undefined : decodeEntities(v.trim());
};
const num = (xml: string, tag: string) => {
  const v = text(xml, tag);
  if (v === undefined || v === '') return undefined;
  const n = /^0x/i.test(v) ? parseInt(v, 16) : Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
};

/** The XML data: UTF-16 LE (with or without BOM), <WIM><IMAGE INDEX="n">... */
export function parseWimXml(b: Uint8Array): { totalBytes?: number; images: WimImageSummary[] } {
  let s = new TextDecoder('utf-16le').decode(b);
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  if (!/<WIM[\s>]/.test(s)) throw new FormatError('WIM XML data has no <WIM> element');
  const images: WimImageSummary[] = [];
  const re = /<IMAGE\s+INDEX="(\d+)"[^>]*>([\s\S]*?)<\/IMAGE>/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const x = m[2]!;
    const img: WimImageSummary = { index: Number(m[1]) };
    const set = <K extends keyof WimImageSummary>(k: K, v: WimImageSummary[K] | undefined) => {
      if (v !== undefined) img[k] = v;
    };
    set('name', text(x, 'NAME'));
    set('description', text(x, 'DESCRIPTION'));
    set('dirCount', num(x, 'DIRCOUNT'));
    set('fileCount', num(x, 'FILECOUNT'));
    set('totalBytes', num(x, 'TOTALBYTES'));
    const win = element(x, 'WINDOWS');
    if (win !== undefined) {
      set('arch', num(win, 'ARCH'));
      set('productName', text(win, 'PRODUCTNAME'));
      set('editionId', text(win, 'EDITIONID'));
      const v = element(win, 'VERSION');
      if (v !== undefined) {
        const [major, minor, build, spBuild] = ['MAJOR', 'MINOR', 'BUILD', 'SPBUILD'].map((t) => num(v, t));
        if (major !== undefined && minor !== undefined && build !== undefined) img.version = `${major}.${minor}.${build}.${spBuild ?? 0}`;
      }
    }
    images.push(img);
  }
  const total = num(s.replace(/<IMAGE[\s\S]*?<\/IMAGE>/g, ''), 'TOTALBYTES');
  return total === undefined ? { images } : { totalBytes: total, images };
}
