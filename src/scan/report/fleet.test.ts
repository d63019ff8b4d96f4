import { describe, it, expect } from 'vitest';
import {
  csvField,
  duplicateClientLines,
  elide,
  fleetCsv,
  mergeFleet,
  parseImageResult,
  renderFleetHtml,
  summaryRow,
  summaryTable,
  worstExit,
  type FleetImage,
} from './fleet.js';

const doc = (image: string, exitCode: number, findings: { id: string; severity: string }[] = [], system: Record<string, unknown> = {}) => ({
  image,
  exitCode,
  scannedAt: '2026-12-03T08:00:00.000Z',
  targets: [{ system: { productName: 'Windows 10 Pro', displayVersion: '22H2', currentBuild: 19045, ubr: 4046, computerName: 'PC', ...system }, findings }],
});

const ok = (d: unknown): FleetImage => {
  const r = parseImageResult(d);
  if (typeof r === 'string') throw new Error(r);
  return r;
};

describe('fleet: worst exit code', () => {
  it('orders 130 > 70 > 4 > 3 > 2 > 1 > 10 > 0', () => {
    expect(worstExit([])).toBe(0);
    expect(worstExit([0, 10])).toBe(10);
    expect(worstExit([10, 2, 0])).toBe(2);
    expect(worstExit([2, 3, 10])).toBe(3);
    expect(worstExit([3, 70, 2])).toBe(70);
    expect(worstExit([70, 130])).toBe(130);
    expect(worstExit([10, 1])).toBe(1);
  });
});

describe('fleet: result documents are validated', () => {
  it('takes the fields used, rejects wrong types and shapes', () => {
    const r = ok(doc('a.img', 10, [{ id: 'winre-too-small', severity: 'error' }]));
    expect(r).toEqual({
      image: 'a.img',
      exitCode: 10,
      computerName: 'PC',
      windows: 'Windows 10 Pro 22H2',
      build: '19045.4046',
      findings: [{ id: 'winre-too-small', severity: 'error' }],
      scannedAt: '2026-12-03T08:00:00.000Z',
    });
    expect(parseImageResult(null)).toBe('not a JSON object');
    expect(parseImageResult([])).toBe('not a JSON object');
    expect(parseImageResult({ exitCode: 0 })).toMatch(/no "image" field/);
    expect(parseImageResult({ image: 'a', exitCode: '0' })).toMatch(/exitCode/);
    expect(parseImageResult({ image: 'a', exitCode: 0, targets: {} })).toBe('"targets" is not a list');
    expect(parseImageResult(doc('a', 10, [{ id: '<script>', severity: 'error' }]))).toMatch(/valid id and severity/);
    expect(parseImageResult(doc('a', 10, [{ id: 'x', severity: 'fatal' }]))).toMatch(/valid id and severity/);
    expect(parseImageResult(doc('a', 0, [], { computerName: 'x'.repeat(600) }))).toMatch(/longer than 512/);
    expect(parseImageResult(doc('a', 0, [], { currentBuild: -1 }))).toMatch(/currentBuild is not a whole number/);
    expect(ok({ image: 'b.img', exitCode: 2, error: { message: 'no offline Windows found' } })).toEqual({
      image: 'b.img',
      exitCode: 2,
      findings: [],
      error: 'no offline Windows found',
    });
  });
});

describe('fleet: merge, CSV, HTML, table', () => {
  const a = ok(doc('lab/a.img', 10, [{ id: 'winre-too-small', severity: 'error' }]));
  const b = ok(doc('lab/b.img', 0, [], { currentBuild: 22631, ubr: 3007, displayVersion: '23H2', productName: 'Windows 11 Pro' }));
  const c = ok({ image: 'lab/c.img', exitCode: 2, error: { message: 'no offline Windows found' } });
  const d = ok(
    doc('lab/d.img', 10, [
      { id: 'wu-cache', severity: 'warning' },
      { id: 'winre-too-small', severity: 'error' },
    ]),
  );

  it('worst first; findings by kind and by build; an image twice counts once (the later scan)', () => {
    const older = { ...b, scannedAt: '2026-01-01T00:00:00.000Z', exitCode: 10 };
    const f = mergeFleet([b, a, c, d, older]);
    expect(f.images.map((i) => i.image)).toEqual(['lab/c.img', 'lab/d.img', 'lab/a.img', 'lab/b.img']);
    expect(f.exitCode).toBe(2);
    expect(f.byKind).toEqual([
      { id: 'winre-too-small', severity: 'error', images: ['lab/d.img', 'lab/a.img'] },
      { id: 'wu-cache', severity: 'warning', images: ['lab/d.img'] },
    ]);
    expect(f.byBuild.find((x) => x.build === '19045.4046')).toEqual({
      build: '19045.4046',
      windows: 'Windows 10 Pro 22H2',
      images: ['lab/d.img', 'lab/a.img'],
      withFindings: 2,
    });
  });

  it('CSV: one row per image, formulas kept as text, quotes doubled', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField('-x')).toBe("'-x");
    const csv = fleetCsv(mergeFleet([a, c]));
    expect(csv.split('\r\n')).toEqual([
      'image,computer_name,windows,build,findings,worst_severity,exit_code',
      'lab/c.img,,,,,,2',
      'lab/a.img,PC,Windows 10 Pro 22H2,19045.4046,winre-too-small,error,10',
      '',
    ]);
  });

  it('HTML: everything escaped, no script', () => {
    const evil = ok(doc('<img src=x onerror=alert(1)>', 10, [{ id: 'wu-cache', severity: 'warning' }], { computerName: '<script>alert(1)</script>' }));
    const page = renderFleetHtml(mergeFleet([evil], [{ file: '"><b>', problem: '<i>' }]), { tool: 'wufix <t>', generatedAt: 'now' });
    expect(page).not.toMatch(/<script|<img|<b>|<i>|<t>/);
    expect(page).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(page).toContain('<tr class="image exit-findings">');
  });

  it('the summary table fits the width, paths cut at the start', () => {
    const long = ok(
      doc(`/srv/${'deep/'.repeat(20)}name.img`, 10, [{ id: 'winre-too-small', severity: 'error' }], { productName: 'Windows Server 2022 Datacenter' }),
    );
    for (const width of [40, 80, 120]) {
      const t = summaryTable([summaryRow(long), summaryRow(c, '(skipped)')], width);
      for (const l of t.trimEnd().split('\n')) expect(l.length, `${width}: ${l}`).toBeLessThanOrEqual(Math.max(width, 8 * 3 + 7 + 12 + 8));
      if (width >= 80) expect(t).toContain('name.img');
    }
    expect(elide('abcdefgh', 5)).toBe('ab...');
    expect(elide('abcdefgh', 5, true)).toBe('...gh');
    expect(summaryTable([summaryRow(a)], 80)).toMatch(
      /^IMAGE +WINDOWS +FINDINGS +WORST +EXIT\nlab\/a\.img +Windows 10 Pro 22H2 \(19045\.4046\) +winre-too-small +error +10\n$/,
    );
    expect(summaryTable([summaryRow({ ...a, image: 'x\u001b[31m' })], 80)).toContain('x\\u001b[31m');
  });
});

