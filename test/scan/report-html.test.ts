// The ticket report (issue #17 items 9 and 10) as a browser shows it: `wufix scan --image --html` of a
// real GPT disk image (ESP 100 MiB, MSR 16 MiB, Windows, a 525 MiB recovery partition with 82 MiB
// free), rendered by headless Chromium at 1280 px, at 400 px and with the page's print rules on an
// A4 page's printable width; a script injected into a copy of the page (the report itself has none)
// writes getBoundingClientRect() and the texts into the DOM, which --dump-dom hands back.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, MiB, GiB } from '../helpers/disk-images.js';
import { CLI, runCli } from '../helpers/cli.js';
import { chromium } from '../helpers/chromium.js';
import { renderHtml, diskLayout, diskLegend, diskSvg, DISK_W, MIN_PART_W } from '../../src/scan/report/html.js';
import { partitionName, verdictLine } from '../../src/scan/report/shared.js';
import * as S from './scenarios.js';
import type { DiskInfo, Finding, ScanReport } from '../../src/model/scan.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'chromium'), diskToolsReason());

const COMPUTER = 'WKS-TICKET-042';
/** A4 (210 mm) less the page's 12 mm margins, at 96 px per inch; Letter (8.5 in) is wider. */
const A4_PRINT_PX = Math.floor(((210 - 2 * 12) / 25.4) * 96);

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}
interface Measured {
  innerWidth: number;
  scrollWidth: number;
  svg: Box;
  recovery: Box;
  parts: (Box & { n: string })[];
  needLine: Box;
  overflowing: string[];
  h1: string;
  verdict: string;
  legendItems: string[];
  needKey: string;
  note: string;
  ticks: (Box & { text: string })[];
  markLabels: string[];
  failureRows: string[];
  rowNumbers: string[];
  fontPx: number;
}

/** What the injected script reads: every box in CSS px of the viewport, every text as the browser lays it out. */
const MEASURE = String.raw`
(() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height }; };
  const seen = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const name = (el) => el.tagName.toLowerCase() + (el.getAttribute('class') ? '.' + el.getAttribute('class').replace(/ /g, '.') : '') + ' ' + JSON.stringify((el.textContent || '').slice(0, 60)) + ' ' + Math.round(box(el).right);
  const W = window.innerWidth;
  const out = {
    innerWidth: W,
    scrollWidth: document.documentElement.scrollWidth,
    svg: box(document.querySelector('svg.disk')),
    recovery: box(document.querySelector('svg.disk rect.part.recovery')),
    parts: [...document.querySelectorAll('svg.disk rect.part')].map((e) => ({ n: e.getAttribute('data-part'), ...box(e) })),
    needLine: box(document.querySelector('svg.disk line.need')),
    overflowing: [...document.body.querySelectorAll('*')].filter((e) => seen(e) && (box(e).right > W + 0.5 || box(e).left < -0.5)).map(name),
    h1: document.querySelector('h1').innerText,
    verdict: document.querySelector('header .verdict').innerText,
    legendItems: [...document.querySelectorAll('figure.disk ul.legend li')].map((e) => e.innerText),
    needKey: document.querySelector('.need-key').innerText,
    note: document.querySelector('figure.disk .note').innerText,
    ticks: [...document.querySelectorAll('.ticks .tick')].filter(seen).map((e) => ({ text: e.innerText, ...box(e) })),
    markLabels: [...document.querySelectorAll('svg.timeline text')].map((e) => e.textContent),
    failureRows: [...document.querySelectorAll('table.attempts tbody tr.failure td:first-child')].map((e) => e.textContent),
    rowNumbers: [...document.querySelectorAll('table.attempts tbody td:first-child')].map((e) => e.textContent),
    fontPx: parseFloat(getComputedStyle(document.querySelector('.need-key')).fontSize),
  };
  // Written into the page around the frame: --dump-dom returns the top document.
  const top = window.parent.document;
  const pre = top.createElement('pre');
  pre.id = 'wufix-measure';
  pre.textContent = encodeURIComponent(JSON.stringify(out));
  top.body.appendChild(pre);
})();`;

