// Reading a log's bytes as text: the encoding detected (UTF-16LE, UTF-8 or Windows-1252) and
// lines split across chunks, with memory bounded by the chunk size and `maxLineLength`.

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
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
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

interface ChunkDecoder {
  decode(bytes: Uint8Array): string;
  end(): string;
}

function makeDecoder(encoding: LogEncoding): ChunkDecoder {
  if (encoding === 'windows-1252') return { decode: decodeWindows1252, end: () => '' };
  // Non-fatal: garbage bytes become U+FFFD; stream: true carries split sequences/surrogates.
  const td = new TextDecoder(encoding, { ignoreBOM: true });
  return {
    decode: (b) => td.decode(b, { stream: true }),
    end: () => td.decode(),
  };
}

export type ByteChunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface LineReaderOptions {
  /** Force an encoding instead of detecting it. */
  encoding?: LogEncoding;
  /** Longer lines are cut to this many characters (the rest up to the newline is dropped). Default 1 MiB. */
  maxLineLength?: number;
  /** Called once with the encoding decision, before the first line. */
  onEncoding?: (e: DetectedEncoding) => void;
}

/** Lines decoded from one or more chunks; `first` is the 1-based number of `lines[0]`. */
export interface LineBatch {
  first: number;
  lines: string[];
}

export interface LogLine {
  line: number;
  text: string;
}

export const DEFAULT_MAX_LINE_LENGTH = 1 << 20;

/** Splits decoded text on LF (CRLF and LF line ends), carrying partial lines between pieces. */
class LineSplitter {
  private carry = '';
  private carryFull = false;
  constructor(private readonly maxLen: number) {}

  push(text: string, out: string[]): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      let line: string;
      if (this.carry.length > 0 || this.carryFull) {
        line = this.carryFull ? this.carry : this.carry + text.slice(start, Math.min(nl, start + this.maxLen));
        this.carry = '';
        this.carryFull = false;
      } else {
        line = text.slice(start, nl);
      }
      out.push(this.finish(line));
      start = nl + 1;
    }
    if (start < text.length && !this.carryFull) {
      const rest = start === 0 ? text : text.slice(start);
      if (this.carry.length + rest.length > this.maxLen) {
        // Line longer than the limit: keep its start, drop the rest up to the newline.
        this.carry += rest.slice(0, this.maxLen - this.carry.length);
        this.carryFull = true;
      } else {
        this.carry += rest;
      }
    }
  }

  /** End of input: the last line if the file has no trailing newline. */
  flush(out: string[]): void {
    if (this.carry.length > 0) out.push(this.finish(this.carry));
    this.carry = '';
    this.carryFull = false;
  }

  private finish(line: string): string {
    if (line.length > this.maxLen) line = line.slice(0, this.maxLen);
    return line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line;
  }
}

function concatBytes(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Decode a stream of byte chunks into batches of lines (one batch per input chunk that completes
 * at least one line). Encoding is detected from the first DETECT_BYTES bytes unless forced.
 * Line ends: LF or CRLF (a CR or a UTF-16 code unit split across chunks is handled).
 */
export async function* readLineBatches(chunks: ByteChunks, opts: LineReaderOptions = {}): AsyncGenerator<LineBatch> {
  const maxLen = Math.max(1, opts.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
  const splitter = new LineSplitter(maxLen);
  let decoder: ChunkDecoder | undefined;
  let pending: Uint8Array[] = [];
  let pendingLen = 0;
  let next = 1;

  const start = (head: Uint8Array): string => {
    let det: DetectedEncoding;
    if (opts.encoding) {
      const bom =
        opts.encoding === 'utf-16le' && head[0] === 0xff && head[1] === 0xfe
          ? 2
          : opts.encoding === 'utf-8' && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf
            ? 3
            : 0;
      det = { encoding: opts.encoding, bomLength: bom, reason: 'forced' };
    } else {
      det = detectEncoding(head);
    }
    opts.onEncoding?.(det);
    decoder = makeDecoder(det.encoding);
    return decoder.decode(det.bomLength ? head.subarray(det.bomLength) : head);
  };

  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    let text: string;
    if (!decoder) {
      pending.push(chunk);
      pendingLen += chunk.length;
      if (pendingLen < DETECT_BYTES) continue;
      text = start(concatBytes(pending, pendingLen));
      pending = [];
    } else {
      text = decoder.decode(chunk);
    }
    const out: string[] = [];
    splitter.push(text, out);
    if (out.length > 0) {
      yield { first: next, lines: out };
      next += out.length;
    }
  }
  const out: string[] = [];
  if (!decoder) splitter.push(start(concatBytes(pending, pendingLen)), out);
  splitter.push(decoder!.end(), out);
  splitter.flush(out);
  if (out.length > 0) yield { first: next, lines: out };
}

/** One line at a time (convenience over readLineBatches). */
export async function* readLines(chunks: ByteChunks, opts: LineReaderOptions = {}): AsyncGenerator<LogLine> {
  for await (const b of readLineBatches(chunks, opts)) {
    for (let i = 0; i < b.lines.length; i++) yield { line: b.first + i, text: b.lines[i]! };
  }
}

export type ParseOptions = LineReaderOptions;
