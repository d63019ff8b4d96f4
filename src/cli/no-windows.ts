// The refusal of a scan that found no offline Windows (shared by the Linux and Windows targets).
import { BadInputError } from '../shared/errors.js';

/** A scan that found no offline Windows: exit 2 with where it looked and what to pass instead. */
export function noWindowsError(o: { image?: string; root?: string }): BadInputError {
  const what = 'no offline Windows found';
  if (o.image) return new BadInputError(`${what}: no partition of this image holds Windows\\System32\\config\\SYSTEM`, { file: o.image, code: 'not-windows' });
  if (o.root)
    return new BadInputError(`${what}: no Windows\\System32\\config\\SYSTEM below this folder (not the root of a Windows volume)`, {
      file: o.root,
      code: 'not-windows',
    });
  return new BadInputError(
    process.platform === 'win32'
      ? `${what}: no drive letter holds Windows\\System32\\config\\SYSTEM (X: is skipped): pass --root <drive>:\\, or --include-x`
      : `${what}: no mounted NTFS volume holds Windows\\System32\\config\\SYSTEM: pass --root <mounted volume> or --image <disk image>`,
    { code: 'not-windows' },
  );
}
