// What Windows itself requires of its recovery environment (winre.md §1): the updates that service
// WinRE, and the free space they need inside the recovery partition. And `reagentc /info` offline:
// the WinRE status of one scanned Windows, from the scan's facts (pure).
import { MiB } from '../shared/units.js';
import type { TargetScan, WimSummary } from '../model/scan.js';

/** Free space the WinRE update needs inside the recovery partition (KB5034441 and later), counted as MiB. */
export const WINRE_UPDATE_FREE = 250 * MiB;

/** The WinRE servicing updates that fail with 0x80070643 when that space is missing. */
export const WINRE_KBS: ReadonlySet<string> = new Set(['KB5034441', 'KB5034439', 'KB5034440']);

/** `wufix winre info` for one Windows: what `reagentc /info` says, read offline, with its sources. */
export interface WinreStatus {
  /** The scanned Windows ("<image> partition N", or the volume root). */
  root: string;
  /** From ReAgent.xml InstallState: 1 Enabled, 0 Disabled; 'unknown' without a readable ReAgent.xml. */
  status: 'Enabled' | 'Disabled' | 'unknown';
  installState?: number;
  /** Where ReAgent.xml is (inside the Windows volume), when found. */
  reagentXml?: string;
  /** ReAgent.xml WinreLocation, and the partition of the disk at its offset. */
  location?: {
    path: string;
    offset?: number;
    /** GPT disk GUID, or the MBR disk signature (ReAgent.xml id, decimal), as stored. */
    diskId?: string;
    disk?: string;
    partition?: { number: number; start: number; size: number; role: string; fs: string };
  };
  /** Winre.wim in the recovery partition (\Recovery\WindowsRE), or staged on the OS volume while disabled. */
  wim?: { path: string; bytes: number; where: 'recovery-partition' | 'os-volume'; summary?: WimSummary; error?: string };
  /** ReAgent.xml WinreBCD id (reagentc's "Boot Configuration Data (BCD) identifier"). */
  bcdId?: string;
  /** The BCD store's side: the default OS loader's recoverysequence and recoveryenabled, and that loader. */
  bcd?: { store: string; recoverySequence?: string; recoveryEnabled?: boolean; entryExists?: boolean; description?: string; matchesReAgent?: boolean };
  /** The partition WinRE is on (or the disk's recovery partition): its free space against the 250 MB need. */
  recoveryPartition?: { number: number; sizeBytes: number; freeBytes?: number; neededBytes: number; meetsNeed?: boolean };
  /** Things that could not be read, from the scan (ReAgent.xml, BCD, recovery partition). */
  problems: string[];
}

const normGuid = (g: string | undefined) => g?.replace(/[{}]/g, '').toLowerCase();

/** The WinRE status of a scanned Windows (reagentc /info offline). */
export function winreStatus(t: TargetScan): WinreStatus {
  const w = t.winre;
  const out: WinreStatus = {
    root: t.root,
    status: w.installState === 1 ? 'Enabled' : w.installState === 0 ? 'Disabled' : 'unknown',
    problems: t.problems.filter((p) => /reagent|recovery|bcd|winre/i.test(p)),
  };
  if (w.installState !== undefined) out.installState = w.installState;
  if (w.reagentXml) out.reagentXml = w.reagentXml;
  const reagent = w.reagent as { winreBcd?: string; winreLocation?: { id?: number; guid?: string } } | undefined;
  if (reagent?.winreBcd) out.bcdId = reagent.winreBcd;
  const disk = t.disk;
  let recNumber = disk?.recoveryPartition;
  if (w.winreLocation) {
    const l = w.winreLocation;
    const loc: NonNullable<WinreStatus['location']> = { path: l.path };
    if (l.offset !== undefined) loc.offset = l.offset;
    const zeroGuid = !l.guid || /^\{?0{8}-0{4}-0{4}-0{4}-0{12}\}?$/.test(l.guid);
    if (!zeroGuid) loc.diskId = l.guid;
    else if (l.id !== undefined && l.id !== '0') loc.diskId = l.id;
    if (disk) {
      loc.disk = disk.path;
      const p = l.offset !== undefined && l.offset > 0 ? disk.partitions.find((q) => q.start === l.offset) : undefined;
      if (p) {
        loc.partition = { number: p.number, start: p.start, size: p.size, role: p.role, fs: p.fs };
        recNumber = p.number;
      }
    }
    out.location = loc;
  }
  const rec = disk?.partitions.find((p) => p.number === recNumber);
  if (rec) {
    const r: NonNullable<WinreStatus['recoveryPartition']> = { number: rec.number, sizeBytes: rec.size, neededBytes: WINRE_UPDATE_FREE };
    if (rec.freeBytes !== undefined) {
      r.freeBytes = rec.freeBytes;
      r.meetsNeed = rec.freeBytes >= WINRE_UPDATE_FREE;
    }
    out.recoveryPartition = r;
    const file = rec.winreFiles?.find((f) => f.name.toLowerCase() === 'winre.wim');
    if (file) {
      out.wim = { path: `partition ${rec.number}: \\Recovery\\WindowsRE\\${file.name}`, bytes: file.bytes, where: 'recovery-partition' };
      if (rec.winreWim) out.wim.summary = rec.winreWim;
      if (rec.winreWimError) out.wim.error = rec.winreWimError;
    }
  }
  if (!out.wim && w.winreWimOnOs) {
    const s = w.winreWimOnOs;
    out.wim = { path: s.path, bytes: s.bytes, where: 'os-volume' };
    if (s.wim) out.wim.summary = s.wim;
    if (s.wimError) out.wim.error = s.wimError;
  }
  if (w.bcdStore) {
    const b: NonNullable<WinreStatus['bcd']> = { store: w.bcdStore };
    if (w.recoverySequence) b.recoverySequence = w.recoverySequence;
    if (w.recoveryEnabled !== undefined) b.recoveryEnabled = w.recoveryEnabled;
    if (w.winreLoader) {
      b.entryExists = w.winreLoader.exists;
      if (w.winreLoader.description) b.description = w.winreLoader.description;
    }
    if (out.bcdId && b.recoverySequence) b.matchesReAgent = normGuid(out.bcdId) === normGuid(b.recoverySequence);
    out.bcd = b;
    for (const p of w.bcdProblems ?? []) out.problems.push(`BCD: ${p}`);
  }
  return out;
}
