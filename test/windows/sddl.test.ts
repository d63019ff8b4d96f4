// SDDL <-> self-relative security descriptors, checked against descriptors written by Windows:
//
// [CS] CloudSoda/sddl testdata (github.com/CloudSoda/sddl, testdata/many-perms/from-windows.txt and
//      testdata/single-perm/from-windos.txt, commit 607a3350): three lines each, made on Windows:
//      (a) ConvertSecurityDescriptorToStringSecurityDescriptorW output, (b) (a) passed through
//      ConvertStringSecurityDescriptorToSecurityDescriptorW, base64, (c) MakeSelfRelativeSD of the
//      file's descriptor (a different layout: owner first), base64. So (a) -> bytes must equal (b)
//      byte for byte, and (b) and (c) must both print as (a).
// [RS] regipy/SYSTEM (shared fixture, a real Windows SYSTEM hive): the Security\Security values the
//      Windows SCM stored for wuauserv and BITS. Their DACLs are exactly the SDDL of
//      windows-update.md §2 (Microsoft's "Reset Windows Update components manually").
// [WT] Wine dlls/advapi32/tests/security.c (wine-mirror/wine), test_ConvertSecurityDescriptorToString
//      and test_PrivateObjectSecurity: expected SDDL text for descriptors built with the Win32 API
//      (these tests pass on Windows), and test_sid's authority vectors.
// The byte-level tests build descriptors by hand from the MS-DTYP 2.4.2.2 / 2.4.4 / 2.4.5 / 2.4.6
// layouts (helpers below), independent of src/formats/sddl.ts.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  sddlToSecurityDescriptor,
  securityDescriptorToSddl,
  parseSddl,
  decodeSecurityDescriptor,
  encodeSecurityDescriptor,
  sidToBytes,
  sidFromBytes,
  formatRights,
  SID_ALIASES,
} from '../../src/formats/sddl.js';
import { FormatError } from '../../src/shared/errors.js';
import { DEFAULT_SDDL } from '../../src/repairs/services.js';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// --- MS-DTYP builders (independent of the code under test) ---------------------------------------
const u16 = (n: number) => [n & 0xff, (n >>> 8) & 0xff];
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
/** SID: revision 1, count, 6-byte big-endian authority, little-endian sub-authorities. */
const sid = (auth: number, ...subs: number[]) => [1, subs.length, 0, 0, ...u32(auth).reverse(), ...subs.flatMap(u32)];
/** ACE_HEADER (type, flags, size) + mask + SID. */
const ace = (type: number, flags: number, mask: number, s: number[]) => [type, flags, ...u16(8 + s.length), ...u32(mask), ...s];
/** ACL header: revision 2, sbz1, size, count, sbz2. */
const acl = (...aces: number[][]) => {
  const body = aces.flat();
  return [2, 0, ...u16(8 + body.length), ...u16(aces.length), 0, 0, ...body];
};
/** Self-relative SD in the given part order. */
function sd(control: number, parts: { owner?: number[]; group?: number[]; sacl?: number[]; dacl?: number[] }, order: ('sacl' | 'dacl' | 'owner' | 'group')[]) {
  const field = { owner: 4, group: 8, sacl: 12, dacl: 16 };
  const head = [1, 0, ...u16(control), ...new Array(16).fill(0)];
  const out = [...head];
  for (const k of order) {
    const p = parts[k];
    if (!p) continue;
    out.splice(field[k], 4, ...u32(out.length));
    out.push(...p);
  }
  return new Uint8Array(out);
}
const SY = sid(5, 18);
const BA = sid(5, 32, 544);
const AU = sid(5, 11);
const IU = sid(5, 4);
const SU = sid(5, 6);
const WD = sid(1, 0);
const WINDOWS_ORDER: ('sacl' | 'dacl' | 'owner' | 'group')[] = ['sacl', 'dacl', 'owner', 'group'];

