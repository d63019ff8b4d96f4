// The console report of a scan: ASCII-safe, colour only on a TTY.
import type { Finding, ScanReport, ScanResult, TargetScan } from '../../model/scan.js';
import type { UpdateAttempt } from '../../model/attempts.js';
import { ascii, diskLine, evidenceLine, repairHistory, systemLine } from './shared.js';

const UPDATE_KINDS = new Set(['install', 'uninstall', 'feature-update']);
const WIDTH = 80;
const utcMinute = (iso: string) => iso.slice(0, 16).replace('T', ' ');
const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/** One line per failed update attempt: UTC minute, name, code, sources (80 columns). */
function attemptLine(a: UpdateAttempt): string {
  const when = a.time ? a.time.slice(0, 16).replace('T', ' ') : '(no time)       ';
  const code = a.code ? `${a.code}${a.extendedCode ? `-${a.extendedCode}` : ''}` : 'no code';
  const tail = `  ${code}  ${a.sources.join('+')}`;
  return `    ${when}  ${short(a.name, Math.max(12, WIDTH - 4 - 18 - tail.length))}${tail}`;
}

/** "N failed update attempts" with one line each, what else failed, and what waits for a boot. */
function historyLines(t: TargetScan): string[] {
  // After a verified repair run (the journal), the failures before it are history, not current.
  const h = repairHistory(t);
  const failed = h ? h.current : t.attempts.filter((a) => a.result === 'failed' && UPDATE_KINDS.has(a.kind));
  const since = h ? ` since the repair on ${utcMinute(h.run.finishedAt)} UTC` : ' in the logs';
  const lines = [`Updates: ${failed.length} failed update attempt${failed.length === 1 ? '' : 's'}${since}${failed.length ? ' (times UTC):' : ''}`];
  for (const a of failed.slice(-20)) lines.push(attemptLine(a));
  if (failed.length > 20) lines.push(`    ... ${failed.length - 20} earlier (see --json or --html)`);
  if (h?.past.length) {
    const undated = h.past.some((a) => !a.time) ? '; undated ones with them' : '';
    lines.push(`History: ${h.past.length} failed update attempt${h.past.length === 1 ? '' : 's'} before the repair (times UTC${undated}):`);
    for (const a of h.past.slice(-10)) lines.push(attemptLine(a));
    if (h.past.length > 10) lines.push(`    ... ${h.past.length - 10} earlier (see --json or --html)`);
    lines.push(...wrap(h.note, WIDTH - 4).map((l) => `    ${l}`));
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
  if (also.length) lines.push(...wrap(`Also: ${also.join(', ')}.`, WIDTH - 4).map((l, i) => (i ? `    ${l}` : l)));
  for (const a of t.attempts.filter((x) => x.result === 'reboot-pending' && UPDATE_KINDS.has(x.kind)).slice(-5))
    lines.push(`    ${short(`${a.name}: installed, waiting for a reboot - boot once to finish`, WIDTH - 4)}`);
  const tz = t.timeZone;
  if (tz) lines.push(...wrap(tz.name ? `Times: UTC (local log times converted from ${tz.name}, ${tz.source})` : `Times: ${tz.source}`, WIDTH));
  return lines;
}

/** "Next:" lines: each command runs as printed, or names the <placeholder> to fill in first. */
function nextLines(t: ScanResult): string[] {
  const next = t.nextCommands ?? [];
  if (!next.length) return [];
  const out = [''];
  for (const n of next) {
    out.push(`Next: ${n.command}`);
    if (n.note) out.push(...wrap(`(${n.runnable ? '' : 'fill in '}${n.note})`, WIDTH - 6).map((l) => `      ${l}`));
  }
  out.push('      (shows the plan; changes nothing until confirmed)');
  return out;
}

export function renderText(report: ScanReport, opts: { color: boolean }): string {
  const c = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const sev = (f: Finding) => (f.severity === 'error' ? c('31;1', '[ERROR]  ') : f.severity === 'warning' ? c('33;1', '[WARNING]') : c('36', '[INFO]   '));
  const lines: string[] = [`wufix scan - ${report.scannedAt}`];
  if (report.targets.length === 0) lines.push('', 'No offline Windows installation found.');
  for (const t of report.targets) {
    lines.push('', `Target:  ${t.root}`, `System:  ${systemLine(t)}`);
    if (t.disk) lines.push(`Disk:    ${diskLine(t.disk)}`);
    lines.push(...historyLines(t));
    const actionable = t.findings.filter((f) => f.severity !== 'info');
    lines.push('', actionable.length ? `FINDINGS (${actionable.length})` : 'No problems found that wufix repairs.');
    for (const f of t.findings) {
      const head = `${sev(f)} ${c('1', f.id)}${f.subject ? ` (${f.subject})` : ''}`;
      const repairText = f.repair ? `repair: ${f.repair}` : 'no automatic repair';
      const plain = `[WARNING] ${f.id}${f.subject ? ` (${f.subject})` : ''}   ${repairText}`; // the width without colour codes
      if (plain.length <= WIDTH) lines.push(`${head}   ${repairText}`);
      else lines.push(head, `    ${repairText}`);
      if (f.errorCodes?.length) lines.push(...wrap(`codes: ${f.errorCodes.join(', ')}`, WIDTH - 4).map((l) => `    ${l}`));
      lines.push(...wrap(f.explanation, WIDTH - 4).map((l) => `    ${l}`));
      for (const e of f.evidence.slice(0, 8))
        lines.push(...hardWrap(`evidence: ${evidenceLine(e)}`, WIDTH - 4).map((l, i) => `${i ? '        ' : '    '}${l}`));
      if (f.evidence.length > 8) lines.push(`    evidence: ... ${f.evidence.length - 8} more (see --json or --html)`);
    }
    if (t.codes.length) {
      lines.push('', 'Error codes in the logs:');
      for (const c of t.codes)
        lines.push(
          ...wrap(`${c.code}  ${c.symbol ?? ''}${c.symbol ? ': ' : ''}${c.meaning} (${c.count}x)`, WIDTH - 4).map((l, i) => `${i ? '      ' : '    '}${l}`),
        );
    }
    if (t.problems.length) {
      lines.push('', 'Could not read everything:');
      // One line each, never wrapped: a technician greps it, and a link's path and target stay together.
      for (const p of t.problems) lines.push(`    - ${p}`);
    }
    lines.push(...nextLines(t));
  }
  return ascii(lines.join('\n')) + '\n';
}

/** Wraps at spaces, and cuts words longer than a line (paths, registry keys) so nothing passes `width`. */
function hardWrap(s: string, width: number): string[] {
  return wrap(s, width - 4).flatMap((l) => {
    const out: string[] = [];
    for (let i = 0; i < l.length; i += width - 4) out.push(l.slice(i, i + width - 4));
    return out;
  });
}

function wrap(s: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of s.split(' ')) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}
