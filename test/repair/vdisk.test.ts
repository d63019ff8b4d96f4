// `scan`, `repair` and `undo --image` on virtual disks (issue #18): a real Windows-like GPT image
// (ESP with the BCD store, MSR, NTFS Windows volume, NTFS recovery partition) converted with
// `qemu-img convert` to qcow2, VHDX, VMDK (monolithicSparse), dynamic VHD and VDI. wufix attaches each
// through qemu-storage-daemon (a FUSE export), and must read it as it reads the raw image, repair it,
// undo the repair, and leave no daemon, FUSE mount or loop device behind; the refusals (a
// streamOptimized VMDK opened for writing, a qcow2 overlay whose backing file is gone, an image in
// use) write nothing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB } from '../helpers/disk-images.js';
import { ownDaemons, ownDevices, ownFuseMounts } from '../helpers/own.js';
import { CLI, runCli } from '../helpers/cli.js';
import { testStateDir } from '../helpers/state-dir.js';
import { runCliWithSignals } from '../helpers/cli-signals.js';
import { dotnetWintrust } from '../scan/scenarios.js';
import type { ScanReport } from '../../src/model/scan.js';

const reason = skipReason(
  sharedReason(),
  toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'qemu-img', 'qemu-storage-daemon', 'fusermount3'),
  diskToolsReason(),
);

