// Independent checks shared by the WinRE rebuild tests (Linux and diskpart backends): python3-hivex on
// the BCD store, raw region hashes with dd, ntfsresize's view of a volume, loop devices over a region.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { withMountedNtfs } from './winbuilder.js';
import { MiB, run } from './disk-images.js';
import { readEspFile, type WinreDisk } from './winre-images.js';
import { hivexDump } from './hive-tools.js';
import { treeHashes } from './tree.js';
import { ownDevices } from './own.js';

export const RE_TYPE = 'de94bba4-06d1-4d40-a16a-bfd50179d6ac';
/** The test's own loop devices and mounts (backed by files under `dir`, its temp dir): never the machine-wide lists. */
export const loops = (dir: string) => ownDevices(dir);

/** GUID string -> the 16 bytes Windows stores (first three fields little-endian), as hex. */
export function guidHex(g: string): string {
  const h = g.replace(/[{}-]/g, '').toLowerCase();
  const swap = (s: string) => s.match(/../g)!.reverse().join('');
  return swap(h.slice(0, 8)) + swap(h.slice(8, 12)) + swap(h.slice(12, 16)) + h.slice(16);
}

export function withLoop<T>(file: string, offset: number, size: number, fn: (dev: string) => T): T {
  const dev = run('losetup', ['--find', '--show', '--offset', String(offset), '--sizelimit', String(size), file]).trim();
  try {
    return fn(dev);
  } finally {
    run('losetup', ['--detach', dev]);
  }
}

export const bcdOf = (img: WinreDisk, tmp: string) => {
  const esp = img.layout.partitions.find((p) => p.role === 'esp');
  const dest = path.join(tmp, `BCD-${Date.now()}`);
  if (esp) return readEspFile(img.file, esp.start, '/EFI/Microsoft/Boot/BCD', dest);
  const sys = img.layout.partitions.find((p) => p.active)!;
  return withMountedNtfs(img.file, sys.start, sys.size, (m) => readFileSync(path.join(m, 'Boot', 'BCD')));
};

/** Every device element (type 0x11000001 / 0x21000001 / 0x31000003) of the store that holds `needle`, by python3-hivex. */
export function bcdDevicesHolding(bcdBytes: Buffer, tmp: string, needle: string): string[] {
  const f = path.join(tmp, `bcd-${Date.now()}.hiv`);
  writeFileSync(f, bcdBytes);
  return hivexDump(f)
    .filter((r) => /\\Elements\\(11000001|21000001|31000003)$/i.test(r.path))
    .filter((r) => r.values.some((v) => v.name === 'Element' && v.data.includes(needle)))
    .map((r) => r.path);
}

export const osTree = (img: WinreDisk, size: number) => withMountedNtfs(img.file, img.os.start, size, (m) => treeHashes(m));
export const regionSha = (file: string, start: number, size: number) => {
  const out = execFileSync('sh', ['-c', `dd if="${file}" bs=1M skip=${start / MiB} count=${size / MiB} status=none | sha256sum`], { encoding: 'utf8' });
  return out.split(' ')[0]!;
};

export const volumeSize = (dev: string) => /Current volume size: (\d+) bytes/.exec(run('ntfsresize', ['--info', '--force', '--no-progress-bar', dev]))![1];
export const readSector = (file: string, at: number) =>
  execFileSync('sh', ['-c', `dd if="${file}" bs=512 skip=${at / 512} count=1 status=none | sha256sum`], { encoding: 'utf8' }).split(' ')[0];

export function sha256Buf(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
