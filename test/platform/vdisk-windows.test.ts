// The diskpart side of `--image` on Windows/WinPE (issue #18, item 4), pure parts: the attach and
// detach scripts byte for byte against golden files (reviewed against diskpart's `select vdisk`,
// `attach vdisk [readonly]`, `detach vdisk` syntax), the file= argument that cannot inject a
// command, `list disk` and `detail disk` read in English and German (cp850), and how attachVdisk
// answers what diskpart says: the new disk found as the one new `list disk` row, a failed attach
// refused in one line, an ambiguous one detached again, and the exit backstop detaching what the
// command did not. The end-to-end runs on real VHD/VHDX files are in test/repair/vdisk-windows.test.ts.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RefusedError, UsageError } from '../../src/shared/errors.js';
import { diskNumbersOf, diskVolumesOf, vdiskAttachScript, vdiskDetachScript, vdiskFileArg } from '../../src/platform/diskpart.js';
import { decodeOem } from '../../src/platform/windows.js';
import { attachVdisk, checkVdiskFile, detachAllVdisksSync } from '../../src/platform/vdisk-windows.js';
import type { CommandResult, WinHost } from '../../src/platform/winhost.js';
import { toolsReason } from '../helpers/env.js';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const golden = (name: string) => readFileSync(path.join(GOLDEN, name), 'latin1');

const BANNER = ['', 'Microsoft DiskPart version 10.0.22621.1', '', 'Copyright (C) Microsoft Corporation.', 'On computer: MININT-8F2KQ1', ''];
const LIST_DISK_BEFORE = [
  ...BANNER,
  '  Disk ###  Status         Size     Free     Dyn  Gpt',
  '  --------  -------------  -------  -------  ---  ---',
  '  Disk 0    Online          476 GB  1024 KB        *',
  '  Disk 1    No Media           0 B      0 B',
  '',
].join('\r\n');
const ATTACHED = [
  ...BANNER,
  'DiskPart successfully selected the virtual disk file.',
  '',
  '  100 percent completed',
  '',
  'DiskPart successfully attached the virtual disk file.',
  '',
  '  Disk ###  Status         Size     Free     Dyn  Gpt',
  '  --------  -------------  -------  -------  ---  ---',
  '  Disk 0    Online          476 GB  1024 KB        *',
  '  Disk 1    No Media           0 B      0 B',
  '* Disk 2    Online           16 GB      0 B        *',
  '',
].join('\r\n');
const DETAIL_DISK = [
  ...BANNER,
  'Disk 2 is now the selected disk.',
  '',
  'Msft Virtual Disk',
  'Disk ID: {9E1B5A2C-4F6D-4C1A-8B3E-2D7F1A6C5B40}',
  'Type   : File Backed Virtual',
  'Status : Online',
  'Path   : 0',
  'Target : 0',
  'LUN ID : 0',
  'Location Path : UNAVAILABLE',
  'Current Read-only State : Yes',
  'Read-only  : Yes',
  'Boot Disk  : No',
  '',
  '  Volume ###  Ltr  Label        Fs     Type        Size     Status     Info',
  '  ----------  ---  -----------  -----  ----------  -------  ---------  --------',
  '  Volume 5     F   Windows 10   NTFS   Partition     15 GB  Healthy',
  '  Volume 6                      FAT32  Partition    100 MB  Healthy    Hidden',
  '  Volume 7         Windows RE   NTFS   Partition    570 MB  Healthy    Hidden',
  '',
].join('\r\n');
// German diskpart, as cp850 bytes ("Datentr\u00e4ger", "Gr\u00f6\u00dfe", "Bst" for the letter column).
const DE = [
  '  Datentr\u00e4ger ###  Status         Gr\u00f6\u00dfe    Frei     Dyn  GPT',
  '  ---------------  -------------  -------  -------  ---  ---',
  '  Datentr\u00e4ger 0    Online          476 GB  1024 KB        *',
  '* Datentr\u00e4ger 3    Online           16 GB      0 B        *',
  '',
  '  Volume ###  Bst  Bezeichnung  DS     Typ         Gr\u00f6\u00dfe    Status     Info',
  '  ----------  ---  -----------  -----  ----------  -------  ---------  --------',
  '  Volume 8     G   Daten B\u00fcro   NTFS   Partition     15 GB  Fehlerfre',
  '  Volume 9         Windows RE   NTFS   Partition    570 MB  Fehlerfre  Versteckt',
  '',
].join('\r\n');
const CP850: Record<string, number> = { '\u00e4': 0x84, '\u00f6': 0x94, '\u00fc': 0x81, '\u00df': 0xe1 };
const cp850 = (s: string) => new Uint8Array([...s].map((ch) => (ch.charCodeAt(0) < 0x80 ? ch.charCodeAt(0) : CP850[ch]!)));

