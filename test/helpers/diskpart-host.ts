// A WinHost (src/platform/winhost.ts) for tests on Linux: it carries out diskpart's commands on a
// real disk image with real tools, so the WinRE backend for Windows/WinPE can be driven end to end
// where diskpart.exe cannot run. The table is changed by sfdisk (sgdisk for GPT attribute bits
// sfdisk cannot express), NTFS by ntfsresize / mkntfs on loop devices of the partition, and drive
// letters are mounts under `base`: ntfs-3g (rw) for NTFS, `mount -t vfat` for FAT, or, when the
// kernel has no vfat (containers), a copy of the FAT tree made with mtools that is written back
// (changed and new files, deletions) when the letter is removed or the host is closed. Output uses
// diskpart's English wording; like `diskpart /s`, the script stops at the first failing command
// and the exit code is non-zero. Every loop device and mount is this host's own and released in
// finally blocks or by close(). Commands: select disk/partition/volume, detail volume/partition,
// detail disk, list disk/partition/volume, shrink, extend, delete partition, create partition primary/logical,
// gpt attributes, set id, format, assign, remove, rescan, exit (see linuxDiskpartHost).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { onDisk, readAt, withLoop, sfdiskAttrs as sfdiskAttrsOf } from './disk-images.js';
import { readDiskLayout } from '../../src/disk/blockdev.js';
import { GPT_TYPE } from '../../src/disk/roles.js';
import { type Layout, type Partition } from '../../src/model/disk.js';
import { MiB } from '../../src/shared/units.js';
import { parseReAgentXml } from '../../src/formats/reagent.js';
import { windowsPartitionNumber } from '../../src/winre/plan.js';
import type { CommandResult, WinHost } from '../../src/platform/winhost.js';

/** diskpart's exit codes: E_INVALIDARG for syntax, E_FAIL (VDS errors) for the rest. */
const E_ARGS = 0x80070057;
const E_FAIL = 0x80004005;

const BANNER = ['', 'Microsoft DiskPart version 10.0.19041.3636', '', 'Copyright (C) Microsoft Corporation.', 'On computer: MINWINPC'];
const NOT_VALID = 'The arguments specified for this command are not valid.\nFor more information on the command type: HELP';

class DiskpartFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number = E_FAIL,
  ) {
    super(message);
  }
}
const vds = (msg: string) => new DiskpartFailure(`Virtual Disk Service error:\n${msg}`);
const badArgs = (cmd: string) => new DiskpartFailure(`${NOT_VALID} ${cmd.toUpperCase()}`, E_ARGS);

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', LC_ALL: 'C', LANG: 'C' };

