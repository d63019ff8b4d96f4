// SetupDiag results (issue #16): Windows setup runs SetupDiag after a failed feature update and writes
// %WinDir%\Logs\SetupDiag\SetupDiagResults.xml (SetupDiag /Format:xml); run by hand it writes
// SetupDiagResults.log (text). Format as documented on learn.microsoft.com "SetupDiag" (sample logs):
//   text: "Matching Profile found: FindSPFatalError - A4028172-1B09-48F8-AD3B-86CDD7D55852", the
//         system information ("    UpgradeEndTime = 3/21/2023 10:02:40 PM", "TargetOSBuildString =
//         ..."), then "Error: SetupDiag reports down-level failure, Operation: Finalize, Error:
//         0x8007001F - 0x50015" and "Last Setup Phase = Downlevel" / "Last Phase: Safe OS".
//   xml:  <ProfileName>, <UpgradeEndTime>2023-06-06T22:21:49</UpgradeEndTime>, <FailureData> text
//         with the same "Error: ..." lines, <FailureDetails>Err = 0x00000057, LastOperation = ...,
//         LastPhase = Downlevel</FailureDetails>.
// Each matched profile (rule) is one 'feature-update' event: failed, with the code (and extended
// code) and phase it reports; the rule FindSuccessfulUpgrade is a success. Times are the machine's
// wall-clock time (timeIsLocal true).
import type { AttemptResult, LogReadStats, UpdateEvent } from '../../model/attempts.js';
import { detach, hexField } from './fields.js';
import { type ByteChunks, type ParseOptions, readLineBatches } from './lines.js';

export interface SetupDiagOptions extends ParseOptions {
  stats?: LogReadStats;
  /** The setup installation the results are about (session of the events); default `file`. */
  session?: string;
}

export const SETUPDIAG_MAX_LINE = 16 * 1024;
const MAX_MESSAGE = 500;

const PROFILE_TEXT_RE = /Matching Profile found:\s*([A-Za-z0-9_]+)(?:\s*-\s*([0-9a-f-]{36}))?/i;
const PROFILE_XML_RE = /<ProfileName>\s*([A-Za-z0-9_]+)\s*<\/ProfileName>/i;
const CODE_RE = /\bErr(?:or)?\s*[:=]\s*(0x[0-9a-f]{1,8})(?:\s*-\s*(0x[0-9a-f]{1,8}))?/i;
const PHASE_RE = /\bLast(?:\s*Setup)?\s*Phase\s*(?:[:=])\s*([A-Za-z][A-Za-z0-9 ,.-]{0,60}?)\s*(?:,|<|$)/i;
const REPORTS_RE = /Error:\s*SetupDiag reports\s+(.+?)\s*(?:<|$)/i;
const TIME_RE = /Upgrade(End|Start)Time\s*(?:=\s*|>)([^<]+?)\s*(?:<|$)/i;
const TARGET_RE = /TargetOSBuildString\s*(?:=\s*|>)([^<]+?)\s*(?:<|$)/i;

function clean(s: string, max = MAX_MESSAGE): string {
  const t = s
    .replace(/[^\x20-\x7e]/g, (c) => (c === '\t' ? ' ' : '?'))
    .replace(/\s+/g, ' ')
    .trim();
  return detach(t.length > max ? t.slice(0, max - 3) + '...' : t);
}

/** "3/21/2023 10:02:40 PM" or "2023-06-06T22:21:49" as wall-clock fields held as UTC; 0001-01-01 is none. */
export function setupDiagTime(s: string): Date | undefined {
  const t = s.trim();
  let v: number | undefined;
  const iso = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)/.exec(t);
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d\d):(\d\d)(?:\s*([AP])M)?$/i.exec(t);
  if (iso) v = Date.UTC(+iso[1]!, +iso[2]! - 1, +iso[3]!, +iso[4]!, +iso[5]!, +iso[6]!);
  else if (us) {
    let h = +us[4]!;
    if (us[7]) h = (h % 12) + (us[7].toUpperCase() === 'P' ? 12 : 0);
    v = Date.UTC(+us[3]!, +us[1]! - 1, +us[2]!, h, +us[5]!, +us[6]!);
  }
  if (v === undefined || Number.isNaN(v)) return undefined;
  const d = new Date(v);
  return d.getUTCFullYear() < 1990 ? undefined : d;
}

