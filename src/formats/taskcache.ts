// Task Scheduler's registry copy of a task (SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\
// TaskCache\Tasks\{GUID}, Windows 8.1 to 11): the header of its Triggers value and its Hash value.
// Reverse-engineered, not documented by Microsoft (GDATAAdvancedAnalytics/winreg-tasks, MIT:
// kaitai/triggers.ksy, cyber.wtf 2022-06-01; libyal/winreg-kb Task-scheduler.md):
//
//   0x00  u8   version (0x15 Windows 8.1, 0x16, 0x17 Windows 10/11), then 7 bytes of padding
//   0x08  16   start boundary      0x18  16   end boundary
//   0x28  u32  JobBucket flags (0x00400000 task enabled, 0x00800000 hidden, 0x02000000 task,
//              0x00000100 allow start on demand), then 4 bytes of padding
//   0x30  u32  CRC32 (of what is not documented; left as it is), then 4 bytes of padding
//
// "Bit 0x00400000 clear = disabled" is inferred: no public sample of a disabled task's Triggers
// exists. Hash: SHA-256 of the task XML file without a leading UTF-16LE BOM (FF FE) (checked on
// Windows 7 by its author; a caller proves it for a machine by comparing it first). Pure.
import { createHash } from 'node:crypto';

export const TRIGGERS_HEADER_BYTES = 0x38;
export const TRIGGERS_VERSIONS: readonly number[] = [0x15, 0x16, 0x17];
export const JOB_BUCKET = { enabled: 0x00400000, hidden: 0x00800000, task: 0x02000000, allowDemandStart: 0x00000100 } as const;
const FLAGS_OFFSET = 0x28;
const CRC_OFFSET = 0x30;

export interface TriggersHeader {
  version: number;
  /** The JobBucket flags (u32 at 0x28). */
  flags: number;
  /** Bit 0x00400000 of the flags. */
  enabled: boolean;
  /** Bit 0x02000000 of the flags. */
  task: boolean;
  crc32: number;
}

/** The header, or why these bytes are not a Triggers blob this model knows (too short, unknown version). */
export function parseTriggersHeader(b: Uint8Array): TriggersHeader | { error: string } {
  if (b.length < TRIGGERS_HEADER_BYTES) return { error: `Triggers is ${b.length} byte(s), shorter than its ${TRIGGERS_HEADER_BYTES}-byte header` };
  const version = b[0]!;
  if (!TRIGGERS_VERSIONS.includes(version)) return { error: `Triggers version 0x${version.toString(16).padStart(2, '0')} is not one of 0x15, 0x16, 0x17` };
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const flags = dv.getUint32(FLAGS_OFFSET, true);
  return {
    version,
    flags,
    enabled: (flags & JOB_BUCKET.enabled) !== 0,
    task: (flags & JOB_BUCKET.task) !== 0,
    crc32: dv.getUint32(CRC_OFFSET, true),
  };
}

/** A copy of a Triggers blob with only the enabled bit (0x00400000 of the flags) set or cleared; throws on a blob parseTriggersHeader refuses. */
export function withEnabledBit(b: Uint8Array, enabled: boolean): Uint8Array {
  const h = parseTriggersHeader(b);
  if ('error' in h) throw new Error(h.error);
  const out = new Uint8Array(b);
  const flags = enabled ? (h.flags | JOB_BUCKET.enabled) >>> 0 : (h.flags & ~JOB_BUCKET.enabled) >>> 0;
  new DataView(out.buffer, out.byteOffset, out.length).setUint32(FLAGS_OFFSET, flags, true);
  return out;
}

/** The task file's bytes as TaskCache hashes them: a leading UTF-16LE BOM (FF FE) left out. */
export function taskHashInput(xml: Uint8Array): Uint8Array {
  return xml.length >= 2 && xml[0] === 0xff && xml[1] === 0xfe ? xml.subarray(2) : xml;
}

/** SHA-256 of the task file as TaskCache's Hash value (32 bytes). */
export function taskXmlHash(xml: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(taskHashInput(xml)).digest());
}
