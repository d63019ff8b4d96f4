// Virtual disks (qcow2, VHDX, VMDK, dynamic VHD, VDI) attached through QEMU's block layer: a
// qemu-storage-daemon exports the disk inside the container as one raw file (a FUSE export on an
// empty file in a private temp dir), and the usual loop/ntfs-3g path runs on that file. The only
// module that runs qemu-img and qemu-storage-daemon.
//
// Before anything is attached: the image must not be in use (QEMU's own image lock, a VMware .lck
// folder), the container must pass `qemu-img check`, every file it reads through (backing file,
// VMDK extents, qcow2 data file) must be a plain file that exists, and a streamOptimized VMDK is
// never opened for writing. A qcow2 overlay is written only in its top layer: QEMU opens backing
// files read-only. After a writable attach, `qemu-img check` runs again on the way out.
import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { closeSync, existsSync, lstatSync, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BadInputError, RefusedError } from '../shared/errors.js';
import { fmtSize } from '../shared/units.js';
import { detectContainer, describeContainer, type ContainerFormat, type ContainerInfo } from '../disk/vdisk.js';
import { Cleanup, detachLoop, parseMountinfo, requireTools, unmount } from './linux.js';

export interface AttachedDisk {
  /** The raw disk inside the container (a FUSE export file), or the image itself when it is raw. */
  rawPath: string;
  format: ContainerFormat;
  /** The container's variant as its header says (qcow2 v3, monolithicSparse, dynamic...). */
  variant?: string;
  virtualSize: number;
  /** The qemu-storage-daemon's PID (undefined for a raw image). */
  pid?: number;
  /** Tear down now; after a writable attach also `qemu-img check` the image (throws when it reports errors). Idempotent. */
  detach(): void;
}

/** QEMU's block driver for each container format. */
const DRIVER: Record<Exclude<ContainerFormat, 'raw'>, string> = { qcow2: 'qcow2', vhdx: 'vhdx', vmdk: 'vmdk', vhd: 'vpc', vdi: 'vdi' };

/** The longest a daemon is given to export the disk, and to stop. */
const START_MS = 20_000;
const STOP_MS = 30_000;
/** How often the export's size (start) and the daemon's end (stop) are looked at: both take ~10 ms. */
const POLL_MS = 2;

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** What an image file holds, from its header (no QEMU involved). */
export function containerOf(image: string): ContainerInfo {
  // Only a regular file can be a container; a block device (or anything else: the disk engine refuses it) is raw.
  const st = statSync(image);
  if (!st.isFile()) return { format: 'raw', label: 'raw disk image' };
  const size = st.size;
  const fd = openSync(image, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    return detectContainer((off, len) => {
      const b = Buffer.alloc(Math.max(0, Math.min(len, size - off)));
      const n = b.length ? readSync(fd, b, 0, b.length, off) : 0;
      return new Uint8Array(b.buffer, b.byteOffset, n);
    }, size);
  } finally {
    closeSync(fd);
  }
}

/** A container QEMU must attach: anything but raw and a fixed VHD (read as the raw disk it holds). */
export const needsAttach = (c: ContainerInfo) => c.format !== 'raw' && !(c.format === 'vhd' && c.rawBytes !== undefined);

const firstLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)[0] ?? '';

/** QEMU's image-lock error ("Failed to get "write" lock ... Is another process using the image?"). */
const isLockError = (s: string) => /Failed to get .*lock|another process using the image/i.test(s);

function lockedRefusal(image: string, by: string): RefusedError {
  return new RefusedError(
    `${image} is in use by ${by}; writing or even reading a disk a running machine changes gives garbage: shut the virtual machine down (or stop the program holding it) and retry. Nothing was written`,
    'vdisk-locked',
  );
}

