// openBlockDevice on a real Linux block device (a loop device of a small image): the size and the
// logical sector size come from sysfs and must equal what `blockdev` (BLKGETSIZE64/BLKSSZGET) says.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openBlockDevice } from '../../src/disk/blockdev.js';

const reason = process.getuid?.() !== 0 ? 'needs root for losetup' : undefined;

describe.skipIf(!!reason)(`openBlockDevice on loop devices${reason ? ` (skipped: ${reason})` : ''}`, () => {
  for (const ss of [512, 4096]) {
    it(`a ${ss}-byte-sector loop device: size and sector size as blockdev reports them`, () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-blockdev-'));
      const img = path.join(dir, 'disk.img');
      writeFileSync(img, '');
      truncateSync(img, 48 * 1024 * 1024 + 3 * 4096);
      let loop: string | undefined;
      try {
        loop = execFileSync('losetup', ['--find', '--show', '--sector-size', String(ss), img], { encoding: 'utf8' }).trim();
        const [size, sector] = execFileSync('blockdev', ['--getsize64', '--getss', loop], { encoding: 'utf8' }).trim().split('\n').map(Number);
        const dev = openBlockDevice(loop);
        try {
          expect(dev.kind).toBe('block');
          expect(dev.sectorSize).toBe(ss);
          expect(sector).toBe(ss);
          expect(dev.size).toBe(size! - (size! % ss));
          expect(dev.read(0, 16)).toEqual(new Uint8Array(16));
        } finally {
          dev.close();
        }
      } finally {
        if (loop) execFileSync('losetup', ['-d', loop]);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
