// The WinRE rebuild planner (issue #6): every case on layouts written as data (the expected numbers
// are worked out here from the rules in the issue and ../shared/docs/winre.md, not read from the
// planner), then on real images from test/helpers/disk-images.ts: each plan is validated by the
// disk engine, applied to a copy of the image, and checked with sgdisk -v / sfdisk -V and
// sfdisk --json; refusals leave the image byte-identical.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { RefusedError, EXIT } from '../../src/shared/errors.js';
import { applyPlan } from '../../src/disk/apply.js';
import { openBlockDevice } from '../../src/disk/blockdev.js';
import { gptFree, mbrFree, readLayout } from '../../src/disk/layout.js';
import { validate } from '../../src/disk/plan.js';
import { gptRole, mbrRole } from '../../src/disk/roles.js';
import type { Layout, Partition } from '../../src/model/disk.js';
import { planWinreRebuild, winreTargetSize, winreNeededSize, windowsPartitionNumber, OS_FREE_RESERVE } from '../../src/winre/plan.js';
import { type WinreInputs, type WinrePlan } from '../../src/model/winre.js';
import {
  biosMbr,
  buildGpt,
  buildMbr,
  diskToolsReason,
  gptEnd,
  mbrFourPrimaries,
  mbrLogicals,
  MiB,
  GiB,
  RECOVERY_ATTRS,
  server2022,
  sfdiskJson,
  sfdiskVerifyClean,
  sgdiskInfo,
  sgdiskVerifyClean,
  sha256,
  tempDir,
  TYPE,
  win10_1909,
  win10_22h2,
  withLoop,
  type BuiltImage,
  type RefLayout,
  type RefPartition,
} from '../helpers/disk-images.js';

const REC = TYPE.RECOVERY;
const WIM = 400 * MiB; // needs 400 + 250 + 52 + 15 = 717 MiB < 1 GiB: the target is 1 GiB

// ---------------------------------------------------------------------------------------------
// Layouts as data

type P = Pick<Partition, 'number' | 'start' | 'size' | 'type'> & Partial<Partition>;

function gptLayout(sizeBytes: number, parts: P[], ss = 512): Layout {
  const sectors = sizeBytes / ss;
  const entrySectors = (128 * 128) / ss;
  const gpt = {
    firstUsableLba: 2 + entrySectors,
    lastUsableLba: sectors - 2 - entrySectors,
    primaryEntriesLba: 2,
    backupEntriesLba: sectors - 1 - entrySectors,
    backupHeaderLba: sectors - 1,
    entryCount: 128,
    entrySize: 128,
    headerSize: 92,
    revision: 0x10000,
  };
  const partitions: Partition[] = parts.map((p) => ({
    name: '',
    attributes: 0n,
    guid: `00000000-0000-4000-8000-${String(p.number).padStart(12, '0')}`,
    active: false,
    role: gptRole(p.type),
    ...p,
  }));
  return {
    scheme: 'gpt',
    sectorSize: ss,
    sizeBytes,
    diskGuid: '11111111-2222-4333-8444-555555555555',
    partitions,
    free: gptFree({ partitions, sectorSize: ss, gpt }),
    gpt,
  };
}

function mbrLayout(sizeBytes: number, parts: (Omit<P, 'type'> & { type: number })[], ss = 512): Layout {
  const partitions: Partition[] = parts.map((p) => ({
    ...p,
    type: '0x' + p.type.toString(16).padStart(2, '0'),
    role: mbrRole(p.type),
    active: !!p.active,
    ...(p.number >= 5 ? { logical: true } : {}),
  }));
  const ebrOffsets = new Map<number, number>();
  for (const p of partitions) if (p.logical) ebrOffsets.set(p.number, p.start - MiB);
  const ext = partitions.find((p) => p.role === 'extended');
  const l: Layout = {
    scheme: 'mbr',
    sectorSize: ss,
    sizeBytes,
    signature: 0x1234abcd,
    partitions,
    free: [],
    mbr: { extendedNumber: ext?.number ?? 0, ebrOffsets },
  };
  l.free = mbrFree(l);
  return l;
}

/** Windows 10 22H2 on 64 GiB, the geometry docs/disk.md shows. */
const win22h2 = () =>
  gptLayout(64 * GiB, [
    { number: 1, start: MiB, size: 100 * MiB, type: TYPE.ESP },
    { number: 2, start: 101 * MiB, size: 16 * MiB, type: TYPE.MSR },
    { number: 3, start: 117 * MiB, size: 67998056448, type: TYPE.BASIC },
    { number: 4, start: 68120739840, size: 570 * MiB, type: REC, attributes: RECOVERY_ATTRS, guid: 'a9f68582-a1bf-435a-9d57-a42ba8997bc3' },
  ]);

const inputs = (layout: Layout, o: Partial<WinreInputs> = {}): WinreInputs => ({
  layout,
  osPartition: 3,
  winreWimBytes: WIM,
  osFreeBytes: 40 * GiB,
  bitlockerOs: false,
  ...o,
});

