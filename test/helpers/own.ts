// The test's OWN loop devices and mounts (issue #14 c): never the machine-wide `losetup -a` or mount
// list, which any other loop device or mount on the machine (snaps, a lab's images, another test
// file running beside this one) would change.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Undo the \xHH escapes of `losetup --raw` / `findmnt --raw`. */
const unraw = (s: string) => s.replace(/\\x([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

const under = (p: string, prefixes: string[]) => prefixes.some((d) => p === d || p.startsWith(d.endsWith(path.sep) ? d : d + path.sep));

/**
 * Loop devices whose backing file lies under one of `prefixes` (the test's temp dir: its images and
 * the journals beside them), as sorted "NAME BACK-FILE" lines. `losetup -j <file>` for one image.
 */
export function ownLoops(...prefixes: string[]): string[] {
  const out = execFileSync('losetup', ['--list', '--noheadings', '--raw', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(' ');
      return { name: l.slice(0, i), file: unraw(l.slice(i + 1)).replace(/ \(deleted\)$/, '') };
    })
    .filter((x) => under(x.file, prefixes))
    .map((x) => `${x.name} ${x.file}`)
    .sort();
}

/** Loop devices backed by exactly this file (`losetup -j`). */
export function loopsOf(file: string): string[] {
  return execFileSync('losetup', ['-j', file], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[0]!)
    .sort();
}

/**
 * Mounts that are the test's: a mount point under one of `prefixes`, or a source that is one of the
 * test's loop devices (wufix mounts in its own temp dirs, always through a loop device of the image).
 */
export function ownMounts(...prefixes: string[]): string[] {
  const loops = new Set(ownLoops(...prefixes).map((l) => l.split(' ')[0]!));
  const out = execFileSync('findmnt', ['--noheadings', '--raw', '--output', 'TARGET,SOURCE'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(' ');
      return { target: unraw(l.slice(0, i)), source: unraw(l.slice(i + 1)) };
    })
    .filter((m) => under(m.target, prefixes) || loops.has(m.source))
    .map((m) => `${m.target} ${m.source}`)
    .sort();
}

/** Both, for one equality check before/after a run: `expect(own(tmp)).toEqual(before)`. */
export const ownDevices = (...prefixes: string[]) => ({ loops: ownLoops(...prefixes), mounts: ownMounts(...prefixes) });

/** PIDs of the qemu-storage-daemons whose command line names `dir` (the test's images and FUSE exports under it). */
export function ownDaemons(dir: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmd.includes('qemu-storage-daemon') && cmd.includes(dir);
      } catch {
        return false;
      }
    });
}

/** This process's view of the FUSE mounts under `dir` (mountinfo lines). */
export function ownFuseMounts(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir) && / - fuse/.test(l));
}
