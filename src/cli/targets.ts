// Which offline Windows installations to scan, and the disk facts around them:
// --root (one mounted volume), --disk (its disk, for the layout), --image (attach every partition of
// a disk image read-only, Linux, root; a virtual-disk container is attached through QEMU first and
// its raw disk used in its place), or nothing (every mounted Windows volume).
import { existsSync, statSync } from 'node:fs';
import { confine, readFileSafe } from '../shared/safefs.js';
import { MAX_BCD_BYTES } from '../formats/bcd.js';
import path from 'node:path';
import { readDiskLayout } from '../disk/blockdev.js';
import { toDiskInfo } from '../disk/info.js';
import { BadInputError, RefusedError, UsageError } from '../shared/errors.js';
import { backingDisk, Cleanup, mountPartition, ntfsMounts, requireRoot, readFatFile } from '../platform/linux.js';
import { imageSession, openImageDisk, type AttachedDisk } from '../platform/qemu.js';
import { windowsDirOf, driveLetters } from '../windows/install.js';
import { recoveryFactsAt } from '../windows/recovery.js';
import { resolveCI } from '../windows/paths.js';
import { BITLOCKER_UNLOCK_ADVICE } from '../windows/bitlocker.js';
import { scanTarget } from '../scan/scan.js';
import { addNextCommands } from '../scan/next.js';
import { SCAN_SCHEMA_VERSION, type ScanReport, type ScanResult } from '../model/scan.js';
import type { BcdLocation, DiskFacts, ScanOptions } from '../model/target.js';
import { noWindowsError } from './no-windows.js';
import { scanVdiskWindows } from './vdisk-windows.js';
import { windowsHost } from '../platform/winhost.js';

export { noWindowsError };

/** A Windows device path (\\.\PhysicalDrive0, \\?\...): not a file existsSync can see. */
const isWindowsDevicePath = (p: string) => /^\\\\[.?]\\/.test(p);

/** What is at `p`: 'file', 'dir', 'other', or undefined when nothing is (a dangling link counts as something). */
function kindOf(p: string): 'file' | 'dir' | 'other' | undefined {
  try {
    const st = statSync(p);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e; // EACCES and the like: the top-level handler names the path and the cause
  }
}

/**
 * The target options of scan, repair, undo and journal list, checked before anything is read: one
 * target (--root or --image, not both; --disk only with --root, the image is its own disk), and
 * every path given exists (exit 2, "does not exist", rather than an empty scan that looks clean).
 */
export function checkTargetOptions(o: { root?: string; image?: string; disk?: string }): void {
  if (o.root && o.image) throw new UsageError('--root and --image both name the target: give one (--root a mounted volume, --image a disk image)');
  if (o.image && o.disk) throw new UsageError('--disk goes with --root only: with --image the image is the disk (leave --disk out)');
  if (o.root) {
    const k = kindOf(o.root);
    if (!k) throw new BadInputError('does not exist (--root takes the folder where the Windows volume is mounted)', { file: o.root, code: 'not-found' });
    if (k !== 'dir')
      throw new BadInputError('is not a folder (--root takes the folder where the Windows volume is mounted)', { file: o.root, code: 'not-windows' });
  }
  for (const [flag, p] of [
    ['--image', o.image],
    ['--disk', o.disk],
  ] as const) {
    if (!p || (process.platform === 'win32' && isWindowsDevicePath(p))) continue;
    const k = kindOf(p);
    if (!k) throw new BadInputError(`does not exist (${flag} takes a disk image file or a device)`, { file: p, code: 'not-found' });
    if (k === 'dir')
      throw new BadInputError(`is a folder, not a disk image or device (${flag}${flag === '--image' ? '; a mounted volume is --root' : ''})`, {
        file: p,
        code: 'bad-input',
      });
  }
}

/** An output file's folder must exist (checked before the work that produces the file). */
export function checkOutputFolder(file: string, flag: string): void {
  const dir = path.dirname(path.resolve(file));
  const k = kindOf(dir);
  if (!k) throw new BadInputError(`the folder ${dir} does not exist (${flag} writes a file there; create it first)`, { file, code: 'not-found' });
  if (k !== 'dir') throw new BadInputError(`${dir} is not a folder (${flag} writes a file there)`, { file, code: 'bad-input' });
}

function isRoot(): boolean {
  return typeof process.getuid !== 'function' || process.getuid() === 0;
}

