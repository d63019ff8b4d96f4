// The Windows/WinPE (diskpart) backend of the WinRE rebuild, end to end on a real disk image. diskpart
// cannot run here, so the host (test/helpers/diskpart-host.ts) carries out each diskpart command with
// the Linux tools (sgdisk/sfdisk, ntfsresize, mkntfs, ntfs-3g and vfat mounts as drive letters). What
// this proves: the facts gathered through drive letters, the script the backend runs, the re-read and
// compare after diskpart, the copy, the BCD re-pointed at the GUID diskpart chose, a rollback after a
// failing diskpart, and undo; checked with sgdisk, blkid, ntfsresize, df and python3-hivex, not with
// our own readers. What it cannot prove: that Windows' diskpart behaves as the host does.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, mkdirSync, writeFileSync, symlinkSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, withMountedNtfs } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB, run } from '../helpers/disk-images.js';
import { buildWinreDisk, readImageLayout, laptopParts, type WinreDisk } from '../helpers/winre-images.js';
import { treeDiff } from '../helpers/tree.js';
import { RE_TYPE, loops, guidHex, withLoop, bcdOf, bcdDevicesHolding, osTree, volumeSize, sha256Buf } from '../helpers/winre-checks.js';
import { linuxDiskpartHost } from '../helpers/diskpart-host.js';
import { dotnetWintrust } from '../scan/scenarios.js';
import { windowsDiskFacts } from '../../src/winre/windows.js';
import { scanTarget } from '../../src/scan/scan.js';
import { buildPlan } from '../../src/engine/plan.js';
import { REPAIRS } from '../../src/cli/wiring.js';
import { newRunId, Journal } from '../../src/engine/journal.js';
import { applyWithDisk, undoWithDisk, windowsBackend } from '../../src/winre/run.js';
import type { WinHost } from '../../src/platform/winhost.js';
import type { Plan } from '../../src/model/plan.js';

const reason = skipReason(
  sharedReason(),
  toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'sfdisk', 'wimcapture', 'ntfsresize', 'ntfsfix', 'blkid'),
  diskToolsReason(),
);

/** sgdisk -p without the lines that change with every run (disk identifier is kept: it must not change). */
const table = (file: string) => run('sgdisk', ['-p', file]);
/** Partition lines of sgdisk -p without the name column (diskpart gives a recreated partition no GPT name). */
const extents = (file: string) =>
  table(file)
    .split('\n')
    .filter((l) => /^\s+\d+\s+\d+\s+\d+/.test(l))
    .map((l) => l.trim().split(/\s+/).slice(0, 6).join(' '));

