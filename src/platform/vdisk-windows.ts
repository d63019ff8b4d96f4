// VHD and VHDX on a Windows host or WinPE (issue #18): attached with diskpart (`attach vdisk
// readonly` for the scan and the planning, writable for repair and undo), so the rest runs through
// the Windows backend unchanged (drive letters, \\.\PhysicalDriveN, diskpart for the WinRE rebuild).
// Windows attaches VHD (fixed, dynamic, differencing) and VHDX itself; qcow2, VMDK, VDI and raw
// images are refused with the command that converts them. The attached disk is found as the new
// row of `list disk`, its volumes by `detail disk`; letters this module gave are removed and the
// disk detached at the end, and by an exit backstop whatever way the process ends.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BadInputError, RefusedError } from '../shared/errors.js';
import { containerOf } from './qemu.js';
import { diskNumbersOf, diskVolumesOf, vdiskAttachScript, vdiskDetachScript, vdiskFileArg, type DiskpartVolume } from './diskpart.js';
import { freeLetter, type CommandResult, type WinHost } from './winhost.js';

export interface AttachedVdisk {
  /** The VHD/VHDX file (its full path). */
  file: string;
  readOnly: boolean;
  format: 'vhd' | 'vhdx';
  variant?: string;
  virtualSize: number;
  /** diskpart's number of the attached disk, and what opens it (\\.\PhysicalDriveN). */
  disk: number;
  diskPath: string;
  /** Its volumes as `detail disk` shows them now. */
  volumes(): Promise<DiskpartVolume[]>;
  /** The volume's drive letter; one is given (and taken away again at detach) when it has none. */
  letterFor(v: DiskpartVolume): Promise<string>;
  /** Letters given taken away, the disk detached. Idempotent; throws when diskpart could not detach. */
  detach(): Promise<void>;
}

const lastWords = (r: CommandResult) =>
  r.output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-2)
    .join(' ');

const CRLF = (lines: string[]) => lines.map((l) => l + '\r\n').join('');

/** Still attached by this process: detached by the exit backstop if the command did not get to it. */
const live = new Map<string, { host: WinHost; file: string }>();

/** Detach every virtual disk this process attached and did not detach (synchronously: for 'exit'). Returns the files it detached. */
export function detachAllVdisksSync(): string[] {
  const done: string[] = [];
  for (const [key, a] of [...live]) {
    live.delete(key);
    try {
      const r = a.host.diskpartSync?.(vdiskDetachScript(a.file));
      if (r && r.exitCode === 0) done.push(a.file);
    } catch {
      /* the process is ending: nothing more can be done */
    }
  }
  return done;
}

process.on('exit', () => {
  detachAllVdisksSync();
});

/**
 * What Windows can attach: a VHD or VHDX whose parent (a differencing disk) is beside it. Refused:
 * other containers and raw images (with the conversion), a parent outside the image's folder or missing.
 */
export function checkVdiskFile(file: string): { format: 'vhd' | 'vhdx'; variant?: string; virtualSize: number; parent?: string } {
  if (!existsSync(file)) throw new BadInputError('does not exist', { file, code: 'not-found' });
  const c = containerOf(file);
  if (c.format !== 'vhd' && c.format !== 'vhdx') {
    const what = c.format === 'raw' ? 'a raw disk image' : `a ${c.label}`;
    throw new RefusedError(
      `${file} is ${what}: on Windows/WinPE wufix attaches VHD and VHDX with diskpart only; convert it (qemu-img convert -O vhdx "${path.basename(file)}" win.vhdx), or scan it on Linux, where every format is read through QEMU`,
      'vdisk-windows-format',
    );
  }
  let parent: string | undefined;
  if (c.backing) {
    const dir = path.dirname(path.resolve(file));
    parent = path.isAbsolute(c.backing) ? path.normalize(c.backing) : path.resolve(dir, c.backing);
    if (path.dirname(parent).toLowerCase() !== dir.toLowerCase())
      throw new RefusedError(
        `${file} is a differencing disk whose parent ${parent} is outside its folder (${dir}); an image could name any disk of this machine that way: put the parent beside it and retry. Nothing was written`,
        'vdisk-reference',
      );
    if (!existsSync(parent))
      throw new RefusedError(
        `${file} is a differencing disk whose parent ${parent} is missing; put it back and retry. Nothing was written`,
        'vdisk-backing-missing',
      );
  }
  return { format: c.format, ...(c.variant ? { variant: c.variant } : {}), virtualSize: c.virtualSize ?? c.rawBytes ?? 0, ...(parent ? { parent } : {}) };
}

