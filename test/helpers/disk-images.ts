// Builders of real disk images for the disk-engine tests: sparse files partitioned by sgdisk/sfdisk
// (Debian gdisk, fdisk), file systems made by mkntfs/mkfs.fat/mkfs.exfat inside partitions through
// `losetup --offset --sizelimit` (always detached in finally), and readers of what the independent
// tools (sgdisk, sfdisk, blkid) say about an image. Needs root for loop devices.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync, ftruncateSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { IN_CI, toolsReason } from './env.js';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const TYPE = {
  ESP: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  MSR: 'e3c9e316-0b5c-4db8-817d-f92df00215ae',
  BASIC: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
  RECOVERY: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac',
  LINUX: '0fc63daf-8483-4772-8e79-3d69d8477de4',
} as const;

/** Skip reason for tests that need root + loop devices + the partitioning tools (fails in CI). */
export function diskToolsReason(...extra: string[]): string | undefined {
  const t = toolsReason('sgdisk', 'sfdisk', 'blkid', 'losetup', ...extra);
  if (t) return t;
  if (process.getuid?.() !== 0) {
    const r = 'needs root (loop devices)';
    if (IN_CI) throw new Error(`CI=true: required prerequisite missing: ${r}`);
    return r;
  }
  return undefined;
}

export function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] }).toString();
}