describe.skipIf(!!reason)('winre: the diskpart (Windows/WinPE) backend on a disk image', () => {
  let tmp = '';
  let tree = '';
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-winre-win-'));
    tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, dotnetWintrust);
  }, 120_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** A host with the Windows volume at W:, closed (every mount and loop device gone) after fn. */
  async function withHost<T>(img: WinreDisk, fn: (host: WinHost & { log: string[] }, root: string) => Promise<T>, wrap?: (h: WinHost) => WinHost): Promise<T> {
    const base = path.join(tmp, `letters-${Date.now()}`);
    mkdirSync(base);
    const os = img.layout.partitions.find((p) => p.start === img.os.start)!;
    const h = linuxDiskpartHost(img.file, { base, letters: { W: os.number } });
    try {
      const host = wrap ? { ...wrap(h), log: h.log } : h;
      return await fn(host, h.letterRoot('W'));
    } finally {
      h.close();
    }
  }

  async function planOn(host: WinHost, root: string): Promise<{ plan: Plan; freeBefore: number | undefined }> {
    const facts = await windowsDiskFacts(host, 'W:');
    const target = await scanTarget({ root, disk: facts.info, bitlocker: facts.bitlocker, bcd: facts.bcd });
    expect(target.findings.map((f) => f.id)).toContain('winre-too-small');
    const plan = await buildPlan(target, REPAIRS, { only: ['winre'] }, { runId: newRunId() }, { tool: 'test', disk: facts });
    return { plan, freeBefore: facts.info.partitions.find((p) => p.number === facts.info.recoveryPartition)?.freeBytes };
  }

  it('Windows 10 22H2 GPT: facts through drive letters, diskpart rebuild checked by offset, BCD at the GUID diskpart chose, undo', async () => {
    const size = 8 * GiB;
    const img = buildWinreDisk(path.join(tmp, 'w10.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
    const oldRec = img.layout.partitions.find((p) => p.role === 'recovery')!;
    const before = {
      table: table(img.file),
      extents: extents(img.file),
      bcd: sha256Buf(bcdOf(img, tmp)),
      tree: osTree(img, img.os.size),
      osVolume: withLoop(img.file, img.os.start, img.os.size, volumeSize),
    };
    const loopsBefore = loops(tmp);
    const journalRoot = path.join(tmp, 'journal');

    const { runId, log } = await withHost(img, async (host, root) => {
      const { plan, freeBefore } = await planOn(host, root);
      expect(freeBefore).toBeLessThan(250 * MiB);
      expect(table(img.file)).toBe(before.table); // gathering facts wrote nothing
      await applyWithDisk(plan, { journalRoot, mountRoot: (fn) => fn(root), backend: windowsBackend(host, root) });
      return { runId: plan.runId, log: [...host.log] };
    });
    expect(loops(tmp)).toEqual(loopsBefore);

    // The script diskpart ran, in order: shrink, delete, create at the planned offset, attributes, format, letter.
    const w = log.join('\n');
    const order = [
      'shrink desired=454 minimum=454',
      'delete partition override',
      'create partition primary size=1024 offset=',
      'gpt attributes=0x8000000000000001',
      'format quick fs=ntfs label="Windows RE tools"',
      'assign letter=R',
      'remove letter=R',
    ];
    const at = order.map((c) => log.findIndex((l) => l.toLowerCase().startsWith(c.toLowerCase())));
    expect(
      at.every((i) => i >= 0),
      w,
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);

    // Independent checks of the result.
    expect(run('sgdisk', ['-v', img.file])).toMatch(/No problems found/);
    const after = readImageLayout(img.file);
    const np = after.partitions.find((p) => p.type === RE_TYPE)!;
    expect(np.start + np.size).toBe(oldRec.start + oldRec.size);
    expect(np.size).toBe(GiB);
    const info = run('sgdisk', ['-i', String(np.number), img.file]);
    expect(info.toLowerCase()).toContain(`partition guid code: ${RE_TYPE}`);
    expect(info).toMatch(/Attribute flags: 8000000000000001/);
    expect(np.guid).not.toBe(oldRec.guid); // diskpart chose a new one; the BCD must follow it
    withLoop(img.file, np.start, np.size, (dev) => expect(run('blkid', ['-o', 'value', '-s', 'LABEL', dev]).trim()).toBe('Windows RE tools'));
    withMountedNtfs(img.file, np.start, np.size, (m) => {
      expect(Number(run('df', ['-B1', '--output=avail', m]).split('\n')[1]!.trim())).toBeGreaterThanOrEqual(250 * MiB);
      expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'Winre.wim'))).toBe(img.wimSha256);
      expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'boot.sdi'))).toBe(img.sdiSha256);
    });
    const osAfter = after.partitions.find((p) => p.start === img.os.start)!;
    expect(osAfter.start + osAfter.size).toBe(np.start);
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
    expect(bcdDevicesHolding(bcd, tmp, guidHex(np.guid!)).length).toBeGreaterThanOrEqual(2);
    expect(bcdDevicesHolding(bcd, tmp, guidHex(oldRec.guid!))).toEqual([]);

    // Windows' own view (the host's reagentc /info) and a fresh scan: enabled, no WinRE finding.
    await withHost(img, async (host, root) => {
      const r = await host.reagentc!(['/info', '/target', 'W:\\Windows']);
      expect(r.output).toMatch(/Windows RE status:\s+Enabled/);
      expect(r.output).toContain(`partition${np.number}\\Recovery\\WindowsRE`);
      const facts = await windowsDiskFacts(host, 'W:');
      const t = await scanTarget({ root, disk: facts.info, bitlocker: facts.bitlocker, bcd: facts.bcd });
      expect(t.findings.map((f) => f.id).filter((id) => id.startsWith('winre'))).toEqual([]);
    });

    // undo: partitions back at their offsets with their types and sizes, the old files, the BCD at the
    // recreated partition, Windows grown back, ReAgent.xml byte for byte.
    const u = await withHost(img, (host, root) => undoWithDisk(journalRoot, runId, { mountRoot: (fn) => fn(root), backend: windowsBackend(host, root) }));
    expect(u.disk).toBe(true);
    expect(u.diskNotes.join(' ')).toMatch(/new unique GUID/);
    expect(extents(img.file)).toEqual(before.extents);
    expect(run('sgdisk', ['-v', img.file])).toMatch(/No problems found/);
    const back = readImageLayout(img.file);
    const rec = back.partitions.find((p) => p.start === oldRec.start)!;
    expect(run('sgdisk', ['-i', String(rec.number), img.file])).toMatch(/Attribute flags: 8000000000000001/);
    withMountedNtfs(img.file, rec.start, rec.size, (m) => {
      expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'Winre.wim'))).toBe(img.wimSha256);
      expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'boot.sdi'))).toBe(img.sdiSha256);
    });
    const bcd2 = bcdOf(img, tmp);
    expect(bcdDevicesHolding(bcd2, tmp, guidHex(rec.guid!)).length).toBeGreaterThanOrEqual(2);
    expect(treeDiff(before.tree, osTree(img, img.os.size))).toEqual([]);
    withLoop(img.file, img.os.start, img.os.size, (dev) => expect(volumeSize(dev)).toBe(before.osVolume));
    expect(Journal.open(journalRoot, runId).state().phase).toBe('undone');
    expect(loops(tmp)).toEqual(loopsBefore);
    rmSync(img.file, { force: true });
  }, 600_000);

  it('MBR, Windows and its recovery partition logical ones: rebuilt as a logical partition by diskpart, undone with the old one recreated as a logical partition', async () => {
    const size = 4454 * MiB; // no room anywhere: Windows (logical 5) has to shrink
    const img = buildWinreDisk(path.join(tmp, 'mbr-logical.img'), {
      scheme: 'mbr',
      size,
      tree,
      parts: [
        { role: 'sysres', start: MiB, size: 100 * MiB, number: 1 },
        { role: 'extended', start: 101 * MiB, size: 4352 * MiB, number: 2 },
        { role: 'os', start: 102 * MiB, size: 3800 * MiB, number: 5 },
        { role: 'recovery', start: 3903 * MiB, size: 550 * MiB, free: 70 * MiB, number: 6 },
      ],
    });
    const dump = () => run('sfdisk', ['--dump', img.file]);
    const parts = () =>
      dump()
        .split('\n')
        .filter((l) => / : start=/.test(l));
    const before = {
      parts: parts(),
      bcd: sha256Buf(bcdOf(img, tmp)),
      tree: osTree(img, img.os.size),
      osVolume: withLoop(img.file, img.os.start, img.os.size, volumeSize),
    };
    const loopsBefore = loops(tmp);
    const journalRoot = path.join(tmp, 'journal-mbr');

    const { runId, log } = await withHost(img, async (host, root) => {
      const { plan } = await planOn(host, root);
      await applyWithDisk(plan, { journalRoot, mountRoot: (fn) => fn(root), backend: windowsBackend(host, root) });
      return { runId: plan.runId, log: [...host.log] };
    });
    expect(loops(tmp)).toEqual(loopsBefore);
    const w = log.join('\n');
    expect(w).toMatch(/shrink desired=\d+ minimum=\d+/i);
    expect(w).toMatch(/create partition logical size=\d+ offset=\d+/i);
    expect(w).toMatch(/set id=27/i);
    run('sfdisk', ['-V', img.file]); // throws on a problem
    const after = readImageLayout(img.file);
    const np = after.partitions.find((p) => p.logical && p.type === '0x27')!;
    expect(np, dump()).toBeDefined();
    expect(np.start + np.size).toBe(3903 * MiB + 550 * MiB);
    expect(np.size).toBe(GiB);
    withMountedNtfs(img.file, np.start, np.size, (m) => {
      expect(Number(run('df', ['-B1', '--output=avail', m]).split('\n')[1]!.trim())).toBeGreaterThanOrEqual(250 * MiB);
      expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'Winre.wim'))).toBe(img.wimSha256);
    });
    const needle = Buffer.from(new BigUint64Array([BigInt(np.start)]).buffer).toString('hex');
    expect(bcdDevicesHolding(bcdOf(img, tmp), tmp, needle).length).toBeGreaterThanOrEqual(2);

    const u = await withHost(img, (host, root) => undoWithDisk(journalRoot, runId, { mountRoot: (fn) => fn(root), backend: windowsBackend(host, root) }));
    expect(u.disk).toBe(true);
    // Every partition back at its place with its type: logical 6 is a logical partition again, 0x27.
    expect(parts()).toEqual(before.parts);
    run('sfdisk', ['-V', img.file]);
    withMountedNtfs(img.file, 3903 * MiB, 550 * MiB, (m) => expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'Winre.wim'))).toBe(img.wimSha256));
    expect(sha256Buf(bcdOf(img, tmp))).toBe(before.bcd); // MBR: the device is the offset, which is the same again
    expect(treeDiff(before.tree, osTree(img, img.os.size))).toEqual([]);
    withLoop(img.file, img.os.start, img.os.size, (dev) => expect(volumeSize(dev)).toBe(before.osVolume));
    expect(loops(tmp)).toEqual(loopsBefore);
    rmSync(img.file, { force: true });
  }, 600_000);

  it('diskpart failing at the format: the partitions, the old files and Windows put back, the BCD store still valid', async () => {
    const size = 6 * GiB;
    const img = buildWinreDisk(path.join(tmp, 'fail.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
    const oldRec = img.layout.partitions.find((p) => p.role === 'recovery')!;
    const before = { extents: extents(img.file), tree: osTree(img, img.os.size), osVolume: withLoop(img.file, img.os.start, img.os.size, volumeSize) };
    const loopsBefore = loops(tmp);
    // Like a real diskpart /s: everything before the failing command is done, nothing after it.
    // Only the rebuild's script fails: the rollback's own script formats the recreated partition too.
    let failed = false;
    const failAtFormat = (h: WinHost): WinHost => ({
      ...h,
      diskpart: async (script) => {
        const cut = script.indexOf('format quick fs=ntfs label="Windows RE tools"');
        if (cut < 0 || failed) return h.diskpart(script);
        failed = true;
        const r = await h.diskpart(script.slice(0, cut));
        return { ...r, exitCode: 2147942405, output: r.output + '\nVirtual Disk Service error:\nThe device is not ready.\n' };
      },
    });
    let error = '';
    await withHost(
      img,
      async (host, root) => {
        const { plan } = await planOn(host, root);
        await applyWithDisk(plan, { journalRoot: path.join(tmp, 'journal-fail'), mountRoot: (fn) => fn(root), backend: windowsBackend(host, root) }).catch(
          (e: Error) => {
            error = e.message;
          },
        );
      },
      failAtFormat,
    );
    expect(error).toMatch(/diskpart failed while rebuilding the WinRE partition .*device is not ready/i);
    expect(loops(tmp)).toEqual(loopsBefore);
    expect(extents(img.file)).toEqual(before.extents);
    expect(run('sgdisk', ['-v', img.file])).toMatch(/No problems found/);
    const back = readImageLayout(img.file);
    const rec = back.partitions.find((p) => p.start === oldRec.start)!;
    expect(rec.type).toBe(RE_TYPE);
    withMountedNtfs(img.file, rec.start, rec.size, (m) => expect(sha256(path.join(m, 'Recovery', 'WindowsRE', 'Winre.wim'))).toBe(img.wimSha256));
    // The recreated partition has a new GUID, and the BCD follows it (else WinRE would not boot).
    expect(bcdDevicesHolding(bcdOf(img, tmp), tmp, guidHex(rec.guid!)).length).toBeGreaterThanOrEqual(2);
    expect(treeDiff(before.tree, osTree(img, img.os.size))).toEqual([]);
    withLoop(img.file, img.os.start, img.os.size, (dev) => expect(volumeSize(dev)).toBe(before.osVolume));
    rmSync(img.file, { force: true });
  }, 600_000);

  it('a link to a host secret and a FIFO in the old Recovery\\WindowsRE: neither saved in the journal nor copied; the new partition holds only the planned files, the host file untouched', async () => {
    const secret = path.join(tmp, 'host-secret-key');
    writeFileSync(secret, randomBytes(512).toString('base64'), { mode: 0o600 });
    const secretSha = sha256(secret);
    const size = 4 * GiB;
    const img = buildWinreDisk(path.join(tmp, 'links.img'), { scheme: 'gpt', size, tree, parts: laptopParts(size, 80 * MiB) });
    // Made through ntfs-3g as an attacker's image holds them, plus an ordinary OEM file elsewhere on the partition.
    withMountedNtfs(img.file, img.recovery!.start, img.recovery!.size, (m) => {
      const d = path.join(m, 'Recovery', 'WindowsRE');
      symlinkSync(secret, path.join(d, 'id_ed25519'));
      execFileSync('mkfifo', [path.join(d, 'pipe')]);
      mkdirSync(path.join(m, 'OEM'));
      writeFileSync(path.join(m, 'OEM', 'tool.txt'), 'OEM recovery tool\r\n');
    });
    const loopsBefore = loops(tmp);
    const journalRoot = path.join(tmp, 'journal-links');
    const runId = await withHost(img, async (host, root) => {
      const { plan } = await planOn(host, root);
      const src = plan.steps.map((s) => s.change).find((c) => c.kind === 'winre-rebuild');
      expect(src?.kind === 'winre-rebuild' && src.source.files.map((f) => f.name).sort()).toEqual(['Winre.wim', 'boot.sdi']);
      await applyWithDisk(plan, { journalRoot, mountRoot: (fn) => fn(root), backend: windowsBackend(host, root) });
      return plan.runId;
    });
    expect(loops(tmp)).toEqual(loopsBefore);
    // The journal keeps every regular file of the old partition (for undo), and names what it did not follow.
    const ds = JSON.parse(readFileSync(path.join(journalRoot, runId, 'disk', 'state.json'), 'utf8')) as {
      old: { files: { path: string }[]; skipped?: string[] };
    };
    const saved = ds.old.files.map((f) => f.path);
    expect(saved).toEqual(expect.arrayContaining(['OEM/tool.txt', 'Recovery/WindowsRE/Winre.wim', 'Recovery/WindowsRE/boot.sdi']));
    expect(saved.filter((p) => /id_ed25519|pipe/.test(p))).toEqual([]);
    expect([...(ds.old.skipped ?? [])].sort()).toEqual(['Recovery/WindowsRE/id_ed25519', 'Recovery/WindowsRE/pipe']);
    expect(existsSync(path.join(journalRoot, runId, 'disk', 'old-recovery', 'Recovery', 'WindowsRE', 'id_ed25519'))).toBe(false);
    // The new partition, mounted read-only and listed: the planned files only.
    const np = readImageLayout(img.file).partitions.find((p) => p.type === RE_TYPE)!;
    const dev = run('losetup', ['--find', '--show', '--read-only', '--offset', String(np.start), '--sizelimit', String(np.size), img.file]).trim();
    const mnt = mkdtempSync(path.join(tmp, 'ro-'));
    let listed: string[];
    try {
      run('ntfs-3g', ['-o', 'ro', dev, mnt]);
      try {
        listed = execFileSync('find', [mnt, '-mindepth', '1', '-not', '-path', `${mnt}/System Volume Information*`, '-printf', '%P %y\n'], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .sort();
      } finally {
        run('umount', [mnt]);
      }
    } finally {
      run('losetup', ['--detach', dev]);
    }
    expect(listed).toEqual(['Recovery d', 'Recovery/WindowsRE d', 'Recovery/WindowsRE/Winre.wim f', 'Recovery/WindowsRE/boot.sdi f']);
    expect(sha256(secret)).toBe(secretSha);
    rmSync(img.file, { force: true });
  }, 600_000);
});
