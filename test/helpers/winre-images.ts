// Disk images for the WinRE rebuild tests: real partition tables (sgdisk / sfdisk), real NTFS and
// FAT32 (mkntfs, mkfs.fat), an offline Windows tree in the OS volume, a Winre.wim made by wimlib's
// wimcapture sized so the recovery partition keeps only `recoveryFree` bytes, boot.sdi, the real
// BCD store from ../shared/fixtures/bcd re-pointed at this disk's recovery partition (ESP with
// mtools, or \Boot\BCD on System Reserved for MBR), and ReAgent.xml pointing at it.
import { mkdirSync, writeFileSync, readFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { buildGpt, buildMbr, gptEnd, run, MiB, TYPE, RECOVERY_ATTRS, type FsSpec, type GptPartSpec, type MbrPartSpec } from './disk-images.js';
import { withMountedNtfs } from './winbuilder.js';
import { fixture } from './env.js';
import { Hive } from '../../src/hive/hive.js';
import { repointWinre, applyBcdChanges } from '../../src/formats/bcd-write.js';
import { repointReAgent } from '../../src/formats/reagent-repoint.js';
import { readDiskLayout } from '../../src/disk/blockdev.js';
import type { Layout } from '../../src/model/disk.js';

export type Role = 'esp' | 'msr' | 'os' | 'recovery' | 'sysres' | 'data' | 'oem' | 'dynamic' | 'bitlocker-os' | 'extended';

export interface PartSpec {
  role: Role;
  start: number;
  size: number;
  /** MBR slot (1-4) or logical number (5..). */
  number?: number;
  /** recovery: free bytes to leave once Winre.wim and boot.sdi are in. */
  free?: number;
  guid?: string;
}

export interface WinreDiskSpec {
  scheme: 'gpt' | 'mbr';
  size: number;
  parts: PartSpec[];
  /** The offline Windows tree copied into the OS volume. */
  tree: string;
  /** Logical sector size (4096: an Advanced Format 4Kn disk; the tables and file systems are made on a loop device with that sector size). */
  sectorSize?: number;
}

export interface WinreDisk {
  file: string;
  layout: Layout;
  os: PartSpec;
  recovery?: PartSpec;
  /** sha256 of Winre.wim and boot.sdi as written. */
  wimSha256?: string;
  sdiSha256?: string;
}

function fsFor(role: Role): FsSpec | undefined {
  switch (role) {
    case 'esp':
      return { kind: 'fat32', label: 'SYSTEM' };
    case 'os':
      return { kind: 'ntfs', label: 'Windows' };
    case 'recovery':
      return { kind: 'ntfs', label: 'Windows RE tools' };
    case 'sysres':
      return { kind: 'ntfs', label: 'System Reserved' };
    case 'data':
    case 'oem':
      return { kind: 'ntfs', label: role === 'oem' ? 'OEM' : 'Data' };
    case 'bitlocker-os':
      return { kind: 'bitlocker', flavour: 'win7' };
    default:
      return undefined;
  }
}

const GPT_TYPES: Record<Role, string> = {
  esp: TYPE.ESP,
  msr: TYPE.MSR,
  os: TYPE.BASIC,
  'bitlocker-os': TYPE.BASIC,
  recovery: TYPE.RECOVERY,
  sysres: TYPE.BASIC,
  data: TYPE.BASIC,
  oem: TYPE.RECOVERY,
  dynamic: TYPE.BASIC,
  extended: '', // MBR only
};
const MBR_TYPES: Record<Role, number> = {
  esp: 0xef,
  msr: 0x07,
  os: 0x07,
  'bitlocker-os': 0x07,
  recovery: 0x27,
  sysres: 0x07,
  data: 0x07,
  oem: 0x27,
  dynamic: 0x42,
  extended: 0x0f,
};

function sha(file: string): string {
  return run('sha256sum', [file]).split(' ')[0]!;
}

/** A file of random (incompressible) bytes. */
function randomFile(file: string, size: number): void {
  const fd = openSync(file, 'w');
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(8 * MiB, size - done);
      writeSync(fd, randomBytes(n));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

export const readImageLayout = (file: string): Layout => readDiskLayout(file);

export function buildWinreDisk(file: string, spec: WinreDiskSpec): WinreDisk {
  const work = `${file}.work`;
  mkdirSync(work, { recursive: true });
  if (spec.scheme === 'gpt') {
    if (spec.parts.some((p) => p.role === 'extended')) throw new Error('an extended partition is MBR only');
    const parts: GptPartSpec[] = spec.parts.map((p) => ({
      start: p.start,
      size: p.size,
      type: GPT_TYPES[p.role],
      name: p.role === 'esp' ? 'EFI system partition' : p.role === 'msr' ? 'Microsoft reserved partition' : p.role === 'recovery' ? '' : 'Basic data partition',
      attributes: p.role === 'recovery' || p.role === 'oem' ? RECOVERY_ATTRS : p.role === 'esp' ? 0x8000000000000000n : undefined,
      guid: p.guid,
      fs: fsFor(p.role),
    }));
    buildGpt(file, spec.size, parts, spec.sectorSize);
  } else {
    let slot = 1;
    const parts: MbrPartSpec[] = spec.parts.map((p) => ({
      number: p.number ?? slot++,
      start: p.start,
      size: p.size,
      type: MBR_TYPES[p.role],
      active: p.role === 'sysres',
      fs: fsFor(p.role),
    }));
    buildMbr(file, spec.size, parts, spec.sectorSize);
  }
  const layout = readImageLayout(file);
  const os = spec.parts.find((p) => p.role === 'os' || p.role === 'bitlocker-os')!;
  const rec = spec.parts.find((p) => p.role === 'recovery');
  const out: WinreDisk = { file, layout, os, recovery: rec };
  const recPart = rec ? layout.partitions.find((q) => q.start === rec.start)! : undefined;

  // The recovery partition: Winre.wim (wimcapture, uncompressed random data) and boot.sdi.
  if (rec) {
    const sdi = path.join(work, 'boot.sdi');
    randomFile(sdi, 3 * MiB);
    withMountedNtfs(file, rec.start, rec.size, (mnt) => {
      const dir = path.join(mnt, 'Recovery', 'WindowsRE');
      mkdirSync(dir, { recursive: true });
      run('cp', [sdi, path.join(dir, 'boot.sdi')]);
      const free = Number(run('df', ['-B1', '--output=avail', mnt]).split('\n')[1]!.trim());
      const payload = Math.max(MiB, free - (rec.free ?? 80 * MiB) - 2 * MiB);
      const src = path.join(work, 'winre-src');
      mkdirSync(path.join(src, 'Windows', 'System32'), { recursive: true });
      randomFile(path.join(src, 'Windows', 'System32', 'winpeshl.payload'), payload);
      writeFileSync(path.join(src, 'Windows', 'System32', 'winpeshl.ini'), '[LaunchApps]\r\n%SYSTEMDRIVE%\\sources\\recovery\\recenv.exe\r\n');
      const wim = path.join(work, 'Winre.wim');
      run('wimcapture', [src, wim, 'Microsoft Windows Recovery Environment (x64)', '--compress=none']);
      rmSync(src, { recursive: true, force: true });
      run('cp', [wim, path.join(dir, 'Winre.wim')]);
      out.wimSha256 = sha(wim);
      out.sdiSha256 = sha(sdi);
    });
  }

  // The OS volume: the Windows tree, and ReAgent.xml pointing at the recovery partition.
  if (os.role === 'os') {
    withMountedNtfs(file, os.start, os.size, (mnt) => {
      run('cp', ['-a', `${spec.tree}/.`, mnt]);
      if (rec) {
        const re = path.join(mnt, 'Windows', 'System32', 'Recovery', 'ReAgent.xml');
        const target =
          layout.scheme === 'gpt'
            ? { scheme: 'gpt' as const, diskGuid: layout.diskGuid!, offset: rec.start }
            : { scheme: 'mbr' as const, diskSignature: layout.signature ?? 0, offset: rec.start };
        writeFileSync(re, repointReAgent(new Uint8Array(readFileSync(re)), target));
      }
    });
  }

  // The BCD store from the fixtures, its WinRE chain pointed at this disk's recovery partition.
  const bcdBytes = new Uint8Array(readFileSync(fixture('bcd', 'BCDrecovery')));
  const hive = Hive.open(bcdBytes);
  if (recPart) {
    const t =
      layout.scheme === 'gpt'
        ? { scheme: 'gpt' as const, diskGuid: layout.diskGuid!, partitionGuid: recPart.guid! }
        : { scheme: 'mbr' as const, diskSignature: layout.signature ?? 0, offset: rec!.start };
    applyBcdChanges(hive, repointWinre(hive, t).changes);
  }
  const bcdFile = path.join(work, 'BCD');
  writeFileSync(bcdFile, hive.serialize());
  const esp = spec.parts.find((p) => p.role === 'esp');
  const sysres = spec.parts.find((p) => p.role === 'sysres');
  if (esp) {
    const at = `${file}@@${esp.start}`;
    run('mmd', ['-i', at, '::/EFI', '::/EFI/Microsoft', '::/EFI/Microsoft/Boot']);
    run('mcopy', ['-i', at, bcdFile, '::/EFI/Microsoft/Boot/BCD']);
  } else if (sysres) {
    withMountedNtfs(file, sysres.start, sysres.size, (mnt) => {
      mkdirSync(path.join(mnt, 'Boot'), { recursive: true });
      run('cp', [bcdFile, path.join(mnt, 'Boot', 'BCD')]);
    });
  }
  rmSync(work, { recursive: true, force: true });
  return out;
}

/** Read a file from the ESP of an image (mtools). */
export function readEspFile(file: string, espStart: number, fatPath: string, dest: string): Buffer {
  run('mcopy', ['-n', '-i', `${file}@@${espStart}`, `::${fatPath}`, dest]);
  return readFileSync(dest);
}

/** A UEFI laptop as Windows 10/11 installs it: ESP 100 MB, MSR 16 MB, Windows, 570 MB recovery at the end. */
export function laptopParts(size: number, recoveryFree: number, guid?: string): PartSpec[] {
  const recStart = gptEnd(size) - 570 * MiB;
  return [
    { role: 'esp', start: MiB, size: 100 * MiB },
    { role: 'msr', start: 101 * MiB, size: 16 * MiB },
    { role: 'os', start: 117 * MiB, size: recStart - 117 * MiB },
    { role: 'recovery', start: recStart, size: 570 * MiB, free: recoveryFree, ...(guid ? { guid } : {}) },
  ];
}
