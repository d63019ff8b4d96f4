import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { UP, upcase, compareNames, lhHash, lfHint, encodeName, decodeName } from '../../src/hive/names.js';
import { UPCASE_SOURCE_SHA256 } from '../../src/hive/upcase-table.js';
import { SHARED, sharedReason } from '../helpers/env.js';
import { createHash } from 'node:crypto';

describe('Windows collation table carried in the product', () => {
  const table = path.join(SHARED, 'data', 'upcase-win10.u16le');
  const reason = existsSync(table) ? undefined : (sharedReason() ?? 'upcase table missing');
  it.skipIf(!!reason)('equals ../shared/data/upcase-win10.u16le entry for entry', () => {
    const buf = readFileSync(table);
    expect(createHash('sha256').update(buf).digest('hex')).toBe(UPCASE_SOURCE_SHA256);
    let diffs = 0;
    for (let i = 0; i < 65536; i++) if (UP[i] !== buf.readUInt16LE(i * 2)) diffs++;
    expect(diffs).toBe(0);
  });

  it('differs from JavaScript toUpperCase where Windows does', () => {
    // µ, ı, ſ, ǅ, ς and ß map to themselves in Windows' table.
    for (const c of ['\u00b5', '\u0131', '\u017f', '\u01c5', '\u03c2', '\u00df']) expect(upcase(c)).toBe(c);
    expect(upcase('\uff41')).toBe('\uff21');
    expect(upcase('abc\u00e9')).toBe('ABC\u00c9');
    // Astral characters are not folded (code units are folded one by one).
    expect(upcase('\ud801\udc28')).toBe('\ud801\udc28');
  });

  it('orders names code unit by code unit, shorter prefix first', () => {
    expect(compareNames('abc', 'ABC')).toBe(0);
    expect(compareNames('ab', 'abc')).toBeLessThan(0);
    expect(compareNames('a_', 'aZ')).toBeGreaterThan(0); // '_' (0x5f) sorts after 'Z' (0x5a)
    expect(compareNames('Software', 'SYSTEM')).toBeLessThan(0);
  });

  it('computes lh hashes and lf hints', () => {
    // h = h*37 + up(c): "A" = 65; "ab" = 65*37 + 66
    expect(lhHash('a')).toBe(65);
    expect(lhHash('ab')).toBe(65 * 37 + 66);
    expect(lhHash('')).toBe(0);
    expect(lfHint('Software')).toBe(0x74666f53); // "Soft" little endian, case preserved
    expect(lfHint('ab')).toBe(0x00006261);
    expect(lfHint('ab\u0100c') & 0xff).toBe(0);
  });

  it('encodes compressed (Latin-1) and UTF-16 names', () => {
    const a = encodeName('Caf\u00e9');
    expect(a.compressed).toBe(true);
    expect(decodeName(a.bytes, 0, a.bytes.length, true)).toBe('Caf\u00e9');
    const b = encodeName('\u4e2d\u6587');
    expect(b.compressed).toBe(false);
    expect(decodeName(b.bytes, 0, b.bytes.length, false)).toBe('\u4e2d\u6587');
  });
});