/** The recovery partition's free space (and its WinRE files), measured on a read-only mount. */
function measureRecovery(diskPath: string, info: DiskFacts['info'], cleanup: Cleanup, problems: string[], progress: (m: string) => void): void {
  const rec = info.partitions.find((p) => p.number === info.recoveryPartition);
  if (!rec || rec.fs !== 'ntfs') return;
  progress(`measuring free space in recovery partition ${rec.number}`);
  try {
    recoveryFactsAt(confine(mountPartition(diskPath, rec.start, rec.size, cleanup)), rec);
  } catch (e) {
    problems.push(`recovery partition ${rec.number}: ${(e as Error).message}`);
  }
}

/** The BCD store: \EFI\Microsoft\Boot\BCD on the ESP, or \Boot\BCD on the active NTFS partition of an MBR disk. */
function readBcd(diskPath: string, facts: DiskFacts, cleanup: Cleanup): DiskFacts['bcd'] {
  const { info, layout } = facts;
  const esp = info.partitions.find((p) => p.role === 'esp');
  if (esp && esp.fs.startsWith('fat')) {
    const bytes = readFatFile(diskPath, esp.start, '/EFI/Microsoft/Boot/BCD', cleanup, MAX_BCD_BYTES);
    if (!bytes) return undefined;
    const location: BcdLocation = { partition: esp.number, start: esp.start, size: esp.size, fs: 'fat', path: '/EFI/Microsoft/Boot/BCD' };
    return { file: `partition ${esp.number}: \\EFI\\Microsoft\\Boot\\BCD`, bytes, location };
  }
  if (layout.scheme !== 'mbr') return undefined;
  const sys = info.partitions.find((p) => p.fs === 'ntfs' && layout.partitions.find((q) => q.number === p.number)?.active);
  if (!sys) return undefined;
  const mnt = confine(mountPartition(diskPath, sys.start, sys.size, cleanup));
  const bcd = resolveCI(mnt, 'Boot\\BCD');
  if (!bcd) return undefined;
  const location: BcdLocation = {
    partition: sys.number,
    start: sys.start,
    size: sys.size,
    fs: 'ntfs',
    path: path.relative(mnt, bcd).split(path.sep).join('/'),
  };
  return { file: `partition ${sys.number}: \\Boot\\BCD`, bytes: readFileSafe(bcd, MAX_BCD_BYTES, 'the BCD store'), location };
}

/**
 * Read-only facts from a disk: the layout, BitLocker volumes, the free space of the recovery
 * partition and the BCD store (both need root on Linux: loop devices, ntfs-3g, mtools).
 */
function diskFacts(diskPath: string, osOffset: number | undefined, cleanup: Cleanup, problems: string[], progress: (m: string) => void): DiskFacts {
  const layout = readDiskLayout(diskPath);
  const info = toDiskInfo(diskPath, layout, osOffset);
  const bitlocker = info.partitions.filter((p) => p.fs === 'bitlocker').map((p) => ({ partition: p.number, start: p.start }));
  const facts: DiskFacts = { info, layout, bitlocker };
  if (process.platform !== 'linux') return facts;
  if (!isRoot()) {
    problems.push('not root: the recovery partition free space and the BCD store were not read (run as root)');
    return facts;
  }
  measureRecovery(diskPath, info, cleanup, problems, progress);
  try {
    const bcd = readBcd(diskPath, facts, cleanup);
    if (bcd) facts.bcd = bcd;
  } catch (e) {
    problems.push(`BCD store: ${(e as Error).message}`);
  }
  return facts;
}

/**
 * Find the Windows partition of a disk image (each NTFS candidate probed on a read-only mount, so
 * data volumes are never mounted read-write), mount it read-only or read-write, and run `fn` on it;
 * always unmounted and detached. The layout is read afresh on each call (it works after a
 * partition change). A locked BitLocker volume and an image without Windows are refused clearly.
 */