// --- [CS] Windows ConvertString* vectors ----------------------------------------------------------
const CS = {
  manyPerms: {
    sddl: 'O:S-1-5-21-1886771222-1226956130-4148604499-1001G:S-1-5-21-1886771222-1226956130-4148604499-513D:AI(D;;DCLCRPCR;;;S-1-5-21-1886771222-1226956130-4148604499-1002)(A;;0x1200a9;;;S-1-5-21-1886771222-1226956130-4148604499-1002)(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;FA;;;S-1-5-21-1886771222-1226956130-4148604499-1001)',
    convertString:
      'AQAEhLQAAADQAAAAAAAAABQAAAACAKAABQAAAAEAJAAWAQAAAQUAAAAAAAUVAAAAFth1cGLdIUlTrkb36gMAAAAAJACpABIAAQUAAAAAAAUVAAAAFth1cGLdIUlTrkb36gMAAAAQFAD/AR8AAQEAAAAAAAUSAAAAABAYAP8BHwABAgAAAAAABSAAAAAgAgAAABAkAP8BHwABBQAAAAAABRUAAAAW2HVwYt0hSVOuRvfpAwAAAQUAAAAAAAUVAAAAFth1cGLdIUlTrkb36QMAAAEFAAAAAAAFFQAAABbYdXBi3SFJU65G9wECAAA=',
    makeSelfRelative:
      'AQAEhBQAAAAwAAAAAAAAAEwAAAABBQAAAAAABRUAAAAW2HVwYt0hSVOuRvfpAwAAAQUAAAAAAAUVAAAAFth1cGLdIUlTrkb3AQIAAAIAoAAFAAAAAQAkABYBAAABBQAAAAAABRUAAAAW2HVwYt0hSVOuRvfqAwAAAAAkAKkAEgABBQAAAAAABRUAAAAW2HVwYt0hSVOuRvfqAwAAABAUAP8BHwABAQAAAAAABRIAAAAAEBgA/wEfAAECAAAAAAAFIAAAACACAAAAECQA/wEfAAEFAAAAAAAFFQAAABbYdXBi3SFJU65G9+kDAAA=',
  },
  singlePerm: {
    sddl: 'O:S-1-5-21-1886771222-1226956130-4148604499-1001G:S-1-5-21-1886771222-1226956130-4148604499-513D:(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;FA;;;S-1-5-21-1886771222-1226956130-4148604499-1001)',
    convertString:
      'AQAEgGwAAACIAAAAAAAAABQAAAACAFgAAwAAAAAQFAD/AR8AAQEAAAAAAAUSAAAAABAYAP8BHwABAgAAAAAABSAAAAAgAgAAABAkAP8BHwABBQAAAAAABRUAAAAW2HVwYt0hSVOuRvfpAwAAAQUAAAAAAAUVAAAAFth1cGLdIUlTrkb36QMAAAEFAAAAAAAFFQAAABbYdXBi3SFJU65G9wECAAA=',
    makeSelfRelative:
      'AQAEoBQAAAAwAAAAAAAAAEwAAAABBQAAAAAABRUAAAAW2HVwYt0hSVOuRvfpAwAAAQUAAAAAAAUVAAAAFth1cGLdIUlTrkb3AQIAAAIAWAADAAAAABAUAP8BHwABAQAAAAAABRIAAAAAEBgA/wEfAAECAAAAAAAFIAAAACACAAAAECQA/wEfAAEFAAAAAAAFFQAAABbYdXBi3SFJU65G9+kDAAA=',
  },
};

describe('SDDL -> bytes, as ConvertStringSecurityDescriptorToSecurityDescriptorW writes them [CS]', () => {
  for (const [name, v] of Object.entries(CS)) {
    it(`${name}: byte-identical to the Windows output`, () => {
      expect(hex(sddlToSecurityDescriptor(v.sddl))).toBe(hex(b64(v.convertString)));
    });
    it(`${name}: the Windows bytes (both layouts) print as Windows printed them`, () => {
      expect(securityDescriptorToSddl(b64(v.convertString))).toBe(v.sddl);
      expect(securityDescriptorToSddl(b64(v.makeSelfRelative))).toBe(v.sddl);
    });
  }
  it('many-perms: the layout is header, DACL, owner, group (MS-DTYP 2.4.6 offsets)', () => {
    const b = b64(CS.manyPerms.convertString);
    const dv = new DataView(b.buffer);
    expect(dv.getUint16(2, true)).toBe(0x8404); // SE_SELF_RELATIVE | SE_DACL_AUTO_INHERITED | SE_DACL_PRESENT ("D:AI")
    expect([dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true), dv.getUint32(16, true)]).toEqual([0xb4, 0xd0, 0, 0x14]);
  });
});

