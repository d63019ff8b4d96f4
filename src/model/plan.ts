// Plans as data. A repair module turns scan findings into steps; each step is one change to the
// offline installation, described fully enough to apply it, verify it and show it to a technician.
// Paths are relative to the Windows volume root, with backslashes, as Windows would show them.
import type { FindingId, ScanResult } from './scan.js';
import type { DiskFacts, BcdLocation } from './target.js';
import type { WinrePlan } from './winre.js';
import type { BcdTarget } from './winre.js';

/** A registry value as stored: type and raw bytes (hex). */
export interface RegData {
  type: number;
  data: string;
}

export type Change =
  /** Set a value (creating missing keys). `old` = the value before (null = absent). */
  | { kind: 'reg-set'; hive: string; key: string; name: string; value: RegData; old: RegData | null }
  /** Delete a value. */
  | { kind: 'reg-delete-value'; hive: string; key: string; name: string; old: RegData }
  /** Delete a key and everything below it. */
  | { kind: 'reg-delete-key'; hive: string; key: string }
  /** Give a key this security descriptor (self-relative, hex); `old` = the one it had (hex). Its subkeys keep theirs. */
  | { kind: 'reg-set-key-security'; hive: string; key: string; sd: string; old: string }
  /** Rename a file or directory (never follows links). */
  | { kind: 'rename'; from: string; to: string }
  /** Keep a copy of a file in the journal's backup (no change to it), e.g. ReportingEvents.log. */
  | { kind: 'keep-copy'; path: string }
  /**
   * Windows/WinPE only: `dism /Image:<root> /Cleanup-Image /RevertPendingActions`. The files DISM may
   * change (COMPONENTS, SOFTWARE, pending.xml) are backed up first; its output goes to the journal.
   */
  | { kind: 'dism-revert-pending' }
  /** `dism /Image:<root> /Cleanup-Image /RestoreHealth /Source:wim:<wim>:<index> /LimitAccess /ScratchDir:<root>\<scratchDir>` (Windows/WinPE). */
  | { kind: 'dism-restore-health'; source: StoreSource; scratchDir: string }
  /** `sfc /scannow /offbootdir=<root> /offwindir=<root>\Windows` (Windows/WinPE). */
  | { kind: 'sfc-offline' }
  /** `dism /Image:<root> /Remove-Package /PackageName:<package>` (Windows/WinPE); `state` as the plan saw it. */
  | { kind: 'dism-remove-package'; package: string; state: string }
  /** Write a file (create or replace). `oldSha256` = the file before (null = absent). */
  | { kind: 'write-file'; path: string; base64: string; oldSha256: string | null }
  /** Rebuild the WinRE partition on the disk (issue #6): runs with the Windows volume unmounted. */
  | WinreRebuild;

/** Where the WinRE files are copied from: a partition's \\Recovery\\WindowsRE, or the OS volume. */
/** The install media image the component store is repaired from (checked against the offline Windows at planning). */
export interface StoreSource {
  /** The WIM/ESD as the technician named it (a host path: a drive letter in WinPE). */
  wim: string;
  index: number;
  /** MAJOR.MINOR.BUILD.SPBUILD of the image. */
  version?: string;
  editionId?: string;
  name?: string;
}

export type WinreSource =
  | { where: 'partition'; partition: number; start: number; size: number; dir: string; files: { name: string; bytes: number }[] }
  | { where: 'os'; files: { name: string; bytes: number; path: string }[] }
  /** Extracted by this process from an install.wim (--winre-source) into its own temp folder: host paths, never taken from a journal. */
  | { where: 'install-wim'; wim: string; index: number; version?: string; files: { name: string; bytes: number; host: string; sha256: string }[] };

export interface WinreRebuild {
  kind: 'winre-rebuild';
  /** The disk (image file or block device) as given. */
  disk: string;
  /** Every partition as the plan saw it (engine number, start, size): checked again before writing. */
  expect: { number: number; start: number; size: number }[];
  /** The planner's result; its create op carries the unique GUID chosen at planning (GPT). */
  winre: WinrePlan;
  source: WinreSource;
  /** The BCD store to re-point, and what it is re-pointed to. */
  bcd?: { location: BcdLocation; target: BcdTarget; osLoader?: string; changes: number };
  /** Volume-relative path of ReAgent.xml (written by a write-file step of the same plan). */
  reagentXml: string;
}

import type { RepairId } from './ids.js';
export { REPAIR_IDS, isRepairId, type RepairId } from './ids.js';

export interface PlanStep {
  /** Repair module id ("wintrust", "wu-cache", ...). */
  repair: RepairId;
  /** The finding that motivates it (id + subject), shown beside the change. */
  reason: string;
  change: Change;
  /** Extra words for the technician (e.g. setreg options before -> after). */
  note?: string;
}

export interface Plan {
  /** Run id: UTC timestamp + random suffix, also the journal directory name. */
  runId: string;
  /** Host path of the Windows volume root. */
  root: string;
  createdAt: string;
  tool: string;
  steps: PlanStep[];
  /** Findings the plan does not fix (no module, or skipped), for the technician. */
  notFixed: { id: string; subject?: string; why: string }[];
}

export interface RepairOptions {
  /** wintrust: the State to write (default 0x23C00). */
  wintrustValue?: number;
  /** services: also write Microsoft's default security descriptors. */
  resetSecurity?: boolean;
  /** pending: also clear PendingFileRenameOperations. */
  clearPendingRenames?: boolean;
  /** wsus-policy: also remove a well-formed WSUS server policy (the machine left that network). */
  wsusResetPolicy?: boolean;
  /** pending: run DISM /RevertPendingActions instead of the offline edits (Windows/WinPE). */
  useDism?: boolean;
  /** trust-cert: certificate files (PEM or DER). */
  certs?: { path: string; bytes: Uint8Array }[];
  /** The run id used for renamed folders (`<name>.wufix-<runId>`). */
  runId: string;
  /** winre: the size of the new recovery partition (--winre-size, bytes). */
  winreSize?: number;
  /** winre: give the new partition the old one's unique GUID (default true). */
  reuseGuid?: boolean;
  /** remove-package: the CBS package (full name, or a KB number) to remove with DISM (--package). */
  removePackage?: string;
  /** component-store: the install media image to repair from (--store-source), checked against the offline build.UBR and edition. */
  storeSource?: StoreSource;
  /** component-store: what the scan could say about the source (component folders of the offline WinSxS it holds). */
  storeCoverage?: string;
  /** winre: Winre.wim and boot.sdi extracted from an install.wim (--winre-source), checked against the offline Windows. */
  winreFromWim?: Extract<WinreSource, { where: 'install-wim' }>;
}

export interface RepairContext {
  root: string;
  scan: ScanResult;
  options: RepairOptions;
  /** The disk under the volume, when the run may change it (repair --image on Linux). */
  disk?: DiskFacts;
}

export interface RepairModule {
  id: RepairId;
  /** One line for --help and the plan header. */
  title: string;
  /** Finding ids this module fixes by default (a module with none runs only with --only). */
  fixes: readonly FindingId[];
  plan(ctx: RepairContext): PlanStep[] | Promise<PlanStep[]>;
  /**
   * Volume paths the repair reads or changes. Before it plans, each is checked without following
   * anything: a link, junction or special file at any of them (or on the way) refuses the repair
   * (exit 3, naming it); a missing one is the planner's business.
   */
  uses?(ctx: RepairContext): string[];
  /** Shown when the module planned nothing although its finding is present (e.g. "--cert <file>"). */
  needs?: string;
}
