// `wufix disk show --json` on real layouts built with sgdisk/sfdisk and real mkfs tools agrees with
// sfdisk --json, sgdisk -i, sfdisk -F and blkid on every partition, every field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import {
  biosMbr,
  buildMbr,
  MiB,
  blkidProbe,
  diskToolsReason,
  mbrFourPrimaries,
  mbrLogicals,
  server2022,
  sfdiskFree,
  sfdiskJson,
  sgdiskInfo,
  tempDir,
  win10_1909,
  win10_22h2,
  win10_4kn,
  withLoop,
  type BuiltImage,
} from '../helpers/disk-images.js';
import { wufix, wufixSync } from './cli-helper.js';
import type { ShowJson } from '../../src/disk/show.js';

const reason = diskToolsReason('mkntfs', 'mkfs.fat', 'mkfs.exfat');

/** blkid TYPE -> our fs name. */
const FS_OF_BLKID: Record<string, string> = { ntfs: 'ntfs', vfat: 'fat32', exfat: 'exfat', BitLocker: 'bitlocker', ReFS: 'refs', '': 'unknown' };

async function showJson(img: BuiltImage): Promise<ShowJson> {
  // 4Kn is detected from the GPT header; an MBR disk does not say its sector size: tell it.
  const extra = img.scheme === 'mbr' && img.sectorSize !== 512 ? ['--sector-size', String(img.sectorSize)] : [];
  const r = await wufix('disk', 'show', '--json', ...extra, img.file);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ShowJson;
}

/** Every field of every partition against sfdisk/sgdisk/blkid, and the layout the builder specified. */
async function checkAgainstTools(img: BuiltImage): Promise<ShowJson> {
  const ss = img.sectorSize;
  const j = await showJson(img);
  const ref = sfdiskJson(img.file, ss);
  expect(j.scheme).toBe(ref.scheme);
  expect(j.sectorSize).toBe(ss);
  expect(j.sizeBytes).toBe(img.size);
  if (ref.scheme === 'gpt') expect(j.diskGuid).toBe(ref.id);
  else expect(j.signature).toBe('0x' + ref.id.replace(/^0x/, '').padStart(8, '0'));
  expect(j.partitions.map((p) => p.number)).toEqual(ref.partitions.map((p) => p.number));
  for (const r of ref.partitions) {
    const p = j.partitions.find((q) => q.number === r.number)!;
    expect({ start: p.start, size: p.size, type: p.type, active: p.active }).toEqual({ start: r.start, size: r.size, type: r.type, active: r.active });
    if (ref.scheme === 'gpt') {
      const info = sgdiskInfo(img.file, r.number, ss);
      expect(p.guid).toBe(r.guid);
      expect(p.guid).toBe(info.guid);
      expect(p.type).toBe(info.type);
      expect(p.attributes).toBe(info.attributes);
      expect(p.name).toBe(r.name);
    } else {
      expect(p).not.toHaveProperty('guid');
      expect(p).not.toHaveProperty('attributes');
    }
    if (p.role === 'extended') continue;
    const b = blkidProbe(img.file, p.start, p.size);
    expect(p.fs, `partition ${p.number} fs (blkid TYPE=${b.type})`).toBe(FS_OF_BLKID[b.type] ?? `unmapped blkid type ${b.type}`);
    if (p.fs !== 'bitlocker') expect(p.label, `partition ${p.number} label`).toBe(b.label);
  }
  expect(j.free).toEqual(sfdiskFree(img.file, ss));
  // ...and the layout the builder asked the tools for.
  if (img.gpt) {
    expect(j.partitions.map((p) => [p.start, p.size, p.type, p.name])).toEqual(img.gpt.map((s) => [s.start, s.size, s.type, s.name]));
    img.gpt.forEach((s, i) => {
      expect(j.partitions[i]!.attributes).toBe('0x' + (s.attributes ?? 0n).toString(16).padStart(16, '0'));
      if (s.guid) expect(j.partitions[i]!.guid).toBe(s.guid);
      if (s.fs && 'label' in s.fs) expect(j.partitions[i]!.label).toBe(s.fs.label);
      if (s.fs) expect(j.partitions[i]!.fs).toBe(s.fs.kind);
    });
  } else {
    for (const s of img.mbr!) {
      const p = j.partitions.find((q) => q.number === s.number)!;
      expect([p.start, p.size, p.type, p.active]).toEqual([s.start, s.size, '0x' + s.type.toString(16).padStart(2, '0'), !!s.active]);
      if (s.fs && 'label' in s.fs) expect(p.label).toBe(s.fs.label);
      if (s.fs) expect(p.fs).toBe(s.fs.kind);
    }
  }
  return j;
}