// --- [RS] the SCM's descriptors in a real SYSTEM hive -------------------------------------------
// Value data of ControlSet001\Services\{wuauserv,BITS}\Security\Security in regipy/SYSTEM.
const RS = {
  wuauserv:
    '010014807800000084000000140000003000000002001c000100000002801400ff000f000101000000000001000000000200480003000000000014009d00020001010000000000050b00000000001800ff010f000102000000000005200000002002000000001400ff010f00010100000000000512000000010100000000000512000000010100000000000512000000',
  bits: '0100148090000000a00000001400000034000000020020000100000002c0180000000c000102000000000005200000002002000002005c000400000000021400ff010f0001010000000000051200000000001800ff010f0001020000000000052000000020020000000014008d010200010100000000000504000000000014008d0102000101000000000005060000000102000000000005200000002002000001020000000000052000000020020000',
};
// Their SDDL: the DACL is windows-update.md §2 verbatim; owner, group and SACL read per MS-DTYP.
const RS_SDDL = {
  wuauserv: `O:SYG:SY${DEFAULT_SDDL.wuauserv}S:(AU;FA;CCDCLCSWRPWPDTLOSDRCWDWO;;;WD)`,
  bits: `O:BAG:BA${DEFAULT_SDDL.bits}S:(AU;SAFA;WDWO;;;BA)`,
};

