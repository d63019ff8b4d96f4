// The WinRE partition rebuild as a partition plan (issue #6; ../shared/docs/winre.md §2, §3, §10,
// §11). Pure: it reads a Layout (src/disk) and a few numbers, and returns the disk engine's plan
// (shrink the OS end, delete the old recovery partition, create the new one) or a RefusedError
// naming the numbers. Nothing here touches a disk; the Linux backend applies `diskPlan` with the
// disk engine, the Windows backend turns the plan into a diskpart script (src/platform/diskpart.ts).
// Order of preference: rebuild a deletable recovery partition that follows the OS in place; else a
// new partition right after the OS, in unallocated space there or by shrinking the OS end; else
// (no primary slot, or the OS cannot shrink) any unallocated space after the OS. Every start, end
// and shrink is a whole MiB; only partitions of role 'recovery' are ever deleted.
import { BadInputError, RefusedError } from '../shared/errors.js';
import { validate } from '../disk/plan.js';
import { type Plan, type PlanOp } from '../model/disk.js';
import { gptFree, mbrFree } from '../disk/layout.js';
import { GPT_TYPE, WINRE_ATTRIBUTES, attributesString } from '../disk/roles.js';
import type { Layout, Partition, Region } from '../model/disk.js';
import { GiB, MiB, describeBytes, fmtMiB } from '../shared/units.js';
import { WINRE_UPDATE_FREE } from '../windows/winre.js';
import { manageBdeOff, manageBdeUnlock } from '../windows/bitlocker.js';
import type { WinreCase, WinreInputs, WinrePlan } from '../model/winre.js';

/** GPT type of the new partition (PARTITION_MSFT_RECOVERY_GUID) and its attributes (winre.md §1). */
export const WINRE_GPT_TYPE = GPT_TYPE.RECOVERY;
export const WINRE_GPT_ATTRIBUTES = attributesString(WINRE_ATTRIBUTES); // 0x8000000000000001
export const WINRE_MBR_TYPE = '0x27';

/** reagentc's own test: WIM size + 52 MiB free (winre.md §1, ReAgent.log). */
export const REAGENTC_SLACK = 52 * MiB;
/** NTFS metadata of a ~1 GiB volume (winre.md §3: 5-15 MB on 750 MB), counted as MiB. */
export const NTFS_OVERHEAD = 15 * MiB;
/** The smallest partition wufix creates (winre.md §3: 1 GiB recommended). */
export const WINRE_MIN_SIZE = GiB;
/** A "recovery" partition larger than this is an OEM image partition: never deleted (winre.md §11.6). */
export const OEM_RECOVERY_LIMIT = 2 * GiB;
/** Free space left in the OS volume after a shrink, unless the caller says otherwise. */
export const OS_FREE_RESERVE = 512 * MiB;

// --- sizes ---------------------------------------------------------------------------------------

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;
const alignDown = (n: number, a: number) => Math.floor(n / a) * a;

/** "525 MiB", "82.8 MiB": whole MiB exactly, else rounded down to 0.1 (src/shared/units.ts). */
const mibs = fmtMiB;

function checkBytes(name: string, n: number | undefined, opts: { positive?: boolean } = {}): void {
  if (n === undefined) return;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || (opts.positive && n === 0)) {
    throw new BadInputError(`${name} must be a ${opts.positive ? 'positive' : 'non-negative'} whole number of bytes, got ${String(n)}`, {
      code: 'winre-input',
    });
  }
}

/** Winre.wim + 250 MB + 52 MiB + 15 MB (all counted as MiB), rounded up to 1 MiB. */
export function winreNeededSize(wimBytes: number): number {
  checkBytes('Winre.wim size', wimBytes);
  return alignUp(wimBytes + WINRE_UPDATE_FREE + REAGENTC_SLACK + NTFS_OVERHEAD, MiB);
}

/**
 * The size of the new partition: max(1 GiB, Winre.wim + 250 MB + 52 MiB + 15 MB, current size),
 * rounded up to 1 MiB. `override` (--winre-size) replaces the 1 GiB default but may not go below
 * what the WIM needs (RefusedError); below the current size it is raised to the current size.
 */