describe.skipIf(!!reason)(`disk show on real layouts${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => {
    t = tempDir();
  });
  afterAll(() => {
    t?.cleanup();
  });

  it('UEFI Windows 10 22H2: ESP, MSR, Windows, Recovery at the end with 0x8000000000000001', async () => {
    const img = win10_22h2(t.dir);
    const j = await checkAgainstTools(img);
    expect(j.partitions.map((p) => p.role)).toEqual(['esp', 'msr', 'basic', 'recovery']);
    expect(j.partitions[3]!.attributes).toBe('0x8000000000000001');
  });

  it('Windows 10 <= 1909: recovery first, BitLocker (Win7+) Windows volume', async () => {
    const j = await checkAgainstTools(win10_1909(t.dir));
    expect(j.partitions.map((p) => p.role)).toEqual(['recovery', 'esp', 'msr', 'basic']);
    expect(j.partitions[3]!.fs).toBe('bitlocker');
  });

  it('Server 2022: recovery after Windows, ReFS data volume with a non-ASCII name', async () => {
    await checkAgainstTools(server2022(t.dir));
  });

  it('BIOS/MBR: System Reserved active, Windows, Recovery 0x27', async () => {
    const j = await checkAgainstTools(biosMbr(t.dir));
    expect(j.partitions.map((p) => p.role)).toEqual(['basic', 'basic', 'recovery']);
  });

  it('MBR with four primaries (0x0c, 0x07, 0x27, 0x42)', async () => {
    const j = await checkAgainstTools(mbrFourPrimaries(t.dir));
    expect(j.partitions.map((p) => p.role)).toEqual(['basic', 'basic', 'recovery', 'windows-ldm']);
  });

  it('MBR with an extended partition and logicals numbered from 5 (exFAT, BitLocker To Go)', async () => {
    const j = await checkAgainstTools(mbrLogicals(t.dir));
    expect(j.partitions.map((p) => p.number)).toEqual([1, 2, 5, 6, 7, 8]);
    expect(j.partitions.find((p) => p.number === 8)!.fs).toBe('bitlocker');
  });

  it('MBR on a 4096-byte-sector disk with --sector-size 4096 (logicals included)', async () => {
    const img = buildMbr(
      path.join(t.dir, 'mbr-4kn.img'),
      2 * 1024 * MiB,
      [
        { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true, fs: { kind: 'ntfs', label: 'System Reserved' } },
        { number: 2, start: 101 * MiB, size: 1500 * MiB, type: 0x05 },
        { number: 5, start: 102 * MiB, size: 800 * MiB, type: 0x07, fs: { kind: 'ntfs', label: 'Windows' } },
        { number: 6, start: 903 * MiB, size: 600 * MiB, type: 0x27, fs: { kind: 'ntfs', label: 'Recovery' } },
      ],
      4096,
    );
    const j = await checkAgainstTools(img);
    expect(j.sectorSize).toBe(4096);
  });

  it('4Kn disk: 4096-byte sectors detected from the image; also through a 4096-byte loop device', async () => {
    const img = win10_4kn(t.dir);
    const j = await checkAgainstTools(img);
    expect(j.sectorSize).toBe(4096);
    const r = withLoop(img.file, (dev) => wufixSync('disk', 'show', '--json', dev), { sectorSize: 4096 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(j);
  });
});
