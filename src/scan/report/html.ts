// The HTML report of a scan: a self-contained page a technician can attach to a ticket (disk layout
// as a to-scale SVG bar, update timeline).
import type { DiskInfo, ScanReport } from '../../model/scan.js';
import type { UpdateAttempt } from '../../model/attempts.js';
import { fmtBytes } from '../../shared/units.js';
import { WINRE_UPDATE_FREE } from '../../windows/winre.js';
import { diskLine, evidenceLine, repairHistory, size, systemLine } from './shared.js';

function esc(s: string | number | boolean | undefined | null): string {
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
    parts.push(
      `<rect x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="${H}" fill="${fill}" stroke="#333"><title>${esc(`partition ${p.number}: ${p.role} ${p.fs} ${size(p.size)}${p.label ? ` "${p.label}"` : ''}${p.freeBytes !== undefined ? `, ${size(p.freeBytes)} free` : ''}`)}</title></rect>`,
    );
    if (p.freeBytes !== undefined && p.size > 0) {
      const fw = Math.max(1, (p.freeBytes / p.size) * w);
      const short = p.role === 'recovery' && p.freeBytes < WINRE_UPDATE_FREE;
      parts.push(
        `<rect x="${(x + w - fw).toFixed(2)}" y="${H - 14}" width="${fw.toFixed(2)}" height="14" fill="${short ? '#e15759' : '#ffffff'}" opacity="0.85"><title>${esc(`${size(p.freeBytes)} free${short ? ` (needs ${fmtBytes(WINRE_UPDATE_FREE)})` : ''}`)}</title></rect>`,
      );
    }
    if (w > 40) parts.push(`<text x="${(x + 4).toFixed(2)}" y="20" font-size="12" fill="#fff">${esc(`${p.number} ${p.role}`)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="disk layout">${parts.join('')}</svg>`;
}

/** Update attempts on a time axis: failures red, successes green. */
export function timelineSvg(updates: UpdateAttempt[]): string {
  const pts = updates.filter((u) => u.time && !Number.isNaN(Date.parse(u.time))).map((u) => ({ u, t: Date.parse(u.time!) }));
  if (pts.length === 0) return '';
  const W = 900;
  const H = 60;
  const t0 = Math.min(...pts.map((p) => p.t));
  const t1 = Math.max(...pts.map((p) => p.t));
  const span = Math.max(1, t1 - t0);
  const dots = pts.map(({ u, t }) => {
    const x = 10 + ((t - t0) / span) * (W - 20);
    const bad = u.result === 'failed';
    const y = bad ? 20 : 42;
    return `<circle cx="${x.toFixed(1)}" cy="${y}" r="5" fill="${bad ? '#e15759' : u.result === 'succeeded' ? '#59a14f' : '#f2b134'}"><title>${esc(`${u.time} ${u.kind} ${u.name} ${u.result} ${u.code ?? ''} ${u.sources.join('+')}`)}</title></circle>`;
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
    const history = repairHistory(t); // failures before a verified repair run: history, not current
    if (history?.past.length)
      body.push(`<p class="meta history">${esc(`${history.past.length} failed update attempt(s) in the table below. ${history.note}`)}</p>`);
    for (const f of t.findings) {
      body.push(
        `<div class="finding ${f.severity}"><h4>${esc(f.severity.toUpperCase())}: ${esc(f.id)}${f.subject ? ` (${esc(f.subject)})` : ''}</h4><p>${esc(f.explanation)}</p><p class="meta">${f.repair ? `Repair: <code>${esc(f.nextCommand ?? `wufix repair --only ${f.repair}`)}</code>` : 'No automatic repair'}${f.errorCodes?.length ? ` &middot; Codes: ${f.errorCodes.map((c) => `<code>${esc(c)}</code>`).join(' ')}` : ''}</p><ul>${f.evidence.map((e) => `<li><code>${esc(evidenceLine(e))}</code></li>`).join('')}</ul></div>`,
      );
    }
    // The table: every attempt that did not simply succeed, then the latest successes (bounded).
    const shown = [...t.attempts.filter((a) => a.result !== 'succeeded'), ...t.attempts.filter((a) => a.result === 'succeeded').slice(-50)]
      .slice(-500)
      .sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''));
    const tz = t.timeZone
      ? `<p class="meta">Times in UTC. ${esc(t.timeZone.name ? `Local log times converted from ${t.timeZone.name} (${t.timeZone.source}).` : t.timeZone.source)}</p>`
      : '';
    body.push(`<h3>Update attempts from the logs (${t.attempts.length})</h3>${tz}${timelineSvg(shown)}`);
    body.push(
      `<table><tr><th>Time (UTC)</th><th>Kind</th><th>Update</th><th>Result</th><th>Code</th><th>Sources</th><th>Evidence</th></tr>${shown
        .map(
          (a) =>
            `<tr class="${a.result === 'failed' ? 'failure' : esc(a.result)}"><td>${esc(a.time)}</td><td>${esc(a.kind)}</td><td>${esc(a.name)}</td><td>${esc(a.result)}</td><td>${esc(a.code ? `${a.code}${a.extendedCode ? ` - ${a.extendedCode}` : ''}` : '')}</td><td>${esc(a.sources.join(', '))}</td><td><details><summary>${a.events} event(s)</summary><ul>${a.evidence.map((e) => `<li><code>${esc(evidenceLine(e))}</code></li>`).join('')}</ul></details></td></tr>`,
        )
        .join('')}</table>`,
    );
    if (t.logs.length)
      body.push(
        `<h3>Log files read</h3><table><tr><th>Source</th><th>File</th><th>Format</th><th>Events</th><th>Understood</th></tr>${t.logs.map((l) => `<tr><td>${esc(l.source)}</td><td>${esc(l.file)}</td><td>${esc(l.format ?? '')}</td><td>${l.events}</td><td>${l.understood ? 'yes' : `no${l.note ? `: ${esc(l.note)}` : ''}`}</td></tr>`).join('')}</table>`,
      );
    if (t.codes.length)
      body.push(
        `<h3>Error codes</h3><table><tr><th>Code</th><th>Symbol</th><th>Meaning</th><th>Seen</th></tr>${t.codes.map((c) => `<tr><td><code>${esc(c.code)}</code></td><td>${esc(c.symbol ?? '')}</td><td>${esc(c.meaning)}</td><td>${c.count}</td></tr>`).join('')}</table>`,
      );
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
