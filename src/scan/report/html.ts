// The HTML report of a scan: a self-contained page a technician can attach to a ticket. At the top
// the computer name and a one-line verdict; then per target the disk drawn to scale (an SVG that
// takes the width of the page, every partition named in a legend of real text), the findings, the
// update attempts on a labelled timeline and in a table, the log files read. It reads the same on a
// 1280 px screen, a 400 px phone and printed on A4/Letter (test/scan/report-html.test.ts renders it
// in headless Chromium at each). Every string from the disk is escaped: the page has no script and
// loads nothing.
import type { DiskInfo, PartitionInfo, ScanReport, ScanResult } from '../../model/scan.js';
import type { UpdateAttempt } from '../../model/attempts.js';
import { WINRE_UPDATE_FREE } from '../../windows/winre.js';
import { diskLine, evidenceLine, partitionName, repairHistory, shellArg, size, systemLine, verdictLine } from './shared.js';

function esc(s: string | number | boolean | undefined | null): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const ROLE_COLOR: Record<string, string> = {
  esp: '#4e79a7',
  msr: '#bab0ac',
  basic: '#59a14f',
  windows: '#2f6f2a',
  recovery: '#f28e2b',
  extended: '#edc948',
  other: '#9c755f',
};
const SHORT = '#e15759';

/** A small coloured square (SVG: its colour prints even where backgrounds are dropped). */
function swatch(fill: string, extra = ''): string {
  return `<svg class="sw" viewBox="0 0 10 10" width="12" height="12" aria-hidden="true"><rect x="0.5" y="0.5" width="9" height="9" fill="${fill}" stroke="#333" stroke-width="1"${extra}/></svg>`;
}
const NEED_SWATCH = `<svg class="sw" viewBox="0 0 10 10" width="12" height="12" aria-hidden="true"><line x1="5" y1="0" x2="5" y2="10" stroke="#000" stroke-width="2" stroke-dasharray="2 1.5"/></svg>`;

const colorOf = (p: PartitionInfo, d: DiskInfo) => (p.number === d.osPartition ? ROLE_COLOR.windows! : (ROLE_COLOR[p.role] ?? ROLE_COLOR.other!));

/** The drawing's width in viewBox units, and the least width a partition is drawn with (4%). */
export const DISK_W = 1000;
export const MIN_PART_W = 40;

export interface DrawnPartition {
  p: PartitionInfo;
  x: number;
  w: number;
  /** Drawn wider than its size (it is under MIN_PART_W / DISK_W of the disk). */
  widened: boolean;
}

/**
 * Where each partition is drawn on a DISK_W-wide bar: to scale, except that a partition smaller
 * than MIN_PART_W gets that width and the others share what is left in proportion. Partitions
 * follow each other in disk order and never overlap, whatever the table says (overlaps and
 * partitions past the end, possible in a hostile table, are drawn end to end).
 */
export function diskLayout(d: DiskInfo): DrawnPartition[] {
  const parts = [...d.partitions].filter((p) => p.size > 0).sort((a, b) => a.start - b.start);
  if (!parts.length) return [];
  const minW = Math.min(MIN_PART_W, DISK_W / parts.length);
  // The bytes drawn: the disk, or the partitions' end when a table claims more than the disk holds.
  const total = Math.max(d.sizeBytes, ...parts.map((p) => p.start + p.size), 1);
  const widened = new Set<number>();
  let k = DISK_W / total;
  for (;;) {
    const rest = total - parts.filter((_, i) => widened.has(i)).reduce((s, p) => s + p.size, 0);
    k = rest > 0 ? (DISK_W - widened.size * minW) / rest : 0;
    const more = parts.findIndex((p, i) => !widened.has(i) && p.size * k < minW);
    if (more < 0) break;
    widened.add(more);
  }
  const out: DrawnPartition[] = [];
  let x = 0;
  let cursor = 0; // the byte the previous partition ended at
  parts.forEach((p, i) => {
    x += Math.max(0, p.start - cursor) * k;
    const w = widened.has(i) ? minW : p.size * k;
    out.push({ p, x, w, widened: widened.has(i) });
    x += w;
    cursor = Math.max(cursor, p.start + p.size);
  });
  // Rounding, or a table past the disk's end: squeeze back into the bar.
  const end = out[out.length - 1]!.x + out[out.length - 1]!.w;
  if (end > DISK_W)
    for (const o of out) {
      o.x = (o.x * DISK_W) / end;
      o.w = (o.w * DISK_W) / end;
    }
  return out;
}