function runQemu(cmd: string, args: string[], image: string): { status: number; stdout: string; stderr: string } {
  try {
    return { status: 0, stdout: execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 }), stderr: '' };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number; stdout?: string; stderr?: string };
    if (err.code === 'ENOENT') throw new RefusedError(`${cmd} is not installed; install it (Debian: qemu-utils) and retry`, 'missing-tool');
    const stderr = (err.stderr ?? err.message).toString();
    if (isLockError(stderr)) throw lockedRefusal(image, 'another process (QEMU holds a lock on it)');
    return { status: err.status ?? 1, stdout: (err.stdout ?? '').toString(), stderr };
  }
}

interface QemuImageInfo {
  format?: string;
  'virtual-size'?: number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  'format-specific'?: { type?: string; data?: { 'create-type'?: string; extents?: { filename?: string }[]; 'data-file'?: string } };
}

function imageInfo(file: string, image: string): QemuImageInfo {
  const r = runQemu('qemu-img', ['info', '--output=json', file], image);
  if (r.status !== 0) throw new BadInputError(`qemu-img info cannot open it: ${firstLine(r.stderr)}`, { file, code: 'virtual-disk' });
  try {
    return JSON.parse(r.stdout) as QemuImageInfo;
  } catch {
    throw new BadInputError('qemu-img info printed no JSON', { file, code: 'virtual-disk' });
  }
}

/**
 * A file a container reads through (backing file, extent, data file) must be a plain path to a
 * regular file that exists: never a protocol (nbd:, http:, json:{...}) or a device.
 */
function checkReference(ref: string, image: string, what: string, writable: boolean, named: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !ref.startsWith('/'))
    throw new RefusedError(
      `${image} reads through ${what} "${ref}", which is not a plain file (a QEMU protocol); wufix opens only files: convert it (qemu-img convert -O raw <image> disk.img) and retry. Nothing was written`,
      'vdisk-reference',
    );
  const abs = path.resolve(path.dirname(image), ref);
  if (!existsSync(abs)) {
    throw new RefusedError(
      `${image} reads through ${what} ${abs}, which is missing; without it the disk inside is incomplete: put it back where the image expects it (qemu-img info shows the path) and retry${writable ? '. Nothing was written' : ''}`,
      'vdisk-backing-missing',
    );
  }
  if (!statSync(abs).isFile())
    throw new RefusedError(
      `${image} reads through ${what} ${abs}, which is not a regular file; wufix opens only image files: convert it first and retry. Nothing was written`,
      'vdisk-reference',
    );
  const real = realpathSync(abs);
  const dirs = allowedDirs(named);
  if (!dirs.some((d) => real === d || real.startsWith(d.endsWith('/') ? d : `${d}/`)))
    throw new RefusedError(
      `${image} reads through ${what} ${real}, outside the image's folder (${dirs[0]}); an image could name any file of this machine that way: put it beside the image (${what === 'the backing file' ? 'qemu-img rebase -u -b' : 'and edit the descriptor'}), or allow its folder with WUFIX_BACKING_DIRS=<dir>, and retry. Nothing was written`,
      'vdisk-reference',
    );
  return real;
}

/** Folders whose files a container may read through: the named image's, the base of an --overlay, and WUFIX_BACKING_DIRS (colon-separated). */
const trusted = new Set<string>();
function allowedDirs(named: string): string[] {
  const own = path.dirname(realpathSync(named));
  const env = (process.env.WUFIX_BACKING_DIRS ?? '')
    .split(':')
    .filter((d) => d && existsSync(d))
    .map((d) => realpathSync(d));
  return [own, ...trusted, ...env];
}

