// mtools driver: copies one file out of or into a FAT volume inside an image or disk (the EFI
// system partition's BCD store) without the kernel's vfat. The only module that runs mcopy for
// the WinRE rebuild.
import { execFileSync } from 'node:child_process';
import { RefusedError, BadInputError } from '../shared/errors.js';

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

function mtools(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', env: MTOOLS_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new RefusedError(`${cmd} (Debian package mtools) is not installed; it writes the EFI system partition`, 'missing-tool');
    throw new BadInputError(`${cmd} failed: ${(err.stderr ?? err.message).trim().split('\n')[0]}`);
  }
}

/** Copy `fatPath` of the FAT volume at byte `offset` of `image` to the host file `dest`. */
export function mcopyOut(image: string, offset: number, fatPath: string, dest: string): void {
  mtools('mcopy', ['-n', '-i', `${image}@@${offset}`, `::${fatPath}`, dest]);
}

/** Copy the host file `src` over `fatPath` of the FAT volume at byte `offset` of `image`. */
export function mcopyIn(image: string, offset: number, src: string, fatPath: string): void {
  mtools('mcopy', ['-o', '-i', `${image}@@${offset}`, src, `::${fatPath}`]);
}
