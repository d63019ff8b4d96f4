// Fuzz tier, .reg text: parseRegFile over seeded mutations of .reg files exported (formatRegFile)
// from real hives of ../shared/fixtures/hives, as regedit writes them (UTF-16LE with BOM) and as
// 8-bit REGEDIT4 / UTF-8 text, plus crafted files: runs that made the trimming regexes quadratic
// (80,000 backslashes or NULs), a 300,000-byte hex(1) value in a REGEDIT4 file (it overflowed the
// stack), 100,000 continuation lines, huge quoted names.
import { describe, expect, it } from 'vitest';
import { Hive } from '../../src/hive/hive.js';
import { collectKeys } from '../../src/hive/dump.js';
import { encodeRegFile, formatRegFile, parseRegFile } from '../../src/hive/regtext.js';
import { FormatError } from '../../src/shared/errors.js';
import { CASES, caseRng, fixtureBytes, fixturesReason, fuzz, mutate } from './harness.js';

const HIVES = ['DFIRArtifactMuseum/Win11/BCD-Template', 'hivex/minimal', 'hivex/rlenvalue_test_hive', 'regipy/BCD', 'DFIRArtifactMuseum/Win11/ELAM'];

function runReg(input: Uint8Array | string): { outSize: number } {
  const ops = parseRegFile(input);
  let out = 0;
  for (const op of ops) {
    out += op.path.length * 2 + 16;
    for (const v of op.values) out += v.name.length * 2 + 16 + ('data' in v ? v.data.length : 0);
  }
  return { outSize: out };
}

const CRAFTED: [string, () => Uint8Array | string][] = [
  ['key line of 80,000 backslashes', () => `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\${'\\'.repeat(80_000)}x]\r\n`],
  ['80,000 NULs then text', () => `Windows Registry Editor Version 5.00\r\n${'\0'.repeat(80_000)}x`],
  ['80,000 trailing NULs', () => `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\A]\r\n"v"=dword:00000001\r\n${'\0'.repeat(80_000)}`],
  [
    'REGEDIT4 hex(1) value of 300,000 bytes',
    () => `REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\A]\r\n"v"=hex(1):${Array.from({ length: 300_000 }, () => '41').join(',')}\r\n`,
  ],
  [
    '100,000 continuation lines',
    () => `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\A]\r\n"v"=hex:00,\\\r\n${'  01,\\\r\n'.repeat(100_000)}  02\r\n`,
  ],
  [
    'a 500,000-character value name with escapes',
    () => `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\A]\r\n"${'\\"\\\\'.repeat(125_000)}"="x"\r\n`,
  ],
  ['80,000 spaces and tabs inside a line', () => `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\A]\r\n"v"=${' \t'.repeat(40_000)}x\r\n`],
  [
    'hex(ffffffffffff) type and 40,000 leading zeros',
    () => `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\A]\r\n"v"=hex(${'0'.repeat(40_000)}ffffffffffff):00\r\n`,
  ],
];

describe.skipIf(!!fixturesReason())('fuzz: .reg text (parseRegFile)', () => {
  it(`${CASES} mutated exports of real hives (UTF-16LE, REGEDIT4, UTF-8) and crafted files: ops or a FormatError`, async () => {
    const texts = HIVES.map((f) => formatRegFile(collectKeys(Hive.open(fixtureBytes('hives', f))), { prefix: 'HKEY_LOCAL_MACHINE\\FUZZ' }));
    const sources: { bytes: Uint8Array; label: string }[] = [];
    for (const [i, t] of texts.entries()) {
      sources.push({ bytes: encodeRegFile(t), label: `${HIVES[i]} utf-16le` });
      sources.push({
        bytes: new Uint8Array(Buffer.from(t.replace('Windows Registry Editor Version 5.00', 'REGEDIT4'), 'latin1')),
        label: `${HIVES[i]} regedit4`,
      });
      sources.push({ bytes: new Uint8Array(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t, 'utf8')])), label: `${HIVES[i]} utf-8` });
    }
    // The real exports parse back.
    for (const s of sources.filter((x) => x.label.endsWith('utf-16le'))) expect(runReg(s.bytes).outSize, s.label).toBeGreaterThan(0);
    const r = await fuzz(
      'regtext',
      CASES - CRAFTED.length,
      (i) => {
        const rng = caseRng('regtext', i);
        if (i % 2 === 0) {
          // Character-level: mutate the text past the header (NULs mostly replaced, since one NUL
          // refuses the whole file), then encode it as regedit does.
          const ti = rng.int(texts.length);
          const m = mutate(rng, new Uint8Array(Buffer.from(texts[ti]!, 'latin1')), { hot: [[38, texts[ti]!.length]], maxOps: 4 });
          for (let k = 0; k < m.bytes.length; k++) if (m.bytes[k] === 0 && rng.chance(0.95)) m.bytes[k] = 0x22 + rng.int(0x5c);
          const text = Buffer.from(m.bytes).toString('latin1');
          const bytes = rng.chance(0.5)
            ? encodeRegFile(text)
            : new Uint8Array(Buffer.from(text.replace('Windows Registry Editor Version 5.00', 'REGEDIT4'), 'latin1'));
          return { input: bytes, inSize: bytes.length, ops: m.ops, label: `${HIVES[ti]} text-level` };
        }
        const src = sources[rng.int(sources.length)]!;
        const m = mutate(rng, src.bytes, { hot: [[80, src.bytes.length]], maxOps: 6, donor: sources[rng.int(sources.length)]!.bytes });
        return { input: m.bytes, inSize: m.bytes.length, ops: m.ops, label: src.label };
      },
      runReg,
      { outFactor: 8 },
    );
    expect(r.failures).toEqual([]);
    const c = await fuzz(
      'regtext crafted',
      CRAFTED.length,
      (i) => {
        const x = CRAFTED[i]![1]();
        return { input: x, inSize: x.length * (typeof x === 'string' ? 2 : 1), ops: [], label: CRAFTED[i]![0] };
      },
      runReg,
      { outFactor: 8 },
    );
    expect(c.failures).toEqual([]);
    expect(r.cases + c.cases).toBeGreaterThanOrEqual(CASES);
  });
});

describe('crafted .reg files: linear trimming, no stack overflow (regressions)', () => {
  it('80,000 backslashes in a key line and 80,000 NULs are trimmed in linear time', () => {
    const t0 = performance.now();
    const ops = parseRegFile(CRAFTED[0]![1]());
    expect(ops).toHaveLength(1);
    expect(() => parseRegFile(CRAFTED[1]![1]())).toThrow(FormatError);
    expect(parseRegFile(CRAFTED[2]![1]())[0]!.values).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('a REGEDIT4 hex(1) value of 300,000 bytes is widened without a stack overflow', () => {
    const ops = parseRegFile(CRAFTED[3]![1]());
    const v = ops[0]!.values[0]!;
    expect('data' in v && v.data.length).toBe(2 * 300_001);
  });
});
