import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { marvin32, REGISTRY_LOG_SEED } from '../../src/hive/marvin32.js';
import { hiveFixture, sharedReason, skipReason } from '../helpers/env.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

// Reference vectors from dotnet/corefx src/Common/tests/Tests/System/MarvinTests.cs (MIT),
// the 64-bit Marvin.ComputeHash results; they cover empty input and 1-3 byte tails.
const SEED1 = 0x4fb61a001bdbccn;
const SEED2 = 0x804fb61a001bdbccn;
const SEED3 = 0x804fb61a801bdbccn;
const DATA = ['', 'af', 'e70f', '37f495', '8642dc59', '153fb79826', '0932e6246c47', 'ab427ea8d10fc7'];
const VECTORS: [bigint, string, bigint][] = [
  [SEED1, DATA[0]!, 0x30ed35c100cd3c7dn],
  [SEED1, DATA[1]!, 0x48e73fc77d75ddc1n],
  [SEED1, DATA[2]!, 0xb5f6e1fc485dbff8n],
  [SEED1, DATA[3]!, 0xf0b07c789b8cf7e8n],
  [SEED1, DATA[4]!, 0x7008f2e87e9cf556n],
  [SEED1, DATA[5]!, 0xe6c08c6da2afa997n],
  [SEED1, DATA[6]!, 0x6f04bf1a5ea24060n],
  [SEED1, DATA[7]!, 0xe11847e4f0678c41n],
  [SEED2, DATA[0]!, 0x10a9d5d3996fd65dn],
  [SEED2, DATA[1]!, 0x68201f91960ebf91n],
  [SEED2, DATA[2]!, 0x64b581631f6ab378n],
  [SEED2, DATA[3]!, 0xe1f2dfa6e5131408n],
  [SEED2, DATA[4]!, 0x36289d9654fb49f6n],
  [SEED2, DATA[5]!, 0x0a06114b13464dbdn],
  [SEED2, DATA[6]!, 0xd6dd5e40ad1bc2edn],
  [SEED2, DATA[7]!, 0xe203987dba252fb3n],
  [SEED3, '00', 0xa37fb0da2ecae06cn],
  [SEED3, 'ff', 0xfecef370701ae054n],
  [SEED3, '00ff', 0xa638e75700048880n],
  [SEED3, 'ff00', 0xbdfb46d969730e2an],
  [SEED3, 'ff00ff', 0x9d8577c0fe0d30bfn],
  [SEED3, '00ff00', 0x4f9fbdde15099497n],
  [SEED3, '00ff00ff', 0x24eaa279d9a529can],
  [SEED3, 'ff00ff00', 0xd3bec7726b057943n],
  [SEED3, 'ff00ff00ff', 0x920b62bbca3e0b72n],
  [SEED3, '00ff00ff00', 0x1d7ddf9dfdf3c1bfn],
  [SEED3, '00ff00ff00ff', 0xec21276a17e821a5n],
  [SEED3, 'ff00ff00ff00', 0x6911a53ca8c12254n],
  [SEED3, 'ff00ff00ff00ff', 0xfdfd187b1d3ce784n],
  [SEED3, '00ff00ff00ff00', 0x71876f2efb1b0ee8n],
];

describe('marvin32: published reference vectors', () => {
  it.each(VECTORS.map(([seed, data, want]) => ({ seed, data, want })))('seed $seed, data "$data"', ({ seed, data, want }) => {
    expect(marvin32(hex(data), seed)).toBe(want);
  });

  it('defaults to the registry log seed 0x82EF4D887A4E55C5', () => {
    expect(REGISTRY_LOG_SEED).toBe(0x82ef4d887a4e55c5n);
    const d = hex('0102030405060708090a0b0c');
    expect(marvin32(d)).toBe(marvin32(d, 0x82ef4d887a4e55c5n));
    expect(marvin32(d)).not.toBe(marvin32(d, SEED1));
  });

  it('hashes a subarray view by its own bytes, not the underlying buffer', () => {
    const big = hex('ffffffff8642dc59ffffffff');
    expect(marvin32(big.subarray(4, 8), SEED1)).toBe(0x7008f2e87e9cf556n);
  });
});

// Hash-1 / Hash-2 stored by Windows in real new-format log entries (registry-hives.md section 3):
// Hash-1 @24 = Marvin32(entry[40..size)), Hash-2 @32 = Marvin32(entry[0..32)).
const reason = skipReason(sharedReason());
describe.skipIf(!!reason)(`marvin32: hashes stored in real transaction logs${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const LOGS = [
    'regipy/SYSTEM_B.LOG1',
    'regipy/UsrClass.dat.LOG2',
    'regipy/transactions_ntuser.dat.log1',
    'DFIRArtifactMuseum/Win11/DEFAULT.LOG1',
    'DFIRArtifactMuseum/Win11/BCD-Template.LOG',
  ];
  it.each(LOGS)('%s: the first entries hash to their stored Hash-1 and Hash-2', (dest) => {
    const b = new Uint8Array(readFileSync(hiveFixture(dest)));
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let pos = 512;
    let checked = 0;
    // Walk the first entries by their size field (at least one per log).
    while (checked < 3 && pos + 40 <= b.length && String.fromCharCode(...b.subarray(pos, pos + 4)) === 'HvLE') {
      const size = dv.getUint32(pos + 4, true);
      expect(size % 512).toBe(0);
      expect(marvin32(b.subarray(pos, pos + 32))).toBe(dv.getBigUint64(pos + 32, true));
      expect(marvin32(b.subarray(pos + 40, pos + size))).toBe(dv.getBigUint64(pos + 24, true));
      // A single flipped bit no longer matches.
      const copy = b.slice(pos, pos + size);
      copy[size - 1]! ^= 1;
      expect(marvin32(copy.subarray(40))).not.toBe(dv.getBigUint64(pos + 24, true));
      pos += size;
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });
});