/** The recovery partition's free space against what the WinRE update needs, when it was measured. */
function recoveryNeed(d: DiskInfo): { p: PartitionInfo; free: number; short: boolean } | undefined {
  const p = d.partitions.find((x) => x.number === d.recoveryPartition);
  if (!p || p.freeBytes === undefined) return undefined;
  return { p, free: p.freeBytes, short: p.freeBytes < WINRE_UPDATE_FREE };
}

/**
 * The disk to scale: one rectangle per partition with its number, the measured free space as a
 * strip along its bottom (red when the recovery partition has less than the WinRE update needs),
 * and a dashed line where the needed free space would have to reach.
 */
export function diskSvg(d: DiskInfo): string {
  const H = 90;
  const drawn = diskLayout(d);
  const need = recoveryNeed(d);
  const parts: string[] = [`<rect x="0" y="0" width="${DISK_W}" height="${H}" fill="#eee" stroke="#999"/>`];
  for (const { p, x, w } of drawn) {
    const cls = `part ${p.number === d.osPartition ? 'windows' : esc(p.role)}`;
    parts.push(
      `<rect class="${cls}" data-part="${p.number}" x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="${H}" fill="${colorOf(p, d)}" stroke="#333"><title>${esc(`${p.number} ${partitionName(p, d)}: ${size(p.size)}`)}</title></rect>`,
    );
    if (p.freeBytes !== undefined && p.size > 0) {
      const fw = Math.min(w, Math.max(1, (p.freeBytes / p.size) * w));
      const short = need?.p === p && need.short;
      parts.push(
        `<rect class="free" x="${(x + w - fw).toFixed(2)}" y="${H - 22}" width="${fw.toFixed(2)}" height="22" fill="${short ? SHORT : '#ffffff'}" stroke="#333" stroke-width="0.5"/>`,
      );
    }
    if (need?.p === p && p.size > 0) {
      const nx = x + w - Math.min(w, (WINRE_UPDATE_FREE / p.size) * w);
      parts.push(`<line class="need" x1="${nx.toFixed(2)}" y1="0" x2="${nx.toFixed(2)}" y2="${H}" stroke="#000" stroke-width="3" stroke-dasharray="6 4"/>`);
    }
    if (w >= 24) {
      // The number near the left edge (clear of the free strip and the dashed line on the right).
      const dark = p.role === 'msr' || p.role === 'extended';
      parts.push(
        `<text x="${(x + Math.min(w / 2, 30)).toFixed(2)}" y="44" font-size="30" font-family="sans-serif" text-anchor="middle" fill="${dark ? '#111' : '#fff'}">${p.number}</text>`,
      );
    }
  }
  return `<svg class="disk" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${DISK_W} ${H}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="disk layout">${parts.join('')}</svg>`;
}