/** Every file the container reads, checked; the backing chain followed (at most 16 deep). */
function checkReferences(image: string, info: QemuImageInfo, writable: boolean): void {
  let cur = image;
  let inf = info;
  for (let depth = 0; depth < 16; depth++) {
    const me = realpathSync(cur);
    for (const e of inf['format-specific']?.data?.extents ?? []) {
      if (!e.filename) continue;
      const abs = path.resolve(path.dirname(cur), e.filename);
      if (existsSync(abs) && realpathSync(abs) === me) continue; // a monolithic VMDK: the image itself
      checkReference(e.filename, cur, 'the extent', writable, image);
    }
    const dataFile = inf['format-specific']?.data?.['data-file'];
    if (dataFile) checkReference(dataFile, cur, 'the data file', writable, image);
    const back = inf['full-backing-filename'] ?? inf['backing-filename'];
    if (!back) return;
    const next = checkReference(back, cur, 'the backing file', writable, image);
    inf = imageInfo(next, image);
    cur = next;
  }
  throw new RefusedError(`${image} has a backing chain deeper than 16 files; convert it first and retry. Nothing was written`, 'vdisk-reference');
}

/** `qemu-img check`: errors (exit 2) or a check that could not run (exit 1) refuse; leaks (3) and "not supported" (63) pass. */
function checkContainer(image: string, driver: string, when: 'before' | 'after'): void {
  const r = runQemu('qemu-img', ['check', '-f', driver, image], image);
  if (r.status === 0 || r.status === 3 || r.status === 63) return;
  const why = firstLine(r.stderr) || firstLine(r.stdout) || `exit ${r.status}`;
  if (when === 'before')
    throw new RefusedError(
      `qemu-img check finds ${image} damaged (${why}); a repair on a damaged container can lose more: repair or convert it first (qemu-img check -r all, on a copy) and retry. Nothing was written`,
      'vdisk-corrupt',
    );
  throw new RefusedError(
    `after the repair qemu-img check finds ${image} damaged (${why}); undo the run (wufix undo --last --image ${image}) and check the image`,
    'vdisk-corrupt',
  );
}

/** VMware keeps a "<disk>.lck" folder beside a disk it has open (Hyper-V leaves no lock file Linux can see). */
function vmwareLock(image: string): string | undefined {
  const lck = `${image}.lck`;
  try {
    lstatSync(lck);
    return lck;
  } catch {
    return undefined;
  }
}

/** The mounts and loop devices on the export file (ours: a private temp dir), released first; then the daemon, then the FUSE mount. */
function releaseUsers(rawPath: string): void {
  let loops: string[] = [];
  try {
    loops = readdirSync('/sys/block').filter((n) => {
      try {
        return n.startsWith('loop') && readFileSync(`/sys/block/${n}/loop/backing_file`, 'utf8').trim() === rawPath;
      } catch {
        return false;
      }
    });
  } catch {
    /* no sysfs */
  }
  if (!loops.length) return;
  const devs = new Set(loops.map((l) => `/dev/${l}`));
  for (const m of mounts()) if (devs.has(m.source)) unmount(m.mountPoint);
  for (const d of devs) detachLoop(d);
}

const mounts = () => {
  try {
    return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return [];
  }
};

function quiet(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The daemon is alive and is ours: its command line names our mountpoint (a reused PID is never killed). */
function isOurDaemon(pid: number, mountpoint: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const state = /\)\s+(\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
    return state !== 'Z' && cmd.includes('qemu-storage-daemon') && cmd.includes(`mountpoint=${mountpoint}`);
  } catch {
    return false;
  }
}

function stopDaemon(pidfile: string, mountpoint: string): void {
  let pid: number | undefined;
  try {
    pid = Number(readFileSync(pidfile, 'utf8').trim());
  } catch {
    /* never started */
  }
  if (pid && Number.isSafeInteger(pid) && pid > 1 && isOurDaemon(pid, mountpoint)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const until = Date.now() + STOP_MS;
    while (isOurDaemon(pid, mountpoint) && Date.now() < until) sleep(POLL_MS);
    if (isOurDaemon(pid, mountpoint)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      while (isOurDaemon(pid, mountpoint) && Date.now() < until + 5000) sleep(POLL_MS);
    }
  }
  // A daemon that died (or was killed) leaves its FUSE mount behind ("transport endpoint is not connected").
  if (mounts().some((m) => m.mountPoint === mountpoint) && !quiet('fusermount3', ['-u', mountpoint])) unmount(mountpoint);
}

