// Virtual-disk containers told by content (src/disk/vdisk.ts), checked against QEMU: every image is
// made by `qemu-img convert` from a real sgdisk GPT image, and what wufix reads from its header
// (format, virtual size, backing file) must equal what `qemu-img info` says. A fixed VHD is read as
// the raw disk it holds; every other container is attached read-only through QEMU by `disk show`
// and `scan` (issue #18), and named by `disk list`, which reads headers only.
import { closeSync, openSync, readSync, statSync, truncateSync, copyFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGpt, diskToolsReason, MiB, tempDir, TYPE, type BuiltImage } from '../helpers/disk-images.js';
import { toolsReason, skipReason } from '../helpers/env.js';
import { detectContainer, type ContainerInfo } from '../../src/disk/vdisk.js';
import { wufixSync } from './cli-helper.js';

const reason = skipReason(diskToolsReason(), toolsReason('qemu-img', 'qemu-storage-daemon', 'fusermount3'));

function detectFile(file: string): ContainerInfo {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    return detectContainer((off, len) => {
      const b = Buffer.alloc(Math.max(0, Math.min(len, size - off)));
      const n = readSync(fd, b, 0, b.length, off);
      return b.subarray(0, n);
    }, size);
  } finally {
    closeSync(fd);
  }
}

interface QemuInfo {
  format: string;
  'virtual-size': number;
  'backing-filename'?: string;
  'format-specific'?: { data?: { 'create-type'?: string; compat?: string } };
}
// The format is named: qemu-img's own probe takes a fixed VHD for raw (it is a raw disk plus a footer).
const qemuInfo = (file: string, fmt?: string) =>
  JSON.parse(execFileSync('qemu-img', ['info', '--output=json', ...(fmt ? ['-f', fmt] : []), file], { encoding: 'utf8' })) as QemuInfo;

