// What a scan is pointed at, and the disk facts gathered around an offline installation.
import type { Layout } from './disk.js';
import type { DiskInfo } from './scan.js';

export interface ScanOptions {
  root?: string;
  disk?: string;
  image?: string;
  /** Windows: also probe X: (the WinPE RAM disk). */
  includeX?: boolean;
  progress?: (msg: string) => void;
  tool: string;
}

/** Where the BCD store was read from: a FAT ESP (read and written with mtools) or an NTFS System Reserved partition. */
export interface BcdLocation {
  partition: number;
  start: number;
  size: number;
  fs: 'fat' | 'ntfs';
  /** Path inside the volume, forward slashes ("/EFI/Microsoft/Boot/BCD"). */
  path: string;
}

export interface DiskFacts {
  info: DiskInfo;
  layout: Layout;
  bitlocker: { partition: number; start: number }[];
  bcd?: { file: string; bytes: Uint8Array; location: BcdLocation };
  /** Gathered through diskpart (Windows/WinPE): the rebuild will be diskpart's, which picks the partition GUID itself. */
  via?: 'diskpart';
}
