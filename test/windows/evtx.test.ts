// EVTX reader: every record of real System.evtx checked against the independent reader python-evtx
// (Debian python3-evtx, via test/helpers/evtx_dump.py), Windows Update client events, damaged files
// (bad chunk signature, bad CRCs, truncation) and seeded random byte flips; System/EventRecordID against
// python-evtx on the 7 real files; collectEventLogs (System, Setup, WindowsUpdateClient/Operational) on
// the real logs in place and on hostile ones (a link, a file that is not EVTX, a truncated file).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FormatError } from '../../src/shared/errors.js';
import { parseEvtxChunk, type EvtxEvent, type EvtxProblem } from '../../src/formats/evtx.js';
import { crc32, crc32Continue } from '../../src/shared/crc32.js';
import { readEvtx, readWindowsUpdateEvents, WU_PROVIDER } from '../../src/scan/collect/evtx-file.js';
import { collectEventLogs } from '../../src/scan/collect/evtx-source.js';
import { arraySink } from '../../src/scan/collect/sink.js';
import { evtxUpdateEvent } from '../../src/formats/evtx-events.js';
import { fixture, FIXTURES, PROJECT_ROOT, sharedReason, skipReason, toolsReason } from '../helpers/env.js';

// ------------------------------------------------------------------------------------------------
// helpers

interface PyRecord {
  kind: 'record';
  chunk: number;
  recordId: string;
  offset: number;
  verified: boolean;
  provider: string;
  eventId: number;
  time: string;
  level?: number;
  computer?: string;
  data: Record<string, string>;
  error?: string;
}
interface PyChunk {
  kind: 'chunk';
  index: number;
  magic: boolean;
  headerCrcOk?: boolean;
  dataCrcOk?: boolean;
}
interface PyDump {
  records: PyRecord[];
  chunks: PyChunk[];
}

const pyCache = new Map<string, PyDump>();
function pyDump(file: string): PyDump {
  const hit = pyCache.get(file);
  if (hit) return hit;
  const out = execFileSync('/usr/bin/python3', [path.join(PROJECT_ROOT, 'test/helpers/evtx_dump.py'), file], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const rows = out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { kind: string });
  const dump = {
    records: rows.filter((r): r is PyRecord => r.kind === 'record'),
    chunks: rows.filter((r): r is PyChunk => r.kind === 'chunk'),
  };
  pyCache.set(file, dump);
  return dump;
}

async function readAll(file: string, opts: { xml?: boolean } = {}) {
  const events: EvtxEvent[] = [];
  const it = readEvtx(file, opts);
  let r = await it.next();
  while (!r.done) {
    events.push(r.value);
    r = await it.next();
  }
  return { events, ...r.value };
}

/** python-evtx prints FILETIMEs as "YYYY-MM-DD HH:MM:SS[.ffffff]" (via a float); microseconds since 1970. */
function pyTimeMicros(s: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{6}))?$/.exec(s);
  if (!m) return undefined;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) * 1000 + Number(m[7] ?? 0);
}
/** Ours: ISO 8601 with 100 ns digits, "YYYY-MM-DDTHH:MM:SS.fffffffZ"; microseconds since 1970. */
function isoMicros(s: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{7})Z$/.exec(s);
  if (!m) return undefined;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) * 1000 + Math.floor(Number(m[7]) / 10);
}

const GUID_RE = /^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/i;
// python-evtx drops these characters when it writes XML, and XML parsing turns CR LF into LF.

const RESTRICTED = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]/g;

const stats = { timeTolerance: 0, guidCase: 0, exact: 0 };

/** Same value, allowing only for the documented rendering differences of python-evtx. */
function sameValue(ours: string, py: string): boolean {
  const o = ours.replace(/\r\n?/g, '\n').replace(RESTRICTED, '');
  if (o === py) {
    stats.exact++;
    return true;
  }
  const pt = pyTimeMicros(py);
  const ot = isoMicros(o);
  if (pt !== undefined && ot !== undefined) {
    stats.timeTolerance++;
    // python-evtx converts via float(FILETIME): a 2017 FILETIME (~1.3e17) has a 16-tick (1.6 us) ulp,
    // and the later float arithmetic adds a little more, so allow 5 us.
    return Math.abs(pt - ot) <= 5;
  }
  if (GUID_RE.test(o) && GUID_RE.test(py)) {
    stats.guidCase++;
    return o.toLowerCase() === py.toLowerCase(); // we print GUIDs in upper case like Windows
  }
  return false;
}

