// Fuzz tier, EVTX: parseEvtxFileHeader and parseEvtxChunk (with and without XML rendering, with and
// without CRC checks) over seeded mutations of real chunks from ../shared/fixtures/evtx and
// fixtures/logs/evtx. Half of the cases re-seal the chunk's CRCs (header and records), as a crafted
// file would, so the Binary XML parser itself is reached. parseEvtxChunk reports damage as problems
// instead of throwing; an untyped exception caught inside it shows as "TypeError: ..." (and the
// like) in a problem message, which is a failure here. Plus generated regressions.
import { describe, expect, it } from 'vitest';
import { EVTX_CHUNK_SIZE, EVTX_FILE_HEADER_SIZE, MAX_EXPANSION_PER_RECORD, parseEvtxChunk, parseEvtxFileHeader } from '../../src/formats/evtx.js';
import { crc32, crc32Continue } from '../../src/shared/crc32.js';
import { CASES, caseRng, fixtureBytes, fixturesReason, fuzz, mutate } from './harness.js';

const FILES: [string, string][] = [
  ['evtx', 'system.evtx'],
  ['evtx', 'Application_no_crc32.evtx'],
  ['evtx', 'sample_with_a_bad_chunk_magic.evtx'],
  ['logs', 'evtx/win10-21h1-Setup-servicing-lcu-reboot-required-DFIRArtifactMuseum.evtx'],
  ['logs', 'evtx/win10-ltsc2019-WindowsUpdateClient%4Operational-scan-failures-0x800b0101-DFIRArtifactMuseum.evtx'],
  ['logs', 'evtx/win11-21h2-System-wuclient-19-20-43-44-five-failures-DFIRArtifactMuseum.evtx'],
  ['logs', 'evtx/win2012r2-Setup-servicing-kb2999226-and-roles-DFIRArtifactMuseum.evtx'],
];

const dvOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Recompute a chunk's records CRC (over [512, free)) and header CRC, as a crafted file would. */
export function resealChunk(c: Uint8Array): void {
  if (c.length < 512) return;
  const dv = dvOf(c);
  const free = dv.getUint32(48, true);
  if (free >= 512 && free <= c.length) dv.setUint32(52, crc32(c.subarray(512, free)), true);
  dv.setUint32(124, crc32Continue(crc32(c.subarray(0, 120)), c.subarray(128, 512)), true);
}

/** A problem message that hides an exception other than our FormatError (see parseEvtxChunk). */
const UNTYPED = /\b(TypeError|RangeError|ReferenceError|SyntaxError|InternalError|Error): /;

function runChunk(chunk: Uint8Array, index: number, xml: boolean, checkCrc: boolean): { outSize: number } {
  const { events, problems } = parseEvtxChunk(chunk, index, { xml, checkCrc });
  const bad = problems.find((p) => UNTYPED.test(p.message));
  if (bad) throw new Error(`untyped exception inside parseEvtxChunk: ${bad.message}`);
  let out = 0;
  for (const e of events) {
    out += 64 + (e.xml?.length ?? 0) + e.provider.length + (e.computer?.length ?? 0);
    for (const [k, v] of Object.entries(e.data)) out += k.length + v.length;
  }
  for (const p of problems) out += p.message.length;
  // Characters of output are UTF-16 code units: count them as 2 bytes.
  return { outSize: out * 2 };
}

