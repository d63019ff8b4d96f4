// ReAgent.xml re-pointed after a WinRE rebuild (winre.md §6 step 9, §7; KB2952359). Expected output
// is the original text with exactly the documented attribute values replaced (built here by string
// replacement and encoded with Buffer, not with our writer), so every other element, comment, line
// end, the encoding and the BOM must be byte-identical in place. Python's ElementTree reads it back.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BadInputError, FormatError } from '../../src/shared/errors.js';
import { parseReAgentXml } from '../../src/formats/reagent.js';
import { repointReAgent } from '../../src/formats/reagent-repoint.js';
import { toolsReason, skipReason } from '../helpers/env.js';

import { Z, WINRE_BCD, ENABLED } from '../helpers/reagent-samples.js';

// KB2952359: MBR (id = signature 0xFC9C8A2F in decimal), stale staging state, WinRE disabled;
// a comment and an element this project does not know. UTF-16 LE + BOM, LF.
const STALE_MBR = [
  '<?xml version="1.0" encoding="utf-16"?>',
  '<WindowsRE version="2.0">',
  '  <!-- written by hand -->',
  '  <WinreBCD id="{a1b2c3d4-0000-1111-2222-333344445555}"/>',
  `  <WinreLocation path="\\Recovery\\WindowsRE" id="4238117423" offset="1048576" guid="${Z}"/>`,
  `  <ImageLocation path="\\Recovery\\WindowsRE" id="4238117423" offset="1048576" guid="${Z}"/>`,
  `  <PBRImageLocation path="" id="0" offset="0" guid="${Z}" index="0"/>`,
  '  <InstallState state="0"/>',
  '  <WinREStaged state="1"/>',
  '  <FutureThing mode="x &amp; y" />',
  '  <ScheduledOperation state="4"/>',
  '</WindowsRE>',
  '',
].join('\n');

const utf8bom = (t: string) => new Uint8Array(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t, 'utf8')]));
const utf16bom = (t: string) => new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')]));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function replaceOnce(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  expect(i, `"${from}" in the sample`).toBeGreaterThanOrEqual(0);
  expect(text.indexOf(from, i + 1)).toBe(-1);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

