import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { FormatError } from '../shared/errors.js';
import {
  REG,
  encodeRegFile,
  formatRegFile,
  parseRegFile,
  parseTypeName,
  stripHivePrefix,
  typeName,
  type ExportKey,
  type ImportOp,
  type RegValue,
} from './regtext.js';

const H5 = 'Windows Registry Editor Version 5.00';

/** UTF-16LE code units of s (no terminator added). */
function u16(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) & 0xff;
    out[2 * i + 1] = s.charCodeAt(i) >> 8;
  }
  return out;
}
const sz = (s: string): Uint8Array => u16(s + '\0');
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const range = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

/** Run fn and return the FormatError it throws (fails the test for anything else). */
function formatErrorOf(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
  throw new Error('expected a FormatError, nothing was thrown');
}

/** A 5.00 file from lines (CRLF). */
const file5 = (...lines: string[]): string => [H5, ...lines].join('\r\n');

function onlyValues(ops: ImportOp[]): ImportOp['values'] {
  return ops.flatMap((o) => o.values);
}

describe('typeName / parseTypeName', () => {
  it('names every standard type and formats others as REG_0x<hex>', () => {
    expect(typeName(REG.NONE)).toBe('REG_NONE');
    expect(typeName(REG.SZ)).toBe('REG_SZ');
    expect(typeName(REG.EXPAND_SZ)).toBe('REG_EXPAND_SZ');
    expect(typeName(REG.BINARY)).toBe('REG_BINARY');
    expect(typeName(REG.DWORD)).toBe('REG_DWORD');
    expect(typeName(REG.DWORD_BIG_ENDIAN)).toBe('REG_DWORD_BIG_ENDIAN');
    expect(typeName(REG.LINK)).toBe('REG_LINK');
    expect(typeName(REG.MULTI_SZ)).toBe('REG_MULTI_SZ');
    expect(typeName(REG.RESOURCE_LIST)).toBe('REG_RESOURCE_LIST');
    expect(typeName(REG.FULL_RESOURCE_DESCRIPTOR)).toBe('REG_FULL_RESOURCE_DESCRIPTOR');
    expect(typeName(REG.RESOURCE_REQUIREMENTS_LIST)).toBe('REG_RESOURCE_REQUIREMENTS_LIST');
    expect(typeName(REG.QWORD)).toBe('REG_QWORD');
    expect(typeName(12)).toBe('REG_0xc');
    expect(typeName(0x100000)).toBe('REG_0x100000');
    expect(typeName(0xffffffff)).toBe('REG_0xffffffff');
  });

  it('parses names case-insensitively, including aliases and REG_0x forms', () => {
    expect(parseTypeName('reg_sz')).toBe(1);
    expect(parseTypeName('Reg_Qword')).toBe(11);
    expect(parseTypeName('REG_DWORD_LITTLE_ENDIAN')).toBe(4);
    expect(parseTypeName('REG_QWORD_LITTLE_ENDIAN')).toBe(11);
    expect(parseTypeName('REG_0X100000')).toBe(0x100000);
    expect(parseTypeName('reg_0xffffffff')).toBe(0xffffffff);
  });

  it('round-trips every uint32 type', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (t) => {
        expect(parseTypeName(typeName(t))).toBe(t);
        expect(parseTypeName(typeName(t).toLowerCase())).toBe(t);
      }),
    );
  });

  it('rejects unknown names and non-uint32 types with FormatError', () => {
    for (const bad of ['', 'SZ', 'REG_STRING', 'REG_0x', 'REG_0x100000000', 'REG_0xg', 'REG_SZ_']) {
      expect(() => parseTypeName(bad)).toThrow(FormatError);
    }
    for (const bad of [-1, 1.5, 0x100000000, NaN]) expect(() => typeName(bad)).toThrow(FormatError);
  });
});

