// Locked-down service descriptors (issue #19, item 2): what "update disabler" tools write with
// `sc sdset` (a DENY for SYSTEM, a protected DACL without it), judged the way Windows' AccessCheck
// walks a DACL; and the default wufix writes back for UsoSvc and WaaSMedicSvc, checked against
// the descriptors a real Windows 10 SYSTEM hive stores (test/fixtures/service-sd, regipy, MIT).
import { describe, it, expect } from 'vitest';
import { daclGrants, decodeSecurityDescriptor, formatSddl, parseSddl, SERVICE_GENERIC } from '../../src/formats/sddl.js';
import { keyLockdown, readServices, serviceLockdown, usualServiceKeySecurity } from '../../src/windows/services.js';
import { readFileSync } from 'node:fs';
import { Hive } from '../../src/hive/hive.js';
import { hiveFixture, sharedReason } from '../helpers/env.js';
import { DEFAULT_SDDL, resetDacl } from '../../src/repairs/services.js';
import { serviceSd } from '../helpers/service-sd.js';

/** What `sc sdset <svc> <dacl>` leaves: the DACL replaced, owner, group and SACL kept. */
const sdset = (current: Uint8Array, dacl: string) => resetDacl(current, dacl);

describe('service descriptors: locked or not', () => {
  it('the real Windows 10 descriptors of UsoSvc, WaaSMedicSvc and wuauserv: identical, not locked, and their DACL is the default wufix writes', () => {
    const real = ['UsoSvc', 'WaaSMedicSvc', 'wuauserv'].map(serviceSd);
    expect(Buffer.from(real[1]!).equals(Buffer.from(real[0]!)) && Buffer.from(real[2]!).equals(Buffer.from(real[0]!))).toBe(true);
    const sddl = formatSddl(decodeSecurityDescriptor(real[0]!));
    expect(sddl).toBe(
      'O:SYG:SYD:(A;;CCLCSWRPLORC;;;AU)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)S:(AU;FA;CCDCLCSWRPWPDTLOSDRCWDWO;;;WD)',
    );
    for (const svc of ['UsoSvc', 'WaaSMedicSvc', 'wuauserv'] as const) {
      expect(sddl).toContain(DEFAULT_SDDL[svc]);
      expect(serviceLockdown(serviceSd(svc))).toBeUndefined();
      // Locked by a disabler, then reset: the very bytes Windows stored.
      const locked = sdset(serviceSd(svc), 'D:(D;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;CCLCSWRPWPDTLOCRRC;;;BA)');
      expect(serviceLockdown(locked)?.why).toBe('does not let SYSTEM start it');
      expect(Buffer.from(resetDacl(locked, DEFAULT_SDDL[svc])).equals(Buffer.from(serviceSd(svc)))).toBe(true);
    }
  });

  it("disablers' DACLs are locked; DACLs that allow SYSTEM and Administrators (generic rights too, a NULL DACL) are not", () => {
    const base = serviceSd('wuauserv');
    const why = (dacl: string) => serviceLockdown(sdset(base, dacl))?.why;
    // sc sdset with a DENY for SYSTEM first (batch scripts), and a protected DACL without SYSTEM's start.
    expect(why('D:(D;;CCLCSWRPWPDTLOCRRC;;;SY)(A;;CCLCSWRPWPDTLOCRRC;;;BA)')).toBe('does not let SYSTEM start it');
    expect(why('D:P(D;;DCRPWP;;;SY)(A;;LCLO;;;SY)(A;;FA;;;BA)')).toBe('does not let SYSTEM start it');
    expect(why('D:(D;;RP;;;WD)(A;;FA;;;SY)(A;;FA;;;BA)')).toBe('does not let SYSTEM start it');
    expect(why('D:')).toBe('does not let SYSTEM start it');
    expect(why('D:(A;;CCLCSWRPLORC;;;SY)(A;;CCLCSWRPLORC;;;BA)')).toBe('does not let Administrators start or reconfigure it');
    // A DENY after the ALLOW that already granted the right does not take it back (AccessCheck's order).
    expect(why('D:(A;;FA;;;BA)(D;;RP;;;SY)')).toBeUndefined();
    expect(why('D:(A;;GA;;;SY)(A;;GA;;;BA)')).toBeUndefined();
    expect(why('D:(A;;GXGR;;;SY)(A;;GA;;;BA)')).toBeUndefined();
    expect(why('D:(A;IO;FA;;;SY)(A;;FA;;;BA)')).toBeUndefined(); // BA is in SYSTEM's token
    expect(why('D:(A;IO;FA;;;SY)(A;IO;FA;;;BA)')).toBe('does not let SYSTEM start it'); // inherit-only ACEs do not apply
    expect(why(DEFAULT_SDDL.bits)).toBeUndefined();
    expect(serviceLockdown(new Uint8Array([1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined(); // NULL DACL
    expect(serviceLockdown(new Uint8Array([1, 0, 4, 0x80, 0, 0, 0, 0]))?.why).toMatch(/^is not a readable security descriptor/);
  });

  it('daclGrants: every bit of the mask must be granted; a token of other SIDs gets nothing', () => {
    const sd = parseSddl('D:(A;;LC;;;SY)(A;;RP;;;WD)');
    expect(daclGrants(sd, ['S-1-5-18', 'S-1-1-0'], 0x14, SERVICE_GENERIC)).toBe(true);
    expect(daclGrants(sd, ['S-1-5-18'], 0x14, SERVICE_GENERIC)).toBe(false);
    expect(daclGrants(sd, ['S-1-5-32-545'], 0x4, SERVICE_GENERIC)).toBe(false);
    expect(daclGrants(parseSddl('O:SY'), ['S-1-5-32-545'], 0xf01ff)).toBe(true); // no DACL at all
  });
});

describe.skipIf(!!sharedReason())('service registry keys of real SYSTEM hives', () => {
  for (const name of ['SYSTEM', 'SYSTEM_2', 'SYSTEM_B']) {
    it(`regipy/${name}: no update service key or descriptor is locked; the usual Services key DACL is wuauserv's own`, () => {
      const h = Hive.open(new Uint8Array(readFileSync(hiveFixture(`regipy/${name}`))));
      const services = readServices(h, ['wuauserv', 'bits', 'UsoSvc', 'WaaSMedicSvc'], 'ControlSet001');
      expect(services.filter((s) => s.exists && (s.keyLocked || s.lockedDown)).map((s) => s.name)).toEqual([]);
      const usual = usualServiceKeySecurity(h, 'ControlSet001\\Services')!;
      expect(keyLockdown(usual)).toBeUndefined();
      // Its DACL is wuauserv's (owners differ between service keys on some builds: SYSTEM or Administrators).
      const dacl = (b: Uint8Array) => formatSddl({ ...decodeSecurityDescriptor(b), owner: undefined, group: undefined, sacl: undefined });
      expect(dacl(usual)).toBe(dacl(h.keySecurity(h.lookup('ControlSet001\\Services\\wuauserv')!)!));
    });
  }
});
