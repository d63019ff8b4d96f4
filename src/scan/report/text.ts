// The console report of a scan: ASCII-safe, colour only on a TTY.
import type { Finding, ScanReport } from '../../model/scan.js';
import { ascii, diskLine, evidenceLine, shellArg, systemLine } from './shared.js';

export function renderText(report: ScanReport, opts: { color: boolean }): string {
  const c = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const sev = (f: Finding) => (f.severity === 'error' ? c('31;1', '[ERROR]  ') : f.severity === 'warning' ? c('33;1', '[WARNING]') : c('36', '[INFO]   '));
  const lines: string[] = [`wufix scan - ${report.scannedAt}`];
  if (report.targets.length === 0) lines.push('', 'No offline Windows installation found.');
  for (const t of report.targets) {
    lines.push('', `Target:  ${t.root}`, `System:  ${systemLine(t)}`);
    if (t.disk) lines.push(`Disk:    ${diskLine(t.disk)}`);
    const fails = t.updates.filter((u) => u.status === 'failure');
    lines.push(`Updates: ${fails.length} failed install${fails.length === 1 ? '' : 's'} found in the logs`);
    const actionable = t.findings.filter((f) => f.severity !== 'info');
    lines.push('', actionable.length ? `FINDINGS (${actionable.length})` : 'No problems found that wufix repairs.');
    for (const f of t.findings) {
      const meta = [f.repair ? `repair: ${f.repair}` : 'no automatic repair', f.errorCodes?.length ? `codes: ${f.errorCodes.join(', ')}` : '']
        .filter(Boolean)
        .join('   ');
      lines.push(`${sev(f)} ${c('1', f.id)}${f.subject ? ` (${f.subject})` : ''}   ${meta}`);
      lines.push(...wrap(f.explanation, 96).map((l) => `    ${l}`));
      for (const e of f.evidence.slice(0, 8)) lines.push(`    evidence: ${evidenceLine(e)}`);
      if (f.evidence.length > 8) lines.push(`    evidence: ... ${f.evidence.length - 8} more (see --json or --html)`);
    }
    if (t.codes.length) {
      lines.push('', 'Error codes in the logs:');
      for (const c of t.codes) lines.push(`    ${c.code}  ${c.symbol ?? ''}${c.symbol ? ': ' : ''}${c.meaning} (${c.count}x)`);
    }
    if (t.problems.length) {
      lines.push('', 'Could not read everything:');
      for (const p of t.problems) lines.push(`    - ${p}`);
    }
    const repairs = [...new Set(t.findings.filter((f) => f.repair && f.severity !== 'info').map((f) => f.repair!))];
    const image = / partition \d+$/.test(t.root) && t.disk && t.root.startsWith(t.disk.path) ? t.disk.path : undefined;
    const target = image ? `--image ${shellArg(image)}` : `--root ${shellArg(t.root)}`;
    if (repairs.length) lines.push('', `Next: wufix repair ${target} --only ${repairs.join(',')}   (shows the plan; changes nothing until confirmed)`);
  }
  return ascii(lines.join('\n')) + '\n';
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
