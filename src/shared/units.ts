// Sizes: the binary units and the ways wufix prints a byte count. One convention everywhere:
// MiB and GiB (1 MiB = 1048576 bytes), never "MB"; where a count is exact (measured free space, a
// file's size) the bytes follow in brackets. Printed figures are rounded DOWN, so a size never
// reads larger than it is: 262143999 bytes free is "249.9 MiB", not "250 MiB" beside "needs 250 MiB".
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** floor(n / unit) to `digits` decimals, without float noise ("249.9", "82", "4.0"). */
function down(n: number, unit: number, digits: number): string {
  const f = 10 ** digits;
  return (Math.floor((n * f) / unit) / f).toFixed(digits);
}

/** "1024 MiB", "81.9 MiB": whole MiB when exact, else rounded down to 0.1 MiB. */
export function fmtMiB(n: number): string {
  return `${n % MiB === 0 ? String(n / MiB) : down(n, MiB, 1)} MiB`;
}

/** "1024 MiB (1073741824 bytes)", "81.9 MiB (85899345 bytes)": exact and readable (plans, refusals, findings). */
export function describeBytes(n: number): string {
  return `${fmtMiB(n)} (${n} bytes)`;
}

/**
 * "12.3 MiB" below 10 MiB, "250 MiB" from 10 MiB on (floor(n / 1048576) whole MiB): short, for the
 * scan's reports where the bytes are given elsewhere or are not exact (cache folders).
 */
export function fmtBytes(n: number): string {
  if (n >= 10 * MiB) return `${Math.floor(n / MiB)} MiB`;
  return `${down(n, MiB, 1)} MiB`;
}

/** "3.9 GiB" from 1 GiB on (rounded down to 0.1), else as fmtBytes. */
export function fmtSize(n: number): string {
  return n >= GiB ? `${down(n, GiB, 1)} GiB` : fmtBytes(n);
}
