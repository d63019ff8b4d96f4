// The update-attempt model (issue #16): every log parser yields typed UpdateEvents; one correlation
// step (src/scan/attempts.ts) turns them into UpdateAttempts - one update at one time, with its
// result, codes, phase and the evidence of every source that saw it. Part of the --json schema.
import type { Evidence } from './evidence.js';

/** The log or event source an event came from (one per parser). */
export type LogSource =
  | 'CBS.log'
  | 'CbsPersist'
  | 'DISM.log'
  | 'WindowsUpdate.log'
  | 'ReportingEvents.log'
  | 'System.evtx'
  | 'Setup.evtx'
  | 'WindowsUpdateClient.evtx'
  | 'setupact.log'
  | 'setuperr.log'
  | 'SetupDiag'
  | 'setup log';

/** What was attempted. Only install/uninstall/feature-update are "update attempts" in the counts. */
export type AttemptKind =
  /** An update or package install (CBS package, WU install, LCU/SSU, MSI/.NET patch). */
  | 'install'
  | 'uninstall'
  | 'download'
  /** A WU detection / search (Operational event 25, ReportingEvents 148, "Exit code" of a scan). */
  | 'scan'
  /** A CBS applicability / detection check ("Failed to call external evaluate applicability"). */
  | 'applicability'
  /** SFC /scannow, DISM /ScanHealth /CheckHealth /RestoreHealth /StartComponentCleanup. */
  | 'component-repair'
  /** An optional feature or capability (DISM /Enable-Feature, FoD) - not an update. */
  | 'feature'
  /** Windows setup (Panther): an upgrade to a new Windows version. */
  | 'feature-update';

export type AttemptResult =
  | 'failed'
  | 'succeeded'
  /** Finished its offline part; the next boot completes it (never a failure, never reverted). */
  | 'reboot-pending'
  /** The user or the client cancelled (0x800704C7, 0x8024000B). */
  | 'cancelled'
  | 'not-applicable'
  /** A start event with nothing after it (yet). */
  | 'in-progress'
  | 'unknown';

/** One typed event from one log line (or one EVTX record, or one CBS session's package result). */
export interface UpdateEvent {
  source: LogSource;
  /** Path inside the Windows volume, e.g. "Windows\\Logs\\CBS\\CBS.log". */
  file: string;
  line?: number;
  /** EVTX: System/EventRecordID (what Event Viewer shows), decimal. */
  recordId?: string;
  /** EVTX: the event id (19, 20, 25, 1, 4, ...). */
  eventId?: number;
  /**
   * When it happened. If `timeIsLocal` the log wrote wall-clock time and this Date holds those
   * wall-clock fields as if they were UTC; correlation converts it with the target's time zone.
   */
  time?: Date;
  timeIsLocal: boolean;
  kind: AttemptKind;
  /** 'in-progress' for start events (install started, session initialized). */
  result: AttemptResult;
  /** 'KB5034441' (upper case KB + digits). */
  kb?: string;
  /** CBS package identity, e.g. "Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.1415.1.10". */
  package?: string;
  /** Update title as WU shows it. */
  title?: string;
  /** WU update id (GUID, lower case, no braces). */
  updateId?: string;
  /** HRESULT, '0x' + 8 lower-case hex digits. */
  code?: string;
  /** Setup's extended code ('0x30018' of 0xC1900101 - 0x30018). */
  extendedCode?: string;
  /** Where it failed: setup phase ("FirstBoot,Start", "SafeOS", "Downlevel"), CBS phase ("Startup", "Execute"). */
  phase?: string;
  /** Who asked: 'WindowsUpdateAgent', 'DISM', 'SFC', 'UpdateAgentLCU', 'wusa', 'Update Assistant', ... */
  client?: string;
  /** The source's own grouping id: a CBS session id, a DISM PID, a setup run. */
  session?: string;
  /** component-repair: corruption found that was NOT repaired (files/components named when known). */
  unrepaired?: string[];
  /** component-repair: corruption was found (repaired or not). */
  corruptionFound?: boolean;
  /** A reboot is needed to finish (CBS "Reboot required: yes", 0x80070bc9, 0x80242014). */
  rebootRequired?: boolean;
  /** The line or event text, one line, trimmed (bounded: at most 500 characters). */
  message: string;
}

/** One update (or repair, scan, feature) at one time, as every source saw it. */
export interface UpdateAttempt {
  kind: AttemptKind;
  /** KB, else package identity, else title, else update id: what the report names it by. */
  name: string;
  kb?: string;
  package?: string;
  title?: string;
  updateId?: string;
  /** ISO UTC of the first and last event. */
  time?: string;
  endTime?: string;
  result: AttemptResult;
  /** The deciding code (of the event that set the result). */
  code?: string;
  extendedCode?: string;
  phase?: string;
  client?: string;
  /** component-repair: what was left unrepaired; rebootRequired: what the next boot finishes. */
  unrepaired?: string[];
  corruptionFound?: boolean;
  rebootRequired?: boolean;
  /** Every source that saw it. */
  sources: LogSource[];
  /** One line per event (bounded: the first 20 and a count). */
  evidence: Evidence[];
  /** Events merged into it (evidence beyond the first 20 is counted, not kept). */
  events: number;
}

/** A log file the scan found: how it was read. `understood: false` also appears in problems. */
export interface LogFileRead {
  source: LogSource;
  file: string;
  /** Format recognized ('cbs', 'windowsupdate-decoded', 'windowsupdate-classic', 'evtx', ...). */
  format?: string;
  bytes?: number;
  lines?: number;
  events: number;
  understood: boolean;
  note?: string;
}

/** How the wall-clock times of the logs were turned into UTC. */
export interface TimeZoneUsed {
  /** TimeZoneKeyName ("Central Standard Time"), when the SYSTEM hive has it. */
  name?: string;
  /** Standard bias, minutes east of UTC (UTC-6 is -360). */
  standardOffsetMinutes?: number;
  daylight: boolean;
  /** Where it was read: "SYSTEM ...\\TimeZoneInformation" or "not found: local times taken as UTC". */
  source: string;
}

/** Counts what a parser saw, so a collector (pure parsers fill it in) can tell "read, nothing in it" from "not understood". */
export interface LogReadStats {
  /** Lines (or records) read. */
  lines: number;
  /** Lines (or records) in the expected format. */
  recognized: number;
  /** Format name once recognized. */
  format?: string;
  /** Why the file was not (fully) understood, when known. */
  note?: string;
}

export const newStats = (): LogReadStats => ({ lines: 0, recognized: 0 });
