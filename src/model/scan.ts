// The data a scan collects from one offline Windows, and the findings derived from it.
// This is the `wufix scan --json` schema (documented in docs/scan-json.md); keep both in step.
import type { RepairId } from './ids.js';
import type { LogFileRead, TimeZoneUsed, UpdateAttempt } from './attempts.js';

export type Severity = 'error' | 'warning' | 'info';

export type { Evidence } from './evidence.js';
import type { Evidence } from './evidence.js';

/** Every finding a scan can report (src/scan/rules/); stable, part of the --json schema. */
export type FindingId =
  | 'hive-damaged'
  | 'bitlocker-locked'
  | 'winre-too-small'
  | 'winre-disabled'
  | 'winre-misplaced'
  | 'wintrust-state'
  | 'wu-service-disabled'
  | 'reboot-loop'
  | 'pending-servicing'
  | 'wu-cache'
  | 'wsus-cert-untrusted'
  | 'stale-wsus-policy'
  | 'wsus-client-identity'
  | 'qualitycompat-missing'
  | 'au-paused'
  | 'component-store-corrupt'
  | 'feature-update-rollback'
  | 'low-disk-space'
  | 'transaction-log-full'
  | 'wu-hosts-blocked'
  | 'wu-service-dll'
  | 'wu-service-locked'
  | 'wu-service-key-locked'
  | 'wu-tasks-disabled';

export interface Finding {
  /** Stable id, e.g. "winre-too-small", "wintrust-state". */
  id: FindingId;
  severity: Severity;
  /** One sentence a technician can act on. */
  explanation: string;
  evidence: Evidence[];
  /** The repair that fixes it (`wufix repair --only <id>`), when there is one. */
  repair?: RepairId;
  /** Error codes this finding explains, 0x-prefixed lowercase. */
  errorCodes?: string[];
  /** For per-hive findings: which hive. */
  subject?: string;
  /** The command that runs `repair` on this target (with --image or --root), when the finding has one. */
  nextCommand?: string;
}

/** A repair command the report suggests ("Next:"): runnable as printed, or with a placeholder to fill in. */
export interface NextCommand {
  command: string;
  /** false: the command holds a <placeholder> (named in `note`) the technician must fill in. */
  runnable: boolean;
  /** What to do first or fill in ("unmount /mnt/win first: ..."). */
  note?: string;
  repairs: RepairId[];
}

/** SYSTEM or SOFTWARE that cannot be read: this Windows will not boot (hive-damaged). */
export interface HiveDamage {
  hive: 'SYSTEM' | 'SOFTWARE';
  /** Inside the volume: "Windows\\System32\\config\\SYSTEM". */
  file: string;
  /** What is wrong, in words: "is empty (0 bytes)", "is not a registry hive (...)". */
  problem: string;
  bytes?: number;
  /** Where a copy may be: RegBack, the hive's logs, restore points, Windows.old (each as found). */
  recovery: { file: string; bytes?: number; usable: boolean; note: string }[];
}

/** A repair run recorded in a journal (read-only, untrusted: informational, never authenticated). */
export interface RepairRun {
  runId: string;
  /** When the run finished (its state.json updatedAt), ISO 8601 UTC. */
  finishedAt: string;
  repairs: RepairId[];
  /** The journal folder it was read from (host path). */
  journal: string;
}

export interface SystemInfo {
  productName?: string;
  editionId?: string;
  installationType?: string;
  currentBuild?: number;
  ubr?: number;
  displayVersion?: string;
  /** SYSTEM ...\Control\ComputerName\ComputerName: the name the machine had at its last boot. */
  computerName?: string;
  /** SYSTEM ...\Session Manager\Environment\PROCESSOR_ARCHITECTURE: 'x86' | 'x64' | 'arm64' | 'arm' | 'ia64'. */
  architecture?: string;
}

export interface ServiceState {
  name: string;
  exists: boolean;
  start?: number;
  delayedAutostart?: number;
  hasSecurity?: boolean;
  defaultStart?: number;
  /** Parameters\\ServiceDll as stored, and what Windows writes there (shared-process update services). */
  serviceDll?: string;
  defaultServiceDll?: string;
  /** The Security\Security descriptor locks the service (wuauserv, bits, UsoSvc, WaaSMedicSvc): why, and its SDDL. */
  lockedDown?: { why: string; sddl: string };
  /** The permissions of the service's registry key lock SYSTEM out (wuauserv, bits, UsoSvc, WaaSMedicSvc): why, and their SDDL. */
  keyLocked?: { why: string; sddl: string };
}

export interface HiveWinTrust {
  kind: string;
  sid?: string;
  hive: string;
  exists: boolean;
  state?: number;
  enabledOptions?: number[];
  problem?: string;
}

