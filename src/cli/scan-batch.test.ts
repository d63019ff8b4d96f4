import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expandImages, globRegExp } from './scan-batch.js';

describe('batch: --image globs are expanded by wufix', () => {
  it('* ? [..] [!..] match within one name; regex characters are literal', () => {
    expect(globRegExp('*.img').test('a.img')).toBe(true);
    expect(globRegExp('*.img').test('a.imgx')).toBe(false);
    expect(globRegExp('disk?.img').test('disk1.img')).toBe(true);
    expect(globRegExp('disk[12].img').test('disk3.img')).toBe(false);
    expect(globRegExp('disk[!12].img').test('disk3.img')).toBe(true);
    expect(globRegExp('a+b(1).img').test('a+b(1).img')).toBe(true);
    expect(globRegExp('a.img').test('aximg')).toBe(false);
  });

  it('expands in order, sorted per pattern, each image once; a pattern matching nothing is bad input', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-glob-'));
    try {
      mkdirSync(path.join(dir, 'lab', 'sub'), { recursive: true });
      for (const n of ['b.img', 'a.img', '.hidden.img', 'c.qcow2']) writeFileSync(path.join(dir, 'lab', n), '');
      writeFileSync(path.join(dir, 'lab', 'sub', 'd.img'), '');
      expect(expandImages([`${dir}/lab/*.img`])).toEqual([`${dir}/lab/a.img`, `${dir}/lab/b.img`]);
      expect(expandImages([`${dir}/lab/b.img`, `${dir}/lab/*.img`])).toEqual([`${dir}/lab/b.img`, `${dir}/lab/a.img`]);
      expect(expandImages([`${dir}/*/*/*.img`])).toEqual([`${dir}/lab/sub/d.img`]);
      expect(expandImages([`${dir}/lab/missing.img`])).toEqual([`${dir}/lab/missing.img`]); // no glob: the worker says it does not exist
      expect(() => expandImages([`${dir}/lab/*.vhdx`])).toThrow(/no file matches this pattern/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
