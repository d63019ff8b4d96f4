// Volume probes against blkid and the mkfs parameters: NTFS, FAT12/16/32, exFAT made by the real
// tools through loop devices; BitLocker (Vista, Win7+, To Go) and ReFS boot sectors written from the
// documented signature bytes and recognised by blkid too; fuzzing.
import fc from 'fast-check';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeVolume } from '../../src/disk/probe.js';
import {
  bitLockerBootArea,
  blkidProbe,
  diskToolsReason,
  MiB,
  readAt,
  refsBootSector,
  run,
  sparseImage,
  tempDir,
  withLoop,
  writeAt,
} from '../helpers/disk-images.js';

/** Probe a whole image file as one volume. */
function probeFile(file: string, size: number) {
  return probeVolume((off, len) => new Uint8Array(readAt(file, off, len)), size);
}

describe('probe fuzzing', () => {
  it('random boot sectors never throw and give a known fs name', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 4096 }), fc.constantFrom(0, 3), (b, magicAt) => {
        const buf = new Uint8Array(1 << 20);
        buf.set(b);
        if (magicAt === 3 && b.length > 11) buf.set(Buffer.from(['NTFS    ', 'EXFAT   ', '-FVE-FS-'][b[0]! % 3]!), 3);
        const v = probeVolume((o, l) => buf.slice(o, o + l), buf.length);
        expect(['ntfs', 'fat12', 'fat16', 'fat32', 'exfat', 'refs', 'bitlocker', 'unknown']).toContain(v.fs);
      }),
      { numRuns: 1000 },
    );
  });

  it('a volume smaller than one sector is unknown', () => {
    expect(probeVolume(() => new Uint8Array(0), 100).fs).toBe('unknown');
  });
});

const reason = diskToolsReason('mkntfs', 'mkfs.fat', 'mkfs.exfat');