/**
 * Attach a virtual-disk container read-only (scan, planning) or writable (apply, undo): returns the
 * raw disk inside as a file. Everything (daemon, FUSE mount, loop devices and mounts on it) is
 * released by `cleanup` (also on Ctrl-C/SIGTERM) or by `detach()`.
 */
export function attachVirtualDisk(image: string, opts: { writable: boolean; container?: ContainerInfo }, cleanup: Cleanup): AttachedDisk {
  const c = opts.container ?? containerOf(image);
  if (c.format === 'raw') throw new BadInputError('is a raw disk image, not a container', { file: image, code: 'virtual-disk' });
  const driver = DRIVER[c.format];
  const what = describeContainer(c, fmtSize);
  requireTools(`attaching a ${c.label}`, ['qemu-img', 'qemu-storage-daemon']);
  if (opts.writable && c.format === 'vmdk' && /streamOptimized/i.test(c.variant ?? ''))
    throw new RefusedError(
      `${image} is a streamOptimized VMDK (an export/OVA format, compressed and append-only), which QEMU cannot safely change in place: convert it (qemu-img convert -O vmdk -o subformat=monolithicSparse <image> disk.vmdk), repair the copy and retry. Nothing was written`,
      'vdisk-stream-optimized',
    );
  if (c.format === 'vmdk') {
    const lck = vmwareLock(image);
    if (lck) throw lockedRefusal(image, `VMware (${lck} exists)`);
  }
  const info = imageInfo(image, image);
  if (info.format !== driver)
    throw new BadInputError(`looks like a ${what}, but qemu-img reads it as ${info.format ?? 'unknown'}`, { file: image, code: 'virtual-disk' });
  const virtualSize = info['virtual-size'];
  if (!virtualSize || !Number.isSafeInteger(virtualSize)) throw new BadInputError('qemu-img info gives no virtual size', { file: image, code: 'virtual-disk' });
  checkReferences(image, info, opts.writable);
  checkContainer(image, driver, 'before');

  const dir = cleanup.tempDir('wufix-vdisk-');
  const mountpoint = path.join(dir, 'disk');
  const pidfile = path.join(dir, 'qsd.pid');
  writeFileSync(mountpoint, '', { mode: 0o600, flag: 'wx' });
  let detached = false;
  const teardown = () => {
    if (detached) return;
    detached = true;
    releaseUsers(mountpoint);
    stopDaemon(pidfile, mountpoint);
  };
  cleanup.add(teardown);
  const ro = opts.writable ? '' : ',read-only=on';
  const args = [
    '--blockdev',
    `driver=file,node-name=f,filename=${qemuEscape(path.resolve(image))},locking=on${ro}`,
    '--blockdev',
    `driver=${driver},node-name=d,file=f${ro}`,
    '--export',
    `type=fuse,id=e,node-name=d,mountpoint=${qemuEscape(mountpoint)},writable=${opts.writable ? 'on' : 'off'},growable=off,allow-other=off`,
    '--pidfile',
    pidfile,
    '--daemonize',
  ];
  const r = runQemu('qemu-storage-daemon', args, image);
  if (r.status !== 0) {
    teardown();
    throw new BadInputError(`qemu-storage-daemon cannot attach it (${what}): ${firstLine(r.stderr)}`, { file: image, code: 'virtual-disk' });
  }
  const until = Date.now() + START_MS;
  while (statSync(mountpoint).size !== virtualSize && Date.now() < until) sleep(POLL_MS);
  if (statSync(mountpoint).size !== virtualSize) {
    teardown();
    throw new BadInputError(`qemu-storage-daemon did not export the ${fmtSize(virtualSize)} disk inside it (${what})`, { file: image, code: 'virtual-disk' });
  }
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  return {
    rawPath: mountpoint,
    format: c.format,
    variant: c.variant,
    virtualSize,
    pid,
    detach: () => {
      if (detached) return;
      teardown();
      if (opts.writable) checkContainer(image, driver, 'after');
    },
  };
}