/** The page's @media print rules made unconditional (what the print preview lays out), @page aside. */
const PRINT_RULES = String.raw`
for (const sheet of [...document.styleSheets])
  for (const rule of [...sheet.cssRules])
    if (rule instanceof CSSMediaRule && /\bprint\b/.test(rule.media.mediaText))
      for (const inner of [...rule.cssRules]) if (!(inner instanceof CSSPageRule)) sheet.insertRule(inner.cssText, sheet.cssRules.length);`;

let tmp = '';

/**
 * The page laid out `width` px wide (print: with its print rules), measured by the injected script.
 * It runs in a frame of that width: headless Chromium makes no window narrower than 500 px, a frame's
 * viewport is its own size (media queries and innerWidth included).
 */
function measure(page: string, width: number, opts: { print?: boolean } = {}): Measured {
  const copy = path.join(tmp, `measure-${width}${opts.print ? '-print' : ''}.html`);
  const html = readFileSync(page, 'utf8');
  expect(html).toContain('</body>');
  const inner = html.replace('</body>', `<script>${opts.print ? PRINT_RULES : ''}${MEASURE}</script></body>`);
  const srcdoc = inner.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  writeFileSync(
    copy,
    `<!doctype html><html><body style="margin:0"><iframe style="display:block;border:0;width:${width}px;height:1000px" srcdoc="${srcdoc}"></iframe></body></html>`,
  );
  const dom = chromium([`--window-size=${Math.max(width, 500) + 40},1100`, '--dump-dom', `file://${copy}`]);
  const m = /<pre id="wufix-measure">([^<]*)<\/pre>/.exec(dom);
  expect(m, 'the measuring script ran').not.toBeNull();
  return JSON.parse(decodeURIComponent(m![1]!)) as Measured;
}