export function winreTargetSize(wimBytes: number, current?: number, override?: number): number {
  const needed = winreNeededSize(wimBytes);
  checkBytes('current recovery partition size', current);
  checkBytes('--winre-size', override, { positive: true });
  const cur = alignUp(current ?? 0, MiB);
  if (override !== undefined) {
    const o = alignUp(override, MiB);
    if (o < needed) {
      throw new RefusedError(
        `--winre-size ${describeBytes(o)} is too small: Winre.wim ${describeBytes(wimBytes)} needs ${describeBytes(needed)} (WIM + 250 MiB for the update + 52 MiB reagentc + 15 MiB NTFS)`,
        'winre-size-too-small',
      );
    }
    return Math.max(o, cur);
  }
  return Math.max(WINRE_MIN_SIZE, needed, cur);
}

// --- numbering -----------------------------------------------------------------------------------

/**
 * The number Windows (diskpart `select partition`) gives partition `n` of the engine's layout.
 * GPT: used entries counted in entry order (equal to entry + 1 when the array has no holes).
 * MBR: primaries in slot order, then logical partitions in chain order; the extended container has
 * no number ("An extended partition does not receive a partition ID", MS "Configure more than
 * four partitions on a BIOS/MBR-based hard disk"). undefined for the container or an unknown number.
 */
export function windowsPartitionNumber(layout: Layout, n: number): number | undefined {
  const parts = [...layout.partitions];
  if (layout.scheme === 'gpt') {
    parts.sort((a, b) => a.number - b.number);
    const i = parts.findIndex((p) => p.number === n);
    return i < 0 ? undefined : i + 1;
  }
  const numbered = parts.filter((p) => p.role !== 'extended').sort((a, b) => Number(!!a.logical) - Number(!!b.logical) || a.number - b.number);
  const i = numbered.findIndex((p) => p.number === n);
  return i < 0 ? undefined : i + 1;
}

// --- the planner ---------------------------------------------------------------------------------
//
// planWinreRebuild checks the inputs and the OS partition, looks at the old WinRE partition, then
// tries the placements in order and turns the first that fits into the engine plan:
//   placeInPlace        'after-os'              the deletable recovery partition right after the OS
//                                               is recreated where it was (shrinking the OS if needed)
//   placeRightAfterOs   'unallocated-after-os'  a new partition in unallocated space after the OS
//                       'before-os'             ... or by shrinking the OS end, when the old WinRE
//                       'no-recovery'               partition is elsewhere / there is none
//   placeAnywhereAfterOs 'unallocated-after-os' fallback: any unallocated region after the OS
//   every case          'mbr-logical'           the same, as a logical partition (MBR extended)
// refuseNoRoom names the numbers when none fits.

const end = (p: Region) => p.start + p.size;

/** A new-partition placement being considered. */
interface Placement {
  case: WinreCase;
  start: number;
  end: number;
  shrink: number;
  logical: boolean;
  deleteOld: boolean;
  notes: string[];
}

/** Why a placement is impossible (for the refusal message). */
class NoRoom {
  constructor(readonly reason: string) {}
}

/** What every placement needs to know: the disk, the OS, the old WinRE partition, the size. */
interface Ctx {
  i: WinreInputs;
  layout: Layout;
  gpt: boolean;
  os: Partition;
  rec: Partition | undefined;
  /** Why the old WinRE partition may not be deleted (undefined = deletable, or none). */
  keepReason: string | undefined;
  deletable: boolean;
  target: number;
  /** The partitions that stay (the deletable old one removed). */
  remaining: Partition[];
  osLogical: boolean;
  /** Room for the new logical partition's EBR after a logical OS. */
  gap: number;
  /** Where the space after the OS ends: the disk's last usable byte, or the extended container's. */
  regionEnd: number;
  reserve: number;
}

export function planWinreRebuild(i: WinreInputs): WinrePlan {
  checkInputs(i);
  const os = checkOs(i);
  const notes: string[] = [];
  const ctx = context(i, os, notes);
  const tried: NoRoom[] = [];
  const chosen = placeInPlace(ctx, tried) ?? placeRightAfterOs(ctx, tried);
  if (chosen) return planFor(ctx, chosen, notes);
  const fallback = placeAnywhereAfterOs(ctx, tried);
  if (Array.isArray(fallback)) refuseNoRoom(ctx, tried, fallback);
  return planFor(ctx, fallback, notes);
}

