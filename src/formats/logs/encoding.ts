// A log's text encoding: detected from its first bytes (UTF-16LE, UTF-8 or Windows-1252) and
// decoded chunk by chunk.

export type LogEncoding = 'utf-16le' | 'utf-8' | 'windows-1252';

export interface DetectedEncoding {
  encoding: LogEncoding;
  /** Bytes of byte-order mark at the start (0, 2 or 3). */
  bomLength: number;
  /** How it was decided. */
  reason: 'bom' | 'utf16-heuristic' | 'utf8-valid' | 'ascii' | 'not-utf8' | 'forced' | 'empty';
}

/** How many bytes the detector wants to see (fewer at end of stream). */
export const DETECT_BYTES = 4096;
const SAMPLE_BYTES = 64 * 1024;

/**
 * Decide the encoding of a log from its first bytes: BOM (FF FE = UTF-16LE, EF BB BF = UTF-8),
 * else UTF-16LE if NUL bytes sit at odd offsets (ASCII text as UTF-16LE), else UTF-8 if the sample
 * is valid UTF-8 (pure ASCII included), else Windows-1252 (ANSI).
 */
export function detectEncoding(head: Uint8Array): DetectedEncoding {
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2, reason: 'bom' };
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3, reason: 'bom' };
  if (head.length === 0) return { encoding: 'utf-8', bomLength: 0, reason: 'empty' };
  const sample = head.length > SAMPLE_BYTES ? head.subarray(0, SAMPLE_BYTES) : head;
  const pairs = sample.length >> 1;
  if (pairs > 0) {
    let oddZero = 0;
    let evenZero = 0;
    for (let i = 0; i + 1 < sample.length; i += 2) {
      if (sample[i] === 0) evenZero++;
      else if (sample[i + 1] === 0) oddZero++;
    }
    if (oddZero >= pairs * 0.3 && evenZero <= pairs * 0.1) return { encoding: 'utf-16le', bomLength: 0, reason: 'utf16-heuristic' };
  }
  let ascii = true;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { encoding: 'utf-8', bomLength: 0, reason: 'ascii' };
  try {
    // stream: true tolerates a sequence cut at the end of the sample.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    return { encoding: 'utf-8', bomLength: 0, reason: 'utf8-valid' };
  } catch {
    return { encoding: 'windows-1252', bomLength: 0, reason: 'not-utf8' };
  }
}

// Windows-1252 0x80-0x9F (the rest is ISO-8859-1); undefined positions map to the C1 control.
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c,
  0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
];
const C1_RE = /[\x80-\x9f]/g;

/** Decode Windows-1252 bytes (stateless, so chunk boundaries do not matter). */
export function decodeWindows1252(bytes: Uint8Array): string {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  C1_RE.lastIndex = 0;
  if (!C1_RE.test(s)) return s;
  C1_RE.lastIndex = 0;
  return s.replace(C1_RE, (c) => String.fromCharCode(CP1252_HIGH[c.charCodeAt(0) - 0x80]!));
}

export interface ChunkDecoder {
  decode(bytes: Uint8Array): string;
  end(): string;
}

export function makeDecoder(encoding: LogEncoding): ChunkDecoder {
  if (encoding === 'windows-1252') return { decode: decodeWindows1252, end: () => '' };
  // Non-fatal: garbage bytes become U+FFFD; stream: true carries split sequences/surrogates.
  const td = new TextDecoder(encoding, { ignoreBOM: true });
  return {
    decode: (b) => td.decode(b, { stream: true }),
    end: () => td.decode(),
  };
}
