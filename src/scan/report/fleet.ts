// Many images, one summary (issue #18 items 5 and 6): the per-image result documents of
// `wufix scan --image ... --out-dir/--jsonl` (or of any runner calling `wufix scan --json` per
// image) validated, merged and rendered as the batch's summary table, a CSV and a self-contained
// HTML page. Pure: values in, values out; src/cli/scan-batch.ts and src/cli/report.ts read and write.
// Result files are untrusted input (a lab share, another machine): only the fields used here are
// taken, each checked for its type and bounded in length; everything is escaped where it is shown.
import type { Severity } from '../../model/scan.js';
import { EXIT } from '../../shared/errors.js';
import { asciiSafe } from '../../shared/style.js';
import { normalClientId } from '../../windows/policy.js';

/** One image's result as the fleet summary uses it (taken from its per-image JSON document). */
export interface FleetImage {
  /** The image as given to wufix (a path). */
  image: string;
  exitCode: number;
  computerName?: string;
  /** "Windows 10 Pro 22H2" (several targets: joined with "; "). */
  windows?: string;
  /** "19045.4046" (several targets: joined with "; "). */
  build?: string;
  /** Every finding of every target, in report order. */
  findings: { id: string; severity: Severity }[];
  scannedAt?: string;
  /** The one-line error when the scan gave none (exit 2, 3, 70). */
  error?: string;
  /** The WSUS SusClientId of each target that has one (lower case, no braces). */
  wsusClientIds?: string[];
}

/** A WSUS client id that several images share: clones that report to WSUS as one computer. */
export interface DuplicateClientId {
  id: string;
  images: string[];
}

/** A result file (or line) that could not be used, and why. */
export interface BadResult {
  file: string;
  problem: string;
}

export interface Fleet {
  /** Worst first (see compareWorst). */
  images: FleetImage[];
  /** Per finding id: how many images have it, its worst severity, the images (worst first). */
  byKind: { id: string; severity: Severity; images: string[] }[];
  /** Per Windows build: the images and how many have findings that need action. */
  byBuild: { build: string; windows: string; images: string[]; withFindings: number }[];
  /** SusClientIds found in more than one image (issue #19): each wants wufix repair --only wsus-policy. */
  duplicateClientIds: DuplicateClientId[];
  /** The worst exit code (worstExit). */
  exitCode: number;
  bad: BadResult[];
}

/**
 * The order of exit codes from worst to best, for "the exit code is the worst of the images":
 * interrupted (130) > internal error (70) > verification failed (4) > refused (3) > bad input (2)
 * > usage (1) > findings (10) > nothing to fix (0). A code wufix never gives ranks as 70.
 */
export const EXIT_ORDER: readonly number[] = [
  EXIT.INTERRUPTED,
  EXIT.INTERNAL,
  EXIT.VERIFY_FAILED,
  EXIT.REFUSED,
  EXIT.BAD_INPUT,
  EXIT.USAGE,
  EXIT.FINDINGS,
  EXIT.OK,
];

const exitRank = (code: number) => {
  const i = EXIT_ORDER.indexOf(code);
  return EXIT_ORDER.length - (i < 0 ? 1 : i);
};

