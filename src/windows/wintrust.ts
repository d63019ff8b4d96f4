// WinTrust "Software Publishing" State (windows-update.md §1): decoding like setreg.exe, with the
// inverted options, and reading it from a user hive (DEFAULT, NTUSER.DAT).
import { Hive } from '../hive/hive.js';
import { regDword } from '../hive/query.js';

/** Path of the value's key relative to a user hive's root (HKCU / HKU\<sid>). */
export const WINTRUST_KEY = 'Software\\Microsoft\\Windows\\CurrentVersion\\WinTrust\\Trust Providers\\Software Publishing';
export const WINTRUST_VALUE = 'State';
/** The default Wine writes and DISA STIG V-7061 requires: TRUE {2,3,4,5,6,7}. */
export const DEFAULT_STATE = 0x23c00;

export interface SetregOption {
  n: number;
  label: string;
  /** wintrust.h mask: option n is TRUE <=> ((state & mask) != 0) XOR inverted. */
  mask: number;
  inverted: boolean;
}

/** setreg's SoftPubFlags[] (mingw-w64 wintrust.h masks; labels from MSDN "SetReg"). */
export const SETREG_OPTIONS: readonly SetregOption[] = [
  { n: 1, label: 'Trust the Test Root', mask: 0x20 | 0x80, inverted: false }, // TRUSTTEST | TESTCANBEVALID
  { n: 2, label: 'Use expiration date on certificates', mask: 0x100, inverted: true }, // IGNOREEXPIRATION
  { n: 3, label: 'Check the revocation list', mask: 0x200, inverted: true }, // IGNOREREVOKATION
  { n: 4, label: 'Offline revocation server OK (Individual)', mask: 0x400, inverted: false },
  { n: 5, label: 'Offline revocation server OK (Commercial)', mask: 0x800, inverted: false },
  { n: 6, label: 'Java offline revocation server OK (Individual)', mask: 0x1000, inverted: false },
  { n: 7, label: 'Java offline revocation server OK (Commercial)', mask: 0x2000, inverted: false },
  { n: 8, label: 'Invalidate version 1 signed objects', mask: 0x10000, inverted: false }, // VERIFY_V1_OFF
  { n: 9, label: 'Check the revocation list on Time Stamp Signer', mask: 0x20000, inverted: true }, // IGNOREREVOCATIONONTS
  { n: 10, label: 'Only trust items found in the Trust DB', mask: 0x40000, inverted: false }, // ALLOWONLYPERTRUST
];

const KNOWN_MASK = SETREG_OPTIONS.reduce((m, o) => m | o.mask, 0);

export interface DecodedState {
  state: number;
  options: { n: number; label: string; enabled: boolean }[];
  /** The option numbers that read TRUE, ascending. */
  enabledSet: number[];
  /** Bits setreg does not show (0x49 in the usual vectors; 0x4000/0x8000 WTPF_TIMESTAMP_*). */
  unknownBits: number;
}

export function decodeState(state: number): DecodedState {
  const s = state >>> 0;
  const options = SETREG_OPTIONS.map((o) => ({ n: o.n, label: o.label, enabled: ((s & o.mask) !== 0) !== o.inverted }));
  return {
    state: s,
    options,
    enabledSet: options.filter((o) => o.enabled).map((o) => o.n),
    unknownBits: (s & ~KNOWN_MASK) >>> 0,
  };
}

/**
 * The State that makes exactly the options in `enabled` TRUE, like setreg does (option 1 writes
 * both of its bits). `keepBits` carries over bits outside the setreg masks (pass the old state to
 * keep its unknown bits).
 */
export function encodeState(enabled: Iterable<number>, keepBits = 0): number {
  const on = new Set(enabled);
  let s = (keepBits & ~KNOWN_MASK) >>> 0;
  for (const o of SETREG_OPTIONS) if (on.has(o.n) !== o.inverted) s |= o.mask;
  return s >>> 0;
}

/** Lines like setreg prints its listing (ASCII). */
export function formatSetreg(state: number): string {
  const d = decodeState(state);
  const lines = [`Software Publishing State Key Values (0x${d.state.toString(16)}):`];
  for (const o of d.options) {
    const head = `${o.n}) ${o.label}`;
    lines.push(`\t${head}${'.'.repeat(Math.max(3, 50 - head.length))} ${o.enabled ? 'TRUE' : 'FALSE'}`);
  }
  if (d.unknownBits) lines.push(`\t(bits not shown by setreg: 0x${d.unknownBits.toString(16)})`);
  return lines.join('\n');
}

/** The State DWORD of a user hive, or undefined when the key or value is absent (or not a DWORD). */
export function readState(hive: Hive): number | undefined {
  return regDword(hive, WINTRUST_KEY, WINTRUST_VALUE);
}

/** Whether a State matches the default on every setreg option (unknown bits ignored). */
export function isDefaultEquivalent(state: number): boolean {
  const a = decodeState(state).enabledSet.join(',');
  return a === decodeState(DEFAULT_STATE).enabledSet.join(',');
}
