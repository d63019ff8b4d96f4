// A WinHost for tests on Linux that attaches VHD and VHDX files as diskpart does (issue #18, item 4):
// `select vdisk file="..."`, `attach vdisk [readonly]`, `detach vdisk`, and `list disk` showing the
// host's own disk 0 and the attached one as disk 1. The attached disk is real: a fixed VHD is the raw
// disk before its footer on a loop device (read-only for `readonly`), a dynamic VHD or a VHDX the raw
// disk QEMU exports (src/platform/qemu.ts attachVirtualDisk, read-only or writable); every other
// command on disk 1 is carried out by linuxDiskpartHost (test/helpers/diskpart-host.ts) on that raw
// disk, read-only after `attach vdisk readonly`. On attach, volumes get letters as Windows automount
// gives them (basic data partitions, from D:). What is not a VHD/VHDX fails as diskpart fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { readDiskLayout } from '../../src/disk/blockdev.js';
import { GPT_TYPE } from '../../src/disk/roles.js';
import { attachVirtualDisk, containerOf, type AttachedDisk } from '../../src/platform/qemu.js';
import { Cleanup } from '../../src/platform/linux.js';
import type { CommandResult } from '../../src/platform/winhost.js';
import { diskpartSize, linuxDiskpartHost, type DiskpartHost } from './diskpart-host.js';

const E_FAIL = 0x80004005;
const BANNER = ['', 'Microsoft DiskPart version 10.0.19041.3636', '', 'Copyright (C) Microsoft Corporation.', 'On computer: MINWINPC'];
/** The host's own disk (never touched): what `list disk` shows before anything is attached. */
const HOST_DISK = { size: 256 * 1024 ** 3, free: 1024 * 1024 };

interface Attachment {
  file: string;
  readOnly: boolean;
  raw: string;
  inner: DiskpartHost;
  loop?: string;
  qemu?: AttachedDisk;
  cleanup: Cleanup;
}

export type VdiskHost = DiskpartHost & {
  /** The file attached now, if any. */
  attached(): string | undefined;
  /** Every `attach vdisk` so far: file and whether read-only. */
  attaches: { file: string; readOnly: boolean }[];
};

class Failure extends Error {}