describe('formatRegFile: golden text', () => {
  it('reproduces a real regedit export of a wrapped REG_EXPAND_SZ default value', () => {
    // regedit output quoted in a 2005 newsgroup post (the indent, lost in the post, restored).
    const keys: ExportKey[] = [
      {
        path: 'CLSID\\{00000000-5144-0000-0000-000000000002}\\Shell\\00\\Command',
        values: [{ name: '', type: REG.EXPAND_SZ, data: sz('%ProgramFiles%\\Google\\Google Earth Plus\\GoogleEarth.exe') }],
      },
    ];
    const expected = [
      H5,
      '',
      '[HKEY_CLASSES_ROOT\\CLSID\\{00000000-5144-0000-0000-000000000002}\\Shell\\00\\Command]',
      '@=hex(2):25,00,50,00,72,00,6f,00,67,00,72,00,61,00,6d,00,46,00,69,00,6c,00,65,\\',
      '  00,73,00,25,00,5c,00,47,00,6f,00,6f,00,67,00,6c,00,65,00,5c,00,47,00,6f,00,\\',
      '  6f,00,67,00,6c,00,65,00,20,00,45,00,61,00,72,00,74,00,68,00,20,00,50,00,6c,\\',
      '  00,75,00,73,00,5c,00,47,00,6f,00,6f,00,67,00,6c,00,65,00,45,00,61,00,72,00,\\',
      '  74,00,68,00,2e,00,65,00,78,00,65,00,00,00',
      '',
      '',
    ];
    const text = formatRegFile(keys, { prefix: 'HKEY_CLASSES_ROOT' });
    expect(text.split('\r\n')).toEqual(expected);
    expect(text).toBe(expected.join('\r\n'));
  });

  it("writes a 20-byte REG_BINARY on one line (regedit's well-known Scancode Map line)", () => {
    const data = bytes(0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0x3a, 0, 0, 0, 0, 0);
    const text = formatRegFile([{ path: 'SYSTEM\\CurrentControlSet\\Control\\Keyboard Layout', values: [{ name: 'Scancode Map', type: REG.BINARY, data }] }], {
      prefix: 'HKEY_LOCAL_MACHINE',
    });
    expect(text.split('\r\n')).toEqual([
      H5,
      '',
      '[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Keyboard Layout]',
      '"Scancode Map"=hex:00,00,00,00,00,00,00,00,02,00,00,00,00,00,3a,00,00,00,00,00',
      '',
      '',
    ]);
  });

  it('writes every value form exactly as regedit does', () => {
    const keys: ExportKey[] = [
      { path: '', values: [{ name: '', type: REG.SZ, data: sz('Offline root') }] },
      {
        path: 'Software\\Wufix',
        values: [
          { name: 'Str', type: REG.SZ, data: sz('say "hi" C:\\Temp') },
          { name: 'Quote"Back\\', type: REG.SZ, data: sz('') },
          { name: 'Dword', type: REG.DWORD, data: bytes(0xcd, 0xab, 0, 0) },
          { name: 'DwordMax', type: REG.DWORD, data: bytes(0xff, 0xff, 0xff, 0xff) },
          { name: 'DwordShort', type: REG.DWORD, data: bytes(1, 2) },
          { name: 'BigEndian', type: REG.DWORD_BIG_ENDIAN, data: bytes(0, 0, 0, 1) },
          { name: 'Empty', type: REG.BINARY, data: bytes() },
          { name: 'None', type: REG.NONE, data: bytes() },
          { name: 'Qword', type: REG.QWORD, data: bytes(0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11) },
          { name: 'Multi', type: REG.MULTI_SZ, data: u16('a\0b\0\0') },
          { name: 'Odd', type: 0x100000, data: bytes(0xde, 0xad) },
          { name: 'Max', type: 0xffffffff, data: bytes(0xbe, 0xef) },
          { name: 'NoNul', type: REG.SZ, data: u16('abc') },
          { name: 'EmptySz', type: REG.SZ, data: bytes() },
          { name: 'Lines', type: REG.SZ, data: sz('a\r\nb') },
          { name: 'Unicode ü€😀', type: REG.SZ, data: sz('ü€😀') },
          { name: 'Binary', type: REG.BINARY, data: range(50) },
        ],
      },
      { path: 'Software\\Wufix\\Empty', values: [] },
    ];
    const expected = [
      'Windows Registry Editor Version 5.00',
      '',
      '[HKEY_LOCAL_MACHINE\\OFFLINE]',
      '@="Offline root"',
      '',
      '[HKEY_LOCAL_MACHINE\\OFFLINE\\Software\\Wufix]',
      '"Str"="say \\"hi\\" C:\\\\Temp"',
      '"Quote\\"Back\\\\"=""',
      '"Dword"=dword:0000abcd',
      '"DwordMax"=dword:ffffffff',
      '"DwordShort"=hex(4):01,02',
      '"BigEndian"=hex(5):00,00,00,01',
      '"Empty"=hex:',
      '"None"=hex(0):',
      '"Qword"=hex(b):88,77,66,55,44,33,22,11',
      '"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00',
      '"Odd"=hex(100000):de,ad',
      '"Max"=hex(ffffffff):be,ef',
      '"NoNul"=hex(1):61,00,62,00,63,00',
      '"EmptySz"=hex(1):',
      '"Lines"=hex(1):61,00,0d,00,0a,00,62,00,00,00',
      '"Unicode ü€😀"="ü€😀"',
      // 13 chars of `"Binary"=hex:` + 22 "xx," groups = 79 >= 77: wrap; then 25 groups a line.
      '"Binary"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,\\',
      '  16,17,18,19,1a,1b,1c,1d,1e,1f,20,21,22,23,24,25,26,27,28,29,2a,2b,2c,2d,2e,\\',
      '  2f,30,31',
      '',
      '[HKEY_LOCAL_MACHINE\\OFFLINE\\Software\\Wufix\\Empty]',
      '',
      '',
    ];
    const text = formatRegFile(keys, { prefix: 'HKEY_LOCAL_MACHINE\\OFFLINE' });
    const got = text.split('\r\n');
    for (let i = 0; i < Math.max(got.length, expected.length); i++) expect([i, got[i]]).toEqual([i, expected[i]]);
    expect(text.startsWith(H5 + '\r\n\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    // and it imports back to the same values
    const ops = parseRegFile(encodeRegFile(text));
    expect(ops.map((o) => [o.kind, o.path])).toEqual([
      ['key', 'HKEY_LOCAL_MACHINE\\OFFLINE'],
      ['key', 'HKEY_LOCAL_MACHINE\\OFFLINE\\Software\\Wufix'],
      ['key', 'HKEY_LOCAL_MACHINE\\OFFLINE\\Software\\Wufix\\Empty'],
    ]);
    expect(ops.map((o) => o.values)).toEqual(keys.map((k) => k.values));
  });

  it("wraps hex data exactly at regedit's boundary", () => {
    const line = (name: string, n: number): string[] =>
      formatRegFile([{ path: 'K', values: [{ name, type: REG.BINARY, data: new Uint8Array(n) }] }], { prefix: 'P' })
        .split('\r\n')
        .slice(3, -2);
    // `"ab"=hex:` is 9 chars: 23 "00," groups reach 78 >= 77, so 23 bytes + 1 last byte fit a line
    // only if the last one is the 23rd or earlier.
    expect(line('ab', 23)).toEqual(['"ab"=hex:' + '00,'.repeat(22) + '00']);
    expect(line('ab', 24)).toEqual(['"ab"=hex:' + '00,'.repeat(23) + '\\', '  00']);
    // continuation lines: 2 + 25 groups = 77 wraps, so at most 25 bytes end the value on one
    expect(line('ab', 23 + 25)).toEqual(['"ab"=hex:' + '00,'.repeat(23) + '\\', '  ' + '00,'.repeat(24) + '00']);
    expect(line('ab', 23 + 26)).toEqual(['"ab"=hex:' + '00,'.repeat(23) + '\\', '  ' + '00,'.repeat(25) + '\\', '  00']);
    // a name already past the limit wraps after the first byte, as regedit does
    const long = 'n'.repeat(80);
    expect(line(long, 3)).toEqual([`"${long}"=hex:00,\\`, '  00,00']);
  });

  it('never writes a line longer than 80 characters (short names), wrapping only when needed', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '"', '\\'), maxLength: 40 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 600 }),
        (name, type, data) => {
          const text = formatRegFile([{ path: 'K', values: [{ name, type, data }] }], { prefix: 'HKLM\\X' });
          const lines = text.split('\r\n').slice(3, -2);
          lines.forEach((l, i) => {
            expect(l.length).toBeLessThanOrEqual(80);
            if (i > 0) expect(l.startsWith('  ')).toBe(true);
            if (i < lines.length - 1) {
              expect(l.endsWith(',\\')).toBe(true);
              expect(l.length - 1).toBeGreaterThanOrEqual(77); // wrapped only once the limit is reached
            } else expect(l.endsWith('\\')).toBe(false);
          });
        },
      ),
    );
  });

  it('writes an empty export as just the header and a blank line', () => {
    expect(formatRegFile([], { prefix: 'HKLM\\X' })).toBe(H5 + '\r\n\r\n');
  });

  it('refuses what a .reg file cannot hold', () => {
    const f =
      (keys: ExportKey[], prefix = 'HKLM\\X') =>
      () =>
        formatRegFile(keys, { prefix });
    expect(f([{ path: 'A', values: [{ name: 'a\0b', type: 1, data: bytes() }] }])).toThrow(FormatError);
    expect(f([{ path: 'A\nB', values: [] }])).toThrow(FormatError);
    expect(f([{ path: '', values: [] }], '')).toThrow(FormatError);
    expect(f([{ path: '-A', values: [] }], '')).toThrow(FormatError);
    expect(f([{ path: 'A', values: [{ name: 'a', type: -1, data: bytes() }] }])).toThrow(FormatError);
    expect(f([{ path: 'A', values: [{ name: 'a', type: 2 ** 32, data: bytes() }] }])).toThrow(FormatError);
  });

  it('accepts a prefix with a trailing backslash and writes "[prefix]" for the root', () => {
    const text = formatRegFile(
      [
        { path: '', values: [] },
        { path: 'A', values: [] },
      ],
      { prefix: 'HKEY_USERS\\S-1\\' },
    );
    expect(text).toBe(`${H5}\r\n\r\n[HKEY_USERS\\S-1]\r\n\r\n[HKEY_USERS\\S-1\\A]\r\n\r\n`);
  });
});

