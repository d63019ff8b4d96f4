// The ntfs-3g adapters on real NTFS volumes (mkntfs on a loop device): info, shrink with data on
// it, and a new labelled volume, checked with ntfsresize --info, ntfsfix and ntfs-3g.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, truncateSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { toolsReason, skipReason } from '../helpers/env.js';
import { ntfsInfo, ntfsResize, mkntfs, ntfsCheck, parseNtfsResizeInfo, ntfsCopyIn, filePosition } from '../../src/platform/ntfs.js';
import { BadInputError, RefusedError } from '../../src/shared/errors.js';

const MiB = 1024 * 1024;
const reason = skipReason(
  toolsReason('ntfsresize', 'mkntfs', 'ntfs-3g', 'ntfsfix', 'ntfscp', 'losetup'),
  typeof process.getuid === 'function' && process.getuid() !== 0 ? 'needs root (loop devices)' : undefined,
);

function withLoop<T>(file: string, fn: (dev: string) => T | Promise<T>, size?: number): Promise<T> {
  const args = ['--find', '--show', ...(size ? ['--sizelimit', String(size)] : []), file];
  const dev = execFileSync('losetup', args, { encoding: 'utf8' }).trim();
  return Promise.resolve()
    .then(() => fn(dev))
    .finally(() => execFileSync('losetup', ['--detach', dev]));
}

describe.skipIf(process.platform !== 'linux')('progress of a running tool', () => {
  it("reads another process's position in a file from /proc (what ntfscp's progress bar shows)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-pos-'));
    const file = path.join(dir, 'data.bin');
    writeFileSync(file, Buffer.alloc(64 * 1024));
    // fd 3 stays open on the file; dd advances the shared file position by 5000 bytes, then the shell waits.
    const child = spawn('sh', ['-c', 'exec 3<"$0"; dd bs=1000 count=5 <&3 >/dev/null 2>&1; echo ready; exec sleep 30', file], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      expect(filePosition(child.pid!, file)).toBe(5000);
      expect(filePosition(child.pid!, path.join(dir, 'other.bin'))).toBeUndefined();
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(filePosition(2 ** 22 + 12345, file)).toBeUndefined(); // no such process
  });
});

describe.skipIf(!!reason)('ntfs adapters', () => {
  it('parses ntfsresize --info and refuses a volume it cannot resize', () => {
    const ok = parseNtfsResizeInfo(
      'Current volume size: 629142016 bytes (630 MB)\nCurrent device size: 629145600 bytes (630 MB)\nSpace in use       : 4 MB (0.6%)\nYou might resize at 3624960 bytes or 4 MB (freeing 626 MB).\n',
    );
    expect(ok).toEqual({ volumeBytes: 629142016, deviceBytes: 629145600, minBytes: 3624960, usedBytes: 4e6 });
    expect(() => parseNtfsResizeInfo('ERROR: The NTFS partition is hibernated.\n')).toThrow(RefusedError);
  });

  it('shrinks a volume with data on it: files intact, ntfsfix clean once the device matches', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-ntfs-'));
    try {
      const img = path.join(dir, 'v.img');
      writeFileSync(img, '');
      truncateSync(img, 600 * MiB);
      const mnt = path.join(dir, 'm');
      mkdirSync(mnt);
      const data = Buffer.alloc(40 * MiB);
      for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
      const sha = createHash('sha256').update(data).digest('hex');
      await withLoop(img, async (dev) => {
        mkntfs(dev, 'Windows');
        execFileSync('ntfs-3g', [dev, mnt]);
        writeFileSync(path.join(mnt, 'data.bin'), data);
        execFileSync('umount', [mnt]);
        const before = ntfsInfo(dev);
        expect(before.volumeBytes).toBeGreaterThan(590 * MiB);
        expect(before.minBytes).toBeGreaterThan(40 * MiB);
        const progress: string[] = [];
        await ntfsResize(dev, 300 * MiB, (m) => progress.push(m));
        expect(progress[0]).toMatch(/test run/);
        expect(ntfsInfo(dev).volumeBytes).toBeLessThanOrEqual(300 * MiB);
      });
      // The partition (here: the loop device) shrunk to match: consistent and readable.
      await withLoop(
        img,
        (dev) => {
          expect(ntfsCheck(dev).ok).toBe(true);
          execFileSync('ntfs-3g', ['-o', 'ro', dev, mnt]);
          try {
            expect(
              createHash('sha256')
                .update(readFileSync(path.join(mnt, 'data.bin')))
                .digest('hex'),
            ).toBe(sha);
          } finally {
            execFileSync('umount', [mnt]);
          }
        },
        300 * MiB,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates a labelled volume (what blkid reports)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-ntfs-'));
    try {
      const img = path.join(dir, 'r.img');
      writeFileSync(img, '');
      truncateSync(img, 64 * MiB);
      await withLoop(img, (dev) => {
        mkntfs(dev, 'Windows RE tools', { startSector: 2048 });
        const label = execFileSync('blkid', ['-p', '-s', 'LABEL', '-o', 'value', dev], { encoding: 'utf8' }).trim();
        expect(label).toBe('Windows RE tools');
        expect(ntfsCheck(dev).ok).toBe(true);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('copies a file in with ntfscp: bytes intact (read through ntfs-3g), its error in one line, a missing ntfscp refused', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-ntfs-'));
    try {
      const img = path.join(dir, 'r.img');
      writeFileSync(img, '');
      truncateSync(img, 400 * MiB);
      const src = path.join(dir, 'Winre.wim');
      const data = Buffer.alloc(150 * MiB);
      for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i ^ 0x5a5a5a5a, i);
      writeFileSync(src, data);
      const mnt = path.join(dir, 'm');
      mkdirSync(mnt);
      await withLoop(img, async (dev) => {
        mkntfs(dev, 'Windows RE tools');
        execFileSync('ntfs-3g', [dev, mnt]);
        mkdirSync(path.join(mnt, 'Recovery', 'WindowsRE'), { recursive: true });
        execFileSync('umount', [mnt]);
        // (The progress callback's source, filePosition, has its own test above: how many polls a copy
        // sees depends on the machine's speed.)
        await ntfsCopyIn(dev, src, '/Recovery/WindowsRE/Winre.wim', () => {});
        const e = await ntfsCopyIn(dev, src, '/No/Such/Dir/Winre.wim').catch((x: unknown) => x);
        expect(e).toBeInstanceOf(BadInputError);
        expect((e as Error).message).toMatch(/^ntfscp failed \(exit \d+\) writing \/No\/Such\/Dir\/Winre.wim: \S/);
        expect((e as Error).message).not.toContain('\n');
        const path0 = process.env.PATH;
        process.env.PATH = dir; // no ntfscp there
        try {
          const m = await ntfsCopyIn(dev, src, '/Recovery/WindowsRE/other.wim').catch((x: unknown) => x);
          expect(m).toBeInstanceOf(RefusedError);
          expect((m as RefusedError).message).toMatch(/ntfscp is not installed \(Debian package ntfs-3g\)/);
        } finally {
          process.env.PATH = path0;
        }
        execFileSync('ntfs-3g', ['-o', 'ro', dev, mnt]);
        try {
          expect(
            createHash('sha256')
              .update(readFileSync(path.join(mnt, 'Recovery', 'WindowsRE', 'Winre.wim')))
              .digest('hex'),
          ).toBe(createHash('sha256').update(data).digest('hex'));
        } finally {
          execFileSync('umount', [mnt]);
        }
        expect(ntfsCheck(dev).ok).toBe(true);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
