// ReAgent.xml: the samples of winre.md §7 (the 2.0 skeleton, the KB2952359 MBR id, the stale
// staging state) in the encodings Windows writes; unchanged round trips are byte-exact, edits touch
// only the changed attributes, and Python's ElementTree (an independent XML parser) reads our output.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { FormatError } from '../../src/shared/errors.js';
import {
  parseReAgentXml,
  writeReAgentXml,
  renderReAgentXml,
  decodeReAgentBytes,
  encodeReAgentText,
  detectEncoding,
  reagentSkeleton,
} from '../../src/formats/reagent.js';
import { toolsReason, skipReason } from '../helpers/env.js';

import { Z, ENABLED } from '../helpers/reagent-samples.js';
// KB2952359: an MBR install (id = disk signature 0xFC9C8A2F in decimal) with stale staging state,
// an element this module does not know, and a comment.
const STALE_MBR = [
  '<?xml version="1.0" encoding="utf-16"?>',
  '<WindowsRE version="2.0">',
  '  <!-- written by hand -->',
  '  <WinreBCD id="{a1b2c3d4-0000-1111-2222-333344445555}"/>',
  '  <WinreLocation path="\\Recovery\\WindowsRE" id="4238117423" offset="1048576" guid="' + Z + '"/>',
  '  <ImageLocation path="\\Recovery\\WindowsRE" id="4238117423" offset="1048576" guid="' + Z + '"/>',
  '  <InstallState state="0"/>',
  '  <WinREStaged state="1"/>',
  '  <FutureThing mode="x &amp; y" />',
  '</WindowsRE>',
  '',
].join('\n');

const utf8bom = (t: string) => encodeReAgentText(t, { charset: 'utf-8', bom: true });
const utf16 = (t: string) => encodeReAgentText(t, { charset: 'utf-16le', bom: true });

describe('parseReAgentXml', () => {
  it('every field of the 2.0 file', () => {
    const c = parseReAgentXml(utf8bom(ENABLED));
    expect(c).toMatchObject({
      version: '2.0',
      winreBcd: '{733b62e6-f608-11eb-825c-c112f60133ab}',
      winreLocation: { path: '\\Recovery\\WindowsRE', id: 0, offset: 105906176, guid: '{376e5397-7d1f-4e4f-a668-5a62c1269e60}' },
      imageLocation: { path: '', id: 0, offset: 0, guid: Z },
      pbrImageLocation: { path: '', id: 0, offset: 0, guid: Z, index: 0 },
      pbrCustomImageLocation: { path: '', id: 0, offset: 0, guid: Z, index: 0 },
      downlevelWinreLocation: { path: '', id: 0, offset: 0, guid: Z },
      installState: 1,
      osInstallAvailable: 0,
      customImageAvailable: 0,
      isAutoRepairOn: 1,
      winreStaged: 0,
      operationParam: '',
      operationPermanent: 0,
      osBuildVersion: '19041.1.amd64fre.vb_release.191206-1406',
      oemTool: 0,
      isServer: 0,
      isWimBoot: 0,
      narratorScheduled: 0,
      scheduledOperation: 4,
      unknownElements: [],
    });
    expect(c.elements).toHaveLength(19);
    expect(c.elements[1]).toEqual({
      name: 'WinreLocation',
      attrs: { path: '\\Recovery\\WindowsRE', id: '0', offset: '105906176', guid: '{376e5397-7d1f-4e4f-a668-5a62c1269e60}' },
    });
  });

  it('MBR id is the disk signature in decimal (KB2952359); unknown elements and entities', () => {
    const c = parseReAgentXml(utf16(STALE_MBR));
    expect(c.winreLocation!.id).toBe(0xfc9c8a2f);
    expect(c.imageLocation!.path).toBe('\\Recovery\\WindowsRE');
    expect(c.winreStaged).toBe(1);
    expect(c.unknownElements).toEqual(['FutureThing']);
    expect(c.elements.at(-1)).toEqual({ name: 'FutureThing', attrs: { mode: 'x & y' } });
    expect(c.pbrImageLocation).toBeUndefined();
  });

  it('Windows 8 version 1.0 with OsInstallLocation; value= instead of state=', () => {
    const c = parseReAgentXml(
      '<WindowsRE version="1.0"><WinreBCD id="{92b228d6-2c5b-11e3-8636-00155df13812}"/><OsInstallLocation path="\\RecoveryImage" id="0" offset="58465452032" guid="{1bbe1186-b3bb-4a08-af22-264b3379d8cd}" index="1"/><InstallState value="1"/></WindowsRE>',
    );
    expect(c.version).toBe('1.0');
    expect(c.osInstallLocation).toEqual({ path: '\\RecoveryImage', id: 0, offset: 58465452032, guid: '{1bbe1186-b3bb-4a08-af22-264b3379d8cd}', index: 1 });
    expect(c.installState).toBe(1);
  });

  it('encodings: UTF-8 with/without BOM, UTF-16 LE/BE with BOM, UTF-16LE without BOM', () => {
    for (const enc of [
      { charset: 'utf-8', bom: true },
      { charset: 'utf-8', bom: false },
      { charset: 'utf-16le', bom: true },
      { charset: 'utf-16be', bom: true },
      { charset: 'utf-16le', bom: false },
    ] as const) {
      const bytes = encodeReAgentText(ENABLED, enc);
      expect(detectEncoding(bytes)).toEqual(enc);
      expect(decodeReAgentBytes(bytes).text).toBe(ENABLED);
      expect(parseReAgentXml(bytes).winreLocation!.offset).toBe(105906176);
    }
  });

  it('bad input is a FormatError, never another exception', () => {
    expect(() => parseReAgentXml('<foo/>')).toThrow(FormatError);
    expect(() => parseReAgentXml(new Uint8Array([0xff, 0xfe, 0x00]))).toThrow(FormatError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }), (b, s) => {
        for (const input of [b, s, `<WindowsRE version="2.0">${s}`]) {
          try {
            parseReAgentXml(input);
          } catch (e) {
            expect(e).toBeInstanceOf(FormatError);
          }
        }
      }),
    );
  });
});

