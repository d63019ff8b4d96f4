// Windows setup (Panther) logs as feature-update events (issue #16): setupact.log and setuperr.log of
// $WINDOWS.~BT\Sources\Panther, ...\Rollback, Windows\Panther and Windows\Panther\NewOS.
//
// Line format: "2021-05-12 04:47:32, Error   [0x064183] SP     message" (date, time, level, an optional
// [0x...] message id, a component such as SP, MOUPG, CONX, CSI, MIG, DU; the component may be blank).
// Several runs may be appended to one file, each with its own UTF-8 BOM (stripped per line).
//
// What becomes an event (nothing else does; an Error line with a code is not an event by itself):
// - setupact: "SetupHost: Setup build version is: V" outside a rollback: a setup run started
//   (in-progress); "Reporting post reboot event -> [0xC1900101, 0x30018]" and "Reporting error event
//   -> [0x80070032, 0x50013]": the run's result (code, extended code, phase). 0x800704C7
//   ERROR_CANCELLED / 0x800704D3 ERROR_REQUEST_ABORTED there mean the user cancelled: 'cancelled'.
//   The phase: the rollback's "Current phase string : FirstBoot,Start" after "Initiating
//   rollback/uninstall", else the SetupManager mode that failed ("CSetupManager::ExecuteDownlevelMode
//   ... Result = 0x..." -> Downlevel), else the last "Setup phase change: [..] -> [SetupPhaseX]".
//   The message quotes the setup platform (SP) line that first reported the result's code, when
//   there is one ("Disk provisioning is not available; hr = 0x80070032").
// - setuperr: the first root-cause line of a run: an SP Error line saying an operation failed with
//   "Error: 0x..." / "hr = 0x..." ("Sysprep specialize offline failed. Error: 0x80070005"), as a
//   failed event with that code. Not the noise: other components (MIG, CSI, DU, CONX, MOUPG's call
//   stack "Result = 0x..." lines, IBSLIB), telemetry merges, dynamic-update downloads.
//
// Times: setup writes wall-clock time without an offset, but not always the same clock: the
// downlevel and full-OS phases write local time while the rollback / WinPE / SafeOS phases write UTC
// (the baslr rollback logs go from 04:47 local to 03:11 UTC and back to 05:12 local). Which phase
// wrote a line cannot be proven from the line itself, so every event is timeIsLocal: true (the
// result lines "Reporting ... event" are written by SetupHost in the full OS, i.e. local time).
import type { AttemptResult, LogReadStats, UpdateEvent } from '../../model/attempts.js';
import { detach, hexField, parseLogTime } from './fields.js';
import { type ByteChunks, type ParseOptions, readLineBatches } from './lines.js';

export interface PantherOptions extends ParseOptions {
  stats?: LogReadStats;
  source: 'setupact.log' | 'setuperr.log';
  /**
   * The setup installation these logs belong to (e.g. "$WINDOWS.~BT" or "Windows\\Panther"); the
   * session of each event is "<session>#<run>" (run 1, 2, ... within the file). Default: `file`.
   */
  session?: string;
}

/** Panther lines are short; a longer one is cut (bounded memory). */
export const PANTHER_MAX_LINE = 16 * 1024;
const MAX_MESSAGE = 500;
/** SP lines remembered per run to quote as the cause of the result (bounded). */
const MAX_CAUSES = 64;
/** A SetupHost started this soon after "Initiating rollback" belongs to the rollback (it reports it). */
const ROLLBACK_RELAUNCH_MS = 10 * 60_000;

const LINE_RE = /^\uFEFF?(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d), (Info|Error|Warning|Warn|Perf|Fatal|Debug)\s+(?:\[0x[0-9a-f]+\]\s+)?(.*)$/i;
const COMPONENT_RE = /^([A-Z][A-Z0-9]{1,9})\s+(.*)$/;
const START_RE = /SetupHost: Setup build version is:\s*(\S+)/;
const BEGIN_RE = /SetupHost Logging Begin/;
const ROLLBACK_RE = /Initiating rollback\/uninstall/i;
const PHASE_STRING_RE = /Current phase string\s*:\s*(.+)$/i;
const REPORT_RE = /SetupHost: Reporting (post reboot|error) event -> \[(0x[0-9a-f]{1,8}),\s*(0x[0-9a-f]{1,8})\]/i;
const MODE_RE = /CSetupManager::Execute(\w+?)Mode\(\d+\): Result = 0x/;
const PHASE_CHANGE_RE = /Setup phase change: \[\w*\] -> \[SetupPhase(\w+)\]/;
/** An SP line naming a failed operation with its code. */
const SP_CODE_RE = /\b(?:Error|hr|Status)\s*[:=]\s*(0x[0-9a-f]{1,8})\b/i;
const SP_FAIL_RE = /\bfail(?:ed|ure)?\b|\bcannot\b|\bnot available\b|\bunable\b/i;
/** SP lines that are not a root cause: telemetry merges, dynamic-update downloads, migration objects. */
const SP_NOISE_RE = /telemetry|dynamic ?update|DUUpdates|\bdownload|gathering\/applying object/i;

const CANCEL_CODES = new Set(['0x800704c7', '0x800704d3']);

function clean(s: string): string {
  const t = s
    .replace(/[^\x20-\x7e]/g, (c) => (c === '\t' ? ' ' : '?'))
    .replace(/\s+/g, ' ')
    .trim();
  return detach(t.length > MAX_MESSAGE ? t.slice(0, MAX_MESSAGE - 3) + '...' : t);
}