interface Match {
  rule: string;
  line: number;
  reports: string[];
  code?: string;
  ext?: string;
  phase?: string;
  end?: Date;
  start?: Date;
  target?: string;
}

function toEvent(m: Match, file: string, session: string): UpdateEvent {
  const result: AttemptResult = /^FindSuccessfulUpgrade$/i.test(m.rule) ? 'succeeded' : 'failed';
  const what = m.reports.length ? m.reports.join('; ') : 'no detail';
  const code = m.code ? ` Error: ${m.code}${m.ext ? ` - ${m.ext}` : ''}.` : '';
  const target = m.target ? ` Target: ${m.target}.` : '';
  const e: UpdateEvent = {
    source: 'SetupDiag',
    file,
    line: m.line,
    timeIsLocal: true,
    kind: 'feature-update',
    result,
    session,
    message: clean(`SetupDiag ${m.rule}: ${what}.${code}${m.phase ? ` Last phase: ${m.phase}.` : ''}${target}`),
  };
  const time = m.end ?? m.start;
  if (time) e.time = time;
  if (result === 'failed' && m.code && m.code !== '0x00000000') e.code = m.code;
  if (result === 'failed' && m.ext) e.extendedCode = m.ext;
  if (m.phase) e.phase = m.phase;
  return e;
}

/** The matched profiles of SetupDiagResults.log / .xml as feature-update events. */
export async function* setupDiagEvents(chunks: ByteChunks, file: string, opts: SetupDiagOptions = {}): AsyncGenerator<UpdateEvent> {
  const stats = opts.stats;
  const session = opts.session ?? file;
  let cur: Match | undefined;
  let seen = false;
  for await (const batch of readLineBatches(chunks, { ...opts, maxLineLength: opts.maxLineLength ?? SETUPDIAG_MAX_LINE })) {
    const out: UpdateEvent[] = [];
    for (let i = 0; i < batch.lines.length; i++) {
      const text = batch.lines[i]!;
      if (stats) stats.lines++;
      const p = PROFILE_TEXT_RE.exec(text) ?? PROFILE_XML_RE.exec(text);
      if (p) {
        if (cur) out.push(toEvent(cur, file, session));
        cur = { rule: p[1]!, line: batch.first + i, reports: [] };
        seen = true;
        if (stats) {
          stats.recognized++;
          stats.format ??= PROFILE_XML_RE.test(text) ? 'setupdiag-xml' : 'setupdiag';
        }
        continue;
      }
      if (/SetupDiag|<SystemInfo>|Upgrade(Start|End)Time|LastPhase|Last Setup Phase/i.test(text) && stats && seen) stats.recognized++;
      if (!cur) continue;
      const r = REPORTS_RE.exec(text);
      if (r && cur.reports.length < 4)
        cur.reports.push(clean(r[1]!.replace(/,?\s*Error:\s*0x[0-9a-f]+(\s*-\s*0x[0-9a-f]+)?\.?\s*$/i, '').replace(/\.+$/, ''), 200));
      const c = CODE_RE.exec(text);
      if (c) {
        const code = hexField(c[1]!);
        const ext = c[2] ? hexField(c[2]) : undefined;
        // The code with an extended part (setup's own "0x8007001F - 0x50015") wins over a plain one.
        if (code && (!cur.code || (ext && !cur.ext))) {
          cur.code = code;
          cur.ext = ext ? '0x' + parseInt(ext.slice(2), 16).toString(16) : undefined;
        }
      }
      const ph = PHASE_RE.exec(text);
      if (ph && !cur.phase) cur.phase = clean(ph[1]!, 60);
      const tm = TIME_RE.exec(text);
      if (tm) {
        const d = setupDiagTime(tm[2]!);
        if (d) cur[tm[1]!.toLowerCase() === 'end' ? 'end' : 'start'] = d;
      }
      const tg = TARGET_RE.exec(text);
      if (tg && !cur.target) cur.target = clean(tg[1]!, 100);
    }
    yield* out;
  }
  if (cur) yield toEvent(cur, file, session);
}