/** The worst of `codes` by EXIT_ORDER; 0 for none. */
export function worstExit(codes: readonly number[]): number {
  let worst: number = EXIT.OK;
  for (const c of codes) if (exitRank(c) > exitRank(worst)) worst = c;
  return worst;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

export function worstSeverity(findings: readonly { severity: Severity }[]): Severity | undefined {
  let worst: Severity | undefined;
  for (const f of findings) if (!worst || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}

/** Worst first: exit code, then worst severity, then number of findings, then the image's name. */
export function compareWorst(a: FleetImage, b: FleetImage): number {
  const sev = (x: FleetImage) => {
    const w = worstSeverity(x.findings);
    return w ? SEVERITY_RANK[w] : 0;
  };
  return (
    exitRank(b.exitCode) - exitRank(a.exitCode) ||
    sev(b) - sev(a) ||
    b.findings.length - a.findings.length ||
    (a.image < b.image ? -1 : a.image > b.image ? 1 : 0)
  );
}

// --- validation of untrusted result documents ---

const MAX_TEXT = 512;
const MAX_TARGETS = 64;
const MAX_FINDINGS = 1000;
const FINDING_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const SEVERITIES = new Set<string>(['error', 'warning', 'info']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string field: absent is undefined; present must be a string of at most MAX_TEXT characters. */
function text(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  if (v.length > MAX_TEXT) throw new Error(`${what} is longer than ${MAX_TEXT} characters`);
  return v;
}

function int(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${what} is not a whole number`);
  return v;
}

/**
 * One per-image document (the scan JSON plus `image` and `exitCode`) as a FleetImage, or a problem
 * in words when it is not one. Unknown fields are ignored; the used ones are checked.
 */
export function parseImageResult(doc: unknown): FleetImage | string {
  try {
    if (!isObject(doc)) return 'not a JSON object';
    const image = text(doc.image, '"image"');
    if (!image) return 'no "image" field (not a per-image result of wufix scan --out-dir or --jsonl)';
    const exitCode = int(doc.exitCode, '"exitCode"');
    if (exitCode === undefined || exitCode > 255) return 'no valid "exitCode" field';
    const targets = doc.targets ?? [];
    if (!Array.isArray(targets)) return '"targets" is not a list';
    if (targets.length > MAX_TARGETS) return `more than ${MAX_TARGETS} targets`;
    const names: string[] = [];
    const windows: string[] = [];
    const builds: string[] = [];
    const findings: FleetImage['findings'] = [];
    const clientIds: string[] = [];
    for (const [i, t] of targets.entries()) {
      if (!isObject(t)) return `targets[${i}] is not an object`;
      const s = t.system ?? {};
      if (!isObject(s)) return `targets[${i}].system is not an object`;
      const name = text(s.computerName, 'computerName');
      if (name) names.push(name);
      const product = text(s.productName, 'productName');
      const display = text(s.displayVersion, 'displayVersion');
      windows.push(product ? `${product}${display ? ` ${display}` : ''}` : 'Windows (version unknown)');
      const build = int(s.currentBuild, 'currentBuild');
      const ubr = int(s.ubr, 'ubr');
      builds.push(build === undefined ? 'unknown' : `${build}${ubr !== undefined ? `.${ubr}` : ''}`);
      const pol = t.policy ?? {};
      if (!isObject(pol)) return `targets[${i}].policy is not an object`;
      const wc = pol.wsusClient ?? {};
      if (!isObject(wc)) return `targets[${i}].policy.wsusClient is not an object`;
      // Only a GUID is compared; anything else in the field is not an id (and is never shown).
      const cid = normalClientId(text(wc.susClientId, 'susClientId'));
      if (cid && !clientIds.includes(cid)) clientIds.push(cid);
      const fs = t.findings ?? [];
      if (!Array.isArray(fs)) return `targets[${i}].findings is not a list`;
      for (const f of fs) {
        if (findings.length >= MAX_FINDINGS) return `more than ${MAX_FINDINGS} findings`;
        if (!isObject(f) || typeof f.id !== 'string' || !FINDING_ID.test(f.id) || typeof f.severity !== 'string' || !SEVERITIES.has(f.severity))
          return `targets[${i}] has a finding without a valid id and severity`;
        findings.push({ id: f.id, severity: f.severity as Severity });
      }
    }
    const r: FleetImage = { image, exitCode, findings };
    if (names.length) r.computerName = names.join('; ');
    if (windows.length) r.windows = windows.join('; ');
    if (builds.length) r.build = builds.join('; ');
    if (clientIds.length) r.wsusClientIds = clientIds;
    const at = text(doc.scannedAt, '"scannedAt"');
    if (at) r.scannedAt = at;
    if (doc.error !== undefined) {
      if (!isObject(doc.error)) return '"error" is not an object';
      const m = text(doc.error.message, 'error message');
      r.error = m ?? 'error';
    }
    return r;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * The fleet from per-image results (each image once: a later scannedAt wins over an earlier one,
 * else the one read last) and the files that could not be used.
 */
export function mergeFleet(results: readonly FleetImage[], bad: readonly BadResult[] = []): Fleet {
  const byImage = new Map<string, FleetImage>();
  for (const r of results) {
    const had = byImage.get(r.image);
    if (!had || (r.scannedAt ?? '') >= (had.scannedAt ?? '')) byImage.set(r.image, r);
  }
  const images = [...byImage.values()].sort(compareWorst);
  const kinds = new Map<string, { id: string; severity: Severity; images: string[] }>();
  const builds = new Map<string, { build: string; windows: string; images: string[]; withFindings: number }>();
  for (const im of images) {
    for (const f of im.findings) {
      const k = kinds.get(f.id) ?? { id: f.id, severity: f.severity, images: [] };
      if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[k.severity]) k.severity = f.severity;
      if (!k.images.includes(im.image)) k.images.push(im.image);
      kinds.set(f.id, k);
    }
    const key = im.build ?? 'no Windows found';
    const b = builds.get(key) ?? { build: key, windows: im.windows ?? '', images: [], withFindings: 0 };
    b.images.push(im.image);
    if (im.findings.some((f) => f.severity !== 'info')) b.withFindings++;
    builds.set(key, b);
  }
  const byKind = [...kinds.values()].sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.images.length - a.images.length || (a.id < b.id ? -1 : 1),
  );
  const byBuild = [...builds.values()].sort((a, b) => b.images.length - a.images.length || (a.build < b.build ? -1 : 1));
  return { images, byKind, byBuild, duplicateClientIds: duplicateClientIds(images), exitCode: worstExit(images.map((i) => i.exitCode)), bad: [...bad] };
}

/** The SusClientIds that more than one image carries, most images first, then by id. */
export function duplicateClientIds(images: readonly FleetImage[]): DuplicateClientId[] {
  const by = new Map<string, string[]>();
  for (const im of images)
    for (const id of im.wsusClientIds ?? []) {
      const list = by.get(id) ?? [];
      if (!list.includes(im.image)) list.push(im.image);
      by.set(id, list);
    }
  return [...by.entries()]
    .filter(([, ims]) => ims.length > 1)
    .map(([id, ims]) => ({ id, images: ims }))
    .sort((a, b) => b.images.length - a.images.length || (a.id < b.id ? -1 : 1));
}

/**
 * The console lines for duplicate WSUS client ids (none when there are none): one per id with its
 * images, then what to do. ASCII-safe (the ids are GUIDs; the image names are escaped).
 */
export function duplicateClientLines(dups: readonly DuplicateClientId[], width = 80): string {
  if (!dups.length) return '';
  const lines: string[] = [];
  for (const d of dups) {
    lines.push(`duplicate WSUS client id ${d.id} (${d.images.length} images):`);
    for (const im of d.images) lines.push(`  - ${elide(asciiSafe(im).replace(/[\t\r\n]/g, ' '), Math.max(20, width - 4), true)}`);
  }
  lines.push('each reports to WSUS as the same computer: wufix repair --only wsus-policy');
  return lines.join('\n') + '\n';
}

// --- the summary table (console) ---

/** One row of the summary table; `status` replaces the Windows column for an image not scanned. */
export interface SummaryRow {
  image: string;
  windows: string;
  findings: string;
  worst: string;
  exit: string;
}

export function summaryRow(r: FleetImage, note?: string): SummaryRow {
  const ids = [...new Set(r.findings.map((f) => f.id))];
  return {
    image: r.image,
    windows: r.windows ? `${r.windows}${r.build ? ` (${r.build})` : ''}` : (r.error ?? 'no Windows found'),
    findings: ids.length ? ids.join(',') : '-',
    worst: worstSeverity(r.findings) ?? '-',
    exit: `${r.exitCode}${note ? ` ${note}` : ''}`,
  };
}

/** `s` in at most `n` columns: cut with "..." (at the start for paths, whose end names the file). */
export function elide(s: string, n: number, keepEnd = false): string {
  if (s.length <= n) return s;
  if (n <= 3) return s.slice(0, n);
  return keepEnd ? `...${s.slice(s.length - (n - 3))}` : `${s.slice(0, n - 3)}...`;
}

const HEAD: SummaryRow = { image: 'IMAGE', windows: 'WINDOWS', findings: 'FINDINGS', worst: 'WORST', exit: 'EXIT' };
const COLS = ['image', 'windows', 'findings', 'worst', 'exit'] as const;
const MIN_COL = 8;

/**
 * The table (header, one line per row) in at most `width` columns: the image, Windows and findings
 * columns give up room, widest first, cut with "..."; ASCII-safe (names from the image are escaped).
 */
export function summaryTable(rows: readonly SummaryRow[], width: number): string {
  const safe = [HEAD, ...rows].map((r) => Object.fromEntries(COLS.map((c) => [c, asciiSafe(r[c]).replace(/[\t\n]/g, ' ')])) as unknown as SummaryRow);
  const w = Object.fromEntries(COLS.map((c) => [c, Math.max(...safe.map((r) => r[c].length))])) as Record<(typeof COLS)[number], number>;
  const total = () => COLS.reduce((n, c) => n + w[c], 0) + 2 * (COLS.length - 1);
  const flex = ['image', 'windows', 'findings'] as const;
  while (total() > width) {
    const widest = flex.reduce((a, b) => (w[b] > w[a] ? b : a));
    if (w[widest] <= MIN_COL) break;
    w[widest]--;
  }
  return (
    safe
      .map((r) =>
        COLS.map((c, i) => {
          const cell = elide(r[c], w[c], c === 'image');
          return i === COLS.length - 1 ? cell : cell.padEnd(w[c]);
        })
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

// --- CSV ---

/**
 * A CSV field: quoted when it holds a comma, quote or line break; a field a spreadsheet would run as
 * a formula (starting with = + - @, tab or CR) gets a leading ' so a hostile computer name stays text.
 */
export function csvField(s: string): string {
  const t = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

export const CSV_HEADER = ['image', 'computer_name', 'windows', 'build', 'findings', 'worst_severity', 'exit_code'] as const;

/** One row per image (worst first), CRLF line ends (RFC 4180); finding ids separated by spaces. */
export function fleetCsv(fleet: Fleet): string {
  const rows = fleet.images.map((r) => [
    r.image,
    r.computerName ?? '',
    r.windows ?? '',
    r.build ?? '',
    [...new Set(r.findings.map((f) => f.id))].join(' '),
    worstSeverity(r.findings) ?? '',
    String(r.exitCode),
  ]);
  return [CSV_HEADER as readonly string[], ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

// --- HTML ---

function esc(s: string | number | undefined): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const FLEET_STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:72em;margin:0 auto;padding:1em;color:#111;line-height:1.4}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse;font-size:90%;width:100%}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
td.n{text-align:right}.error{color:#b00020;font-weight:bold}.warning{color:#8a5a00;font-weight:bold}.meta{color:#555;font-size:90%}
tr.exit-bad td{background:#fdecea}tr.exit-findings td{background:#fff4e5}
code{overflow-wrap:anywhere}
@media print{body{max-width:none;padding:0}tr{break-inside:avoid}thead{display:table-header-group}}
`;

const sevCell = (s: Severity | undefined) => (s ? `<td class="${s}">${esc(s)}</td>` : '<td>-</td>');
const rowClass = (code: number) => (code === EXIT.OK ? 'exit-ok' : code === EXIT.FINDINGS ? 'exit-findings' : 'exit-bad');

/**
 * The fleet as one self-contained page: the images worst first, the findings by kind, the images
 * by Windows build, the result files that could not be read. No script, nothing loaded; every
 * string escaped.
 */
export function renderFleetHtml(fleet: Fleet, meta: { tool: string; generatedAt: string }): string {
  const n = fleet.images.length;
  const withFindings = fleet.images.filter((i) => i.findings.some((f) => f.severity !== 'info')).length;
  const images = fleet.images
    .map(
      (r) =>
        `<tr class="image ${rowClass(r.exitCode)}"><td><code>${esc(r.image)}</code></td><td>${esc(r.computerName)}</td><td>${esc(r.windows ?? r.error ?? 'no Windows found')}</td>` +
        `<td>${esc(r.build)}</td><td>${esc([...new Set(r.findings.map((f) => f.id))].join(', ') || '-')}</td>${sevCell(worstSeverity(r.findings))}<td class="n">${esc(r.exitCode)}</td></tr>`,
    )
    .join('\n');
  const kinds = fleet.byKind.length
    ? `<table class="kinds"><thead><tr><th>Finding</th><th>Worst severity</th><th>Images</th><th>Which</th></tr></thead><tbody>
${fleet.byKind.map((k) => `<tr class="kind"><td><code>${esc(k.id)}</code></td>${sevCell(k.severity)}<td class="n">${k.images.length}</td><td>${k.images.map((i) => `<code>${esc(i)}</code>`).join(', ')}</td></tr>`).join('\n')}
</tbody></table>`
    : '<p>No findings on any image.</p>';
  const builds = `<table class="builds"><thead><tr><th>Build</th><th>Windows</th><th>Images</th><th>With findings</th><th>Which</th></tr></thead><tbody>
${fleet.byBuild.map((b) => `<tr class="build"><td>${esc(b.build)}</td><td>${esc(b.windows)}</td><td class="n">${b.images.length}</td><td class="n">${b.withFindings}</td><td>${b.images.map((i) => `<code>${esc(i)}</code>`).join(', ')}</td></tr>`).join('\n')}
</tbody></table>`;
  const dups = fleet.duplicateClientIds.length
    ? `<h2>Duplicate WSUS client ids (${fleet.duplicateClientIds.length})</h2>
<p>These images carry the same SusClientId and report to WSUS as one computer; run <code>wufix repair --only wsus-policy</code> on each so it registers anew.</p>
<table class="dup-client-ids"><thead><tr><th>SusClientId</th><th>Images</th><th>Which</th></tr></thead><tbody>
${fleet.duplicateClientIds.map((d) => `<tr class="dup"><td><code>${esc(d.id)}</code></td><td class="n">${d.images.length}</td><td>${d.images.map((i) => `<code>${esc(i)}</code>`).join(', ')}</td></tr>`).join('\n')}
</tbody></table>`
    : '';
  const bad = fleet.bad.length
    ? `<h2>Result files not used (${fleet.bad.length})</h2><ul class="bad">${fleet.bad.map((b) => `<li><code>${esc(b.file)}</code>: ${esc(b.problem)}</li>`).join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>wufix fleet summary: ${n} image${n === 1 ? '' : 's'}</title>
<style>${FLEET_STYLE}</style></head><body>
<header><h1>wufix fleet summary: ${n} image${n === 1 ? '' : 's'}</h1>
<p class="verdict">${withFindings} with findings that need action; worst exit code ${esc(fleet.exitCode)}.</p>
<p class="meta">${esc(meta.tool)} &middot; merged ${esc(meta.generatedAt)}</p></header>
<h2>Images, worst first</h2>
<table class="images"><thead><tr><th>Image</th><th>Computer</th><th>Windows</th><th>Build</th><th>Findings</th><th>Worst severity</th><th>Exit code</th></tr></thead><tbody>
${images}
</tbody></table>
<h2>Findings by kind</h2>
${kinds}
<h2>By Windows build</h2>
${builds}
${dups}
${bad}
</body></html>
`;
}