/** A temp directory removed by the returned cleanup (call it in finally / afterAll). */
export function tempDir(prefix = 'wufix-disk-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A sparse file of `size` bytes. */
export function sparseImage(file: string, size: number): string {
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
  return file;
}

export function writeAt(file: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** sha256 of a file, read in chunks (images are large and sparse). */
export function sha256(file: string): string {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(8 * 1024 * 1024);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** Attach a loop device (optionally a window of the file), run fn, always detach. */
export function withLoop<T>(file: string, fn: (dev: string) => T, opts: { offset?: number; size?: number; sectorSize?: number } = {}): T {
  const args = ['--find', '--show'];
  if (opts.offset !== undefined) args.push('--offset', String(opts.offset));
  if (opts.size !== undefined) args.push('--sizelimit', String(opts.size));
  if (opts.sectorSize !== undefined) args.push('--sector-size', String(opts.sectorSize));
  const dev = run('losetup', [...args, file]).trim();
  try {
    return fn(dev);
  } finally {
    try {
      run('losetup', ['--detach', dev]);
    } catch {
      // a busy device detaches lazily (autoclear) once released
    }
  }
}

export type FsSpec =
  { kind: 'ntfs' | 'fat32' | 'fat16' | 'exfat'; label: string } | { kind: 'bitlocker'; flavour: 'vista' | 'win7' | 'togo' } | { kind: 'refs' };

/** Make a file system inside [offset, offset+size) of the image through a loop device. */
export function mkfsInPartition(file: string, offset: number, size: number, fs: FsSpec, sectorSize = 512): void {
  if (fs.kind === 'bitlocker') {
    writeAt(file, offset, bitLockerBootArea(fs.flavour, sectorSize));
    return;
  }
  if (fs.kind === 'refs') {
    writeAt(file, offset, refsBootSector(size, sectorSize));
    return;
  }
  withLoop(
    file,
    (dev) => {
      if (fs.kind === 'ntfs') run('mkntfs', ['-Q', '-F', '-q', '-L', fs.label, dev]);
      else if (fs.kind === 'fat32') run('mkfs.fat', ['-F', '32', '-n', fs.label, dev]);
      else if (fs.kind === 'fat16') run('mkfs.fat', ['-F', '16', '-n', fs.label, dev]);
      else run('mkfs.exfat', ['-L', fs.label, dev]);
    },
    { offset, size, sectorSize },
  );
}

/**
 * BitLocker boot area from the documented signatures (../shared/docs/winre.md §8; util-linux
 * libblkid bitlocker.c): EB 52 90 "-FVE-FS-" (Vista); EB 58 90 "-FVE-FS-" with the FVE metadata
 * offset at byte 176 (Win7+); EB 58 90 "MSWIN4.1" with the offset at byte 440 (To Go). The FVE
 * metadata block there starts with "-FVE-FS-".
 */
export function bitLockerBootArea(flavour: 'vista' | 'win7' | 'togo', sectorSize = 512): Uint8Array {
  const metaOff = 16 * sectorSize;
  const b = new Uint8Array(metaOff + sectorSize);
  const dv = new DataView(b.buffer);
  b.set([0xeb, flavour === 'vista' ? 0x52 : 0x58, 0x90], 0);
  b.set(Buffer.from(flavour === 'togo' ? 'MSWIN4.1' : '-FVE-FS-'), 3);
  dv.setUint16(11, sectorSize, true);
  b[13] = 8;
  if (flavour === 'win7') dv.setBigUint64(176, BigInt(metaOff), true);
  if (flavour === 'togo') dv.setBigUint64(440, BigInt(metaOff), true);
  b[510] = 0x55;
  b[511] = 0xaa;
  b.set(Buffer.from('-FVE-FS-'), metaOff);
  dv.setUint16(metaOff + 8, 64, true);
  dv.setUint16(metaOff + 10, 2, true); // FVE metadata version 2 (Win7+)
  return b;
}

/** A ReFS volume boot sector: "ReFS\0\0\0\0" at 3, "FSRS" at 16, sector count/size/cluster (libfsrefs). */
export function refsBootSector(size: number, sectorSize = 512): Uint8Array {
  const b = new Uint8Array(sectorSize);
  const dv = new DataView(b.buffer);
  b.set(Buffer.from('ReFS'), 3);
  b.set(Buffer.from('FSRS'), 16);
  dv.setUint16(20, 0x200, true);
  dv.setBigUint64(24, BigInt(Math.floor(size / sectorSize)), true);
  dv.setUint32(32, sectorSize, true);
  dv.setUint32(36, 8, true);
  b[40] = 3;
  b[41] = 4;
  dv.setBigUint64(56, 0x1122334455667788n, true);
  return b;
}

// ---------------------------------------------------------------------------------------------
// Layout specifications and builders

export interface GptPartSpec {
  /** Byte offset and size (1 MiB aligned unless `toEnd`). */
  start: number;
  size: number;
  type: string;
  name: string;
  attributes?: bigint;
  guid?: string;
  fs?: FsSpec;
}

export interface MbrPartSpec {
  /** 1-4 primaries, 5.. logicals (sfdisk creates them in order). */
  number: number;
  start: number;
  size: number;
  type: number;
  active?: boolean;
  fs?: FsSpec;
}

export interface BuiltImage {
  file: string;
  sectorSize: number;
  size: number;
  scheme: 'gpt' | 'mbr';
  gpt?: GptPartSpec[];
  mbr?: MbrPartSpec[];
}

/** sgdisk on the image (or, for 4096-byte sectors, on a loop device with that sector size). */
export function sgdisk(file: string, args: string[], sectorSize = 512): string {
  return onDisk(file, sectorSize, (target) => run('sgdisk', [...args, target]));
}

/** Run a tool on the image itself (512-byte sectors) or on a loop device with 4096-byte sectors. */
export function onDisk<T>(file: string, sectorSize: number, fn: (target: string) => T): T {
  if (sectorSize === 512) return fn(file);
  return withLoop(file, fn, { sectorSize });
}

/** sfdisk's attrs syntax: bits 0-2 by name, 48-63 as GUID:n (other bits cannot be set this way). */
export function sfdiskAttrs(a: bigint): string {
  const names = ['RequiredPartition', 'NoBlockIOProtocol', 'LegacyBIOSBootable'];
  const out: string[] = [];
  const guid: number[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (!((a >> BigInt(bit)) & 1n)) continue;
    if (bit < 3) out.push(names[bit]!);
    else if (bit >= 48) guid.push(bit);
    else throw new Error(`sfdisk cannot set GPT attribute bit ${bit}`);
  }
  if (guid.length) out.push(`GUID:${guid.join(',')}`);
  return out.join(' ');
}

/**
 * A GPT image. sgdisk by default; `tool: 'sfdisk'` is much faster (sgdisk sleeps a second after
 * every write) and is what the property tests use.
 */
export function buildGpt(file: string, size: number, parts: GptPartSpec[], sectorSize = 512, tool: 'sgdisk' | 'sfdisk' = 'sgdisk'): BuiltImage {
  sparseImage(file, size);
  if (tool === 'sfdisk') {
    const lines = ['label: gpt', 'unit: sectors', ''];
    for (const p of parts) {
      const f = [`start=${p.start / sectorSize}`, `size=${p.size / sectorSize}`, `type=${p.type}`, `name="${p.name}"`];
      if (p.guid) f.push(`uuid=${p.guid}`);
      if (p.attributes) f.push(`attrs="${sfdiskAttrs(p.attributes)}"`);
      lines.push(f.join(', '));
    }
    onDisk(file, sectorSize, (t) => run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', t], lines.join('\n') + '\n'));
    for (const p of parts) if (p.fs) mkfsInPartition(file, p.start, p.size, p.fs, sectorSize);
    return { file, sectorSize, size, scheme: 'gpt', gpt: parts };
  }
  const args = ['-o'];
  parts.forEach((p, i) => {
    const n = i + 1;
    args.push(`-n${n}:${p.start / sectorSize}:${(p.start + p.size) / sectorSize - 1}`, `-t${n}:${p.type}`, `-c${n}:${p.name}`);
    if (p.guid) args.push(`-u${n}:${p.guid}`);
    const a = p.attributes ?? 0n;
    for (let bit = 0; bit < 64; bit++) if ((a >> BigInt(bit)) & 1n) args.push(`-A${n}:set:${bit}`);
  });
  sgdisk(file, args, sectorSize);
  for (const p of parts) if (p.fs) mkfsInPartition(file, p.start, p.size, p.fs, sectorSize);
  return { file, sectorSize, size, scheme: 'gpt', gpt: parts };
}

export function buildMbr(file: string, size: number, parts: MbrPartSpec[], sectorSize = 512): BuiltImage {
  sparseImage(file, size);
  const lines = ['label: dos', 'unit: sectors', ''];
  // By number: the extended partition (a primary slot) before its logical partitions (5, 6, ...).
  for (const p of [...parts].sort((a, b) => a.number - b.number)) {
    lines.push(`${file}${p.number} : start=${p.start / sectorSize}, size=${p.size / sectorSize}, type=${p.type.toString(16)}${p.active ? ', bootable' : ''}`);
  }
  onDisk(file, sectorSize, (t) => run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', t], lines.join('\n') + '\n'));
  for (const p of parts) if (p.fs) mkfsInPartition(file, p.start, p.size, p.fs, sectorSize);
  return { file, sectorSize, size, scheme: 'mbr', mbr: parts };
}

/** Last 1 MiB boundary that still leaves the GPT backup (33 sectors) after it. */
export function gptEnd(size: number): number {
  return Math.floor((size - 34 * 512) / MiB) * MiB;
}

export const RECOVERY_ATTRS = 0x8000000000000001n;

/** UEFI Windows 10 22H2 clean install: ESP 100 MB, MSR 16 MB, Windows, Recovery ~570 MB at the end. */
export function win10_22h2(dir: string, size = 8 * GiB): BuiltImage {
  const recStart = gptEnd(size) - 570 * MiB;
  return buildGpt(path.join(dir, 'win10-22h2.img'), size, [
    { start: MiB, size: 100 * MiB, type: TYPE.ESP, name: 'EFI system partition', attributes: 0x8000000000000000n, fs: { kind: 'fat32', label: 'SYSTEM' } },
    { start: 101 * MiB, size: 16 * MiB, type: TYPE.MSR, name: 'Microsoft reserved partition' },
    { start: 117 * MiB, size: recStart - 117 * MiB, type: TYPE.BASIC, name: 'Basic data partition', fs: { kind: 'ntfs', label: 'Windows' } },
    { start: recStart, size: 570 * MiB, type: TYPE.RECOVERY, name: '', attributes: RECOVERY_ATTRS, fs: { kind: 'ntfs', label: 'Windows RE tools' } },
  ]);
}

/** Windows 10 <= 1909: Recovery 529 MB first, then ESP, MSR, Windows (here BitLocker Win7+). */
export function win10_1909(dir: string, size = 4 * GiB): BuiltImage {
  return buildGpt(path.join(dir, 'win10-1909.img'), size, [
    { start: MiB, size: 529 * MiB, type: TYPE.RECOVERY, name: 'Basic data partition', attributes: RECOVERY_ATTRS, fs: { kind: 'ntfs', label: 'Recovery' } },
    { start: 530 * MiB, size: 99 * MiB, type: TYPE.ESP, name: 'EFI system partition', fs: { kind: 'fat32', label: 'ESP' } },
    { start: 629 * MiB, size: 16 * MiB, type: TYPE.MSR, name: 'Microsoft reserved partition' },
    { start: 645 * MiB, size: gptEnd(size) - 645 * MiB, type: TYPE.BASIC, name: 'Basic data partition', fs: { kind: 'bitlocker', flavour: 'win7' } },
  ]);
}

/** Server 2022: ESP, MSR, Windows, Recovery after it, and a ReFS data volume with a non-ASCII name. */
export function server2022(dir: string, size = 6 * GiB): BuiltImage {
  const dataStart = 3 * GiB;
  return buildGpt(path.join(dir, 'server2022.img'), size, [
    { start: MiB, size: 100 * MiB, type: TYPE.ESP, name: 'EFI system partition', fs: { kind: 'fat32', label: 'SYSTEM' } },
    { start: 101 * MiB, size: 16 * MiB, type: TYPE.MSR, name: 'Microsoft reserved partition' },
    { start: 117 * MiB, size: dataStart - 645 * MiB - 117 * MiB, type: TYPE.BASIC, name: 'Basic data partition', fs: { kind: 'ntfs', label: 'Server' } },
    {
      start: dataStart - 645 * MiB,
      size: 645 * MiB,
      type: TYPE.RECOVERY,
      name: 'Recovery',
      attributes: RECOVERY_ATTRS,
      guid: '0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9',
      fs: { kind: 'ntfs', label: 'Windows RE tools' },
    },
    { start: dataStart, size: 2 * GiB, type: TYPE.BASIC, name: 'Donn\u00e9es \u65e5\u672c', fs: { kind: 'refs' } },
  ]);
}

/** 4Kn disk (4096-byte logical sectors): ESP 260 MB, MSR, Windows, Recovery. */
export function win10_4kn(dir: string, size = 4 * GiB): BuiltImage {
  const end = Math.floor((size - 6 * 4096) / MiB) * MiB;
  return buildGpt(
    path.join(dir, 'win10-4kn.img'),
    size,
    [
      { start: MiB, size: 260 * MiB, type: TYPE.ESP, name: 'EFI system partition', fs: { kind: 'fat32', label: 'SYSTEM' } },
      { start: 261 * MiB, size: 16 * MiB, type: TYPE.MSR, name: 'Microsoft reserved partition' },
      { start: 277 * MiB, size: end - 600 * MiB - 277 * MiB, type: TYPE.BASIC, name: 'Basic data partition', fs: { kind: 'ntfs', label: 'Windows' } },
      { start: end - 600 * MiB, size: 600 * MiB, type: TYPE.RECOVERY, name: '', attributes: RECOVERY_ATTRS, fs: { kind: 'ntfs', label: 'Windows RE tools' } },
    ],
    4096,
  );
}

/** BIOS/MBR: System Reserved (active), Windows, Recovery 0x27. */
export function biosMbr(dir: string, size = 4 * GiB): BuiltImage {
  return buildMbr(path.join(dir, 'bios-mbr.img'), size, [
    { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true, fs: { kind: 'ntfs', label: 'System Reserved' } },
    { number: 2, start: 101 * MiB, size: 3000 * MiB, type: 0x07, fs: { kind: 'ntfs', label: 'Windows' } },
    { number: 3, start: 3101 * MiB, size: 550 * MiB, type: 0x27, fs: { kind: 'ntfs', label: 'Recovery' } },
  ]);
}

/** MBR with all four primaries used (FAT32 LBA, NTFS, WinRE, dynamic 0x42). */
export function mbrFourPrimaries(dir: string, size = 2 * GiB): BuiltImage {
  return buildMbr(path.join(dir, 'mbr-4p.img'), size, [
    { number: 1, start: MiB, size: 200 * MiB, type: 0x0c, active: true, fs: { kind: 'fat32', label: 'BOOT' } },
    { number: 2, start: 201 * MiB, size: 1000 * MiB, type: 0x07, fs: { kind: 'ntfs', label: 'Windows' } },
    { number: 3, start: 1201 * MiB, size: 500 * MiB, type: 0x27, fs: { kind: 'ntfs', label: 'Recovery' } },
    { number: 4, start: 1701 * MiB, size: 300 * MiB, type: 0x42 },
  ]);
}

/** MBR with an extended partition and logicals: Windows and Recovery as logicals, exFAT data, BitLocker To Go. */
export function mbrLogicals(dir: string, size = 3 * GiB): BuiltImage {
  return buildMbr(path.join(dir, 'mbr-logical.img'), size, [
    { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true, fs: { kind: 'ntfs', label: 'System Reserved' } },
    { number: 2, start: 101 * MiB, size: 2800 * MiB, type: 0x0f },
    { number: 5, start: 102 * MiB, size: 1500 * MiB, type: 0x07, fs: { kind: 'ntfs', label: 'Windows' } },
    { number: 6, start: 1603 * MiB, size: 500 * MiB, type: 0x27, fs: { kind: 'ntfs', label: 'Recovery' } },
    { number: 7, start: 2104 * MiB, size: 300 * MiB, type: 0x07, fs: { kind: 'exfat', label: 'DATA' } },
    { number: 8, start: 2405 * MiB, size: 200 * MiB, type: 0x0c, fs: { kind: 'bitlocker', flavour: 'togo' } },
  ]);
}

// ---------------------------------------------------------------------------------------------
// What the independent tools report

export interface RefPartition {
  number: number;
  start: number;
  size: number;
  type: string;
  guid?: string;
  name?: string;
  attributes?: string;
  active: boolean;
}

export interface RefLayout {
  scheme: 'gpt' | 'mbr';
  id: string;
  partitions: RefPartition[];
}

/** Parse `sfdisk --json` into bytes. GPT attributes come from `sgdisk -i` (hex). */
export function sfdiskJson(file: string, sectorSize = 512): RefLayout {
  const j = JSON.parse(onDisk(file, sectorSize, (t) => run('sfdisk', ['--json', t]))).partitiontable;
  const scheme = j.label === 'gpt' ? 'gpt' : 'mbr';
  const partitions: RefPartition[] = (j.partitions ?? []).map((p: Record<string, unknown>) => {
    const number = Number(/(\d+)$/.exec(String(p.node))![1]);
    const r: RefPartition = {
      number,
      start: Number(p.start) * sectorSize,
      size: Number(p.size) * sectorSize,
      type: scheme === 'gpt' ? String(p.type).toLowerCase() : '0x' + String(p.type).padStart(2, '0'),
      active: p.bootable === true,
    };
    if (scheme === 'gpt') {
      r.guid = String(p.uuid).toLowerCase();
      r.name = (p.name as string | undefined) ?? '';
    }
    return r;
  });
  return { scheme, id: String(j.id).toLowerCase(), partitions };
}

/** `sgdisk -i N`: attribute flags as 0x + 16 hex digits, unique GUID, name. */
export function sgdiskInfo(file: string, n: number, sectorSize = 512): { attributes: string; guid: string; type: string; name: string } {
  const out = sgdisk(file, ['-i', String(n)], sectorSize);
  const get = (re: RegExp) => re.exec(out)?.[1] ?? '';
  return {
    attributes: '0x' + get(/Attribute flags: ([0-9A-Fa-f]{16})/).toLowerCase(),
    guid: get(/Partition unique GUID: ([0-9A-Fa-f-]{36})/).toLowerCase(),
    type: get(/Partition GUID code: ([0-9A-Fa-f-]{36})/).toLowerCase(),
    name: get(/Partition name: '(.*)'/),
  };
}

/** `sgdisk -v`: true when it reports no problems. */
export function sgdiskVerifyClean(file: string, sectorSize = 512): { clean: boolean; output: string } {
  let output: string;
  try {
    output = sgdisk(file, ['-v'], sectorSize);
  } catch (e) {
    output = String((e as { stdout?: Buffer }).stdout ?? e);
  }
  return { clean: /No problems found/.test(output) && !/^\s*(Problem|Caution)/m.test(output), output };
}

/** `sfdisk -V` (it exits 0 even when it finds errors; they are printed on stderr). */
export function sfdiskVerifyClean(file: string): { clean: boolean; output: string } {
  const r = spawnSync('sfdisk', ['-V', file], { encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}(exit ${r.status})`;
  return { clean: r.status === 0 && /No errors detected/.test(output) && !/overlap|warning|invalid/i.test(output), output };
}

/** `sfdisk -F`: unpartitioned areas (sfdisk only lists aligned areas of at least one grain). */
export function sfdiskFree(file: string, sectorSize = 512): { start: number; size: number }[] {
  const out = onDisk(file, sectorSize, (t) => run('sfdisk', ['-F', t]));
  const rows: { start: number; size: number }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+\S+\s*$/.exec(line);
    if (m) rows.push({ start: Number(m[1]) * sectorSize, size: Number(m[3]) * sectorSize });
  }
  return rows;
}

/** `blkid -p` on a byte window of the image: TYPE, LABEL, UUID (empty strings when absent). */
export function blkidProbe(file: string, offset: number, size: number): { type: string; label: string; uuid: string } {
  let out = '';
  try {
    out = run('blkid', ['-p', '-o', 'export', '-O', String(offset), '-S', String(size), file]);
  } catch {
    return { type: '', label: '', uuid: '' };
  }
  const get = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(out)?.[1] ?? '';
  const unescape = (v: string) => v.replace(/\\(.)/g, '$1');
  return { type: get('TYPE'), label: unescape(get('LABEL')), uuid: get('UUID') };
}
