// `wufix report merge` (issue #18 item 6) over the results of a real batch scan (three small disk
// images: findings, healthy, no partition table): the CSV rows are the results' fields, the HTML
// page as headless Chromium parses it lists the images worst first, the findings by kind and the
// builds; hostile and broken result files are listed and never fatal, and nothing of them runs.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, MiB, sparseImage } from '../helpers/disk-images.js';
import { runCli } from '../helpers/cli.js';
import { dumpDom } from '../helpers/chromium.js';
import { buildBatchImages, type BatchImage } from '../helpers/batch-images.js';
import * as S from '../scan/scenarios.js';

const reason = skipReason(sharedReason(), toolsReason('python3-hivex', 'ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk', 'chromium'), diskToolsReason());

interface Doc {
  image: string;
  exitCode: number;
  targets?: {
    system: { computerName?: string; productName?: string; displayVersion?: string; currentBuild?: number; ubr?: number };
    findings: { id: string; severity: string }[];
  }[];
}

/** The text of each cell of each <tr class="<cls> ..."> row (tags removed, entities decoded). */
function rows(dom: string, cls: string): string[][] {
  const text = (h: string) =>
    h
      .replace(/<[^>]*>/g, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&');
  return [...dom.matchAll(new RegExp(`<tr class="${cls}[ "][^>]*>([\\s\\S]*?)</tr>`, 'g'))].map((m) =>
    [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => text(c[1]!)),
  );
}

/** What a CSV row says of a result, from the document itself. */
function expectedRow(d: Doc): string[] {
  const t = d.targets ?? [];
  const ids = [...new Set(t.flatMap((x) => x.findings.map((f) => f.id)))];
  const sev = ['error', 'warning', 'info'].find((s) => t.some((x) => x.findings.some((f) => f.severity === s))) ?? '';
  return [
    d.image,
    t.map((x) => x.system.computerName ?? '').join('; '),
    t.map((x) => `${x.system.productName}${x.system.displayVersion ? ` ${x.system.displayVersion}` : ''}`).join('; '),
    t.map((x) => `${x.system.currentBuild}${x.system.ubr !== undefined ? `.${x.system.ubr}` : ''}`).join('; '),
    ids.join(' '),
    sev,
    String(d.exitCode),
  ];
}

describe.skipIf(!!reason)('wufix report merge: one fleet summary from per-image results', () => {
  let tmp = '';
  let images: BatchImage[] = [];
  let out = '';
  let docs: Doc[] = [];
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-merge-'));
    images = await buildBatchImages(path.join(tmp, 'lab'), [
      ['srv', { windows: { ...S.server2022Winre, computerName: 'FLEET-SRV-1' }, recoveryFree: 82 * MiB, exitCode: 10 }],
      ['wks', { windows: { ...S.healthy, computerName: 'FLEET-WKS-2' }, recoveryFree: 280 * MiB, exitCode: 0 }],
      ['blank', { blank: 'zero' }],
    ]);
    out = path.join(tmp, 'out');
    const r = runCli(['scan', '--image', ...images.map((i) => i.file), '-j', '2', '--out-dir', out, '--quiet']);
    expect(r.status, r.stderr).toBe(2);
    docs = images.map((i) => JSON.parse(readFileSync(path.join(out, `${path.basename(i.file)}.json`), 'utf8')) as Doc);
  }, 600_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the out-dir: CSV rows equal the results (worst first), the HTML page lists images, kinds and builds', () => {
    const csv = path.join(tmp, 'fleet.csv');
    const html = path.join(tmp, 'fleet.html');
    const r = runCli(['report', 'merge', out, '--csv', csv, '--html', html]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(`wufix: CSV written to ${csv}\nwufix: HTML written to ${html}\n`);
    const lines = readFileSync(csv, 'utf8').split('\r\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe('image,computer_name,windows,build,findings,worst_severity,exit_code');
    // Worst first: no partition table (2), findings (10), healthy (0). No field here needs quoting.
    const byExit = [2, 10, 0].map((c) => docs.find((d) => d.exitCode === c)!);
    expect(lines.slice(1).map((l) => l.split(','))).toEqual(byExit.map(expectedRow));
    expect(expectedRow(byExit[1]!)).toEqual([
      images[0]!.file,
      'FLEET-SRV-1',
      'Windows Server 2022 Standard 21H2',
      '20348.2159',
      'winre-too-small',
      'error',
      '10',
    ]);

    const dom = dumpDom(html);
    expect(dom).not.toMatch(/<script/i);
    const im = rows(dom, 'image');
    expect(im.map((c) => c[0])).toEqual(byExit.map((d) => d.image));
    expect(im.map((c) => c[6])).toEqual(['2', '10', '0']);
    expect(im[1]!.slice(1, 6)).toEqual(['FLEET-SRV-1', 'Windows Server 2022 Standard 21H2', '20348.2159', 'winre-too-small', 'error']);
    expect(rows(dom, 'kind')).toEqual([['winre-too-small', 'error', '1', images[0]!.file]]);
    const builds = rows(dom, 'build');
    expect(builds.map((b) => b[0]).sort()).toEqual(['20348.2159', '22631.3007', 'no Windows found']);
    expect(builds.find((b) => b[0] === '20348.2159')!.slice(2, 4)).toEqual(['1', '1']);
    expect(builds.find((b) => b[0] === '22631.3007')!.slice(2, 4)).toEqual(['1', '0']);
    expect(dom).toMatch(/<h1>wufix fleet summary: 3 images<\/h1>/);
    // The table on stdout, worst exit code last.
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('3 images; worst exit code 2');
  }, 120_000);

  it('JSON Lines from any runner merge to the same fleet as the out-dir', () => {
    const jl = path.join(tmp, 'node1.jsonl');
    writeFileSync(jl, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    const a = runCli(['report', 'merge', out, '--json']);
    const b = runCli(['report', 'merge', jl, '--json']);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout));
    expect((JSON.parse(a.stdout) as { exitCode: number; images: unknown[] }).exitCode).toBe(2);
  });

  it('hostile and broken result files: listed on stderr, never fatal; their text is escaped in HTML and stays text in CSV', () => {
    const dir = path.join(tmp, 'mixed');
    mkdirSync(dir);
    for (const i of images) copyFileSync(path.join(out, `${path.basename(i.file)}.json`), path.join(dir, `${path.basename(i.file)}.json`));
    const evil = JSON.parse(JSON.stringify(docs[0])) as Doc;
    evil.image = 'evil<img src=x onerror=alert(1)>.img';
    evil.targets![0]!.system.computerName = '=HYPERLINK("http://x","<script>alert(1)</script>")';
    writeFileSync(path.join(dir, 'evil.json'), JSON.stringify(evil));
    writeFileSync(path.join(dir, 'broken.json'), '{"image": "x.img", "exitCode": ');
    writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ hello: 'world' }));
    writeFileSync(
      path.join(dir, 'badfinding.json'),
      JSON.stringify({ image: 'y.img', exitCode: 10, targets: [{ system: {}, findings: [{ id: '<b>', severity: 'error' }] }] }),
    );
    symlinkSync('/etc/passwd', path.join(dir, 'link.json'));
    sparseImage(path.join(dir, 'huge.json'), 300 * MiB); // above the size cap: never read
    const csv = path.join(tmp, 'mixed.csv');
    const html = path.join(tmp, 'mixed.html');
    const r = runCli(['report', 'merge', dir, '--csv', csv, '--html', html]);
    expect(r.status, r.stderr).toBe(0);
    const warned = r.stderr.split('\n').filter((l) => l.startsWith('wufix: warning: '));
    expect(warned.map((l) => path.basename(l.slice('wufix: warning: '.length).split(':')[0]!)).sort()).toEqual(
      ['badfinding.json', 'broken.json', 'huge.json', 'link.json', 'other.json'].sort(),
    );
    expect(warned.find((l) => l.includes('link.json'))).toMatch(/is a link: not followed/);
    expect(warned.find((l) => l.includes('other.json'))).toMatch(/no "image" field/);
    const csvText = readFileSync(csv, 'utf8');
    expect(csvText).toContain(`"'=HYPERLINK(""http://x"",""<script>alert(1)</script>"")"`);
    const dom = dumpDom(html);
    expect(dom).not.toMatch(/<script/i);
    expect(dom).not.toMatch(/<img/i);
    const im = rows(dom, 'image');
    expect(im).toHaveLength(4);
    expect(im.find((c) => c[0] === evil.image)![1]).toBe(evil.targets![0]!.system.computerName);
    expect(rows(dom, 'kind')[0]![2]).toBe('2');
    expect(dom).toMatch(/Result files not used \(5\)/);
  }, 120_000);

  it('nothing usable: exit 2, one line; a path that does not exist: exit 2', () => {
    const only = path.join(tmp, 'only-bad.json');
    writeFileSync(only, 'not json');
    const r = runCli(['report', 'merge', only]);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n').filter(Boolean).pop()).toBe('wufix: error: no per-image scan result found in the files given (see the warnings above)');
    const n = runCli(['report', 'merge', path.join(tmp, 'nope')]);
    expect(n.status).toBe(2);
    expect(n.stderr).toBe(`wufix: error: ${path.join(tmp, 'nope')}: does not exist (report merge takes result files or folders of them)\n`);
  });
});
