// What both WinRE rebuild backends share (Linux: src/platform/winre-linux.ts, Windows/WinPE:
// src/platform/winre-windows.ts): the disk journal's state file, the layout check before any write,
// the copy with progress and hash, and the BCD re-pointing with its decode-back check.
import { createHash } from 'node:crypto';
import { promises as fsp, existsSync, readFileSync, openSync, readSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import path from 'node:path';
import type { WinreRebuild } from '../engine/types.js';
import { VerificationError } from '../disk/apply.js';
import { tableFields } from '../disk/plan.js';
import { MiB, type Layout } from '../disk/types.js';
import { Hive } from '../hive/hive.js';
import { writeJournalFile } from '../engine/journal.js';
import { repointWinre, applyBcdChanges, type BcdTarget } from '../windows/bcd-write.js';
import { describeWinre, parseBcdStore } from '../windows/bcd.js';
import { RefusedError } from '../errors.js';

export type DiskStep = 'backed-up' | 'os-shrunk' | 'table-written' | 'formatted' | 'copied' | 'bcd-written' | 'verified';

export interface DiskState {
  phase: 'planned' | 'applying' | 'verified' | 'rolled-back' | 'failed' | 'undone';
  done: DiskStep[];
  /** Raw sector ranges saved before the table write (offsets on the disk). */
  sectors: { offset: number; length: number; at: number }[];
  /** Raw regions saved (sparse files in the journal); `digest` is their RegionHash. */
  regions: { start: number; size: number; file: string; digest: string }[];
  bcd?: { file: string; sha256Before: string; sha256After?: string };
  /** The OS file-system size before the shrink (bytes). */
  osVolumeBytes?: number;
  layoutBefore: string[];
  layoutAfter?: string[];
  copied?: { name: string; sha256: string; bytes: number }[];
  recoveryFreeAfter?: number;
  /** Milliseconds per stage (preflight, journal, ntfsresize, table, mkntfs, copy, bcd, verify). */
  timings?: Record<string, number>;
  error?: string;
  updatedAt: string;
}

export interface DiskRunOptions {
  progress?: (msg: string) => void;
}

export const CHUNK = 4 * MiB;

/**
 * Milliseconds per stage: lap(name) adds the time since the previous lap to timings[prefix + name].
 * Pass an existing `timings` to record sub-stages into it (e.g. "copy.write").
 */
export function stageTimer(timings: Record<string, number> = {}, prefix = ''): { timings: Record<string, number>; lap: (name: string) => void } {
  let t0 = performance.now();
  return {
    timings,
    lap(name) {
      const t = performance.now();
      const key = prefix + name;
      timings[key] = Math.round((timings[key] ?? 0) + t - t0);
      t0 = t;
    },
  };
}

function stateFile(dir: string): string {
  return path.join(dir, 'state.json');
}

export async function saveState<S extends Omit<DiskState, 'updatedAt'>>(dir: string, s: S): Promise<void> {
  await writeJournalFile(stateFile(dir), new TextEncoder().encode(JSON.stringify({ ...s, updatedAt: new Date().toISOString() }, null, 2) + '\n')); // re-seals the run (src/engine/journal.ts)
}

export function readDiskState(dir: string): DiskState | undefined {
  return existsSync(stateFile(dir)) ? (JSON.parse(readFileSync(stateFile(dir), 'utf8')) as DiskState) : undefined;
}

export const layoutLines = (l: Layout) => l.partitions.map((p) => `${p.number}: ${tableFields(p)}`);

/** Merge byte ranges that overlap or touch. */
/** Refuse when the table is not the one the plan was made from (same partitions at the same places). */
export function checkUnchanged(c: WinreRebuild, before: Layout): void {
  const changed = c.expect.filter((e) => !before.partitions.some((p) => p.number === e.number && p.start === e.start && p.size === e.size));
  if (changed.length || before.partitions.length !== c.expect.length) {
    throw new RefusedError(`the partition table of ${c.disk} changed since the plan was made (partition ${changed.map((e) => e.number).join(', ') || 'count'}); run the repair again to plan afresh. Nothing was written`, 'layout-changed');
  }
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A progress line every 10% of a copy of `total` bytes: call it with the bytes done so far. */
export function copyProgress(label: string, total: number, progress: (m: string) => void): (done: number) => void {
  let lastPct = -1;
  return (done) => {
    const pct = total ? Math.floor((done / total) * 100) : 100;
    if (pct < lastPct + 10) return;
    lastPct = pct;
    progress(`copying ${label}: ${pct}% (${Math.round(done / MiB)} of ${Math.round(total / MiB)} MiB)`);
  };
}

/** Copy one file with a progress line every 10%; returns its sha256. */
export async function copyWithProgress(from: string, to: string, label: string, progress: (m: string) => void): Promise<string> {
  const fi = openSync(from, 'r');
  const fo = openSync(to, 'w');
  const h = createHash('sha256');
  const buf = Buffer.alloc(CHUNK);
  const total = (await fsp.stat(from)).size;
  let done = 0;
  const report = copyProgress(label, total, progress);
  try {
    for (;;) {
      const n = readSync(fi, buf, 0, CHUNK, done);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      let w = 0;
      while (w < n) w += writeSync(fo, buf, w, n - w, done + w);
      done += n;
      report(done);
    }
    fsyncSync(fo);
  } finally {
    closeSync(fi);
    closeSync(fo);
  }
  return h.digest('hex');
}

/** The BCD bytes after re-pointing `before` as planned (to `target`: the plan's, or the GUID diskpart gave). */
export function repointedBcd(c: WinreRebuild, before: Uint8Array, target: BcdTarget = c.bcd!.target): Uint8Array {
  const hive = Hive.open(before.slice());
  const r = repointWinre(hive, target, c.bcd!.osLoader ? { osLoader: c.bcd!.osLoader } : {});
  applyBcdChanges(hive, r.changes);
  hive.verify();
  return hive.serialize().slice();
}

/** The decoded store's WinRE loader ramdisk device is the target partition. */
export function checkBcdPointsAt(t: BcdTarget, bytes: Uint8Array): void {
  const d = describeWinre(parseBcdStore(Hive.open(bytes.slice())));
  const dev = d.winreLoader?.ramdisk?.device;
  const ok =
    dev?.kind === 'partition' &&
    (t.scheme === 'gpt' ? dev.partitionGuid === t.partitionGuid && dev.diskGuid === t.diskGuid : dev.partitionOffset === t.offset && dev.diskSignature === t.diskSignature);
  if (!ok) throw new VerificationError(`the BCD WinRE loader does not point at the new partition after the write (it reads ${d.winreLoader?.deviceText ?? 'nothing'})`);
}