describe('writeReAgentXml', () => {
  it('an unchanged config writes the original bytes back exactly (UTF-8 BOM, UTF-16 BOM)', () => {
    for (const bytes of [utf8bom(ENABLED), utf16(STALE_MBR), encodeReAgentText(ENABLED, { charset: 'utf-16be', bom: true })]) {
      const c = parseReAgentXml(bytes);
      expect(Buffer.from(writeReAgentXml(c, bytes)).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('the KB2952359 fix + a new location changes only those attributes, keeps UTF-16, comment and unknown element', () => {
    const orig = utf16(STALE_MBR);
    const out = writeReAgentXml(
      {
        imageLocation: { path: '', id: 0, offset: 0, guid: Z },
        winreStaged: 0,
        installState: 1,
        winreLocation: { path: '\\Recovery\\WindowsRE', id: 4238117423, offset: 524288000, guid: Z },
      },
      orig,
    );
    expect([out[0], out[1]]).toEqual([0xff, 0xfe]);
    const text = decodeReAgentBytes(out).text;
    const expected = STALE_MBR.replace(
      'WinreLocation path="\\Recovery\\WindowsRE" id="4238117423" offset="1048576"',
      'WinreLocation path="\\Recovery\\WindowsRE" id="4238117423" offset="524288000"',
    )
      .replace('ImageLocation path="\\Recovery\\WindowsRE" id="4238117423" offset="1048576"', 'ImageLocation path="" id="0" offset="0"')
      .replace('<InstallState state="0"/>', '<InstallState state="1"/>')
      .replace('<WinREStaged state="1"/>', '<WinREStaged state="0"/>');
    expect(text).toBe(expected);
    const back = parseReAgentXml(out);
    expect(back).toMatchObject({ installState: 1, winreStaged: 0, imageLocation: { path: '', id: 0, offset: 0 }, unknownElements: ['FutureThing'] });
  });

  it('missing elements are added before </WindowsRE> with the file indentation and line ends', () => {
    const out = renderReAgentXml({ isServer: 1, pbrImageLocation: { path: '', id: 0, offset: 0, guid: Z, index: 0 } }, STALE_MBR);
    expect(out).toContain(
      '  <FutureThing mode="x &amp; y" />\n  <PBRImageLocation path="" id="0" offset="0" guid="' + Z + '" index="0"/>\n  <IsServer state="1"/>\n</WindowsRE>',
    );
    const flat = renderReAgentXml({ winreStaged: 0 }, '<WindowsRE version="2.0"><InstallState state="1"/></WindowsRE>');
    expect(flat).toBe('<WindowsRE version="2.0"><InstallState state="1"/><WinREStaged state="0"/></WindowsRE>');
  });

  it('value= files are fixed in place; attributes escaped; same value in another spelling untouched', () => {
    const t = '<WindowsRE version="1.0"><InstallState value="0"/><WinreBCD id="{ABC}"/><OperationParam path=""/></WindowsRE>';
    expect(renderReAgentXml({ installState: 1, winreBcd: '{abc}', operationParam: 'a&b"<c>' }, t)).toBe(
      '<WindowsRE version="1.0"><InstallState value="1"/><WinreBCD id="{ABC}"/><OperationParam path="a&amp;b&quot;&lt;c&gt;"/></WindowsRE>',
    );
    expect(parseReAgentXml(renderReAgentXml({ operationParam: 'a&b"<c>' }, t)).operationParam).toBe('a&b"<c>');
  });

  it('no original: the standard skeleton (UTF-8, no BOM) with the values set', () => {
    const out = writeReAgentXml({ winreBcd: '{11111111-2222-3333-4444-555555555555}', installState: 1 });
    const text = new TextDecoder().decode(out);
    expect(text.startsWith("<?xml version='1.0' encoding='utf-8'?>")).toBe(true);
    const c = parseReAgentXml(out);
    expect(c).toMatchObject({ winreBcd: '{11111111-2222-3333-4444-555555555555}', installState: 1, scheduledOperation: 4, isAutoRepairOn: 1 });
    expect(c.elements.map((e) => e.name)).toEqual(parseReAgentXml(reagentSkeleton()).elements.map((e) => e.name));
  });

  const reason = skipReason(toolsReason('python3'));
  it.skipIf(!!reason)('Python ElementTree reads our output (UTF-8 and UTF-16) with the values we wrote', () => {
    for (const orig of [utf8bom(ENABLED), utf16(STALE_MBR)]) {
      const out = writeReAgentXml({ winreLocation: { offset: 123456789, guid: '{AB&CD}' }, isServer: 1 }, orig);
      const py = [
        'import sys, json, xml.etree.ElementTree as ET',
        'r = ET.fromstring(sys.stdin.buffer.read())',
        'print(json.dumps({"tag": r.tag, "loc": r.find("WinreLocation").attrib, "srv": r.find("IsServer").attrib}))',
      ].join('\n');
      const res = spawnSync('/usr/bin/python3', ['-c', py], { input: Buffer.from(out), encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(0);
      const j = JSON.parse(res.stdout);
      expect(j.tag).toBe('WindowsRE');
      expect(j.loc.offset).toBe('123456789');
      expect(j.loc.guid).toBe('{AB&CD}');
      expect(j.srv).toEqual({ state: '1' });
    }
  });
});
