// A read-only DISM mount of one image of a WIM (Windows/WinPE; issue #19, item 6): how
// `--winre-source install.wim` reads Windows\System32\Recovery\Winre.wim and boot.sdi where wimlib
// is not there. learn.microsoft.com "DISM Image Management Command-Line Options":
//   dism /Mount-Image /ImageFile:<wim> /Index:<n> /MountDir:<empty folder> /ReadOnly
//   dism /Unmount-Image /MountDir:<folder> /Discard
// The mount folder is a new empty folder in the host's temp (WinPE: X:, the RAM disk, NTFS); a
// mount takes no space there (the files are read from the WIM), so nothing is copied and nothing
// is written to the offline Windows before the plan is confirmed. The mount is discarded when the
// process ends, however it ends (an 'exit' backstop, as for diskpart's virtual disks). DISM cannot
// mount an ESD (solid LZMS): refused with the /Export-Image command that makes a WIM of it.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WimImageOpener, WimSummary } from '../model/scan.js';
import { RefusedError } from '../shared/errors.js';

/** Runs dism.exe with `args` to the end; its output as text. */
export type DismSync = (args: string[]) => { status: number | null; output: string };

const winPath = (p: string) => p.replace(/\//g, '\\').replace(/\\+$/, '');

export function dismMountArgs(wim: string, index: number, mountDir: string): string[] {
  return ['/English', '/Mount-Image', `/ImageFile:${winPath(wim)}`, `/Index:${index}`, `/MountDir:${winPath(mountDir)}`, '/ReadOnly'];
}

export function dismUnmountArgs(mountDir: string): string[] {
  return ['/English', '/Unmount-Image', `/MountDir:${winPath(mountDir)}`, '/Discard'];
}

/** DISM's own words for a failure: its "Error: ..." line and the line after, else its last line. */
export function dismErrorText(output: string): string {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const i = lines.findIndex((l) => /^Error:?\s/i.test(l));
  const text = i >= 0 ? lines.slice(i, i + 2).join(' ') : (lines.at(-1) ?? 'no output');
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 240);
}

/** Mounted by this process and not yet discarded: folder -> how to discard it. */
const live = new Map<string, DismSync>();

/** Discard the mount in `dir` and remove the folder; true when DISM said it was discarded. */
function discard(dir: string, run: DismSync): boolean {
  live.delete(dir);
  let ok = false;
  try {
    ok = run(dismUnmountArgs(dir)).status === 0;
    rmdirSync(dir);
  } catch {
    /* the process is ending, or DISM kept the folder: nothing more can be done here */
  }
  return ok;
}

/** Discard every mount of this process (synchronously: for 'exit'); returns the folders unmounted. */
export function unmountAllSync(): string[] {
  return [...live].filter(([dir, run]) => discard(dir, run)).map(([dir]) => dir);
}

process.on('exit', () => {
  unmountAllSync();
});

/** dism.exe of the running Windows/WinPE, run synchronously (a mount takes seconds to a minute). */
export function dismSync(exe: string): DismSync {
  return (args) => {
    const r = spawnSync(exe, args, { encoding: 'latin1', windowsHide: true, timeout: 20 * 60_000, maxBuffer: 1 << 24 });
    return { status: r.error ? null : r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
  };
}

/**
 * An opener that mounts the image read-only with DISM and finds the members in the mount folder.
 * `run` is dism.exe (or a stand-in in tests); `tmp` where the mount folder is made.
 */
export function dismMountOpener(run: DismSync, tmp: string = os.tmpdir()): WimImageOpener {
  return (wim: string, index: number, _members: readonly string[], summary: WimSummary) => {
    if (summary.compression === 'LZMS' || summary.version === 0xe00)
      throw new RefusedError(
        `${wim} is an ESD (solid LZMS), which DISM cannot mount: make a WIM of its image first (dism /Export-Image /SourceImageFile:${winPath(wim)} /SourceIndex:${index} /DestinationImageFile:<D:>\\install.wim /Compress:max /CheckIntegrity, on a drive with ~5 GB free, not X:) and give that to --winre-source`,
        'winre-source-bad',
      );
    const dir = mkdtempSync(path.join(tmp, 'wufix-winre-mount-'));
    live.set(dir, run);
    const r = run(dismMountArgs(wim, index, dir));
    if (r.status !== 0) {
      discard(dir, run); // a failed mount can still leave one behind
      throw new RefusedError(`DISM could not mount image ${index} of ${wim} read-only: ${dismErrorText(r.output)}; nothing was written`, 'winre-source-bad');
    }
    return {
      // Each folder on the way checked with lstat: a junction or link inside the image (media are
      // input too) would lead the copy to a file of this host instead of the image's.
      find(member: string) {
        const parts = member.split('/').filter(Boolean);
        let p = dir;
        try {
          for (const [i, part] of parts.entries()) {
            p = path.join(p, part);
            const st = lstatSync(p);
            if (i < parts.length - 1 && !st.isDirectory()) return undefined; // the file itself is judged by the caller (lstat)
          }
          return p;
        } catch {
          return undefined;
        }
      },
    };
  };
}
