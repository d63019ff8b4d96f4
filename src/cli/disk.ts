// `wufix disk ...`: thin command layer over src/disk (options in, text or JSON out).
import { realpathSync, statSync } from 'node:fs';
import { containerOf, imageSession, needsAttach } from '../platform/qemu.js';
import { describeContainer, type ContainerInfo } from '../disk/vdisk.js';
import { fmtSize } from '../shared/units.js';
import { Command, Option } from 'commander';
import { openBlockDevice, checkSectorSize } from '../disk/blockdev.js';
import { readLayout } from '../disk/layout.js';
import { showJson, showText } from '../disk/show.js';
import { errorText, listEntry, listText, unreadableEntry, type DiskListEntry } from '../disk/list.js';
import type { Layout } from '../model/disk.js';
import { BadInputError, EXIT, UsageError } from '../shared/errors.js';
import { hostDisks, linuxDisks, type HostDisk } from '../platform/disks.js';
import { backingDisk, Cleanup, mountPartition, ntfsMounts } from '../platform/linux.js';
import { windowsDirOf } from '../windows/install.js';
import { asciiSafe, writeOut } from './output.js';
import { consoleWidth } from '../shared/style.js';

function sectorSizeOption(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--sector-size must be 512 or 4096, not "${v}"`);
  return checkSectorSize(n);
}

const isRoot = () => typeof process.getuid !== 'function' || process.getuid() === 0;
const real = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/**
 * Which NTFS partitions of a disk hold Windows (Windows\System32\config\SYSTEM, the scan's test,
 * src/windows/install.ts windowsDirOf: nothing in the volume followed): a partition mounted already
 * is looked at where it is mounted; any other is mounted read-only (loop device + ntfs-3g, Linux,
 * root) and released before the next. What could not be looked into is a note.
 */
function findWindows(e: DiskListEntry, diskPath: string, layout: Layout): void {
  const locked = layout.partitions.filter((p) => p.volume?.fs === 'bitlocker').map((p) => p.number);
  if (locked.length) e.notes.push(`partition ${locked.join(', ')}: BitLocker-encrypted (locked), not looked into`);
  const ntfs = layout.partitions.filter((p) => p.volume?.fs === 'ntfs' && p.role !== 'recovery');
  if (ntfs.length === 0) {
    if (!locked.length) e.windows = [];
    return;
  }
  if (process.platform !== 'linux') {
    e.notes.push('Windows not looked for here (wufix scan finds it on the drive letters)');
    return;
  }
  const me = real(diskPath);
  const mounts = ntfsMounts().flatMap((m) => {
    const back = backingDisk(m.source);
    return back ? [{ mountPoint: m.mountPoint, disk: real(back.disk), offset: back.offset }] : [];
  });
  const found: NonNullable<DiskListEntry['windows']> = [];
  const unchecked: number[] = [];
  for (const p of ntfs) {
    const mounted = mounts.find((m) => m.disk === me && m.offset === p.start);
    if (mounted) {
      if (windowsDirOf(mounted.mountPoint)) found.push({ partition: p.number, start: p.start, size: p.size });
      continue;
    }
    if (!isRoot()) {
      unchecked.push(p.number);
      continue;
    }
    const cleanup = new Cleanup();
    try {
      if (windowsDirOf(mountPartition(diskPath, p.start, p.size, cleanup))) found.push({ partition: p.number, start: p.start, size: p.size });
    } catch (err) {
      unchecked.push(p.number);
      e.notes.push(`partition ${p.number}: not mounted to look for Windows: ${errorText(err)}`);
    } finally {
      cleanup.release();
    }
  }
  if (unchecked.length && !isRoot()) e.notes.push(`not root: NTFS partition ${unchecked.join(', ')} not mounted to look for Windows (run as root)`);
  if (found.length || !unchecked.length) e.windows = found;
}

/** The pseudo-layout of a device that is one NTFS volume: partition 0 from byte 0 to the end. */
function wholeDiskVolume(size: number, sectorSize: number): Layout {
  return {
    scheme: 'mbr',
    sectorSize,
    sizeBytes: size,
    partitions: [{ number: 0, start: 0, size, type: '', role: 'basic', active: false, volume: { fs: 'ntfs', label: '' } }],
    free: [],
  };
}

/** One disk of the list: opened read-only, its table read, its Windows partitions found (unless told not to). */
function describeDisk(index: number, diskPath: string, host: HostDisk | undefined, lookForWindows: boolean): DiskListEntry {
  const n = /PhysicalDrive(\d+)$/i.exec(diskPath);
  const number = n ? Number(n[1]) : index;
  let e: DiskListEntry;
  let layout: Layout | undefined;
  try {
    const dev = openBlockDevice(diskPath);
    try {
      layout = readLayout(dev);
      e = listEntry(number, diskPath, layout);
    } catch (err) {
      e = unreadableEntry(number, diskPath, err, dev.size);
      e.sectorSize = dev.sectorSize;
      // One NTFS volume over the whole device (a loop device of one partition, labs do that): looked
      // into as "partition 0" from byte 0.
      if (e.scheme === 'none' && /whole disk is one ntfs volume/.test(e.notes.join(' '))) layout = wholeDiskVolume(dev.size, dev.sectorSize);
    } finally {
      dev.close();
    }
  } catch (err) {
    e = unreadableEntry(number, diskPath, err, host?.sizeBytes);
  }
  if (host?.model) e.model = host.model;
  if (host?.backingFile) e.backingFile = host.backingFile;
  if (host?.readOnly) e.readOnly = true;
  if (layout && lookForWindows) findWindows(e, diskPath, layout);
  return e;
}

/** The disks named (image files or devices), or every disk of the host. */
export function listDisks(paths: readonly string[], lookForWindows: boolean): DiskListEntry[] {
  if (paths.length === 0) return hostDisks().map((h, i) => describeDisk(i, h.path, h, lookForWindows));
  const known = process.platform === 'linux' ? linuxDisks() : [];
  return paths.map((p, i) => {
    const r = real(p);
    return describeDisk(i, p, p.startsWith('/dev/') ? known.find((h) => h.path === p || real(h.path) === r) : undefined, lookForWindows);
  });
}

/**
 * A virtual-disk container (qcow2, VHDX, VMDK, dynamic VHD, VDI) on Linux as root is attached
 * read-only through QEMU and its disk shown; elsewhere the disk engine's one-line refusal stands.
 */
function attachedForShow(target: string): {
  path: string;
  container?: { format: string; variant?: string; virtualSize: number; label: string };
  close(): void;
} {
  const none = { path: target, close: () => {} };
  if (process.platform !== 'linux' || !isRoot() || target.startsWith('/dev/')) return none;
  let c: ContainerInfo;
  try {
    if (!statSync(target).isFile()) return none;
    c = containerOf(target);
  } catch {
    return none;
  }
  if (!needsAttach(c)) return none;
  const session = imageSession(target);
  const d = session.disk(false);
  return {
    path: d.rawPath,
    container: { format: c.format, ...(c.variant ? { variant: c.variant } : {}), virtualSize: d.virtualSize, label: describeContainer(c, fmtSize) },
    close: () => session.close(),
  };
}

export function diskCommand(): Command {
  const disk = new Command('disk').description('read disk partition layouts (GPT and MBR) of images and devices');
  disk
    .command('show')
    .description('show the partition table, volumes and free space of a disk image or device (read-only)')
    .argument('<image|device>', 'disk image file, /dev/... block device, or \\\\.\\PhysicalDriveN')
    .option('--json', 'print JSON (numbers in bytes)')
    .addOption(new Option('--sector-size <bytes>', 'logical sector size: 512 or 4096 (default: detect)').argParser(sectorSizeOption))
    .action((target: string, opts: { json?: boolean; sectorSize?: number }) => {
      const shown = attachedForShow(target);
      try {
        const dev = openBlockDevice(shown.path, { sectorSize: opts.sectorSize });
        try {
          const layout = readLayout(dev);
          // JSON with non-ASCII characters as \uXXXX escapes: still valid JSON, safe on the WinPE console.
          if (opts.json)
            writeOut(asciiSafe(JSON.stringify({ ...(shown.container ? { container: shown.container } : {}), ...showJson(layout) }, null, 2)) + '\n');
          else writeOut(asciiSafe((shown.container ? `Container: ${shown.container.label}\n` : '') + showText(layout, target, consoleWidth())));
        } finally {
          dev.close();
        }
      } catch (e) {
        // The disk inside a container is named by its image, not by QEMU's export file.
        if (e instanceof BadInputError && shown.container && e.file === shown.path)
          throw new BadInputError(`the disk inside (${shown.container.label}): ${e.message}`, { file: target, offset: e.offset, code: e.code });
        throw e;
      } finally {
        shown.close();
      }
    });
  disk
    .command('list')
    .description('list disks (diskpart\'s "list disk"): size, partition scheme and which partition holds Windows (read-only)')
    .argument('[image|device...]', 'disk image files or devices to list instead of the host disks')
    .option('--json', 'print JSON (numbers in bytes)')
    .option('--no-windows', 'do not mount NTFS partitions (read-only) to look for Windows')
    .addHelpText(
      'after',
      `
With no argument: every disk of the host (Linux: /sys/block without RAM
disks, zram and unused loop devices; Windows: \\\\.\\PhysicalDrive0..31).
Each is opened read-only; one that cannot be read is listed with the reason.
Looking for Windows mounts NTFS partitions read-only (Linux, root).`,
    )
    .action((paths: string[], opts: { json?: boolean; windows: boolean }) => {
      const disks = listDisks(paths, opts.windows);
      // JSON: the notes after the facts they are about.
      if (opts.json) writeOut(asciiSafe(JSON.stringify({ disks: disks.map(({ notes, ...facts }) => ({ ...facts, notes })) }, null, 2)) + '\n');
      else writeOut(asciiSafe(listText(disks)));
      if (paths.length && disks.some((d) => d.error)) process.exitCode = EXIT.BAD_INPUT;
    });
  return disk;
}