interface Exec {
  status: number | null;
  out: string;
}
function exec(cmd: string, args: string[], input?: string): Exec {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', env: MTOOLS_ENV, maxBuffer: 1 << 26 });
  if (r.error) return { status: null, out: String(r.error.message) };
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
function must(cmd: string, args: string[], input?: string): string {
  const r = exec(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.out.trim()}`);
  return r.out;
}

/** A mounted (or assigned) drive letter. */
interface Letter {
  letter: string;
  /** Start of the partition (bytes): how the letter follows its partition across table changes. */
  start: number;
  size: number;
  dir: string;
  kind: 'ntfs' | 'vfat' | 'fat-copy' | 'raw';
  dev?: string;
  /** fat-copy: relative path -> sha256 of the files as extracted ('' for directories). */
  copied?: Map<string, string>;
}

type Fs = 'ntfs' | 'fat' | 'raw';

/** diskpart's size cells: the largest unit that still shows at least 10 ("1024 KB", "570 MB", "64 GB"). */
export function diskpartSize(bytes: number): string {
  if (bytes === 0) return '0 B';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let u = 0;
  while (u < units.length - 1 && bytes / 1024 ** (u + 1) >= 10) u++;
  return `${Math.round(bytes / 1024 ** u)} ${units[u]}`;
}

const row = (cells: string[], widths: number[], align: ('l' | 'r' | 'c')[], selected = false) =>
  (selected ? '* ' : '  ') +
  cells
    .map((c, i) => {
      const w = widths[i]!;
      if (align[i] === 'r') return c.padStart(w);
      if (align[i] === 'c') return (' '.repeat(Math.floor((w - c.length) / 2)) + c).padEnd(w);
      return c.padEnd(w);
    })
    .join('  ')
    .trimEnd();
const table = (headers: string[], rows: { cells: string[]; selected?: boolean }[], widths: number[], align: ('l' | 'r' | 'c')[]) =>
  [
    row(
      headers,
      widths,
      headers.map(() => 'l'),
    ),
    '  ' + widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => row(r.cells, widths, align, r.selected)),
  ].join('\n');

/** Split a command line into words; "quoted strings" keep their spaces (quotes removed). */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"]+|"[^"]*")+/g;
  for (const m of line.matchAll(re)) out.push(m[0].replace(/"/g, ''));
  return out;
}

const GUID_RE = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

/** sfdisk's attrs syntax (disk-images.ts), or undefined when a bit outside 0-2 and 48-63 is set. */
function sfdiskAttrs(a: bigint): string | undefined {
  try {
    return sfdiskAttrsOf(a);
  } catch {
    return undefined;
  }
}

/** Files and directories under `dir`, relative, '/'-separated, with sha256 ('' for directories). */
function treeOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.set(r, '');
        walk(r);
      } else if (e.isFile())
        out.set(
          r,
          createHash('sha256')
            .update(readFileSync(path.join(dir, r)))
            .digest('hex'),
        );
    }
  };
  if (existsSync(dir)) walk('');
  return out;
}

/** A path under `root`, each component matched case-insensitively (as on NTFS under Windows). */
function caseInsensitive(root: string, parts: string[]): string | undefined {
  let cur = root;
  for (const p of parts) {
    if (!p) continue;
    let names: string[];
    try {
      names = readdirSync(cur);
    } catch {
      return undefined;
    }
    const hit = names.find((n) => n === p) ?? names.find((n) => n.toLowerCase() === p.toLowerCase());
    if (hit === undefined) return undefined;
    cur = path.join(cur, hit);
  }
  return cur;
}

export type DiskpartHost = WinHost & { close(): void; log: string[] };

export function linuxDiskpartHost(image: string, opts: { base: string; letters?: Record<string, number>; disk?: number; readOnly?: boolean }): DiskpartHost {
  const base = path.resolve(opts.base);
  /** The disk's number (0 unless a virtual disk attached as another). */
  const DN = opts.disk ?? 0;
  /** A read-only disk (`attach vdisk readonly`): volumes mounted read-only, changes refused as diskpart does. */
  const RO = !!opts.readOnly;
  const writable = () => {
    if (RO) throw vds('The media is write protected.');
  };
  mkdirSync(base, { recursive: true });
  const log: string[] = [];
  const loops = new Set<string>();
  const letters = new Map<string, Letter>();

  // --- the disk ----------------------------------------------------------------------------------
  const layout = (): Layout => readDiskLayout(image);
  const ssOf = (l: Layout) => l.sectorSize;
  /** sfdisk / sgdisk on the image (through a 4096-byte-sector loop device for 4Kn images). */
  const tableTool = (ss: number, cmd: 'sfdisk' | 'sgdisk', args: string[], input?: string): string =>
    onDisk(image, ss, (target) =>
      must(cmd, cmd === 'sfdisk' ? ['--no-reread', '--no-tell-kernel', ...args.map((a) => (a === '@' ? target : a))] : [...args, target], input),
    );
  const winNumber = (l: Layout, p: Partition) => windowsPartitionNumber(l, p.number);
  const partAt = (l: Layout, start: number) => l.partitions.find((p) => p.start === start && p.role !== 'extended');
  const end = (p: { start: number; size: number }) => p.start + p.size;

  function fsOf(p: { start: number; size: number }): Fs {
    const b = readAt(image, p.start, 512);
    if (b.subarray(3, 11).toString('latin1') === 'NTFS    ') return 'ntfs';
    const fat = b.subarray(82, 90).toString('latin1').startsWith('FAT') || b.subarray(54, 62).toString('latin1').startsWith('FAT');
    return fat && b[510] === 0x55 && b[511] === 0xaa ? 'fat' : 'raw';
  }

  // --- loop devices and mounts -------------------------------------------------------------------
  function attach(start: number, size: number, ss: number): string {
    const args = ['--find', '--show', '--offset', String(start), '--sizelimit', String(size), ...(RO ? ['--read-only'] : [])];
    if (ss !== 512) args.push('--sector-size', String(ss));
    const dev = must('losetup', [...args, image]).trim();
    loops.add(dev);
    return dev;
  }
  function detach(dev: string): void {
    exec('losetup', ['--detach', dev]);
    loops.delete(dev);
  }
  function umountDir(dir: string): void {
    for (let i = 0; i < 10; i++) {
      if (exec('umount', [dir]).status === 0) return;
      if (exec('mountpoint', ['-q', dir]).status !== 0) return;
      exec('sleep', ['0.2']);
    }
    exec('umount', ['-l', dir]);
  }
  const mtoolsAt = (start: number) => `${image}@@${start}`;

  /** Mount partition [start, start+size) at <base>/<letter>. Nothing is left attached on failure. */
  function mountLetter(letter: string, p: { start: number; size: number }, ss: number): void {
    const dir = path.join(base, letter);
    mkdirSync(dir, { recursive: true });
    const fs = fsOf(p);
    const rec: Letter = { letter, start: p.start, size: p.size, dir, kind: 'raw' };
    if (fs === 'raw') {
      letters.set(letter, rec);
      return;
    }
    const dev = attach(p.start, p.size, ss);
    let ok = false;
    try {
      if (fs === 'ntfs') {
        must('ntfs-3g', ['-o', RO ? 'ro' : 'rw', dev, dir]);
        Object.assign(rec, { kind: 'ntfs', dev });
        ok = true;
      } else if (exec('mount', ['-t', 'vfat', ...(RO ? ['-o', 'ro'] : []), dev, dir]).status === 0) {
        Object.assign(rec, { kind: 'vfat', dev });
        ok = true;
      }
    } finally {
      if (!ok) detach(dev);
    }
    if (!ok) {
      // No kernel vfat: a copy of the tree, written back when the letter goes.
      const r = exec('mcopy', ['-s', '-p', '-m', '-n', '-i', mtoolsAt(p.start), '::/*', `${dir}/`]);
      if (r.status !== 0 && !/not found/i.test(r.out)) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`mcopy could not read the FAT volume at ${p.start}: ${r.out.trim()}`);
      }
      Object.assign(rec, { kind: 'fat-copy', copied: treeOf(dir) });
    }
    letters.set(letter, rec);
  }

  /** Write a fat-copy letter's changes back into the FAT volume with mtools. */
  function writeBack(rec: Letter): void {
    const at = mtoolsAt(rec.start);
    const before = rec.copied ?? new Map<string, string>();
    const now = treeOf(rec.dir);
    const gone = [...before.keys()].filter((k) => !now.has(k)).sort((a, b) => b.length - a.length);
    for (const k of gone) {
      if (before.get(k) === '') exec('mdeltree', ['-i', at, `::/${k}`]);
      else exec('mdel', ['-i', at, `::/${k}`]);
    }
    for (const [k, sha] of [...now].sort(([a], [b]) => a.length - b.length)) {
      if (before.get(k) === sha) continue;
      if (sha === '') {
        if (!before.has(k)) exec('mmd', ['-i', at, `::/${k}`]);
      } else must('mcopy', ['-o', '-n', '-p', '-m', '-i', at, path.join(rec.dir, k), `::/${k}`]);
    }
  }

  /** Take a letter away (unmount / write back, detach, remove the directory). Best effort. */
  function unmountLetter(letter: string): void {
    const rec = letters.get(letter);
    if (!rec) return;
    letters.delete(letter);
    try {
      if (rec.kind === 'fat-copy' && !RO) writeBack(rec);
      else if (rec.kind === 'ntfs' || rec.kind === 'vfat') umountDir(rec.dir);
    } finally {
      if (rec.dev) detach(rec.dev);
      if (exec('mountpoint', ['-q', rec.dir]).status !== 0) rmSync(rec.dir, { recursive: true, force: true });
    }
  }

  const letterOfStart = (start: number) => [...letters.values()].find((r) => r.start === start)?.letter;

  /** Run fn with the partition at `start` unmounted; it gets its letter back (at its new size) afterwards. */
  function offline<T>(start: number, fn: () => T): T {
    const letter = letterOfStart(start);
    if (letter) unmountLetter(letter);
    try {
      return fn();
    } finally {
      if (letter) {
        const l = layout();
        const p = partAt(l, start);
        if (p) mountLetter(letter, p, ssOf(l));
      }
    }
  }

  // --- focus -------------------------------------------------------------------------------------
  let disk: number | undefined;
  let focus: number | undefined; // start of the selected partition

  const volumes = (l: Layout) =>
    l.partitions.filter((p) => p.role !== 'extended' && p.role !== 'msr').sort((a, b) => (winNumber(l, a) ?? 0) - (winNumber(l, b) ?? 0));
  const volumeNumber = (l: Layout, p: Partition) => volumes(l).findIndex((q) => q.number === p.number) + 1;

  function needDisk(what: string): void {
    if (disk === undefined) throw new DiskpartFailure(`There is no disk selected to ${what}.\nSelect a disk and try again.`);
  }
  function selected(l: Layout, kind: 'partition' | 'volume' = 'partition'): Partition {
    const p = focus === undefined ? undefined : partAt(l, focus);
    if (!p) throw new DiskpartFailure(`There is no ${kind} selected.\nPlease select a ${kind} and try again.`);
    return p;
  }

  // --- commands ----------------------------------------------------------------------------------
  function ntfsMin(start: number, size: number, ss: number): number {
    return withLoop(
      image,
      (dev) => {
        const r = exec('ntfsresize', ['--info', '--force', '--no-progress-bar', dev]);
        const m = /You might resize at (\d+) bytes/.exec(r.out);
        if (!m)
          throw vds(
            `The volume cannot be shrunk: ntfsresize --info: ${
              r.out
                .trim()
                .split('\n')
                .filter((x) => /error|hibernat|unclean|dirty/i.test(x))[0] ?? 'no minimum size reported'
            }`,
          );
        return Number(m[1]);
      },
      { offset: start, size, ...(ss !== 512 ? { sectorSize: ss } : {}) },
    );
  }
  function ntfsResizeTo(start: number, deviceSize: number, bytes: number, ss: number): void {
    withLoop(
      image,
      (dev) => {
        const r = exec('ntfsresize', ['--force', '--force', '--no-progress-bar', '--size', String(bytes), dev], 'y\n');
        if (r.status !== 0)
          throw vds(
            `The volume could not be resized (ntfsresize exit ${r.status}): ${
              r.out
                .trim()
                .split('\n')
                .filter((x) => /error|fail|cannot|too small/i.test(x))[0] ?? r.out.trim().split('\n').pop()
            }`,
          );
      },
      { offset: start, size: deviceSize, ...(ss !== 512 ? { sectorSize: ss } : {}) },
    );
  }

  /** Change the selected partition's table entry to `newSize` bytes, keeping everything else. */
  function resizeEntry(l: Layout, p: Partition, newSize: number): void {
    tableTool(ssOf(l), 'sfdisk', ['-q', '-N', String(p.number), '@'], `,${newSize / ssOf(l)}\n`);
  }

  /** How far the selected partition may grow: the next partition (same level) or the end of the usable area. */
  function growLimit(l: Layout, p: Partition): number {
    const ss = ssOf(l);
    let limit: number;
    let others: number[];
    if (l.scheme === 'gpt') {
      limit = (l.gpt!.lastUsableLba + 1) * ss;
      others = l.partitions.map((q) => q.start);
    } else if (p.logical) {
      const ext = l.partitions.find((q) => q.role === 'extended')!;
      limit = end(ext);
      others = l.partitions.filter((q) => q.logical && q.number !== p.number).map((q) => l.mbr?.ebrOffsets.get(q.number) ?? q.start);
    } else {
      limit = Math.min(l.sizeBytes, 2 ** 32 * ss);
      others = l.partitions.filter((q) => !q.logical).map((q) => q.start);
    }
    for (const s of others) if (s >= end(p) && s < limit) limit = s;
    return limit;
  }

  function select(args: string[]): string {
    const what = args[0]?.toLowerCase();
    const arg = args[1];
    if (what === 'disk') {
      if (arg === undefined || !/^\d+$/.test(arg)) throw badArgs('select disk');
      if (Number(arg) !== DN) throw new DiskpartFailure('The disk you specified is not valid.\n\nThere is no disk selected.');
      if (disk !== DN) focus = undefined;
      disk = DN;
      return `Disk ${DN} is now the selected disk.`;
    }
    if (what === 'partition') {
      if (arg === undefined || !/^\d+$/.test(arg)) throw badArgs('select partition');
      if (disk === undefined) throw new DiskpartFailure('There is no disk selected to set the partition.\nPlease select a disk and try again.');
      const l = layout();
      const p = l.partitions.find((q) => q.role !== 'extended' && winNumber(l, q) === Number(arg));
      if (!p) throw new DiskpartFailure('The specified partition is not valid.\nPlease select a valid partition.\n\nThere is no partition selected.');
      focus = p.start;
      return `Partition ${Number(arg)} is now the selected partition.`;
    }
    if (what === 'volume') {
      if (arg === undefined) throw badArgs('select volume');
      const m = /^([A-Za-z]):?\\?$/.exec(arg);
      const rec = m ? letters.get(m[1]!.toUpperCase()) : undefined;
      const l = layout();
      const p = rec ? partAt(l, rec.start) : undefined;
      if (!p) throw new DiskpartFailure('The volume you selected is not valid or does not exist.');
      disk = DN;
      focus = p.start;
      return `Volume ${volumeNumber(l, p)} is the selected volume.`;
    }
    throw badArgs('select');
  }

  /** `list volume`'s table for these partitions (label from the layout's probe, cut to 11 characters). */
  function volumeTable(l: Layout, parts: Partition[]): string {
    const rows = parts.map((p) => {
      const fs = fsOf(p);
      return {
        cells: [
          `Volume ${volumeNumber(l, p)}`,
          letterOfStart(p.start) ?? '',
          (p.volume?.label ?? '').slice(0, 11),
          fs === 'ntfs' ? 'NTFS' : fs === 'fat' ? 'FAT32' : 'RAW',
          'Partition',
          diskpartSize(p.size),
          'Healthy',
          '',
        ],
        selected: p.start === focus,
      };
    });
    return table(
      ['Volume ###', 'Ltr', 'Label', 'Fs', 'Type', 'Size', 'Status', 'Info'],
      rows,
      [10, 3, 11, 5, 10, 7, 9, 8],
      ['l', 'c', 'l', 'l', 'l', 'r', 'l', 'l'],
    );
  }

  function detail(args: string[]): string {
    const what = args[0]?.toLowerCase();
    if (what === 'partition') {
      const l = layout();
      const p = selected(l);
      const a = p.attributes ?? 0n;
      const head =
        l.scheme === 'gpt'
          ? [
              `Partition ${winNumber(l, p)}`,
              `Type    : ${p.type}`,
              `Hidden  : ${a & (1n << 62n) ? 'Yes' : 'No'}`,
              `Required: ${a & 1n ? 'Yes' : 'No'}`,
              `Attrib  : 0X${a.toString(16).toUpperCase().padStart(16, '0')}`,
            ]
          : [
              `Partition ${winNumber(l, p)}`,
              `Type  : ${p.type.replace(/^0x/i, '').toUpperCase().padStart(2, '0')}`,
              'Hidden: No',
              `Active: ${p.active ? 'Yes' : 'No'}`,
            ];
      const vols = volumes(l).filter((q) => q.number === p.number);
      return [...head, `Offset in Bytes: ${p.start}`, '', vols.length ? volumeTable(l, vols) : 'There is no volume associated with this partition.'].join('\n');
    }
    if (what === 'disk') {
      needDisk('show the details of');
      const l = layout();
      return [
        RO || DN !== 0 ? 'Msft Virtual Disk' : 'Linux stand-in disk',
        `Disk ID: {${'0'.repeat(8)}-0000-0000-0000-${String(DN).padStart(12, '0')}}`,
        `Type   : ${DN !== 0 ? 'File Backed Virtual' : 'SATA'}`,
        'Status : Online',
        `Current Read-only State : ${RO ? 'Yes' : 'No'}`,
        'Read-only  : No',
        'Boot Disk  : No',
        '',
        volumes(l).length ? volumeTable(l, volumes(l)) : 'There are no volumes.',
      ].join('\n');
    }
    if (what !== 'volume') throw badArgs('detail');
    const l = layout();
    const p = selected(l, 'volume');
    const free = l.free.reduce((s, r) => s + (r.size >= MiB ? r.size : 0), 0);
    const t = table(
      ['Disk ###', 'Status', 'Size', 'Free', 'Dyn', 'Gpt'],
      [{ cells: [`Disk ${DN}`, 'Online', diskpartSize(l.sizeBytes), diskpartSize(free), '', l.scheme === 'gpt' ? '*' : ''], selected: true }],
      [8, 13, 7, 7, 3, 3],
      ['l', 'l', 'r', 'r', 'c', 'c'],
    );
    const rec = letters.get(letterOfStart(p.start) ?? '');
    const lines = [
      t,
      '',
      'Read-only              : No',
      `Hidden                 : ${(p.attributes ?? 0n) & (1n << 62n) ? 'Yes' : 'No'}`,
      `No Default Drive Letter: ${(p.attributes ?? 0n) & (1n << 63n) ? 'Yes' : 'No'}`,
      'Shadow Copy            : No',
      'Offline                : No',
      'BitLocker Encrypted    : No',
      'Installable            : Yes',
      '',
      `Volume Capacity        : ${diskpartSize(p.size).padStart(7)}`,
    ];
    if (rec && (rec.kind === 'ntfs' || rec.kind === 'vfat')) {
      const df = exec('df', ['-B1', '--output=avail', rec.dir]);
      const avail = Number(df.out.split('\n')[1]?.trim());
      if (Number.isFinite(avail)) lines.push(`Volume Free Space      : ${diskpartSize(avail).padStart(7)}`);
    }
    return lines.join('\n');
  }

  function list(args: string[]): string {
    const what = args[0]?.toLowerCase();
    const l = layout();
    if (what === 'disk') {
      const free = l.free.reduce((s, r) => s + (r.size >= MiB ? r.size : 0), 0);
      return table(
        ['Disk ###', 'Status', 'Size', 'Free', 'Dyn', 'Gpt'],
        [{ cells: [`Disk ${DN}`, 'Online', diskpartSize(l.sizeBytes), diskpartSize(free), '', l.scheme === 'gpt' ? '*' : ''], selected: disk === DN }],
        [8, 13, 7, 7, 3, 3],
        ['l', 'l', 'r', 'r', 'c', 'c'],
      );
    }
    if (what === 'partition') {
      needDisk('list partitions');
      const typeOf = (p: Partition) =>
        l.scheme === 'gpt'
          ? p.type === GPT_TYPE.ESP
            ? 'System'
            : p.type === GPT_TYPE.MSR
              ? 'Reserved'
              : p.type === GPT_TYPE.RECOVERY
                ? 'Recovery'
                : p.type === GPT_TYPE.BASIC_DATA
                  ? 'Primary'
                  : 'Unknown'
          : p.logical
            ? 'Logical'
            : 'Primary';
      const parts = l.partitions.filter((p) => p.role !== 'extended').sort((a, b) => (winNumber(l, a) ?? 0) - (winNumber(l, b) ?? 0));
      const rows = parts.map((p) => ({
        cells: [`Partition ${winNumber(l, p)}`, typeOf(p), diskpartSize(p.size), diskpartSize(p.start)],
        selected: p.start === focus,
      }));
      // The extended container is listed as "Partition 0" between the primaries and the logicals.
      const ext = l.partitions.find((p) => p.role === 'extended');
      if (ext)
        rows.splice(parts.filter((p) => !p.logical).length, 0, {
          cells: ['Partition 0', 'Extended', diskpartSize(ext.size), diskpartSize(ext.start)],
          selected: false,
        });
      return table(['Partition ###', 'Type', 'Size', 'Offset'], rows, [13, 16, 7, 7], ['l', 'l', 'r', 'r']);
    }
    if (what === 'volume') return volumeTable(l, volumes(l));
    throw badArgs('list');
  }

  function shrink(kv: Map<string, string>, flags: Set<string>): string {
    const l = layout();
    const p = selected(l, 'volume');
    if (fsOf(p) !== 'ntfs') throw vds('The volume cannot be shrunk because the file system does not support it.');
    const num = (k: string) => {
      const v = kv.get(k);
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw badArgs('shrink');
      return Number(v);
    };
    const desired = num('desired');
    const minimum = num('minimum');
    const ss = ssOf(l);
    // ntfsresize reads the volume unmounted (ntfs-3g may hold metadata not yet written).
    const r = offline(p.start, (): { query: string } | { by: number } => {
      const min = ntfsMin(p.start, p.size, ss);
      const maxMb = Math.max(0, Math.floor((p.size - Math.ceil(min / MiB) * MiB) / MiB));
      if (flags.has('querymax')) return { query: `The maximum number of reclaimable bytes is: ${diskpartSize(maxMb * MiB).padStart(7)}` };
      const by = desired === undefined ? maxMb : Math.min(desired, maxMb);
      if (by <= 0 || (minimum !== undefined && by < minimum) || (desired !== undefined && desired > maxMb && minimum === undefined)) {
        throw vds(
          `The specified shrink size is too big and will cause the volume to be smaller than the minimum volume size.\n(The volume can be shrunk by at most ${maxMb} MB.)`,
        );
      }
      const newSize = p.size - by * MiB;
      ntfsResizeTo(p.start, p.size, newSize, ss);
      resizeEntry(l, p, newSize);
      return { by };
    });
    if ('query' in r) return r.query;
    const by = r.by;
    return `DiskPart successfully shrunk the volume by: ${String(by).padStart(4)} MB`;
  }

  function extend(kv: Map<string, string>): string {
    const l = layout();
    const p = selected(l, 'volume');
    if (fsOf(p) !== 'ntfs') throw vds('The volume cannot be extended because the file system does not support it.');
    const sizeArg = kv.get('size');
    if (sizeArg !== undefined && !/^\d+$/.test(sizeArg)) throw badArgs('extend');
    const room = Math.floor((growLimit(l, p) - end(p)) / MiB) * MiB;
    const by = sizeArg === undefined ? room : Number(sizeArg) * MiB;
    if (by <= 0 || by > room) throw vds('There is not enough usable free space on specified disk(s) to extend the volume.');
    const newSize = p.size + by;
    offline(p.start, () => {
      resizeEntry(l, p, newSize);
      ntfsResizeTo(p.start, newSize, newSize, ssOf(l));
    });
    return 'DiskPart successfully extended the volume.';
  }

  function del(args: string[], flags: Set<string>): string {
    if (args[0]?.toLowerCase() !== 'partition') throw badArgs('delete');
    const l = layout();
    const p = selected(l);
    const isProtected = l.scheme === 'gpt' ? p.type === GPT_TYPE.ESP || p.type === GPT_TYPE.RECOVERY || p.type === GPT_TYPE.MSR : p.type === '0x27';
    if (isProtected && !flags.has('override')) throw vds('Cannot delete a protected partition without the force protected parameter set.');
    if (p.role === 'extended' && l.partitions.some((q) => q.logical)) throw vds('The extended partition is not empty.');
    const letter = letterOfStart(p.start);
    if (letter) unmountLetter(letter);
    tableTool(ssOf(l), 'sfdisk', ['-q', '--delete', '@', String(p.number)]);
    focus = undefined;
    return 'DiskPart successfully deleted the selected partition.';
  }

  function create(args: string[], kv: Map<string, string>): string {
    if (args[0]?.toLowerCase() !== 'partition') throw badArgs('create');
    const kind = args[1]?.toLowerCase();
    if (kind !== 'primary' && kind !== 'logical') throw badArgs('create partition');
    needDisk('create a partition on');
    const l = layout();
    const ss = ssOf(l);
    const gpt = l.scheme === 'gpt';
    if (gpt && kind === 'logical') throw vds('The operation is not supported on a GPT disk: logical partitions exist only on MBR disks.');
    const intArg = (k: string) => {
      const v = kv.get(k);
      if (v !== undefined && !/^\d+$/.test(v)) throw badArgs(`create partition ${kind}`);
      return v === undefined ? undefined : Number(v);
    };
    const sizeMb = intArg('size');
    const offsetKb = intArg('offset');
    let type: string;
    const id = kv.get('id');
    if (kind === 'logical' && id !== undefined) throw badArgs('create partition logical');
    if (gpt) {
      const g = id === undefined ? GPT_TYPE.BASIC_DATA : GUID_RE.exec(id)?.[1]?.toLowerCase();
      if (!g) throw badArgs('create partition primary');
      type = g;
    } else {
      const b = id === undefined ? '07' : /^(?:0x)?([0-9a-f]{1,2})$/i.exec(id)?.[1];
      if (!b) throw badArgs(`create partition ${kind}`);
      type = b;
    }
    // The region the partition must lie in, and what it must not overlap.
    const ext = l.partitions.find((p) => p.role === 'extended');
    let lo: number;
    let hi: number;
    let others: { start: number; size: number }[];
    if (gpt) {
      lo = l.gpt!.firstUsableLba * ss;
      hi = (l.gpt!.lastUsableLba + 1) * ss;
      others = l.partitions;
    } else if (kind === 'logical') {
      if (!ext) throw vds('There is no extended partition on the disk to create a logical drive in.');
      lo = ext.start + ss;
      hi = end(ext);
      others = l.partitions
        .filter((p) => p.logical)
        .map((p) => ({ start: l.mbr?.ebrOffsets.get(p.number) ?? p.start, size: end(p) - (l.mbr?.ebrOffsets.get(p.number) ?? p.start) }));
    } else {
      if (l.partitions.filter((p) => !p.logical).length >= 4) throw vds('The partition table on the disk is full: no more primary partitions can be created.');
      lo = ss;
      hi = Math.min(l.sizeBytes, 2 ** 32 * ss);
      others = l.partitions.filter((p) => !p.logical);
    }
    let start: number;
    let size: number;
    if (offsetKb !== undefined) {
      start = offsetKb * 1024;
      if (start % ss !== 0) throw vds('The specified offset is not aligned to the sector size of the disk.');
      const nextStart = Math.min(hi, ...others.map((o) => o.start).filter((s) => s >= start));
      size = sizeMb !== undefined ? sizeMb * MiB : Math.floor((nextStart - start) / ss) * ss;
    } else {
      // The first free area (1 MiB aligned) big enough.
      const taken = [...others].sort((a, b) => a.start - b.start);
      let at = Math.ceil(lo / MiB) * MiB;
      let found: { start: number; size: number } | undefined;
      for (const o of [...taken, { start: hi, size: 0 }]) {
        if (o.start >= at) {
          const avail = o.start - at;
          const want = sizeMb !== undefined ? sizeMb * MiB : Math.floor(avail / MiB) * MiB;
          if (want > 0 && want <= avail) {
            found = { start: at, size: want };
            break;
          }
        }
        at = Math.max(at, Math.ceil(end(o) / MiB) * MiB);
      }
      if (!found) throw vds('There is not enough usable space for this operation.');
      start = found.start;
      size = found.size;
    }
    if (size <= 0 || start < lo || start + size > hi || others.some((o) => start < end(o) && o.start < start + size)) {
      throw vds('There is not enough usable space for this operation.');
    }
    if (!gpt && kind === 'primary' && ext && start < end(ext) && ext.start < start + size) throw vds('There is not enough usable space for this operation.');
    const line = `start=${start / ss}, size=${size / ss}, type=${type}`;
    // sfdisk --append takes the first unused entry (GPT) / primary slot, or the next logical, and a random unique GUID.
    tableTool(ss, 'sfdisk', ['-q', '--append', '@'], line + '\n');
    const after = layout();
    const np = partAt(after, start);
    if (!np || np.size !== size) throw vds('The partition was not created as specified.');
    focus = start;
    return 'DiskPart succeeded in creating the specified partition.';
  }

  function gptAttributes(kv: Map<string, string>): string {
    const v = kv.get('attributes');
    if (v === undefined || !/^0x[0-9a-f]{1,16}$/i.test(v)) throw badArgs('gpt');
    const l = layout();
    if (l.scheme !== 'gpt') throw vds('The selected disk is not a GPT disk.');
    const p = selected(l);
    const a = BigInt(v);
    const names = sfdiskAttrs(a);
    if (names !== undefined) tableTool(ssOf(l), 'sfdisk', ['-q', '--part-attrs', '@', String(p.number), names]);
    else tableTool(ssOf(l), 'sgdisk', [`--attributes=${p.number}:=:${a.toString(16).padStart(16, '0')}`]);
    return 'DiskPart successfully set the GPT attributes to the partition.';
  }

  function setId(kv: Map<string, string>): string {
    const v = kv.get('id');
    if (v === undefined) throw badArgs('set');
    const l = layout();
    const p = selected(l);
    let t: string | undefined;
    if (l.scheme === 'gpt') t = GUID_RE.exec(v)?.[1];
    else t = /^(?:0x)?([0-9a-f]{1,2})$/i.exec(v)?.[1];
    if (!t) throw badArgs('set');
    if (l.scheme !== 'gpt' && (p.role === 'extended' || /^(0?5|0?f|85)$/i.test(t)))
      throw vds('The partition type cannot be changed to or from an extended partition.');
    tableTool(ssOf(l), 'sfdisk', ['-q', '--part-type', '@', String(p.number), t]);
    return 'DiskPart successfully set the partition ID.';
  }

  function format(kv: Map<string, string>): string {
    const l = layout();
    const p = selected(l, 'volume');
    const fs = (kv.get('fs') ?? 'ntfs').toLowerCase();
    const label = kv.get('label') ?? '';
    if (fs !== 'ntfs' && fs !== 'fat32') throw vds(`The file system ${fs.toUpperCase()} is not supported by this emulation.`);
    const ss = ssOf(l);
    offline(p.start, () =>
      withLoop(
        image,
        (dev) => {
          const r =
            fs === 'ntfs'
              ? exec('mkntfs', ['-Q', '-q', '-F', '-L', label, '-s', String(ss), '-p', String(p.start / ss), '-H', '255', '-S', '63', dev])
              : exec('mkfs.vfat', ['-F', '32', '-h', String(p.start / ss), ...(label ? ['-n', label.slice(0, 11).toUpperCase()] : []), dev]);
          if (r.status !== 0) throw vds(`The format failed: ${r.out.trim().split('\n').pop()}`);
        },
        { offset: p.start, size: p.size, ...(ss !== 512 ? { sectorSize: ss } : {}) },
      ),
    );
    return '  100 percent completed\n\nDiskPart successfully formatted the volume.';
  }

  function assign(kv: Map<string, string>): string {
    const l = layout();
    const p = selected(l, 'volume');
    const used = lettersInUse();
    let letter = kv.get('letter')?.replace(/:$/, '').toUpperCase();
    if (letter !== undefined && !/^[A-Z]$/.test(letter)) throw badArgs('assign');
    const current = letterOfStart(p.start);
    if (letter === undefined) letter = 'DEFGHIJKLMNOPQRSTUVWYZ'.split('').find((c) => !used.has(c));
    if (!letter || (used.has(letter) && letter !== current)) throw vds('The specified drive letter is not free to be assigned.');
    if (current === letter) return 'DiskPart successfully assigned the drive letter or mount point.';
    if (current) unmountLetter(current);
    mountLetter(letter, p, ssOf(l));
    return 'DiskPart successfully assigned the drive letter or mount point.';
  }

  function remove(kv: Map<string, string>, flags: Set<string>): string {
    const l = layout();
    const p = selected(l, 'volume');
    const current = letterOfStart(p.start);
    const letter = kv.get('letter')?.replace(/:$/, '').toUpperCase();
    if (letter !== undefined && letter !== current) throw vds('The specified drive letter is not valid.');
    if (!current && !flags.has('all')) throw vds('The volume does not have a drive letter or mount point.');
    if (current) unmountLetter(current);
    return 'DiskPart successfully removed the drive letter or mount point.';
  }

  /** The command's output, or 'exit'. */
  function execute(line: string): string {
    const w = words(line);
    const cmd = w[0]!.toLowerCase();
    const rest = w.slice(1);
    const kv = new Map<string, string>();
    const flags = new Set<string>();
    for (const t of rest) {
      const i = t.indexOf('=');
      if (i > 0) kv.set(t.slice(0, i).toLowerCase(), t.slice(i + 1));
      else flags.add(t.toLowerCase());
    }
    if (['shrink', 'extend', 'delete', 'create', 'gpt', 'set', 'format'].includes(cmd)) writable();
    switch (cmd) {
      case 'select':
      case 'sel':
        return select(rest);
      case 'detail':
        return detail(rest);
      case 'list':
        return list(rest);
      case 'shrink':
        return shrink(kv, flags);
      case 'extend':
        return extend(kv);
      case 'delete':
        return del(rest, flags);
      case 'create':
        return create(rest, kv);
      case 'gpt':
        return gptAttributes(kv);
      case 'set':
        return setId(kv);
      case 'format':
        return format(kv);
      case 'assign':
        return assign(kv);
      case 'remove':
        return remove(kv, flags);
      case 'rescan':
        return 'Please wait while DiskPart scans your configuration...\n\nDiskPart has finished scanning your configuration.';
      case 'exit':
        return 'exit';
      default:
        throw new DiskpartFailure(`Microsoft DiskPart version 10.0.19041.3636\n\nThe command "${w[0]}" is unknown: DiskPart did not recognize it.`, E_ARGS);
    }
  }

  // --- the host ----------------------------------------------------------------------------------
  function lettersInUse(): Set<string> {
    return new Set(['C', 'X', ...letters.keys()]);
  }

  let closed = false;
  function close(): void {
    if (closed) return;
    closed = true;
    for (const letter of [...letters.keys()]) {
      try {
        unmountLetter(letter);
      } catch {
        /* best effort */
      }
    }
    for (const dev of [...loops]) detach(dev);
  }

  try {
    const l0 = layout();
    for (const [letter, n] of Object.entries(opts.letters ?? {})) {
      const p = l0.partitions.find((q) => q.number === n);
      if (!p) throw new Error(`linuxDiskpartHost: no partition ${n} on ${image} for letter ${letter}`);
      mountLetter(letter.toUpperCase(), p, ssOf(l0));
    }
  } catch (e) {
    close();
    throw e;
  }

  const letterRoot = (l: string) => path.join(base, l.replace(/:.*$/, '').toUpperCase());

  return {
    log,
    close,
    diskPath(n: number): string {
      // Another disk is a Windows device name no file here has (reading it fails, as a disk that is not there).
      return n === DN ? image : `\\\\.\\PhysicalDrive${n}`;
    },
    letterRoot,
    letterOf(root: string): string | undefined {
      const d = /^([A-Za-z]):[\\/]?$/.exec(root);
      if (d) return d[1]!.toUpperCase();
      const rel = path.relative(base, path.resolve(root));
      return /^[A-Za-z]$/.test(rel) ? rel.toUpperCase() : undefined;
    },
    lettersInUse,
    async diskpart(script: string): Promise<CommandResult> {
      const out: string[] = [...BANNER];
      let exitCode = 0;
      if (closed) throw new Error('linuxDiskpartHost: closed');
      for (const raw of script.split(/\r?\n/)) {
        const line = raw.trim();
        if (!line || /^rem(\s|$)/i.test(line)) continue;
        log.push(line);
        const noerr = /(^|\s)noerr(\s|$)/i.test(line);
        try {
          const r = execute(line);
          if (r === 'exit') break;
          out.push('', r);
        } catch (e) {
          if (!(e instanceof DiskpartFailure)) {
            out.push('', 'Virtual Disk Service error:', `The operation failed: ${(e as Error).message}`);
            if (noerr) continue;
            exitCode = E_FAIL;
            break;
          }
          out.push('', e.message);
          if (noerr) continue;
          exitCode = e.exitCode;
          break;
        }
      }
      out.push('');
      return { commandLine: `diskpart /s ${path.join(base, 'diskpart-script.txt')}`, exitCode, output: out.join('\n') + '\n' };
    },
    async reagentc(args: string[]): Promise<CommandResult> {
      const commandLine = `reagentc ${args.join(' ')}`;
      const fail = (why: string): CommandResult => ({ commandLine, exitCode: 1, output: `REAGENTC.EXE: Operation failed: ${why}\n` });
      const a = args.map((x) => x.toLowerCase());
      if (a.length !== 3 || a[0] !== '/info' || a[1] !== '/target') return fail('only /info /target <L>:\\Windows is emulated');
      const m = /^([A-Za-z]):[\\/](.*)$/.exec(args[2]!);
      let root: string | undefined;
      let rest: string[];
      if (m) {
        root = letters.has(m[1]!.toUpperCase()) ? letterRoot(m[1]!) : undefined;
        rest = m[2]!.split(/[\\/]/);
      } else {
        const rel = path.relative(base, path.resolve(args[2]!)).split(path.sep);
        root = letters.has(rel[0]!.toUpperCase()) ? letterRoot(rel[0]!) : undefined;
        rest = rel.slice(1);
      }
      if (!root) return fail(`the target ${args[2]} is not on a volume with a drive letter`);
      const file = caseInsensitive(root, [...rest, 'System32', 'Recovery', 'ReAgent.xml']);
      if (!file || !statSync(file).isFile()) return fail('the Windows RE configuration file ReAgent.xml was not found');
      const cfg = parseReAgentXml(new Uint8Array(readFileSync(file)));
      const loc = cfg.winreLocation;
      const enabled = !!loc?.path && cfg.installState === 1;
      let location = '';
      if (enabled && loc?.offset !== undefined) {
        const l = layout();
        const p = partAt(l, loc.offset);
        if (p) location = `\\\\?\\GLOBALROOT\\device\\harddisk0\\partition${winNumber(l, p)}${loc.path}`;
      }
      const bcd = (cfg.winreBcd ?? '').replace(/[{}]/g, '');
      const output = [
        'Windows Recovery Environment (Windows RE) and system reset configuration',
        'Information:',
        '',
        `    Windows RE status:         ${enabled ? 'Enabled' : 'Disabled'}`,
        `    Windows RE location:       ${location}`,
        `    Boot Configuration Data (BCD) identifier: ${enabled ? bcd : '00000000-0000-0000-0000-000000000000'}`,
        '    Recovery image location:   ',
        '    Recovery image index:      0',
        '    Custom image location:     ',
        '    Custom image index:        0',
        '',
        'REAGENTC.EXE: Operation Successful.',
        '',
      ].join('\n');
      return { commandLine, exitCode: 0, output };
    },
  };
}
