// Sizes: the binary units and the two ways wufix prints a byte count.
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** "1024 MiB (1073741824 bytes)": exact and readable (plans, refusals). */
export function describeBytes(n: number): string {
  const mib = n / MiB;
  const m = Number.isInteger(mib) ? String(mib) : mib.toFixed(1);
  return `${m} MiB (${n} bytes)`;
}

/** "12.3 MB" / "250 MB": short, for the scan's findings and report (MB = MiB, as Windows counts). */
export function fmtBytes(n: number): string {
  if (n >= 10 * MiB) return `${Math.round(n / MiB)} MB`;
  return `${(n / MiB).toFixed(1)} MB`;
}