export interface PartitionInfo {
  number: number;
  start: number;
  size: number;
  role: string;
  fs: string;
  label?: string;
  freeBytes?: number;
  /** Recovery partition: the files in \\Recovery\\WindowsRE (Winre.wim, boot.sdi, ...) with their sizes. */
  winreFiles?: { name: string; bytes: number }[];
  /** Recovery partition: Winre.wim's header and XML data (what wimlib's wiminfo prints), when readable. */
  winreWim?: WimSummary;
  /** Why Winre.wim's header could not be read (not a WIM, damaged, a link). */
  winreWimError?: string;
}

/** One image of a WIM as its XML data describes it. */
export interface WimImageSummary {
  index: number;
  name?: string;
  description?: string;
  dirCount?: number;
  fileCount?: number;
  totalBytes?: number;
  /** <WINDOWS><ARCH>: 0 x86, 9 x64, 12 arm64. */
  arch?: number;
  productName?: string;
  editionId?: string;
  /** MAJOR.MINOR.BUILD.SPBUILD from <WINDOWS><VERSION>. */
  version?: string;
}

/** A WIM file's header and XML data. */
export interface WimSummary {
  /** The WIM GUID as wiminfo prints it: 0x and 32 hex digits. */
  guid: string;
  /** Header version (68864 = 0x10d00). */
  version: number;
  flags: number;
  compression: 'None' | 'XPRESS' | 'LZX' | 'LZMS' | 'unknown';
  chunkSize: number;
  partNumber: number;
  totalParts: number;
  imageCount: number;
  bootIndex: number;
  totalBytes?: number;
  images: WimImageSummary[];
}

/** Files of one image of a WIM where this host can read them (extracted by wimlib, or a read-only DISM mount). */
export interface WimImageFiles {
  /** The host path of `member` ("/Windows/System32/Recovery/Winre.wim"), or undefined when the image has none. */
  find(member: string): string | undefined;
}

/** Opens image `index` of `wim` to read `members` from; refuses (RefusedError) what it cannot open. */
export type WimImageOpener = (wim: string, index: number, members: readonly string[], summary: WimSummary) => WimImageFiles;

export interface DiskInfo {
  path: string;
  /** A virtual-disk container (read through QEMU, or a fixed VHD read directly): its format, variant and the size of the disk inside. */
  container?: { format: 'vhd' | 'vhdx' | 'vmdk' | 'qcow2' | 'vdi'; variant?: string; virtualSize: number };
  scheme: 'gpt' | 'mbr';
  sizeBytes: number;
  partitions: PartitionInfo[];
  osPartition?: number;
  recoveryPartition?: number;
}

export interface WinreInfo {
  reagentXml?: string;
  installState?: number;
  winreLocation?: { path: string; offset?: number; guid?: string; id?: string };
  imageLocation?: string;
  staged?: number;
  bcdStore?: string;
  recoverySequence?: string;
  recoveryEnabled?: boolean;
  /** Winre.wim in Windows\\System32\\Recovery, with its header and XML data when readable. */
  winreWimOnOs?: { path: string; bytes: number; wim?: WimSummary; wimError?: string };
  /** ReAgent.xml fields as read (WinreBCD, locations, states). */
  reagent?: Record<string, unknown>;
  /** The WinRE loader the OS loader's recoverysequence points to, decoded. */
  winreLoader?: { id: string; exists: boolean; description?: string; device?: string; path?: string };
  ramdiskOptions?: { id: string; exists: boolean; sdiDevice?: string; sdiPath?: string };
  bcdProblems?: string[];
}

export interface CacheInfo {
  softwareDistribution?: { path: string; bytes: number; files: number };
  catroot2?: { path: string; bytes: number; files: number };
  bitsQueue: { path: string; bytes: number }[];
}

/** One entry of System32\\config\\TxR named *.blf or *.regtrans-ms (the registry's transaction logs). */
export interface TxrEntry {
  /** Inside the volume: "Windows\\System32\\config\\TxR\\{guid}.TxR.blf". */
  path: string;
  /** What stands there, not followed: only a "file" is ever moved. */
  kind: 'file' | 'dir' | 'link' | 'special';
  bytes?: number;
  /** Why the file is not a sound CLFS log (src/formats/clfs.ts), when it is not. */
  damage?: string;
}

export interface TxrInfo {
  /** Inside the volume: "Windows\\System32\\config\\TxR". */
  folder: string;
  entries: TxrEntry[];
}

export interface PolicyInfo {
  wuServer?: string;
  wuStatusServer?: string;
  targetGroup?: string;
  targetGroupEnabled?: number;
  useWUServer?: number;
  noAutoUpdate?: number;
  auOptions?: number;
  acceptTrustedPublisherCerts?: number;
  qualityCompat?: number;
  qualityCompatApplies?: boolean;
  /** The WSUS client identity (SOFTWARE Microsoft\\Windows\\CurrentVersion\\WindowsUpdate), when any of its values is present. */
  wsusClient?: { susClientId?: string; present: string[] };
}

export interface ServicingInfo {
  rebootPending: boolean;
  packagesPending: string[];
  sessionsPending: string[];
  rebootRequired: boolean;
  pendingXml?: string;
  componentsPending: string[];
  pendingFileRenames: number;
  /** CBS packages by CurrentState name ("Installed": 312, "Install Pending": 1, ...). */
  packageStates?: Record<string, number>;
  /** Packages in a pending state, with their KB. */
  pendingPackages?: { name: string; state: string; kb?: string }[];
}