async function withImageWindows<T>(
  image: string,
  readOnly: boolean,
  fn: (root: string, start: number, cleanup: Cleanup, disk: AttachedDisk) => Promise<T>,
): Promise<T> {
  if (process.platform !== 'linux') throw new RefusedError('--image works on Linux only; on Windows use --root with the drive letter', 'platform');
  requireRoot('--image');
  if (!existsSync(image)) throw new BadInputError('does not exist', { file: image, code: 'not-found' });
  // A container (qcow2, VHDX, VMDK, dynamic VHD, VDI) is attached through QEMU once per command
  // (its session), writable from the first write on; the command closes the session at its end.
  const disk = imageSession(image).disk(!readOnly);
  const dev = disk.rawPath;
  const layout = readDiskLayout(dev);
  for (const p of layout.partitions) {
    if (p.volume?.fs !== 'ntfs' || p.role === 'recovery') continue;
    const probe = new Cleanup();
    let rw: Cleanup | undefined;
    try {
      let root = mountPartition(dev, p.start, p.size, probe);
      if (!windowsDirOf(root)) continue;
      if (!readOnly) {
        probe.release();
        rw = new Cleanup();
        root = mountPartition(dev, p.start, p.size, rw, false);
      }
      return await fn(root, p.start, rw ?? probe, disk);
    } finally {
      rw?.release();
      probe.release();
    }
  }
  const locked = layout.partitions.filter((p) => p.volume?.fs === 'bitlocker');
  if (locked.length) {
    throw new RefusedError(
      `partition ${locked.map((p) => p.number).join(', ')} is BitLocker-encrypted and locked, so the Windows volume cannot be read or repaired; ${BITLOCKER_UNLOCK_ADVICE}`,
      'bitlocker',
    );
  }
  throw noWindowsError({ image });
}

/** The report names the image, not the file QEMU exports its disk as, and says what container it is. */
function labelDisk(info: DiskFacts['info'], image: string, disk: AttachedDisk): void {
  info.path = image;
  if (disk.format !== 'raw') info.container = { format: disk.format, ...(disk.variant ? { variant: disk.variant } : {}), virtualSize: disk.virtualSize };
}

/**
 * For `repair --image`: the Windows partition mounted READ-ONLY, scanned with its disk facts, and
 * `fn` (the planning) run on it. A refusal then leaves the image byte for byte as it was (a
 * read-write ntfs-3g mount alone changes the volume); changes mount it again with withImageRoot.
 */
export function withImageTarget<T>(
  image: string,
  opts: ScanOptions,
  fn: (root: string, target: ScanResult, facts: DiskFacts | undefined) => Promise<T>,
): Promise<T> {
  return withImageWindows(image, true, async (root, start, cleanup, disk) => {
    const { result, facts } = await scanWithDiskFacts(root, disk.rawPath, start, cleanup, opts, (i) => labelDisk(i, image, disk));
    return fn(root, result, facts);
  });
}

/** The Windows partition of a disk image mounted read-write (no scan), for applying and undoing; `readOnly` for the checks before. */
export function withImageRoot<T>(image: string, fn: (root: string) => Promise<T>, readOnly = false): Promise<T> {
  return withImageWindows(image, readOnly, (root) => fn(root));
}

async function scanWithDisk(
  root: string,
  disk: string | undefined,
  osOffset: number | undefined,
  cleanup: Cleanup,
  opts: ScanOptions,
  label?: (info: DiskFacts['info']) => void,
): Promise<ScanResult> {
  return (await scanWithDiskFacts(root, disk, osOffset, cleanup, opts, label)).result;
}

async function scanWithDiskFacts(
  root: string,
  disk: string | undefined,
  osOffset: number | undefined,
  cleanup: Cleanup,
  opts: ScanOptions,
  label?: (info: DiskFacts['info']) => void,
): Promise<{ result: ScanResult; facts: DiskFacts | undefined }> {
  const problems: string[] = [];
  const progress = opts.progress ?? (() => {});
  let facts: DiskFacts | undefined;
  if (disk) {
    try {
      facts = diskFacts(disk, osOffset, cleanup, problems, progress);
      label?.(facts.info);
    } catch (e) {
      problems.push(`disk ${disk}: ${(e as Error).message}`);
    }
  }
  // The journal of `repair --image` lives beside the image (cli/repair.ts imageJournalRoot).
  const journals = opts.image ? [path.resolve(`${opts.image}.wufix-journal`)] : [];
  const r = await scanTarget({ root, disk: facts?.info, bitlocker: facts?.bitlocker, bcd: facts?.bcd, progress, journals });
  r.problems.unshift(...problems);
  return { result: r, facts };
}