/** Attach a VHD/VHDX with diskpart (read-only unless `readOnly` is false) and say which disk it became. */
export async function attachVdisk(host: WinHost, fileGiven: string, opts: { readOnly: boolean; progress?: (m: string) => void }): Promise<AttachedVdisk> {
  const progress = opts.progress ?? (() => {});
  // diskpart runs in its own folder: it gets the full path.
  const file = path.resolve(fileGiven);
  const c = checkVdiskFile(file);
  vdiskFileArg(file);
  const before = await host.diskpart(CRLF(['list disk']));
  if (before.exitCode !== 0) throw new RefusedError(`diskpart could not list the disks (exit ${before.exitCode}): ${lastWords(before)}`, 'vdisk-attach');
  const had = new Set(diskNumbersOf(before.output));
  progress(`attaching ${file} ${opts.readOnly ? 'read-only' : 'writable'} with diskpart`);
  const r = await host.diskpart(vdiskAttachScript(file, opts.readOnly));
  if (r.exitCode !== 0) {
    throw new RefusedError(
      `diskpart could not attach ${file} (exit ${r.exitCode}: ${lastWords(r)}); it may be open in Hyper-V or attached already (diskpart: select vdisk file="${file}", detach vdisk). Nothing was written`,
      'vdisk-attach',
    );
  }
  const key = file.toLowerCase();
  live.set(key, { host, file });
  let detached = false;
  const given: string[] = [];
  const detach = async () => {
    if (detached) return;
    detached = true;
    for (const l of given.splice(0)) await host.diskpart(CRLF([`select volume ${l}`, `remove letter=${l}`]));
    const d = await host.diskpart(vdiskDetachScript(file));
    live.delete(key);
    if (d.exitCode !== 0) throw new RefusedError(`diskpart could not detach ${file} (exit ${d.exitCode}: ${lastWords(d)}); detach it by hand`, 'vdisk-detach');
  };
  const fresh = diskNumbersOf(r.output).filter((n) => !had.has(n));
  if (fresh.length !== 1) {
    await detach();
    throw new RefusedError(
      `diskpart attached ${file} but "list disk" shows ${fresh.length} new disks, not one; nothing was read. Retry when no other disk is being added`,
      'vdisk-attach',
    );
  }
  const disk = fresh[0]!;
  const volumes = async () => {
    const d = await host.diskpart(CRLF([`select disk ${disk}`, 'detail disk']));
    if (d.exitCode !== 0) throw new RefusedError(`diskpart could not list the volumes of disk ${disk} (exit ${d.exitCode}): ${lastWords(d)}`, 'vdisk-attach');
    return diskVolumesOf(d.output);
  };
  return {
    file,
    readOnly: opts.readOnly,
    format: c.format,
    ...(c.variant ? { variant: c.variant } : {}),
    virtualSize: c.virtualSize,
    disk,
    diskPath: host.diskPath(disk),
    volumes,
    async letterFor(v) {
      if (v.letter) return v.letter;
      const l = freeLetter(host.lettersInUse(), ['W', 'V', 'U', 'R', 'S', 'T']);
      const a = await host.diskpart(CRLF([`select disk ${disk}`, `select volume ${v.number}`, `assign letter=${l}`]));
      if (a.exitCode !== 0)
        throw new RefusedError(`diskpart could not give volume ${v.number} of ${file} a drive letter (exit ${a.exitCode}): ${lastWords(a)}`, 'no-letter');
      given.push(l);
      return l;
    },
    detach,
  };
}

/** Run `fn` on the attached disk; it is detached afterwards whatever happens (a detach error after an error of `fn` is not thrown over it). */
export async function withVdisk<T>(
  host: WinHost,
  file: string,
  opts: { readOnly: boolean; progress?: (m: string) => void },
  fn: (a: AttachedVdisk) => Promise<T>,
): Promise<T> {
  const a = await attachVdisk(host, file, opts);
  let r: T;
  try {
    r = await fn(a);
  } catch (e) {
    await a.detach().catch(() => {});
    throw e;
  }
  await a.detach();
  return r;
}
