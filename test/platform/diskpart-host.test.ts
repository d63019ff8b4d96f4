// The Linux stand-in for diskpart (test/helpers/diskpart-host.ts) on real disk images: the WinRE
// rebuild script for the after-OS case carried out with sfdisk/ntfsresize/mkntfs/ntfs-3g and checked
// with sgdisk, blkid and ntfsresize; a failing command stops the script; `detail volume` parses with
// the project's table parser; reagentc /info reads ReAgent.xml through the drive letter.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, statfsSync, readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { ownDevices } from '../helpers/own.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, MiB, GiB, run, withLoop, sgdiskInfo, sgdiskVerifyClean, sfdiskJson } from '../helpers/disk-images.js';
import { buildWinreDisk, laptopParts, type WinreDisk } from '../helpers/winre-images.js';
import { linuxDiskpartHost, type DiskpartHost } from '../helpers/diskpart-host.js';
import { ENABLED } from '../helpers/reagent-samples.js';
import { encodeReAgentText } from '../../src/formats/reagent.js';
import { readDiskLayout } from '../../src/disk/blockdev.js';
import { planWinreRebuild } from '../../src/winre/plan.js';
import { diskpartScript, parseDiskpartListTable, diskpartItemNumber, WINRE_LABEL } from '../../src/platform/diskpart.js';

const reason = skipReason(
  sharedReason(),
  toolsReason('ntfs-3g', 'mkntfs', 'ntfsresize', 'sgdisk', 'sfdisk', 'wimcapture', 'mcopy', 'mmd', 'blkid', 'findmnt', 'mountpoint'),
  diskToolsReason(),
);
const RE_TYPE = 'de94bba4-06d1-4d40-a16a-bfd50179d6ac';