describe.skipIf(!!reason)('the HTML ticket report in headless Chromium (issue #17 items 9, 10)', () => {
  let page = '';
  let report: ScanReport;
  let stderr = '';
  let status: number | null = null;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-report-html-'));
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, { ...S.server2022Winre, computerName: COMPUTER });
    const img = path.join(tmp, 'disk.img');
    buildDisk(img, tree, { size: 4 * GiB, recoverySize: 525 * MiB, recoveryFree: 82 * MiB });
    rmSync(tree, { recursive: true, force: true });
    // A relative --html path, from another directory: the message names the absolute file.
    const r = spawnSync(process.execPath, [CLI, 'scan', '--image', img, '--html', 'report.html', '--quiet'], { cwd: tmp, encoding: 'utf8' });
    status = r.status;
    stderr = r.stderr;
    page = path.join(tmp, 'report.html');
    const json = runCli(['scan', '--image', img, '--json']);
    expect(json.status, json.stderr).toBe(10);
    report = JSON.parse(json.stdout) as ScanReport;
  }, 300_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('scan --html says on stderr where it wrote the file, and the page is self-contained', () => {
    expect(status, stderr).toBe(10);
    expect(stderr).toBe(`wufix: report written to ${page}\n`);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/<script|<link|(src|href)=["']?https?:/i);
    expect(report.targets[0]!.system.computerName).toBe(COMPUTER);
    // The drawing scales with the page: a viewBox and 100% width, no fixed pixel width.
    expect(html).toMatch(/<svg class="disk"[^>]* viewBox="0 0 \d+ \d+" width="100%"/);
    expect(html).not.toMatch(/<svg[^>]* width="\d+"(?![^>]*class="sw")[^>]*aria-label/);
    expect(html).toMatch(/@media print\{[^]*break-inside:avoid/);
    expect(html).toMatch(/print-color-adjust:exact/);
  });

  for (const [label, width, print] of [
    ['1280 px', 1280, false],
    ['400 px', 400, false],
    [`print (A4, ${A4_PRINT_PX} px)`, A4_PRINT_PX, true],
  ] as const) {
    it(`${label}: the recovery partition inside the page, nothing wider than it, every label real text`, () => {
      const m = measure(page, width, { print });
      // Nothing overflows the page sideways (the evidence and paths wrap in their boxes).
      expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
      expect(m.overflowing).toEqual([]);
      // The recovery partition's box lies fully inside the page, and is the last on the bar.
      expect(m.recovery.width).toBeGreaterThan(0);
      expect(m.recovery.left).toBeGreaterThanOrEqual(0);
      expect(m.recovery.right).toBeLessThanOrEqual(m.innerWidth);
      expect(m.recovery.right).toBeCloseTo(m.svg.right, 0);
      // The bar takes the width of the page's content (no fixed 900 px).
      expect(m.svg.width).toBeGreaterThan(m.innerWidth * 0.75);
      expect(m.svg.right).toBeLessThanOrEqual(m.innerWidth);
      // In disk order, no partition over another; the ESP and MSR drawn 4% wide, the rest to scale.
      expect(m.parts.map((p) => p.n)).toEqual(['1', '2', '3', '4']);
      for (let i = 1; i < m.parts.length; i++) expect(m.parts[i]!.left).toBeGreaterThanOrEqual(m.parts[i - 1]!.right - 0.5);
      const [esp, msr, win, rec] = m.parts as unknown as [Box, Box, Box, Box];
      expect(esp.width / m.svg.width).toBeCloseTo(0.04, 2);
      expect(msr.width / m.svg.width).toBeCloseTo(0.04, 2);
      const t = report.targets[0]!;
      const size = (n: number) => t.disk!.partitions.find((p) => p.number === n)!.size;
      expect(win.width / rec.width).toBeCloseTo(size(3) / size(4), 1);
      expect(m.note).toMatch(/^Drawn to scale .*except partitions 1, 2: under 4% of the disk, drawn 4% wide/);
      // The needed-space line lies inside the recovery box: 250 of its 525 MiB from its right edge.
      expect(m.needLine.left).toBeGreaterThanOrEqual(rec.left);
      expect((rec.right - m.needLine.left) / rec.width).toBeCloseTo(250 / 525, 1);
      // Every partition named in words; the free-versus-needed reading as text (a PNG or PDF keeps it).
      expect(m.legendItems.map((s) => s.split(':')[0]!.trim())).toEqual(['1 EFI system', '2 Microsoft reserved (MSR)', '3 Windows', '4 Recovery']);
      const need = /Recovery partition 4: only ([\d.]+) Mi?B free; the WinRE update needs 250 Mi?B free \(([\d.]+) Mi?B short\)\./.exec(m.needKey);
      expect(need, m.needKey).not.toBeNull();
      const free = t.disk!.partitions.find((p) => p.number === 4)!.freeBytes!;
      expect(Math.abs(Number(need![1]) - free / MiB)).toBeLessThan(1);
      expect(Math.abs(Number(need![1]) - 82)).toBeLessThan(2);
      expect(m.needKey).toMatch(/dashed line marks the 250 Mi?B needed/);
      expect(m.fontPx).toBeGreaterThanOrEqual(print ? 11 : 14);
      // The computer name and the verdict at the top.
      expect(m.h1).toBe(`wufix scan report: ${COMPUTER}`);
      expect(m.verdict).toBe('1 problem needs repair: winre-too-small');
      // The timeline: dated ticks inside the page, none over another; each update's mark numbered as its table row.
      expect(m.innerWidth).toBe(width);
      expect(m.ticks.length).toBe(width <= 600 && !print ? 3 : 5);
      for (const k of m.ticks) expect(k.text).toMatch(/^2024-01-(09|10) \d\d:\d\d$/);
      for (const k of m.ticks) expect(k.left >= 0 && k.right <= m.innerWidth).toBe(true);
      for (let i = 1; i < m.ticks.length; i++) expect(m.ticks[i]!.left).toBeGreaterThan(m.ticks[i - 1]!.right);
      expect(m.failureRows.length).toBe(t.attempts.filter((a) => a.result === 'failed').length);
      expect([...m.markLabels].sort()).toEqual([...m.rowNumbers].sort());
    });
  }

  it('400 px: evidence of 600 characters without a space wraps inside its box', () => {
    const long = `Windows\\${'VeryLongDirectoryName\\'.repeat(30)}CBS.log`;
    const t = report.targets[0]!;
    const f = { ...t.findings[0]!, evidence: [...t.findings[0]!.evidence, { file: long, line: 1, data: 'x'.repeat(300) }] };
    const file = path.join(tmp, 'long.html');
    writeFileSync(file, renderHtml({ ...report, targets: [{ ...t, findings: [f] }] }));
    const m = measure(file, 400);
    expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
    expect(m.overflowing).toEqual([]);
  });

  it('hostile names, evidence and log files stay text in the browser (no element, no handler)', () => {
    const evil = '</td></tr></table><img src=x onerror=alert(1)><script>alert(2)</script>';
    const t = report.targets[0]!;
    const a = {
      ...t.attempts[0]!,
      name: evil,
      title: evil,
      result: 'failed' as const,
      evidence: [{ file: `Windows\\${evil}`, line: 1, data: evil, note: '" onmouseover="alert(3)' }],
    };
    const hostile = {
      ...t,
      system: { ...t.system, computerName: evil },
      attempts: [a],
      logs: [{ source: 'CBS.log' as const, file: evil, events: 1, understood: false, note: evil }],
      disk: { ...t.disk!, partitions: t.disk!.partitions.map((p) => ({ ...p, label: evil, fs: evil })) },
    };
    const file = path.join(tmp, 'evil.html');
    writeFileSync(file, renderHtml({ ...report, targets: [hostile, t] }));
    const dom = chromium(['--dump-dom', `file://${file}`]);
    expect(dom.match(/<script[\s>]/g) ?? []).toEqual([]);
    expect(dom.match(/<img[\s>]/g) ?? []).toEqual([]);
    expect(dom).not.toMatch(/<[a-zA-Z][^>]*\son(error|mouseover)=/);
    // Each hostile string is still there as text: title, heading, verdict list, attempt, evidence, log, legend.
    expect(dom.split('&lt;img src=x onerror=alert(1)&gt;').length - 1).toBeGreaterThanOrEqual(8);
    // Two targets: a verdict line for each at the top.
    expect(dom.match(/<ul class="verdicts"><li>/g) ?? []).toHaveLength(1);
    expect(dom).toContain(`<b>${COMPUTER}</b>: 1 problem needs repair: winre-too-small`);
  });

  it('--print-to-pdf: Chromium prints the page (its default paper, Letter; the page sets no size, so A4 prints too)', () => {
    const pdf = path.join(tmp, 'report.pdf');
    chromium(['--no-pdf-header-footer', `--print-to-pdf=${pdf}`, `file://${page}`]);
    expect(existsSync(pdf)).toBe(true);
    const text = readFileSync(pdf).toString('latin1');
    expect(text.slice(0, 5)).toBe('%PDF-');
    const pages = text.match(/\/Type\s*\/Page\b/g) ?? [];
    expect(pages.length).toBeGreaterThanOrEqual(1);
    expect(pages.length).toBeLessThanOrEqual(4);
    expect(text.match(/\/MediaBox\s*\[0 0 612 792\]/g) ?? []).toHaveLength(pages.length);
  });
});

