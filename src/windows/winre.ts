// What Windows itself requires of its recovery environment (winre.md §1): the updates that service
// WinRE, and the free space they need inside the recovery partition.
import { MiB } from '../shared/units.js';

/** Free space the WinRE update needs inside the recovery partition (KB5034441 and later), counted as MiB. */
export const WINRE_UPDATE_FREE = 250 * MiB;

/** The WinRE servicing updates that fail with 0x80070643 when that space is missing. */
export const WINRE_KBS: ReadonlySet<string> = new Set(['KB5034441', 'KB5034439', 'KB5034440']);