describe.skipIf(!!fixturesReason())('fuzz: EVTX (file header + chunks)', () => {
  it(`${CASES} mutated real chunks and file headers: events and problems, never an untyped exception`, async () => {
    const files = FILES.map(([d, f]) => fixtureBytes(d, f));
    const chunks: { file: number; index: number; bytes: Uint8Array }[] = [];
    for (const [fi, b] of files.entries()) {
      for (let i = 0; EVTX_FILE_HEADER_SIZE + i * EVTX_CHUNK_SIZE < b.length && i < 6; i++) {
        const off = EVTX_FILE_HEADER_SIZE + i * EVTX_CHUNK_SIZE;
        chunks.push({ file: fi, index: i, bytes: b.slice(off, off + EVTX_CHUNK_SIZE) });
      }
    }
    // The real chunks parse, with events, and expand within the per-chunk bound.
    let realEvents = 0;
    let worstRatio = 0;
    for (const c of chunks) {
      const r = parseEvtxChunk(c.bytes, c.index, { xml: true, checkCrc: false });
      realEvents += r.events.length;
      expect(r.problems.filter((p) => UNTYPED.test(p.message))).toEqual([]);
      const xmlChars = r.events.reduce((n, e) => n + (e.xml?.length ?? 0), 0);
      worstRatio = Math.max(worstRatio, xmlChars / c.bytes.length);
    }
    console.log(`evtx: ${chunks.length} real chunks, ${realEvents} events, largest XML/chunk ratio ${worstRatio.toFixed(1)}`);
    expect(realEvents).toBeGreaterThan(100);
    const headerCases = 200;
    const r1 = await fuzz(
      'evtx file header',
      headerCases,
      (i) => {
        const rng = caseRng('evtx:header', i);
        const src = files[i % files.length]!.subarray(0, EVTX_FILE_HEADER_SIZE);
        const m = mutate(rng, src, { hot: [[0, 128]], maxOps: 6 });
        return { input: m.bytes, inSize: m.bytes.length, ops: m.ops, label: FILES[i % files.length]![1] };
      },
      (b) => {
        parseEvtxFileHeader(b);
      },
    );
    expect(r1.failures).toEqual([]);
    const r2 = await fuzz(
      'evtx chunks',
      CASES - headerCases,
      (i) => {
        const rng = caseRng('evtx:chunk', i);
        const c = chunks[rng.int(chunks.length)]!;
        const m = mutate(rng, c.bytes, {
          hot: [
            [0, 512],
            [512, 4096],
            [512, EVTX_CHUNK_SIZE],
          ],
          maxOps: 10,
          donor: chunks[rng.int(chunks.length)]!.bytes,
        });
        const reseal = rng.chance(0.5);
        if (reseal) resealChunk(m.bytes);
        return {
          input: { bytes: m.bytes, index: c.index, xml: i % 2 === 0, crc: i % 3 !== 0 },
          inSize: m.bytes.length,
          ops: reseal ? [...m.ops, 'resealed'] : m.ops,
          label: `${FILES[c.file]![1]} chunk ${c.index}`,
        };
      },
      (c) => runChunk(c.bytes, c.index, c.xml, c.crc),
      { outFactor: 160, outSlack: 1 << 16 },
    );
    expect(r2.failures).toEqual([]);
    expect(r1.cases + r2.cases).toBeGreaterThanOrEqual(CASES);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated regression: a value substituted many times, nested, must not expand without bound.

/** A chunk holding one record: a template whose content is `subs` substitutions of value 0, with
 *  value 0 an embedded Binary XML fragment that instantiates the same template again, `levels` deep. */
function explodingChunk(subs: number, levels: number): Uint8Array {
  const c = new Uint8Array(EVTX_CHUNK_SIZE);
  const dv = dvOf(c);
  c.set([0x45, 0x6c, 0x66, 0x43, 0x68, 0x6e, 0x6b, 0x00], 0); // ElfChnk
  dv.setUint32(40, 0x80, true); // header size
  // Template definition at 0x200 (chunk offset): next u32, GUID 16, size u32, then its stream.
  const tplAt = 0x200;
  let p = tplAt + 24;
  const start = p;
  c[p++] = 0x0f;
  c[p++] = 1;
  c[p++] = 1;
  c[p++] = 0; // fragment header
  // <E> element: open start tag 0x01, dependency id u16, size u32, name offset u32 (name at nameAt).
  const nameAt = 0x1800;
  c[p++] = 0x01;
  dv.setUint16(p, 0xffff, true);
  p += 2;
  const sizeAt = p;
  p += 4;
  dv.setUint32(p, nameAt, true);
  p += 4;
  const elemStart = p;
  c[p++] = 0x02; // close start tag
  for (let i = 0; i < subs; i++) {
    c[p++] = 0x0d; // normal substitution
    dv.setUint16(p, 0, true);
    p += 2;
    c[p++] = 0x21; // BinXml
  }
  c[p++] = 0x04; // end element
  dv.setUint32(sizeAt, p - elemStart, true);
  c[p++] = 0x00; // end of stream
  dv.setUint32(tplAt + 20, p - start, true);
  // Name "E": next u32, hash u16, chars u16, "E\0".
  dv.setUint16(nameAt + 6, 1, true);
  dv.setUint16(nameAt + 8, 0x45, true);
  // The record: nested instances, instance(values = [instance(values = [... [<E/>]])]).
  const rec = 0x2000;
  let q = rec + 24;
  const build = (level: number): void => {
    // fragment header + template instance token 0x0c, unknown u8, template id u32, def offset u32.
    c[q++] = 0x0f;
    c[q++] = 1;
    c[q++] = 1;
    c[q++] = 0;
    c[q++] = 0x0c;
    c[q++] = 0x01;
    q += 4;
    dv.setUint32(q, tplAt, true);
    q += 4;
    dv.setUint32(q, 1, true);
    q += 4; // one value
    const descAt = q;
    q += 4;
    const valStart = q;
    if (level > 0) build(level - 1);
    else {
      // innermost value: a fragment holding one empty element <E/>.
      c[q++] = 0x0f;
      c[q++] = 1;
      c[q++] = 1;
      c[q++] = 0;
      c[q++] = 0x01;
      dv.setUint16(q, 0xffff, true);
      q += 2;
      dv.setUint32(q, 5, true);
      q += 4;
      dv.setUint32(q, nameAt, true);
      q += 4;
      c[q++] = 0x03; // close empty element
      c[q++] = 0x00;
    }
    dv.setUint16(descAt, q - valStart, true);
    c[descAt + 2] = 0x21;
    c[q++] = 0x00; // end of this fragment
  };
  build(levels);
  q += 4;
  const size = q - rec;
  dv.setUint32(rec, 0x2a2a, true);
  dv.setUint32(rec + 4, size, true);
  dv.setUint32(rec + size - 4, size, true);
  dv.setUint32(48, rec + size, true); // free space offset
  resealChunk(c);
  return c;
}

describe('crafted EVTX: bounded expansion (regressions)', () => {
  it('a record substituting one fragment 100 times, 8 levels deep (10^16 nodes), is refused in time', () => {
    const chunk = explodingChunk(100, 8);
    const t0 = performance.now();
    const r = parseEvtxChunk(chunk, 0, { xml: true });
    const took = performance.now() - t0;
    expect(r.events).toHaveLength(0);
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(new RegExp(`record expands to more than ${MAX_EXPANSION_PER_RECORD} nodes`));
    expect(r.problems.some((p) => UNTYPED.test(p.message))).toBe(false);
    expect(took).toBeLessThan(2000);
  });

  it('the same structure, 2 levels of 3, is parsed (the crafted bytes are a valid record)', () => {
    const r = parseEvtxChunk(explodingChunk(3, 1), 0, { xml: true });
    // Not an Event, so no event, but no structural problem either: the bound, not a bug, refuses the big one.
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(/no <Event> element/);
  });
});
