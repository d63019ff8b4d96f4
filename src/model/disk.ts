// Shared types of the disk layout engine. Every core module works on bytes or on a BlockDevice;
// only blockdev.ts touches the file system.

/** A disk (image file, block device, or memory): byte-addressed, sector-aligned access. */
export interface BlockDevice {
  /** Size of the disk in bytes (a multiple of sectorSize). */
  readonly size: number;
  /** Logical sector size in bytes (512 or 4096). */
  readonly sectorSize: number;
  /** Read `length` bytes at `offset`; throws BadInputError when the range is past the end. */
  read(offset: number, length: number): Uint8Array;
  /** Write bytes at a sector-aligned offset (length a multiple of sectorSize). */
  write(offset: number, bytes: Uint8Array): void;
  /** Flush written data to stable storage (no-op for memory). */
  flush(): void;
  /** A name for messages (path of the image or device). */
  readonly name: string;
}

export type Scheme = 'gpt' | 'mbr';
export type Role = 'esp' | 'msr' | 'basic' | 'recovery' | 'windows-ldm' | 'linux' | 'extended' | 'other';
export type FsKind = 'ntfs' | 'fat12' | 'fat16' | 'fat32' | 'exfat' | 'refs' | 'bitlocker' | 'unknown';

/** What a volume probe found in the first sectors of a partition. */
export interface VolumeInfo {
  fs: FsKind;
  /** Volume label ('' when none or not readable from the boot area). */
  label: string;
  /** Serial as tools print it: NTFS 16 hex digits, FAT/exFAT XXXX-XXXX. */
  serial?: string;
  bytesPerSector?: number;
  clusterSize?: number;
  totalSectors?: number;
  /** BitLocker flavour when fs = bitlocker. */
  bitlocker?: 'vista' | 'win7' | 'togo';
}

/** One partition as the engine models it; byte values, numbers as Linux/diskpart count them. */
export interface Partition {
  /** GPT: entry index + 1. MBR: slot 1-4 for primaries, 5.. for logicals in chain order. */
  number: number;
  /** First byte. */
  start: number;
  /** Length in bytes. */
  size: number;
  /** GPT: lowercase type GUID. MBR: "0x27" style. */
  type: string;
  role: Role;
  /** GPT only: UTF-16 name. */
  name?: string;
  /** GPT only: 64-bit attributes. */
  attributes?: bigint;
  /** GPT only: lowercase unique partition GUID. */
  guid?: string;
  /** MBR only: boot indicator 0x80. GPT: always false. */
  active: boolean;
  /** MBR only: true for logical partitions (inside the extended partition). */
  logical?: boolean;
  /** Filled in by the layout reader's probe (absent for extended containers). */
  volume?: VolumeInfo;
}

export interface Region {
  start: number;
  size: number;
}

/** Where the GPT structures live (needed to write them back consistently). */
export interface GptGeometry {
  firstUsableLba: number;
  lastUsableLba: number;
  primaryEntriesLba: number;
  backupEntriesLba: number;
  backupHeaderLba: number;
  entryCount: number;
  entrySize: number;
  /** Header size and revision of the primary header (kept on write). */
  headerSize: number;
  revision: number;
}

/** MBR chain bookkeeping: where each logical's EBR is. */
export interface MbrGeometry {
  /** Number of the extended partition (1-4) or 0 when there is none. */
  extendedNumber: number;
  /** Byte offset of the EBR that describes each logical partition, keyed by partition number. */
  ebrOffsets: Map<number, number>;
}

export interface Layout {
  scheme: Scheme;
  sectorSize: number;
  sizeBytes: number;
  /** GPT disk GUID (lowercase). */
  diskGuid?: string;
  /** MBR disk signature (u32 at byte 440). */
  signature?: number;
  partitions: Partition[];
  free: Region[];
  gpt?: GptGeometry;
  mbr?: MbrGeometry;
}

export type PlanOp =
  /** Move the end of partition N down by `bytes` (a multiple of 1 MiB). */
  | { op: 'shrink'; partition: number; bytes: number }
  | { op: 'delete'; partition: number }
  /**
   * Create a partition covering [start, end) bytes. GPT: `type` is a GUID; attributes, name and
   * unique GUID optional (a random GUID when absent). MBR: `type` is a byte ("0x27"), `active`
   * sets the boot flag, `logical` places it inside the extended partition.
   */
  | {
      op: 'create';
      start: number;
      end: number;
      type: string;
      attributes?: string | bigint;
      name?: string;
      guid?: string;
      active?: boolean;
      logical?: boolean;
    };

export interface Plan {
  ops: PlanOp[];
}