function checkInputs(i: WinreInputs): void {
  const layout = i.layout;
  if (!layout || !Array.isArray(layout.partitions)) throw new BadInputError('no disk layout', { code: 'winre-input' });
  checkBytes('Winre.wim size', i.winreWimBytes);
  checkBytes('OS free space', i.osFreeBytes);
  checkBytes('OS minimum size', i.osMinSizeBytes);
  checkBytes('recovery free space', i.recoveryFreeBytes);
  checkBytes('OS reserve', i.osReserveBytes);
}

/** 1. The OS partition: present, basic, not locked, NTFS. */
function checkOs(i: WinreInputs): Partition {
  const layout = i.layout;
  const os = layout.partitions.find((p) => p.number === i.osPartition);
  if (!os) {
    throw new RefusedError(
      `OS partition ${i.osPartition} is not on this disk (partitions: ${layout.partitions.map((p) => p.number).join(', ') || 'none'})`,
      'winre-no-os',
    );
  }
  if (os.role !== 'basic') {
    const what =
      os.role === 'windows-ldm'
        ? 'is on a dynamic (LDM) disk; dynamic disks are not supported'
        : `has role ${os.role} (type ${os.type}), not a basic data partition`;
    throw new RefusedError(`OS partition ${os.number} ${what}`, 'winre-os-type');
  }
  if (i.bitlockerOs) {
    throw new RefusedError(
      `OS partition ${os.number} is BitLocker-encrypted: it cannot be shrunk and ReAgent.xml cannot be written while it is locked. ` +
        `In WinPE (with the WinPE-SecureStartup package) unlock it first, e.g. "${manageBdeUnlock('C', '<48-digit key>')}", and run wufix there; ` +
        `from Linux an encrypted volume is never resized: decrypt it in Windows first ("${manageBdeOff('C')}"). Nothing was written`,
      'winre-bitlocker',
    );
  }
  if (os.volume && os.volume.fs !== 'ntfs' && os.volume.fs !== 'bitlocker') {
    throw new RefusedError(`OS partition ${os.number} holds ${os.volume.fs}, not NTFS: it cannot be shrunk`, 'winre-os-type');
  }
  return os;
}

/** 2. The current WinRE partition (undefined when WinRE is on the OS volume or unknown). */
function currentRecovery(i: WinreInputs, os: Partition, notes: string[]): Partition | undefined {
  if (i.recoveryPartition !== undefined && i.recoveryPartition !== os.number) {
    const rec = i.layout.partitions.find((p) => p.number === i.recoveryPartition);
    if (!rec) throw new RefusedError(`recovery partition ${i.recoveryPartition} is not on this disk`, 'winre-no-recovery-partition');
    return rec;
  }
  if (i.recoveryPartition === os.number) notes.push(`WinRE is on the OS volume now (partition ${os.number}); a recovery partition is created`);
  return undefined;
}

/** Why the old WinRE partition `rec` must be kept, or undefined when it may be deleted. */
function keepReasonFor(layout: Layout, rec: Partition): string | undefined {
  const logicalsAfter = layout.partitions.filter((q) => q.logical && q.number > rec.number).map((q) => q.number);
  if (rec.role !== 'recovery') return `partition ${rec.number} has role ${rec.role} (type ${rec.type}), not recovery; only recovery partitions are deleted`;
  if (rec.active) return `partition ${rec.number} is the active (system) partition`;
  if (rec.size > OEM_RECOVERY_LIMIT)
    return `partition ${rec.number} is ${mibs(rec.size)}, larger than ${mibs(OEM_RECOVERY_LIMIT)}: treated as an OEM recovery image and kept`;
  if (layout.scheme !== 'gpt' && rec.logical && logicalsAfter.length) {
    return `partition ${rec.number} is a logical partition followed by logical partition${logicalsAfter.length > 1 ? 's' : ''} ${logicalsAfter.join(', ')}; deleting it would renumber them`;
  }
  return undefined;
}

