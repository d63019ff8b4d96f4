// The WinRE rebuild end to end on real disk images (issue #6): sgdisk/sfdisk tables, mkntfs/ntfs-3g
// volumes, a wimcapture Winre.wim, the fixture BCD store. `wufix repair --image --only winre --yes`,
// then independent checks (sgdisk -v, sgdisk -i, blkid, df on an ntfs-3g mount, python3-hivex on the
// BCD, ntfsresize --info, ntfsfix --no-action, sha256 of the WinRE files and the OS tree), scan, undo.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync, symlinkSync, statSync, lstatSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync, execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, withMountedNtfs } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, gptEnd, MiB, GiB, run, onDisk } from '../helpers/disk-images.js';
import { buildWinreDisk, readImageLayout, laptopParts } from '../helpers/winre-images.js';
import { runCli, CLI } from '../helpers/cli.js';
import { treeDiff } from '../helpers/tree.js';
import { dotnetWintrust, server2022Winre, win10Winre } from '../scan/scenarios.js';
import type { PartSpec } from '../helpers/winre-images.js';
import { RE_TYPE, loops, guidHex, withLoop, bcdOf, bcdDevicesHolding, osTree, regionSha, volumeSize, readSector, sha256Buf } from '../helpers/winre-checks.js';
import type { ScanReport } from '../../src/model/scan.js';
import type { Plan } from '../../src/model/plan.js';
import { applyWithDisk } from '../../src/winre/run.js';
import { withImageRoot } from '../../src/cli/targets.js';
import { RefusedError, type WufixError } from '../../src/shared/errors.js';
import { runCliWithSignals } from '../helpers/cli-signals.js';
import { loopsOf } from '../helpers/own.js';

