// Linux host adapter: mounted volumes, loop devices and ntfs-3g. The only module that runs losetup,
// mount tools and reads /proc for the scan; everything it returns is plain data.
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync, rmSync, readlinkSync, realpathSync, accessSync, statSync, constants as fsConstants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RefusedError, BadInputError, EXIT } from '../shared/errors.js';
import { changing, interruptedBy, STOP_SIGNALS } from '../shared/interrupt.js';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  options: string[];
}

/** Undo the octal escapes the kernel uses in mountinfo (\040 space, \011 tab, \012 newline, \134 backslash). */
export function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse /proc/self/mountinfo text. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 6 || f.length < dash + 3) continue;
    out.push({
      mountPoint: unescapeMount(f[4]!),
      options: f[5]!.split(','),
      fsType: f[dash + 1]!,
      source: unescapeMount(f[dash + 2]!),
    });
  }
  return out;
}

const NTFS_TYPES = new Set(['ntfs', 'ntfs3', 'fuseblk', 'fuse.ntfs-3g', 'ntfs-3g']);

export function ntfsMounts(): MountEntry[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  return parseMountinfo(text).filter((m) => NTFS_TYPES.has(m.fsType));
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new RefusedError(`${cmd} is not installed; install it (Debian: ${pkgOf(cmd)}) and retry`, 'missing-tool');
    throw new BadInputError(`${cmd} ${args.join(' ')} failed: ${(err.stderr ?? err.message).toString().trim().split('\n')[0]}`);
  }
}

function pkgOf(cmd: string): string {
  if (cmd === 'losetup' || cmd === 'umount') return 'mount/util-linux';
  if (/^(ntfs|mkntfs)/.test(cmd)) return 'ntfs-3g';
  if (/^m(copy|dir|type|mkdir|del)$/.test(cmd)) return 'mtools';
  return cmd;
}

/** The first of `cmds` not found as an executable on PATH, if any. */
export function missingTool(cmds: string[], pathVar = process.env.PATH ?? ''): string | undefined {
  const dirs = pathVar.split(path.delimiter).filter(Boolean);
  return cmds.find(
    (cmd) =>
      !dirs.some((d) => {
        try {
          accessSync(path.join(d, cmd), fsConstants.X_OK);
          return statSync(path.join(d, cmd)).isFile();
        } catch {
          return false;
        }
      }),
  );
}

/** Refuse, before anything is written, when a tool `what` needs is not installed. */
export function requireTools(what: string, cmds: string[]): void {
  const m = missingTool(cmds);
  if (m)
    throw new RefusedError(
      `${what} needs ${m}, which is not installed; install it (Debian: apt-get install ${pkgOf(m).split('/')[0]}) and retry. Nothing was written`,
      'missing-tool',
    );
}

export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new RefusedError(`${what} needs root: run with sudo (it attaches loop devices and mounts)`, 'not-root');
  }
}

/** Attach a byte range of an image to a loop device (read-only unless told). Returns /dev/loopN. */
export function attachLoop(image: string, offset: number, size: number, readOnly = true): string {
  const args = ['--find', '--show', '--offset', String(offset), '--sizelimit', String(size)];
  if (readOnly) args.push('--read-only');
  return run('losetup', [...args, image]).trim();
}

export function detachLoop(dev: string): void {
  try {
    execFileSync('losetup', ['--detach', dev], { stdio: 'ignore' });
  } catch {
    /* already gone */
  }
}

/**
 * Mount an NTFS volume with ntfs-3g. The image is hostile: nosuid, nodev and noexec make the device
 * nodes, set-uid files and programs stored in it inert on the host. ntfs-3g still shows reparse
 * points and Interix links as symbolic links (it has no option to hide them); wufix never follows
 * them (src/shared/safefs.ts, src/windows/profiles.ts).
 */
export const NTFS_MOUNT_OPTIONS = ['nosuid', 'nodev', 'noexec'] as const;

export function mountNtfs(dev: string, dir: string, readOnly = true): void {
  run('ntfs-3g', ['-o', [readOnly ? 'ro' : 'rw', ...NTFS_MOUNT_OPTIONS].join(','), dev, dir]);
}

export function unmount(dir: string): void {
  for (let i = 0; i < 5; i++) {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      return;
    } catch {
      // FUSE may still be busy for a moment.
      execFileSync('sleep', ['0.2']);
    }
  }
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    /* nothing more to do */
  }
}

/**
 * Resources to release whatever happens: loop devices, mounts, temp dirs. Released in reverse order
 * by release(), and on SIGINT/SIGTERM/SIGHUP (then the process exits 130, EXIT.INTERRUPTED) unless a
 * change is in flight: that run rolls back and its finally blocks release them (src/shared/interrupt.ts).
 */