/** 2-3. The old WinRE partition, the target size and the geometry after the OS. */
function context(i: WinreInputs, os: Partition, notes: string[]): Ctx {
  const layout = i.layout;
  const gpt = layout.scheme === 'gpt';
  const ss = layout.sectorSize;
  const rec = currentRecovery(i, os, notes);
  const keepReason = rec ? keepReasonFor(layout, rec) : undefined;
  if (keepReason) notes.push(`old WinRE partition kept: ${keepReason}`);
  const deletable = !!rec && !keepReason;
  // "Never smaller than the current partition" applies to the partition being replaced.
  const current = deletable ? rec.size : undefined;
  const target = winreTargetSize(i.winreWimBytes, current, i.targetSize);
  if (i.targetSize !== undefined && current !== undefined && rec && alignUp(i.targetSize, MiB) < current) {
    notes.push(`--winre-size raised to the current size of partition ${rec.number}, ${mibs(current)}`);
  }
  const diskEnd = gpt ? (lastUsableLba(layout) + 1) * ss : Math.min(layout.sizeBytes, 2 ** 32 * ss);
  const remaining = layout.partitions.filter((p) => !(deletable && p.number === rec.number));
  const osLogical = !gpt && !!os.logical;
  const ext = gpt ? undefined : layout.partitions.find((p) => p.role === 'extended');
  return {
    i,
    layout,
    gpt,
    os,
    rec,
    keepReason,
    deletable,
    target,
    remaining,
    osLogical,
    gap: osLogical ? MiB : 0,
    regionEnd: osLogical && ext ? end(ext) : diskEnd,
    reserve: i.osReserveBytes ?? OS_FREE_RESERVE,
  };
}

function gptHeader(layout: Layout): NonNullable<Layout['gpt']> {
  if (!layout.gpt) throw new BadInputError('GPT layout without its header', { code: 'winre-input' });
  return layout.gpt;
}

const lastUsableLba = (layout: Layout) => gptHeader(layout).lastUsableLba;

/**
 * What bounds the space right after the OS: GPT/primaries: the next primary (or the extended
 * container); logical OS: the next logical partition.
 */
function nextAfterOs(c: Ctx, list: Partition[]): Partition | undefined {
  const { os, osLogical } = c;
  const obstacles = list.filter((p) => p.number !== os.number && (osLogical ? !!p.logical : !p.logical) && p.start >= end(os));
  return obstacles.sort((a, b) => a.start - b.start)[0];
}

const primarySlotsUsed = (list: Partition[]) => list.filter((p) => !p.logical).length;

/** Can a partition be created right after the OS (MBR: a free primary slot, or the OS is the last logical)? */
function creatableAfterOs(c: Ctx, list: Partition[]): NoRoom | undefined {
  const { os } = c;
  if (c.gpt) return undefined;
  if (c.osLogical) {
    const later = list.filter((p) => p.logical && p.number > os.number).map((p) => p.number);
    if (later.length)
      return new NoRoom(
        `OS partition ${os.number} is a logical partition followed by logical partition${later.length > 1 ? 's' : ''} ${later.join(', ')}, so no logical partition can be added right after it`,
      );
    return undefined;
  }
  if (primarySlotsUsed(list) >= 4) {
    const nums = list
      .filter((p) => !p.logical)
      .map((p) => p.number)
      .join(', ');
    return new NoRoom(`all four MBR primary slots are used (partitions ${nums})`);
  }
  return undefined;
}

/** The shrink a placement starting at `newStart` needs, or a NoRoom naming the numbers. */
function shrinkFor(c: Ctx, newStart: number): number | NoRoom {
  const { i, os, reserve } = c;
  const need = end(os) + c.gap - newStart;
  if (need <= 0) return 0;
  const by = alignUp(need, MiB);
  const after = os.size - by;
  const problems: string[] = [];
  if (i.osFreeBytes < by + reserve)
    problems.push(`need ${describeBytes(by + reserve)} free in it (${mibs(by)} + ${mibs(reserve)} left for Windows), free ${describeBytes(i.osFreeBytes)}`);
  if (i.osMinSizeBytes !== undefined && after < i.osMinSizeBytes)
    problems.push(`minimum size ${describeBytes(i.osMinSizeBytes)} (ntfsresize), size after the shrink ${describeBytes(Math.max(after, 0))}`);
  if (after < MiB) problems.push(`the partition is only ${describeBytes(os.size)}`);
  if (!problems.length) return by;
  return new NoRoom(
    `not enough free space in the OS volume (partition ${os.number}, ${mibs(os.size)}) to shrink it by ${describeBytes(by)} for a ${mibs(c.target)} recovery partition: ${problems.join('; ')}`,
  );
}