/** --image: every NTFS partition but the recovery one mounted read-only, each holding Windows scanned. */
async function scanImage(image: string, report: ScanReport, cleanup: Cleanup, opts: ScanOptions): Promise<void> {
  const progress = opts.progress ?? (() => {});
  if (process.platform === 'win32') {
    // Windows/WinPE: a VHD/VHDX attached read-only with diskpart.
    report.targets.push(await scanVdiskWindows(windowsHost(), image, progress));
    return;
  }
  if (process.platform !== 'linux')
    throw new RefusedError('--image works on Linux (every format) and Windows (VHD, VHDX); here use --root with the mounted Windows volume', 'platform');
  requireRoot('--image');
  if (!existsSync(image)) throw new BadInputError('does not exist', { file: image, code: 'not-found' });
  // A container is attached read-only through QEMU (released with the scan's cleanup).
  const disk = openImageDisk(image, false, cleanup);
  const dev = disk.rawPath;
  const label = (i: DiskFacts['info']) => labelDisk(i, image, disk);
  const layout = readDiskLayout(dev);
  const locked = layout.partitions.filter((p) => p.volume?.fs === 'bitlocker');
  for (const p of layout.partitions) {
    if (p.volume?.fs !== 'ntfs' || p.role === 'recovery') continue;
    progress(`mounting partition ${p.number} read-only`);
    let mnt: string;
    try {
      mnt = mountPartition(dev, p.start, p.size, cleanup);
    } catch (e) {
      progress(`partition ${p.number}: ${(e as Error).message}`);
      continue;
    }
    if (!windowsDirOf(mnt)) continue;
    progress(`Windows found on partition ${p.number}`);
    const r = await scanWithDisk(mnt, dev, p.start, cleanup, opts, label);
    r.root = `${image} partition ${p.number}`;
    report.targets.push(r);
  }
  if (report.targets.length === 0 && locked.length) {
    // The OS volume is probably the encrypted one: report it so the technician knows why.
    const info = toDiskInfo(image, layout);
    label(info);
    const r = await scanTarget({ root: image, disk: info, bitlocker: locked.map((p) => ({ partition: p.number, start: p.start })) });
    r.problems.push('no readable Windows volume: the BitLocker volumes must be unlocked first');
    report.targets.push(r);
  }
}

/** --root: one mounted volume; on Linux its disk (and offset) found from the mount when not given. */
async function scanRoot(root: string, report: ScanReport, cleanup: Cleanup, opts: ScanOptions): Promise<void> {
  if (!windowsDirOf(root)) {
    throw noWindowsError({ root });
  }
  let disk = opts.disk;
  let osOffset: number | undefined;
  if (process.platform === 'linux') {
    const mount = ntfsMounts().find((m) => path.resolve(m.mountPoint) === path.resolve(root));
    const back = mount ? backingDisk(mount.source) : undefined;
    if (back) {
      disk ??= back.disk;
      if (disk === back.disk) osOffset = back.offset;
    }
  }
  report.targets.push(await scanWithDisk(root, disk, osOffset, cleanup, opts));
}

/** No target given: every mounted Windows volume (drive letters on Windows, NTFS mounts on Linux). */
async function scanMounted(report: ScanReport, cleanup: Cleanup, opts: ScanOptions): Promise<void> {
  if (process.platform === 'win32') {
    for (const letter of driveLetters(!!opts.includeX)) {
      if (!existsSync(letter) || !windowsDirOf(letter)) continue;
      report.targets.push(await scanWithDisk(letter, opts.disk, undefined, cleanup, opts));
    }
    return;
  }
  for (const m of ntfsMounts()) {
    if (!windowsDirOf(m.mountPoint)) continue;
    const back = backingDisk(m.source);
    report.targets.push(await scanWithDisk(m.mountPoint, opts.disk ?? back?.disk, back?.offset, cleanup, opts));
  }
}

export async function scan(opts: ScanOptions): Promise<ScanReport> {
  checkTargetOptions(opts);
  const report: ScanReport = { schemaVersion: SCAN_SCHEMA_VERSION, tool: opts.tool, scannedAt: new Date().toISOString(), targets: [] };
  const cleanup = new Cleanup();
  try {
    if (opts.image) await scanImage(opts.image, report, cleanup, opts);
    else if (opts.root) await scanRoot(opts.root, report, cleanup, opts);
    else await scanMounted(report, cleanup, opts);
    // The repair command each finding needs, with its target option (--image or --root).
    const isFile = (p: string) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    };
    for (const t of report.targets) addNextCommands(t, { image: opts.image, platform: process.platform, isFile });
    return report;
  } finally {
    cleanup.release();
  }
}
