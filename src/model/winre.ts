// The WinRE rebuild as data: the planner's inputs and its plan (src/winre/plan.ts), and the BCD
// device WinRE is re-pointed to (src/formats/bcd-write.ts).
import type { Layout, Plan, Scheme } from './disk.js';

export interface WinreInputs {
  layout: Layout;
  /** Number of the Windows partition (engine numbering: GPT entry + 1, MBR 1-4 / 5..). */
  osPartition: number;
  /** Number of the partition WinRE is on now (ReAgent.xml WinreLocation), when it is not the OS. */
  recoveryPartition?: number;
  winreWimBytes: number;
  /** Free bytes inside the current recovery volume (for notes only). */
  recoveryFreeBytes?: number;
  /** Free space in the OS NTFS volume. */
  osFreeBytes: number;
  /** `ntfsresize --info` minimum size of the OS volume, when known. */
  osMinSizeBytes?: number;
  /**
   * The OS volume is BitLocker-encrypted and locked. The caller decides: on Linux the probe's
   * `-FVE-FS-` means true; in WinPE, after `manage-bde -unlock`, the volume is usable (false) even
   * though its raw first sector still says -FVE-FS-.
   */
  bitlockerOs: boolean;
  /** `--winre-size` in bytes. */
  targetSize?: number;
  /** Reuse the old partition's unique GUID for the new one (GPT; default true). */
  reuseGuid?: boolean;
  /** Free space that must stay in the OS volume after the shrink (default OS_FREE_RESERVE). */
  osReserveBytes?: number;
}

export type WinreCase = 'after-os' | 'before-os' | 'unallocated-after-os' | 'no-recovery' | 'mbr-logical';

/** A partition the plan (and the diskpart script) refers to, with both numberings. */
export interface PlannedRef {
  /** Engine / Linux number. */
  number: number;
  /** The number diskpart's `select partition` uses (see windowsPartitionNumber). */
  windowsNumber: number;
  start: number;
  size: number;
}

export interface WinrePlan {
  case: WinreCase;
  scheme: Scheme;
  sectorSize: number;
  targetSize: number;
  /** The disk engine's plan: shrink, delete, create (validate(diskPlan, layout) passes). */
  diskPlan: Plan;
  newPartition: {
    number: number;
    start: number;
    size: number;
    /** GPT: the old unique GUID when reused; absent = a new random one chosen when applied. */
    guid?: string;
    /** GPT type GUID or MBR "0x27". */
    type: string;
    /** MBR: a logical partition inside the extended one. */
    logical?: boolean;
  };
  /** Bytes taken off the end of the OS partition (0 = no shrink). */
  shrinkOsBy: number;
  /** Number of the old recovery partition the plan deletes. */
  deleteOld?: number;
  os: PlannedRef;
  /** The deleted partition (present when deleteOld is). */
  old?: PlannedRef;
  /** What was decided and why, one ASCII sentence each. */
  notes: string[];
}

export type BcdTarget = { scheme: 'gpt'; diskGuid: string; partitionGuid: string } | { scheme: 'mbr'; diskSignature: number; offset: number };
