// The one size convention (issue #17 item 7): MiB/GiB, rounded down, the exact bytes where given.
import { describe, it, expect } from 'vitest';
import { describeBytes, fmtBytes, fmtMiB, fmtSize, GiB, MiB } from './units.js';

describe('sizes', () => {
  it('say MiB and GiB, never MB, and never round up', () => {
    expect(fmtBytes(250 * MiB)).toBe('250 MiB');
    expect(fmtBytes(250 * MiB - 1)).toBe('249 MiB'); // floor(bytes / 1048576) from 10 MiB on
    expect(fmtBytes(86896640)).toBe(`${Math.floor(86896640 / MiB)} MiB`);
    expect(fmtBytes(5 * MiB - 1)).toBe('4.9 MiB');
    expect(fmtBytes(0)).toBe('0.0 MiB');
    expect(fmtMiB(86896640)).toBe('82.8 MiB'); // 82.87 MiB: down to 0.1
    expect(fmtMiB(525 * MiB)).toBe('525 MiB');
    expect(describeBytes(86896640)).toBe('82.8 MiB (86896640 bytes)');
    expect(describeBytes(250 * MiB)).toBe('250 MiB (262144000 bytes)');
    expect(fmtSize(4 * GiB - MiB)).toBe('3.9 GiB');
    expect(fmtSize(4 * GiB)).toBe('4.0 GiB');
    expect(fmtSize(525 * MiB)).toBe('525 MiB');
    for (const n of [0, 1, MiB - 1, 10 * MiB - 1, 123456789, 2 ** 40 + 7]) expect(`${fmtBytes(n)} ${describeBytes(n)} ${fmtSize(n)}`).not.toMatch(/\bMB\b/);
  });
});
