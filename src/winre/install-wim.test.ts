// Which image of the install media WinRE is taken from, and which Winre.wim is accepted: the offline
// build's servicing base (19041-19045, 22621/22631, 26100/26200 are one base each), the edition
// preferred, an index checked, and everything else refused with the builds it saw.
import { describe, expect, it } from 'vitest';
import { buildFamily, checkExtractedWinre, pickInstallImage, wimBuild } from './install-wim.js';
import type { WimImageSummary, WimSummary } from '../model/scan.js';
import { refusal } from '../../test/helpers/refusal.js';

const img = (index: number, version: string, editionId: string, name = `image ${index}`): WimImageSummary => ({ index, version, editionId, name });
// A Windows 10 22H2 ISO's install.wim: Home, Education, Pro... all 19045.
const W10 = [
  img(1, '10.0.19045.2006', 'Core', 'Windows 10 Home'),
  img(2, '10.0.19045.2006', 'Education'),
  img(3, '10.0.19045.2006', 'Professional', 'Windows 10 Pro'),
];
const W11 = [img(1, '10.0.22631.2428', 'Core'), img(2, '10.0.22631.2428', 'Professional')];

describe('install media image for WinRE', () => {
  it('servicing bases: enablement-package releases share one, others stand alone', () => {
    expect([19041, 19042, 19043, 19044, 19045].map(buildFamily)).toEqual([19041, 19041, 19041, 19041, 19041]);
    expect([22621, 22631].map(buildFamily)).toEqual([22621, 22621]);
    expect([26100, 26200].map(buildFamily)).toEqual([26100, 26100]);
    expect([17763, 20348, 22000, 14393].map(buildFamily)).toEqual([17763, 20348, 22000, 14393]);
    expect(wimBuild('10.0.19045.2006')).toBe(19045);
    expect(wimBuild(undefined)).toBeUndefined();
    expect(wimBuild('10.0')).toBeUndefined();
  });

  it('the offline edition among the images of its build; another release of the same base is accepted', () => {
    expect(pickInstallImage('install.wim', W10, { currentBuild: 19045, editionId: 'Professional' }).index).toBe(3);
    expect(pickInstallImage('install.wim', W10, { currentBuild: 19044, editionId: 'Enterprise' }).index).toBe(1); // no Enterprise: first of the base
    expect(pickInstallImage('install.wim', [...W11, ...W10], { currentBuild: 19045, editionId: 'education' }).index).toBe(2);
    expect(pickInstallImage('install.wim', W10, { currentBuild: 19045 }, 2).index).toBe(2);
  });

  it('refused: another build, an index of another build or none, an unknown offline build', () => {
    const e = refusal(() => pickInstallImage('install.wim', W11, { currentBuild: 19045, editionId: 'Professional' }));
    expect(e.code).toBe('winre-source-mismatch');
    expect(e.message).toMatch(/no image of install\.wim is Windows build 19045 \(it has 1: 10\.0\.22631\.2428, 2: 10\.0\.22631\.2428\)/);
    expect(
      refusal(() => pickInstallImage('install.wim', [...W10, ...W11.map((i) => ({ ...i, index: i.index + 3 }))], { currentBuild: 19045 }, 4)).message,
    ).toMatch(/image 4 "image 1" \(10\.0\.22631\.2428\) of install\.wim is not Windows build 19045/);
    expect(refusal(() => pickInstallImage('install.wim', W10, { currentBuild: 19045 }, 9)).message).toMatch(/has no image 9 \(it has 1, 2, 3\)/);
    expect(refusal(() => pickInstallImage('install.wim', W10, {})).message).toMatch(/offline Windows build could not be read/);
    expect(refusal(() => pickInstallImage('install.wim', [img(1, '', 'Core')], { currentBuild: 19045 })).code).toBe('winre-source-mismatch');
  });

  it('the extracted Winre.wim: its (boot) image of the same base, else refused', () => {
    const wim = (versions: (string | undefined)[], bootIndex = 1): WimSummary =>
      ({ images: versions.map((v, i) => ({ index: i + 1, ...(v ? { version: v } : {}) })), bootIndex }) as WimSummary;
    expect(checkExtractedWinre(wim(['10.0.19041.3920']), { currentBuild: 19045 }, 'x')).toBe('10.0.19041.3920');
    expect(checkExtractedWinre(wim(['10.0.22000.1', '10.0.19041.1'], 2), { currentBuild: 19045 }, 'x')).toBe('10.0.19041.1');
    expect(refusal(() => checkExtractedWinre(wim(['10.0.22621.1']), { currentBuild: 19045 }, 'x')).message).toMatch(
      /is build 22621, the offline Windows 19045/,
    );
    expect(refusal(() => checkExtractedWinre(wim([undefined]), { currentBuild: 19045 }, 'x')).message).toMatch(/carries no Windows version/);
    expect(refusal(() => checkExtractedWinre(wim([]), { currentBuild: 19045 }, 'x')).code).toBe('winre-source-mismatch');
    const arm = { images: [{ index: 1, version: '10.0.19041.3920', arch: 12 }], bootIndex: 1 } as WimSummary;
    expect(refusal(() => checkExtractedWinre(arm, { currentBuild: 19045, architecture: 'x64' }, 'x')).message).toMatch(
      /is arm64, the offline Windows x64: it would not start/,
    );
    expect(checkExtractedWinre(arm, { currentBuild: 19045, architecture: 'arm64' }, 'x')).toBe('10.0.19041.3920');
  });

  it('architecture: the image of the offline architecture; another one refused by name; unknown on either side is not judged', () => {
    const x64 = W10.map((i) => ({ ...i, arch: 9 }));
    const arm64 = W10.map((i) => ({ ...i, index: i.index + 3, arch: 12 }));
    const sys = { currentBuild: 19045, editionId: 'Professional', architecture: 'arm64' };
    expect(pickInstallImage('install.wim', [...x64, ...arm64], sys).index).toBe(6);
    const e = refusal(() => pickInstallImage('install.wim', x64, sys));
    expect(e.code).toBe('winre-source-mismatch');
    expect(e.message).toMatch(/image 1 "Windows 10 Home" \(10\.0\.19045\.2006\) of install\.wim is x64, the offline Windows arm64: .*use arm64 media/);
    expect(refusal(() => pickInstallImage('install.wim', [...x64, ...arm64], sys, 3)).message).toMatch(/is x64, the offline Windows arm64/);
    expect(refusal(() => pickInstallImage('install.wim', [{ ...x64[0]!, arch: 77 }], sys)).message).toMatch(/is architecture 77/);
    expect(pickInstallImage('install.wim', x64, { ...sys, architecture: undefined }).index).toBe(3);
    expect(pickInstallImage('install.wim', W10, sys).index).toBe(3);
  });
});