/** Everything every plan must satisfy, checked with the disk engine's validate. */
function checkPlan(plan: WinrePlan, layout: Layout) {
  const v = validate(plan.diskPlan, layout);
  for (const op of plan.diskPlan.ops) {
    if (op.op === 'shrink') expect(op.bytes % MiB).toBe(0);
    if (op.op === 'create') {
      expect(op.start % MiB).toBe(0);
      expect(op.end % MiB).toBe(0);
    }
  }
  expect(plan.newPartition.start % MiB).toBe(0);
  expect(plan.newPartition.size).toBe(plan.targetSize);
  const np = v.after.partitions.find((p) => p.number === plan.newPartition.number)!;
  expect(np).toBeDefined();
  expect(np.start).toBe(plan.newPartition.start);
  expect(np.size).toBe(plan.newPartition.size);
  expect(np.role).toBe('recovery');
  if (layout.scheme === 'gpt') {
    expect(np.type).toBe('de94bba4-06d1-4d40-a16a-bfd50179d6ac');
    expect(np.attributes).toBe(0x8000000000000001n);
    expect(np.name).toBe('');
  } else {
    expect(np.type).toBe('0x27');
  }
  // Only the OS may change size; only the old recovery partition may go; nothing else moves.
  for (const p of layout.partitions) {
    const a = v.after.partitions.find((q) => q.number === p.number && q.start === p.start);
    if (p.number === plan.deleteOld) {
      expect(p.role).toBe('recovery');
      continue;
    }
    expect(a, `partition ${p.number} kept`).toBeDefined();
    expect(a!.type).toBe(p.type);
    expect(a!.size).toBe(p.number === plan.os.number ? p.size - plan.shrinkOsBy : p.size);
  }
  for (const n of plan.notes) expect(n).toMatch(/^[\x20-\x7e]+$/);
  return v;
}

function refusal(fn: () => unknown): RefusedError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RefusedError);
    expect((e as RefusedError).exitCode).toBe(EXIT.REFUSED);
    expect((e as Error).message).not.toMatch(/\n/);
    return e as RefusedError;
  }
  throw new Error('expected a refusal');
}

describe('target size', () => {
  it('1 GiB unless Winre.wim + 250 MB + 52 MiB + 15 MB (as MiB) or the current partition is larger; rounded up to 1 MiB', () => {
    expect(winreTargetSize(400 * MiB)).toBe(GiB);
    // ReAgent.log's WIM (winre.md section 1): 822021945 bytes.
    const need = Math.ceil((822021945 + 250 * MiB + 52 * MiB + 15 * MiB) / MiB) * MiB;
    expect(winreNeededSize(822021945)).toBe(need);
    expect(winreTargetSize(822021945)).toBe(need);
    expect(need).toBe(1101 * MiB); // 783.9 + 317 MiB, rounded up
    expect(winreTargetSize(400 * MiB, 1500 * MiB + 1)).toBe(1501 * MiB);
    expect(winreTargetSize(0)).toBe(GiB);
  });
  it('--winre-size replaces the 1 GiB default, is raised to the current size, and may not go below what the WIM needs', () => {
    expect(winreTargetSize(100 * MiB, undefined, 600 * MiB)).toBe(600 * MiB);
    expect(winreTargetSize(100 * MiB, 700 * MiB, 600 * MiB)).toBe(700 * MiB);
    expect(winreTargetSize(100 * MiB, undefined, 600 * MiB - 5)).toBe(600 * MiB);
    const e = refusal(() => winreTargetSize(400 * MiB, undefined, 500 * MiB));
    expect(e.message).toMatch(/--winre-size 500 MiB \(524288000 bytes\) is too small: .* needs 717 MiB \(751828992 bytes\)/);
  });
  it('bad numbers are bad input, not a crash', () => {
    expect(() => winreTargetSize(-1)).toThrow(/non-negative whole number/);
    expect(() => winreTargetSize(Number.NaN)).toThrow(/whole number/);
    expect(() => winreTargetSize(1, undefined, 0)).toThrow(/positive/);
  });
});

describe('Windows partition numbers (what diskpart selects)', () => {
  it('GPT: used entries in order; MBR: primaries, then logicals, the extended container unnumbered', () => {
    expect([1, 2, 3, 4].map((n) => windowsPartitionNumber(win22h2(), n))).toEqual([1, 2, 3, 4]);
    const holes = gptLayout(8 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: TYPE.ESP },
      { number: 3, start: 200 * MiB, size: 100 * MiB, type: TYPE.BASIC },
    ]);
    expect(windowsPartitionNumber(holes, 3)).toBe(2);
    const l = mbrLayout(3 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true },
      { number: 2, start: 101 * MiB, size: 2800 * MiB, type: 0x0f },
      { number: 5, start: 102 * MiB, size: 1500 * MiB, type: 0x07 },
      { number: 6, start: 1603 * MiB, size: 500 * MiB, type: 0x27 },
    ]);
    expect([1, 2, 5, 6].map((n) => windowsPartitionNumber(l, n))).toEqual([1, undefined, 2, 3]);
  });
});