describe('diskpart scripts for a VHD/VHDX (golden files)', () => {
  it('attach read-only, attach writable, detach: byte-identical to test/platform/golden/vdisk-*.diskpart.txt (CRLF)', () => {
    expect(vdiskAttachScript('C:\\lab\\Win 10 (22H2).vhdx', true)).toBe(golden('vdisk-attach-readonly.diskpart.txt'));
    expect(vdiskAttachScript('\\\\lab-nas\\images\\win10.vhd', false)).toBe(golden('vdisk-attach-writable.diskpart.txt'));
    expect(vdiskDetachScript('C:\\lab\\Win 10 (22H2).vhdx')).toBe(golden('vdisk-detach.diskpart.txt'));
  });

  it('file=: a quote, a line break or a control character is refused (it would end the command and start another); a relative path is a usage error', () => {
    for (const bad of ['C:\\lab\\a"b.vhdx', 'C:\\lab\\x.vhdx\r\nselect disk 0\r\nclean', 'C:\\lab\\tab\there.vhdx', 'C:\\lab\\x\u007f.vhdx']) {
      const e = (() => {
        try {
          vdiskFileArg(bad);
        } catch (x) {
          return x;
        }
      })();
      expect(e, bad).toBeInstanceOf(RefusedError);
      expect((e as RefusedError).code).toBe('vdisk-path');
    }
    expect(() => vdiskFileArg('lab\\win10.vhdx')).toThrow(UsageError);
    expect(vdiskFileArg('D:\\Images\\Win 11.vhdx')).toBe('file="D:\\Images\\Win 11.vhdx"');
  });
});

describe('list disk and detail disk', () => {
  it('English: the disk numbers before and after the attach, the volumes of the attached disk (letters, a label with a space, no letter)', () => {
    expect(diskNumbersOf(LIST_DISK_BEFORE)).toEqual([0, 1]);
    expect(diskNumbersOf(ATTACHED)).toEqual([0, 1, 2]);
    expect(diskVolumesOf(DETAIL_DISK)).toEqual([
      { number: 5, letter: 'F', label: 'Windows 10', fs: 'NTFS', size: 15 * 1024 ** 3 },
      { number: 6, label: '', fs: 'FAT32', size: 100 * 1024 ** 2 },
      { number: 7, label: 'Windows RE', fs: 'NTFS', size: 570 * 1024 ** 2 },
    ]);
    // No table: nothing, not a guess.
    expect(diskNumbersOf('DiskPart successfully attached the virtual disk file.')).toEqual([]);
    expect(diskVolumesOf(LIST_DISK_BEFORE)).toEqual([]);
  });

  it('German in cp850 bytes through the OEM decoder: the same by column position', () => {
    const text = decodeOem(cp850(DE), 850);
    expect(diskNumbersOf(text)).toEqual([0, 3]);
    expect(diskVolumesOf(text)).toEqual([
      { number: 8, letter: 'G', label: 'Daten B\u00fcro', fs: 'NTFS', size: 15 * 1024 ** 3 },
      { number: 9, label: 'Windows RE', fs: 'NTFS', size: 570 * 1024 ** 2 },
    ]);
  });
});

const qemuReason = toolsReason('qemu-img');

/** A host that answers each diskpart script with the next canned output (what diskpart printed), recording the scripts. */
function replayHost(outputs: { match: RegExp; exitCode?: number; output: string }[]): WinHost & { scripts: string[]; sync: string[] } {
  const scripts: string[] = [];
  const sync: string[] = [];
  const answer = (script: string): CommandResult => {
    const o = outputs.find((x) => x.match.test(script));
    if (!o) throw new Error(`no canned output for ${JSON.stringify(script)}`);
    return { commandLine: 'diskpart /s script.txt', exitCode: o.exitCode ?? 0, output: o.output.replace(/\r\n/g, '\n') };
  };
  return {
    scripts,
    sync,
    async diskpart(script) {
      scripts.push(script);
      return answer(script);
    },
    diskpartSync(script) {
      sync.push(script);
      return answer(script);
    },
    diskPath: (n) => `\\\\.\\PhysicalDrive${n}`,
    letterRoot: (l) => `${l}:\\`,
    letterOf: () => undefined,
    lettersInUse: () => new Set(['C', 'X']),
  };
}