// The drawing's arithmetic and the words, without a browser (pure; run everywhere).
describe('disk layout, partition names and the verdict (pure)', () => {
  const gpt = (parts: [number, number, string][], sizeBytes: number, extra: Partial<DiskInfo> = {}): DiskInfo => ({
    path: 'disk.img',
    scheme: 'gpt',
    sizeBytes,
    partitions: parts.map(([start, size, role], i) => ({ number: i + 1, start, size, role, fs: 'ntfs' })),
    ...extra,
  });
  const laidOut = (d: DiskInfo) => {
    const drawn = diskLayout(d);
    for (const x of drawn) {
      expect(x.x).toBeGreaterThanOrEqual(0);
      expect(x.x + x.w).toBeLessThanOrEqual(DISK_W + 1e-6);
    }
    for (let i = 1; i < drawn.length; i++) expect(drawn[i]!.x).toBeGreaterThanOrEqual(drawn[i - 1]!.x + drawn[i - 1]!.w - 1e-6);
    return drawn;
  };

  it('a 16 GiB laptop disk: the ESP and MSR 4% wide, Windows and recovery to scale, nothing overlapping', () => {
    const d = gpt(
      [
        [MiB, 100 * MiB, 'esp'],
        [101 * MiB, 16 * MiB, 'msr'],
        [117 * MiB, 16 * GiB - 117 * MiB - 751 * MiB, 'basic'],
        [16 * GiB - 751 * MiB, 750 * MiB, 'recovery'],
      ],
      16 * GiB,
      { osPartition: 3, recoveryPartition: 4 },
    );
    const [esp, msr, win, rec] = laidOut(d) as [
      ReturnType<typeof diskLayout>[number],
      ReturnType<typeof diskLayout>[number],
      ReturnType<typeof diskLayout>[number],
      ReturnType<typeof diskLayout>[number],
    ];
    expect([esp.w, msr.w]).toEqual([MIN_PART_W, MIN_PART_W]);
    expect([esp.widened, msr.widened, win.widened, rec.widened]).toEqual([true, true, false, false]);
    expect(win.w / rec.w).toBeCloseTo(win.p.size / rec.p.size, 6);
    expect(DISK_W - (rec.x + rec.w)).toBeCloseTo(MiB * ((DISK_W - 2 * MIN_PART_W) / (16 * GiB - 116 * MiB)), 6); // 1 MiB left at the end, to scale
  });

  it('hostile tables: overlapping, past the end, zero-sized, hundreds of partitions - still end to end inside the bar', () => {
    laidOut(
      gpt(
        [
          [0, 10 * GiB, 'basic'],
          [GiB, 10 * GiB, 'recovery'],
        ],
        4 * GiB,
      ),
    );
    const many = gpt(
      Array.from({ length: 128 }, (_, i): [number, number, string] => [i * MiB, MiB, 'other']),
      GiB,
    );
    expect(laidOut(many)).toHaveLength(128);
    expect(laidOut(gpt([[MiB, 0, 'basic']], GiB))).toEqual([]);
    expect(laidOut(gpt([[MiB, MiB, 'basic']], 0))).toHaveLength(1);
  });

  it('every partition named in words, hostile labels escaped, the need said in text', () => {
    const d = gpt(
      [
        [MiB, 100 * MiB, 'esp'],
        [101 * MiB, 16 * MiB, 'msr'],
        [117 * MiB, 2 * GiB, 'basic'],
        [3 * GiB, 500 * MiB, 'basic'],
        [4 * GiB, 525 * MiB, 'recovery'],
        [5 * GiB, 100 * MiB, 'other'],
      ],
      6 * GiB,
      { osPartition: 3, recoveryPartition: 5 },
    );
    d.partitions[3]!.label = '<img src=x onerror=alert(1)>';
    d.partitions[4]!.freeBytes = 300 * MiB;
    expect(d.partitions.map((p) => partitionName(p, d))).toEqual(['EFI system', 'Microsoft reserved (MSR)', 'Windows', 'basic data', 'Recovery', 'unknown']);
    const html = diskSvg(d) + diskLegend(d);
    expect(html).not.toContain('<img');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(html).toMatch(/Recovery partition 5: 300 MiB free; the WinRE update needs 250 MiB free \(enough\)\./);
    expect(html).not.toContain('fill="#e15759"');
  });

  it('the verdict: repairs needed, none possible, or nothing found', () => {
    const f = (id: Finding['id'], severity: Finding['severity'], repair?: Finding['repair']): Finding => ({
      id,
      severity,
      explanation: '',
      evidence: [],
      repair,
    });
    expect(verdictLine({ findings: [] })).toBe('No problems found');
    expect(verdictLine({ findings: [f('au-paused', 'info')] })).toBe('No problems found (1 note for information)');
    expect(verdictLine({ findings: [f('winre-too-small', 'error', 'winre'), f('wu-cache', 'warning', 'wu-cache')] })).toBe(
      '2 problems need repair: winre-too-small, wu-cache',
    );
    expect(verdictLine({ findings: [f('bitlocker-locked', 'error')] })).toBe('1 problem found, no automatic repair: bitlocker-locked');
    expect(verdictLine({ findings: [f('bitlocker-locked', 'error'), f('wu-cache', 'warning', 'wu-cache')] })).toBe(
      '2 problems found, 1 with an automatic repair: bitlocker-locked, wu-cache',
    );
  });
});