describe('planWinreRebuild on layouts as data', () => {
  it('after-os (22H2): shrink the OS end by 1 GiB - 570 MiB, delete 4, recreate it 1 GiB ending where it ended, same unique GUID', () => {
    const l = win22h2();
    const plan = planWinreRebuild(inputs(l, { recoveryPartition: 4 }));
    const recEnd = 68120739840 + 570 * MiB;
    expect(plan.case).toBe('after-os');
    expect(plan.targetSize).toBe(GiB);
    expect(plan.shrinkOsBy).toBe(454 * MiB);
    expect(plan.deleteOld).toBe(4);
    expect(plan.newPartition).toEqual({ number: 4, start: recEnd - GiB, size: GiB, guid: 'a9f68582-a1bf-435a-9d57-a42ba8997bc3', type: REC });
    expect(plan.diskPlan.ops).toEqual([
      { op: 'shrink', partition: 3, bytes: 454 * MiB },
      { op: 'delete', partition: 4 },
      { op: 'create', start: recEnd - GiB, end: recEnd, type: REC, attributes: '0x8000000000000001', name: '', guid: 'a9f68582-a1bf-435a-9d57-a42ba8997bc3' },
    ]);
    const v = checkPlan(plan, l);
    expect(v.after.partitions[2]!.start + v.after.partitions[2]!.size).toBe(recEnd - GiB);
  });

  it('after-os with reuseGuid: false leaves the GUID to the engine (a new one)', () => {
    const plan = planWinreRebuild(inputs(win22h2(), { recoveryPartition: 4, reuseGuid: false }));
    expect(plan.newPartition.guid).toBeUndefined();
    expect(plan.diskPlan.ops[2]).not.toHaveProperty('guid');
    expect(plan.notes.join(' ')).toMatch(/BCD WinRE devices must be re-pointed/);
    checkPlan(plan, win22h2());
  });

  it('after-os with a gap between the OS and the recovery partition, and with free space after it: both are used before shrinking', () => {
    const osEnd = 101 * MiB + 10 * GiB;
    const parts = (size: number) =>
      gptLayout(size, [
        { number: 1, start: MiB, size: 100 * MiB, type: TYPE.ESP },
        { number: 2, start: 101 * MiB, size: 10 * GiB, type: TYPE.BASIC },
        { number: 3, start: osEnd + 300 * MiB, size: 500 * MiB, type: REC },
      ]);
    // The recovery partition ends at the last usable MiB (the disk is 1 MiB longer, for the backup GPT).
    const tight = parts(osEnd + 801 * MiB);
    const plan = planWinreRebuild(inputs(tight, { osPartition: 2, recoveryPartition: 3 }));
    expect(plan.case).toBe('after-os');
    expect(plan.shrinkOsBy).toBe(GiB - 800 * MiB);
    expect(plan.newPartition.start).toBe(osEnd + 800 * MiB - GiB);
    checkPlan(plan, tight);
    // 16 GiB: unallocated space after the recovery partition makes the shrink unnecessary.
    const roomy = parts(16 * GiB);
    const p2 = planWinreRebuild(inputs(roomy, { osPartition: 2, recoveryPartition: 3 }));
    expect(p2.case).toBe('after-os');
    expect(p2.shrinkOsBy).toBe(0);
    expect(p2.newPartition).toMatchObject({ start: osEnd, size: GiB });
    expect(p2.notes.join(' ')).toMatch(/uses 224 MiB of unallocated space after it/);
    checkPlan(p2, roomy);
  });

  it('before-os (Windows 10 <= 1909): new partition right after the OS by shrinking it, the old one (pure recovery) deleted, its entry and GUID reused', () => {
    const size = 64 * GiB;
    const osEnd = 64 * GiB - MiB;
    const l = gptLayout(size, [
      { number: 1, start: MiB, size: 529 * MiB, type: REC, attributes: RECOVERY_ATTRS, name: 'Basic data partition' },
      { number: 2, start: 530 * MiB, size: 99 * MiB, type: TYPE.ESP },
      { number: 3, start: 629 * MiB, size: 16 * MiB, type: TYPE.MSR },
      { number: 4, start: 645 * MiB, size: osEnd - 645 * MiB, type: TYPE.BASIC },
    ]);
    const plan = planWinreRebuild(inputs(l, { osPartition: 4, recoveryPartition: 1 }));
    expect(plan.case).toBe('before-os');
    expect(plan.shrinkOsBy).toBe(GiB);
    expect(plan.deleteOld).toBe(1);
    expect(plan.newPartition).toEqual({ number: 1, start: osEnd - GiB, size: GiB, guid: l.partitions[0]!.guid, type: REC });
    expect(plan.old).toEqual({ number: 1, windowsNumber: 1, start: MiB, size: 529 * MiB });
    checkPlan(plan, l);
  });

  it('before-os on MBR where the old WinRE is on the active System Reserved partition: kept, a 0x27 primary is added after the OS', () => {
    const l = mbrLayout(64 * GiB, [
      { number: 1, start: MiB, size: 500 * MiB, type: 0x07, active: true },
      { number: 2, start: 501 * MiB, size: 60 * GiB, type: 0x07 },
    ]);
    const plan = planWinreRebuild(inputs(l, { osPartition: 2, recoveryPartition: 1 }));
    // Free space after the OS: 64 GiB - 501 MiB - 60 GiB = 3595 MiB: used without shrinking.
    expect(plan.case).toBe('unallocated-after-os');
    expect(plan.deleteOld).toBeUndefined();
    expect(plan.shrinkOsBy).toBe(0);
    expect(plan.newPartition).toEqual({ number: 3, start: 501 * MiB + 60 * GiB, size: GiB, type: '0x27' });
    expect(plan.notes.join(' ')).toMatch(/kept: partition 1 has role basic \(type 0x07\), not recovery/);
    checkPlan(plan, l);
    // The same disk with the OS filling it: shrink, and still keep partition 1.
    const full = mbrLayout(64 * GiB, [
      { number: 1, start: MiB, size: 500 * MiB, type: 0x07, active: true },
      { number: 2, start: 501 * MiB, size: 64 * GiB - 501 * MiB, type: 0x07 },
    ]);
    const p2 = planWinreRebuild(inputs(full, { osPartition: 2, recoveryPartition: 1 }));
    expect(p2.case).toBe('before-os');
    expect(p2.shrinkOsBy).toBe(GiB);
    expect(p2.newPartition).toEqual({ number: 3, start: 64 * GiB - GiB, size: GiB, type: '0x27' });
    checkPlan(p2, full);
  });

  it('unallocated-after-os: free space right after the OS is used, nothing shrinks, the orphan recovery partition before the OS goes', () => {
    const l = gptLayout(32 * GiB, [
      { number: 1, start: MiB, size: 450 * MiB, type: REC, attributes: RECOVERY_ATTRS },
      { number: 2, start: 451 * MiB, size: 100 * MiB, type: TYPE.ESP },
      { number: 3, start: 551 * MiB, size: 20 * GiB, type: TYPE.BASIC },
    ]);
    const plan = planWinreRebuild(inputs(l, { recoveryPartition: 1 }));
    expect(plan.case).toBe('unallocated-after-os');
    expect(plan.shrinkOsBy).toBe(0);
    expect(plan.diskPlan.ops.map((o) => o.op)).toEqual(['delete', 'create']);
    expect(plan.newPartition).toMatchObject({ number: 1, start: 551 * MiB + 20 * GiB, size: GiB });
    checkPlan(plan, l);
  });

  it('no-recovery: the OS fills the disk, so it shrinks by the whole target and the partition goes at its end', () => {
    const end = 128 * GiB - MiB;
    const l = gptLayout(128 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: TYPE.ESP },
      { number: 2, start: 101 * MiB, size: 16 * MiB, type: TYPE.MSR },
      { number: 3, start: 117 * MiB, size: end - 117 * MiB, type: TYPE.BASIC },
    ]);
    const plan = planWinreRebuild(inputs(l));
    expect(plan.case).toBe('no-recovery');
    expect(plan.shrinkOsBy).toBe(GiB);
    expect(plan.deleteOld).toBeUndefined();
    expect(plan.newPartition).toMatchObject({ number: 4, start: end - GiB, size: GiB });
    expect(plan.newPartition.guid).toBeUndefined();
    checkPlan(plan, l);
    // WinRE on the OS volume (ReAgent.xml points at C:) is the same case.
    expect(planWinreRebuild(inputs(l, { recoveryPartition: 3 })).case).toBe('no-recovery');
  });

  it('data partitions after the recovery partition are not moved: recovery not next to the OS -> new one right after the OS', () => {
    // ESP, OS, data, recovery: the recovery is not adjacent to the OS end.
    const l = gptLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: TYPE.ESP },
      { number: 2, start: 101 * MiB, size: 30 * GiB, type: TYPE.BASIC },
      { number: 3, start: 101 * MiB + 30 * GiB, size: 20 * GiB, type: TYPE.BASIC },
      { number: 4, start: 101 * MiB + 50 * GiB, size: 600 * MiB, type: REC },
    ]);
    const plan = planWinreRebuild(inputs(l, { osPartition: 2, recoveryPartition: 4 }));
    expect(plan.case).toBe('before-os');
    expect(plan.shrinkOsBy).toBe(GiB);
    expect(plan.deleteOld).toBe(4);
    expect(plan.newPartition).toMatchObject({ number: 4, start: 101 * MiB + 30 * GiB - GiB, size: GiB });
    expect(plan.notes.join(' ')).toMatch(/not next to the OS \(partition 3 in between, not moved\)/);
    checkPlan(plan, l);
  });

  it('Server 2022 shape (OS, 645 MiB recovery, data): recovery adjacent -> rebuilt in place, the data partition untouched', () => {
    const l = gptLayout(6 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: TYPE.ESP },
      { number: 2, start: 101 * MiB, size: 16 * MiB, type: TYPE.MSR },
      { number: 3, start: 117 * MiB, size: 3 * GiB - 645 * MiB - 117 * MiB, type: TYPE.BASIC },
      { number: 4, start: 3 * GiB - 645 * MiB, size: 645 * MiB, type: REC, guid: '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9' },
      { number: 5, start: 3 * GiB, size: 2 * GiB, type: TYPE.BASIC },
    ]);
    const plan = planWinreRebuild(inputs(l, { recoveryPartition: 4, osFreeBytes: 2 * GiB }));
    expect(plan.case).toBe('after-os');
    expect(plan.shrinkOsBy).toBe(GiB - 645 * MiB);
    expect(plan.newPartition).toMatchObject({ number: 4, start: 3 * GiB - GiB, guid: '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9' });
    checkPlan(plan, l);
  });

  it('OEM partitions are never touched: only the recovery type is deleted, and a recovery-typed partition over 2 GiB is kept', () => {
    const OEM = 'bfbfafe7-a34f-448a-9a5b-6213eb736c22'; // Lenovo/IBM-style vendor type: role other
    const l = gptLayout(128 * GiB, [
      { number: 1, start: MiB, size: 260 * MiB, type: TYPE.ESP },
      { number: 2, start: 261 * MiB, size: 16 * MiB, type: TYPE.MSR },
      { number: 3, start: 277 * MiB, size: 100 * GiB, type: TYPE.BASIC },
      { number: 4, start: 277 * MiB + 100 * GiB, size: 1000 * MiB, type: OEM },
      { number: 5, start: 277 * MiB + 100 * GiB + 1000 * MiB, size: 10 * GiB, type: REC },
    ]);
    // WinRE in the OEM partition: it is kept, a new partition goes after the OS.
    const a = planWinreRebuild(inputs(l, { recoveryPartition: 4 }));
    expect(a.deleteOld).toBeUndefined();
    expect(a.notes.join(' ')).toMatch(/partition 4 has role other \(type bfbfafe7-.*only recovery partitions are deleted/);
    checkPlan(a, l);
    // WinRE in the 10 GiB recovery-typed image partition: kept as OEM.
    const b = planWinreRebuild(inputs(l, { recoveryPartition: 5 }));
    expect(b.deleteOld).toBeUndefined();
    expect(b.notes.join(' ')).toMatch(/partition 5 is 10240 MiB, larger than 2048 MiB: treated as an OEM recovery image and kept/);
    expect(b.newPartition.start).toBe(277 * MiB + 100 * GiB - GiB);
    checkPlan(b, l);
  });

  it('MBR four primaries with the recovery right after the OS: its slot is reused (after-os)', () => {
    const l = mbrLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x0c, active: true },
      { number: 2, start: 101 * MiB, size: 40 * GiB, type: 0x07 },
      { number: 3, start: 101 * MiB + 40 * GiB, size: 500 * MiB, type: 0x27 },
      { number: 4, start: 601 * MiB + 40 * GiB, size: 20 * GiB, type: 0x42 },
    ]);
    const plan = planWinreRebuild(inputs(l, { osPartition: 2, recoveryPartition: 3 }));
    expect(plan.case).toBe('after-os');
    expect(plan.shrinkOsBy).toBe(524 * MiB);
    expect(plan.newPartition).toEqual({ number: 3, start: 601 * MiB + 40 * GiB - GiB, size: GiB, type: '0x27' });
    checkPlan(plan, l);
  });

  it('MBR four primaries, no recovery, no extended partition: refused with the reason', () => {
    const l = mbrLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true },
      { number: 2, start: 101 * MiB, size: 40 * GiB, type: 0x07 },
      { number: 3, start: 101 * MiB + 40 * GiB, size: 10 * GiB, type: 0x07 },
      { number: 4, start: 101 * MiB + 50 * GiB, size: 5 * GiB, type: 0x0c },
    ]);
    const e = refusal(() => planWinreRebuild(inputs(l, { osPartition: 2 })));
    expect(e.code).toBe('winre-no-room');
    expect(e.message).toMatch(/all four MBR primary slots are used \(partitions 1, 2, 3, 4\)/);
    expect(e.message).toMatch(/there is no extended partition for a logical one/);
  });

  it('MBR four primaries with the OS as the last logical partition: a logical 0x27 after it (mbr-logical), 1 MiB left for its EBR', () => {
    const extEnd = 64 * GiB - MiB;
    const l = mbrLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true },
      { number: 2, start: 101 * MiB, size: 1 * GiB, type: 0x07 },
      { number: 3, start: 101 * MiB + GiB, size: 1 * GiB, type: 0x0c },
      { number: 4, start: 101 * MiB + 2 * GiB, size: extEnd - 101 * MiB - 2 * GiB, type: 0x0f },
      { number: 5, start: 102 * MiB + 2 * GiB, size: extEnd - 102 * MiB - 2 * GiB, type: 0x07 },
    ]);
    const plan = planWinreRebuild(inputs(l, { osPartition: 5 }));
    expect(plan.case).toBe('mbr-logical');
    expect(plan.shrinkOsBy).toBe(GiB + MiB);
    expect(plan.newPartition).toEqual({ number: 6, start: extEnd - GiB, size: GiB, type: '0x27', logical: true });
    const v = checkPlan(plan, l);
    expect(v.after.mbr!.ebrOffsets.get(6)).toBe(extEnd - GiB - MiB);
    expect(plan.os.windowsNumber).toBe(4);
  });

  it('MBR four primaries, OS primary, free space at the end of the extended partition: a logical partition there (no shrink)', () => {
    const l = mbrLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true },
      { number: 2, start: 101 * MiB, size: 40 * GiB, type: 0x07 },
      { number: 3, start: 101 * MiB + 40 * GiB, size: 1 * GiB, type: 0x0c },
      { number: 4, start: 101 * MiB + 41 * GiB, size: 10 * GiB, type: 0x05 },
      { number: 5, start: 102 * MiB + 41 * GiB, size: 4 * GiB, type: 0x07 },
    ]);
    const plan = planWinreRebuild(inputs(l, { osPartition: 2 }));
    expect(plan.case).toBe('mbr-logical');
    expect(plan.shrinkOsBy).toBe(0);
    expect(plan.newPartition).toEqual({ number: 6, start: 102 * MiB + 45 * GiB + MiB, size: GiB, type: '0x27', logical: true });
    expect(plan.notes[0]).toMatch(/all four MBR primary slots are used/);
    checkPlan(plan, l);
  });

  it('MBR logicals (Windows 5, Recovery 6, data 7, 8): 6 cannot be deleted without renumbering, no room elsewhere -> refused with the sizes', () => {
    const l = mbrLayout(3 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true },
      { number: 2, start: 101 * MiB, size: 2800 * MiB, type: 0x0f },
      { number: 5, start: 102 * MiB, size: 1500 * MiB, type: 0x07 },
      { number: 6, start: 1603 * MiB, size: 500 * MiB, type: 0x27 },
      { number: 7, start: 2104 * MiB, size: 300 * MiB, type: 0x07 },
      { number: 8, start: 2405 * MiB, size: 200 * MiB, type: 0x0c },
    ]);
    const e = refusal(() => planWinreRebuild(inputs(l, { osPartition: 5, recoveryPartition: 6 })));
    expect(e.message).toMatch(/OS partition 5 is a logical partition followed by logical partitions 6, 7, 8/);
    // Inside the extended partition after 8: [2605 MiB + 1 MiB EBR, 2901 MiB) = 295 MiB; outside it: [2901, 3072) = 171 MiB.
    expect(e.message).toMatch(/295 MiB at byte 2732589056 inside extended partition 2/);
    expect(e.message).toMatch(/cannot be reused: partition 6 is a logical partition followed by logical partitions 7, 8; deleting it would renumber them/);
    expect(e.message).toMatch(/171 MiB at byte 3041918976/);
    expect(e.message).toMatch(/need 1024 MiB/);
  });

  it('BitLocker OS: refused, explaining manage-bde unlock in WinPE', () => {
    const e = refusal(() => planWinreRebuild(inputs(win22h2(), { recoveryPartition: 4, bitlockerOs: true })));
    expect(e.code).toBe('winre-bitlocker');
    expect(e.message).toMatch(/OS partition 3 is BitLocker-encrypted/);
    expect(e.message).toMatch(/manage-bde -unlock C: -RecoveryPassword/);
    expect(e.message).toMatch(/WinPE/);
  });

  it('not enough free space in the OS volume: refused with need, free and minimum size', () => {
    const l = win22h2();
    const e = refusal(() => planWinreRebuild(inputs(l, { recoveryPartition: 4, osFreeBytes: 600 * MiB, osMinSizeBytes: 63 * GiB })));
    expect(e.code).toBe('winre-os-full');
    const need = 454 * MiB + OS_FREE_RESERVE;
    expect(e.message).toContain(`shrink it by 454 MiB (${454 * MiB} bytes) for a 1024 MiB recovery partition`);
    expect(e.message).toContain(`need ${need / MiB} MiB (${need} bytes) free in it`);
    expect(e.message).toContain(`free 600 MiB (${600 * MiB} bytes)`);
    expect(e.message).toContain(`minimum size 64512 MiB (${63 * GiB} bytes) (ntfsresize), size after the shrink`);
    // Enough free space but ntfsresize's minimum is above the shrunken size: refused too.
    const e2 = refusal(() => planWinreRebuild(inputs(l, { recoveryPartition: 4, osMinSizeBytes: l.partitions[2]!.size - 100 * MiB })));
    expect(e2.message).toMatch(/minimum size .* size after the shrink/);
    expect(e2.message).not.toMatch(/need .* free in it/);
  });

  it('bad inputs: unknown partitions, a non-NTFS or dynamic OS partition', () => {
    expect(refusal(() => planWinreRebuild(inputs(win22h2(), { osPartition: 9 }))).message).toMatch(
      /OS partition 9 is not on this disk \(partitions: 1, 2, 3, 4\)/,
    );
    expect(refusal(() => planWinreRebuild(inputs(win22h2(), { recoveryPartition: 7 }))).message).toMatch(/recovery partition 7 is not on this disk/);
    expect(refusal(() => planWinreRebuild(inputs(win22h2(), { osPartition: 1 }))).message).toMatch(
      /OS partition 1 has role esp \(type c12a7328-f81f-11d2-ba4b-00a0c93ec93b\), not a basic data partition/,
    );
    const l = win22h2();
    l.partitions[2]!.volume = { fs: 'fat32', label: '' };
    expect(refusal(() => planWinreRebuild(inputs(l))).message).toMatch(/holds fat32, not NTFS/);
    expect(() => planWinreRebuild(inputs(win22h2(), { osFreeBytes: -5 }))).toThrow(/OS free space must be a non-negative whole number/);
  });

  it('4Kn GPT: the same after-os plan, aligned and valid', () => {
    const size = 32 * GiB;
    const end = 32 * GiB - MiB;
    const l = gptLayout(
      size,
      [
        { number: 1, start: MiB, size: 260 * MiB, type: TYPE.ESP },
        { number: 2, start: 261 * MiB, size: 16 * MiB, type: TYPE.MSR },
        { number: 3, start: 277 * MiB, size: end - 600 * MiB - 277 * MiB, type: TYPE.BASIC },
        { number: 4, start: end - 600 * MiB, size: 600 * MiB, type: REC },
      ],
      4096,
    );
    const plan = planWinreRebuild(inputs(l, { recoveryPartition: 4 }));
    expect(plan.case).toBe('after-os');
    expect(plan.sectorSize).toBe(4096);
    expect(plan.newPartition.start).toBe(end - GiB);
    checkPlan(plan, l);
  });
});