describe.skipIf(!!reason)('linuxDiskpartHost: diskpart commands on a real disk image', () => {
  let tmp = '';
  let tree = '';
  const hosts: DiskpartHost[] = [];
  /** Loop devices and mounts of this file's temp directory (other tests may run beside us). */
  const ours = () => ownDevices(tmp);

  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-dphost-'));
    // A minimal offline Windows: ReAgent.xml in UTF-16 LE with a BOM, as Windows writes it.
    tree = path.join(tmp, 'tree');
    const rec = path.join(tree, 'Windows', 'System32', 'Recovery');
    mkdirSync(rec, { recursive: true });
    writeFileSync(path.join(rec, 'ReAgent.xml'), encodeReAgentText(ENABLED, { charset: 'utf-16le', bom: true }));
    mkdirSync(path.join(tree, 'Windows', 'System32', 'config'), { recursive: true });
    writeFileSync(path.join(tree, 'Windows', 'System32', 'config', 'SOFTWARE'), Buffer.alloc(64 * 1024));
  });
  afterAll(() => {
    for (const h of hosts) h.close();
    if (tmp) {
      const left = ours();
      rmSync(tmp, { recursive: true, force: true });
      expect(left).toEqual({ loops: [], mounts: [] });
    }
  });

  /** A 3 GiB GPT laptop: ESP, MSR, Windows (3), 570 MiB recovery (4) with a small Winre.wim. */
  function laptop(name: string): { img: WinreDisk; host: DiskpartHost; osNumber: number; recNumber: number; base: string } {
    const size = 3 * GiB;
    const img = buildWinreDisk(path.join(tmp, `${name}.img`), { scheme: 'gpt', size, tree, parts: laptopParts(size, 500 * MiB) });
    const osNumber = img.layout.partitions.find((p) => p.start === img.os.start)!.number;
    const recNumber = img.layout.partitions.find((p) => p.start === img.recovery!.start)!.number;
    const base = path.join(tmp, `${name}-letters`);
    const host = linuxDiskpartHost(img.file, { base, letters: { W: osNumber } });
    hosts.push(host);
    return { img, host, osNumber, recNumber, base };
  }

  it('carries out the after-OS rebuild script: shrink, delete, create, gpt attributes, format, assign', async () => {
    const { img, host, osNumber, recNumber, base } = laptop('after-os');
    const before = readDiskLayout(img.file);
    const oldRec = before.partitions.find((p) => p.number === recNumber)!;
    const osFree = (() => {
      const s = statfsSync(host.letterRoot('W'));
      return s.bavail * s.bsize;
    })();
    const plan = planWinreRebuild({
      layout: before,
      osPartition: osNumber,
      recoveryPartition: recNumber,
      winreWimBytes: 60 * MiB,
      osFreeBytes: osFree,
      bitlockerOs: false,
    });
    expect(plan.case).toBe('after-os');
    expect(plan.shrinkOsBy).toBe(454 * MiB);
    const script = diskpartScript(plan, { number: 0 }, osNumber, { letter: 'R' });

    const r = await host.diskpart(script);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.commandLine).toMatch(/^diskpart \/s /);
    for (const s of [
      'Disk 0 is now the selected disk.',
      'Partition 3 is now the selected partition.',
      'DiskPart successfully shrunk the volume by:  454 MB',
      'Partition 4 is now the selected partition.',
      'DiskPart successfully deleted the selected partition.',
      'DiskPart succeeded in creating the specified partition.',
      'DiskPart successfully set the GPT attributes to the partition.',
      'DiskPart successfully formatted the volume.',
      'DiskPart successfully assigned the drive letter or mount point.',
    ]) {
      expect(r.output).toContain(s);
    }
    expect(host.log).toEqual([
      'select disk 0',
      'select partition 3',
      'shrink desired=454 minimum=454',
      'select partition 4',
      'delete partition override',
      `create partition primary size=1024 offset=${plan.newPartition.start / 1024} id=${RE_TYPE}`,
      'gpt attributes=0x8000000000000001',
      `format quick fs=ntfs label="${WINRE_LABEL}"`,
      'assign letter=R',
    ]);

    // The table, by sgdisk and sfdisk: clean, the new partition where planned, as Windows makes it.
    expect(sgdiskVerifyClean(img.file).clean).toBe(true);
    const ref = sfdiskJson(img.file);
    const np = ref.partitions.find((p) => p.start === plan.newPartition.start)!;
    expect(np).toBeDefined();
    expect(np.number).toBe(4); // the freed entry slot
    expect(np.size).toBe(GiB);
    expect(np.start + np.size).toBe(oldRec.start + oldRec.size);
    const info = sgdiskInfo(img.file, 4);
    expect(info.type).toBe(RE_TYPE);
    expect(info.attributes).toBe('0x8000000000000001');
    expect(info.guid).not.toBe(oldRec.guid); // diskpart gives a new random unique GUID
    const osRef = ref.partitions.find((p) => p.number === 3)!;
    expect(osRef.start).toBe(img.os.start);
    expect(osRef.size).toBe(img.os.size - 454 * MiB);
    expect(osRef.start + osRef.size).toBe(np.start);
    expect(ref.partitions.map((p) => p.number)).toEqual([1, 2, 3, 4]);

    // The new volume: NTFS labelled as Windows labels it, mounted at R.
    expect(host.lettersInUse()).toEqual(new Set(['C', 'X', 'W', 'R']));
    const src = execFileSync('findmnt', ['-n', '-o', 'SOURCE', host.letterRoot('R')], { encoding: 'utf8' }).trim();
    expect(src).toMatch(/^\/dev\/loop\d+$/);
    expect(run('blkid', ['-o', 'value', '-s', 'LABEL', src]).trim()).toBe('Windows RE tools');
    expect(run('blkid', ['-o', 'value', '-s', 'TYPE', src]).trim()).toBe('ntfs');
    writeFileSync(path.join(host.letterRoot('R'), 'probe.txt'), 'written through R:');

    // The OS volume: remounted at W at its new size, its files there, resizable at the new size.
    expect(readFileSync(path.join(host.letterRoot('W'), 'Windows', 'System32', 'config', 'SOFTWARE')).length).toBe(64 * 1024);
    host.close();
    host.close(); // twice is fine
    expect(existsSync(path.join(base, 'W'))).toBe(false);
    withLoop(
      img.file,
      (dev) => {
        const out = run('ntfsresize', ['--info', '--force', '--no-progress-bar', dev]);
        expect(out).toMatch(/You might resize at/);
        const vol = Number(/Current volume size: (\d+) bytes/.exec(out)![1]);
        expect(vol).toBeLessThanOrEqual(osRef.size);
        expect(vol).toBeGreaterThan(osRef.size - MiB);
      },
      { offset: osRef.start, size: osRef.size },
    );
    expect(ours()).toEqual({ loops: [], mounts: [] });
  });

  it('stops at the first failing command with a non-zero exit; later commands are not run', async () => {
    const { img, host } = laptop('fail');
    const table = run('sgdisk', ['-p', img.file]);
    const r = await host.diskpart(
      ['select disk 0', 'select partition 3', 'shrink desired=999999 minimum=999999', 'select partition 4', 'delete partition override', ''].join('\r\n'),
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toMatch(/Virtual Disk Service error:\nThe specified shrink size is too big/);
    expect(r.output).not.toContain('deleted');
    expect(host.log).toEqual(['select disk 0', 'select partition 3', 'shrink desired=999999 minimum=999999']);
    expect(run('sgdisk', ['-p', img.file])).toBe(table);
    // W is back after the failed shrink.
    expect(existsSync(path.join(host.letterRoot('W'), 'Windows', 'System32', 'Recovery', 'ReAgent.xml'))).toBe(true);

    // Syntax errors and an overlapping create fail too, without touching the table.
    const bad = await host.diskpart('select disk 0\r\nfrobnicate now\r\nrescan\r\n');
    expect(bad.exitCode).not.toBe(0);
    expect(bad.output).toMatch(/unknown/i);
    expect(host.log.slice(-2)).toEqual(['select disk 0', 'frobnicate now']);
    const overlap = await host.diskpart(
      `select disk 0\r\ncreate partition primary size=100 offset=${(img.os.start + 10 * MiB) / 1024} id=${RE_TYPE}\r\nassign letter=Q\r\n`,
    );
    expect(overlap.exitCode).not.toBe(0);
    expect(overlap.output).toContain('There is not enough usable space for this operation.');
    expect(host.log.at(-1)).toMatch(/^create partition/);
    const noPart = await host.diskpart('select disk 0\r\nselect partition 9\r\n');
    expect(noPart.exitCode).not.toBe(0);
    expect(run('sgdisk', ['-p', img.file])).toBe(table);
    expect(host.lettersInUse()).toEqual(new Set(['C', 'X', 'W']));
  });

  it('select volume W + detail volume parses to disk 0; reagentc /info reads ReAgent.xml through W', async () => {
    const { img, host, base, recNumber } = laptop('detail');
    const r = await host.diskpart('select volume W\r\ndetail volume\r\n');
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(/Volume \d+ is the selected volume\./);
    const t = parseDiskpartListTable(r.output)!;
    expect(t.columns.map((c) => c.header)).toEqual(['Disk ###', 'Status', 'Size', 'Free', 'Dyn', 'Gpt']);
    expect(t.rows).toHaveLength(1);
    expect(t.rows[0]!.selected).toBe(true);
    expect(diskpartItemNumber(t.rows[0]!.cells[0]!)).toBe(0);
    expect(t.rows[0]!.cells.slice(1)).toEqual(['Online', '3072 MB', '0 B', '', '*']);
    expect(r.output).toMatch(/\nRead-only\s+: No\n/);
    // detail partition: the offset in bytes and the volume (letter, label, file system).
    const dp = await host.diskpart('select volume W\r\ndetail partition\r\n');
    expect(dp.exitCode, dp.output).toBe(0);
    expect(dp.output).toContain(`\nOffset in Bytes: ${img.os.start}\n`);
    expect(dp.output).toContain('\nType    : ebd0a0a2-b9e5-4433-87c0-68b6b72699c7\n');
    const vt = parseDiskpartListTable(dp.output)!;
    expect(vt.rows.map((x) => x.cells.slice(1, 4))).toEqual([['W', 'Windows', 'NTFS']]);

    expect(host.diskPath(0)).toBe(img.file);
    expect(host.diskPath(1)).toBe('\\\\.\\PhysicalDrive1'); // another disk: a device name no file here has
    expect(host.letterRoot('w')).toBe(path.join(base, 'W'));
    expect(host.letterOf(path.join(base, 'W'))).toBe('W');
    expect(host.letterOf(path.join(base, 'W') + '/')).toBe('W');
    expect(host.letterOf('W:\\')).toBe('W');
    expect(host.letterOf('w:')).toBe('W');
    expect(host.letterOf(tmp)).toBeUndefined();

    const info = await host.reagentc!(['/info', '/target', 'W:\\Windows']);
    expect(info.exitCode, info.output).toBe(0);
    expect(info.output).toMatch(/Windows RE status:\s+Enabled\n/);
    expect(info.output).toContain(`Windows RE location:       \\\\?\\GLOBALROOT\\device\\harddisk0\\partition${recNumber}\\Recovery\\WindowsRE\n`);
    const other = await host.reagentc!(['/disable']);
    expect(other.exitCode).toBe(1);
    expect(other.output).toContain('REAGENTC.EXE: Operation failed');
  });
});
