// Fuzz tier, text logs: parseCbsLog, parseWindowsUpdateLog, parseReportingEvents (UTF-16LE),
// parseSetupLog (plain and HTML) and the line reader under them, fed as async chunk streams of
// random sizes. Inputs: seeded mutations of windows (up to 96 KiB) of the real logs in
// ../shared/fixtures/logs (CBS, DISM, WindowsUpdate.log, ReportingEvents, Panther setup logs); every
// parser also gets the other families' bytes (a hostile image can put anything under any name).
// Plus crafted streams: lines far over the line cap, no newline at all, CR-only, NUL floods, and
// lines built to make regular expressions backtrack.
import { describe, expect, it } from 'vitest';
import { parseCbsLog, parseReportingEvents, parseSetupLog, parseWindowsUpdateLog, readLines, type ByteChunks } from '../../src/formats/logs/index.js';
import { CASES, caseRng, fixtureBytes, fixturesReason, fuzz, mutate, type Rng } from './harness.js';

const LOGS = [
  'cbs/win11-24h2-clean-wu-sessions-glsureshkumar.log',
  'cbs/win7sp1-x86-sfc-scannow-unrepairable-plus-sp1-0x80070490-Infinito1977.log',
  'dism/win10-21h2-netfx3-enable-0x800f081f-iideerii.log',
  'windowsupdate/win10-22h2-kb5034441-0x80070643-0x800f0828-ReeceKetley.log',
  'windowsupdate/win7sp1-oldformat-sync-0x8024000b-karthikvemula.log',
  'reportingevents/win10-11-ReportingEvents-utf16-detect-fail-0x80072ee2-dcheva.log',
  'panther/win10-1909-featureupdate-rollback-0xC1900101-0x30018-Panther-setuperr-baslr.log',
  'panther/win11-host-mct-win10-2004-cancelled-0x800704C7-setupact-copyleft21.log',
];

type Parser = 'cbs' | 'wu' | 're' | 'setup' | 'setup-html' | 'lines';
const PARSERS: Parser[] = ['cbs', 'wu', 're', 'setup', 'setup-html', 'lines'];
const NATURAL: Parser[] = ['cbs', 'cbs', 'cbs', 'wu', 'wu', 're', 'setup', 'setup'];

/** Byte chunks of random sizes (1 byte to 64 KiB), as the file reader hands them out. */
function* chunksOf(bytes: Uint8Array, rng: Rng): Generator<Uint8Array> {
  for (let o = 0; o < bytes.length;) {
    const n = rng.chance(0.2) ? 1 + rng.int(16) : 1 + rng.int(65536);
    yield bytes.subarray(o, o + n);
    o += n;
  }
}

async function drain(parser: Parser, chunks: ByteChunks, maxLineLength?: number): Promise<{ outSize: number }> {
  const opts = maxLineLength === undefined ? {} : { maxLineLength };
  let out = 0;
  const count = (r: unknown) => {
    out += JSON.stringify(r).length * 2;
  };
  switch (parser) {
    case 'cbs':
      for await (const r of parseCbsLog(chunks, 'CBS.log', opts)) count(r);
      break;
    case 'wu':
      for await (const r of parseWindowsUpdateLog(chunks, 'WindowsUpdate.log', opts)) count(r);
      break;
    case 're':
      for await (const r of parseReportingEvents(chunks, 'ReportingEvents.log', opts)) count(r);
      break;
    case 'setup':
      for await (const r of parseSetupLog(chunks, 'dd_dotnet.txt', opts)) count(r);
      break;
    case 'setup-html':
      for await (const r of parseSetupLog(chunks, 'dd_NDP40.html', { ...opts, html: true })) count(r);
      break;
    case 'lines':
      // The reader's lines are the parsers' input: they may repeat the input, never grow it.
      for await (const l of readLines(chunks, opts)) out += l.text.length;
      break;
  }
  return { outSize: out };
}

