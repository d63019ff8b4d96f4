// The component store repair's Windows side, pure parts (issue #19, item 4): the DISM /RestoreHealth
// and SFC offline command lines byte for byte against a golden file (reviewed against
// learn.microsoft.com "Repair a Windows Image": /Source:wim:<file>:<index>, esd: for .esd,
// /LimitAccess, /ScratchDir; "sfc": /scannow /offbootdir /offwindir), DISM's progress bar, SFC's
// UTF-16LE output and its verdict, and the choice of the source image: the same build.UBR and
// edition as the offline Windows, or refused with what it saw.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, decodeSfc, dismPercent, dismRestoreHealthArgs, sfcOfflineArgs, sfcVerdict } from '../../src/platform/windows.js';
import { imageBuildUbr, pickStoreImage, storeCoverage } from '../../src/windows/store-source.js';
import type { WimImageSummary } from '../../src/model/scan.js';
import { refusal } from '../helpers/refusal.js';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden', 'store-repair.cmd.txt');

describe('DISM /RestoreHealth and SFC offline', () => {
  it('command lines: byte-identical to test/platform/golden/store-repair.cmd.txt', () => {
    const dism = 'C:\\Windows\\System32\\Dism.exe';
    const lines = [
      commandLine(dism, dismRestoreHealthArgs('W:', { wim: 'D:\\sources\\install.wim', index: 6 }, 'W:\\wufix\\dism-scratch\\')),
      commandLine(dism, dismRestoreHealthArgs('W:\\', { wim: 'E:\\Win 10\\sources\\install.esd', index: 1 }, 'W:\\wufix\\dism-scratch')),
      commandLine(
        dism,
        dismRestoreHealthArgs('W:', { wim: 'D:/sources/install.wim', index: 6 }, 'W:/wufix/dism-scratch', 'W:/wufix/dism-restorehealth-run 1.log'),
      ),
      commandLine('C:\\Windows\\System32\\sfc.exe', sfcOfflineArgs('W:')),
    ];
    expect(lines.join('\n') + '\n').toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it("DISM's progress bar: the last percent of a chunk", () => {
    expect(dismPercent('\r[==========                 18.0%                           ] ')).toBe(18);
    expect(dismPercent('[===  9.5% ]\r[======   62.3%  ]')).toBe(62);
    expect(dismPercent('[==========================100.0%==========================] The restore operation completed successfully.')).toBe(100);
    expect(dismPercent('Deployment Image Servicing and Management tool')).toBeUndefined();
  });

  it("SFC's UTF-16LE output decoded (DISM's OEM bytes left to the code page); its verdict from its words", () => {
    const text =
      '\r\nBeginning system scan.  This process will take some time.\r\n\r\nWindows Resource Protection found corrupt files and successfully repaired them.\r\n';
    const utf16 = new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect(decodeSfc(utf16, 437)).toBe(text.replace(/\r\n/g, '\n'));
    expect(decodeSfc(new Uint8Array(Buffer.from('Windows Resource Protection did not find any integrity violations.\r\n', 'latin1')), 437)).toBe(
      'Windows Resource Protection did not find any integrity violations.\n',
    );
    expect(sfcVerdict(text)).toBe('repaired');
    expect(sfcVerdict('Windows Resource Protection did not find any integrity violations.')).toBe('clean');
    expect(sfcVerdict('Windows Resource Protection found corrupt files but was unable to fix some of them.')).toBe('not-repaired');
    expect(sfcVerdict('Windows Resource Protection could not perform the requested operation.')).toBe('not-repaired');
    expect(sfcVerdict('Le Contr\u00f4le de ressources Windows a trouv\u00e9 des fichiers corrompus')).toBe('unknown');
  });
});

const img = (index: number, version: string, editionId: string, name?: string): WimImageSummary => ({ index, version, editionId, ...(name ? { name } : {}) });
// A Windows 10 22H2 ISO of the January 2024 cumulative update (19045.3930), and the original 22H2 media (19045.2006).
const JAN24 = [img(1, '10.0.19045.3930', 'Core', 'Windows 10 Home'), img(6, '10.0.19045.3930', 'Professional', 'Windows 10 Pro')];
const RTM = [img(1, '10.0.19045.2006', 'Core'), img(6, '10.0.19045.2006', 'Professional')];
const OFFLINE = { currentBuild: 19045, ubr: 3930, editionId: 'Professional' };

describe('the repair source: same build.UBR and edition', () => {
  it('picks the image of the offline version and edition; an index of it is accepted', () => {
    expect(pickStoreImage('install.wim', JAN24, OFFLINE)).toEqual({
      wim: 'install.wim',
      index: 6,
      version: '10.0.19045.3930',
      editionId: 'Professional',
      name: 'Windows 10 Pro',
    });
    expect(pickStoreImage('install.wim', JAN24, { ...OFFLINE, editionId: 'professional' }, 6).index).toBe(6);
    expect(imageBuildUbr('10.0.19045.3930')).toEqual({ build: 19045, ubr: 3930 });
    expect(imageBuildUbr('10.0.19045')).toBeUndefined();
  });

  it('refused: older media (another cumulative update), another edition, an unknown version, Windows 7', () => {
    const e = refusal(() => pickStoreImage('install.wim', RTM, OFFLINE));
    expect(e.code).toBe('store-source-mismatch');
    expect(e.message).toMatch(
      /no image of install\.wim is the offline Windows \(19045\.3930 Professional; it has image 1 \(10\.0\.19045\.2006, Core\), image 6/,
    );
    expect(e.message).toMatch(/same cumulative update \(build\.UBR\) and edition/);
    expect(refusal(() => pickStoreImage('install.wim', JAN24, OFFLINE, 1)).message).toMatch(
      /image 1 "Windows 10 Home" \(10\.0\.19045\.3930, Core\) of install\.wim is not the offline Windows/,
    );
    expect(refusal(() => pickStoreImage('install.wim', JAN24, OFFLINE, 3)).message).toMatch(/has no image 3 \(it has 1, 6\)/);
    expect(refusal(() => pickStoreImage('install.wim', JAN24, { currentBuild: 19045 })).message).toMatch(/CurrentBuild\.UBR\) could not be read/);
    expect(refusal(() => pickStoreImage('install.wim', JAN24, { currentBuild: 7601 })).message).toMatch(/no DISM \/RestoreHealth: .*CheckSUR, KB947821/);
  });

  it('refused: media of another architecture (its components are not the offline ones); unknown architecture is not judged', () => {
    const x86 = JAN24.map((i) => ({ ...i, arch: 0 }));
    const x64 = { ...OFFLINE, architecture: 'x64' };
    const e = refusal(() => pickStoreImage('install.wim', x86, x64));
    expect(e.code).toBe('store-source-mismatch');
    expect(e.message).toMatch(/image 6 "Windows 10 Pro" \(10\.0\.19045\.3930, Professional\) of install\.wim is x86, the offline Windows x64: it holds none/);
    expect(refusal(() => pickStoreImage('install.wim', x86, x64, 6)).message).toMatch(/is x86, the offline Windows x64/);
    expect(pickStoreImage('install.wim', [...x86, ...JAN24.map((i) => ({ ...i, index: i.index + 10, arch: 9 }))], x64).index).toBe(16);
    expect(pickStoreImage('install.wim', x86, OFFLINE).index).toBe(6);
  });

  it('coverage: component folders of the offline WinSxS found in the source, case-insensitively; the others named', () => {
    const a = 'amd64_microsoft-windows-foo_31bf3856ad364e35_10.0.19041.3930_none_0123456789abcdef';
    const b = 'x86_microsoft-windows-bar_31bf3856ad364e35_10.0.19041.1_en-us_fedcba9876543210';
    const c = 'wow64_microsoft-windows-baz_31bf3856ad364e35_10.0.19041.3636_none_00112233445566ff';
    const r = storeCoverage([a, b, c, 'Manifests', 'Temp', 'Backup'], [a.toUpperCase(), c, 'Manifests']);
    expect(r).toMatchObject({ offline: 3, inSource: 2, missing: [b] });
    expect(r.text).toBe(`the source holds 2 of the 3 component folders of the offline WinSxS; not in it: ${b} (DISM cannot restore those from it)`);
  });
});
