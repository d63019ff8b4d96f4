// The console report of a scan: ASCII-safe, wrapped to the console width, coloured only when the
// caller says (src/shared/style.ts decides: a TTY, no --no-color, no NO_COLOR). Every string of the
// report is escaped first and colour codes are added after, so they are the only ESC bytes.
import type { Finding, ScanReport, ScanResult, TargetScan } from '../../model/scan.js';
import type { UpdateAttempt } from '../../model/attempts.js';
import { DEFAULT_WIDTH, hang, paint } from '../../shared/style.js';
import { ascii, diskLine, evidenceLine, repairHistory, systemLine } from './shared.js';

const UPDATE_KINDS = new Set(['install', 'uninstall', 'feature-update']);
const utcMinute = (iso: string) => iso.slice(0, 16).replace('T', ' ');
const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/**
 * One line per failed update attempt: UTC minute, name, code, sources; on a narrow console, the
 * code and sources go on a second line rather than past the width.
 */
function attemptLines(a: UpdateAttempt, WIDTH: number): string[] {
  const when = a.time ? a.time.slice(0, 16).replace('T', ' ') : '(no time)       ';
  const code = a.code ? `${a.code}${a.extendedCode ? `-${a.extendedCode}` : ''}` : 'no code';
  const tail = `  ${code}  ${a.sources.join('+')}`;
  const room = WIDTH - 4 - 18 - tail.length;
  if (room >= Math.min(12, a.name.length)) return [`    ${when}  ${short(a.name, room)}${tail}`];
  return [`    ${when}  ${short(a.name, WIDTH - 4 - 18)}`, ...hang(`${' '.repeat(22)}${tail.trim()}`, WIDTH, 22)];
}

/** "N failed update attempts" with one line each, what else failed, and what waits for a boot. */
function historyLines(t: TargetScan, WIDTH: number): string[] {
  // After a verified repair run (the journal), the failures before it are history, not current.
  const h = repairHistory(t);
  const failed = h ? h.current : t.attempts.filter((a) => a.result === 'failed' && UPDATE_KINDS.has(a.kind));
  const since = h ? ` since the repair on ${utcMinute(h.run.finishedAt)} UTC` : ' in the logs';
  const lines = hang(
    `Updates: ${failed.length} failed update attempt${failed.length === 1 ? '' : 's'}${since}${failed.length ? ' (times UTC):' : ''}`,
    WIDTH,
    4,
  );
  for (const a of failed.slice(-20)) lines.push(...attemptLines(a, WIDTH));
  if (failed.length > 20) lines.push(`    ... ${failed.length - 20} earlier (see --json or --html)`);
  if (h?.past.length) {
    const undated = h.past.some((a) => !a.time) ? '; undated ones with them' : '';
    lines.push(...hang(`History: ${h.past.length} failed update attempt${h.past.length === 1 ? '' : 's'} before the repair (times UTC${undated}):`, WIDTH, 4));
    for (const a of h.past.slice(-10)) lines.push(...attemptLines(a, WIDTH));
    if (h.past.length > 10) lines.push(`    ... ${h.past.length - 10} earlier (see --json or --html)`);
    lines.push(...hang(`    ${h.note}`, WIDTH, 4));
  }
  const other = (kind: string, label: string) => {
    const n = t.attempts.filter((a) => a.kind === kind && a.result === 'failed').length;
    return n ? `${n} ${label}` : '';
  };
  const also = [
    other('scan', 'failed scans'),
    other('download', 'failed downloads'),
    other('applicability', 'failed applicability checks'),
    other('component-repair', 'failed component-store repairs'),
    other('feature', 'failed features'),
  ].filter(Boolean);
  if (also.length) lines.push(...hang(`Also: ${also.join(', ')}.`, WIDTH, 4));
  for (const a of t.attempts.filter((x) => x.result === 'reboot-pending' && UPDATE_KINDS.has(x.kind)).slice(-5))
    lines.push(`    ${short(`${a.name}: installed, waiting for a reboot - boot once to finish`, WIDTH - 4)}`);
  const tz = t.timeZone;
  if (tz) lines.push(...hang(tz.name ? `Times: UTC (local log times converted from ${tz.name}, ${tz.source})` : `Times: ${tz.source}`, WIDTH, 7));
  return lines;
}

/** "Next:" lines: each command runs as printed (one line, never wrapped: it is pasted as it is), or names the <placeholder> to fill in first. */
function nextLines(t: ScanResult, WIDTH: number): string[] {
  const next = t.nextCommands ?? [];
  if (!next.length) return [];
  const out = [''];
  for (const n of next) {
    out.push(`Next: ${n.command}`);
    if (n.note) out.push(...hang(`      (${n.runnable ? '' : 'fill in '}${n.note})`, WIDTH, 6));
  }
  out.push('      (shows the plan; changes nothing until confirmed)');
  return out;
}