/** The old WinRE partition is the next one after the OS (before anything is deleted). */
const recAdjacent = (c: Ctx) => !!c.rec && nextAfterOs(c, c.layout.partitions)?.number === c.rec.number;

/**
 * Case after-os: the deletable recovery partition right after the OS is recreated in place, ending
 * where it ended (or further, into unallocated space right after it, when that saves shrinking).
 */
function placeInPlace(c: Ctx, tried: NoRoom[]): Placement | undefined {
  const { rec, os, target } = c;
  if (!rec || !recAdjacent(c) || !c.deletable) return undefined;
  const blocked = creatableAfterOs(c, c.remaining);
  if (blocked) {
    tried.push(blocked);
    return undefined;
  }
  const holeEnd = nextAfterOs(c, c.remaining)?.start ?? c.regionEnd;
  let e = alignDown(end(rec), MiB);
  const want = alignUp(end(os) + c.gap, MiB) + target;
  const extra: string[] = [];
  if (want > e && holeEnd > e) {
    const e2 = Math.min(alignDown(holeEnd, MiB), want);
    if (e2 > e) {
      extra.push(`uses ${mibs(e2 - e)} of unallocated space after it`);
      e = e2;
    }
  }
  const s = e - target;
  const sh = shrinkFor(c, s);
  if (sh instanceof NoRoom) {
    tried.push(sh);
    return undefined;
  }
  return {
    case: c.osLogical ? 'mbr-logical' : 'after-os',
    start: s,
    end: e,
    shrink: sh,
    logical: c.osLogical,
    deleteOld: true,
    notes: [
      `recovery partition ${rec.number} (${mibs(rec.size)}) is right after the OS partition ${os.number}: it is deleted and recreated as ${mibs(e - s)} ending at byte ${e}${extra.length ? ' (' + extra.join(', ') + ')' : ''}`,
    ],
  };
}

/** Where the old WinRE partition is, for the notes of placeRightAfterOs. */
function whereOld(c: Ctx): string {
  const { rec, os } = c;
  if (!rec) return 'there is no recovery partition';
  if (rec.start < os.start) return `the old WinRE partition ${rec.number} is before the OS`;
  if (recAdjacent(c)) return `the old WinRE partition ${rec.number} is right after the OS but kept`;
  const between = obstaclesBetween(c.layout, os, rec, c.osLogical);
  return `the old WinRE partition ${rec.number} is not next to the OS (partition${between.length > 1 ? 's' : ''} ${between.join(', ')} in between, not moved)`;
}

/**
 * Cases unallocated-after-os / before-os / no-recovery: a new partition right after the OS, in
 * unallocated space there (no shrink), else by shrinking the OS end. The old recovery partition is
 * deleted when it may be.
 */
function placeRightAfterOs(c: Ctx, tried: NoRoom[]): Placement | undefined {
  const { os, target, rec } = c;
  const blocked = creatableAfterOs(c, c.remaining);
  if (blocked) {
    tried.push(blocked);
    return undefined;
  }
  const holeEnd = nextAfterOs(c, c.remaining)?.start ?? c.regionEnd;
  const e = alignDown(holeEnd, MiB);
  const holeStart = alignUp(end(os) + c.gap, MiB);
  const where = whereOld(c);
  const base = { logical: c.osLogical, deleteOld: c.deletable };
  if (e - holeStart >= target) {
    return {
      ...base,
      case: c.osLogical ? 'mbr-logical' : 'unallocated-after-os',
      start: holeStart,
      end: holeStart + target,
      shrink: 0,
      notes: [`${where}; ${mibs(e - holeStart)} of unallocated space right after the OS partition ${os.number} is used (no shrink)`],
    };
  }
  const s = e - target;
  const sh = shrinkFor(c, s);
  if (sh instanceof NoRoom) {
    tried.push(sh);
    return undefined;
  }
  return {
    ...base,
    case: c.osLogical ? 'mbr-logical' : rec ? 'before-os' : 'no-recovery',
    start: s,
    end: e,
    shrink: sh,
    notes: [`${where}; the new one is created right after the OS partition ${os.number} by shrinking it by ${mibs(sh)}`],
  };
}