describe('fleet: duplicate WSUS client ids (issue #19)', () => {
  const withId = (image: string, id: unknown) => ({
    ...doc(image, 10),
    targets: [{ ...doc(image, 10).targets[0], policy: { wsusClient: { susClientId: id, present: ['SusClientId'] } } }],
  });
  const CLONE = '{6A7C1D2E-0B3F-4C5D-9E8F-112233445566}';

  it('the same SusClientId in several images is named with its images; braces and case do not matter', () => {
    const imgs = [
      ok(withId('lab/clone-1.img', CLONE)),
      ok(withId('lab/clone-2.img', CLONE.toLowerCase().replace(/[{}]/g, ''))),
      ok(withId('lab/unique.img', '{00000000-1111-2222-3333-444444444444}')),
      ok(doc('lab/none.img', 0)),
    ];
    expect(imgs[0]!.wsusClientIds).toEqual(['6a7c1d2e-0b3f-4c5d-9e8f-112233445566']);
    expect(imgs[3]!.wsusClientIds).toBeUndefined();
    const fleet = mergeFleet(imgs);
    expect(fleet.duplicateClientIds).toEqual([{ id: '6a7c1d2e-0b3f-4c5d-9e8f-112233445566', images: ['lab/clone-1.img', 'lab/clone-2.img'] }]);
    const lines = duplicateClientLines(fleet.duplicateClientIds);
    expect(lines).toBe(
      'duplicate WSUS client id 6a7c1d2e-0b3f-4c5d-9e8f-112233445566 (2 images):\n  - lab/clone-1.img\n  - lab/clone-2.img\n' +
        'each reports to WSUS as the same computer: wufix repair --only wsus-policy\n',
    );
    for (const l of lines.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    const html = renderFleetHtml(fleet, { tool: 't', generatedAt: 'now' });
    expect(html).toContain('<table class="dup-client-ids">');
    expect(html).toMatch(/<code>6a7c1d2e-0b3f-4c5d-9e8f-112233445566<\/code><\/td><td class="n">2<\/td>/);
  });

  it('one image, or distinct ids, is no duplicate; the same id twice in one image counts once; a non-GUID is ignored', () => {
    expect(mergeFleet([ok(withId('a.img', CLONE)), ok(withId('b.img', '{00000000-1111-2222-3333-444444444444}'))]).duplicateClientIds).toEqual([]);
    expect(duplicateClientLines([])).toBe('');
    const twice = ok({ ...doc('a.img', 10), targets: [withId('a.img', CLONE).targets[0], withId('a.img', CLONE).targets[0]] });
    expect(twice.wsusClientIds).toHaveLength(1);
    expect(mergeFleet([twice]).duplicateClientIds).toEqual([]);
    expect(mergeFleet([ok(withId('a.img', '<script>')), ok(withId('b.img', '<script>'))]).duplicateClientIds).toEqual([]);
    expect(parseImageResult(withId('a.img', 42))).toMatch(/susClientId is not a string/);
    expect(parseImageResult({ ...doc('a.img', 10), targets: [{ policy: [] }] })).toMatch(/policy is not an object/);
  });

  it('a hostile image name is escaped and cut in the console lines', () => {
    const evil = `lab/\u001b[31m${'x'.repeat(200)}.img`;
    const lines = duplicateClientLines([{ id: '6a7c1d2e-0b3f-4c5d-9e8f-112233445566', images: [evil, 'b.img'] }]);
    expect(lines).not.toContain('\u001b');
    for (const l of lines.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines).toMatch(/^ {2}- \.\.\.x+\.img$/m);
  });
});
