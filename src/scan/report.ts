// Renders a scan report: console text (ASCII-safe, colour only on a TTY) and a self-contained HTML
// page a technician can attach to a ticket (disk layout as a to-scale SVG bar, update timeline).
import type { Evidence, Finding, ScanReport, ScanResult, DiskInfo, UpdateFailure } from '../model/scan.js';
import { GiB, fmtBytes } from '../shared/units.js';
import { WINRE_UPDATE_FREE } from '../windows/winre.js';

function size(n: number): string {
  return n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : fmtBytes(n);
}

export function ascii(s: string): string {
  return s.replace(/[^\x20-\x7e\n]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function evidenceLine(e: Evidence): string {
  let where = e.file ?? '';
  if (e.line !== undefined) where += `:${e.line}`;
  if (e.offset !== undefined) where += ` @ byte ${e.offset}`;
  if (e.key) where += `${where ? ' ' : ''}[${e.key}${e.value !== undefined ? ` -> ${e.value === '' ? '(default)' : e.value}` : ''}]`;
  else if (e.value !== undefined) where += `${where ? ' ' : ''}[value ${e.value === '' ? '(default)' : e.value}]`;
  const parts = [where, e.time, e.data, e.note].filter((x) => x !== undefined && x !== '');
  return parts.join('  ');
}

export function systemLine(t: ScanResult): string {
  const s = t.system;
  const build = s.currentBuild !== undefined ? `build ${s.currentBuild}${s.ubr !== undefined ? `.${s.ubr}` : ''}` : 'build unknown';
  return `${s.productName ?? 'Windows (version unknown)'}${s.installationType ? ` (${s.installationType})` : ''}, ${build}${s.displayVersion ? ` (${s.displayVersion})` : ''}`;
}

function diskLine(d: DiskInfo): string {
  const os = d.partitions.find((p) => p.number === d.osPartition);
  const rec = d.partitions.find((p) => p.number === d.recoveryPartition);
  let s = `${d.path}: ${d.scheme.toUpperCase()}, ${size(d.sizeBytes)}, ${d.partitions.length} partitions`;
  if (os) s += `; Windows on ${os.number} (${size(os.size)})`;
  if (rec) s += `; recovery ${rec.number} (${size(rec.size)}${rec.freeBytes !== undefined ? `, ${size(rec.freeBytes)} free` : ''})`;
  return s;
}

export function renderText(report: ScanReport, opts: { color: boolean }): string {
  const c = (code: string, s: string) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const sev = (f: Finding) =>
    f.severity === 'error' ? c('31;1', '[ERROR]  ') : f.severity === 'warning' ? c('33;1', '[WARNING]') : c('36', '[INFO]   ');
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
      const meta = [f.repair ? `repair: ${f.repair}` : 'no automatic repair', f.errorCodes?.length ? `codes: ${f.errorCodes.join(', ')}` : ''].filter(Boolean).join('   ');
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

// ------------------------------------------------------------------ HTML

function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const ROLE_COLOR: Record<string, string> = {
  esp: '#4e79a7',
  msr: '#bab0ac',
  basic: '#59a14f',
  recovery: '#f28e2b',
  extended: '#edc948',
  other: '#9c755f',
};

/** The disk to scale: one rectangle per partition, recovery free space hatched in red when short. */
export function diskSvg(d: DiskInfo): string {
  const W = 900;
  const H = 64;
  const scale = (n: number) => (n / d.sizeBytes) * W;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#eee" stroke="#999"/>`);
  for (const p of d.partitions) {
    const x = scale(p.start);
    const w = Math.max(2, scale(p.size));
    const fill = ROLE_COLOR[p.role] ?? ROLE_COLOR.other!;
    parts.push(`<rect x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="${H}" fill="${fill}" stroke="#333"><title>${esc(`partition ${p.number}: ${p.role} ${p.fs} ${size(p.size)}${p.label ? ` "${p.label}"` : ''}${p.freeBytes !== undefined ? `, ${size(p.freeBytes)} free` : ''}`)}</title></rect>`);
    if (p.freeBytes !== undefined && p.size > 0) {
      const fw = Math.max(1, (p.freeBytes / p.size) * w);
      const short = p.role === 'recovery' && p.freeBytes < WINRE_UPDATE_FREE;
      parts.push(`<rect x="${(x + w - fw).toFixed(2)}" y="${H - 14}" width="${fw.toFixed(2)}" height="14" fill="${short ? '#e15759' : '#ffffff'}" opacity="0.85"><title>${esc(`${size(p.freeBytes)} free${short ? ` (needs ${fmtBytes(WINRE_UPDATE_FREE)})` : ''}`)}</title></rect>`);
    }
    if (w > 40) parts.push(`<text x="${(x + 4).toFixed(2)}" y="20" font-size="12" fill="#fff">${esc(`${p.number} ${p.role}`)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="disk layout">${parts.join('')}</svg>`;
}

/** Update attempts on a time axis: failures red, successes green. */
export function timelineSvg(updates: UpdateFailure[]): string {
  const pts = updates.filter((u) => u.time && !Number.isNaN(Date.parse(u.time))).map((u) => ({ u, t: Date.parse(u.time!) }));
  if (pts.length === 0) return '';
  const W = 900;
  const H = 60;
  const t0 = Math.min(...pts.map((p) => p.t));
  const t1 = Math.max(...pts.map((p) => p.t));
  const span = Math.max(1, t1 - t0);
  const dots = pts.map(({ u, t }) => {
    const x = 10 + ((t - t0) / span) * (W - 20);
    const y = u.status === 'failure' ? 20 : 42;
    return `<circle cx="${x.toFixed(1)}" cy="${y}" r="5" fill="${u.status === 'failure' ? '#e15759' : '#59a14f'}"><title>${esc(`${u.time} ${u.kb ?? ''} ${u.code ?? ''} ${u.source}`)}</title></circle>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="update timeline"><line x1="10" y1="31" x2="${W - 10}" y2="31" stroke="#999"/>${dots.join('')}<text x="10" y="58" font-size="11">${esc(new Date(t0).toISOString().slice(0, 10))}</text><text x="${W - 80}" y="58" font-size="11">${esc(new Date(t1).toISOString().slice(0, 10))}</text></svg>`;
}

export function renderHtml(report: ScanReport): string {
  const body: string[] = [];
  for (const t of report.targets) {
    body.push(`<section><h2>${esc(t.root)}</h2><p>${esc(systemLine(t))}</p>`);
    if (t.disk) body.push(`<h3>Disk layout</h3><p>${esc(diskLine(t.disk))}</p>${diskSvg(t.disk)}`);
    body.push(`<h3>Findings</h3>`);
    if (!t.findings.length) body.push('<p class="ok">No problems found that wufix repairs.</p>');
    for (const f of t.findings) {
      body.push(`<div class="finding ${f.severity}"><h4>${esc(f.severity.toUpperCase())}: ${esc(f.id)}${f.subject ? ` (${esc(f.subject)})` : ''}</h4><p>${esc(f.explanation)}</p><p class="meta">${f.repair ? `Repair: <code>wufix repair --only ${esc(f.repair)}</code>` : 'No automatic repair'}${f.errorCodes?.length ? ` &middot; Codes: ${f.errorCodes.map((c) => `<code>${esc(c)}</code>`).join(' ')}` : ''}</p><ul>${f.evidence.map((e) => `<li><code>${esc(evidenceLine(e))}</code></li>`).join('')}</ul></div>`);
    }
    const ups = [...t.updates].sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''));
    body.push(`<h3>Update history from the logs</h3>${timelineSvg(ups)}`);
    body.push(`<table><tr><th>Time</th><th>Update</th><th>Result</th><th>Code</th><th>Source</th></tr>${ups
      .map((u) => `<tr class="${u.status}"><td>${esc(u.time)}</td><td>${esc(u.kb ?? u.title ?? '')}</td><td>${esc(u.status)}</td><td>${esc(u.code ?? '')}</td><td>${esc(`${u.file}${u.line !== undefined ? `:${u.line}` : ''}`)}</td></tr>`)
      .join('')}</table>`);
    if (t.codes.length) body.push(`<h3>Error codes</h3><table><tr><th>Code</th><th>Symbol</th><th>Meaning</th><th>Seen</th></tr>${t.codes.map((c) => `<tr><td><code>${esc(c.code)}</code></td><td>${esc(c.symbol ?? '')}</td><td>${esc(c.meaning)}</td><td>${c.count}</td></tr>`).join('')}</table>`);
    if (t.problems.length) body.push(`<h3>Not readable</h3><ul>${t.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`);
    body.push('</section>');
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wufix scan report</title>
<style>
body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2em;max-width:960px;color:#222}
code{font-family:Consolas,monospace;font-size:90%}
.finding{border-left:6px solid #999;padding:.2em 1em;margin:1em 0;background:#fafafa}
.finding.error{border-color:#e15759}.finding.warning{border-color:#f28e2b}.finding.info{border-color:#4e79a7}
.meta{color:#555}.ok{color:#2b7a2b;font-weight:bold}
table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px}tr.failure td{background:#fdecea}
</style></head><body>
<h1>wufix scan report</h1><p>${esc(report.tool)} &middot; ${esc(report.scannedAt)}</p>
${body.join('\n')}
${report.targets.length ? '' : '<p>No offline Windows installation found.</p>'}
</body></html>
`;
}

/**
 * A path as a command-line argument the technician can paste: unquoted when it has no spaces, and
 * never ending in \" (cmd.exe and the C runtime read "W:\" as W:" with the quote escaped).
 */
export function shellArg(p: string): string {
  if (!/[\s"&|<>^]/.test(p)) return p;
  return `"${p.replace(/\\+$/, (m) => m + m)}"`;
}