/** Every string in a copy of `v` made printable ASCII (the report's names and texts, before layout). */
function asciiDeep<T>(v: T): T {
  if (typeof v === 'string') return ascii(v) as T;
  if (Array.isArray(v)) return (v as unknown[]).map((x) => asciiDeep(x)) as T;
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = asciiDeep(x);
    return out as T;
  }
  return v;
}

// long: one report, section by section; each section is a few lines of layout
export function renderText(input: ScanReport, opts: { color: boolean; width?: number }): string {
  const WIDTH = opts.width ?? DEFAULT_WIDTH;
  const report = asciiDeep(input); // escaped first: colour codes are added to safe text only
  const c = (code: string, s: string) => paint(opts.color, code, s);
  const sev = (f: Finding) => (f.severity === 'error' ? c('31;1', '[ERROR]  ') : f.severity === 'warning' ? c('33;1', '[WARNING]') : c('36', '[INFO]   '));
  const lines: string[] = [`wufix scan - ${report.scannedAt}`];
  if (report.targets.length === 0) lines.push('', 'No offline Windows installation found.');
  for (const t of report.targets) {
    lines.push('', `Target:  ${t.root}`, ...hang(`System:  ${systemLine(t)}`, WIDTH, 9));
    if (t.disk) lines.push(...hang(`Disk:    ${diskLine(t.disk)}`, WIDTH, 9));
    lines.push(...historyLines(t, WIDTH));
    const actionable = t.findings.filter((f) => f.severity !== 'info');
    lines.push('', actionable.length ? `FINDINGS (${actionable.length})` : 'No problems found that wufix repairs.');
    for (const f of t.findings) {
      const subject = f.subject ? ` (${f.subject})` : '';
      const repairText = f.repair ? `repair: ${f.repair}` : 'no automatic repair';
      const plain = `[WARNING] ${f.id}${subject}`; // the width without colour codes
      if (plain.length + 3 + repairText.length <= WIDTH) lines.push(`${sev(f)} ${c('1', f.id)}${subject}   ${repairText}`);
      else if (plain.length <= WIDTH) lines.push(`${sev(f)} ${c('1', f.id)}${subject}`, `    ${repairText}`);
      else lines.push(`${sev(f)} ${c('1', f.id)}`, ...hardWrap(`    ${subject.trim()}`, WIDTH, 4), `    ${repairText}`);
      if (f.errorCodes?.length) lines.push(...hang(`    codes: ${f.errorCodes.join(', ')}`, WIDTH, 4));
      lines.push(...hang(`    ${f.explanation}`, WIDTH, 4));
      for (const e of f.evidence.slice(0, 8)) lines.push(...hardWrap(`    evidence: ${evidenceLine(e)}`, WIDTH, 8));
      if (f.evidence.length > 8) lines.push(`    evidence: ... ${f.evidence.length - 8} more (see --json or --html)`);
    }
    if (t.codes.length) {
      lines.push('', 'Error codes in the logs:');
      for (const c of t.codes) lines.push(...hang(`    ${c.code}  ${c.symbol ?? ''}${c.symbol ? ': ' : ''}${c.meaning} (${c.count}x)`, WIDTH, 6));
    }
    if (t.problems.length) {
      lines.push('', 'Could not read everything:');
      // One line each, never wrapped: a technician greps it, and a link's path and target stay together.
      for (const p of t.problems) lines.push(`    - ${p}`);
    }
    lines.push(...nextLines(t, WIDTH));
  }
  return lines.join('\n') + '\n';
}

/**
 * `s` wrapped at spaces with continuation lines indented by `indent`; a word longer than a line (a
 * path, a registry key) is cut, after a backslash, slash or other separator where one is near, so
 * nothing passes `width`.
 */
function hardWrap(s: string, width: number, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lead = /^ */.exec(s)![0];
  const out: string[] = [];
  let line = lead;
  for (let w of s.slice(lead.length).split(' ')) {
    const sep = line.length > lead.length ? ' ' : '';
    if (line.length + sep.length + w.length <= width) {
      line += sep + w;
      continue;
    }
    if (w.length <= width - indent) {
      out.push(line);
      line = pad + w;
      continue;
    }
    // Longer than a line: start it here when a fair part fits, then cut.
    if (sep && width - line.length - 1 >= 16) line += sep;
    else if (sep) {
      out.push(line);
      line = pad;
    }
    while (line.length + w.length > width) {
      const n = cutAt(w, width - line.length);
      out.push(line + w.slice(0, n));
      line = pad;
      w = w.slice(n);
    }
    line += w;
  }
  if (line.trim()) out.push(line);
  return out;
}

/** Where to cut a word to fit `room`: after the last separator in the second half, else at `room`. */
function cutAt(w: string, room: number): number {
  const at = Math.max(...['\\', '/', '.', '_', '-', ']', ','].map((ch) => w.lastIndexOf(ch, room - 1)));
  return at >= room / 2 ? at + 1 : room;
}
