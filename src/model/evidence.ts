// Where a finding's or an attempt's evidence is: shared by model/scan.ts and model/attempts.ts.
/** Where a finding's evidence is: a file (+ line or offset), or a registry key (+ value). */
export interface Evidence {
  /** Path as seen inside the Windows volume, e.g. "Windows\\Logs\\CBS\\CBS.log", or a disk image. */
  file?: string;
  line?: number;
  offset?: number;
  /** Registry: hive file (inside the volume) + key path + value name. */
  key?: string;
  value?: string;
  /** The data as read (decoded for humans). */
  data?: string;
  /** When the evidence happened (log lines and events). */
  time?: string;
  note?: string;
}