/** The unallocated regions once the deletable old partition is gone. */
function freeRegions(c: Ctx): Region[] {
  const { layout } = c;
  return c.gpt
    ? gptFree({ partitions: c.remaining, sectorSize: layout.sectorSize, gpt: gptHeader(layout) })
    : mbrFree({ partitions: c.remaining, sectorSize: layout.sectorSize, sizeBytes: layout.sizeBytes });
}

/**
 * Fallback: any unallocated region after the OS big enough, without shrinking (MBR: a logical
 * partition at the end of the extended one, or a primary when a slot is free). Returns the
 * regions that did not fit (for the refusal) when none does.
 */
function placeAnywhereAfterOs(c: Ctx, tried: NoRoom[]): Placement | string[] {
  const { os, target } = c;
  const extNow = c.remaining.find((p) => p.role === 'extended');
  const slotFree = c.gpt || primarySlotsUsed(c.remaining) < 4;
  const fits: string[] = [];
  for (const r of freeRegions(c)) {
    if (r.start < end(os)) continue;
    const inExt = !!extNow && r.start >= extNow.start && end(r) <= end(extNow);
    if (!c.gpt && !inExt && !slotFree) {
      fits.push(`${mibs(r.size)} at byte ${r.start} (needs a free primary slot)`);
      continue;
    }
    // mbrFree already starts a region inside the extended partition one sector after the last
    // logical; keep a whole MiB for the EBR as diskpart does.
    const s = inExt && extNow ? Math.max(r.start, alignUp(lastLogicalEnd(c.remaining, extNow), MiB) + MiB) : r.start;
    const inExtText = inExt && extNow ? ` inside extended partition ${extNow.number}` : '';
    if (end(r) - s < target) {
      fits.push(`${mibs(Math.max(end(r) - s, 0))} at byte ${s}${inExtText}`);
      continue;
    }
    return {
      case: inExt ? 'mbr-logical' : 'unallocated-after-os',
      start: s,
      end: s + target,
      shrink: 0,
      logical: inExt,
      deleteOld: c.deletable,
      notes: [
        `no room right after the OS partition ${os.number} (${tried.map((t) => t.reason).join('; ')}); unallocated space at byte ${s}${inExt ? `${inExtText} is used for a logical partition` : ' is used'} (no shrink)`,
      ],
    };
  }
  return fits;
}

/** No placement fits: a RefusedError naming every reason and the unallocated regions seen. */
function refuseNoRoom(c: Ctx, tried: NoRoom[], fits: string[]): never {
  const { rec, target } = c;
  const why = [...new Set(tried.map((t) => t.reason))];
  if (c.keepReason) why.push(`the old WinRE partition cannot be reused: ${c.keepReason}`);
  const extNow = c.remaining.find((p) => p.role === 'extended');
  if (!c.gpt && !extNow && primarySlotsUsed(c.remaining) >= 4) why.push('there is no extended partition for a logical one');
  const counting = c.deletable && rec ? ` (counting the space of partition ${rec.number} once deleted)` : '';
  why.push(
    fits.length
      ? `unallocated space after the OS${counting}: ${fits.join(', ')}, need ${mibs(target)}`
      : `no unallocated space after the OS for ${mibs(target)}${counting}`,
  );
  throw new RefusedError(
    `cannot make room for a ${describeBytes(target)} WinRE partition: ${why.join('; ')}. Nothing was written`,
    tried.some((t) => t.reason.startsWith('not enough free space')) ? 'winre-os-full' : 'winre-no-room',
  );
}

/** The old partition's unique GUID, when the new one keeps it (GPT, deleted, reuseGuid not false). */
function reusedGuid(c: Ctx, p: Placement): string | undefined {
  return c.gpt && (c.i.reuseGuid ?? true) && p.deleteOld ? c.rec?.guid || undefined : undefined;
}