export class Cleanup {
  private steps: (() => void)[] = [];
  private readonly onSignal = (sig: NodeJS.Signals) => {
    if (changing()) return;
    this.release();
    process.stderr.write(`wufix: ${interruptedBy(sig)}; stopped before changing anything, everything detached\n`);
    process.exit(EXIT.INTERRUPTED);
  };
  private readonly signals: boolean;
  /** `signals: false` for work that handles Ctrl-C itself (the WinRE rebuild rolls back instead of exiting). */
  constructor(opts: { signals?: boolean } = {}) {
    this.signals = opts.signals ?? true;
    if (this.signals) for (const s of STOP_SIGNALS) process.on(s, this.onSignal);
  }
  add(step: () => void): void {
    this.steps.push(step);
  }
  tempDir(prefix: string): string {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    this.add(() => rmSync(d, { recursive: true, force: true }));
    return d;
  }
  release(): void {
    while (this.steps.length) {
      const s = this.steps.pop()!;
      try {
        s();
      } catch {
        /* keep releasing the rest */
      }
    }
    if (this.signals) for (const s of STOP_SIGNALS) process.off(s, this.onSignal);
  }
}

export interface BackingDisk {
  /** The image file or whole-disk device holding the volume. */
  disk: string;
  /** Byte offset of the volume on that disk. */
  offset: number;
}

/**
 * Which disk holds a mounted volume: a loop device's backing file and offset, or a partition's
 * parent device and start sector (from sysfs).
 */
export function backingDisk(source: string): BackingDisk | undefined {
  if (!source.startsWith('/dev/')) return undefined;
  let dev = source;
  try {
    dev = path.resolve(path.dirname(source), readlinkSync(source));
  } catch {
    /* not a link */
  }
  const name = path.basename(dev);
  const sys = `/sys/class/block/${name}`;
  if (name.startsWith('loop') && existsSync(`${sys}/loop/backing_file`)) {
    const file = readFileSync(`${sys}/loop/backing_file`, 'utf8').trim();
    const offset = Number(readFileSync(`${sys}/loop/offset`, 'utf8').trim());
    return { disk: file, offset };
  }
  if (existsSync(`${sys}/partition`) && existsSync(`${sys}/start`)) {
    const parent = path.basename(path.dirname(readlinkSync(sys)));
    const start = Number(readFileSync(`${sys}/start`, 'utf8').trim());
    return { disk: `/dev/${parent}`, offset: start * 512 };
  }
  return undefined;
}

/**
 * Read one file from a FAT volume inside an image with mtools (no kernel vfat needed).
 * Returns undefined when the file does not exist.
 */
export function readFatFile(image: string, offset: number, fatPath: string, cleanup: Cleanup, cap = 64 << 20): Uint8Array | undefined {
  const dir = cleanup.tempDir('wufix-fat-');
  const out = path.join(dir, 'file');
  try {
    execFileSync('mcopy', ['-n', '-i', `${image}@@${offset}`, `::${fatPath}`, out], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new RefusedError('mcopy (Debian package mtools) is not installed; it reads the EFI system partition', 'missing-tool');
    if (/not found/i.test(err.stderr?.toString() ?? '')) return undefined;
    throw new BadInputError(`mcopy could not read ${fatPath}: ${(err.stderr?.toString() ?? err.message).trim().split('\n')[0]}`);
  }
  const size = statSync(out).size; // our own temp file; FAT has no links or device nodes
  if (size > cap) throw new BadInputError(`${fatPath} is ${size} bytes, more than the ${cap} bytes wufix reads; not read`, { code: 'too-large' });
  return new Uint8Array(readFileSync(out));
}

/** Attach [offset, offset+size) of an image or disk to a loop device and mount it with ntfs-3g; both released by `cleanup`. */
export function mountPartition(file: string, offset: number, size: number, cleanup: Cleanup, readOnly = true): string {
  if (!readOnly) refuseMountedRange(file, offset, size);
  const loop = attachLoop(file, offset, size, readOnly);
  cleanup.add(() => detachLoop(loop));
  const dir = cleanup.tempDir('wufix-mnt-');
  mountNtfs(loop, dir, readOnly);
  cleanup.add(() => unmount(dir));
  return dir;
}

/**
 * Refuse (before anything is attached) a read-write mount of [offset, offset+size) of `file` while a
 * volume starting in that range is mounted already, by anyone: a second read-write ntfs-3g mount
 * alone changes the volume under the first one (issue #14 b).
 */
export function refuseMountedRange(file: string, offset: number, size: number): void {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  const me = real(file);
  for (const m of parseMountinfo(text)) {
    const back = backingDisk(m.source);
    if (!back || real(back.disk) !== me || back.offset < offset || back.offset >= offset + size) continue;
    throw new RefusedError(
      `the volume at byte ${offset} of ${file} is mounted at ${m.mountPoint}; a second read-write mount would change it under that mount: unmount it (umount ${m.mountPoint}) and retry. Nothing was written`,
      'mounted',
    );
  }
}
