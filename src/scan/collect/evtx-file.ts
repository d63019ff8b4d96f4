// EVTX file adapter: reads the file header, then one 64 KiB chunk at a time (never the whole file),
// and hands each chunk to the pure parser in evtx.ts. Memory stays at one chunk plus its events.
import { FormatError, WufixError } from '../../shared/errors.js';
import { openReadHandle } from '../../shared/safefs.js';

/** EVTX files are read chunk by chunk; a larger one than this is not read at all (time bound). */
export const MAX_EVTX_FILE_BYTES = 4 * 2 ** 30;
import {
  EVTX_CHUNK_SIZE,
  EVTX_FILE_HEADER_SIZE,
  FILE_FLAG_NO_CRC32,
  parseEvtxChunk,
  parseEvtxFileHeader,
  type EvtxEvent,
  type EvtxProblem,
} from '../../formats/evtx.js';

/** Problems kept per file; beyond this a single "more problems" line (bounded memory on garbage). */
const MAX_PROBLEMS = 1000;

/**
 * Streams the events of an EVTX file in file order (chunk by chunk, record by record).
 * Throws FormatError only when the file is not EVTX at all; damage is reported in the return value.
 * `chunks` is the number of 64 KiB chunk slots read after the file header.
 */
export async function* readEvtx(path: string, opts: { xml?: boolean } = {}): AsyncGenerator<EvtxEvent, { problems: EvtxProblem[]; chunks: number }> {
  const problems: EvtxProblem[] = [];
  let dropped = 0;
  const report = (list: EvtxProblem[]) => {
    for (const p of list) {
      if (problems.length < MAX_PROBLEMS) problems.push(p);
      else dropped++;
    }
  };
  const { fh } = await openReadHandle(path, MAX_EVTX_FILE_BYTES, 'the event log'); // no link, device or FIFO
  let chunks = 0;
  try {
    const header = new Uint8Array(EVTX_FILE_HEADER_SIZE);
    const { bytesRead: hn } = await fh.read(header, 0, header.length, 0);
    const hdr = parseEvtxFileHeader(header.subarray(0, hn)); // FormatError when not EVTX
    const noCrc = (hdr.flags & FILE_FLAG_NO_CRC32) !== 0;
    if (hn < EVTX_FILE_HEADER_SIZE) {
      report([{ chunk: -1, offset: hn, message: `file truncated inside the file header (${hn} bytes)` }]);
      return { problems, chunks };
    }
    if (!noCrc && !hdr.checksumOk) {
      report([{ chunk: -1, offset: 124, message: `file header CRC32 mismatch (stored 0x${hdr.checksum.toString(16)})` }]);
    }
    if (hdr.headerBlockSize !== EVTX_FILE_HEADER_SIZE) {
      report([{ chunk: -1, offset: 40, message: `file header block size ${hdr.headerBlockSize}, expected 4096; chunks read from 4096` }]);
    }
    const size = (await fh.stat()).size;
    const buf = new Uint8Array(EVTX_CHUNK_SIZE);
    for (let off = EVTX_FILE_HEADER_SIZE; off < size; off += EVTX_CHUNK_SIZE) {
      const { bytesRead } = await fh.read(buf, 0, EVTX_CHUNK_SIZE, off);
      if (bytesRead === 0) break;
      const { events, problems: cp } = parseEvtxChunk(buf.subarray(0, bytesRead), chunks, { xml: opts.xml, checkCrc: !noCrc });
      chunks++;
      report(cp);
      for (const ev of events) yield ev;
    }
  } catch (e) {
    if (e instanceof FormatError || e instanceof WufixError) throw e;
    throw new FormatError(`cannot read EVTX file: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await fh.close();
  }
  if (dropped > 0) problems.push({ chunk: -1, offset: 0, message: `${dropped} more problems not listed` });
  return { problems, chunks };
}

export interface WuEvent {
  recordId: bigint;
  time: Date;
  /** 19 installed, 20 install failure, 43 install started, 44 download started */
  eventId: number;
  /** updateTitle */
  title?: string;
  /** KB\d+ parsed from the title */
  kb?: string;
  /** 0x-prefixed lowercase hex, from errorCode */
  errorCode?: string;
  updateGuid?: string;
  raw: Record<string, string>;
}

export const WU_PROVIDER = 'Microsoft-Windows-WindowsUpdateClient';
const WU_EVENT_IDS = new Set([19, 20, 43, 44]);

/** Normalizes an HRESULT as stored (hex "0x8024..." or decimal) to 0x-prefixed lowercase hex. */
export function normalizeErrorCode(s: string): string | undefined {
  const t = s.trim();
  let n: bigint;
  if (/^0x[0-9a-f]+$/i.test(t)) n = BigInt(t);
  else if (/^-?\d+$/.test(t)) n = BigInt(t);
  else return undefined;
  if (n < 0n) n = n & 0xffffffffn;
  return '0x' + n.toString(16);
}

/** Windows Update client events 19/20/43/44 of System.evtx, in file order. */
export async function readWindowsUpdateEvents(path: string): Promise<{ events: WuEvent[]; problems: EvtxProblem[] }> {
  const events: WuEvent[] = [];
  const it = readEvtx(path);
  let r = await it.next();
  while (!r.done) {
    const ev = r.value;
    if (ev.provider === WU_PROVIDER && WU_EVENT_IDS.has(ev.eventId)) {
      const w: WuEvent = { recordId: ev.recordId, time: ev.timeCreated, eventId: ev.eventId, raw: ev.data };
      const title = ev.data['updateTitle'];
      if (title !== undefined && title !== '') {
        w.title = title;
        const kb = /\bKB(\d+)/i.exec(title);
        if (kb) w.kb = `KB${kb[1]}`;
      }
      const ec = ev.data['errorCode'];
      if (ec !== undefined) {
        const code = normalizeErrorCode(ec);
        if (code) w.errorCode = code;
      }
      const guid = ev.data['updateGuid'];
      if (guid !== undefined && guid !== '') w.updateGuid = guid;
      events.push(w);
    }
    r = await it.next();
  }
  return { events, problems: r.value.problems };
}