describe('the service descriptors Windows stores [RS]', () => {
  it('the §2 SDDL strings are the ones in windows-update.md', () => {
    expect(DEFAULT_SDDL.bits).toBe('D:(A;CI;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)(A;;CCLCSWLOCRRC;;;IU)(A;;CCLCSWLOCRRC;;;SU)');
    expect(DEFAULT_SDDL.wuauserv).toBe('D:(A;;CCLCSWRPLORC;;;AU)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)');
  });
  for (const svc of ['wuauserv', 'bits'] as const) {
    it(`${svc}: full SDDL -> the bytes Windows stored, and back`, () => {
      expect(hex(sddlToSecurityDescriptor(RS_SDDL[svc]))).toBe(RS[svc]);
      expect(securityDescriptorToSddl(fromHex(RS[svc]))).toBe(RS_SDDL[svc]);
    });
    it(`${svc}: the DACL of the §2 SDDL alone is byte-identical to the DACL Windows stored`, () => {
      const real = fromHex(RS[svc]);
      const rdv = new DataView(real.buffer);
      const rOff = rdv.getUint32(16, true);
      const rLen = rdv.getUint16(rOff + 2, true);
      const ours = sddlToSecurityDescriptor(DEFAULT_SDDL[svc]);
      const odv = new DataView(ours.buffer);
      expect(odv.getUint16(2, true)).toBe(0x8004); // self-relative, DACL present
      expect([odv.getUint32(4, true), odv.getUint32(8, true), odv.getUint32(12, true), odv.getUint32(16, true)]).toEqual([0, 0, 0, 20]);
      expect(ours.length).toBe(20 + rLen);
      expect(hex(ours.subarray(20))).toBe(hex(real.subarray(rOff, rOff + rLen)));
    });
  }
  it('bits §2 SDDL, byte by byte against MS-DTYP', () => {
    const CCDCLCSWRPWPDTLOCRSDRCWDWO = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x10000 | 0x20000 | 0x40000 | 0x80000;
    const CCLCSWLOCRRC = 0x1 | 0x4 | 0x8 | 0x80 | 0x100 | 0x20000;
    const want = sd(
      0x8004,
      {
        dacl: acl(
          ace(0, 0x02, CCDCLCSWRPWPDTLOCRSDRCWDWO, SY),
          ace(0, 0, CCDCLCSWRPWPDTLOCRSDRCWDWO, BA),
          ace(0, 0, CCLCSWLOCRRC, IU),
          ace(0, 0, CCLCSWLOCRRC, SU),
        ),
      },
      WINDOWS_ORDER,
    );
    expect(CCDCLCSWRPWPDTLOCRSDRCWDWO).toBe(0xf01ff);
    expect(hex(sddlToSecurityDescriptor(DEFAULT_SDDL.bits))).toBe(hex(want));
    expect(want.length).toBe(20 + 8 + 20 + 24 + 20 + 20);
  });
  it('wuauserv §2 SDDL, byte by byte against MS-DTYP', () => {
    const want = sd(0x8004, { dacl: acl(ace(0, 0, 0x2009d, AU), ace(0, 0, 0xf01ff, BA), ace(0, 0, 0xf01ff, SY)) }, WINDOWS_ORDER);
    expect(hex(sddlToSecurityDescriptor(DEFAULT_SDDL.wuauserv))).toBe(hex(want));
  });
});

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
describe.skipIf(!!reason)('[RS] vectors are the values in regipy/SYSTEM (read with libhivex)', () => {
  it('wuauserv and BITS Security\\Security match', () => {
    const rows = hivexDump(hiveFixture('regipy/SYSTEM'));
    for (const [svc, key] of [
      ['wuauserv', 'wuauserv'],
      ['bits', 'BITS'],
    ] as const) {
      const row = rows.find((r) => r.path.toLowerCase() === `controlset001\\services\\${key}\\security`.toLowerCase());
      const v = row?.values.find((x) => x.name === 'Security');
      expect(v?.type).toBe(3);
      expect(v?.data).toBe(RS[svc]);
    }
  });
  it('every service descriptor in the hive survives bytes -> SDDL -> bytes (identical unless its ACL has slack)', () => {
    const rows = hivexDump(hiveFixture('regipy/SYSTEM'));
    let n = 0;
    let slack = 0;
    for (const r of rows) {
      if (!/^ControlSet00\d\\Services\\[^\\]+\\Security$/i.test(r.path)) continue;
      const v = r.values.find((x) => x.name === 'Security' && x.type === 3);
      if (!v || v.data.length < 40) continue;
      let text: string;
      try {
        text = securityDescriptorToSddl(fromHex(v.data));
      } catch (e) {
        // Object / callback ACEs are outside what this module supports; anything else is a bug.
        expect((e as Error).message).toMatch(/unsupported ACE type/);
        continue;
      }
      const ours = sddlToSecurityDescriptor(text);
      // Same descriptor in every case; the same bytes unless Windows' copy has slack (an ACL
      // allocated larger than its ACEs, as some third-party installers leave it).
      expect(decodeSecurityDescriptor(ours), r.path).toEqual(decodeSecurityDescriptor(fromHex(v.data)));
      if (ours.length * 2 === v.data.length) {
        expect(hex(ours), `${r.path}: ${text}`).toBe(v.data);
        n++;
      } else slack++;
    }
    expect(n).toBeGreaterThan(50);
    expect(slack).toBeLessThan(n / 10);
  });
});