/** QEMU's option syntax: a comma inside a value is written twice. */
const qemuEscape = (s: string) => s.replace(/,/g, ',,');

/**
 * The disk of an `--image`: the image itself when it is raw (or a fixed VHD), otherwise the raw disk
 * inside the container attached through QEMU (read-only unless `writable`), released by `cleanup`.
 */
export function openImageDisk(image: string, writable: boolean, cleanup: Cleanup): AttachedDisk {
  const c = containerOf(image);
  if (!needsAttach(c)) return { rawPath: image, format: c.format, variant: c.variant, virtualSize: c.rawBytes ?? statSync(image).size, detach: () => {} };
  return attachVirtualDisk(image, { writable, container: c }, cleanup);
}

/**
 * One `--image` for the length of a command (repair, undo): a container is attached once, read-only
 * until something must be written, then writable to the end (a read-only attach is released first:
 * QEMU's image lock lets one writer in). Mounts and the disk step all use the same export file;
 * `close()` detaches and, after a writable attach, runs `qemu-img check` again.
 */
export class ImageSession {
  private cur: AttachedDisk | undefined;
  private cleanup: Cleanup | undefined;
  private writable = false;
  constructor(readonly image: string) {}
  /** The raw disk of the image; `writable` attaches it for writing (it then stays writable). */
  disk(writable: boolean): AttachedDisk {
    if (this.cur && (this.writable || !writable)) return this.cur;
    this.close();
    const cleanup = new Cleanup();
    try {
      this.cur = openImageDisk(this.image, writable, cleanup);
    } catch (e) {
      cleanup.release();
      throw e;
    }
    this.cleanup = cleanup;
    this.writable = writable;
    return this.cur;
  }
  /** Detach (idempotent); throws when `qemu-img check` finds the container damaged after a write. */
  close(): void {
    const cur = this.cur;
    const cleanup = this.cleanup;
    this.cur = undefined;
    this.cleanup = undefined;
    try {
      cur?.detach();
    } finally {
      cleanup?.release();
    }
  }
}

const sessions = new Map<string, ImageSession>();

/** The session of an image path (one per path and process). */
export function imageSession(image: string): ImageSession {
  const key = path.resolve(image);
  let s = sessions.get(key);
  if (!s) sessions.set(key, (s = new ImageSession(image)));
  return s;
}

/** Detach every image the process attached; the first error (a damaged container after a write) is thrown after all are closed. */
export function closeImageSessions(): void {
  let first: Error | undefined;
  for (const s of sessions.values()) {
    try {
      s.close();
    } catch (e) {
      first ??= e instanceof Error ? e : new Error(String(e));
    }
  }
  sessions.clear();
  if (first) throw first;
}

// A backstop: whatever way the process ends normally, no daemon or FUSE mount stays behind.
process.on('exit', () => {
  try {
    closeImageSessions();
  } catch {
    /* reported by the command */
  }
});

/**
 * `--overlay <new.qcow2>`: a new qcow2 whose backing file is `image` (read-only from then on), so a
 * repair writes only into the overlay. Refuses an existing file; returns the overlay's path.
 */
export function createOverlay(image: string, overlay: string): string {
  if (isLink(overlay))
    throw new RefusedError(
      `--overlay ${overlay} exists; the overlay must be a new file (wufix never overwrites one): name another and retry`,
      'overlay-exists',
    );
  const c = containerOf(image);
  const fmt = c.format === 'raw' ? 'raw' : DRIVER[c.format];
  requireTools('--overlay', ['qemu-img']);
  const r = runQemu('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', path.resolve(image), '-F', fmt, overlay], image);
  // The base was named on the command line: its folder is trusted for the overlay's chain.
  trusted.add(path.dirname(realpathSync(image)));
  if (r.status !== 0) throw new BadInputError(`qemu-img cannot create the overlay: ${firstLine(r.stderr)}`, { file: overlay, code: 'virtual-disk' });
  return overlay;
}

const isLink = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
