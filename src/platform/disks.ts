// The host's whole disks, for `wufix disk list`: on Linux the block devices of /sys/block (unused loop
// devices, RAM disks and zram left out; attached loop devices kept, with their backing file), on
// Windows \\.\PhysicalDrive0..N probed in turn. Only names and sysfs facts here: the partition tables
// are read by src/disk through openBlockDevice (read-only).
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';

export interface HostDisk {
  /** /dev/sda, /dev/loop3, \\.\PhysicalDrive0. */
  path: string;
  /** Size from sysfs (bytes), when the kernel reports one. */
  sizeBytes?: number;
  /** sysfs device/model (vendor's model string), trimmed. */
  model?: string;
  /** Loop devices: the attached file. */
  backingFile?: string;
  /** The kernel marks it read-only. */
  readOnly?: boolean;
  removable?: boolean;
}

/** Names in /sys/block that are never a technician's disk: RAM disks and zram swap. */
const SKIP = /^(ram|zram)\d+$/;

function readSys(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The whole-disk block devices under `sysBlock` (a /sys/block tree; a parameter for the unit test).
 * A loop device without a backing file is unused and left out.
 */
export function linuxDisks(sysBlock = '/sys/block', devDir = '/dev'): HostDisk[] {
  let names: string[];
  try {
    names = readdirSync(sysBlock);
  } catch {
    return [];
  }
  const out: HostDisk[] = [];
  for (const name of names.sort(byNameAndNumber)) {
    if (SKIP.test(name)) continue;
    const sys = `${sysBlock}/${name}`;
    const disk: HostDisk = { path: `${devDir}/${name}` };
    if (/^loop\d+$/.test(name)) {
      const backing = readSys(`${sys}/loop/backing_file`);
      if (!backing) continue;
      disk.backingFile = backing;
    }
    const sectors = Number(readSys(`${sys}/size`));
    if (Number.isSafeInteger(sectors) && sectors >= 0) disk.sizeBytes = sectors * 512;
    const model = readSys(`${sys}/device/model`);
    if (model) disk.model = model;
    if (readSys(`${sys}/ro`) === '1') disk.readOnly = true;
    if (readSys(`${sys}/removable`) === '1') disk.removable = true;
    out.push(disk);
  }
  return out;
}

/** Real disks before loop devices; within each, natural order (sda < sdb < sdaa, loop2 < loop10). */
function byNameAndNumber(a: string, b: string): number {
  const loop = (n: string) => (/^loop\d+$/.test(n) ? 1 : 0);
  if (loop(a) !== loop(b)) return loop(a) - loop(b);
  const key = (n: string) =>
    n
      .split(/(\d+)/)
      .map((c, i) => (i % 2 ? c.padStart(12, '0') : c.padEnd(12, ' ')))
      .join('');
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

/** How many \\.\PhysicalDriveN numbers are probed on Windows (a gap after a removed drive is skipped). */
export const MAX_PHYSICAL_DRIVES = 32;

/**
 * Windows: \\.\PhysicalDrive0..31, each opened read-only and closed again; a number that does not exist is left
 * out, one that exists but cannot be opened (not elevated: EACCES/EPERM) is listed so the caller
 * reports why.
 */
export function windowsDisks(): HostDisk[] {
  const out: HostDisk[] = [];
  for (let n = 0; n < MAX_PHYSICAL_DRIVES; n++) {
    const path = `\\\\.\\PhysicalDrive${n}`;
    try {
      closeSync(openSync(path, 'r'));
      out.push({ path });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EBUSY') out.push({ path });
    }
  }
  return out;
}

/** The host's disks, in the order the host numbers them. */
export function hostDisks(): HostDisk[] {
  if (process.platform === 'win32') return windowsDisks();
  if (process.platform === 'linux' && existsSync('/sys/block')) return linuxDisks();
  return [];
}
