/**
 * BitLocker advice, defined once: what to tell the user when a volume is encrypted and locked.
 * wufix never unlocks or decrypts; it only names the Windows command that does.
 */

/** The WinPE command that unlocks volume `drive` (a letter, without colon) with recovery key `key`. */
export function manageBdeUnlock(drive: string, key: string): string {
  return `manage-bde -unlock ${drive}: -RecoveryPassword ${key}`;
}

/** The Windows command that decrypts volume `drive` (a letter, without colon) for good. */
export function manageBdeOff(drive: string): string {
  return `manage-bde -off ${drive}:`;
}

/** The advice appended to every "locked, so refused" message (after a "; "). */
export const BITLOCKER_UNLOCK_ADVICE = `unlock it first (WinPE: ${manageBdeUnlock('<drive>', '<key>')})`;
