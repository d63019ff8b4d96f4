import { describe, it, expect } from 'vitest';
import { clfsProblem, isTxrLogName, CLFS_HEAD_BYTES } from './clfs.js';

function blfHead(total = 2, valid = 2, record = 0x70): Uint8Array {
  const b = Buffer.alloc(CLFS_HEAD_BYTES);
  b[0] = 0x15;
  b.writeUInt16LE(total, 4);
  b.writeUInt16LE(valid, 6);
  b.writeUInt32LE(record, 0x28);
  return b;
}

describe('TxR log names', () => {
  it('only *.blf and *.regtrans-ms, never the hive logs', () => {
    expect(isTxrLogName('{53b39e88-18c4-11ea-a811-000d3aa4692b}.TxR.blf')).toBe(true);
    expect(isTxrLogName('{53b39e88-18c4-11ea-a811-000d3aa4692b}.TMContainer00000000000000000001.regtrans-ms')).toBe(true);
    expect(isTxrLogName('X.REGTRANS-MS')).toBe(true);
    for (const n of ['SYSTEM.LOG1', 'SOFTWARE.LOG2', 'COMPONENTS', '.blf', 'a.blf.wufix-20240101T000000Z-abcdef', 'a.blf.bak'])
      expect(isTxrLogName(n), n).toBe(false);
  });
});

describe('clfsProblem', () => {
  it('a CLFS-shaped .blf and a whole-sector container are sound', () => {
    expect(clfsProblem('a.TxR.blf', 65536, blfHead())).toBeUndefined();
    expect(clfsProblem('a.TxR.0.regtrans-ms', 524288, new Uint8Array(0))).toBeUndefined();
  });
  it('empty, truncated, zeroed, foreign or inconsistent files are damaged', () => {
    expect(clfsProblem('a.blf', 0, new Uint8Array(0))).toBe('is empty (0 bytes)');
    expect(clfsProblem('a.regtrans-ms', 1000, new Uint8Array(0))).toBe('is 1000 bytes, not a whole number of 512-byte sectors (truncated)');
    expect(clfsProblem('a.blf', 512, new Uint8Array(512))).toBe('is 512 bytes, too short for a CLFS control record');
    expect(clfsProblem('a.blf', 65536, new Uint8Array(CLFS_HEAD_BYTES))).toBe('starts with zeros, not a CLFS log block (overwritten)');
    const mz = new Uint8Array(CLFS_HEAD_BYTES);
    mz[0] = 0x4d;
    expect(clfsProblem('a.blf', 65536, mz)).toBe('does not start with a CLFS log block (version byte 0x4d, not 0x15)');
    expect(clfsProblem('a.blf', 1024, blfHead(4, 2))).toBe('has a control record of 2/4 sectors, which does not fit the 1024-byte file');
    expect(clfsProblem('a.blf', 65536, blfHead(2, 3))).toBe('has a control record of 3/2 sectors, which does not fit the 65536-byte file');
    expect(clfsProblem('a.blf', 65536, blfHead(2, 2, 0x400))).toBe('has a control record offset 0x400 outside its block');
  });
});