const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';
/** The newest run beside an image: its id and the phase each journal level recorded. */
function runState(image: string): { id: string; file: string; disk: string } {
  const jr = `${image}.wufix-journal`;
  const id = readdirSync(jr)
    .filter((d) => existsSync(path.join(jr, d, 'plan.json')))
    .sort()
    .pop()!;
  const phase = (f: string) => (JSON.parse(readFileSync(path.join(jr, id, f), 'utf8')) as { phase: string }).phase;
  return { id, file: phase('state.json'), disk: phase(path.join('disk', 'state.json')) };
}
const journalList = (image: string) => runCli(['journal', 'list', '--journal', `${image}.wufix-journal`]).stdout;
/** The plan `repair --json` shows (a dry run), to apply later from this process. */
const planOf = (image: string): Plan => {
  const r = runCli(['repair', '--image', image, '--only', 'winre', '--json']);
  if (r.status !== 0) throw new Error(`dry run failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { plan: Plan }).plan;
};
/** A volume of an image mounted read-only (loop device and mount released afterwards). */
function withReadOnlyNtfs<T>(image: string, offset: number, size: number, fn: (mnt: string) => T): T {
  const mnt = mkdtempSync(path.join(path.dirname(image), 'ro-'));
  const dev = run('losetup', ['--find', '--show', '--read-only', '--offset', String(offset), '--sizelimit', String(size), image]).trim();
  try {
    run('ntfs-3g', ['-o', 'ro', dev, mnt]);
    try {
      return fn(mnt);
    } finally {
      run('umount', [mnt]);
    }
  } finally {
    run('losetup', ['--detach', dev]);
    rmSync(mnt, { recursive: true, force: true });
  }
}

const reason = skipReason(
  sharedReason(),
  toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'sfdisk', 'wimcapture', 'ntfsresize', 'ntfsfix', 'blkid'),
  diskToolsReason(),
);

describe.skipIf(!!reason)('winre: rebuild the recovery partition on disk images', () => {
  let tmp = '';
  let tree = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-winre-'));
    tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, dotnetWintrust);
  }, 120_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A Windows tree with WinRE on the Windows volume (no recovery partition): InstallState 0, boot.sdi in Boot\DVD\PCAT. */
  const treeWithoutRecovery = async (name: string) => {
    const t = path.join(tmp, name);
    await buildWindowsTree(t, { ...win10Winre, reagent: { installState: 0 } });
    mkdirSync(path.join(t, 'Windows', 'Boot', 'DVD', 'PCAT'), { recursive: true });
    writeFileSync(path.join(t, 'Windows', 'Boot', 'DVD', 'PCAT', 'boot.sdi'), Buffer.alloc(3 * MiB, 1));
    return t;
  };

  it('Windows 10 22H2 GPT, recovery after the OS with 80 MB free: rebuilt in place, verified independently, undone byte for byte', () => {
    const size = 8 * GiB;
    const recStart = gptEnd(size) - 570 * MiB;
    const img = buildWinreDisk(path.join(tmp, 'w10.img'), {
      scheme: 'gpt',
      size,
      tree,
      parts: laptopParts(size, 80 * MiB, '3f0e2d1c-0b0a-4908-8706-050403020100'),
    });
    const loopsBefore = loops(tmp);
    const tablePrint = () => run('sgdisk', ['-p', img.file]);
    const before = {
      osVolume: withLoop(img.file, img.os.start, img.os.size, volumeSize),
      osBoot: readSector(img.file, img.os.start),
      osTail: regionSha(img.file, img.os.start + img.os.size - MiB, MiB),
      table: tablePrint(),
      rec: regionSha(img.file, recStart, 570 * MiB),
      bcd: sha256Buf(bcdOf(img, tmp)),
      tree: osTree(img, img.os.size),
    };

    // scan first: the finding is there, with its numbers.
    const s0 = runCli(['scan', '--image', img.file, '--json']);
    const t0 = (JSON.parse(s0.stdout) as ScanReport).targets[0]!;
    expect(t0.findings.map((f) => f.id)).toContain('winre-too-small');

    // Dry run: the plan, nothing written.
    const dry = runCli(['repair', '--image', img.file, '--only', 'winre']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/rebuild the WinRE partition/);
    expect(dry.stdout).toMatch(/shrink the Windows partition 3 by/);
    expect(tablePrint()).toBe(before.table);

    const r = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(loops(tmp)).toEqual(loopsBefore);

    // sgdisk: clean, and the new partition as Windows makes it.
    expect(run('sgdisk', ['-v', img.file])).toMatch(/No problems found/);
    const after = readImageLayout(img.file);
    const np = after.partitions.find((p) => p.number === 4)!;
    const info = run('sgdisk', ['-i', '4', img.file]);
    expect(info.toLowerCase()).toContain(`partition guid code: ${RE_TYPE}`);
    expect(info).toMatch(/Attribute flags: 8000000000000001/);
    expect(info.toLowerCase()).toContain('unique guid: 3f0e2d1c-0b0a-4908-8706-050403020100');
    expect(np.size).toBeGreaterThanOrEqual(GiB);
    expect(np.start + np.size).toBe(recStart + 570 * MiB);
    const osAfter = after.partitions.find((p) => p.number === 3)!;
    expect(osAfter.start + osAfter.size).toBe(np.start);

    // The new volume: label, free space, the WinRE files unchanged.
    withLoop(img.file, np.start, np.size, (dev) => {
      expect(run('blkid', ['-o', 'value', '-s', 'LABEL', dev]).trim()).toBe('Windows RE tools');
      expect(run('blkid', ['-o', 'value', '-s', 'TYPE', dev]).trim()).toBe('ntfs');
    });
    withMountedNtfs(img.file, np.start, np.size, (m) => {
      const free = Number(run('df', ['-B1', '--output=avail', m]).split('\n')[1]!.trim());
      expect(free).toBeGreaterThanOrEqual(250 * MiB);
      expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'Winre.wim'))).toBe(img.wimSha256);
      expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'boot.sdi'))).toBe(img.sdiSha256);
    });

    // The OS volume: resizable and clean, every file as it was apart from ReAgent.xml.
    withLoop(img.file, osAfter.start, osAfter.size, (dev) => {
      expect(run('ntfsresize', ['--info', '--force', '--no-progress-bar', dev])).toMatch(/You might resize at/);
      expect(run('ntfsfix', ['--no-action', dev])).not.toMatch(/BAD|corrupt/i);
    });
    const treeAfter = osTree(img, osAfter.size);
    expect(treeDiff(before.tree, treeAfter)).toEqual(['Windows/System32/Recovery/ReAgent.xml']);

    // ReAgent.xml and the BCD point at the new partition (offset; disk + partition GUIDs by python3-hivex).
    const reagent = withMountedNtfs(img.file, osAfter.start, osAfter.size, (m) =>
      readFileSync(path.join(m, 'Windows', 'System32', 'Recovery', 'ReAgent.xml'), 'utf8'),
    );
    expect(reagent).toMatch(new RegExp(`<WinreLocation path="\\\\Recovery\\\\WindowsRE" id="0" offset="${np.start}" guid="\\{${after.diskGuid}\\}"`, 'i'));
    expect(reagent).toMatch(/<InstallState state="1"\/>/);
    const bcd = bcdOf(img, tmp);
    const holding = bcdDevicesHolding(bcd, tmp, guidHex(np.guid!));
    expect(holding.length).toBeGreaterThanOrEqual(2); // the WinRE loader's device and osdevice (+ ramdisk options)
    expect(bcdDevicesHolding(bcd, tmp, guidHex(after.diskGuid!)).length).toBeGreaterThanOrEqual(holding.length);

    // scan: no WinRE finding left.
    const s1 = runCli(['scan', '--image', img.file, '--json']);
    const t1 = (JSON.parse(s1.stdout) as ScanReport).targets[0]!;
    expect(t1.findings.map((f) => f.id).filter((id) => id.startsWith('winre'))).toEqual([]);
    expect(t1.disk!.partitions.find((p) => p.number === 4)!.freeBytes).toBeGreaterThanOrEqual(250 * MiB);

    // undo: the table, the old recovery partition and the BCD byte for byte, the OS files as they were.
    const u = runCli(['undo', '--image', img.file, '--last']);
    expect(u.status, u.stderr).toBe(0);
    expect(u.stdout).toMatch(/the disk .* restored/);
    expect(tablePrint()).toBe(before.table);
    expect(run('sgdisk', ['-v', img.file])).toMatch(/No problems found/);
    expect(regionSha(img.file, recStart, 570 * MiB)).toBe(before.rec);
    expect(sha256Buf(bcdOf(img, tmp))).toBe(before.bcd);
    expect(treeDiff(before.tree, osTree(img, img.os.size))).toEqual([]);
    withLoop(img.file, img.os.start, img.os.size, (dev) => {
      expect(volumeSize(dev)).toBe(before.osVolume);
      expect(run('ntfsfix', ['--no-action', dev])).not.toMatch(/BAD|corrupt/i);
    });
    // Only NTFS metadata of the OS volume differs (the shrink and grow): its boot sector and last MiB are as they were.
    expect(readSector(img.file, img.os.start)).toBe(before.osBoot);
    expect(regionSha(img.file, img.os.start + img.os.size - MiB, MiB)).toBe(before.osTail);
    expect(loops(tmp)).toEqual(loopsBefore);
  }, 600_000);

  interface Scenario {
    name: string;
    scheme: 'gpt' | 'mbr';
    size: number;
    parts: PartSpec[];
    tree?: 'server' | 'win10';
    /** Expected: the case, the new partition's number, the old recovery region (start, size) that undo restores. */
    expectCase: string;
    newNumber: number;
    /** Extra repair options (--no-reuse-guid: the BCD must then be re-pointed to a new GUID). */
    args?: string[];
    old?: { start: number; size: number };
    /** 4096: a 4Kn disk (sgdisk, sfdisk and blkid then look at it through a loop device with 4096-byte sectors). */
    sectorSize?: number;
  }
  const S2022_DATA = 3 * GiB;
  const scenarios: Scenario[] = [
    {
      name: 'Server 2022 GPT: 525 MB recovery with 82 MB free, a data volume after it',
      scheme: 'gpt',
      size: 6 * GiB,
      tree: 'server',
      parts: [
        { role: 'esp', start: MiB, size: 100 * MiB },
        { role: 'msr', start: 101 * MiB, size: 16 * MiB },
        { role: 'os', start: 117 * MiB, size: S2022_DATA - 525 * MiB - 117 * MiB },
        { role: 'recovery', start: S2022_DATA - 525 * MiB, size: 525 * MiB, free: 82 * MiB },
        { role: 'data', start: S2022_DATA, size: 2 * GiB },
      ],
      expectCase: 'after-os',
      newNumber: 4,
      old: { start: S2022_DATA - 525 * MiB, size: 525 * MiB },
      args: ['--no-reuse-guid'],
    },
    {
      name: 'Windows 10 1909 GPT, recovery first: a new one after Windows, the old one removed',
      scheme: 'gpt',
      size: 6 * GiB,
      tree: 'win10',
      parts: [
        { role: 'recovery', start: MiB, size: 529 * MiB, free: 60 * MiB },
        { role: 'esp', start: 530 * MiB, size: 99 * MiB },
        { role: 'msr', start: 629 * MiB, size: 16 * MiB },
        { role: 'os', start: 645 * MiB, size: gptEnd(6 * GiB) - 645 * MiB },
      ],
      expectCase: 'before-os',
      newNumber: 1, // the freed first entry is reused
      old: { start: MiB, size: 529 * MiB },
    },
    {
      name: 'BIOS/MBR: System Reserved, Windows, recovery 0x27 after it',
      scheme: 'mbr',
      size: 5 * GiB,
      tree: 'win10',
      parts: [
        { role: 'sysres', start: MiB, size: 100 * MiB },
        { role: 'os', start: 101 * MiB, size: 4000 * MiB },
        { role: 'recovery', start: 4101 * MiB, size: 550 * MiB, free: 70 * MiB },
      ],
      expectCase: 'after-os',
      newNumber: 3,
      old: { start: 4101 * MiB, size: 550 * MiB },
    },
    {
      name: 'Windows 11 GPT on a 4Kn disk (4096-byte sectors, ESP 260 MB as Windows makes it there): rebuilt in place',
      scheme: 'gpt',
      size: 6 * GiB,
      tree: 'win10',
      sectorSize: 4096,
      parts: [
        { role: 'esp', start: MiB, size: 260 * MiB },
        { role: 'msr', start: 261 * MiB, size: 16 * MiB },
        { role: 'os', start: 277 * MiB, size: gptEnd(6 * GiB) - 570 * MiB - 277 * MiB },
        { role: 'recovery', start: gptEnd(6 * GiB) - 570 * MiB, size: 570 * MiB, free: 70 * MiB },
      ],
      expectCase: 'after-os',
      newNumber: 4,
      old: { start: gptEnd(6 * GiB) - 570 * MiB, size: 570 * MiB },
    },
  ];
  const trees = new Map<string, string>();
  const treeFor = async (k: 'server' | 'win10') => {
    if (!trees.has(k)) {
      const d = path.join(tmp, `tree-${k}`);
      await buildWindowsTree(d, k === 'server' ? server2022Winre : win10Winre);
      trees.set(k, d);
    }
    return trees.get(k)!;
  };

  for (const sc of scenarios) {
    it(
      sc.name,
      async () => {
        const ss = sc.sectorSize ?? 512;
        const img = buildWinreDisk(path.join(tmp, `${sc.name.slice(0, 12).replace(/\W/g, '_')}.img`), {
          scheme: sc.scheme,
          size: sc.size,
          parts: sc.parts,
          tree: await treeFor(sc.tree ?? 'win10'),
          sectorSize: ss,
        });
        expect(img.layout.sectorSize).toBe(ss);
        const onImage = (cmd: string, args: string[]) => onDisk(img.file, ss, (t) => run(cmd, [...args, t]).replaceAll(t, 'DISK'));
        const table = () => (sc.scheme === 'gpt' ? onImage('sgdisk', ['-p']) : onImage('sfdisk', ['--dump']));
        const before = {
          table: table(),
          old: sc.old ? regionSha(img.file, sc.old.start, sc.old.size) : '',
          bcd: sha256Buf(bcdOf(img, tmp)),
          tree: osTree(img, img.os.size),
        };
        const loopsBefore = loops(tmp);

        const oldGuid = img.layout.partitions.find((p) => p.start === sc.old?.start)?.guid;
        const r = runCli(['repair', '--image', img.file, '--yes', ...(sc.args ?? [])]);
        expect(r.status, r.stderr + r.stdout).toBe(0);
        expect(r.stdout).toContain(`case ${sc.expectCase}`);
        expect(loops(tmp)).toEqual(loopsBefore);

        if (sc.scheme === 'gpt') expect(onImage('sgdisk', ['-v'])).toMatch(/No problems found/);
        else onImage('sfdisk', ['-V']); // throws on a problem
        const after = readImageLayout(img.file);
        const np = after.partitions.find((p) => p.role === 'recovery' && p.start > img.os.start)!;
        expect(np, table()).toBeDefined();
        expect(np.number).toBe(sc.newNumber);
        if (sc.scheme === 'gpt') {
          const info = onImage('sgdisk', ['-i', String(sc.newNumber)]);
          expect(info.toLowerCase()).toContain(`partition guid code: ${RE_TYPE}`);
          expect(info).toMatch(/Attribute flags: 8000000000000001/);
          expect(info).toContain(`First sector: ${np.start / ss} `);
        } else {
          expect(table()).toMatch(new RegExp(`start=\\s*${np.start / ss}, size=\\s*${np.size / ss}, type=27`));
        }
        // The new NTFS boot sector as Windows formats it on this disk: bytes per sector, hidden sectors = the partition's first LBA.
        const boot = Buffer.from(execFileSync('dd', [`if=${img.file}`, 'bs=512', `skip=${np.start / 512}`, 'count=1', 'status=none']));
        expect(boot.readUInt16LE(11)).toBe(ss);
        expect(boot.readUInt32LE(28)).toBe(np.start / ss);
        expect(np.size).toBeGreaterThanOrEqual(GiB);
        withMountedNtfs(img.file, np.start, np.size, (m) => {
          expect(Number(run('df', ['-B1', '--output=avail', m]).split('\n')[1]!.trim())).toBeGreaterThanOrEqual(250 * MiB);
          expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'Winre.wim'))).toBe(img.wimSha256);
          expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'boot.sdi'))).toBe(img.sdiSha256);
        });
        withLoop(img.file, np.start, np.size, (dev) => expect(run('blkid', ['-o', 'value', '-s', 'LABEL', dev]).trim()).toBe('Windows RE tools'));
        const osAfter = after.partitions.find((p) => p.start === img.os.start)!;
        withLoop(img.file, osAfter.start, osAfter.size, (dev) => {
          expect(run('ntfsresize', ['--info', '--force', '--no-progress-bar', dev])).toMatch(/You might resize at/);
          expect(run('ntfsfix', ['--no-action', dev])).not.toMatch(/BAD|corrupt/i);
        });
        expect(treeDiff(before.tree, osTree(img, osAfter.size))).toEqual(['Windows/System32/Recovery/ReAgent.xml']);
        const reagent = withMountedNtfs(img.file, osAfter.start, osAfter.size, (m) =>
          readFileSync(path.join(m, 'Windows', 'System32', 'Recovery', 'ReAgent.xml'), 'utf8'),
        );
        expect(reagent).toContain(`offset="${np.start}"`);
        const bcd = bcdOf(img, tmp);
        const needle = sc.scheme === 'gpt' ? guidHex(np.guid!) : Buffer.from(new BigUint64Array([BigInt(np.start)]).buffer).toString('hex');
        expect(bcdDevicesHolding(bcd, tmp, needle).length).toBeGreaterThanOrEqual(2);
        if (sc.args?.includes('--no-reuse-guid')) {
          // A new unique GUID: the BCD only passes if wufix re-pointed it (nothing refers to the old one).
          expect(np.guid).not.toBe(oldGuid);
          expect(bcdDevicesHolding(bcd, tmp, guidHex(oldGuid!))).toEqual([]);
        }
        const s1 = JSON.parse(runCli(['scan', '--image', img.file, '--json']).stdout) as ScanReport;
        expect(s1.targets[0]!.findings.map((f) => f.id).filter((id) => id.startsWith('winre'))).toEqual([]);

        const u = runCli(['undo', '--image', img.file, '--last']);
        expect(u.status, u.stderr).toBe(0);
        expect(table()).toBe(before.table);
        if (sc.old) expect(regionSha(img.file, sc.old.start, sc.old.size)).toBe(before.old);
        expect(sha256Buf(bcdOf(img, tmp))).toBe(before.bcd);
        expect(treeDiff(before.tree, osTree(img, img.os.size))).toEqual([]);
        expect(loops(tmp)).toEqual(loopsBefore);
        rmSync(img.file, { force: true });
      },
      600_000,
    );
  }

  const refusal = async (name: string, spec: Parameters<typeof buildWinreDisk>[1], message: RegExp, env?: NodeJS.ProcessEnv) => {
    const img = buildWinreDisk(path.join(tmp, `${name}.img`), spec);
    const before = sha256(img.file);
    const loopsBefore = loops(tmp);
    const r = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes'], { env });
    expect(r.status, r.stderr + r.stdout).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(sha256(img.file)).toBe(before);
    expect(loops(tmp)).toEqual(loopsBefore);
    rmSync(img.file, { force: true });
  };

  it('MBR with all four primary slots used, one an extended partition with room: the new WinRE partition is a logical one (EBR chain), verified, undone', async () => {
    const t4 = await treeWithoutRecovery('tree-4p-ext');
    const img = buildWinreDisk(path.join(tmp, 'mbr-ext.img'), {
      scheme: 'mbr',
      size: 4 * GiB,
      tree: t4,
      parts: [
        { role: 'sysres', start: MiB, size: 100 * MiB, number: 1 },
        { role: 'os', start: 101 * MiB, size: 2000 * MiB, number: 2 },
        { role: 'data', start: 2101 * MiB, size: 400 * MiB, number: 3 },
        { role: 'extended', start: 2501 * MiB, size: 4 * GiB - 2502 * MiB, number: 4 },
        { role: 'data', start: 2502 * MiB, size: 200 * MiB, number: 5 },
      ],
    });
    const wimOs = withMountedNtfs(img.file, img.os.start, img.os.size, (m) => sha256(path.join(m, 'Windows', 'System32', 'Recovery', 'Winre.wim')));
    // Everything after Windows: partition 3, the extended partition with its EBRs, logical 5 and the free space the new partition takes.
    const afterOs = () => regionSha(img.file, img.os.start + img.os.size, 4 * GiB - img.os.start - img.os.size);
    const before = {
      dump: run('sfdisk', ['--dump', img.file]),
      mbr: readSector(img.file, 0),
      rest: afterOs(),
      tree: osTree(img, img.os.size),
      bcd: sha256Buf(bcdOf(img, tmp)),
    };
    const loopsBefore = loops(tmp);

    const r = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('case mbr-logical');
    expect(loops(tmp)).toEqual(loopsBefore);
    run('sfdisk', ['-V', img.file]); // throws on a problem
    const dump = run('sfdisk', ['--dump', img.file]);
    // The four primaries and logical 5 unchanged; a new logical 6, type 0x27, after logical 5 inside the extended partition.
    for (const line of before.dump.split('\n').filter((l) => /^\S+\d : /.test(l))) expect(dump).toContain(line);
    const l6 = new RegExp(`${img.file}6 : start=\\s*(\\d+), size=\\s*(\\d+), type=27`).exec(dump);
    expect(l6, dump).not.toBeNull();
    const np = { start: Number(l6![1]) * 512, size: Number(l6![2]) * 512 };
    expect(np.start).toBeGreaterThanOrEqual(2702 * MiB);
    expect(np.start + np.size).toBeLessThanOrEqual(4 * GiB - MiB);
    expect(np.size).toBeGreaterThanOrEqual(GiB);
    // The EBR of logical 5 links to logical 6's EBR, as an independent reader (sfdisk) already decoded.
    withMountedNtfs(img.file, np.start, np.size, (m) => {
      expect(Number(run('df', ['-B1', '--output=avail', m]).split('\n')[1]!.trim())).toBeGreaterThanOrEqual(250 * MiB);
      expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'Winre.wim'))).toBe(wimOs);
      expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'boot.sdi'))).toBe(sha256(path.join(t4, 'Windows', 'Boot', 'DVD', 'PCAT', 'boot.sdi')));
    });
    withLoop(img.file, np.start, np.size, (dev) => expect(run('blkid', ['-o', 'value', '-s', 'LABEL', dev]).trim()).toBe('Windows RE tools'));
    const reagent = withMountedNtfs(img.file, img.os.start, img.os.size, (m) =>
      readFileSync(path.join(m, 'Windows', 'System32', 'Recovery', 'ReAgent.xml'), 'utf8'),
    );
    expect(reagent).toContain(`offset="${np.start}"`);
    expect(reagent).toMatch(/<InstallState state="1"/);
    const needle = Buffer.from(new BigUint64Array([BigInt(np.start)]).buffer).toString('hex');
    expect(bcdDevicesHolding(bcdOf(img, tmp), tmp, needle).length).toBeGreaterThanOrEqual(2);
    const s1 = JSON.parse(runCli(['scan', '--image', img.file, '--json']).stdout) as ScanReport;
    expect(s1.targets[0]!.findings.map((f) => f.id).filter((id) => id.startsWith('winre'))).toEqual([]);

    const u = runCli(['undo', '--image', img.file, '--last']);
    expect(u.status, u.stderr).toBe(0);
    expect(run('sfdisk', ['--dump', img.file])).toBe(before.dump);
    expect(sha256Buf(bcdOf(img, tmp))).toBe(before.bcd);
    expect(treeDiff(before.tree, osTree(img, img.os.size))).toEqual([]);
    // No shrink, and every sector it wrote outside the mounted volumes was saved: back byte for byte
    // (the NTFS volumes holding ReAgent.xml and the BCD get their files back; their metadata moves on).
    expect(readSector(img.file, 0)).toBe(before.mbr);
    expect(afterOs()).toBe(before.rest);
    expect(loops(tmp)).toEqual(loopsBefore);
    rmSync(img.file, { force: true });
  }, 600_000);

  it('refuses an OS volume too full to shrink, with the numbers (exit 3, image unchanged)', async () => {
    const full = path.join(tmp, 'tree-full');
    run('cp', ['-a', tree, full]);
    run('dd', ['if=/dev/zero', `of=${path.join(full, 'pagefile.sys')}`, 'bs=1M', 'count=900', 'status=none']);
    await refusal(
      'os-full',
      {
        scheme: 'gpt',
        size: 2 * GiB,
        tree: full,
        parts: [
          { role: 'esp', start: MiB, size: 100 * MiB },
          { role: 'msr', start: 101 * MiB, size: 16 * MiB },
          { role: 'os', start: 117 * MiB, size: 1200 * MiB },
          { role: 'recovery', start: 1317 * MiB, size: gptEnd(2 * GiB) - 1317 * MiB, free: 60 * MiB },
        ],
      },
      /^wufix: refused: cannot make room for a 1024 MiB .*not enough free space in the OS volume \(partition 3, 1200 MiB\).*free [\d.]+ MiB/,
    );
    rmSync(full, { recursive: true, force: true });
  }, 600_000);

  it('refuses MBR with four primaries and no recovery partition to reuse (exit 3, image unchanged)', async () => {
    const t4 = await treeWithoutRecovery('tree-4p');
    await refusal(
      'mbr-4p',
      {
        scheme: 'mbr',
        size: 3 * GiB,
        tree: t4,
        parts: [
          { role: 'sysres', start: MiB, size: 100 * MiB },
          { role: 'os', start: 101 * MiB, size: 2000 * MiB },
          { role: 'data', start: 2101 * MiB, size: 400 * MiB },
          { role: 'dynamic', start: 2501 * MiB, size: 400 * MiB },
        ],
      },
      /^wufix: refused: cannot make room for a 1024 MiB .*all four MBR primary slots are used \(partitions 1, 2, 3, 4\).*there is no extended partition/,
    );
  }, 600_000);

  it('refuses a BitLocker-encrypted OS volume (exit 3, image unchanged)', async () => {
    await refusal(
      'bitlocker',
      {
        scheme: 'gpt',
        size: 3 * GiB,
        tree,
        parts: [
          { role: 'esp', start: MiB, size: 100 * MiB },
          { role: 'msr', start: 101 * MiB, size: 16 * MiB },
          { role: 'bitlocker-os', start: 117 * MiB, size: 2000 * MiB },
          { role: 'recovery', start: 2117 * MiB, size: 500 * MiB, free: 60 * MiB },
        ],
      },
      /^wufix: refused: partition 3 is BitLocker-encrypted and locked.*manage-bde -unlock/,
    );
  }, 600_000);

  it('refuses before any write when a tool of the rebuild is missing (ntfscp), naming its package (exit 3, image unchanged)', async () => {
    // A PATH with every program of this machine except ntfscp.
    const bin = path.join(tmp, 'bin-without-ntfscp');
    mkdirSync(bin, { recursive: true });
    for (const d of (process.env.PATH ?? '').split(':').filter(Boolean)) {
      let names: string[] = [];
      try {
        names = readdirSync(d);
      } catch {
        continue;
      }
      for (const n of names) if (n !== 'ntfscp' && !existsSync(path.join(bin, n))) symlinkSync(path.join(d, n), path.join(bin, n));
    }
    await refusal(
      'no-ntfscp',
      { scheme: 'gpt', size: 3 * GiB, tree, parts: laptopParts(3 * GiB, 70 * MiB) },
      /^wufix: refused: the WinRE rebuild needs ntfscp, which is not installed; install it \(Debian: apt-get install ntfs-3g\) and retry\. Nothing was written$/m,
      { PATH: bin },
    );
    rmSync(bin, { recursive: true, force: true });
  }, 600_000);

  it('killed right after ntfsresize, before the journal knew: a new repair refuses, undo grows Windows back; a closed output pipe does not stop a repair', () => {
    const size = 4 * GiB;
    const recStart = gptEnd(size) - 570 * MiB;
    const img = buildWinreDisk(path.join(tmp, 'crash.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
    const osVolume = () => withLoop(img.file, img.os.start, img.os.size, (dev) => Number(volumeSize(dev)));
    const before = {
      table: run('sgdisk', ['-p', img.file]),
      rec: regionSha(img.file, recStart, 570 * MiB),
      bcd: sha256Buf(bcdOf(img, tmp)),
      tree: osTree(img, img.os.size),
      boot: readSector(img.file, img.os.start),
      volume: osVolume(),
    };
    const loopsBefore = loops(tmp);

    const k = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes'], { env: { WUFIX_TEST_CRASH_AT: 'winre-shrunk-unrecorded' } });
    expect(k.status, k.stderr).toBeNull(); // SIGKILL: a power cut between two steps
    // Nothing else may clean up after a SIGKILL; detach whatever it left on this image.
    for (const l of loopsOf(img.file)) run('losetup', ['--detach', l]);
    expect(osVolume()).toBeLessThan(before.volume); // ntfsresize had shrunk Windows
    expect(run('sgdisk', ['-p', img.file])).toBe(before.table);

    const again = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes']);
    expect(again.status, again.stderr).toBe(3);
    const lines = again.stderr.trim().split('\n');
    expect(lines[lines.length - 1]).toMatch(
      /^wufix: refused: run (\S+) stopped half-way through rebuilding the WinRE partition \(done: backed-up\).*undo it first \(wufix undo \1, with the same --image or --root\)/,
    );
    const id = /run (\S+) stopped/.exec(again.stderr)![1]!;
    expect(osVolume()).toBeLessThan(before.volume); // the refusal wrote nothing

    const u = runCli(['undo', id, '--image', img.file]);
    expect(u.status, u.stderr).toBe(0);
    expect(u.stdout).toMatch(/the Windows volume grown back/);
    expect(osVolume()).toBe(before.volume);
    expect(readSector(img.file, img.os.start)).toBe(before.boot);
    expect(run('sgdisk', ['-p', img.file])).toBe(before.table);
    expect(regionSha(img.file, recStart, 570 * MiB)).toBe(before.rec);
    expect(sha256Buf(bcdOf(img, tmp))).toBe(before.bcd);
    expect(treeDiff(before.tree, osTree(img, img.os.size))).toEqual([]);
    withLoop(img.file, img.os.start, img.os.size, (dev) => expect(run('ntfsfix', ['--no-action', dev])).not.toMatch(/BAD|error|corrupt/i));

    // `wufix repair ... | head -1`: the pipe closes at the first line; the repair must still finish
    // (before, the process exited on EPIPE half-way through the rebuild).
    const p = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${CLI}" repair --image "${img.file}" --only winre --yes 2>&1 | head -1; exit \${PIPESTATUS[0]}`],
      { encoding: 'utf8' },
    );
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout.trim().split('\n')).toHaveLength(1);
    const jr = `${img.file}.wufix-journal`;
    const last = readdirSync(jr).sort().pop()!;
    expect(JSON.parse(readFileSync(path.join(jr, last, 'disk', 'state.json'), 'utf8')).phase).toBe('verified');
    expect(JSON.parse(readFileSync(path.join(jr, last, 'state.json'), 'utf8')).phase).toBe('verified');
    expect(run('sgdisk', ['-v', img.file])).toMatch(/No problems found/);
    const scan = JSON.parse(runCli(['scan', '--image', img.file, '--json']).stdout) as ScanReport;
    expect(scan.targets[0]!.findings.map((f) => f.id).filter((id) => id.startsWith('winre'))).toEqual([]);
    expect(loops(tmp)).toEqual(loopsBefore);
    rmSync(img.file, { force: true });
  }, 600_000);

  it('Ctrl-C after the new partition is formatted: everything rolled back, the run cannot be undone', () => {
    const size = 4 * GiB;
    const recStart = gptEnd(size) - 570 * MiB;
    const img = buildWinreDisk(path.join(tmp, 'sigint.img'), {
      scheme: 'gpt',
      size,
      tree,
      parts: laptopParts(size, 80 * MiB),
    });
    const before = {
      table: run('sgdisk', ['-p', img.file]),
      rec: regionSha(img.file, recStart, 570 * MiB),
      bcd: sha256Buf(bcdOf(img, tmp)),
      tree: osTree(img, img.os.size),
      boot: readSector(img.file, img.os.start),
    };
    const loopsBefore = loops(tmp);
    const r = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes'], { env: { WUFIX_TEST_SIGINT_AT: 'winre-after-formatted' } });
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted \(Ctrl-C\): rolling back after the current step/);
    expect(lastLine(r.stderr)).toBe('wufix: interrupted: Ctrl-C; the disk was restored from the journal');
    expect(run('sgdisk', ['-p', img.file])).toBe(before.table);
    expect(run('sgdisk', ['-v', img.file])).toMatch(/No problems found/);
    expect(regionSha(img.file, recStart, 570 * MiB)).toBe(before.rec);
    expect(sha256Buf(bcdOf(img, tmp))).toBe(before.bcd);
    expect(readSector(img.file, img.os.start)).toBe(before.boot);
    expect(treeDiff(before.tree, osTree(img, img.os.size))).toEqual([]);
    expect(loops(tmp)).toEqual(loopsBefore);
    // Both journal levels say what happened: rolled back (not "planned", not "stopped before changing anything").
    const st = runState(img.file);
    expect(st).toMatchObject({ file: 'rolled-back', disk: 'rolled-back' });
    expect(journalList(img.file)).toMatch(new RegExp(`^${st.id}  rolled-back `, 'm'));
    const u = runCli(['undo', '--image', img.file, '--last']);
    expect(u.status).toBe(3);
    expect(u.stderr).toMatch(/was rolled back when it failed; there is nothing to undo/);
    expect(u.stderr).not.toMatch(/stopped before changing anything/);
    rmSync(img.file, { force: true });
  }, 600_000);

  // --- Issue #14: stop signals, refusals that must leave the image byte for byte, copy confinement.

  it('Ctrl-C while the journal is being saved stops at once: exit 130, the image byte for byte, the run recorded as interrupted', async () => {
    const size = 4 * GiB;
    const img = buildWinreDisk(path.join(tmp, 'sigint-journal.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
    const before = sha256(img.file);
    const devs = loops(tmp);
    // A real signal from outside (kill -INT <pid>) at the first progress line of the journal copy.
    const r = await runCliWithSignals(
      ['repair', '--image', img.file, '--only', 'winre', '--yes'],
      [{ when: /saving bytes \d+\.\.\d+ to the journal: \d+%/, signal: 'SIGINT' }],
    );
    expect(r.timedOut).toBe(false);
    expect(r.fired).toBe(1);
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted \(Ctrl-C\): stopping now: nothing has been changed yet/);
    // Stopped inside the journal copy: it never reached 100%, and no change began.
    expect(r.stderr).not.toMatch(/to the journal: 100%/);
    expect(r.stderr).not.toMatch(/shrinking the Windows volume|writing the partition table|formatting partition|restoring/);
    expect(lastLine(r.stderr)).toBe('wufix: interrupted: Ctrl-C; nothing was written (the disk is as it was)');
    expect(sha256(img.file)).toBe(before);
    expect(loops(tmp)).toEqual(devs);
    const st = runState(img.file);
    expect(st).toMatchObject({ file: 'interrupted', disk: 'interrupted' });
    expect(journalList(img.file)).toMatch(new RegExp(`^${st.id}  interrupted `, 'm'));
    const u = runCli(['undo', '--image', img.file, '--last']);
    expect(u.status, u.stderr).toBe(3);
    expect(u.stderr).toMatch(/was interrupted before it changed anything; there is nothing to undo/);
    expect(sha256(img.file)).toBe(before);
    rmSync(img.file, { force: true });
  }, 600_000);

  it('SIGTERM mid-change on a disk that needs no shrink (MBR, a logical partition): rolled back after the current step, exit 130, the image byte for byte', async () => {
    const t4 = await treeWithoutRecovery('tree-4p-ext-sig');
    const img = buildWinreDisk(path.join(tmp, 'mbr-ext-sig.img'), {
      scheme: 'mbr',
      size: 4 * GiB,
      tree: t4,
      parts: [
        { role: 'sysres', start: MiB, size: 100 * MiB, number: 1 },
        { role: 'os', start: 101 * MiB, size: 2000 * MiB, number: 2 },
        { role: 'data', start: 2101 * MiB, size: 400 * MiB, number: 3 },
        { role: 'extended', start: 2501 * MiB, size: 4 * GiB - 2502 * MiB, number: 4 },
        { role: 'data', start: 2502 * MiB, size: 200 * MiB, number: 5 },
      ],
    });
    const before = sha256(img.file);
    const devs = loops(tmp);
    // kill -TERM as the table is written: the run finishes that step (and formats nothing more), then restores.
    const r = await runCliWithSignals(
      ['repair', '--image', img.file, '--only', 'winre', '--yes'],
      [{ when: /writing the partition table/, signal: 'SIGTERM' }],
    );
    expect(r.timedOut).toBe(false);
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted \(SIGTERM\): rolling back after the current step/);
    expect(lastLine(r.stderr)).toBe('wufix: interrupted: SIGTERM; the disk was restored from the journal');
    expect(sha256(img.file)).toBe(before);
    expect(loops(tmp)).toEqual(devs);
    expect(runState(img.file)).toMatchObject({ file: 'rolled-back', disk: 'rolled-back' });

    // The same after the copy (the new partition formatted and filled): still byte for byte.
    const k = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes'], { env: { WUFIX_TEST_SIGINT_AT: 'winre-after-copied' } });
    expect(k.status, k.stderr).toBe(130);
    expect(k.stderr).toMatch(/copying Winre\.wim: 100%/);
    expect(lastLine(k.stderr)).toBe('wufix: interrupted: Ctrl-C; the disk was restored from the journal');
    expect(sha256(img.file)).toBe(before);
    expect(loops(tmp)).toEqual(devs);
    const st = runState(img.file);
    expect(st).toMatchObject({ file: 'rolled-back', disk: 'rolled-back' });
    expect(journalList(img.file)).toMatch(new RegExp(`^${st.id}  rolled-back `, 'm'));

    // Ctrl-C once the disk part is done, as the file part has backed up its files: the files and the disk
    // are both restored (the OS volume was mounted read-write for the file part, so only its files are compared).
    const afterOs = () => regionSha(img.file, 2101 * MiB, 4 * GiB - 2101 * MiB);
    const tables = { dump: run('sfdisk', ['--dump', img.file]), mbr: readSector(img.file, 0), rest: afterOs(), tree: osTree(img, img.os.size) };
    const f = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes'], { env: { WUFIX_TEST_SIGINT_AT: 'after-backup' } });
    expect(f.status, f.stderr).toBe(130);
    expect(f.stderr).toMatch(/restoring the disk as well/);
    expect(lastLine(f.stderr)).toMatch(/^wufix: interrupted: .*Ctrl-C; everything was rolled back$/);
    expect(run('sfdisk', ['--dump', img.file])).toBe(tables.dump);
    expect(readSector(img.file, 0)).toBe(tables.mbr);
    expect(afterOs()).toBe(tables.rest);
    expect(treeDiff(tables.tree, osTree(img, img.os.size))).toEqual([]);
    expect(loops(tmp)).toEqual(devs);
    expect(runState(img.file)).toMatchObject({ file: 'rolled-back', disk: 'rolled-back' });
    rmSync(img.file, { force: true });
  }, 600_000);

  it('a second Ctrl-C during the changes says what the run is still waiting for; the disk is restored, exit 130', async () => {
    const size = 4 * GiB;
    const recStart = gptEnd(size) - 570 * MiB;
    const img = buildWinreDisk(path.join(tmp, 'sigint-twice.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
    const before = {
      table: run('sgdisk', ['-p', img.file]),
      rec: regionSha(img.file, recStart, 570 * MiB),
      bcd: sha256Buf(bcdOf(img, tmp)),
      boot: readSector(img.file, img.os.start),
      tree: osTree(img, img.os.size),
    };
    const devs = loops(tmp);
    const r = await runCliWithSignals(
      ['repair', '--image', img.file, '--only', 'winre', '--yes'],
      [
        { when: /shrinking the Windows volume/, signal: 'SIGINT' },
        { when: /interrupted \(Ctrl-C\): rolling back after the current step/, signal: 'SIGINT' },
      ],
    );
    expect(r.timedOut).toBe(false);
    expect(r.fired).toBe(2);
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/Ctrl-C again: still (shrinking the Windows volume \(ntfsresize\); then the disk is restored from the journal|rolling back)/);
    expect(lastLine(r.stderr)).toBe('wufix: interrupted: Ctrl-C; the disk was restored from the journal');
    expect(run('sgdisk', ['-p', img.file])).toBe(before.table);
    expect(regionSha(img.file, recStart, 570 * MiB)).toBe(before.rec);
    expect(sha256Buf(bcdOf(img, tmp))).toBe(before.bcd);
    expect(readSector(img.file, img.os.start)).toBe(before.boot);
    expect(treeDiff(before.tree, osTree(img, img.os.size))).toEqual([]);
    expect(loops(tmp)).toEqual(devs);
    expect(runState(img.file)).toMatchObject({ file: 'rolled-back', disk: 'rolled-back' });
    rmSync(img.file, { force: true });
  }, 600_000);

  it('the Windows partition mounted elsewhere (read-only, by this test): repair --image --yes refuses before any read-write mount, the image byte for byte', () => {
    const img = buildWinreDisk(path.join(tmp, 'mounted.img'), { scheme: 'gpt', size: 3 * GiB, tree, parts: laptopParts(3 * GiB, 70 * MiB) });
    const mnt = path.join(tmp, 'mounted-elsewhere');
    mkdirSync(mnt, { recursive: true });
    const dev = run('losetup', ['--find', '--show', '--read-only', '--offset', String(img.os.start), '--sizelimit', String(img.os.size), img.file]).trim();
    try {
      run('ntfs-3g', ['-o', 'ro', dev, mnt]);
      try {
        const before = sha256(img.file);
        // The rebuild with the file repairs (the disk's check refuses), and a file-only repair (the read-write mount's check refuses).
        for (const args of [['--yes'], ['--only', 'wintrust', '--yes']]) {
          const r = runCli(['repair', '--image', img.file, ...args]);
          expect(r.status, r.stderr + r.stdout).toBe(3);
          expect(lastLine(r.stderr)).toMatch(new RegExp(`^wufix: refused: .* is mounted at ${mnt}; .*\\(umount ${mnt}\\) and retry`));
          expect(r.stderr.split('\n').filter((l) => l.startsWith('wufix:'))).toHaveLength(1);
          expect(r.stderr).not.toMatch(/\n\s+at /);
          expect(sha256(img.file), args.join(' ')).toBe(before);
          expect(existsSync(`${img.file}.wufix-journal`) ? readdirSync(`${img.file}.wufix-journal`).filter((d) => !d.startsWith('.')) : []).toEqual([]);
        }
      } finally {
        run('umount', [mnt]);
      }
    } finally {
      run('losetup', ['--detach', dev]);
    }
    rmSync(img.file, { force: true });
  }, 600_000);

  it('the partition table changed since the plan: refused before any write (exit 3), the image byte for byte, no journal', async () => {
    const img = buildWinreDisk(path.join(tmp, 'changed.img'), { scheme: 'gpt', size: 3 * GiB, tree, parts: laptopParts(3 * GiB, 70 * MiB) });
    const plan = planOf(img.file);
    // Another tool resizes partition 2 (the MSR) after the plan was made.
    run('sgdisk', ['-d', '2', '-n', `2:${(101 * MiB) / 512}:${(116 * MiB) / 512 - 1}`, '-t', '2:e3c9e316-0b5c-4db8-817d-f92df00215ae', img.file]);
    const before = sha256(img.file);
    const journalRoot = path.join(tmp, 'j-changed');
    const e = (await applyWithDisk(plan, {
      journalRoot,
      mountRoot: (fn) => withImageRoot(img.file, fn),
      checkRoot: (fn) => withImageRoot(img.file, fn, true),
    }).catch((x: unknown) => x)) as WufixError;
    expect(e).toBeInstanceOf(RefusedError);
    expect(e.code).toBe('layout-changed');
    expect(e.exitCode).toBe(3);
    expect(sha256(img.file)).toBe(before);
    expect(existsSync(path.join(journalRoot, plan.runId))).toBe(false);
    rmSync(img.file, { force: true });
  }, 600_000);

  it('WinRE copy: only the files the plan lists; a link to a host secret and a FIFO beside Winre.wim stay behind, the host file untouched', () => {
    const secretDir = path.join(tmp, 'host-secret');
    mkdirSync(secretDir, { recursive: true });
    const secret = path.join(secretDir, 'id_ed25519');
    writeFileSync(secret, `-----BEGIN OPENSSH PRIVATE KEY-----\n${randomBytes(96).toString('base64')}\n`, { mode: 0o600 });
    const secretBefore = { sha: sha256(secret), mtime: statSync(secret).mtimeMs };
    const size = 4 * GiB;
    const img = buildWinreDisk(path.join(tmp, 'decoy.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
    // Made through ntfs-3g, as an attacker's image would hold them: an Interix symlink with an absolute host target, and a FIFO.
    withMountedNtfs(img.file, img.recovery!.start, img.recovery!.size, (m) => {
      const d = path.join(m, 'Recovery', 'WindowsRE');
      symlinkSync(secret, path.join(d, 'id_ed25519'));
      execFileSync('mkfifo', [path.join(d, 'pipe')]);
      expect(lstatSync(path.join(d, 'id_ed25519')).isSymbolicLink()).toBe(true);
    });
    const devs = loops(tmp);
    const r = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(loops(tmp)).toEqual(devs);
    const np = readImageLayout(img.file).partitions.find((p) => p.role === 'recovery')!;
    expect(np.size).toBeGreaterThanOrEqual(GiB);
    // The new partition, mounted read-only and listed: the two planned files, nothing else anywhere.
    const listed = withReadOnlyNtfs(img.file, np.start, np.size, (m) => {
      const all = execFileSync('find', [m, '-mindepth', '1', '-not', '-path', `${m}/System Volume Information*`, '-printf', '%P %y\n'], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .sort();
      return { all, wim: sha256(path.join(m, 'Recovery', 'WindowsRE', 'Winre.wim')), sdi: sha256(path.join(m, 'Recovery', 'WindowsRE', 'boot.sdi')) };
    });
    expect(listed.all).toEqual(['Recovery d', 'Recovery/WindowsRE d', 'Recovery/WindowsRE/Winre.wim f', 'Recovery/WindowsRE/boot.sdi f']);
    expect(listed.wim).toBe(img.wimSha256);
    expect(listed.sdi).toBe(img.sdiSha256);
    expect({ sha: sha256(secret), mtime: statSync(secret).mtimeMs }).toEqual(secretBefore);
    rmSync(img.file, { force: true });
  }, 600_000);

  it('Winre.wim replaced by a link to a host file: refused (exit 3) before any write, the image byte for byte; a plan made before the swap is refused by the copy confinement', async () => {
    const secret = path.join(tmp, 'host-secret-2.bin');
    writeFileSync(secret, randomBytes(4096));
    const secretSha = sha256(secret);
    const img = buildWinreDisk(path.join(tmp, 'wim-link.img'), { scheme: 'gpt', size: 3 * GiB, tree, parts: laptopParts(3 * GiB, 70 * MiB) });
    const plan = planOf(img.file);
    withMountedNtfs(img.file, img.recovery!.start, img.recovery!.size, (m) => {
      const d = path.join(m, 'Recovery', 'WindowsRE');
      renameSync(path.join(d, 'Winre.wim'), path.join(d, 'Winre.old'));
      symlinkSync(secret, path.join(d, 'Winre.wim'));
    });
    const before = sha256(img.file);
    const r = runCli(['repair', '--image', img.file, '--only', 'winre', '--yes']);
    expect(r.status, r.stderr + r.stdout).toBe(3);
    expect(lastLine(r.stderr)).toMatch(/^wufix: refused: /);
    expect(sha256(img.file)).toBe(before);
    // The plan from before the swap lists Winre.wim as a regular file: the copy's own check refuses it, before any write.
    const journalRoot = path.join(tmp, 'j-wim-link');
    const e = (await applyWithDisk(plan, {
      journalRoot,
      mountRoot: (fn) => withImageRoot(img.file, fn),
      checkRoot: (fn) => withImageRoot(img.file, fn, true),
    }).catch((x: unknown) => x)) as WufixError;
    expect(e).toBeInstanceOf(RefusedError);
    expect(e.code).toBe('link');
    expect(e.message).toContain(
      `Recovery\\WindowsRE\\Winre.wim on partition 4 is a symbolic link (or junction) to ${JSON.stringify(secret)}, not a regular file`,
    );
    expect(sha256(img.file)).toBe(before);
    expect(sha256(secret)).toBe(secretSha);
    expect(existsSync(path.join(journalRoot, plan.runId))).toBe(false);
    rmSync(img.file, { force: true });
  }, 600_000);
});