/** What the drawing shows, in words: the scale note, every partition, the recovery free space against the need. */
export function diskLegend(d: DiskInfo): string {
  const drawn = diskLayout(d);
  const wide = drawn.filter((x) => x.widened);
  const pct = Math.round((MIN_PART_W / DISK_W) * 100);
  const note = wide.length
    ? `Drawn to scale (the bar is the whole disk, ${size(d.sizeBytes)}), except ${wide.length === 1 ? 'partition' : 'partitions'} ${wide.map((x) => x.p.number).join(', ')}: under ${pct}% of the disk, drawn ${pct}% wide so ${wide.length === 1 ? 'it stays' : 'they stay'} visible.`
    : `Drawn to scale: the bar is the whole disk, ${size(d.sizeBytes)}.`;
  const items = drawn.map(({ p }) => {
    const bits = [
      size(p.size),
      p.fs && p.fs !== 'unknown' ? p.fs.toUpperCase() : '',
      p.label ? `"${p.label}"` : '',
      p.freeBytes !== undefined ? `${size(p.freeBytes)} free` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `<li data-part="${p.number}">${swatch(colorOf(p, d))} <b>${p.number} ${esc(partitionName(p, d))}</b>: ${esc(bits)}</li>`;
  });
  const need = recoveryNeed(d);
  let needLine = '';
  if (need) {
    const said = need.short
      ? `only ${size(need.free)} free; the WinRE update needs ${size(WINRE_UPDATE_FREE)} free (${size(WINRE_UPDATE_FREE - need.free)} short).`
      : `${size(need.free)} free; the WinRE update needs ${size(WINRE_UPDATE_FREE)} free (enough).`;
    needLine = `<p class="need-key ${need.short ? 'short' : 'enough'}">${swatch(need.short ? SHORT : '#ffffff')} <b>Recovery partition ${need.p.number}: ${esc(said)}</b> ${NEED_SWATCH} The dashed line marks the ${esc(size(WINRE_UPDATE_FREE))} needed; the strip along the bottom is the free space.</p>`;
  }
  return `<ul class="legend">${items.join('')}</ul>${needLine}<p class="note">${esc(note)}</p>`;
}

const RESULT_COLOR: Record<string, string> = {
  failed: '#e15759',
  succeeded: '#59a14f',
  'reboot-pending': '#f28e2b',
  cancelled: '#9c755f',
  'not-applicable': '#bab0ac',
  'in-progress': '#4e79a7',
  unknown: '#4e79a7',
};
const RESULT_ROW: Record<string, number> = { failed: 0, 'reboot-pending': 1, cancelled: 1, succeeded: 2 };
const UPDATE_KINDS: ReadonlySet<string> = new Set(['install', 'uninstall', 'feature-update']);
const TL_W = 1000;
const TL_X0 = 20;
const TL_X1 = TL_W - 20;

/** The date under an axis tick: the day, or the minute when the whole timeline is within two days. */
function tickLabel(t: number, span: number): string {
  const iso = new Date(t).toISOString();
  return span > 2 * 86_400_000 ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/**
 * The attempts on a time axis: failures on the top row in red, each update numbered as in the
 * table (`numbers`) where there is room, pending and cancelled in the middle, the rest below; the axis has ticks
 * whose dates are HTML text under the drawing (real size at any width) and a legend says what the
 * rows and colours are.
 */
export function timeline(attempts: UpdateAttempt[], numbers: Map<UpdateAttempt, number>): string {
  const pts = attempts.filter((a) => a.time && !Number.isNaN(Date.parse(a.time))).map((a) => ({ a, t: Date.parse(a.time!) }));
  if (pts.length === 0) return '';
  const H = 132;
  const t0 = Math.min(...pts.map((p) => p.t));
  const t1 = Math.max(...pts.map((p) => p.t));
  const span = t1 - t0;
  const xOf = (t: number) => (span ? TL_X0 + ((t - t0) / span) * (TL_X1 - TL_X0) : TL_W / 2);
  const svg: string[] = [`<line x1="${TL_X0}" y1="118" x2="${TL_X1}" y2="118" stroke="#666" stroke-width="2"/>`];
  for (const y of [54, 78, 102]) svg.push(`<line x1="${TL_X0}" y1="${y}" x2="${TL_X1}" y2="${y}" stroke="#eee"/>`);
  const ticks = span ? [0, 0.25, 0.5, 0.75, 1].map((f) => t0 + f * span) : [t0];
  for (const t of ticks) svg.push(`<line x1="${xOf(t).toFixed(1)}" y1="110" x2="${xOf(t).toFixed(1)}" y2="126" stroke="#666" stroke-width="2"/>`);
  // Each update's number as in the table: the failed ones above their dots (two levels), the others
  // beside theirs; a number only where it has room (the table lists them all).
  const lastX = [-Infinity, -Infinity];
  const rowLast = new Map<number, number>();
  const labels: string[] = [];
  const text = (x: number, y: number, n: number, anchor: string) =>
    `<text x="${x.toFixed(1)}" y="${y}" font-size="22" font-family="sans-serif" text-anchor="${anchor}" fill="#111">${n}</text>`;
  for (const { a, t } of pts) {
    const x = xOf(t);
    const row = RESULT_ROW[a.result] ?? 2;
    const y = 54 + 24 * row;
    const label = `${a.time} ${a.kind} ${a.name} ${a.result}${a.code ? ` ${a.code}` : ''} (${a.sources.join(', ')})`;
    svg.push(
      `<circle cx="${x.toFixed(1)}" cy="${y}" r="${UPDATE_KINDS.has(a.kind) ? 8 : 4}" fill="${RESULT_COLOR[a.result] ?? '#999'}" stroke="#333" stroke-width="0.5"><title>${esc(label)}</title></circle>`,
    );
    const n = numbers.get(a);
    if (n === undefined || !UPDATE_KINDS.has(a.kind)) continue;
    if (row === 0) {
      const level = lastX.findIndex((lx) => x - lx >= 50);
      if (level < 0) continue;
      lastX[level] = x;
      labels.push(text(x, level === 0 ? 40 : 20, n, 'middle'));
    } else if (x - (rowLast.get(row) ?? -Infinity) >= 60 && x + 60 <= TL_W) {
      rowLast.set(row, x);
      labels.push(text(x + 12, y + 8, n, 'start'));
    }
  }
  const tickText = ticks
    .map((t, i) => {
      const pos = span ? ((xOf(t) / TL_W) * 100).toFixed(2) : '50';
      const cls = i === 0 ? 'first' : i === ticks.length - 1 ? 'last' : i % 2 ? 'minor' : 'mid';
      return `<span class="tick ${cls}" style="left:${pos}%">${esc(tickLabel(t, span))}</span>`;
    })
    .join('');
  const key = [
    `${swatch(RESULT_COLOR.failed!)} failed (top row)`,
    `${swatch(RESULT_COLOR['reboot-pending']!)} waiting for a reboot, or cancelled (middle row)`,
    `${swatch(RESULT_COLOR.succeeded!)} succeeded (bottom row)`,
    'large dots: installs, removals and feature updates, numbered as in the table; small dots: scans, downloads and other steps',
  ];
  return `<figure class="timeline"><svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${TL_W} ${H}" width="100%" preserveAspectRatio="xMinYMin meet" role="img" aria-label="update timeline">${svg.join('')}${labels.join('')}</svg><div class="ticks">${tickText}</div><figcaption class="legend">Time axis (UTC), ${esc(tickLabel(t0, span))} to ${esc(tickLabel(t1, span))}: ${key.join('; ')}.</figcaption></figure>`;
}

/** The target a pasted repair command needs: --image for a target read from a whole disk image, else --root. */
function repairTarget(t: ScanResult): string {
  const image = / partition \d+$/.test(t.root) && t.disk && t.root.startsWith(t.disk.path) ? t.disk.path : undefined;
  return image ? `--image ${shellArg(image)}` : `--root ${shellArg(t.root)}`;
}

const isBad = (t: ScanResult) => t.findings.some((f) => f.severity !== 'info');

const evidenceList = (ev: ScanResult['findings'][number]['evidence']) =>
  `<ul class="evidence">${ev.map((e) => `<li><code>${esc(evidenceLine(e))}</code></li>`).join('')}</ul>`;

/** The attempts table; on a narrow screen each row is a block of labelled lines (data-label). */
function attemptsTable(shown: UpdateAttempt[]): string {
  const cell = (label: string, cls: string, html: string) => `<td${cls ? ` class="${cls}"` : ''} data-label="${label}">${html}</td>`;
  const rows = shown.map(
    (a, i) =>
      `<tr class="${a.result === 'failed' ? 'failure' : esc(a.result)}">${[
        cell('#', 'i', String(i + 1)),
        cell('Time (UTC)', 't', esc(a.time?.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''))),
        cell('Kind', '', esc(a.kind)),
        cell('Update', 'n', esc(a.name)),
        cell('Result', '', esc(a.result)),
        cell('Code', '', esc(a.code ? `${a.code}${a.extendedCode ? ` - ${a.extendedCode}` : ''}` : '')),
        cell('Sources', 's', esc(a.sources.join(', '))),
        cell('Evidence', 'ev', `<details><summary>${a.events} event(s)</summary>${evidenceList(a.evidence)}</details>`),
      ].join('')}</tr>`,
  );
  return `<table class="attempts"><thead><tr><th>#</th><th>Time (UTC)</th><th>Kind</th><th>Update</th><th>Result</th><th>Code</th><th>Sources</th><th>Evidence</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** One target: its name, verdict (when the page has several), system, disk, findings, attempts, logs. */
function targetSection(t: ScanResult, many: boolean): string {
  const body: string[] = [];
  const verdict = many ? `<p class="verdict ${isBad(t) ? 'bad' : 'ok'}">${esc(verdictLine(t))}</p>` : '';
  body.push(
    `<section class="target"><h2>${esc(many && t.system.computerName ? `${t.system.computerName} (${t.root})` : t.root)}</h2>${verdict}<p>${esc(systemLine(t))}</p>`,
  );
  if (t.disk) body.push(`<h3>Disk layout</h3><p>${esc(diskLine(t.disk))}</p><figure class="disk">${diskSvg(t.disk)}${diskLegend(t.disk)}</figure>`);
  body.push(`<h3>Findings</h3>`);
  if (!t.findings.length) body.push('<p class="ok">No problems found that wufix repairs.</p>');
  const history = repairHistory(t); // failures before a verified repair run: history, not current
  if (history?.past.length)
    body.push(`<p class="meta history">${esc(`${history.past.length} failed update attempt(s) in the table below. ${history.note}`)}</p>`);
  for (const f of t.findings) {
    const repair = f.repair ? `Repair: <code>${esc(f.nextCommand ?? `wufix repair ${repairTarget(t)} --only ${f.repair}`)}</code>` : 'No automatic repair';
    const codes = f.errorCodes?.length ? ` &middot; Codes: ${f.errorCodes.map((c) => `<code>${esc(c)}</code>`).join(' ')}` : '';
    body.push(
      `<div class="finding ${f.severity}"><h4>${esc(f.severity.toUpperCase())}: ${esc(f.id)}${f.subject ? ` (${esc(f.subject)})` : ''}</h4><p>${esc(f.explanation)}</p><p class="meta">${repair}${codes}</p>${evidenceList(f.evidence)}</div>`,
    );
  }
  // The table: every attempt that did not simply succeed, then the latest successes (bounded).
  const shown = [...t.attempts.filter((a) => a.result !== 'succeeded'), ...t.attempts.filter((a) => a.result === 'succeeded').slice(-50)]
    .slice(-500)
    .sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''));
  const numbers = new Map(shown.map((a, i) => [a, i + 1]));
  const tz = t.timeZone
    ? `<p class="meta">Times in UTC. ${esc(t.timeZone.name ? `Local log times converted from ${t.timeZone.name} (${t.timeZone.source}).` : t.timeZone.source)}</p>`
    : '';
  body.push(`<h3>Update attempts from the logs (${t.attempts.length})</h3>${tz}${timeline(shown, numbers)}`);
  if (shown.length) body.push(attemptsTable(shown));
  if (t.logs.length)
    body.push(
      `<h3>Log files read</h3><table class="logs"><thead><tr><th>Source</th><th>File</th><th>Format</th><th>Events</th><th>Understood</th></tr></thead><tbody>${t.logs.map((l) => `<tr><td>${esc(l.source)}</td><td>${esc(l.file)}</td><td>${esc(l.format ?? '')}</td><td>${l.events}</td><td>${l.understood ? 'yes' : `no${l.note ? `: ${esc(l.note)}` : ''}`}</td></tr>`).join('')}</tbody></table>`,
    );
  if (t.codes.length)
    body.push(
      `<h3>Error codes</h3><table class="codes"><thead><tr><th>Code</th><th>Symbol</th><th>Meaning</th><th>Seen</th></tr></thead><tbody>${t.codes.map((c) => `<tr><td><code>${esc(c.code)}</code></td><td>${esc(c.symbol ?? '')}</td><td>${esc(c.meaning)}</td><td>${c.count}</td></tr>`).join('')}</tbody></table>`,
    );
  if (t.problems.length) body.push(`<h3>Not readable</h3><ul class="evidence">${t.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`);
  body.push('</section>');
  return body.join('\n');
}

/** The page's style: fluid on screen, kept in colour and unbroken rows on paper. */
const STYLE = `
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:0 auto;padding:1em;max-width:64em;color:#222;line-height:1.35}
h1,h2,h3,h4,p,li,figcaption,summary,td.t,td.n,td.s,td.ev,table.logs td,table.codes td{overflow-wrap:anywhere}
td,th{overflow-wrap:break-word}
code{font-family:Consolas,monospace;font-size:90%;white-space:pre-wrap;white-space:break-spaces;overflow-wrap:anywhere}
svg{display:block;max-width:100%}svg.sw{display:inline-block;vertical-align:-1px}
figure{margin:.5em 0 1em}
.verdict{font-size:1.15em;font-weight:bold;margin:.3em 0;padding:.3em .6em;border-left:6px solid #59a14f;background:#eef7ec}
.verdict.bad{border-color:#e15759;background:#fdecea}
ul.verdicts{padding-left:1.2em}
ul.legend{list-style:none;padding:0;margin:.4em 0;display:flex;flex-wrap:wrap;gap:.2em 1.4em}
.need-key{margin:.3em 0}.need-key.short b{color:#a31515}
.note,.meta,figcaption{color:#555;font-size:90%}
.ticks{position:relative;height:1.4em;font-size:80%;color:#333}
.tick{position:absolute;top:0;white-space:nowrap;transform:translateX(-50%)}
.tick.first{transform:none}.tick.last{transform:translateX(-100%)}
.finding{border-left:6px solid #999;padding:.2em 1em;margin:1em 0;background:#fafafa}
.finding.error{border-color:#e15759}.finding.warning{border-color:#f28e2b}.finding.info{border-color:#4e79a7}
ul.evidence{padding-left:1.2em}
.ok{color:#2b7a2b;font-weight:bold}
table{border-collapse:collapse;font-size:90%;width:100%}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
tr.failure td{background:#fdecea}tr.reboot-pending td{background:#fff4e5}
details summary{cursor:pointer}
@media (max-width:600px){
  body{padding:.5em}.tick.minor{display:none}table{font-size:80%}td,th{padding:1px 3px}
  table.attempts,table.attempts tbody,table.attempts tr,table.attempts td{display:block;width:auto}
  table.attempts thead{display:none}table.attempts tr{border:1px solid #ccc;margin:.4em 0}table.attempts td{border:0}
  table.attempts td::before{content:attr(data-label) ": ";font-weight:bold}
}
@media print{
  @page{margin:12mm}
  body{max-width:none;margin:0;padding:0;font-size:9.5pt}
  table{font-size:8pt}
  tr,li,.finding,figure,.verdict,.need-key{break-inside:avoid;page-break-inside:avoid}
  thead{display:table-header-group}
  h2,h3,h4{break-after:avoid;page-break-after:avoid}
  details summary{list-style:none}
  details::details-content{content-visibility:visible;display:block}
  table.attempts td.ev{width:45%}
  .tick.minor{display:inline}
}
`;

export function renderHtml(report: ScanReport): string {
  const names = report.targets.map((t) => t.system.computerName).filter((n): n is string => !!n);
  const title = names.length ? `wufix scan report: ${names.join(', ')}` : 'wufix scan report';
  let top: string;
  if (!report.targets.length) top = '<p class="verdict bad">No offline Windows installation found.</p>';
  else if (report.targets.length === 1) {
    const t = report.targets[0]!;
    top = `<p class="verdict ${isBad(t) ? 'bad' : 'ok'}">${esc(verdictLine(t))}</p>`;
  } else
    top = `<ul class="verdicts">${report.targets.map((t) => `<li><b>${esc(t.system.computerName ?? t.root)}</b>: ${esc(verdictLine(t))}</li>`).join('')}</ul>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>${STYLE}</style></head><body>
<header><h1>${esc(title)}</h1>${top}<p class="meta">${esc(report.tool)} &middot; scanned ${esc(report.scannedAt)}</p></header>
${report.targets.map((t) => targetSection(t, report.targets.length > 1)).join('\n')}
</body></html>
`;
}