describe.skipIf(!!reason)(`probes against real file systems and blkid${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  let n = 0;
  beforeAll(() => {
    t = tempDir();
  });
  afterAll(() => t?.cleanup());
  const vol = (size: number) => sparseImage(path.join(t.dir, `v${n++}.img`), size);

  for (const [ss, cluster] of [
    [512, 4096],
    [4096, 4096],
    [512, 65536],
  ] as const) {
    it(`NTFS (${ss}-byte sectors, ${cluster}-byte clusters): serial and label as blkid reports, geometry as mkntfs was told`, () => {
      const size = 300 * MiB;
      const f = vol(size);
      withLoop(f, (dev) => run('mkntfs', ['-Q', '-F', '-q', '-c', String(cluster), '-L', 'Windows RE tools', dev]), { sectorSize: ss });
      const v = probeFile(f, size);
      const b = blkidProbe(f, 0, size);
      expect(v.fs).toBe('ntfs');
      expect(v.label).toBe(b.label);
      expect(v.label).toBe('Windows RE tools');
      expect(v.serial).toBe(b.uuid);
      expect(v.bytesPerSector).toBe(ss);
      expect(v.clusterSize).toBe(cluster);
      // mkntfs leaves the last sector for the backup boot sector
      expect(v.totalSectors).toBe(size / ss - 1);
    });
  }

  for (const [bits, sizeMiB] of [
    [12, 4],
    [16, 64],
    [32, 300],
  ] as const) {
    it(`FAT${bits}: label, serial and variant as blkid reports`, () => {
      const size = sizeMiB * MiB;
      const f = vol(size);
      run('mkfs.fat', ['-F', String(bits), '-n', 'ESP LABEL', '-i', '1234ABCD', f]);
      const v = probeFile(f, size);
      const b = blkidProbe(f, 0, size);
      const version = /^VERSION=(.*)$/m.exec(run('blkid', ['-p', '-o', 'export', f]))![1];
      expect(v.fs).toBe(`fat${bits}`);
      expect(version).toBe(`FAT${bits}`);
      expect(v.label).toBe(b.label);
      expect(v.label).toBe('ESP LABEL');
      expect(v.serial).toBe(b.uuid);
      expect(v.serial).toBe('1234-ABCD');
    });
  }

  for (const bits of [16, 32] as const) {
    it(`FAT${bits} relabelled the Windows way (root-directory entry only): the root-directory label wins, as in blkid`, () => {
      const size = 64 * MiB;
      const f = vol(size);
      run('mkfs.fat', ['-F', String(bits), '-n', 'OLDNAME', f]);
      // Windows' "label" rewrites the 0x08 entry in the root directory, not the boot sector copy.
      const bs = readAt(f, 0, 512);
      const bps = bs.readUInt16LE(11);
      const rootStart = (bs.readUInt16LE(14) + bs[16]! * (bs.readUInt16LE(22) || bs.readUInt32LE(36))) * bps;
      const rootOff = bits === 32 ? rootStart + (bs.readUInt32LE(44) - 2) * bps * bs[13]! : rootStart;
      const entry = readAt(f, rootOff, 32);
      expect(entry[11]! & 0x08).toBe(0x08);
      writeAt(f, rootOff, Buffer.from('NEW LABEL  '));
      const b = blkidProbe(f, 0, size);
      expect(b.label).toBe('NEW LABEL');
      expect(probeFile(f, size).label).toBe(b.label);
    });
  }

  it('FAT without a label is "" (the boot sector says NO NAME)', () => {
    const f = vol(64 * MiB);
    run('mkfs.fat', ['-F', '32', f]);
    expect(probeFile(f, 64 * MiB).label).toBe('');
    expect(blkidProbe(f, 0, 64 * MiB).label).toBe('');
  });

  it('exFAT: label, serial, cluster size as blkid and mkfs.exfat report', () => {
    const size = 256 * MiB;
    const f = vol(size);
    run('mkfs.exfat', ['-L', 'DATA', '-c', '128K', f]);
    const v = probeFile(f, size);
    const b = blkidProbe(f, 0, size);
    expect(v.fs).toBe('exfat');
    expect(v.label).toBe(b.label);
    expect(v.label).toBe('DATA');
    expect(v.serial).toBe(b.uuid);
    expect(v.clusterSize).toBe(128 * 1024);
  });

  for (const flavour of ['vista', 'win7', 'togo'] as const) {
    it(`BitLocker ${flavour}: boot area from the documented bytes is BitLocker for us and for blkid`, () => {
      const f = vol(64 * MiB);
      writeAt(f, 0, bitLockerBootArea(flavour));
      expect(blkidProbe(f, 0, 64 * MiB).type).toBe('BitLocker');
      const v = probeFile(f, 64 * MiB);
      expect(v.fs).toBe('bitlocker');
      expect(v.bitlocker).toBe(flavour);
    });
  }

  it('Win7 / To Go magic without the FVE metadata block is not BitLocker (blkid agrees); To Go falls back to FAT', () => {
    for (const flavour of ['win7', 'togo'] as const) {
      const f = vol(64 * MiB);
      if (flavour === 'togo') run('mkfs.fat', ['-F', '32', '-n', 'TOGO', f]);
      const area = bitLockerBootArea(flavour).slice(0, 512);
      const sector = new Uint8Array(readAt(f, 0, 512));
      sector.set(area.subarray(0, 11), 0); // jump + OEM name only; the FVE block is absent
      writeAt(f, 0, sector);
      expect(blkidProbe(f, 0, 64 * MiB).type).not.toBe('BitLocker');
      expect(probeFile(f, 64 * MiB).fs).toBe(flavour === 'togo' ? 'fat32' : 'unknown');
    }
  });

  it('ReFS boot sector (libfsrefs layout) is ReFS for us and for blkid', () => {
    const f = vol(64 * MiB);
    writeAt(f, 0, refsBootSector(64 * MiB));
    expect(blkidProbe(f, 0, 64 * MiB).type).toBe('ReFS');
    const v = probeFile(f, 64 * MiB);
    expect(v.fs).toBe('refs');
    expect(v.totalSectors).toBe((64 * MiB) / 512);
    expect(v.clusterSize).toBe(8 * 512);
  });
});