describe.skipIf(!!qemuReason)(`attachVdisk: what diskpart says, answered${qemuReason ? ` (skipped: ${qemuReason})` : ''}`, () => {
  let tmp = '';
  let vhdx = '';
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-vdw-'));
    vhdx = path.join(tmp, 'win10.vhdx');
    execFileSync('qemu-img', ['create', '-q', '-f', 'vhdx', vhdx, '1G']);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const DETACHED = { match: /detach vdisk/, output: 'DiskPart successfully detached the virtual disk file.' };

  it('the attached disk is the one new row of list disk; its volumes from detail disk; detach removes the letters it gave', async () => {
    const host = replayHost([
      { match: /attach vdisk readonly/, output: ATTACHED },
      { match: /^list disk/, output: LIST_DISK_BEFORE },
      { match: /detail disk/, output: DETAIL_DISK },
      { match: /assign letter=W/, output: 'DiskPart successfully assigned the drive letter or mount point.' },
      { match: /remove letter=W/, output: 'DiskPart successfully removed the drive letter or mount point.' },
      DETACHED,
    ]);
    const a = await attachVdisk(host, vhdx, { readOnly: true });
    expect([a.disk, a.diskPath, a.format]).toEqual([2, '\\\\.\\PhysicalDrive2', 'vhdx']);
    const vols = await a.volumes();
    expect(await a.letterFor(vols[0]!)).toBe('F');
    expect(await a.letterFor(vols[2]!)).toBe('W');
    expect(host.scripts.at(-1)).toBe('select disk 2\r\nselect volume 7\r\nassign letter=W\r\n');
    await a.detach();
    await a.detach(); // idempotent
    expect(host.scripts.slice(-2)).toEqual(['select volume W\r\nremove letter=W\r\n', vdiskDetachScript(vhdx)]);
    expect(detachAllVdisksSync()).toEqual([]);
  });

  it('diskpart cannot attach (open in Hyper-V): one line, code vdisk-attach, nothing to detach', async () => {
    const host = replayHost([
      {
        match: /attach vdisk/,
        exitCode: 0x80070020,
        output: 'Virtual Disk Service error:\r\nThe process cannot access the file because it is being used by another process.\r\n',
      },
      { match: /^list disk/, output: LIST_DISK_BEFORE },
    ]);
    const e = await attachVdisk(host, vhdx, { readOnly: true }).catch((x: unknown) => x);
    expect((e as RefusedError).code).toBe('vdisk-attach');
    expect((e as Error).message).toMatch(/being used by another process.*Hyper-V.*Nothing was written$/);
    expect((e as Error).message).not.toMatch(/\n/);
    expect(host.scripts.some((s) => /detach/.test(s))).toBe(false);
  });

  it('two new disks after the attach (another appeared at the same time): detached again and refused, nothing read', async () => {
    const host = replayHost([
      { match: /attach vdisk/, output: ATTACHED.replace('* Disk 2', '  Disk 3    Online           16 GB      0 B        *\r\n* Disk 2') },
      { match: /^list disk/, output: LIST_DISK_BEFORE },
      DETACHED,
    ]);
    const e = await attachVdisk(host, vhdx, { readOnly: false }).catch((x: unknown) => x);
    expect((e as RefusedError).code).toBe('vdisk-attach');
    expect((e as Error).message).toMatch(/shows 2 new disks/);
    expect(host.scripts.at(-1)).toBe(vdiskDetachScript(vhdx));
    expect(host.scripts.some((s) => /detail disk/.test(s))).toBe(false);
  });

  it('the exit backstop detaches (synchronously) what the command did not', async () => {
    const host = replayHost([{ match: /attach vdisk/, output: ATTACHED }, { match: /^list disk/, output: LIST_DISK_BEFORE }, DETACHED]);
    await attachVdisk(host, vhdx, { readOnly: true });
    expect(detachAllVdisksSync()).toEqual([vhdx]);
    expect(host.sync).toEqual([vdiskDetachScript(vhdx)]);
    expect(detachAllVdisksSync()).toEqual([]);
  });

  it('what Windows cannot attach is refused by its content before diskpart runs: qcow2, raw; a missing file', () => {
    const q = path.join(tmp, 'vm.vhdx'); // named .vhdx, but a qcow2
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', q, '1G']);
    expect(() => checkVdiskFile(q)).toThrow(/is a qcow2 virtual disk .*: on Windows\/WinPE wufix attaches VHD and VHDX with diskpart only; convert it/);
    const raw = path.join(tmp, 'disk.img');
    execFileSync('truncate', ['-s', '64M', raw]);
    expect(() => checkVdiskFile(raw)).toThrow(/is a raw disk image/);
    expect(() => checkVdiskFile(path.join(tmp, 'absent.vhdx'))).toThrow(/does not exist/);
    expect(checkVdiskFile(vhdx)).toMatchObject({ format: 'vhdx', virtualSize: 1024 ** 3 });
  });
});