export function linuxVdiskHost(opts: { base: string }): VdiskHost {
  const base = path.resolve(opts.base);
  mkdirSync(base, { recursive: true });
  const log: string[] = [];
  const attaches: { file: string; readOnly: boolean }[] = [];
  let selected: string | undefined;
  let att: Attachment | undefined;

  const sh = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
    return r.stdout.trim();
  };

  /** Letters Windows automount would give: basic data partitions (GPT without "no drive letter"), MBR 07/0B/0C, from D:. */
  function automount(raw: string): Record<string, number> {
    const l = readDiskLayout(raw);
    const out: Record<string, number> = {};
    const free = 'DEFGHIJKLMNOPQRSTUVWYZ'.split('');
    for (const p of l.partitions) {
      const basic = l.scheme === 'gpt' ? p.type === GPT_TYPE.BASIC_DATA && !((p.attributes ?? 0n) & (1n << 63n)) : /^0x(07|0b|0c)$/i.test(p.type);
      if (basic && (p.volume?.fs === 'ntfs' || p.volume?.fs?.startsWith('fat'))) out[free.shift()!] = p.number;
    }
    return out;
  }

  function attach(readOnly: boolean): string {
    if (!selected) throw new Failure('There is no virtual disk selected.\n\nPlease select a virtual disk and try again.');
    if (att) throw new Failure('Virtual Disk Service error:\nThe virtual disk is already attached.');
    const c = containerOf(selected);
    if (c.format !== 'vhd' && c.format !== 'vhdx')
      throw new Failure('Virtual Disk Service error:\nThe file or directory is corrupted and unreadable.\n(The virtual disk format is not recognized.)');
    const cleanup = new Cleanup();
    const a: Partial<Attachment> = { file: selected, readOnly, cleanup };
    try {
      if (c.rawBytes !== undefined) {
        a.loop = sh('losetup', ['--find', '--show', '--sizelimit', String(c.rawBytes), ...(readOnly ? ['--read-only'] : []), selected]);
        a.raw = a.loop;
      } else {
        a.qemu = attachVirtualDisk(selected, { writable: !readOnly, container: c }, cleanup);
        a.raw = a.qemu.rawPath;
      }
      a.inner = linuxDiskpartHost(a.raw, { base, disk: 1, readOnly, letters: automount(a.raw) });
    } catch (e) {
      release(a);
      throw new Failure(`Virtual Disk Service error:\nThe operation failed: ${(e as Error).message}`);
    }
    att = a as Attachment;
    attaches.push({ file: selected, readOnly });
    return '  100 percent completed\n\nDiskPart successfully attached the virtual disk file.';
  }

  function release(a: Partial<Attachment>): void {
    try {
      a.inner?.close();
    } finally {
      try {
        a.qemu?.detach();
      } finally {
        a.cleanup?.release();
        if (a.loop) spawnSync('losetup', ['--detach', a.loop]);
      }
    }
  }

  function detach(): string {
    if (!selected) throw new Failure('There is no virtual disk selected.\n\nPlease select a virtual disk and try again.');
    if (!att || path.resolve(att.file) !== path.resolve(selected)) throw new Failure('Virtual Disk Service error:\nThe virtual disk is not attached.');
    const a = att;
    att = undefined;
    release(a);
    return 'DiskPart successfully detached the virtual disk file.';
  }

  function listDisk(): string {
    const rows = [['Disk 0', 'Online', diskpartSize(HOST_DISK.size), diskpartSize(HOST_DISK.free), '', '*']];
    if (att) {
      const l = readDiskLayout(att.raw);
      rows.push(['Disk 1', 'Online', diskpartSize(l.sizeBytes), '0 B', '', l.scheme === 'gpt' ? '*' : '']);
    }
    const w = [8, 13, 7, 7, 3, 3];
    const fmt = (cells: string[], sel = false) =>
      (sel ? '* ' : '  ') +
      cells
        .map((c, i) => (i === 2 || i === 3 ? c.padStart(w[i]!) : c.padEnd(w[i]!)))
        .join('  ')
        .trimEnd();
    return [fmt(['Disk ###', 'Status', 'Size', 'Free', 'Dyn', 'Gpt']), '  ' + w.map((n) => '-'.repeat(n)).join('  '), ...rows.map((r) => fmt(r))].join('\n');
  }

  /** One line of our own (vdisk commands, list disk), or undefined when disk 1's host carries it out. */
  function own(line: string): string | undefined {
    const vd = /^select\s+vdisk\s+file\s*=\s*"([^"]*)"\s*$/i.exec(line);
    if (vd) {
      const f = vd[1]!;
      if (!existsSync(f)) throw new Failure('Virtual Disk Service error:\nThe system cannot find the file specified.');
      selected = f;
      return 'DiskPart successfully selected the virtual disk file.';
    }
    if (/^attach\s+vdisk(\s+readonly)?\s*$/i.test(line)) return attach(/readonly/i.test(line));
    if (/^detach\s+vdisk\s*$/i.test(line)) return detach();
    if (/^list\s+disk\s*$/i.test(line)) return listDisk();
    if (/^select\s+disk\s+0\s*$/i.test(line)) throw new Failure('wufix test host: disk 0 is the host system disk and is never touched');
    return undefined;
  }

  async function diskpart(script: string): Promise<CommandResult> {
    const out: string[] = [...BANNER];
    let exitCode = 0;
    for (const raw of script.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || /^rem(\s|$)/i.test(line)) continue;
      log.push(line);
      try {
        const r = own(line);
        if (r !== undefined) {
          out.push('', r);
          continue;
        }
      } catch (e) {
        out.push('', (e as Error).message);
        exitCode = E_FAIL;
        break;
      }
      if (!att) {
        out.push('', 'There is no disk selected.\nSelect a disk and try again.');
        exitCode = E_FAIL;
        break;
      }
      const r = await att.inner.diskpart(line);
      out.push(...r.output.split('\n').slice(BANNER.length));
      if (r.exitCode !== 0) {
        exitCode = r.exitCode ?? E_FAIL;
        break;
      }
    }
    out.push('');
    return { commandLine: `diskpart /s ${path.join(base, 'diskpart-script.txt')}`, exitCode, output: out.join('\n') + '\n' };
  }

  /** Only what the exit backstop sends: select vdisk + detach vdisk. */
  function diskpartSync(script: string): CommandResult {
    const out: string[] = [...BANNER];
    let exitCode = 0;
    for (const raw of script.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || /^rem(\s|$)/i.test(line)) continue;
      log.push(line);
      try {
        if (!/^(select|detach)\s+vdisk/i.test(line)) throw new Failure(`wufix test host: "${line}" is not run synchronously`);
        out.push('', own(line)!);
      } catch (e) {
        out.push('', (e as Error).message);
        exitCode = E_FAIL;
        break;
      }
    }
    return { commandLine: 'diskpart /s (sync)', exitCode, output: out.join('\n') + '\n' };
  }

  const letterRoot = (l: string) => path.join(base, l.replace(/:.*$/, '').toUpperCase());
  return {
    log,
    attaches,
    attached: () => att?.file,
    close() {
      if (att) {
        const a = att;
        att = undefined;
        release(a);
      }
    },
    diskpart,
    diskpartSync,
    diskPath: (n) => (n === 1 && att ? att.raw : `\\\\.\\PhysicalDrive${n}`),
    letterRoot,
    letterOf(root: string) {
      const d = /^([A-Za-z]):[\\/]?$/.exec(root);
      if (d) return d[1]!.toUpperCase();
      const rel = path.relative(base, path.resolve(root));
      return /^[A-Za-z]$/.test(rel) ? rel.toUpperCase() : undefined;
    },
    lettersInUse: () => (att ? att.inner.lettersInUse() : new Set(['C', 'X'])),
    reagentc: async (args) =>
      att?.inner.reagentc ? att.inner.reagentc(args) : { commandLine: `reagentc ${args.join(' ')}`, exitCode: 1, output: 'REAGENTC.EXE: Operation failed\n' },
  };
}