describe('repointReAgent', () => {
  it('GPT, UTF-8 + BOM: only WinreLocation offset/guid change (disk GUID lowercased, braced); bytes otherwise identical', () => {
    const out = repointReAgent(utf8bom(ENABLED), { scheme: 'gpt', diskGuid: 'ABCDEF01-2345-4678-9ABC-DEF012345678', offset: 64424509440 }, WINRE_BCD);
    const expected = replaceOnce(
      ENABLED,
      'offset="105906176" guid="{376e5397-7d1f-4e4f-a668-5a62c1269e60}"',
      'offset="64424509440" guid="{abcdef01-2345-4678-9abc-def012345678}"',
    );
    expect(hex(out)).toBe(hex(utf8bom(expected)));
    expect(parseReAgentXml(out)).toMatchObject({
      winreBcd: WINRE_BCD,
      winreLocation: { path: '\\Recovery\\WindowsRE', id: 0, offset: 64424509440, guid: '{abcdef01-2345-4678-9abc-def012345678}' },
      imageLocation: { path: '', id: 0, offset: 0, guid: Z },
      installState: 1,
      winreStaged: 0,
      osBuildVersion: '19041.1.amd64fre.vb_release.191206-1406',
      scheduledOperation: 4,
    });
    // Re-pointing again to the same place changes nothing.
    expect(hex(repointReAgent(out, { scheme: 'gpt', diskGuid: '{abcdef01-2345-4678-9abc-def012345678}', offset: 64424509440 }))).toBe(hex(out));
  });

  it('MBR, UTF-16 + BOM (KB2952359 stale state): id = signature in decimal, ImageLocation cleared, InstallState 1, WinREStaged 0, WinreBCD set', () => {
    const NEW_BCD = '{efd09c93-55fb-11e2-aa98-9d073f340da7}';
    const out = repointReAgent(utf16bom(STALE_MBR), { scheme: 'mbr', diskSignature: 0x1a2b3c4d, offset: 53687091200 }, NEW_BCD.toUpperCase());
    expect([out[0], out[1]]).toEqual([0xff, 0xfe]);
    let expected = replaceOnce(STALE_MBR, '<WinreBCD id="{a1b2c3d4-0000-1111-2222-333344445555}"/>', `<WinreBCD id="${NEW_BCD}"/>`);
    expected = replaceOnce(
      expected,
      `<WinreLocation path="\\Recovery\\WindowsRE" id="4238117423" offset="1048576" guid="${Z}"/>`,
      `<WinreLocation path="\\Recovery\\WindowsRE" id="439041101" offset="53687091200" guid="${Z}"/>`,
    );
    expected = replaceOnce(
      expected,
      `<ImageLocation path="\\Recovery\\WindowsRE" id="4238117423" offset="1048576" guid="${Z}"/>`,
      `<ImageLocation path="" id="0" offset="0" guid="${Z}"/>`,
    );
    expected = replaceOnce(expected, '<InstallState state="0"/>', '<InstallState state="1"/>');
    expected = replaceOnce(expected, '<WinREStaged state="1"/>', '<WinREStaged state="0"/>');
    expect(hex(out)).toBe(hex(utf16bom(expected)));
    const c = parseReAgentXml(out);
    expect(c).toMatchObject({
      winreBcd: NEW_BCD,
      winreLocation: { path: '\\Recovery\\WindowsRE', id: 0x1a2b3c4d, offset: 53687091200, guid: Z },
      imageLocation: { path: '', id: 0, offset: 0, guid: Z },
      installState: 1,
      winreStaged: 0,
      unknownElements: ['FutureThing'],
    });
    expect(c.elements.find((e) => e.name === 'FutureThing')).toEqual({ name: 'FutureThing', attrs: { mode: 'x & y' } });
  });

  it('GPT over an MBR file and a disabled install on another path: every location attribute is rewritten', () => {
    const t = ENABLED.replace(
      'path="\\Recovery\\WindowsRE" id="0" offset="105906176" guid="{376e5397-7d1f-4e4f-a668-5a62c1269e60}"',
      `path="" id="3735928559" offset="0" guid="${Z}"`,
    ).replace('<InstallState state="1"/>', '<InstallState state="0"/>');
    const out = repointReAgent(utf8bom(t), { scheme: 'gpt', diskGuid: '376e5397-7d1f-4e4f-a668-5a62c1269e60', offset: 105906176 });
    expect(hex(out)).toBe(hex(utf8bom(ENABLED)));
  });

  it('a file missing the elements gets them added in its own (flat) style; v1.0 OsInstallLocation kept', () => {
    const flat =
      '<WindowsRE version="1.0"><WinreBCD id="{92b228d6-2c5b-11e3-8636-00155df13812}"/><OsInstallLocation path="\\RecoveryImage" id="0" offset="58465452032" guid="{1bbe1186-b3bb-4a08-af22-264b3379d8cd}" index="1"/></WindowsRE>';
    const out = repointReAgent(new Uint8Array(Buffer.from(flat, 'utf8')), { scheme: 'gpt', diskGuid: '1bbe1186-b3bb-4a08-af22-264b3379d8cd', offset: 1048576 });
    expect(Buffer.from(out).toString('utf8')).toBe(
      flat.replace(
        '</WindowsRE>',
        `<WinreLocation path="\\Recovery\\WindowsRE" id="0" offset="1048576" guid="{1bbe1186-b3bb-4a08-af22-264b3379d8cd}"/><ImageLocation path="" id="0" offset="0" guid="${Z}"/><InstallState state="1"/><WinREStaged state="0"/></WindowsRE>`,
      ),
    );
    expect(parseReAgentXml(out).osInstallLocation).toEqual({
      path: '\\RecoveryImage',
      id: 0,
      offset: 58465452032,
      guid: '{1bbe1186-b3bb-4a08-af22-264b3379d8cd}',
      index: 1,
    });
  });

  it('bad targets are BadInputErrors; a file that is not ReAgent.xml is a FormatError', () => {
    const b = utf8bom(ENABLED);
    expect(() => repointReAgent(b, { scheme: 'gpt', diskGuid: 'nope', offset: 1048576 })).toThrow(BadInputError);
    expect(() => repointReAgent(b, { scheme: 'gpt', diskGuid: '376e5397-7d1f-4e4f-a668-5a62c1269e60', offset: 0 })).toThrow(BadInputError);
    expect(() => repointReAgent(b, { scheme: 'mbr', diskSignature: 2 ** 32, offset: 1048576 })).toThrow(BadInputError);
    expect(() => repointReAgent(b, { scheme: 'mbr', diskSignature: 1, offset: 1.5 })).toThrow(BadInputError);
    expect(() => repointReAgent(b, { scheme: 'mbr', diskSignature: 1, offset: 1048576 }, 'not-a-guid')).toThrow(BadInputError);
    expect(() => repointReAgent(new Uint8Array(Buffer.from('<foo/>')), { scheme: 'mbr', diskSignature: 1, offset: 1048576 })).toThrow(FormatError);
  });

  const reason = skipReason(toolsReason('python3'));
  it.skipIf(!!reason)('Python ElementTree reads the re-pointed files (UTF-8 and UTF-16) with the documented values', () => {
    const cases = [
      {
        orig: utf8bom(ENABLED),
        target: { scheme: 'gpt' as const, diskGuid: 'abcdef01-2345-4678-9abc-def012345678', offset: 64424509440 },
        id: '0',
        guid: '{abcdef01-2345-4678-9abc-def012345678}',
      },
      { orig: utf16bom(STALE_MBR), target: { scheme: 'mbr' as const, diskSignature: 0xfc9c8a2f, offset: 53687091200 }, id: '4238117423', guid: Z },
    ];
    for (const c of cases) {
      const out = repointReAgent(c.orig, c.target);
      const py = [
        'import sys, json, xml.etree.ElementTree as ET',
        'r = ET.fromstring(sys.stdin.buffer.read())',
        'g = lambda n: r.find(n).attrib',
        'print(json.dumps({"loc": g("WinreLocation"), "img": g("ImageLocation"), "inst": g("InstallState"), "staged": g("WinREStaged")}))',
      ].join('\n');
      const res = spawnSync('/usr/bin/python3', ['-c', py], { input: Buffer.from(out), encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout)).toEqual({
        loc: { path: '\\Recovery\\WindowsRE', id: c.id, offset: String(c.target.offset), guid: c.guid },
        img: { path: '', id: '0', offset: '0', guid: Z },
        inst: { state: '1' },
        staged: { state: '0' },
      });
    }
  });
});