// ---------------------------------------------------------------------------------------------
// Real images

const reason = diskToolsReason('mkntfs', 'mkfs.fat', 'mkfs.exfat', 'ntfsresize');

/** `ntfsresize --info` on a partition of the image: volume size and the smallest size it can shrink to. */
function ntfsInfo(file: string, start: number, size: number): { volume: number; min: number; free: number } {
  const out = withLoop(
    file,
    (dev) => execFileSync('ntfsresize', ['--info', '--force', '--no-progress-bar', dev], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    { offset: start, size },
  );
  const volume = Number(/Current volume size: (\d+) bytes/.exec(out)?.[1]);
  const min = Number(/You might resize at (\d+) bytes/.exec(out)?.[1]);
  if (!volume || !min) throw new Error(`unexpected ntfsresize output:\n${out}`);
  return { volume, min, free: volume - min };
}

function layoutOf(file: string, sectorSize?: number): Layout {
  const dev = openBlockDevice(file, sectorSize ? { sectorSize } : {});
  try {
    return readLayout(dev);
  } finally {
    dev.close();
  }
}

/** What sfdisk must show after the plan: worked out from sfdisk's view before and the plan's numbers. */
function expectedAfter(before: RefLayout, plan: WinrePlan): RefPartition[] {
  const out: RefPartition[] = [];
  for (const p of before.partitions) {
    if (p.number === plan.deleteOld) continue;
    out.push(p.number === plan.os.number ? { ...p, size: p.size - plan.shrinkOsBy } : p);
  }
  const np: RefPartition = {
    number: plan.newPartition.number,
    start: plan.newPartition.start,
    size: plan.newPartition.size,
    type: before.scheme === 'gpt' ? REC : '0x27',
    active: false,
  };
  if (before.scheme === 'gpt') {
    np.name = '';
    np.guid = plan.newPartition.guid ?? expect.stringMatching(/^[0-9a-f-]{36}$/);
  }
  out.push(np);
  return out.sort((a, b) => a.number - b.number);
}

describe.skipIf(!!reason)(`planWinreRebuild on real images, applied to copies${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  beforeAll(() => {
    t = tempDir('wufix-winre-plan-');
  });
  afterAll(() => t?.cleanup());

  /** Plan on the image, validate, apply to a copy, verify with sgdisk/sfdisk. The original is not written. */
  function planAndApply(img: BuiltImage, o: Omit<WinreInputs, 'layout'>): { plan: WinrePlan; after: RefLayout } {
    const layout = layoutOf(img.file);
    const plan = planWinreRebuild({ layout, ...o });
    checkPlan(plan, layout);
    const before = sfdiskJson(img.file);
    const copy = path.join(t.dir, `copy-${path.basename(img.file)}`);
    execFileSync('cp', ['--sparse=always', img.file, copy]);
    try {
      const dev = openBlockDevice(copy, { write: true });
      try {
        applyPlan(dev, plan.diskPlan);
      } finally {
        dev.close();
      }
      const verify = img.scheme === 'gpt' ? sgdiskVerifyClean(copy) : sfdiskVerifyClean(copy);
      expect(verify.clean, verify.output).toBe(true);
      const after = sfdiskJson(copy);
      expect(after.id).toBe(before.id);
      expect(after.partitions).toEqual(expectedAfter(before, plan));
      if (img.scheme === 'gpt') {
        const info = sgdiskInfo(copy, plan.newPartition.number);
        expect(info.type).toBe('de94bba4-06d1-4d40-a16a-bfd50179d6ac');
        expect(info.attributes).toBe('0x8000000000000001');
        expect(info.name).toBe('');
      }
      return { plan, after };
    } finally {
      rmSync(copy, { force: true });
    }
  }

  function expectRefusedUnchanged(img: BuiltImage, o: Omit<WinreInputs, 'layout'>): RefusedError {
    const hash = sha256(img.file);
    const e = refusal(() => planWinreRebuild({ layout: layoutOf(img.file), ...o }));
    expect(sha256(img.file)).toBe(hash);
    return e;
  }

  it('Windows 10 22H2 (GPT, 570 MiB recovery at the end): after-os, same unique GUID', () => {
    const img = win10_22h2(t.dir, 4 * GiB);
    const os = img.gpt![2]!;
    const n = ntfsInfo(img.file, os.start, os.size);
    const { plan } = planAndApply(img, {
      osPartition: 3,
      recoveryPartition: 4,
      winreWimBytes: WIM,
      osFreeBytes: n.free,
      osMinSizeBytes: n.min,
      bitlockerOs: false,
    });
    expect(plan.case).toBe('after-os');
    expect(plan.shrinkOsBy).toBe(454 * MiB);
    expect(plan.newPartition.start).toBe(gptEnd(img.size) - GiB);
    expect(plan.newPartition.guid).toBe(sfdiskJson(img.file).partitions[3]!.guid);
    rmSync(img.file);
  });

  it('Server 2022 (recovery 645 MiB between the OS and a ReFS data volume): after-os, data volume untouched', () => {
    const img = server2022(t.dir);
    const os = img.gpt![2]!;
    const n = ntfsInfo(img.file, os.start, os.size);
    const { plan, after } = planAndApply(img, {
      osPartition: 3,
      recoveryPartition: 4,
      winreWimBytes: WIM,
      osFreeBytes: n.free,
      osMinSizeBytes: n.min,
      bitlockerOs: false,
    });
    expect(plan.case).toBe('after-os');
    expect(plan.newPartition).toMatchObject({ number: 4, start: 3 * GiB - GiB, guid: '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9' });
    expect(after.partitions[4]).toMatchObject({ start: 3 * GiB, size: 2 * GiB, name: 'Donn\u00e9es \u65e5\u672c' });
    rmSync(img.file);
  });

  it('Windows 10 1909 (recovery first, BitLocker OS): refused as probed; in WinPE after unlocking, before-os', () => {
    const img = win10_1909(t.dir);
    const layout = layoutOf(img.file);
    expect(layout.partitions[3]!.volume!.fs).toBe('bitlocker');
    const base = { osPartition: 4, recoveryPartition: 1, winreWimBytes: WIM, osFreeBytes: 2 * GiB };
    const e = expectRefusedUnchanged(img, { ...base, bitlockerOs: true });
    expect(e.message).toMatch(/manage-bde -unlock/);
    // WinPE after manage-bde -unlock: Windows reports the free space; the table edit is the same.
    const { plan } = planAndApply(img, { ...base, bitlockerOs: false });
    expect(plan.case).toBe('before-os');
    expect(plan.deleteOld).toBe(1);
    expect(plan.newPartition).toMatchObject({ number: 1, start: gptEnd(img.size) - GiB, size: GiB });
    expect(plan.shrinkOsBy).toBe(GiB);
    rmSync(img.file);
  });

  it('BIOS/MBR (System Reserved, Windows, 0x27): after-os, System Reserved stays active', () => {
    const img = biosMbr(t.dir);
    const n = ntfsInfo(img.file, 101 * MiB, 3000 * MiB);
    const { plan, after } = planAndApply(img, {
      osPartition: 2,
      recoveryPartition: 3,
      winreWimBytes: WIM,
      osFreeBytes: n.free,
      osMinSizeBytes: n.min,
      bitlockerOs: false,
    });
    expect(plan.case).toBe('after-os');
    // The 445 MiB after the recovery partition (4 GiB disk) is used first: the OS gives up only 29 MiB.
    expect(plan.newPartition).toEqual({ number: 3, start: 4 * GiB - GiB, size: GiB, type: '0x27' });
    expect(plan.shrinkOsBy).toBe(3101 * MiB - 3 * GiB);
    expect(after.partitions[0]!.active).toBe(true);
    rmSync(img.file);
  });

  it('MBR with four primaries (recovery after the OS): the recovery slot is reused; with too little room in the 1000 MiB OS it is refused with ntfsresize numbers', () => {
    const img = mbrFourPrimaries(t.dir);
    const n = ntfsInfo(img.file, 201 * MiB, 1000 * MiB);
    const o = { osPartition: 2, recoveryPartition: 3, winreWimBytes: 100 * MiB, osFreeBytes: n.free, osMinSizeBytes: n.min, bitlockerOs: false };
    // Default 1 GiB: shrinking 1000 MiB by 524 MiB would leave less than the reserve free.
    const e = expectRefusedUnchanged(img, o);
    expect(e.message).toContain(`(${n.free} bytes)`);
    expect(e.message).toContain(`need ${(524 * MiB + OS_FREE_RESERVE) / MiB} MiB`);
    // --winre-size 700 MiB: shrink by 200 MiB, the 0x42 dynamic partition 4 untouched.
    const { plan, after } = planAndApply(img, { ...o, targetSize: 700 * MiB });
    expect(plan.case).toBe('after-os');
    expect(plan.shrinkOsBy).toBe(200 * MiB);
    expect(plan.newPartition).toEqual({ number: 3, start: 1001 * MiB, size: 700 * MiB, type: '0x27' });
    expect(after.partitions[3]).toMatchObject({ number: 4, start: 1701 * MiB, type: '0x42' });
    rmSync(img.file);
  });

  it('MBR with logical partitions (Windows 5, Recovery 6, data 7, 8): refused with the reason, image unchanged', () => {
    const img = mbrLogicals(t.dir);
    const n = ntfsInfo(img.file, 102 * MiB, 1500 * MiB);
    const e = expectRefusedUnchanged(img, {
      osPartition: 5,
      recoveryPartition: 6,
      winreWimBytes: WIM,
      osFreeBytes: n.free,
      osMinSizeBytes: n.min,
      bitlockerOs: false,
    });
    expect(e.message).toMatch(
      /partition 6 is a logical partition followed by logical partitions 7, 8|OS partition 5 is a logical partition followed by logical partitions 6, 7, 8/,
    );
    expect(e.message).toMatch(/need 1024 MiB/);
    rmSync(img.file);
  });

  it('MBR four primaries with Windows as the last logical partition and no recovery: mbr-logical by shrinking', () => {
    const size = 4 * GiB;
    const img = buildMbr(path.join(t.dir, 'mbr-4p-ext.img'), size, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true, fs: { kind: 'ntfs', label: 'System Reserved' } },
      { number: 2, start: 101 * MiB, size: 200 * MiB, type: 0x0c, fs: { kind: 'fat32', label: 'TOOLS' } },
      { number: 3, start: 301 * MiB, size: 200 * MiB, type: 0x07, fs: { kind: 'ntfs', label: 'Data' } },
      { number: 4, start: 501 * MiB, size: size - 501 * MiB, type: 0x0f },
      { number: 5, start: 502 * MiB, size: size - 502 * MiB, type: 0x07, fs: { kind: 'ntfs', label: 'Windows' } },
    ]);
    const n = ntfsInfo(img.file, 502 * MiB, size - 502 * MiB);
    const { plan } = planAndApply(img, { osPartition: 5, winreWimBytes: WIM, osFreeBytes: n.free, osMinSizeBytes: n.min, bitlockerOs: false });
    expect(plan.case).toBe('mbr-logical');
    expect(plan.newPartition).toEqual({ number: 6, start: size - GiB, size: GiB, type: '0x27', logical: true });
    expect(plan.shrinkOsBy).toBe(GiB + MiB);
    rmSync(img.file);
  });

  it('GPT with unallocated space after the OS (no recovery partition): used without shrinking; GPT with the OS to the end: no-recovery', () => {
    const size = 4 * GiB;
    const img = buildGpt(
      path.join(t.dir, 'gpt-free.img'),
      size,
      [
        { start: MiB, size: 100 * MiB, type: TYPE.ESP, name: 'EFI system partition', fs: { kind: 'fat32', label: 'SYSTEM' } },
        { start: 101 * MiB, size: 16 * MiB, type: TYPE.MSR, name: 'Microsoft reserved partition' },
        { start: 117 * MiB, size: 2 * GiB, type: TYPE.BASIC, name: 'Basic data partition', fs: { kind: 'ntfs', label: 'Windows' } },
      ],
      512,
      'sfdisk',
    );
    const n = ntfsInfo(img.file, 117 * MiB, 2 * GiB);
    const { plan } = planAndApply(img, { osPartition: 3, winreWimBytes: WIM, osFreeBytes: n.free, osMinSizeBytes: n.min, bitlockerOs: false });
    expect(plan.case).toBe('unallocated-after-os');
    expect(plan.shrinkOsBy).toBe(0);
    expect(plan.newPartition).toMatchObject({ number: 4, start: 117 * MiB + 2 * GiB, size: GiB });
    rmSync(img.file);

    const img2 = buildGpt(
      path.join(t.dir, 'gpt-full.img'),
      size,
      [
        { start: MiB, size: 100 * MiB, type: TYPE.ESP, name: 'EFI system partition', fs: { kind: 'fat32', label: 'SYSTEM' } },
        { start: 117 * MiB, size: gptEnd(size) - 117 * MiB, type: TYPE.BASIC, name: 'Basic data partition', fs: { kind: 'ntfs', label: 'Windows' } },
      ],
      512,
      'sfdisk',
    );
    const n2 = ntfsInfo(img2.file, 117 * MiB, gptEnd(size) - 117 * MiB);
    const r2 = planAndApply(img2, { osPartition: 2, winreWimBytes: WIM, osFreeBytes: n2.free, osMinSizeBytes: n2.min, bitlockerOs: false });
    expect(r2.plan.case).toBe('no-recovery');
    expect(r2.plan.newPartition).toMatchObject({ number: 3, start: gptEnd(size) - GiB });
    rmSync(img2.file);
  });

  it('OS volume too small to give up the space: refused with the ntfsresize numbers, image unchanged', () => {
    const size = 2 * GiB;
    const img = buildGpt(
      path.join(t.dir, 'gpt-tight.img'),
      size,
      [
        { start: MiB, size: 100 * MiB, type: TYPE.ESP, name: 'EFI system partition', fs: { kind: 'fat32', label: 'SYSTEM' } },
        { start: 101 * MiB, size: 700 * MiB, type: TYPE.BASIC, name: 'Basic data partition', fs: { kind: 'ntfs', label: 'Windows' } },
        { start: 801 * MiB, size: 500 * MiB, type: TYPE.RECOVERY, name: '', attributes: RECOVERY_ATTRS, fs: { kind: 'ntfs', label: 'Windows RE tools' } },
        { start: 1301 * MiB, size: gptEnd(size) - 1301 * MiB, type: TYPE.BASIC, name: 'Data', fs: { kind: 'ntfs', label: 'Data' } },
      ],
      512,
      'sfdisk',
    );
    const n = ntfsInfo(img.file, 101 * MiB, 700 * MiB);
    const e = expectRefusedUnchanged(img, {
      osPartition: 2,
      recoveryPartition: 3,
      winreWimBytes: WIM,
      osFreeBytes: n.free,
      osMinSizeBytes: n.min,
      bitlockerOs: false,
    });
    expect(e.code).toBe('winre-os-full');
    expect(e.message).toContain(`shrink it by 524 MiB (${524 * MiB} bytes)`);
    expect(e.message).toContain(`(${n.free} bytes)`);
    rmSync(img.file);
  });
});
