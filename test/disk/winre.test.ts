// The use case the engine exists for: grow the WinRE partition behind Windows (KB5034441), on the
// Windows 10 22H2 GPT layout and on the BIOS/MBR layout, checked with sgdisk, sfdisk and blkid.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan, planWrites } from '../../src/disk/apply.js';
import { openBlockDevice } from '../../src/disk/blockdev.js';
import { PlanError } from '../../src/disk/plan.js';
import { type Plan } from '../../src/model/disk.js';
import path from 'node:path';
import {
  biosMbr,
  blkidProbe,
  buildMbr,
  win10_4kn,
  diskToolsReason,
  MiB,
  sfdiskJson,
  sgdiskInfo,
  sgdiskVerifyClean,
  sfdiskVerifyClean,
  sha256,
  tempDir,
  TYPE,
  win10_22h2,
} from '../helpers/disk-images.js';

const reason = diskToolsReason('mkntfs', 'mkfs.fat');

function apply(file: string, plan: Plan) {
  const dev = openBlockDevice(file, { write: true });
  try {
    return applyPlan(dev, plan);
  } finally {
    dev.close();
  }
}

describe.skipIf(!!reason)(`WinRE rebuild plans${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => {
    t = tempDir();
  });
  afterAll(() => t?.cleanup());

  it('GPT 22H2: shrink Windows, delete Recovery, recreate it 1 GiB with the same unique GUID and 0x8000000000000001', () => {
    const img = win10_22h2(t.dir, 4 * 1024 * MiB);
    const before = sfdiskJson(img.file);
    const rec = before.partitions[3]!;
    const win = before.partitions[2]!;
    const grow = 1024 * MiB - rec.size;
    const plan: Plan = {
      ops: [
        { op: 'shrink', partition: 3, bytes: grow },
        { op: 'delete', partition: 4 },
        {
          op: 'create',
          start: win.start + win.size - grow,
          end: rec.start + rec.size,
          type: TYPE.RECOVERY,
          attributes: '0x8000000000000001',
          guid: rec.guid!,
          name: 'Recovery',
        },
      ],
    };
    apply(img.file, plan);
    expect(sgdiskVerifyClean(img.file).clean).toBe(true);
    const after = sfdiskJson(img.file);
    expect(after.id).toBe(before.id);
    expect(after.partitions.slice(0, 2)).toEqual(before.partitions.slice(0, 2));
    expect(after.partitions[2]).toEqual({ ...win, size: win.size - grow });
    expect(after.partitions[3]).toEqual({ ...rec, start: win.start + win.size - grow, size: 1024 * MiB, name: 'Recovery' });
    const info = sgdiskInfo(img.file, 4);
    expect(info).toEqual({ attributes: '0x8000000000000001', guid: rec.guid, type: TYPE.RECOVERY, name: 'Recovery' });
    // The data at the start of Windows and the ESP is untouched.
    expect(blkidProbe(img.file, win.start, win.size - grow).type).toBe('ntfs');
    expect(blkidProbe(img.file, before.partitions[0]!.start, before.partitions[0]!.size).label).toBe('SYSTEM');
  });

  it('4Kn GPT: the same rebuild on 4096-byte sectors (checked by sgdisk and sfdisk on a 4096-byte loop device)', () => {
    const img = win10_4kn(t.dir);
    const before = sfdiskJson(img.file, 4096);
    const [esp, msr, win, rec] = before.partitions;
    const grow = 400 * MiB;
    apply(img.file, {
      ops: [
        { op: 'shrink', partition: 3, bytes: grow },
        { op: 'delete', partition: 4 },
        {
          op: 'create',
          start: win!.start + win!.size - grow,
          end: rec!.start + rec!.size,
          type: TYPE.RECOVERY,
          attributes: '0x8000000000000001',
          guid: rec!.guid!,
        },
      ],
    });
    const v = sgdiskVerifyClean(img.file, 4096);
    expect(v.clean, v.output).toBe(true);
    const after = sfdiskJson(img.file, 4096);
    expect(after.partitions).toEqual([esp, msr, { ...win, size: win!.size - grow }, { ...rec, start: win!.start + win!.size - grow, size: rec!.size + grow }]);
    expect(sgdiskInfo(img.file, 4, 4096).attributes).toBe('0x8000000000000001');
  });

  it('MBR on 4096-byte sectors: add a logical 0x27 after the last logical', () => {
    const img = buildMbr(
      path.join(t.dir, 'mbr4k.img'),
      1024 * MiB,
      [
        { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true },
        { number: 2, start: 101 * MiB, size: 900 * MiB, type: 0x0f },
        { number: 5, start: 102 * MiB, size: 500 * MiB, type: 0x07 },
      ],
      4096,
    );
    const before = sfdiskJson(img.file, 4096);
    const dev = openBlockDevice(img.file, { write: true, sectorSize: 4096 });
    try {
      applyPlan(dev, { ops: [{ op: 'create', start: 603 * MiB, end: 1001 * MiB, type: '0x27', logical: true }] });
    } finally {
      dev.close();
    }
    const after = sfdiskJson(img.file, 4096);
    expect(after.partitions).toEqual([...before.partitions, { number: 6, start: 603 * MiB, size: 398 * MiB, type: '0x27', active: false }]);
  });

  it('GPT: a plan that touches a partition it does not name (create over the ESP) is refused, nothing written', () => {
    const img = win10_22h2(t.dir, 1024 * MiB);
    const hash = sha256(img.file);
    const dev = openBlockDevice(img.file, { write: true });
    try {
      expect(() =>
        applyPlan(dev, {
          ops: [
            { op: 'delete', partition: 4 },
            { op: 'create', start: 50 * MiB, end: 60 * MiB, type: TYPE.RECOVERY },
          ],
        }),
      ).toThrow(/nothing written: op 2 \(create\): \[52428800, 62914560\) overlaps partition 1/);
      expect(() => planWrites(dev, { ops: [{ op: 'shrink', partition: 3, bytes: 1000 }] })).toThrow(PlanError);
    } finally {
      dev.close();
    }
    expect(sha256(img.file)).toBe(hash);
  });

  it('MBR: shrink Windows, delete 0x27, recreate it larger as 0x27; System Reserved stays active', () => {
    const img = biosMbr(t.dir);
    const before = sfdiskJson(img.file);
    const [sys, win, rec] = before.partitions;
    const grow = 450 * MiB;
    apply(img.file, {
      ops: [
        { op: 'shrink', partition: 2, bytes: grow },
        { op: 'delete', partition: 3 },
        { op: 'create', start: win!.start + win!.size - grow, end: rec!.start + rec!.size, type: '0x27' },
      ],
    });
    const v = sfdiskVerifyClean(img.file);
    expect(v.clean, v.output).toBe(true);
    const after = sfdiskJson(img.file);
    expect(after.id).toBe(before.id);
    expect(after.partitions).toEqual([sys, { ...win, size: win!.size - grow }, { ...rec, start: win!.start + win!.size - grow, size: rec!.size + grow }]);
    expect(after.partitions[0]!.active).toBe(true);
  });

  it('MBR with four primaries: a fifth primary is refused', () => {
    const img = biosMbr(t.dir);
    const dev = openBlockDevice(img.file, { write: true });
    try {
      applyPlan(dev, { ops: [{ op: 'create', start: 3651 * MiB, end: 3700 * MiB, type: '0x07' }] });
      expect(() => applyPlan(dev, { ops: [{ op: 'create', start: 3700 * MiB, end: 3800 * MiB, type: '0x07' }] })).toThrow(/fifth primary/);
    } finally {
      dev.close();
    }
  });
});