describe('encodeRegFile', () => {
  it('writes UTF-16LE with a BOM, keeping lone surrogates', () => {
    expect(Array.from(encodeRegFile('A\u00e9\ud800'))).toEqual([0xff, 0xfe, 0x41, 0, 0xe9, 0, 0x00, 0xd8]);
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip

const nameChar = fc.oneof(
  fc.constantFrom('"', '\\', '@', '=', ';', '[', ']', '-', ' ', '\t', '\r', '\n', ',', ':', 'é', '€', '😀', '\ud800', '\udfff', 'a'),
  fc.integer({ min: 1, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((s) => !s.includes('\0')),
);
const valueName = fc.string({ unit: nameChar, maxLength: 24 });

const regType = fc.oneof(fc.integer({ min: 0, max: 11 }), fc.constantFrom(0x100000, 0xffffffff, 12, 0x7fffffff), fc.integer({ min: 0, max: 0xffffffff }));

const strUnits = fc.string({ unit: nameChar, maxLength: 200, size: 'large' });
const data = fc.oneof(
  fc.uint8Array({ maxLength: 5000, size: 'max' }),
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 8 }),
  strUnits.map(sz), // well-formed (or not, with lone surrogates / CR / LF)
  strUnits.map(u16), // no terminating NUL
  strUnits.map((s) => u16(s + '\0\0')), // two NULs
  fc.tuple(strUnits, strUnits).map(([a, b]) => u16(a + '\0' + b + '\0')), // embedded NUL
  strUnits.map((s) => Uint8Array.of(...sz(s), 0x41)), // odd length
  strUnits.map((s) => Uint8Array.of(0x41, ...sz(s))), // odd length ending in two zero bytes
  fc.constant(bytes()),
);

const regValue: fc.Arbitrary<RegValue> = fc.oneof(
  fc.record({ name: valueName, type: regType, data }),
  fc.record({ name: valueName, type: fc.constant<number>(REG.SZ), data }),
  fc.record({ name: valueName, type: fc.constant<number>(REG.DWORD), data: fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), data) }),
);

const keyComponent = fc.string({ unit: nameChar, minLength: 1, maxLength: 12 }).filter((s) => !/[\\\r\n]/.test(s));
const exportKey: fc.Arbitrary<ExportKey> = fc.record({
  path: fc.array(keyComponent, { maxLength: 4 }).map((c) => c.join('\\')),
  values: fc.array(regValue, { maxLength: 6 }),
});
const prefix = fc.constantFrom('HKEY_LOCAL_MACHINE\\OFFLINE', 'HKLM\\SOFTWARE', 'HKEY_USERS\\S-1-5-21-1', 'HKEY_CURRENT_USER', 'HKEY_LOCAL_MACHINE\\a]b');

describe('round trip: formatRegFile -> encodeRegFile -> parseRegFile', () => {
  it('gives back every key and value byte for byte', () => {
    fc.assert(
      fc.property(fc.array(exportKey, { maxLength: 5 }), prefix, (keys, pfx) => {
        const text = formatRegFile(keys, { prefix: pfx });
        const ops = parseRegFile(encodeRegFile(text));
        expect(ops.length).toBe(keys.length);
        ops.forEach((op, i) => {
          const key = keys[i]!;
          expect(op.kind).toBe('key');
          expect(op.path).toBe(key.path === '' ? pfx : `${pfx}\\${key.path}`);
          expect(stripHivePrefix(op.path, pfx)).toBe(key.path);
          expect(op.values.length).toBe(key.values.length);
          op.values.forEach((v, j) => {
            const want = key.values[j]!;
            expect(v).not.toHaveProperty('delete');
            const got = v as RegValue;
            expect(got.name).toBe(want.name);
            expect(got.type).toBe(want.type);
            expect(Buffer.from(got.data).equals(Buffer.from(want.data))).toBe(true);
          });
        });
      }),
      { numRuns: 300 },
    );
  });

  it('also round-trips through a JS string and UTF-8 bytes when the text is well-formed Unicode', () => {
    fc.assert(
      fc.property(fc.array(exportKey, { maxLength: 4 }), (keys) => {
        const text = formatRegFile(keys, { prefix: 'HKLM\\X' });
        fc.pre(!/\p{Cs}/u.test(text)); // no lone surrogates
        const viaString = parseRegFile(text);
        const viaUtf8 = parseRegFile(new TextEncoder().encode(text));
        const viaBom = parseRegFile(Uint8Array.of(0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)));
        const want = keys.map((k) => k.values);
        expect(viaString.map((o) => o.values)).toEqual(want);
        expect(viaUtf8.map((o) => o.values)).toEqual(want);
        expect(viaBom.map((o) => o.values)).toEqual(want);
      }),
      { numRuns: 100 },
    );
  });

  it('round-trips large values of every type', () => {
    for (const type of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x100000]) {
      const values = [{ name: `t${type}`, type, data: range(5000) }];
      const ops = parseRegFile(encodeRegFile(formatRegFile([{ path: 'A', values }], { prefix: 'HKLM\\X' })));
      expect(ops[0]!.values).toEqual(values);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Import features

describe('parseRegFile', () => {
  it('reads a hand-written 5.00 file with every construct', () => {
    const text = file5(
      '; a comment before the first key',
      '',
      '  [HKEY_LOCAL_MACHINE\\OFFLINE\\A]  ',
      '@="default"',
      '"Name with \\"quotes\\" and \\\\"="value \\\\ \\"x\\""  ; trailing comment',
      '  "Spaced" = "x"',
      '"Lower"=DWORD:0000ABCD',
      '"Short"=dword:1',
      '"Padded"=dword:  ff  ',
      '"Empty"=""',
      '"EscNR"="a\\r\\nb"',
      '"Bin"=hex:01,02,\\',
      '  03,04,\\',
      '',
      '  ; a comment inside hex data',
      '\t05',
      '"Spaces"=hex(2): 41 , 00 ,00, 00 ;comment',
      '"TrailingComma"=hex:01,02,',
      '"Upper"=HEX(B):01,02,03,04,05,06,07,08',
      '"Type"=hex(00000007):00,00',
      '"BigType"=hex(FfFfFfFf):',
      '"Big"=hex(100000):ab',
      '"Del"=-',
      '"Del2" = -  ; gone',
      '""="empty name means default"',
      '"NoBytes"=hex:\\',
      '  01',
      '',
      '[-HKEY_LOCAL_MACHINE\\OFFLINE\\B]',
      '[HKEY_LOCAL_MACHINE\\OFFLINE\\C]',
      '[HKEY_LOCAL_MACHINE\\OFFLINE\\a]b]',
      '[ leading space]',
    );
    const ops = parseRegFile(text);
    expect(ops).toEqual([
      {
        kind: 'key',
        path: 'HKEY_LOCAL_MACHINE\\OFFLINE\\A',
        values: [
          { name: '', type: 1, data: sz('default') },
          { name: 'Name with "quotes" and \\', type: 1, data: sz('value \\ "x"') },
          { name: 'Spaced', type: 1, data: sz('x') },
          { name: 'Lower', type: 4, data: bytes(0xcd, 0xab, 0, 0) },
          { name: 'Short', type: 4, data: bytes(1, 0, 0, 0) },
          { name: 'Padded', type: 4, data: bytes(0xff, 0, 0, 0) },
          { name: 'Empty', type: 1, data: sz('') },
          { name: 'EscNR', type: 1, data: sz('a\r\nb') },
          { name: 'Bin', type: 3, data: bytes(1, 2, 3, 4, 5) },
          { name: 'Spaces', type: 2, data: bytes(0x41, 0, 0, 0) },
          { name: 'TrailingComma', type: 3, data: bytes(1, 2) },
          { name: 'Upper', type: 11, data: bytes(1, 2, 3, 4, 5, 6, 7, 8) },
          { name: 'Type', type: 7, data: bytes(0, 0) },
          { name: 'BigType', type: 0xffffffff, data: bytes() },
          { name: 'Big', type: 0x100000, data: bytes(0xab) },
          { name: 'Del', delete: true },
          { name: 'Del2', delete: true },
          { name: '', type: 1, data: sz('empty name means default') },
          { name: 'NoBytes', type: 3, data: bytes(1) },
        ],
      },
      { kind: 'delete-key', path: 'HKEY_LOCAL_MACHINE\\OFFLINE\\B', values: [] },
      { kind: 'key', path: 'HKEY_LOCAL_MACHINE\\OFFLINE\\C', values: [] },
      { kind: 'key', path: 'HKEY_LOCAL_MACHINE\\OFFLINE\\a]b', values: [] },
      { kind: 'key', path: ' leading space', values: [] },
    ]);
  });

  it('accepts LF, CR and mixed line ends, and a hex continuation at end of file', () => {
    const text = `${H5}\n\n[HKLM\\X]\r"a"="b"\r\n"c"=hex:01,\\\n  02,\\`;
    expect(onlyValues(parseRegFile(text))).toEqual([
      { name: 'a', type: 1, data: sz('b') },
      { name: 'c', type: 3, data: bytes(1, 2) },
    ]);
  });

  it('decodes UTF-16LE (with and without BOM), UTF-8 (with and without BOM) and ANSI bytes', () => {
    const text = file5('', '[HKLM\\X\\Grüße]', '"ü€"="😀é"', '');
    const want: ImportOp[] = [{ kind: 'key', path: 'HKLM\\X\\Grüße', values: [{ name: 'ü€', type: 1, data: sz('😀é') }] }];
    expect(parseRegFile(encodeRegFile(text))).toEqual(want);
    expect(parseRegFile(encodeRegFile(text).subarray(2))).toEqual(want);
    expect(parseRegFile(new TextEncoder().encode(text))).toEqual(want);
    expect(parseRegFile(Uint8Array.of(0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)))).toEqual(want);
    expect(parseRegFile('\ufeff' + text)).toEqual(want);
    // not valid UTF-8: read as Windows-1252
    const ansi = Uint8Array.from(Buffer.from(`${H5}\r\n[HKLM\\X]\r\n"a"="caf\xe9 \x80"\r\n`, 'latin1'));
    expect(onlyValues(parseRegFile(ansi))).toEqual([{ name: 'a', type: 1, data: sz('café €') }]);
  });

  it('reads REGEDIT4 files: 8-bit hex(1)/hex(2)/hex(7) data is widened to UTF-16LE with a NUL', () => {
    const raw =
      'REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n' +
      '"a"="caf\xe9"\r\n' +
      '"b"=hex(2):25,41,25,00\r\n' +
      '"c"=hex(7):61,00,62,00,00\r\n' +
      '"d"=hex:e9\r\n' +
      '"e"=hex(2):41,80\r\n' +
      '"f"=hex(1):\r\n' +
      '"g"=dword:00000010\r\n';
    const ops = parseRegFile(Uint8Array.from(Buffer.from(raw, 'latin1')));
    expect(ops).toEqual([
      {
        kind: 'key',
        path: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\X',
        values: [
          { name: 'a', type: 1, data: sz('café') },
          { name: 'b', type: 2, data: sz('%A%') },
          { name: 'c', type: 7, data: u16('a\0b\0\0') },
          { name: 'd', type: 3, data: bytes(0xe9) },
          { name: 'e', type: 2, data: sz('A€') },
          { name: 'f', type: 1, data: bytes() },
          { name: 'g', type: 4, data: bytes(0x10, 0, 0, 0) },
        ],
      },
    ]);
  });

  it('keeps 5.00 hex string data byte for byte (no NUL added, odd lengths kept)', () => {
    expect(onlyValues(parseRegFile(file5('[HKLM\\X]', '"a"=hex(2):41,00', '"b"=hex(7):41')))).toEqual([
      { name: 'a', type: 2, data: bytes(0x41, 0) },
      { name: 'b', type: 7, data: bytes(0x41) },
    ]);
  });

  it('accepts header whitespace and a header-only file', () => {
    expect(parseRegFile(`  ${H5}  \r\n`)).toEqual([]);
    expect(parseRegFile('REGEDIT4')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Errors

describe('parseRegFile errors', () => {
  const cases: [string, string, number, RegExp][] = [
    ['empty input', '', 1, /expected "Windows Registry Editor Version 5\.00" or "REGEDIT4"/],
    ['wrong header', 'REGEDIT5\r\n[HKLM\\X]', 1, /not a \.reg file/],
    ['lowercase header', 'windows registry editor version 5.00', 1, /not a \.reg file/],
    ['blank line before header', `\r\n${H5}`, 1, /not a \.reg file/],
    ['Windows 3.1 file', 'REGEDIT\r\nHKEY_CLASSES_ROOT\\x = y', 1, /3\.1/],
    ['value before any key', file5('', '"a"="b"'), 3, /before any \[key\]/],
    ['default value before any key', file5('@="b"'), 2, /before any \[key\]/],
    ['unclosed key', file5('', '[HKLM\\X'), 3, /must end with '\]'/],
    ['text after key', file5('[HKLM\\X] x'), 2, /must end with '\]'/],
    ['empty key', file5('[]'), 2, /empty key name/],
    ['empty key deletion', file5('[-]'), 2, /empty key name/],
    ['value in a deletion', file5('[-HKLM\\X]', '; c', '"a"="b"'), 4, /key deletion/],
    ['garbage line', file5('[HKLM\\X]', '"a"="b"', 'garbage'), 4, /expected a \[key\]/],
    ['missing =', file5('[HKLM\\X]', '"a" "b"'), 3, /expected '='/],
    ['@ without =', file5('[HKLM\\X]', '@"b"'), 3, /expected '='/],
    ['unterminated name', file5('[HKLM\\X]', '"a=1'), 3, /value name has no closing quote/],
    ['name ending in backslash', file5('[HKLM\\X]', '"a\\'), 3, /lone backslash/],
    ['unterminated string', file5('[HKLM\\X]', '"a"="b'), 3, /string has no closing quote/],
    ['text after string', file5('[HKLM\\X]', '"a"="b" c'), 3, /unexpected text "c"/],
    ['unknown escape', file5('[HKLM\\X]', '', '"a"="C:\\Windows"'), 4, /unknown escape sequence \\W/],
    ['NUL escape', file5('[HKLM\\X]', '"a"="x\\0"'), 3, /unknown escape sequence \\0/],
    ['dword too long', file5('[HKLM\\X]', '"a"=dword:123456789'), 3, /1 to 8 hex digits/],
    ['dword empty', file5('[HKLM\\X]', '"a"=dword:'), 3, /1 to 8 hex digits/],
    ['dword not hex', file5('[HKLM\\X]', '"a"=dword:0x10'), 3, /unexpected text "x10"/],
    ['dword two numbers', file5('[HKLM\\X]', '"a"=dword:12 34'), 3, /unexpected text "34"/],
    ['hex byte too long', file5('[HKLM\\X]', '"a"=hex:1,2,300'), 3, /"300" is not a byte/],
    ['hex without commas', file5('[HKLM\\X]', '"a"=hex:01 02'), 3, /expected ','/],
    ['hex double comma', file5('[HKLM\\X]', '"a"=hex:01,,02'), 3, /expected a hex byte/],
    ['hex leading comma', file5('[HKLM\\X]', '"a"=hex:,01'), 3, /expected a hex byte/],
    ['hex backslash without comma', file5('[HKLM\\X]', '"a"=hex:01\\', '  02'), 3, /expected ','/],
    ['hex non-hex', file5('[HKLM\\X]', '"a"=hex:0g'), 3, /expected ','/],
    ['hex type too big', file5('[HKLM\\X]', '"a"=hex(100000000):01'), 3, /larger than 0xffffffff/],
    ['hex type 0x', file5('[HKLM\\X]', '"a"=hex(0x1):01'), 3, /unknown value data/],
    ['hex type empty', file5('[HKLM\\X]', '"a"=hex():01'), 3, /unknown value data/],
    ['unknown data', file5('[HKLM\\X]', '"a"=foo'), 3, /unknown value data "foo"/],
    ['no data', file5('[HKLM\\X]', '"a"='), 3, /unknown value data ""/],
    ['text after continuation', file5('[HKLM\\X]', '"a"=hex:01,\\ x'), 3, /after the continuation/],
    ['continuation into a value', file5('[HKLM\\X]', '"a"=hex:01,\\', '', '"b"="c"'), 5, /continuing the value on line 3/],
    ['continuation into a key', file5('[HKLM\\X]', '"a"=hex:01,\\', '[HKLM\\Y]'), 4, /continuing the value on line 3/],
    ['bad byte on continuation', file5('[HKLM\\X]', '"a"=hex:01,\\', '  02,\\', '  03,zz'), 5, /expected a hex byte/],
    ['text after delete', file5('[HKLM\\X]', '"a"=- x'), 3, /unexpected text "x"/],
    ['NUL in text', file5('[HKLM\\X]', '"a"="b\0"'), 3, /NUL character/],
    ['NUL in continuation', file5('[HKLM\\X]', '"a"=hex:01,\\', '\0', ''), 4, /NUL character/],
    ['only trailing NULs at the end are ignored', file5('[HKLM\\X]', 'bad\0\0'), 3, /expected a \[key\]/],
  ];
  for (const [what, text, line, msg] of cases) {
    it(`${what}: line ${line}`, () => {
      const e = formatErrorOf(() => parseRegFile(text));
      expect(e.message).toMatch(new RegExp(`^line ${line}: `));
      expect(e.message).toMatch(msg);
      expect(e.offset).toBeUndefined();
      expect(e.code).toBe('format');
      // the same line number when read from regedit's UTF-16LE bytes and from UTF-8 bytes
      expect(formatErrorOf(() => parseRegFile(encodeRegFile(text))).message).toBe(e.message);
      expect(formatErrorOf(() => parseRegFile(new TextEncoder().encode(text))).message).toBe(e.message);
    });
  }

  it('rejects UTF-16BE and broken UTF-8-with-BOM files on line 1', () => {
    expect(formatErrorOf(() => parseRegFile(Uint8Array.of(0xfe, 0xff, 0, 0x57))).message).toMatch(/^line 1: .*big-endian/);
    expect(formatErrorOf(() => parseRegFile(Uint8Array.of(0xef, 0xbb, 0xbf, 0xff))).message).toMatch(/^line 1: .*UTF-8/);
  });

  const token = fc.constantFrom(
    '[',
    ']',
    '[-',
    '"',
    '\\',
    '\\\\',
    '\\"',
    '=',
    '@',
    'hex',
    'hex:',
    'hex(',
    'hex(2):',
    ')',
    ':',
    'dword:',
    'DWORD:',
    ',',
    '-',
    ';',
    ' ',
    '\t',
    '\r\n',
    '\n',
    '\r',
    '0',
    'f',
    'ff',
    '100',
    'a',
    'x',
    '\0',
    '\ud800',
    'é',
    'HKLM\\X',
    '\\\r\n  ',
  );
  const garbageLines = fc.array(token, { maxLength: 60 }).map((t) => t.join(''));

  /** Anything but a FormatError (or a FormatError with a bad line number) fails. */
  function parsesOrFormatError(input: Uint8Array | string, text: string): void {
    try {
      parseRegFile(input);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      const m = /^line (\d+): /.exec(e.message);
      expect(m, e.message).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThanOrEqual(1);
      expect(Number(m![1])).toBeLessThanOrEqual(text.split(/\r\n|\r|\n/).length);
      expect(e.offset).toBeUndefined();
    }
  }

  it('never throws anything but FormatError "line N: ..." on random text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), garbageLines), (s) => parsesOrFormatError(s, s)),
      { numRuns: 500 },
    );
  });

  it('never throws anything but FormatError on random lines after a valid header', () => {
    fc.assert(
      fc.property(fc.constantFrom(H5, 'REGEDIT4'), garbageLines, fc.boolean(), (h, body, withKey) => {
        const text = `${h}\r\n${withKey ? '[HKLM\\X]\r\n' : ''}${body}`;
        parsesOrFormatError(text, text);
        parsesOrFormatError(encodeRegFile(text), text);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws anything but FormatError on random bytes', () => {
    const header = new TextEncoder().encode(H5 + '\r\n');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('raw', 'bom16', 'header8', 'header16'), (b, how) => {
        let input: Uint8Array = b;
        if (how === 'bom16') input = Uint8Array.of(0xff, 0xfe, ...b);
        else if (how === 'header8') input = Uint8Array.of(...header, ...b);
        else if (how === 'header16') input = Uint8Array.of(...encodeRegFile(H5 + '\r\n'), ...b);
        try {
          parseRegFile(input);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
          expect(e.message).toMatch(/^line \d+: /);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// stripHivePrefix

describe('stripHivePrefix', () => {
  it('strips an explicit prefix case-insensitively', () => {
    expect(stripHivePrefix('HKEY_LOCAL_MACHINE\\OFFLINE\\Microsoft\\Windows', 'hkey_local_machine\\offline')).toBe('Microsoft\\Windows');
    expect(stripHivePrefix('HKEY_LOCAL_MACHINE\\OFFLINE', 'HKEY_LOCAL_MACHINE\\OFFLINE')).toBe('');
    expect(stripHivePrefix('HKEY_LOCAL_MACHINE\\OFFLINE\\A', 'HKEY_LOCAL_MACHINE\\OFFLINE\\')).toBe('A');
    expect(stripHivePrefix('HKEY_CLASSES_ROOT\\CLSID\\{x}', 'HKEY_CLASSES_ROOT')).toBe('CLSID\\{x}');
    expect(stripHivePrefix('HKLM\\ÄÖ\\x', 'hklm\\äö')).toBe('x');
  });

  it('requires the prefix to end at a key boundary, naming both paths', () => {
    const e = formatErrorOf(() => stripHivePrefix('HKLM\\OFFLINEX\\A', 'HKLM\\OFFLINE'));
    expect(e.message).toContain('"HKLM\\\\OFFLINEX\\\\A"');
    expect(e.message).toContain('"HKLM\\\\OFFLINE"');
    expect(() => stripHivePrefix('HKLM\\SOFTWARE\\A', 'HKLM\\SYSTEM')).toThrow(FormatError);
    expect(() => stripHivePrefix('HKLM', 'HKLM\\SOFTWARE')).toThrow(FormatError);
  });

  it('maps the usual hive mount points without a prefix', () => {
    expect(stripHivePrefix('HKEY_LOCAL_MACHINE\\OFFLINE\\Microsoft\\Windows')).toBe('Microsoft\\Windows');
    expect(stripHivePrefix('HKLM\\SOFTWARE\\Microsoft')).toBe('Microsoft');
    expect(stripHivePrefix('hkey_local_machine\\offline')).toBe('');
    expect(stripHivePrefix('HKEY_LOCAL_MACHINE\\OFFLINE\\')).toBe('');
    expect(stripHivePrefix('HKEY_USERS\\S-1-5-21-1\\Software\\X')).toBe('Software\\X');
    expect(stripHivePrefix('HKU\\.DEFAULT\\A\\B')).toBe('A\\B');
    expect(stripHivePrefix('HKEY_CURRENT_USER\\Software\\X')).toBe('Software\\X');
    expect(stripHivePrefix('hkcu\\Software')).toBe('Software');
    expect(stripHivePrefix('HKEY_CURRENT_USER')).toBe('');
  });

  it('asks for --prefix for anything else', () => {
    for (const p of [
      'HKEY_LOCAL_MACHINE',
      'HKLM\\',
      'HKEY_CLASSES_ROOT\\CLSID',
      'HKCR\\x',
      'HKEY_CURRENT_CONFIG\\System',
      'garbage',
      '',
      'HKEY_LOCAL_MACHINEX\\A\\B',
    ]) {
      const e = formatErrorOf(() => stripHivePrefix(p));
      expect(e.message).toContain('--prefix');
    }
  });
});