// --- [WT] Wine's conformance tests ----------------------------------------------------------------
describe('printing, as Windows prints (Wine conformance tests) [WT]', () => {
  const G = sid(5, 21, 93476, 23408, 4576);
  const daclAces = [ace(0, 0x04, 0xf0000000, SU), ace(0, 0x08 | 0x10, 0x3, SU), ace(1, 0x01 | 0x02, 0xffffffff, G)];
  it('O:S-1-2-0 and O:SY', () => {
    expect(securityDescriptorToSddl(sd(0x8000, { owner: sid(2, 0) }, WINDOWS_ORDER))).toBe('O:S-1-2-0');
    expect(securityDescriptorToSddl(sd(0x8000, { owner: SY }, WINDOWS_ORDER))).toBe('O:SY');
  });
  it('empty DACL prints as D:', () => {
    expect(securityDescriptorToSddl(sd(0x8004, { owner: SY, group: G, dacl: acl() }, ['owner', 'group', 'dacl']))).toBe('O:SYG:S-1-5-21-93476-23408-4576D:');
  });
  const DACL_TEXT = 'O:SYG:S-1-5-21-93476-23408-4576D:(A;NP;GAGXGWGR;;;SU)(A;IOID;CCDC;;;SU)(D;OICI;0xffffffff;;;S-1-5-21-93476-23408-4576)';
  it('generic rights, IO/ID, OI/CI and a hex mask', () => {
    expect(securityDescriptorToSddl(sd(0x8004, { owner: SY, group: G, dacl: acl(...daclAces) }, ['owner', 'group', 'dacl']))).toBe(DACL_TEXT);
  });
  const SACL_ACES = [ace(2, 0x1f | 0x40 | 0x80, 0x20019 | 0x20006, SU), ace(2, 0x04 | 0x40, 0x120089 | 0x120116, SU)];
  const FULL_VISTA = 'O:SYG:S-1-5-21-93476-23408-4576D:NO_ACCESS_CONTROLS:(AU;OICINPIOIDSAFA;CCDCLCSWRPRC;;;SU)(AU;NPSA;0x12019f;;;SU)';
  it('null DACL prints as NO_ACCESS_CONTROL; audit ACE flags in Windows order', () => {
    expect(securityDescriptorToSddl(sd(0x8014, { owner: SY, group: G, sacl: acl(...SACL_ACES) }, WINDOWS_ORDER))).toBe(FULL_VISTA);
  });
  it('parsing the same strings gives the same bytes; control 0x8014 for O G D S (test_PrivateObjectSecurity)', () => {
    expect(hex(sddlToSecurityDescriptor(FULL_VISTA))).toBe(hex(sd(0x8014, { owner: SY, group: G, sacl: acl(...SACL_ACES) }, WINDOWS_ORDER)));
    const full = `O:SYG:S-1-5-21-93476-23408-4576D:(A;NP;GAGXGWGR;;;SU)(A;IOID;CCDC;;;SU)(D;OICI;0xffffffff;;;S-1-5-21-93476-23408-4576)S:(AU;OICINPIOIDSAFA;CCDCLCSWRPRC;;;SU)(AU;NPSA;0x12019f;;;SU)`;
    const b = sddlToSecurityDescriptor(full);
    expect(new DataView(b.buffer).getUint16(2, true)).toBe(0x8014);
    expect(hex(b)).toBe(hex(sd(0x8014, { owner: SY, group: G, sacl: acl(...SACL_ACES), dacl: acl(...daclAces) }, WINDOWS_ORDER)));
    expect(securityDescriptorToSddl(b)).toBe(full);
  });
  it('SID authorities (test_sid): 0x33445566 prints in decimal; S-1-5-21-93476-23408-4576 has 4 sub-authorities', () => {
    const s = new Uint8Array([1, 1, 0, 0, 0x33, 0x44, 0x55, 0x66, 1, 0, 0, 0]);
    expect(sidFromBytes(s).sid).toBe('S-1-860116326-1');
    expect(hex(sidToBytes('S-1-860116326-1'))).toBe(hex(s));
    const g = sidToBytes('S-1-5-21-93476-23408-4576');
    expect(g[1]).toBe(4);
    expect(hex(g)).toBe(hex(new Uint8Array(G)));
  });
  it('well-known aliases of test_sid', () => {
    const table: [string, string][] = [
      ['WD', 'S-1-1-0'],
      ['CO', 'S-1-3-0'],
      ['CG', 'S-1-3-1'],
      ['OW', 'S-1-3-4'],
      ['NU', 'S-1-5-2'],
      ['IU', 'S-1-5-4'],
      ['SU', 'S-1-5-6'],
      ['AN', 'S-1-5-7'],
      ['ED', 'S-1-5-9'],
      ['PS', 'S-1-5-10'],
      ['AU', 'S-1-5-11'],
      ['RC', 'S-1-5-12'],
      ['SY', 'S-1-5-18'],
      ['LS', 'S-1-5-19'],
      ['NS', 'S-1-5-20'],
      ['BO', 'S-1-5-32-551'],
      ['BA', 'S-1-5-32-544'],
      ['BU', 'S-1-5-32-545'],
      ['BG', 'S-1-5-32-546'],
      ['PU', 'S-1-5-32-547'],
      ['AO', 'S-1-5-32-548'],
      ['SO', 'S-1-5-32-549'],
      ['PO', 'S-1-5-32-550'],
      ['RE', 'S-1-5-32-552'],
      ['RU', 'S-1-5-32-554'],
      ['RD', 'S-1-5-32-555'],
      ['NO', 'S-1-5-32-556'],
      ['AC', 'S-1-15-2-1'],
    ];
    for (const [alias, s] of table) {
      expect(SID_ALIASES[alias], alias).toBe(s);
      expect(securityDescriptorToSddl(sddlToSecurityDescriptor(`O:${s}`))).toBe(`O:${alias}`);
    }
  });
});