const jsonErrorCode = (stdout: string): string | undefined => {
  try {
    return (JSON.parse(stdout) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
};

/** [name, qemu-img -O, -o options, our format name] */
const FORMATS: [string, string, string, string][] = [
  ['qcow2', 'qcow2', 'compat=1.1', 'qcow2'],
  ['vhdx', 'vhdx', 'subformat=dynamic', 'vhdx'],
  ['vmdk', 'vmdk', 'subformat=monolithicSparse', 'vmdk'],
  ['vhd', 'vpc', 'subformat=dynamic,force_size=on', 'vhd'],
  ['vdi', 'vdi', 'static=off', 'vdi'],
  // A descriptor file and its flat extent beside it (win.flat-flat.vmdk).
  ['flat.vmdk', 'vmdk', 'subformat=monolithicFlat', 'vmdk'],
];

describe.skipIf(!!reason)(`virtual disks through QEMU${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let tmp = '';
  /** wufix's own temp dirs (FUSE export, ntfs-3g mount points) go under tmp: TMPDIR. */
  let wtmp = '';
  let raw = '';
  let rawScan: ScanReport['targets'][number] | undefined;
  const env = () => ({ TMPDIR: wtmp });
  /** This file's own loop devices and mounts (FUSE exports, loops and ntfs-3g mounts under tmp). */
  const own = () => ownDevices(tmp);
  /** qemu-storage-daemons whose command line names this file's temp dir. */
  const daemons = () => ownDaemons(tmp);
  const fuseMounts = () => ownFuseMounts(tmp);
  const expectNothingLeft = () => {
    expect(own()).toEqual({ loops: [], mounts: [] });
    expect(fuseMounts()).toEqual([]);
    expect(daemons()).toEqual([]);
  };
  const images = new Map<string, string>();
  const convert = (name: string, fmt: string, opts: string, from = raw) => {
    const out = path.join(tmp, `win.${name}`);
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', fmt, '-o', opts, from, out]);
    return out;
  };
  /** A scan target with every spelling of the image path made one, and the container fields left out. */
  const normal = (t: ScanReport['targets'][number], image: string) => {
    const c = structuredClone(t);
    delete c.disk?.container;
    // ntfs-3g mount points are temp dirs named afresh on each run.
    return JSON.parse(
      JSON.stringify(c)
        .split(image)
        .join('IMAGE')
        .replace(/wufix-mnt-[A-Za-z0-9]+/g, 'MNT'),
    ) as unknown;
  };

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-vdisk-'));
    wtmp = path.join(tmp, 'wtmp');
    mkdirSync(wtmp);
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, dotnetWintrust);
    raw = path.join(tmp, 'win.img');
    buildDisk(raw, tree, { size: 2 * GiB, recoverySize: 600 * MiB, recoveryFree: 400 * MiB });
    for (const [name, fmt, opts] of FORMATS) images.set(name, convert(name, fmt, opts));
    const r = runCli(['scan', '--image', raw, '--json'], { env: env() });
    expect(r.status, r.stderr).toBe(10);
    rawScan = (JSON.parse(r.stdout) as ScanReport).targets[0];
  }, 600_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  for (const [name, , , format] of FORMATS) {
    it(`${name}: scan --image reads the disk inside as the raw image's scan, names the container, leaves nothing attached`, () => {
      const img = images.get(name)!;
      const before = sha256(img);
      const r = runCli(['scan', '--image', img, '--json'], { env: env() });
      expect(r.status, r.stderr).toBe(10);
      const t = (JSON.parse(r.stdout) as ScanReport).targets[0]!;
      expect(t.disk?.path).toBe(img);
      expect(t.disk?.container).toMatchObject({ format, virtualSize: 2 * GiB });
      expect(normal(t, img)).toEqual(normal(rawScan!, raw));
      expect(t.findings.map((f) => f.id)).toContain('wintrust-state');
      expect(sha256(img)).toBe(before);
      expectNothingLeft();
      const text = runCli(['scan', '--image', img, '--quiet'], { env: env() }).stdout;
      expect(text).toMatch(new RegExp(`Disk: +${img.replace(/[.]/g, '\\.')}: ${format} `, 'i'));
      expectNothingLeft();
    }, 300_000);

    it(`${name}: repair --image --only wintrust fixes it, rescan clean, undo restores the disk inside, qemu-img check clean`, () => {
      const img = images.get(name)!;
      // The disk inside as it was (raw): a copy of a descriptor VMDK would share its extent.
      const pristine = `${img}.pristine`;
      execFileSync('qemu-img', ['convert', '-O', 'raw', img, pristine]);
      const r = runCli(['repair', '--image', img, '--only', 'wintrust', '--yes'], { env: env() });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Applied \d+ change\(s\) and verified them/);
      expect(r.stdout).toContain(`${img}.wufix-journal`);
      expectNothingLeft();
      expect(spawnSync('qemu-img', ['check', img]).status).not.toBe(2);
      expect(spawnSync('qemu-img', ['compare', '-q', img, pristine]).status).toBe(1); // the repair changed the disk inside
      const s = runCli(['scan', '--image', img, '--json'], { env: env() });
      const t = (JSON.parse(s.stdout) as ScanReport).targets[0]!;
      expect(t.findings.filter((f) => f.id === 'wintrust-state')).toEqual([]);
      const u = runCli(['undo', '--image', img, '--last'], { env: env() });
      expect(u.status, u.stderr).toBe(0);
      expectNothingLeft();
      const chk = spawnSync('qemu-img', ['check', img], { encoding: 'utf8' });
      expect([0, 63], chk.stdout + chk.stderr).toContain(chk.status);
      const after = runCli(['scan', '--image', img, '--json'], { env: env() });
      expect(normal((JSON.parse(after.stdout) as ScanReport).targets[0]!, img)).toEqual(normal(rawScan!, raw));
      const cmp = spawnSync('qemu-img', ['compare', img, pristine], { encoding: 'utf8' });
      // A read-write ntfs-3g mount alone rewrites NTFS metadata; the files are what undo restores.
      expect(cmp.status === 0 || /Content mismatch/.test(cmp.stdout), cmp.stdout + cmp.stderr).toBe(true);
      rmSync(pristine);
    }, 600_000);
  }

  it('refuses to open a streamOptimized VMDK for repair (exit 3, one line, image unchanged); scan reads it', () => {
    const img = convert('stream.vmdk', 'vmdk', 'subformat=streamOptimized');
    const before = sha256(img);
    const s = runCli(['scan', '--image', img, '--json'], { env: env() });
    expect(s.status, s.stderr).toBe(10);
    const r = runCli(['repair', '--image', img, '--only', 'wintrust', '--yes', '--json'], { env: env() });
    expect(r.status, r.stderr).toBe(3);
    expect(jsonErrorCode(r.stdout)).toBe('vdisk-stream-optimized');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^wufix: refused: .*streamOptimized/);
    expect(sha256(img)).toBe(before);
    expectNothingLeft();
  }, 300_000);

  it('a qcow2 overlay: repair writes only the top layer; with its backing file deleted, scan and repair refuse', () => {
    const base = images.get('qcow2')!;
    const baseCopy = path.join(tmp, 'base.qcow2');
    copyFileSync(base, baseCopy);
    const overlay = path.join(tmp, 'overlay.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', baseCopy, '-F', 'qcow2', overlay]);
    const baseBefore = sha256(baseCopy);
    const r = runCli(['repair', '--image', overlay, '--only', 'wintrust', '--yes'], { env: env() });
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(baseCopy)).toBe(baseBefore);
    expectNothingLeft();
    unlinkSync(baseCopy);
    const overlayBefore = sha256(overlay);
    for (const args of [
      ['scan', '--image', overlay, '--json'],
      ['repair', '--image', overlay, '--only', 'wintrust', '--yes', '--json'],
    ]) {
      const x = runCli(args, { env: env() });
      expect(x.status, x.stderr).toBe(3);
      expect(jsonErrorCode(x.stdout)).toBe('vdisk-backing-missing');
      expect(x.stderr.trim().split('\n')).toHaveLength(1);
      expect(x.stderr).toContain(baseCopy);
    }
    expect(sha256(overlay)).toBe(overlayBefore);
    expectNothingLeft();
  }, 600_000);

  it('refuses an image another qemu-storage-daemon holds open, and a VMDK with a VMware .lck folder (exit 3, nothing written)', () => {
    const img = convert('locked.qcow2', 'qcow2', 'compat=1.1');
    const before = sha256(img);
    const pidfile = path.join(tmp, 'holder.pid');
    execFileSync('qemu-storage-daemon', [
      '--blockdev',
      `driver=file,node-name=f,filename=${img},locking=on`,
      '--blockdev',
      'driver=qcow2,node-name=d,file=f',
      '--pidfile',
      pidfile,
      '--daemonize',
    ]);
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    try {
      for (const args of [
        ['repair', '--image', img, '--only', 'wintrust', '--yes', '--json'],
        ['scan', '--image', img, '--json'],
      ]) {
        const r = runCli(args, { env: env() });
        expect(r.status, r.stderr).toBe(3);
        expect(jsonErrorCode(r.stdout)).toBe('vdisk-locked');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
    } finally {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && spawnSync('kill', ['-0', String(pid)]).status === 0; i++) spawnSync('sleep', ['0.1']);
    }
    expect(sha256(img)).toBe(before);
    const vmdk = images.get('vmdk')!;
    const lck = `${vmdk}.lck`;
    mkdirSync(lck);
    try {
      const r = runCli(['repair', '--image', vmdk, '--only', 'wintrust', '--yes', '--json'], { env: env() });
      expect(r.status, r.stderr).toBe(3);
      expect(jsonErrorCode(r.stdout)).toBe('vdisk-locked');
      expect(r.stderr).toContain('VMware');
    } finally {
      rmSync(lck, { recursive: true });
    }
    expectNothingLeft();
  }, 300_000);
  it('refuses a qcow2 that qemu-img check finds damaged (exit 3, one line, nothing written)', () => {
    const img = convert('corrupt.qcow2', 'qcow2', 'compat=1.1');
    // Zero the first refcount block: every cluster in use then has refcount 0 (qemu-img check: errors).
    const fd = openSync(img, 'r+');
    try {
      const head = Buffer.alloc(64);
      readSync(fd, head, 0, 64, 0);
      const table = Number(head.readBigUInt64BE(48));
      const entry = Buffer.alloc(8);
      readSync(fd, entry, 0, 8, table);
      writeSync(fd, Buffer.alloc(4096), 0, 4096, Number(entry.readBigUInt64BE(0)));
    } finally {
      closeSync(fd);
    }
    expect(spawnSync('qemu-img', ['check', img]).status).toBe(2);
    const before = sha256(img);
    for (const args of [
      ['scan', '--image', img, '--json'],
      ['repair', '--image', img, '--only', 'wintrust', '--yes', '--json'],
    ]) {
      const r = runCli(args, { env: env() });
      expect(r.status, r.stderr).toBe(3);
      expect(jsonErrorCode(r.stdout)).toBe('vdisk-corrupt');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^wufix: refused: qemu-img check finds .* damaged/);
    }
    expect(sha256(img)).toBe(before);
    expectNothingLeft();
  }, 300_000);

  it('a backing file outside the image folder, a QEMU protocol, or a device: refused unless WUFIX_BACKING_DIRS allows the folder', () => {
    const far = mkdtempSync(path.join(os.tmpdir(), 'wufix-vdisk-far-'));
    try {
      const base = path.join(far, 'base.qcow2');
      copyFileSync(images.get('qcow2')!, base);
      const near = path.join(tmp, 'near');
      mkdirSync(near);
      const top = path.join(near, 'top.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top]);
      const r = runCli(['scan', '--image', top, '--json'], { env: env() });
      expect(r.status, r.stderr).toBe(3);
      expect(jsonErrorCode(r.stdout)).toBe('vdisk-reference');
      expect(r.stderr).toContain(`outside the image's folder (${near})`);
      const ok = runCli(['scan', '--image', top, '--json'], { env: { ...env(), WUFIX_BACKING_DIRS: far } });
      expect(ok.status, ok.stderr).toBe(10);
      // A backing "file" that is a QEMU protocol, and one that is a device.
      for (const [name, backing] of [
        ['proto.qcow2', 'nbd://127.0.0.1:10809/x'],
        ['dev.qcow2', '/dev/zero'],
      ] as const) {
        const f = path.join(near, name);
        execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', backing, '-F', 'raw', f, '2G']);
        const x = runCli(['scan', '--image', f, '--json'], { env: { ...env(), WUFIX_BACKING_DIRS: '/' } });
        expect(x.status, x.stderr).toBe(3);
        expect(jsonErrorCode(x.stdout)).toBe('vdisk-reference');
        expect(x.stderr.trim().split('\n')).toHaveLength(1);
      }
      expectNothingLeft();
    } finally {
      rmSync(far, { recursive: true, force: true });
    }
  }, 300_000);

  it('Ctrl-C while a qcow2 is attached, and a qemu-storage-daemon killed mid-scan: nothing left attached', async () => {
    const img = images.get('qcow2')!;
    /** Runs a scan; once its daemon exports the disk and a loop device is on it, `act(daemon pids)` (a signal, a kill). */
    const scanAnd = (act: (child: ChildProcess, pids: number[]) => void) =>
      new Promise<{ status: number | null; stderr: string; acted: boolean }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'scan', '--image', img], { env: { ...process.env, ...env(), WUFIX_STATE_DIR: testStateDir() } });
        let stderr = '';
        let acted = false;
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const poll = setInterval(() => {
          const pids = daemons().map(Number);
          if (acted || !pids.length || !own().loops.length) return;
          acted = true;
          act(child, pids);
        }, 10);
        child.on('close', (status) => {
          clearInterval(poll);
          resolve({ status, stderr, acted });
        });
      });
    const r = await scanAnd((child) => child.kill('SIGINT'));
    expect(r.acted).toBe(true);
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expectNothingLeft();
    // The daemon dies under the scan (SIGKILL): reads fail, the scan ends, the stale FUSE mount is unmounted.
    const k = await scanAnd((_child, pids) => pids.forEach((p) => process.kill(p, 'SIGKILL')));
    expect(k.acted).toBe(true);
    expect(k.status, k.stderr).not.toBe(null);
    expect(k.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expectNothingLeft();
  }, 300_000);

  it('SIGTERM mid-repair of a VHDX: rolled back (exit 130), the scan as before, nothing left attached', async () => {
    const img = convert('term.vhdx', 'vhdx', 'subformat=dynamic');
    const r = await runCliWithSignals(['repair', '--image', img, '--only', 'wintrust', '--yes'], [{ when: /saving /, signal: 'SIGTERM' }], {
      env: { ...env(), WUFIX_STATE_DIR: testStateDir() },
    });
    expect(r.fired).toBe(1);
    expect(r.status, r.stderr).toBe(130);
    expectNothingLeft();
    const chk = spawnSync('qemu-img', ['check', img], { encoding: 'utf8' });
    expect(chk.status, chk.stdout + chk.stderr).toBe(0);
    const after = runCli(['scan', '--image', img, '--json'], { env: env() });
    expect(normal((JSON.parse(after.stdout) as ScanReport).targets[0]!, img)).toEqual(normal(rawScan!, raw));
  }, 300_000);

  it('repair --image over several images: one journal each, a bad image reported, the others repaired, the worst exit code', () => {
    const a = convert('many-a.qcow2', 'qcow2', 'compat=1.1');
    const b = convert('many-b.vhdx', 'vhdx', 'subformat=dynamic');
    const blank = path.join(tmp, 'many-c.img');
    execFileSync('truncate', ['-s', '64M', blank]);
    const r = runCli(['repair', '--image', a, blank, b, '--only', 'wintrust', '--yes'], { env: env() });
    expect(r.status, r.stderr).toBe(2);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe('3 image(s); worst exit code 2');
    const head = lines.findIndex((l) => /^IMAGE +EXIT +RESULT$/.test(l));
    expect(head).toBeGreaterThan(0);
    const row = (name: string) => lines.slice(head + 1).find((l) => l.includes(name));
    expect(lines).toContain(`== [2/3] ${blank}`);
    expect(row('many-a.qcow2')).toMatch(/ +0 +repaired/);
    expect(row('many-c.img')).toMatch(/ +2 +bad input/);
    expect(row('many-b.vhdx')).toMatch(/ +0 +repaired/);
    for (const f of [a, b]) {
      expect(existsSync(`${f}.wufix-journal`)).toBe(true);
      const t = (JSON.parse(runCli(['scan', '--image', f, '--json'], { env: env() }).stdout) as ScanReport).targets[0]!;
      expect(t.findings.filter((x) => x.id === 'wintrust-state')).toEqual([]);
    }
    const usage = runCli(['repair', '--image', a, b], { env: env() });
    expect(usage.status).toBe(1);
    expect(usage.stderr).toMatch(/add --yes to apply, or --dry-run/);
    expectNothingLeft();
  }, 600_000);
});