/** Compares one of our events with python-evtx's record; returns the differences. */
function diffEvent(ours: EvtxEvent, py: PyRecord): string[] {
  const d: string[] = [];
  const where = `record ${py.recordId}`;
  if (py.error) return [`${where}: python-evtx error ${py.error}`];
  if (ours.recordId.toString() !== py.recordId) d.push(`${where}: recordId ${ours.recordId}`);
  if (ours.provider !== py.provider) d.push(`${where}: provider ${ours.provider} != ${py.provider}`);
  if (ours.eventId !== py.eventId) d.push(`${where}: eventId ${ours.eventId} != ${py.eventId}`);
  if (ours.level !== py.level) d.push(`${where}: level ${ours.level} != ${py.level}`);
  if (ours.computer !== py.computer) d.push(`${where}: computer ${ours.computer} != ${py.computer}`);
  const pt = pyTimeMicros(py.time);
  if (pt === undefined) d.push(`${where}: python time ${py.time} unparsable`);
  else if (Math.abs(ours.timeCreated.getTime() * 1000 - pt) >= 1001) d.push(`${where}: time ${ours.timeCreated.toISOString()} != ${py.time}`);
  const ok = Object.keys(ours.data).sort();
  const pk = Object.keys(py.data).sort();
  if (JSON.stringify(ok) !== JSON.stringify(pk)) d.push(`${where}: data keys ${JSON.stringify(ok)} != ${JSON.stringify(pk)}`);
  for (const k of pk) {
    if (ours.data[k] !== undefined && !sameValue(ours.data[k], py.data[k]!)) {
      d.push(`${where}: data[${k}] ${JSON.stringify(ours.data[k])} != ${JSON.stringify(py.data[k])}`);
    }
  }
  return d;
}

function compareAll(ours: EvtxEvent[], py: PyRecord[]): string[] {
  const byId = new Map(ours.map((e) => [e.recordId.toString(), e]));
  const diffs: string[] = [];
  for (const p of py) {
    const o = byId.get(p.recordId);
    if (!o) diffs.push(`record ${p.recordId} (chunk ${p.chunk}) missing from our output`);
    else diffs.push(...diffEvent(o, p));
  }
  return diffs;
}

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const chunkBytes = (file: Uint8Array, i: number) => file.slice(4096 + i * 65536, 4096 + (i + 1) * 65536);
const problemChunks = (ps: EvtxProblem[], re: RegExp) => [...new Set(ps.filter((p) => re.test(p.message)).map((p) => p.chunk))].sort((a, b) => a - b);

// ------------------------------------------------------------------------------------------------
// A chunk written by hand from the format description (libyal EVTX document, MS-EVEN6 tokens).