describe.skipIf(!!reason)(`virtual-disk containers by content${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  let raw: BuiltImage;
  const made = new Map<string, string>();
  // name -> [qemu format, -o options, our format, our variant]
  const CASES: [string, string, string, ContainerInfo['format'], string | undefined][] = [
    ['qcow2-v3', 'qcow2', 'compat=1.1', 'qcow2', 'v3'],
    ['qcow2-v2', 'qcow2', 'compat=0.10', 'qcow2', 'v2'],
    ['vmdk-sparse', 'vmdk', 'subformat=monolithicSparse', 'vmdk', 'monolithicSparse'],
    ['vmdk-stream', 'vmdk', 'subformat=streamOptimized', 'vmdk', 'streamOptimized'],
    ['vmdk-flat', 'vmdk', 'subformat=monolithicFlat', 'vmdk', 'monolithicFlat'],
    ['vhd-dynamic', 'vpc', 'subformat=dynamic', 'vhd', 'dynamic'],
    ['vhd-fixed', 'vpc', 'subformat=fixed', 'vhd', 'fixed'],
    ['vhdx', 'vhdx', 'subformat=dynamic', 'vhdx', undefined],
    ['vdi', 'vdi', 'static=off', 'vdi', 'dynamic'],
  ];

  beforeAll(() => {
    t = tempDir('wufix-vdisk-');
    // 964 cylinders x 8 heads x 17 sectors: a size qemu keeps for a VHD (it rounds others up to whole
    // CHS cylinders, and the backup GPT would then no longer be at the disk's end).
    raw = buildGpt(path.join(t.dir, 'disk.img'), 964 * 8 * 17 * 512, [
      { start: 1 * MiB, size: 16 * MiB, type: TYPE.ESP, name: 'EFI system partition' },
      { start: 17 * MiB, size: 40 * MiB, type: TYPE.BASIC, name: 'Basic data partition' },
    ]);
    for (const [name, fmt, opts] of CASES) {
      const out = path.join(t.dir, `${name}.${fmt}`);
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', fmt, '-o', opts, raw.file, out]);
      made.set(name, out);
    }
    const overlay = path.join(t.dir, 'overlay.qcow2');
    execFileSync('qemu-img', ['create', '-f', 'qcow2', '-F', 'qcow2', '-b', made.get('qcow2-v3')!, overlay]);
    made.set('qcow2-overlay', overlay);
  });
  afterAll(() => t?.cleanup());

  it('format, variant and virtual size of each qemu-img image equal qemu-img info', () => {
    for (const [name, fmt, , format, variant] of CASES) {
      const file = made.get(name)!;
      const q = qemuInfo(file, fmt);
      const c = detectFile(file);
      expect(c.format, name).toBe(format);
      expect(c.variant, name).toBe(variant);
      expect(c.virtualSize, name).toBe(q['virtual-size']);
      expect(c.backing, name).toBeUndefined();
    }
    expect(detectFile(raw.file)).toEqual({ format: 'raw', label: 'raw disk image' });
  });

  it('a qcow2 overlay names its backing file as qemu-img info does', () => {
    const file = made.get('qcow2-overlay')!;
    const c = detectFile(file);
    expect(c.format).toBe('qcow2');
    expect(c.backing).toBe(qemuInfo(file)['backing-filename']);
    expect(c.virtualSize).toBe(964 * 8 * 17 * 512);
  });

  it('disk show of a fixed VHD is the raw disk inside it (the footer is not a sector of the disk)', () => {
    const a = wufixSync('disk', 'show', '--json', raw.file);
    const b = wufixSync('disk', 'show', '--json', made.get('vhd-fixed')!);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ja = JSON.parse(a.stdout) as { sizeBytes: number; free: unknown };
    const jb = JSON.parse(b.stdout) as { sizeBytes: number; free: unknown };
    expect(jb.sizeBytes).toBe(qemuInfo(made.get('vhd-fixed')!, 'vpc')['virtual-size']);
    expect(jb).toEqual(ja);
  });

  it("every other container: disk show attaches it read-only through QEMU and shows the disk inside (the raw image's table), scan --image finds no Windows in it (exit 2, one line); disk list names it; the file is unchanged", () => {
    const rawShow = JSON.parse(wufixSync('disk', 'show', '--json', raw.file).stdout) as Record<string, unknown>;
    for (const name of ['qcow2-v3', 'qcow2-overlay', 'vmdk-sparse', 'vmdk-stream', 'vmdk-flat', 'vhd-dynamic', 'vhdx', 'vdi']) {
      const file = made.get(name)!;
      const before = execFileSync('sha256sum', [file], { encoding: 'utf8' });
      const c = detectFile(file);
      const s = wufixSync('disk', 'show', '--json', file);
      expect(s.code, `${name}: ${s.stderr}`).toBe(0);
      const { container, ...rest } = JSON.parse(s.stdout) as { container: { format: string; virtualSize: number; label: string } };
      expect(container, name).toMatchObject({ format: c.format, virtualSize: 964 * 8 * 17 * 512 });
      expect(container.label, name).toContain(c.label);
      expect(rest, name).toEqual(rawShow);
      expect(wufixSync('disk', 'show', file).stdout, name).toContain(`Container: ${c.label}`);
      const r = wufixSync('scan', '--image', file);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr, name).toMatch(/no partition of this image holds Windows/);
      // disk list reads headers only: it names the container (exit 2: a disk given could not be read as a disk).
      const l = wufixSync('disk', 'list', '--json', file);
      expect(l.code, name).toBe(2);
      expect(JSON.stringify(JSON.parse(l.stdout)), name).toMatch(/not a raw disk/);
      expect(execFileSync('sha256sum', [file], { encoding: 'utf8' })).toBe(before);
    }
  });

  it('hostile headers: truncated, oversized fields, a backing name past the end: a container with what could be read, never a throw', () => {
    const cut = path.join(t.dir, 'cut.vhdx');
    copyFileSync(made.get('vhdx')!, cut);
    truncateSync(cut, 200 * 1024); // the region table is cut off
    expect(detectFile(cut)).toMatchObject({ format: 'vhdx' });
    expect(detectFile(cut).virtualSize).toBeUndefined();
    const q = Buffer.alloc(4096);
    q.write('QFI\xfb', 0, 'latin1');
    q.writeUInt32BE(3, 4);
    q.writeBigUInt64BE(0xffffffffffffff00n, 8); // backing file offset far past the end
    q.writeUInt32BE(1000, 16);
    q.writeBigUInt64BE(0xffffffffffffffffn, 24); // virtual size 2^64 - 1
    const bad = path.join(t.dir, 'bad.qcow2');
    writeFileSync(bad, q);
    expect(detectFile(bad)).toEqual({ format: 'qcow2', variant: 'v3', label: 'qcow2 virtual disk (QEMU/KVM)' });
    const k = Buffer.alloc(1024);
    k.write('KDMV', 0, 'latin1');
    k.writeBigUInt64LE(1n << 62n, 28); // descriptor offset past the end
    k.writeBigUInt64LE(1n << 40n, 36);
    const vm = path.join(t.dir, 'bad.vmdk');
    writeFileSync(vm, k);
    expect(detectFile(vm)).toMatchObject({ format: 'vmdk', variant: 'sparse extent' });
  });
});
