// The single write path: validate a plan against the disk as it is now, write the changed sectors,
// re-read the disk and compare with the plan.
import { VerificationError } from '../shared/errors.js';
import { gptWrites, readGptStrict, encodeGptEntry, type SectorWrite } from './gpt.js';
import { readLayout } from './layout.js';
import { MBR_TYPE, mbrWrites, readMbr, type MbrEntry, type MbrTable } from './mbr.js';
import { tableFields, validate, type ValidatedPlan, type ValidateOptions } from './plan.js';
import { type Plan } from '../model/disk.js';
import type { BlockDevice, Layout } from '../model/disk.js';

function gptPlanWrites(dev: BlockDevice, v: ValidatedPlan): SectorWrite[] {
  const copy = readGptStrict(dev);
  const h = copy.header;
  const raw = copy.raw.slice();
  for (const n of v.touched) {
    const off = (n - 1) * h.entrySize;
    raw.fill(0, off, off + h.entrySize);
    const p = v.after.partitions.find((q) => q.number === n);
    if (!p) continue;
    raw.set(
      encodeGptEntry({
        type: p.type,
        guid: p.guid!,
        firstLba: p.start / dev.sectorSize,
        lastLba: (p.start + p.size) / dev.sectorSize - 1,
        attributes: p.attributes ?? 0n,
        name: p.name ?? '',
      }),
      off,
    );
  }
  return gptWrites(h, raw, dev.sectorSize, dev.size / dev.sectorSize);
}

function mbrPlanWrites(dev: BlockDevice, v: ValidatedPlan): SectorWrite[] {
  const ss = dev.sectorSize;
  const before = readMbr(dev);
  const entry = (n: number): MbrEntry => {
    const p = v.after.partitions.find((q) => q.number === n && !q.logical);
    if (!p) return { status: 0, type: 0, startLba: 0, sectors: 0 };
    return { status: p.active ? 0x80 : 0, type: parseInt(p.type, 16), startLba: p.start / ss, sectors: p.size / ss };
  };
  const primaries = [1, 2, 3, 4].map((n) => (v.touched.has(n) ? entry(n) : before.primaries[n - 1]!));
  const extendedSlot = primaries.findIndex((e) => e.type === MBR_TYPE.EXTENDED_CHS || e.type === MBR_TYPE.EXTENDED_LBA || e.type === MBR_TYPE.LINUX_EXTENDED);
  const logicals = v.after.partitions
    .filter((p) => p.logical)
    .sort((a, b) => a.number - b.number)
    .map((p) => ({
      ebrLba: v.after.mbr!.ebrOffsets.get(p.number)! / ss,
      status: p.active ? 0x80 : 0,
      type: parseInt(p.type, 16),
      startLba: p.start / ss,
      sectors: p.size / ss,
    }));
  const after: MbrTable = { diskSignature: before.diskSignature, primaries, extendedSlot, logicals };
  return mbrWrites(dev, before, after);
}

/** The sector writes a plan needs, without writing anything (throws PlanError when invalid). */
export function planWrites(dev: BlockDevice, plan: Plan, opts: ValidateOptions = {}): { validated: ValidatedPlan; writes: SectorWrite[] } {
  const layout = readLayout(dev, { probe: false });
  const validated = validate(plan, layout, opts);
  // An empty plan writes nothing (not even identical bytes).
  if (validated.touched.size === 0) return { validated, writes: [] };
  const writes = validated.after.scheme === 'gpt' ? gptPlanWrites(dev, validated) : mbrPlanWrites(dev, validated);
  return { validated, writes };
}

/** Compare a re-read layout with the planned one; the list of differences (empty = equal). */
export function diffLayouts(actual: Layout, planned: Layout): string[] {
  const out: string[] = [];
  const a = new Map(actual.partitions.map((p) => [p.number, tableFields(p)]));
  const b = new Map(planned.partitions.map((p) => [p.number, tableFields(p)]));
  for (const [n, f] of b) if (a.get(n) !== f) out.push(`partition ${n}: expected ${f}, found ${a.get(n) ?? 'nothing'}`);
  for (const [n, f] of a) if (!b.has(n)) out.push(`partition ${n}: not planned, found ${f}`);
  if (actual.diskGuid !== planned.diskGuid) out.push(`disk GUID changed`);
  if (actual.signature !== planned.signature) out.push(`disk signature changed`);
  return out;
}

export interface ApplyResult {
  layout: Layout;
  writes: SectorWrite[];
}

/** Validate, write, flush, re-read and compare. The only function that writes partition tables. */
export function applyPlan(dev: BlockDevice, plan: Plan, opts: ValidateOptions = {}): ApplyResult {
  const { validated, writes } = planWrites(dev, plan, opts);
  for (const w of writes) dev.write(w.offset, w.bytes);
  dev.flush();
  const reread = readLayout(dev, { probe: false });
  const diffs = diffLayouts(reread, validated.after);
  if (diffs.length) {
    throw new VerificationError(`after writing, the disk does not match the plan: ${diffs.join('; ')}`);
  }
  return { layout: reread, writes };
}