export interface CertInfo {
  store: string;
  thumbprint: string;
  subject: string;
  notAfter?: string;
}

/** A hosts-file entry that maps a Windows Update name to an address (src/windows/wuhosts.ts). */
export interface BlockedHostsLine {
  /** 1-based line number. */
  line: number;
  /** The line as written (UTF-8 text). */
  text: string;
  address: string;
  /** Its Windows Update names, as written. */
  wuNames: string[];
  /** Its other names, as written (the wu-hosts repair keeps them mapped, on a line of their own). */
  otherNames: string[];
  /** One of its names is a core Windows Update host (scan and download), not only a helper. */
  core: boolean;
}

/** Windows\System32\drivers\etc\hosts, when it is a regular file the scan could read. */
export interface HostsInfo {
  /** Inside the volume: "Windows\System32\drivers\etc\hosts" as stored. */
  path: string;
  bytes: number;
  /** The entries naming a Windows Update host, in file order (empty: none). */
  blocked: BlockedHostsLine[];
}

/** Everything read from one offline Windows. */
export interface TargetScan {
  root: string;
  windowsDir: string;
  system: SystemInfo;
  services: ServiceState[];
  controlSets: string[];
  wintrust: HiveWinTrust[];
  servicing: ServicingInfo;
  policy: PolicyInfo;
  certificates: CertInfo[];
  winre: WinreInfo;
  disk?: DiskInfo;
  bitlocker: { partition: number; start: number }[];
  caches: CacheInfo;
  /** The registry transaction logs, when System32\\config\\TxR is a real folder. */
  txr?: TxrInfo;
  /** Every update attempt the logs describe, correlated across sources, oldest first (issue #16). */
  attempts: UpdateAttempt[];
  /** Each log file found, and how it was read. */
  logs: LogFileRead[];
  /** How local log times were turned into UTC. */
  timeZone?: TimeZoneUsed;
  /** The hosts file, when present and readable (wu-hosts-blocked). */
  hosts?: HostsInfo;
  /** Windows Update's scheduled tasks (UpdateOrchestrator, WindowsUpdate) as their task XML says (wu-tasks-disabled). */
  wuTasks?: WuTask[];
  /** Free bytes of the Windows volume when measured (low-disk-space). */
  osFreeBytes?: number;
  /** SYSTEM or SOFTWARE unreadable (hive-damaged). */
  hiveDamage?: HiveDamage[];
  /** Repair runs that finished and verified (phase "verified"), from the journal; oldest first. */
  repairRuns?: RepairRun[];
  /** Things that could not be read (missing files are normal; damaged ones are listed here). */
  problems: string[];
}

/** One of Windows Update's task files, as the scan read it. */
export interface WuTask {
  path: string;
  uri?: string;
  enabled?: boolean;
  /** A disabled task only: what Task Scheduler's registry copy (SOFTWARE TaskCache) says, and whether the wu-tasks repair may change it. */
  cache?: TaskCacheCheck;
}

/** A disabled task checked against the TaskCache (src/windows/taskcache.ts). */
export interface TaskCacheCheck {
  /** TaskCache Tree\<task path> Id, "{GUID}" uppercase. */
  id?: string;
  /** Byte 0 of Tasks\{GUID} Triggers (0x15, 0x16, 0x17). */
  triggersVersion?: number;
  /** Bit 0x00400000 of the Triggers JobBucket flags (set = enabled, as far as is known). */
  enabledBit?: boolean;
  /** Whether Tasks\{GUID} Hash is the SHA-256 of the task file without its BOM; absent when there is no Hash value. */
  hashMatches?: boolean;
  /** Every check passed: `wufix repair --only wu-tasks` re-enables it offline. */
  repairable: boolean;
  /** Why not, when not repairable. */
  why?: string;
}

/** What an error code seen in the logs means (from the error-code knowledge base). */
export interface CodeInfo {
  code: string;
  symbol?: string;
  meaning: string;
  /** Repairs that address it. */
  repairs: string[];
  /** How many failures in the logs carry it. */
  count: number;
}

export interface ScanResult extends TargetScan {
  findings: Finding[];
  /** Every error code in the update failures, explained. */
  codes: CodeInfo[];
  /** The repair commands to run next (the report's "Next:"), each with the target option it needs. */
  nextCommands?: NextCommand[];
}

/** The --json schema version (docs/scan-json.md): 2 adds attempts, logs, timeZone (issue #16). */
export const SCAN_SCHEMA_VERSION = 2;

export interface ScanReport {
  schemaVersion: number;
  tool: string;
  scannedAt: string;
  targets: ScanResult[];
  /** Only when no offline Windows was found (exit 2): the error, as --json prints errors (src/cli/output.ts). */
  error?: { code: string; exitCode: number; message: string; file?: string };
}
