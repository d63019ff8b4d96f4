// The only file-system adapter of the disk engine: image files, Linux block devices, and (read-only)
// Windows \\.\PhysicalDriveN. Reads are widened to whole sectors; writes must be sector-aligned.
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, realpathSync, writeSync, constants as fsc } from 'node:fs';
import { dirname } from 'node:path';
import { BadInputError, RefusedError, UsageError } from '../shared/errors.js';
import type { BlockDevice, Layout } from '../model/disk.js';
import { readLayout, type ReadOptions } from './layout.js';
import { describeContainer, detectContainer } from './vdisk.js';
import { fmtSize } from '../shared/units.js';

export interface OpenOptions {
  /** Open for writing (refused for Windows physical drives). */
  write?: boolean;
  /** Override the logical sector size (512 or 4096). */
  sectorSize?: number;
}

export interface OpenedDevice extends BlockDevice {
  close(): void;
  readonly kind: 'image' | 'block' | 'windows-physical';
}

const WIN_PHYSICAL = /^\\\\[.?]\\PhysicalDrive(\d+)$/i;

export function checkSectorSize(n: number): number {
  if (n !== 512 && n !== 4096) throw new UsageError(`--sector-size must be 512 or 4096, not ${n}`);
  return n;
}

/** A BlockDevice over an open file descriptor. */
class FdDevice implements OpenedDevice {
  constructor(
    private fd: number,
    readonly name: string,
    readonly size: number,
    readonly sectorSize: number,
    readonly kind: OpenedDevice['kind'],
    private writable: boolean,
  ) {}

  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new BadInputError(`read of ${length} bytes past the end of the disk (${this.size} bytes; truncated image?)`, {
        file: this.name,
        offset,
      });
    }
    const ss = this.sectorSize;
    const a = Math.floor(offset / ss) * ss;
    const b = Math.ceil((offset + length) / ss) * ss;
    const buf = Buffer.alloc(b - a);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, a + got);
      if (n === 0) break;
      got += n;
    }
    if (got < buf.length) {
      throw new BadInputError(`short read: the disk ends before byte ${a + buf.length} (truncated image?)`, { file: this.name, offset: a + got });
    }
    return new Uint8Array(buf.buffer, buf.byteOffset + (offset - a), length);
  }

  write(offset: number, bytes: Uint8Array): void {
    if (!this.writable) throw new RefusedError(`${this.name} is open read-only`);
    const ss = this.sectorSize;
    if (offset % ss !== 0 || bytes.length % ss !== 0) {
      throw new RefusedError(`unaligned write at ${offset} (${bytes.length} bytes) with ${ss}-byte sectors`);
    }
    if (offset + bytes.length > this.size) throw new RefusedError(`write past the end of ${this.name}`);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, offset + done);
  }

  flush(): void {
    if (this.writable) fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Size and logical sector size of a Linux block device, read from sysfs: the same numbers the
 * BLKGETSIZE64 / BLKSSZGET ioctls (and `blockdev --getsize64 --getss`) report, without a tool.
 * `size` counts 512-byte units whatever the sector size; a partition's queue is its disk's.
 */
function blockGeometry(path: string, fd: number): { size: number; sectorSize: number } {
  const dev = fstatSync(fd, { bigint: true }).rdev;
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  const number = (file: string): number => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (e) {
      throw new BadInputError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}): the size of this block device is unknown`, {
        file: path,
      });
    }
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n <= 0) throw new BadInputError(`${file} says "${text}"`, { file: path });
    return n;
  };
  let sys: string;
  try {
    sys = realpathSync(`/sys/dev/block/${major}:${minor}`);
  } catch {
    throw new BadInputError(`block device ${major}:${minor} is not in /sys/dev/block: its size is unknown`, { file: path });
  }
  const queue = existsSync(`${sys}/partition`) ? `${dirname(sys)}/queue` : `${sys}/queue`;
  return { size: number(`${sys}/size`) * 512, sectorSize: number(`${queue}/logical_block_size`) };
}

function readAt(fd: number, pos: number, len: number): Buffer | undefined {
  const b = Buffer.alloc(len);
  try {
    return readSync(fd, b, 0, len, pos) === len ? b : undefined;
  } catch {
    return undefined;
  }
}

/** 4Kn images: "EFI PART" at 4096 and not at 512. Otherwise 512. */
export function detectImageSectorSize(fd: number, size: number): number {
  const at = (pos: number) => (pos + 8 <= size ? readAt(fd, pos, 8)?.toString('latin1') : undefined);
  if (at(512) === 'EFI PART') return 512;
  if (at(4096) === 'EFI PART') return 4096;
  return 512;
}

/**
 * Windows physical drive: no fstat size, raw reads must be sector-aligned. The sector size is found
 * by trying a 512-byte read, the size by a binary search on readable sectors. Read-only.
 */
function openWindowsPhysical(path: string, opts: OpenOptions): OpenedDevice {
  if (opts.write) throw new RefusedError(`${path}: writing to Windows physical drives is not supported; use an image or diskpart`);
  const fd = openSync(path, 'r');
  const ss = opts.sectorSize ?? (readAt(fd, 0, 512) ? 512 : 4096);
  const ok = (lba: number) => readAt(fd, lba * ss, ss) !== undefined;
  if (!ok(0)) throw new BadInputError(`cannot read the first sector`, { file: path });
  let lo = 0;
  let hi = 1;
  while (ok(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > 2 ** 40) break;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return new FdDevice(fd, path, (lo + 1) * ss, ss, 'windows-physical', false);
}

/**
 * The bytes of an image file that are the disk: all of a raw image, a fixed VHD without its
 * 512-byte footer. Any other virtual-disk container is refused in one line naming what it is (its
 * header read as a raw disk would only say "no partition table").
 */
function rawSize(fd: number, path: string, fileSize: number): number {
  const c = detectContainer((off, len) => readAt(fd, off, Math.max(0, Math.min(len, fileSize - off))) ?? new Uint8Array(0), fileSize);
  if (c.format === 'raw') return fileSize;
  if (c.format === 'vhd' && c.rawBytes !== undefined) return c.rawBytes;
  throw new BadInputError(
    `is a ${describeContainer(c, fmtSize)}, not a raw disk: wufix reads raw images, fixed VHDs and block devices; convert it first (qemu-img convert -O raw <image> disk.img) or attach it (qemu-nbd, or diskpart on Windows) and pass the device`,
    { file: path, code: 'virtual-disk' },
  );
}

/** Open an image file or a block device. */
export function openBlockDevice(path: string, opts: OpenOptions = {}): OpenedDevice {
  if (opts.sectorSize !== undefined) checkSectorSize(opts.sectorSize);
  if (WIN_PHYSICAL.test(path)) return openWindowsPhysical(path, opts);
  const fd = openSync(path, opts.write ? fsc.O_RDWR : fsc.O_RDONLY);
  try {
    const st = fstatSync(fd);
    if (st.isBlockDevice()) {
      const geo = blockGeometry(path, fd);
      const size = geo.size;
      const ss = opts.sectorSize ?? geo.sectorSize;
      return new FdDevice(fd, path, size - (size % ss), ss, 'block', !!opts.write);
    }
    if (!st.isFile()) throw new BadInputError('not a disk image file or block device', { file: path });
    const size = rawSize(fd, path, st.size);
    const ss = opts.sectorSize ?? detectImageSectorSize(fd, size);
    if (size % ss !== 0) {
      throw new BadInputError(`image size ${size} is not a multiple of the ${ss}-byte sector size (truncated image?)`, { file: path });
    }
    return new FdDevice(fd, path, size, ss, 'image', !!opts.write);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Open, read the layout (with volume probes unless told), close. */
export function readDiskLayout(path: string, opts: OpenOptions & ReadOptions = {}): Layout {
  const dev = openBlockDevice(path, { sectorSize: opts.sectorSize });
  try {
    return readLayout(dev, opts);
  } finally {
    dev.close();
  }
}

/** A BlockDevice in memory (tests, previews). */
export class MemoryDevice implements BlockDevice {
  readonly bytes: Uint8Array;
  constructor(
    size: number,
    readonly sectorSize = 512,
    readonly name = 'memory',
  ) {
    this.bytes = new Uint8Array(size);
  }
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || offset + length > this.bytes.length) {
      throw new BadInputError(`read past the end of the disk`, { file: this.name, offset });
    }
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, bytes: Uint8Array): void {
    if (offset % this.sectorSize !== 0 || bytes.length % this.sectorSize !== 0) throw new RefusedError(`unaligned write at ${offset}`);
    this.bytes.set(bytes, offset);
  }
  flush(): void {}
}
