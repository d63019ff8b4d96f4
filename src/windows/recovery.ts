// What a mounted recovery volume holds: its free space and the WinRE files in Recovery\WindowsRE.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { DiskInfo } from '../model/scan.js';
import { volumeSpace } from './install.js';
import { resolveCI } from './paths.js';

/** Fill in `rec`'s free bytes and WinRE files from its volume mounted at `mnt`. */
export function recoveryFactsAt(mnt: string, rec: DiskInfo['partitions'][number]): void {
  const space = volumeSpace(mnt);
  if (space) rec.freeBytes = space.freeBytes;
  const dir = resolveCI(mnt, 'Recovery\\WindowsRE');
  if (dir) {
    rec.winreFiles = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => ({ name: d.name, bytes: lstatSync(path.join(dir, d.name)).size }));
  }
}