/** '0x30018' (no padding): the extended part of a setup code, or undefined when it is an HRESULT. */
function extended(code: string): string | undefined {
  const n = parseInt(code.slice(2), 16);
  return n > 0 && n < 0x100000 ? '0x' + n.toString(16) : undefined;
}

interface Run {
  n: number;
  /** Records read in this run. */
  records: number;
  rollbackAt?: number;
  rollbackPhase?: string;
  mode?: string;
  phaseChange?: string;
  started: boolean;
  rootCause: boolean;
  /** code -> the first SP line that reported it. */
  causes: Map<string, string>;
  reported: Set<string>;
}

const newRun = (n: number): Run => ({ n, records: 0, started: false, rootCause: false, causes: new Map(), reported: new Set() });

/**
 * Feature-update events of one setupact.log or setuperr.log. `file` is its path inside the Windows
 * volume. Pure: byte chunks in, events out; memory bounded by the chunk size and PANTHER_MAX_LINE.
 */
// long: one pass over the lines with the run state machine described above
export async function* pantherEvents(chunks: ByteChunks, file: string, opts: PantherOptions): AsyncGenerator<UpdateEvent> {
  const stats = opts.stats;
  if (stats) stats.format ??= 'panther';
  const source = opts.source;
  const base = opts.session ?? file;
  let run = newRun(1);
  let out: UpdateEvent[] = [];

  const event = (line: number, time: Date | undefined, result: AttemptResult, message: string, extra: Partial<UpdateEvent> = {}): void => {
    const e: UpdateEvent = { source, file, line, timeIsLocal: true, kind: 'feature-update', result, session: `${base}#${run.n}`, message: clean(message) };
    if (time) e.time = time;
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) (e as unknown as Record<string, unknown>)[k] = v;
    out.push(e);
  };

  for await (const batch of readLineBatches(chunks, { ...opts, maxLineLength: opts.maxLineLength ?? PANTHER_MAX_LINE })) {
    for (let i = 0; i < batch.lines.length; i++) {
      const text = batch.lines[i]!;
      if (stats) stats.lines++;
      const m = LINE_RE.exec(text);
      if (!m) continue;
      if (stats) stats.recognized++;
      const lineNo = batch.first + i;
      const t = parseLogTime(m[1]!, m[2]!);
      const time = t?.time;
      const ms = time ? time.getTime() : NaN;
      const level = m[3]!.toLowerCase();
      const rest = m[4]!;
      const cm = COMPONENT_RE.exec(rest);
      const component = cm ? cm[1]! : '';
      const msg = cm ? cm[2]! : rest;
      const begin = BEGIN_RE.test(msg);
      if (!begin) run.records++;

      if (begin) {
        // A new setup run, unless SetupHost was relaunched by the rollback to report it.
        const inRollback = run.rollbackAt !== undefined && (Number.isNaN(ms) || ms - run.rollbackAt <= ROLLBACK_RELAUNCH_MS);
        if (!inRollback && run.records > 0) run = newRun(run.n + 1);
        continue;
      }
      if (ROLLBACK_RE.test(msg)) {
        run.rollbackAt = Number.isNaN(ms) ? 0 : ms;
        continue;
      }
      const ps = PHASE_STRING_RE.exec(msg);
      if (ps) {
        if (run.rollbackAt !== undefined) run.rollbackPhase = clean(ps[1]!).slice(0, 100);
        continue;
      }
      const pc = PHASE_CHANGE_RE.exec(msg);
      if (pc) {
        if (!/^(Error|Unknown)$/i.test(pc[1]!)) run.phaseChange = pc[1]!;
        continue;
      }
      if (level === 'error') {
        const mode = MODE_RE.exec(msg);
        if (mode) run.mode = mode[1]!;
        if (component === 'SP' && SP_FAIL_RE.test(msg) && !SP_NOISE_RE.test(msg)) {
          const c = SP_CODE_RE.exec(msg);
          const code = c ? hexField(c[1]!) : undefined;
          if (code && code !== '0x00000000') {
            if (run.causes.size < MAX_CAUSES && !run.causes.has(code)) run.causes.set(code, clean(`${component} ${msg}`));
            if (source === 'setuperr.log' && !run.rootCause) {
              run.rootCause = true;
              event(lineNo, time, 'failed', `${component} ${msg}`, { code });
            }
          }
        }
        continue;
      }
      if (source !== 'setupact.log') continue;
      const st = START_RE.exec(msg);
      if (st) {
        if (run.rollbackAt === undefined && !run.started) {
          run.started = true;
          event(lineNo, time, 'in-progress', `${component} ${msg}`);
        }
        continue;
      }
      const rep = REPORT_RE.exec(msg);
      if (rep) {
        const a = hexField(rep[2]!)!;
        const b = hexField(rep[3]!)!;
        const key = `${a} ${b}`;
        if (run.reported.has(key)) continue; // the rollback's SetupHost reports the same result again
        run.reported.add(key);
        const phase = run.rollbackAt !== undefined ? run.rollbackPhase : (run.mode ?? run.phaseChange);
        if (CANCEL_CODES.has(a) || CANCEL_CODES.has(b)) {
          event(lineNo, time, 'cancelled', `${component} ${msg}`, { code: a === '0x800704c7' || b === '0x800704c7' ? '0x800704c7' : a, phase });
        } else if (a === '0x00000000') {
          event(lineNo, time, 'succeeded', `${component} ${msg}`, { phase });
        } else {
          const cause = run.causes.get(a);
          event(lineNo, time, 'failed', `${component} ${msg}${cause ? ` (first reported: ${cause})` : ''}`, { code: a, extendedCode: extended(b), phase });
        }
      }
    }
    if (out.length) {
      yield* out;
      out = [];
    }
  }
}