/** 4. The engine plan for placement `p`: shrink, delete, create. */
function diskPlanFor(c: Ctx, p: Placement): Plan {
  const { os, rec } = c;
  const ops: PlanOp[] = [];
  if (p.shrink > 0) ops.push({ op: 'shrink', partition: os.number, bytes: p.shrink });
  if (p.deleteOld && rec) ops.push({ op: 'delete', partition: rec.number });
  const guid = reusedGuid(c, p);
  const create: PlanOp = c.gpt
    ? { op: 'create', start: p.start, end: p.end, type: WINRE_GPT_TYPE, attributes: WINRE_GPT_ATTRIBUTES, name: '', ...(guid ? { guid } : {}) }
    : { op: 'create', start: p.start, end: p.end, type: WINRE_MBR_TYPE, ...(p.logical ? { logical: true } : {}) };
  ops.push(create);
  return { ops };
}

/** The closing notes: GUID / re-pointing, resize, old volume's free space. */
function closingNotes(c: Ctx, p: Placement, guid: string | undefined): string[] {
  const { rec, i } = c;
  const notes: string[] = [];
  if (c.gpt) {
    if (guid && rec) notes.push(`the new partition keeps the unique GUID ${guid} of partition ${rec.number} (BCD devices stay valid)`);
    else if (rec && p.deleteOld && i.reuseGuid === false) notes.push('a new unique GUID is used (not the old one): the BCD WinRE devices must be re-pointed');
    else notes.push('the new partition gets a new unique GUID: the BCD WinRE devices must be re-pointed');
  } else {
    notes.push('MBR: BCD devices and ReAgent.xml refer to the partition offset, so both are re-pointed');
  }
  if (p.shrink === 0) notes.push('the OS partition is not resized');
  if (i.recoveryFreeBytes !== undefined && rec)
    notes.push(`the old WinRE volume has ${mibs(i.recoveryFreeBytes)} free; the update needs ${mibs(WINRE_UPDATE_FREE)}`);
  return notes;
}

/** The WinrePlan for placement `p`, validated by the disk engine. */
function planFor(c: Ctx, p: Placement, notes: string[]): WinrePlan {
  const { layout, os, rec } = c;
  const diskPlan = diskPlanFor(c, p);
  // The engine decides the new number; validate here (a fixed GUID stands in for a random one).
  const placeholder = '5eed0000-0000-4000-8000-000000000001';
  const v = validate(diskPlan, layout, { newGuid: () => placeholder });
  const created = v.after.partitions.find((q) => q.start === p.start);
  if (!created) throw new RefusedError(`internal: the planned partition at byte ${p.start} is missing after validation`, 'winre-internal');
  const guid = reusedGuid(c, p);
  const winNum = (n: number) => windowsPartitionNumber(layout, n) ?? n;
  const old = p.deleteOld ? rec : undefined;
  return {
    case: p.case,
    scheme: layout.scheme,
    sectorSize: layout.sectorSize,
    targetSize: c.target,
    diskPlan,
    newPartition: {
      number: created.number,
      start: p.start,
      size: p.end - p.start,
      ...(guid ? { guid } : {}),
      type: c.gpt ? WINRE_GPT_TYPE : WINRE_MBR_TYPE,
      ...(p.logical ? { logical: true } : {}),
    },
    shrinkOsBy: p.shrink,
    ...(old ? { deleteOld: old.number } : {}),
    os: { number: os.number, windowsNumber: winNum(os.number), start: os.start, size: os.size },
    ...(old ? { old: { number: old.number, windowsNumber: winNum(old.number), start: old.start, size: old.size } } : {}),
    notes: [...notes, ...p.notes, ...closingNotes(c, p, guid)],
  };
}

/** Numbers of the partitions between the end of the OS and `rec` (same level: primaries / logicals). */
function obstaclesBetween(layout: Layout, os: Partition, rec: Partition, osLogical: boolean): number[] {
  return layout.partitions
    .filter((p) => p.number !== os.number && p.number !== rec.number && (osLogical ? !!p.logical : !p.logical))
    .filter((p) => p.start >= end(os) && p.start < rec.start)
    .map((p) => p.number);
}

function lastLogicalEnd(parts: Partition[], ext: Partition): number {
  return Math.max(ext.start, ...parts.filter((p) => p.logical).map(end));
}