const enc16 = (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
/** Crafted streams: [label, bytes, parser-independent]. */
const CRAFTED: [string, () => Uint8Array][] = [
  ['3 MiB line without a newline', () => Buffer.alloc(3 << 20, 'A')],
  ['3 MiB of one line of HRESULT = words', () => Buffer.from('2024-01-01 00:00:00, Error CBS HRESULT = '.repeat(80_000))],
  ['CR-only line ends, 2 MiB', () => Buffer.from('2024-01-01 10:00:00, Info CBS x\r'.repeat(65_000))],
  ['NUL flood, 2 MiB', () => Buffer.alloc(2 << 20, 0)],
  ['UTF-16 without BOM, odd length', () => Buffer.concat([Buffer.from('a\nb\n'.repeat(100_000), 'utf16le'), Buffer.from([0x41])])],
  ['backtracking bait: 200,000 tabs and a near-record', () => Buffer.from(`{${'\t'.repeat(200_000)}}\t2024-01-01 00:00:00:000-0000\t1\t\n`)],
  ['backtracking bait: 500,000 spaces between date and time', () => Buffer.from(`2024-01-01${' '.repeat(500_000)}00:00:00, Error\n`)],
  ['backtracking bait: 100,000 "0x" without digits', () => Buffer.from(`${'error 0x'.repeat(100_000)}\n`)],
  ['HTML: 200,000 unclosed tags', () => Buffer.from(`<html>${'<td'.repeat(200_000)}\n`)],
  ['ReportingEvents UTF-16: 30,000 fields', () => enc16(`{${'A\t'.repeat(30_000)}}\r\n`)],
  [
    'CBS continuation flood: one record, 150,000 continuation lines',
    () => Buffer.from(`2024-01-01 00:00:00, Error                 CBS    Failed HRESULT = 0x800f0922\r\n${'   continuation\r\n'.repeat(150_000)}`),
  ],
];

describe.skipIf(!!fixturesReason())('fuzz: text logs (CBS, DISM, WindowsUpdate.log, ReportingEvents, setup logs)', () => {
  it(`${CASES} mutated windows of real logs through every parser: records or a typed error, each case bounded`, async () => {
    const logs = LOGS.map((l) => fixtureBytes('logs', l));
    // The real logs, whole, give records with their natural parser.
    for (const [i, b] of logs.entries()) {
      const r = await drain(NATURAL[i]!, [b]);
      expect(r.outSize, LOGS[i]).toBeGreaterThanOrEqual(0);
    }
    const crafted = CRAFTED.length * 2;
    const r = await fuzz(
      'logs',
      CASES - crafted,
      (i) => {
        const rng = caseRng('logs', i);
        const li = rng.int(logs.length);
        const src = logs[li]!;
        // A window of the file (whole lines or not), so that each case stays small and fast.
        const len = Math.min(src.length, 1024 + rng.int(96 * 1024));
        const from = rng.int(src.length - len + 1) & ~1;
        const m = mutate(rng, src.subarray(from, from + len), { maxOps: 12, donor: logs[rng.int(logs.length)]! });
        const parser = rng.chance(0.5) ? NATURAL[li]! : rng.pick(PARSERS);
        const maxLine = rng.chance(0.2) ? 1 + rng.int(200) : undefined;
        return {
          input: { bytes: m.bytes, parser, seed: rng.u32(), maxLine },
          inSize: m.bytes.length,
          ops: m.ops,
          label: `${LOGS[li]} @${from}+${len} via ${parser}${maxLine ? ` maxLine ${maxLine}` : ''}`,
        };
      },
      (c) => drain(c.parser, chunksOf(c.bytes, caseRng('chunks', c.seed)), c.maxLine),
      { outFactor: 8 },
    );
    expect(r.failures).toEqual([]);
    const c = await fuzz(
      'logs crafted',
      crafted,
      (i) => {
        const [label, make] = CRAFTED[i >> 1]!;
        const bytes = make();
        return { input: { bytes, parser: i & 1 ? 'setup-html' : 'cbs', i }, inSize: bytes.length, ops: [], label };
      },
      async (x) => {
        // Every parser on every crafted stream (the case bound covers all six).
        let out = 0;
        for (const p of PARSERS) out = Math.max(out, (await drain(p, chunksOf(x.bytes, caseRng('crafted', x.i)))).outSize);
        return { outSize: out };
      },
      { outFactor: 8 },
    );
    expect(c.failures).toEqual([]);
    expect(r.cases + c.cases).toBeGreaterThanOrEqual(CASES);
  });
});

describe('crafted HTML setup log: linear tag stripping (regression)', () => {
  it('a 600 KB line of 200,000 unclosed "<td" is read in linear time (the tag regex took minutes)', async () => {
    const t0 = performance.now();
    const line = `<html>Error 0x800b010b ${'<td'.repeat(200_000)} tail`;
    const { htmlToText } = await import('../../src/formats/logs/index.js');
    const text = htmlToText(line);
    // Semantics kept: a "<" without a ">" after it is text; closed tags become spaces.
    expect(htmlToText('a<b>c<d')).toEqual(['a c<d']);
    expect(htmlToText('x<i>y</i>z<br>w')).toEqual(['x y z', 'w']);
    expect(text.join(' ')).toMatch(/^Error 0x800b010b <td<td.* tail$/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
