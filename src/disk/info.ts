// The disk as the scan report shows it: partitions with their roles and file systems, and which
// one holds Windows and which the recovery environment (pure: a Layout in, DiskInfo out).
import type { Layout } from '../model/disk.js';
import type { DiskInfo } from '../model/scan.js';

/** The report's view of a disk's layout; `osOffset` (the Windows volume's start) marks the OS partition. */
export function toDiskInfo(diskPath: string, layout: Layout, osOffset?: number): DiskInfo {
  const partitions = layout.partitions
    .filter((p) => p.role !== 'extended')
    .map((p) => ({ number: p.number, start: p.start, size: p.size, role: p.role, fs: p.volume?.fs ?? 'unknown', label: p.volume?.label || undefined }));
  const os = osOffset !== undefined ? partitions.find((p) => p.start === osOffset) : undefined;
  const recoveries = partitions.filter((p) => p.role === 'recovery');
  return {
    path: diskPath,
    scheme: layout.scheme,
    sizeBytes: layout.sizeBytes,
    partitions,
    osPartition: os?.number,
    recoveryPartition: recoveries[0]?.number,
  };
}