describe('SDDL grammar', () => {
  it('ACL flags P, AI, AR set the control bits of MS-DTYP 2.4.6', () => {
    const ctl = (s: string) => new DataView(sddlToSecurityDescriptor(s).buffer).getUint16(2, true);
    expect(ctl('D:P')).toBe(0x8000 | 0x1000 | 0x4);
    expect(ctl('D:AI')).toBe(0x8000 | 0x0400 | 0x4);
    expect(ctl('D:AR')).toBe(0x8000 | 0x0100 | 0x4);
    expect(ctl('D:PARAI')).toBe(0x8000 | 0x1000 | 0x0100 | 0x0400 | 0x4);
    expect(ctl('S:PAI')).toBe(0x8000 | 0x2000 | 0x0800 | 0x10);
    expect(ctl('S:AR')).toBe(0x8000 | 0x0200 | 0x10);
    expect(securityDescriptorToSddl(sddlToSecurityDescriptor('D:PARAI(A;;GA;;;WD)'))).toBe('D:PARAI(A;;GA;;;WD)');
  });
  it('rights: every two-letter code has its documented value', () => {
    const codes: [string, number][] = [
      ['CC', 0x1],
      ['DC', 0x2],
      ['LC', 0x4],
      ['SW', 0x8],
      ['RP', 0x10],
      ['WP', 0x20],
      ['DT', 0x40],
      ['LO', 0x80],
      ['CR', 0x100],
      ['SD', 0x10000],
      ['RC', 0x20000],
      ['WD', 0x40000],
      ['WO', 0x80000],
      ['GA', 0x10000000],
      ['GX', 0x20000000],
      ['GW', 0x40000000],
      ['GR', 0x80000000],
      ['FA', 0x1f01ff],
      ['FR', 0x120089],
      ['FW', 0x120116],
      ['FX', 0x1200a0],
      ['KA', 0xf003f],
      ['KR', 0x20019],
      ['KW', 0x20006],
      ['KX', 0x20019],
    ];
    for (const [c, v] of codes) {
      const b = sddlToSecurityDescriptor(`D:(A;;${c};;;WD)`);
      expect(hex(b), c).toBe(hex(sd(0x8004, { dacl: acl(ace(0, 0, v, WD)) }, WINDOWS_ORDER)));
    }
    expect(formatRights(0x20019)).toBe('KR');
    expect(formatRights(0x1f01ff)).toBe('FA');
    expect(formatRights(0x100000)).toBe('0x100000'); // SYNCHRONIZE has no code
  });
  it('hex and decimal masks; ACE flags; audit ACE in the SACL', () => {
    const b = sddlToSecurityDescriptor('S:(AU;SAFA;0x12019F;;;SU)D:(D;OICINPIOID;983551;;;S-1-5-21-1-2-3-500)');
    const want = sd(0x8014, { sacl: acl(ace(2, 0xc0, 0x12019f, SU)), dacl: acl(ace(1, 0x1f, 983551, sid(5, 21, 1, 2, 3, 500))) }, WINDOWS_ORDER);
    expect(hex(b)).toBe(hex(want));
    expect(securityDescriptorToSddl(b)).toBe('D:(D;OICINPIOID;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;S-1-5-21-1-2-3-500)S:(AU;SAFA;0x12019f;;;SU)');
  });
  it('mandatory label ACE in the SACL', () => {
    const b = sddlToSecurityDescriptor('S:(ML;;NW;;;HI)');
    expect(hex(b)).toBe(hex(sd(0x8010, { sacl: acl(ace(0x11, 0, 0x1, sid(16, 12288))) }, WINDOWS_ORDER)));
    expect(securityDescriptorToSddl(b)).toBe('S:(ML;;NW;;;HI)');
  });
  it('whitespace between components and ACEs is tolerated', () => {
    expect(hex(sddlToSecurityDescriptor(' O:SY G:SY D:(A;;GA;;;WD) (A;;GR;;;BU) '))).toBe(hex(sddlToSecurityDescriptor('O:SYG:SYD:(A;;GA;;;WD)(A;;GR;;;BU)')));
  });
  it('D:NO_ACCESS_CONTROL is a present, NULL DACL', () => {
    const b = sddlToSecurityDescriptor('D:NO_ACCESS_CONTROL');
    expect(hex(b)).toBe(hex(sd(0x8004, {}, WINDOWS_ORDER)));
    expect(decodeSecurityDescriptor(b).dacl).toBeNull();
  });
  it('rejects what it cannot represent, with FormatError', () => {
    const bad = [
      'X:(A;;GA;;;WD)',
      'D:(A;;GA;;;WD',
      'D:(A;;GA;;WD)',
      'D:(Q;;GA;;;WD)',
      'D:(A;ZZ;GA;;;WD)',
      'D:(A;;QQ;;;WD)',
      'D:(A;;GA;;;XX)',
      'D:(A;;GA;;;DA)',
      'D:(OA;;CCDC;bf967aba-0de6-11d0-a285-00aa003049e2;;AO)',
      'D:(A;;GA;bf967aba-0de6-11d0-a285-00aa003049e2;;WD)',
      'D:(AU;SA;GA;;;WD)',
      'S:(A;;GA;;;WD)',
      'O:SYO:SY',
      'D:(A;;0x100000000;;;WD)',
      'O:S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16',
      'O:S-1-5',
    ];
    for (const s of bad) expect(() => sddlToSecurityDescriptor(s), s).toThrow(FormatError);
  });
  it('rejects malformed bytes with FormatError, never RangeError/TypeError', () => {
    const good = sddlToSecurityDescriptor(RS_SDDL.bits);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(good.length - 1), fc.nat(255), (junk, at, v) => {
        for (const b of [
          junk,
          (() => {
            const c = good.slice();
            c[at] = v;
            return c;
          })(),
          good.subarray(0, at),
        ]) {
          try {
            securityDescriptorToSddl(b);
          } catch (e) {
            expect(e).toBeInstanceOf(FormatError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
  it('round trip: any descriptor the model can hold survives bytes -> SDDL -> bytes', () => {
    const sidArb = fc.oneof(
      fc.constantFrom(...Object.values(SID_ALIASES)),
      fc
        .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 15 }))
        .map(([a, s]) => `S-1-${a}-${s.join('-')}`),
    );
    const aceArb = (types: number[]) =>
      fc.record({
        type: fc.constantFrom(...types),
        flags: fc.subarray([0x1, 0x2, 0x4, 0x8, 0x10, 0x40, 0x80]).map((f) => f.reduce((a, b) => a | b, 0)),
        mask: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        sid: sidArb,
      });
    const aclArb = (types: number[]) =>
      fc.option(
        fc.option(
          fc.array(aceArb(types), { maxLength: 6 }).map((aces) => ({ revision: 2, aces })),
          { nil: null },
        ),
        { nil: undefined },
      );
    fc.assert(
      fc.property(
        fc.option(sidArb, { nil: undefined }),
        fc.option(sidArb, { nil: undefined }),
        aclArb([0, 1]),
        aclArb([2]),
        fc.subarray([0x100, 0x200, 0x400, 0x800, 0x1000, 0x2000]),
        (owner, group, dacl, sacl, flags) => {
          const control = flags.reduce((a, b) => a | b, 0) & ((dacl !== undefined ? 0x1500 : 0) | (sacl !== undefined ? 0x2a00 : 0));
          const bytes = encodeSecurityDescriptor({ control, owner, group, dacl, sacl });
          const text = securityDescriptorToSddl(bytes);
          expect(hex(sddlToSecurityDescriptor(text))).toBe(hex(bytes));
          expect(securityDescriptorToSddl(sddlToSecurityDescriptor(text))).toBe(text);
          expect(parseSddl(text).owner).toBe(owner);
        },
      ),
      { numRuns: 300 },
    );
  });
});