class ChunkWriter {
  b = new Uint8Array(65536);
  dv = new DataView(this.b.buffer);
  pos = 512;
  u8(v: number) {
    this.b[this.pos++] = v;
  }
  u16(v: number) {
    this.dv.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number) {
    this.dv.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  u64(v: bigint) {
    this.dv.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }
  bytes(a: number[] | Uint8Array) {
    for (const x of a) this.u8(x);
  }
  utf16(s: string) {
    for (let i = 0; i < s.length; i++) this.u16(s.charCodeAt(i));
  }
  /** name offset pointing right after itself, then the name inline: u32 next, u16 hash, u16 n, chars, NUL */
  name(s: string) {
    this.u32(this.pos + 4);
    this.u32(0);
    this.u16(0);
    this.u16(s.length);
    this.utf16(s);
    this.u16(0);
  }
  open(n: string, attrs = false) {
    this.u8(attrs ? 0x41 : 0x01);
    this.u16(0xffff);
    this.u32(0);
    this.name(n);
    if (attrs) this.u32(0);
  }
  attr(n: string, more = false) {
    this.u8(more ? 0x46 : 0x06);
    this.name(n);
  }
  text(s: string, more = false) {
    this.u8(more ? 0x45 : 0x05);
    this.u8(0x01);
    this.u16(s.length);
    this.utf16(s);
  }
  sub(i: number, type: number, optional = false) {
    this.u8(optional ? 0x0e : 0x0d);
    this.u16(i);
    this.u8(type);
  }
  leaf(n: string, f: () => void) {
    this.open(n);
    this.u8(0x02);
    f();
    this.u8(0x04);
  }
  record(id: bigint, body: () => void) {
    const start = this.pos;
    this.u32(0x2a2a);
    this.u32(0);
    this.u64(id);
    this.u64(0n);
    body();
    this.pos = (this.pos + 4 + 7) & ~7; // 8-byte aligned like Windows writes them
    const size = this.pos - start;
    this.dv.setUint32(start + 4, size, true);
    this.dv.setUint32(this.pos - 4, size, true);
    return start;
  }
  finish() {
    this.b.set(new TextEncoder().encode('ElfChnk\0'), 0);
    this.dv.setUint32(40, 128, true);
    this.dv.setUint32(48, this.pos, true);
    this.dv.setUint32(52, crc32(this.b.subarray(512, this.pos)), true);
    this.dv.setUint32(124, crc32Continue(crc32(this.b.subarray(0, 120)), this.b.subarray(128, 512)), true);
    return this.b;
  }
}

const NS = 'http://schemas.microsoft.com/win/2004/08/events/event';
const WHEN = Date.UTC(2024, 0, 2, 3, 4, 5); // + 0.1234567 s
const FT = (BigInt(WHEN) + 11644473600000n) * 10000n + 1234567n; // FILETIME: 100 ns since 1601

function templateValues(w: ChunkWriter, provider: string, eventId: number) {
  const vals: [number, number[]][] = [];
  const le = (n: bigint, len: number) => Array.from({ length: len }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
  const u16s = (s: string) => [...s].flatMap((c) => [c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8]);
  vals.push([0x01, u16s(provider)]);
  vals.push([0x06, le(BigInt(eventId), 2)]);
  vals.push([0x04, [2]]);
  vals.push([0x11, le(FT, 8)]);
  vals.push([0x01, u16s('HOST\0')]);
  vals.push([0x14, le(0x80070005n, 4)]);
  vals.push([0x0f, [0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]]);
  vals.push([0x00, []]);
  vals.push([0x81, u16s('one\0\0three\0')]);
  vals.push([0x13, [1, 2, 0, 0, 0, 0, 0, 5, ...le(21n, 4), ...le(1000n, 4)]]);
  vals.push([0x07, le(0xfffffffbn, 4)]);
  w.u32(vals.length);
  for (const [t, d] of vals) {
    w.u16(d.length);
    w.u8(t);
    w.u8(0);
  }
  for (const [, d] of vals) w.bytes(d);
}

function syntheticChunk() {
  const w = new ChunkWriter();
  // record 1: plain elements, no template; value text split over tokens, entity and char refs, CDATA, PI
  const r1 = w.record(1n, () => {
    w.bytes([0x0f, 1, 1, 0]);
    w.open('Event', true);
    w.attr('xmlns');
    w.text(NS);
    w.u8(0x02);
    w.open('System');
    w.u8(0x02);
    w.open('Provider', true);
    w.attr('Name');
    w.text('Test-Provider');
    w.u8(0x03);
    w.leaf('EventID', () => w.text('7'));
    w.leaf('Level', () => w.text('3'));
    w.open('TimeCreated', true);
    w.attr('SystemTime');
    w.text('2024-01-02T03:04:05.1234567Z');
    w.u8(0x03);
    w.leaf('Computer', () => w.text('PC'));
    w.u8(0x04);
    w.open('EventData');
    w.u8(0x02);
    w.open('Data', true);
    w.attr('Name');
    w.text('a');
    w.u8(0x02);
    w.text('x ', true);
    w.u8(0x49);
    w.name('lt');
    w.text(' y ', true);
    w.u8(0x48);
    w.u16(65);
    w.u8(0x07);
    w.u16(1);
    w.utf16('z');
    w.u8(0x04);
    w.leaf('Data', () => w.text('pos1'));
    w.u8(0x0a);
    w.name('pi');
    w.u8(0x0b);
    w.u16(2);
    w.utf16('ok');
    w.u8(0x04);
    w.u8(0x04);
    w.u8(0x00);
  });
  // record 2: template instance with the definition inline; record 3 reuses it by offset
  let defOffset = 0;
  const r2 = w.record(2n, () => {
    w.bytes([0x0f, 1, 1, 0]);
    w.u8(0x0c);
    w.u8(1);
    w.u32(0x1234);
    defOffset = w.pos + 4;
    w.u32(defOffset);
    w.u32(0);
    w.bytes(new Array(16).fill(0xab));
    const sizeAt = w.pos;
    w.u32(0);
    const bodyStart = w.pos;
    w.bytes([0x0f, 1, 1, 0]);
    w.open('Event', true);
    w.attr('xmlns');
    w.text(NS);
    w.u8(0x02);
    w.open('System');
    w.u8(0x02);
    w.open('Provider', true);
    w.attr('Name');
    w.sub(0, 0x01);
    w.u8(0x03);
    w.leaf('EventID', () => w.sub(1, 0x06));
    w.leaf('Level', () => w.sub(2, 0x04, true));
    w.open('TimeCreated', true);
    w.attr('SystemTime');
    w.sub(3, 0x11, true);
    w.u8(0x03);
    w.leaf('Computer', () => w.sub(4, 0x01));
    w.u8(0x04);
    w.open('EventData');
    w.u8(0x02);
    const data = (n: string | null, i: number, t: number) => {
      if (n === null) w.leaf('Data', () => w.sub(i, t, true));
      else {
        w.open('Data', true);
        w.attr('Name');
        w.text(n);
        w.u8(0x02);
        w.sub(i, t, true);
        w.u8(0x04);
      }
    };
    data('errorCode', 5, 0x14);
    data('g', 6, 0x0f);
    data('opt', 7, 0x01);
    data(null, 8, 0x81);
    data('sid', 9, 0x13);
    data('n', 10, 0x07);
    w.u8(0x04);
    w.u8(0x04);
    w.u8(0x00);
    w.dv.setUint32(sizeAt, w.pos - bodyStart, true);
    templateValues(w, 'P2', 20);
  });
  const r3 = w.record(3n, () => {
    w.bytes([0x0f, 1, 1, 0]);
    w.u8(0x0c);
    w.u8(1);
    w.u32(0x1234);
    w.u32(defOffset);
    templateValues(w, 'P3', 19);
  });
  return { chunk: w.finish(), offsets: [r1, r2, r3] };
}

// ------------------------------------------------------------------------------------------------
// no prerequisites

describe('evtx: pure parts', () => {
  it('a hand-made chunk: elements, attributes, refs, CDATA, PI, templates and value types', () => {
    const { chunk } = syntheticChunk();
    const { events, problems } = parseEvtxChunk(chunk, 0, { xml: true });
    expect(problems).toEqual([]);
    expect(events).toHaveLength(3);
    const [e1, e2, e3] = events as [EvtxEvent, EvtxEvent, EvtxEvent];
    expect(e1).toMatchObject({ recordId: 1n, provider: 'Test-Provider', eventId: 7, level: 3, computer: 'PC', data: { a: 'x < y Az', '1': 'pos1' } });
    expect(e1.timeCreated.getTime()).toBe(WHEN + 123);
    expect(e1.xml).toContain('<Provider Name="Test-Provider"/>');
    expect(e1.xml).toContain('<Data Name="a">x &lt; y Az</Data>');
    expect(e1.xml).toContain('<?pi ok?>');
    const data = {
      errorCode: '0x80070005',
      g: '{00112233-4455-6677-8899-AABBCCDDEEFF}',
      opt: '',
      '3': 'one',
      '4': '',
      '5': 'three', // a string array repeats its <Data> element per item
      sid: 'S-1-5-21-1000',
      n: '-5',
    };
    expect(e2).toMatchObject({ recordId: 2n, provider: 'P2', eventId: 20, level: 2, computer: 'HOST', data });
    expect(e2.data).toEqual(data);
    expect(e2.timeCreated.getTime()).toBe(WHEN + 123);
    expect(e2.xml).toContain('SystemTime="2024-01-02T03:04:05.1234567Z"');
    expect(e3).toMatchObject({ recordId: 3n, provider: 'P3', eventId: 19, data });
  });

  it('a hand-made chunk: a broken record is skipped and named; the template it defined still serves', () => {
    const { chunk, offsets } = syntheticChunk();
    const dv = new DataView(chunk.buffer);
    const size2 = dv.getUint32(offsets[1]! + 4, true);
    dv.setUint32(offsets[1]! + size2 - 4, 1, true); // size copy of record 2 wrong
    const { events, problems } = parseEvtxChunk(chunk, 5);
    expect(events.map((e) => e.recordId)).toEqual([1n, 3n]);
    expect(events[1]!.data['errorCode']).toBe('0x80070005');
    expect(problems.map((p) => p.offset)).toContain(4096 + 5 * 65536 + offsets[1]!);
    expect(problems.some((p) => /records CRC32 mismatch/.test(p.message))).toBe(true);
  });

  it('crc32 is the RFC 1952 CRC (check value of "123456789")', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('an all-zero chunk is unused space, a non-zero chunk without signature is a problem', () => {
    expect(parseEvtxChunk(new Uint8Array(65536), 3)).toEqual({ events: [], problems: [] });
    const junk = new Uint8Array(65536);
    junk[100] = 7;
    const r = parseEvtxChunk(junk, 3);
    expect(r.events).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ chunk: 3, offset: 4096 + 3 * 65536 });
    expect(r.problems[0]!.message).toMatch(/bad signature/);
  });

  it('a file that is not EVTX is a FormatError; so is an empty one', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-evtx-'));
    try {
      const f = path.join(dir, 'x.evtx');
      writeFileSync(f, 'regf' + 'x'.repeat(9000));
      await expect(readAll(f)).rejects.toBeInstanceOf(FormatError);
      writeFileSync(f, '');
      await expect(readAll(f)).rejects.toBeInstanceOf(FormatError);
      writeFileSync(f, 'ElfFile\0');
      await expect(readAll(f)).rejects.toBeInstanceOf(FormatError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------------------
// against python-evtx

const reason = skipReason(sharedReason(), toolsReason('evtx_dump.py'));

describe.skipIf(!!reason)(`evtx: System.evtx against python-evtx${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let sys: string;
  let py: PyDump;
  let ours: Awaited<ReturnType<typeof readAll>>;
  beforeAll(async () => {
    sys = fixture('evtx', 'system.evtx');
    py = pyDump(sys);
    ours = await readAll(sys, { xml: true });
  });

  it('every record: recordId, time, provider, eventId, level, computer and all EventData/UserData fields', () => {
    expect(py.records.length).toBeGreaterThan(1800);
    expect(py.records.filter((r) => r.error || !r.verified)).toEqual([]);
    expect(compareAll(ours.events, py.records)).toEqual([]);
    expect(ours.events.map((e) => e.recordId.toString())).toEqual(py.records.map((r) => r.recordId));
    // the comparison did compare values, mostly exactly
    expect(stats.exact).toBeGreaterThan(5000);
    expect(stats.timeTolerance + stats.guidCase).toBeLessThan(stats.exact);
  });

  it('a clean file yields no problems; all-zero trailing chunks are not problems', () => {
    expect(ours.problems).toEqual([]);
    expect(ours.chunks).toBe(py.chunks.length);
    expect(py.chunks.filter((c) => !c.magic).length).toBeGreaterThan(0);
  });

  it('xml rendering is well formed and carries the same values', () => {
    const ev = ours.events.find((e) => e.provider === WU_PROVIDER && e.eventId === 20)!;
    expect(ev.xml).toMatch(/^<Event xmlns="http:\/\/schemas.microsoft.com\/win\/2004\/08\/events\/event"><System>/);
    expect(ev.xml).toContain(`<Data Name="errorCode">${ev.data['errorCode']}</Data>`);
    expect(ev.xml).toContain(`<EventRecordID>${ev.recordId}</EventRecordID>`);
  });

  it('Windows Update client events 19/20/43/44: the five install failures with KB and error code', async () => {
    const { events, problems } = await readWindowsUpdateEvents(sys);
    expect(problems).toEqual([]);
    const wu = py.records.filter((r) => r.provider === WU_PROVIDER);
    const count = (id: number) => wu.filter((r) => r.eventId === id).length;
    const failures = wu
      .filter((r) => r.eventId === 20)
      .map((r) => ({
        recordId: r.recordId,
        kb: /KB\d+/.exec(r.data['updateTitle']!)![0],
        errorCode: r.data['errorCode']!.toLowerCase(),
        title: r.data['updateTitle'],
        updateGuid: r.data['updateGuid']!.toLowerCase(),
      }));
    expect(failures).toHaveLength(5);
    expect(
      events
        .filter((e) => e.eventId === 20)
        .map((e) => ({ recordId: e.recordId.toString(), kb: e.kb, errorCode: e.errorCode, title: e.title, updateGuid: e.updateGuid?.toLowerCase() })),
    ).toEqual(failures);
    for (const id of [19, 43, 44]) {
      expect(events.filter((e) => e.eventId === id).length, `event ${id}`).toBe(count(id));
    }
    expect(count(19) + count(43) + count(44)).toBeGreaterThan(0);
    expect(events).toHaveLength(count(19) + count(20) + count(43) + count(44));
    for (const e of events) expect(e.errorCode === undefined || /^0x[0-9a-f]+$/.test(e.errorCode)).toBe(true);
  });
});

describe.skipIf(!!reason)('evtx: damaged files', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-evtx-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('bad chunk signatures: good chunks are read, the bad chunks are named', async () => {
    const f = fixture('evtx', 'sample_with_a_bad_chunk_magic.evtx');
    const py = pyDump(f);
    const ours = await readAll(f);
    const bytes = readFileSync(f);
    // chunks python-evtx rejects for their signature that are not merely unused (all zero)
    const badSig = py.chunks.filter((c) => !c.magic && chunkBytes(bytes, c.index).some((x) => x !== 0)).map((c) => c.index);
    expect(badSig.length).toBeGreaterThan(0);
    expect(problemChunks(ours.problems, /bad signature/)).toEqual(badSig);
    for (const i of badSig) {
      expect(ours.problems.find((p) => p.chunk === i && /bad signature/.test(p.message))!.offset).toBe(4096 + i * 65536);
    }
    const badData = py.chunks.filter((c) => c.magic && c.dataCrcOk === false).map((c) => c.index);
    expect(problemChunks(ours.problems, /records CRC32 mismatch/)).toEqual(badData);
    // every intact record python-evtx reads, we read the same; we may recover more past damaged ones
    const intact = py.records.filter((r) => r.verified);
    expect(intact.length).toBeGreaterThan(200);
    expect(compareAll(ours.events, intact)).toEqual([]);
    expect(ours.events.length).toBeGreaterThanOrEqual(intact.length);
    // python-evtx renders records whose tail was zeroed (size copy wrong) from zeros; we skip them
    // and name their offset
    const broken = py.records.filter((r) => !r.verified);
    expect(broken.length).toBeGreaterThan(0);
    for (const r of broken) {
      expect(
        ours.events.some((e) => e.recordId.toString() === r.recordId),
        `record ${r.recordId}`,
      ).toBe(false);
      expect(
        ours.problems.some((p) => p.chunk === r.chunk && p.offset === r.offset),
        `problem at ${r.offset}`,
      ).toBe(true);
    }
    expect(ours.chunks).toBe(py.chunks.length);
  });

  it('a file without CRC32s (flag 0x4): all records, same as python-evtx', async () => {
    const f = fixture('evtx', 'Application_no_crc32.evtx');
    const py = pyDump(f);
    const ours = await readAll(f);
    expect(py.records).toHaveLength(17);
    expect(compareAll(ours.events, py.records)).toEqual([]);
    expect(ours.events).toHaveLength(py.records.length);
    expect(ours.problems.filter((p) => /CRC/.test(p.message))).toEqual([]);
  });

  it('a file truncated inside a chunk: earlier chunks whole, the truncated chunk partly, a problem', async () => {
    const src = readFileSync(fixture('evtx', 'system.evtx'));
    const f = path.join(tmp, 'truncated.evtx');
    const cut = 4096 + 3 * 65536 + 40000;
    writeFileSync(f, src.subarray(0, cut));
    const py = pyDump(f); // python-evtx reads only the complete chunks
    const full = pyDump(fixture('evtx', 'system.evtx'));
    const ours = await readAll(f);
    expect(compareAll(ours.events, py.records)).toEqual([]);
    expect(ours.events.length).toBeGreaterThan(py.records.length);
    // the extra records are the first records of chunk 3, identical to python-evtx on the whole file
    const extra = ours.events.slice(py.records.length);
    expect(
      compareAll(
        extra,
        full.records.filter((r) => extra.some((e) => e.recordId.toString() === r.recordId)),
      ),
    ).toEqual([]);
    expect(new Set(full.records.filter((r) => extra.some((e) => e.recordId.toString() === r.recordId)).map((r) => r.chunk))).toEqual(new Set([3]));
    expect(ours.problems.some((p) => p.chunk === 3 && /truncated/.test(p.message))).toBe(true);
    expect(ours.chunks).toBe(4);
  });

  it('a damaged record in the middle of a chunk is skipped, the rest of the chunk is read', async () => {
    const src = new Uint8Array(readFileSync(fixture('evtx', 'system.evtx')));
    const full = pyDump(fixture('evtx', 'system.evtx'));
    const chunk = chunkBytes(src, 2);
    const dv = new DataView(chunk.buffer);
    // find the 10th record and zero its signature
    let p = 512;
    for (let i = 0; i < 10; i++) p += dv.getUint32(p + 4, true);
    const victim = dv.getBigUint64(p + 8, true).toString();
    chunk[p] = 0;
    const r = parseEvtxChunk(chunk, 2);
    const expected = full.records.filter((x) => x.chunk === 2 && x.recordId !== victim);
    expect(r.events.map((e) => e.recordId.toString())).toEqual(expected.map((x) => x.recordId));
    expect(compareAll(r.events, expected)).toEqual([]);
    expect(r.problems.map((x) => x.offset)).toContain(4096 + 2 * 65536 + p);
  });

  it('random byte flips in a chunk never throw, never hang (seeded)', () => {
    const src = new Uint8Array(readFileSync(fixture('evtx', 'system.evtx')));
    const runs = Number(process.env.WUFIX_FUZZ_RUNS ?? 400);
    let slowest = 0;
    let events = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const next = rng(seed * 7919);
      const chunk = chunkBytes(src, seed % 15);
      const flips = 1 + Math.floor(next() * 24);
      for (let i = 0; i < flips; i++) {
        // mostly the record area, sometimes the chunk header
        const at = next() < 0.15 ? Math.floor(next() * 512) : 512 + Math.floor(next() * 65024);
        chunk[at] = next() < 0.5 ? chunk[at]! ^ (1 << Math.floor(next() * 8)) : Math.floor(next() * 256);
      }
      const t0 = performance.now();
      let r: ReturnType<typeof parseEvtxChunk>;
      try {
        r = parseEvtxChunk(chunk, seed % 15, { xml: seed % 2 === 0, checkCrc: seed % 3 !== 0 });
      } catch (e) {
        throw new Error(`seed ${seed}: parseEvtxChunk threw ${String(e)}`);
      }
      slowest = Math.max(slowest, performance.now() - t0);
      events += r.events.length;
      // the parser's own bounds checks catch the damage, not a RangeError/TypeError caught as a last resort
      for (const p of r.problems) expect(p.message, `seed ${seed}`).not.toMatch(/RangeError|TypeError|Error:/);
    }
    expect(events).toBeGreaterThan(runs * 10); // damage stays local: most records still read
    expect(slowest).toBeLessThan(2000);
  });

  it('random damage to the file header: a FormatError or a result, nothing else', async () => {
    const src = new Uint8Array(readFileSync(fixture('evtx', 'system.evtx')).subarray(0, 4096 + 2 * 65536));
    const f = path.join(tmp, 'hdr.evtx');
    for (let seed = 1; seed <= 40; seed++) {
      const next = rng(seed);
      const b = src.slice();
      for (let i = 0; i < 4; i++) b[Math.floor(next() * 128)] = Math.floor(next() * 256);
      writeFileSync(f, b);
      try {
        const r = await readAll(f);
        expect(r.chunks).toBe(2);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------
// System/EventRecordID (what Event Viewer shows) against python-evtx, and the event-log collector

/** python-evtx's record-header number and System/EventRecordID text of every intact record (its verify(); '' when empty). */
function pyEventRecordIds(file: string): Map<string, string> {
  const script = [
    'import sys, xml.etree.ElementTree as ET, Evtx.Evtx as evtx',
    'with evtx.Evtx(sys.argv[1]) as log:',
    '  for r in log.records():',
    '    if not r.verify(): continue',
    '    try:',
    '      s = next(c for c in ET.fromstring(r.xml()) if c.tag.endswith("}System"))',
    '      e = next((c for c in s if c.tag.endswith("}EventRecordID")), None)',
    '      print(r.record_num(), (e.text or "") if e is not None else "")',
    '    except Exception:',
    '      print(r.record_num(), "?")',
  ].join('\n');
  const out = execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const m = new Map<string, string>();
  for (const l of out.split('\n')) {
    const [k, v] = l.split(' ');
    if (k) m.set(k, v ?? '');
  }
  return m;
}

const LOGS_EVTX = path.join(FIXTURES, 'logs', 'evtx');
const REAL_EVTX = [
  path.join(LOGS_EVTX, 'win11-21h2-System-wuclient-19-20-43-44-five-failures-DFIRArtifactMuseum.evtx'),
  path.join(LOGS_EVTX, 'win10-21h1-Setup-servicing-lcu-reboot-required-DFIRArtifactMuseum.evtx'),
  path.join(LOGS_EVTX, 'win10-ltsc2019-WindowsUpdateClient%4Operational-scan-failures-0x800b0101-DFIRArtifactMuseum.evtx'),
  path.join(LOGS_EVTX, 'win2012r2-Setup-servicing-kb2999226-and-roles-DFIRArtifactMuseum.evtx'),
];
const EVT_DIR = 'Windows/System32/winevt/Logs';
const OPERATIONAL_NAME = 'Microsoft-Windows-WindowsUpdateClient%4Operational.evtx';

describe.skipIf(!!reason)('evtx: System/EventRecordID', () => {
  it('equals python-evtx on every intact record of the 7 real files', async () => {
    const files = [
      ...REAL_EVTX,
      fixture('evtx', 'system.evtx'),
      fixture('evtx', 'Application_no_crc32.evtx'),
      fixture('evtx', 'sample_with_a_bad_chunk_magic.evtx'),
    ];
    let compared = 0;
    for (const f of files) {
      const py = pyEventRecordIds(f);
      const { events } = await readAll(f);
      const ours = new Map(events.map((e) => [e.recordId.toString(), e.eventRecordId?.toString() ?? '']));
      // Every record python-evtx reads, we read with the same EventRecordID (we recover more of a damaged file).
      expect(new Map([...py.keys()].map((k) => [k, ours.get(k)])), path.basename(f)).toEqual(py);
      expect(ours.size).toBeGreaterThanOrEqual(py.size);
      compared += [...py.values()].filter((v) => /^\d+$/.test(v)).length;
    }
    expect(compared).toBeGreaterThan(2000);
  });

  it('is read from the XML, not the record header: a header renumbered (as in an exported log) keeps Event Viewer numbers', () => {
    const src = new Uint8Array(readFileSync(REAL_EVTX[1]!));
    const chunk = src.slice(4096, 4096 + 65536);
    const dv = new DataView(chunk.buffer);
    // Renumber every record header (+1000): the records' CRC no longer matches, so read without CRC checks.
    let p = 512;
    while (dv.getUint32(p, true) === 0x2a2a) {
      dv.setBigUint64(p + 8, dv.getBigUint64(p + 8, true) + 1000n, true);
      p += dv.getUint32(p + 4, true);
    }
    const { events, problems } = parseEvtxChunk(chunk, 0, { checkCrc: false });
    expect(problems).toEqual([]);
    expect(events).toHaveLength(20);
    expect(events.map((e) => e.recordId)).toEqual(events.map((_, i) => BigInt(1001 + i)));
    expect(events.map((e) => e.eventRecordId)).toEqual(events.map((_, i) => BigInt(1 + i)));
    const last = evtxUpdateEvent(events[19]!, 'Windows\\System32\\winevt\\Logs\\Setup.evtx', 'Setup.evtx');
    expect(last).toMatchObject({ recordId: '20', eventId: 4, kb: 'KB5010342', result: 'reboot-pending' });
  });
});

describe.skipIf(!!reason)('evtx: collectEventLogs', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-evtxsrc-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A volume with these files in winevt\Logs (name -> content or fixture path). */
  function volume(name: string, files: Record<string, string | Uint8Array>): string {
    const root = path.join(tmp, name);
    const dir = path.join(root, ...EVT_DIR.split('/'));
    mkdirSync(dir, { recursive: true });
    for (const [n, c] of Object.entries(files)) writeFileSync(path.join(dir, n), typeof c === 'string' ? readFileSync(c) : c);
    return root;
  }

  it('reads the three real logs in place (any case): files understood, no problem, the ground-truth events', async () => {
    const root = volume('real', { 'SYSTEM.EVTX': REAL_EVTX[0]!, 'Setup.evtx': REAL_EVTX[1]!, [OPERATIONAL_NAME]: REAL_EVTX[2]! });
    const sink = arraySink();
    await collectEventLogs(root, sink);
    expect(sink.problems).toEqual([]);
    expect(sink.files.map((f) => `${f.source} ${f.file} ${f.understood} ${f.format}`)).toEqual([
      'System.evtx Windows\\System32\\winevt\\Logs\\SYSTEM.EVTX true evtx',
      'Setup.evtx Windows\\System32\\winevt\\Logs\\Setup.evtx true evtx',
      `WindowsUpdateClient.evtx Windows\\System32\\winevt\\Logs\\${OPERATIONAL_NAME} true evtx`,
    ]);
    expect(sink.files.map((f) => f.events)).toEqual([249, 20, 80]);
    const failed = sink.events.filter((e) => e.result === 'failed');
    expect(failed.map((e) => `${e.source} ${e.kind} ${e.code}`).sort()).toEqual(
      [
        ...Array(14).fill('WindowsUpdateClient.evtx scan 0x800b0101'),
        ...Array(10).fill('WindowsUpdateClient.evtx scan 0x80240438'),
        ...Array(2).fill('WindowsUpdateClient.evtx scan 0x8024402c'),
        ...Array(3).fill('System.evtx install 0x80073d02'),
        ...Array(2).fill('System.evtx install 0x80240016'),
      ].sort(),
    );
    expect(sink.events.every((e) => e.file.startsWith('Windows\\System32\\winevt\\Logs\\') && e.timeIsLocal === false)).toBe(true);
  });

  it('a link is not followed, a file that is not EVTX and a damaged one are one problem line each', async () => {
    const sys = readFileSync(REAL_EVTX[0]!);
    const root = volume('hostile', {
      'System.evtx': new Uint8Array(sys.subarray(0, 4096 + 2 * 65536 + 30000)), // truncated inside chunk 2
      [OPERATIONAL_NAME]: new TextEncoder().encode('this is not an event log\r\n'),
    });
    symlinkSync(REAL_EVTX[1]!, path.join(root, ...EVT_DIR.split('/'), 'Setup.evtx'));
    const sink = arraySink();
    await collectEventLogs(root, sink);
    expect(sink.problems).toHaveLength(3);
    expect(sink.problems[0]).toMatch(
      /^Windows\\System32\\winevt\\Logs\\System\.evtx: \d+ damaged part\(s\) skipped, \d+ record\(s\) read from 3 chunk\(s\) \(first: .*truncated/,
    );
    expect(sink.problems[1]).toMatch(/^Windows\\System32\\winevt\\Logs\\Setup\.evtx: not read: .*link/);
    expect(sink.problems[2]).toMatch(/^Windows\\System32\\winevt\\Logs\\Microsoft-Windows-WindowsUpdateClient%4Operational\.evtx: not read: .*EVTX/i);
    for (const p of sink.problems) expect(p).toMatch(/^[\x20-\x7e]+$/);
    expect(sink.files.map((f) => f.understood)).toEqual([true, false, false]);
    // The truncated System.evtx still gives the update events of the chunks before the cut, not all 249.
    expect(sink.files[0]!.events).toBeGreaterThan(0);
    expect(sink.files[0]!.events).toBeLessThan(249);
    expect(sink.files[0]!.events).toBe(sink.events.length);
    expect(sink.events.every((e) => e.source === 'System.evtx')).toBe(true);
  });

  it('no winevt\\Logs folder, or a link in its place: nothing read, nothing invented', async () => {
    const empty = path.join(tmp, 'empty');
    mkdirSync(path.join(empty, 'Windows', 'System32', 'winevt'), { recursive: true });
    const s1 = arraySink();
    await collectEventLogs(empty, s1);
    expect([s1.events.length, s1.files.length, s1.problems.length]).toEqual([0, 0, 0]);
    const other = volume('elsewhere', { 'System.evtx': REAL_EVTX[0]! });
    symlinkSync(path.join(other, ...EVT_DIR.split('/')), path.join(empty, 'Windows', 'System32', 'winevt', 'Logs'));
    const s2 = arraySink();
    await collectEventLogs(empty, s2);
    expect(s2.events).toEqual([]);
    expect(s2.files).toEqual([]);
  });
});
