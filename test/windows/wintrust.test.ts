// WinTrust State: the setreg vectors of windows-update.md §1, and State as found in real user hives
// (every DFIRArtifactMuseum / regipy user hive carries the 0x23C00 default, read also by libhivex).
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Hive } from '../../src/hive/hive.js';
import { REG } from '../../src/hive/regtext.js';
import { writeNewHiveFile } from '../../src/hive/hivefile.js';
import { WINTRUST_KEY, DEFAULT_STATE, decodeState, encodeState, formatSetreg, readState, isDefaultEquivalent } from '../../src/windows/wintrust.js';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';

const dword = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};

describe('decodeState (setreg rule, windows-update.md §1)', () => {
  it('0xC9 -> TRUE {1,2,3,9}', () => {
    const d = decodeState(0xc9);
    expect(d.enabledSet).toEqual([1, 2, 3, 9]);
    expect(d.unknownBits).toBe(0x49);
  });
  it('0x22849 -> TRUE {2,3,5,7} (0x20000 set, so #9 is FALSE)', () => {
    const d = decodeState(0x22849);
    expect(d.enabledSet).toEqual([2, 3, 5, 7]);
    expect(d.options.find((o) => o.n === 9)!.enabled).toBe(false);
    expect(d.unknownBits).toBe(0x49);
  });
  it('default 0x23C00 -> TRUE {2,3,4,5,6,7}', () => {
    expect(DEFAULT_STATE).toBe(0x23c00);
    expect(decodeState(0x23c00).enabledSet).toEqual([2, 3, 4, 5, 6, 7]);
    expect(decodeState(0x23c00).unknownBits).toBe(0);
  });
  it('0x23E00 turns revocation checking off (#3 FALSE, KB2715304)', () => {
    const d = decodeState(0x23e00);
    expect(d.options.find((o) => o.n === 3)!.enabled).toBe(false);
  });
  it('0x40000 (the appsense 0x800B0109 case): only #10, and #2, #3, #9 by inversion', () => {
    expect(decodeState(0x40000).enabledSet).toEqual([2, 3, 9, 10]);
  });
  it('option 1 reads TRUE with either bit (0x20 or 0x80)', () => {
    expect(decodeState(0x20).enabledSet).toContain(1);
    expect(decodeState(0x80).enabledSet).toContain(1);
    expect(decodeState(0).enabledSet).toEqual([2, 3, 9]);
  });
  it('encodeState is the inverse on the setreg bits and writes both bits of option 1', () => {
    expect(encodeState([2, 3, 4, 5, 6, 7])).toBe(0x23c00);
    expect(encodeState([1, 2, 3, 4, 5, 6, 7])).toBe(0x23ca0);
    expect(encodeState([2, 3, 5, 7], 0x22849)).toBe(0x22849);
    expect(encodeState([1, 2, 3, 9], 0xc9)).toBe(0xe9); // setreg writes 0x20 too
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (s) => {
        const d = decodeState(s);
        expect(decodeState(encodeState(d.enabledSet, s)).enabledSet).toEqual(d.enabledSet);
        expect(decodeState(encodeState(d.enabledSet, s)).unknownBits).toBe(d.unknownBits);
      }),
    );
  });
  it('isDefaultEquivalent ignores unknown bits only', () => {
    expect(isDefaultEquivalent(0x23c00)).toBe(true);
    expect(isDefaultEquivalent(0x23c49)).toBe(true);
    expect(isDefaultEquivalent(0xc9)).toBe(false);
  });
  it('formatSetreg lists the ten options with TRUE/FALSE, ASCII only', () => {
    const t = formatSetreg(0xc9);
    const lines = t.split('\n');
    expect(lines[0]).toBe('Software Publishing State Key Values (0xc9):');
    expect(lines).toHaveLength(12);
    expect(lines[1]).toMatch(/^\t1\) Trust the Test Root\.+ TRUE$/);
    expect(lines[4]).toMatch(/^\t4\) Offline revocation server OK \(Individual\)\.+ FALSE$/);
    expect(lines[9]).toMatch(/^\t9\) Check the revocation list on Time Stamp Signer\.+ TRUE$/);
    expect(lines[11]).toContain('0x49');
    expect(/^[\x09\x0a\x20-\x7e]*$/.test(t)).toBe(true);
  });
});

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));

describe.skipIf(!!reason)('readState on real and generated hives', () => {
  const REAL = [
    'regipy/NTUSER.DAT',
    'DFIRArtifactMuseum/Win11/DEFAULT',
    'DFIRArtifactMuseum/Win11/NTUSER.DAT',
    'DFIRArtifactMuseum/Win11/LocalService/NTUSER.DAT',
    'DFIRArtifactMuseum/Win11/NetworkService/NTUSER.DAT',
    'DFIRArtifactMuseum/Win11/DEFAULT_PROFILE/NTUSER.DAT',
    'DFIRArtifactMuseum/Win7/NTUSER1.DAT',
  ];
  for (const dest of reason ? [] : REAL) {
    it(`${dest}: State equals what libhivex reads`, () => {
      const file = hiveFixture(dest);
      const row = hivexDump(file).find((r) => r.path.toLowerCase() === WINTRUST_KEY.toLowerCase());
      const v = row?.values.find((x) => x.name === 'State');
      expect(v).toBeDefined();
      const theirs = Buffer.from(v!.data, 'hex').readUInt32LE(0);
      const ours = readState(Hive.open(new Uint8Array(readFileSync(file))));
      expect(ours).toBe(theirs);
      expect(ours).toBe(0x23c00); // the Windows default, as windows-update.md §1 says
    });
  }

  it('absent key -> undefined (hivex/minimal has no Software key)', () => {
    const file = hiveFixture('hivex/minimal');
    expect(hivexDump(file).some((r) => r.path.toLowerCase().startsWith('software'))).toBe(false);
    expect(readState(Hive.open(new Uint8Array(readFileSync(file))))).toBeUndefined();
  });

  it('generated hive: 0xC9 written by the engine is read back by us and by libhivex', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-wintrust-'));
    try {
      const h = Hive.create();
      h.setValue(h.ensureKey(WINTRUST_KEY), 'State', REG.DWORD, dword(0xc9));
      const f = path.join(dir, 'NTUSER.DAT');
      await writeNewHiveFile(f, h);
      const row = hivexDump(f).find((r) => r.path === WINTRUST_KEY)!;
      expect(row.values).toEqual([{ name: 'State', type: 4, data: 'c9000000' }]);
      const back = Hive.open(new Uint8Array(readFileSync(f)));
      expect(readState(back)).toBe(0xc9);
      expect(decodeState(readState(back)!).enabledSet).toEqual([1, 2, 3, 9]);
      // A State of the wrong type is not a DWORD: reads as absent.
      h.setValue(h.ensureKey(WINTRUST_KEY), 'State', REG.SZ, new Uint8Array([0x31, 0, 0, 0]));
      expect(readState(h)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
