// Lines from a log's byte chunks: decoded, split on LF across chunk boundaries, with memory
// bounded by the chunk size and `maxLineLength`.
import { detectEncoding, makeDecoder, DETECT_BYTES, type ChunkDecoder, type LogEncoding, type DetectedEncoding } from './encoding.js';

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
