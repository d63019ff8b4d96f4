// Error-code knowledge: expected values come from public headers and the shared doc, never from
// our own output. Header citations:
//   [wine]  wine-mirror/wine include/winerror.h (ERROR_* numbers, FACILITY_* numbers,
//           __HRESULT_FROM_WIN32 = (x & 0xFFFF) | (FACILITY_WIN32 << 16) | 0x80000000)
//   [mingw] mingw-w64/mingw-w64 mingw-w64-headers/include/winerror.h (adds ERROR_FAIL_REBOOT_REQUIRED
//           3017, ERROR_SXS_COMPONENT_STORE_CORRUPT 14098, ERROR_EVT_CONFIGURATION_ERROR 15010)
//   [wincrypt] a public wincrypt constant list writing the trust codes as signed decimals:
//           CERT_E_REVOCATION_FAILURE (-2146762482), CERT_E_UNTRUSTEDROOT (-2146762487),
//           TRUST_E_FAIL (-2146762485), CRYPT_E_REVOCATION_OFFLINE (-2146885613)
//   [wuerror] wuerror.h transcriptions: WU_E_UH_POSTREBOOTUNEXPECTEDSTATE = -2145116138 (0x80242016),
//           WU_E_DS_LOCKTIMEOUTEXPIRED = 0x8024800C, WU_E_UNEXPECTED = 0x80240FFF,
//           WU_S_REBOOT_REQUIRED = 0x00240005
//   [doc]   ../shared/docs/windows-update.md section 7 (table of codes and symbols)
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../src/shared/errors.js';
import { WIN32_ERRORS, hresultFromWin32, isKnownError, knownErrorCodes, lookupError, normalizeHresult, type CodeRepair } from '../../src/formats/errorcodes.js';
import { SHARED, sharedReason, skipReason } from '../helpers/env.js';

const REPAIR_IDS: CodeRepair[] = ['wintrust', 'wu-cache', 'services', 'pending', 'au-pause', 'qualitycompat', 'trust-cert', 'winre', 'wsus-policy'];

describe('normalizeHresult', () => {
  it('accepts every documented input form', () => {
    expect(normalizeHresult(0x80070643)).toBe('0x80070643');
    expect(normalizeHresult('80070643')).toBe('0x80070643');
    expect(normalizeHresult('0x80070643')).toBe('0x80070643');
    expect(normalizeHresult('0X80070643')).toBe('0x80070643');
    expect(normalizeHresult(' 0x800F0922 ')).toBe('0x800f0922');
    // signed 32-bit form of 0x80070643: 0x80070643 - 2^32
    expect(normalizeHresult(0x80070643 - 2 ** 32)).toBe('0x80070643');
    expect(normalizeHresult(-2147023293)).toBe('0x80070643');
    expect(normalizeHresult('-2147023293')).toBe('0x80070643');
    // Win32 numbers become HRESULT_FROM_WIN32 [wine]
    expect(normalizeHresult(1603)).toBe('0x80070643');
    expect(normalizeHresult('0x00000643')).toBe('0x80070643'); // "Final Result ... (0x00000643)"
    expect(normalizeHresult(0)).toBe('0x00000000');
    expect(normalizeHresult('0')).toBe('0x00000000');
  });

  it('signed decimals from a public wincrypt list [wincrypt][wuerror]', () => {
    expect(normalizeHresult(-2146762482)).toBe('0x800b010e'); // CERT_E_REVOCATION_FAILURE
    expect(normalizeHresult(-2146762487)).toBe('0x800b0109'); // CERT_E_UNTRUSTEDROOT
    expect(normalizeHresult(-2146762485)).toBe('0x800b010b'); // TRUST_E_FAIL
    expect(normalizeHresult(-2146885613)).toBe('0x80092013'); // CRYPT_E_REVOCATION_OFFLINE
    expect(normalizeHresult(-2145116138)).toBe('0x80242016'); // WU_E_UH_POSTREBOOTUNEXPECTEDSTATE
  });

  it('rejects what is not a code', () => {
    for (const bad of ['', 'xyz', '0x', '0x123456789', '12g4', '-', '--5', 'HRESULT', '0x8007 0643'] as const) {
      expect(normalizeHresult(bad), bad).toBeUndefined();
    }
    for (const bad of [1.5, NaN, Infinity, 2 ** 32, -(2 ** 31) - 1]) expect(normalizeHresult(bad), String(bad)).toBeUndefined();
    expect(normalizeHresult('-2147483649')).toBeUndefined();
    expect(normalizeHresult(null as unknown as string)).toBeUndefined();
  });
});

describe('HRESULT_FROM_WIN32 with winerror.h numbers', () => {
  // number from [wine]/[mingw], HRESULT = macro in [wine]; the HRESULTs are the doc's section 7 codes
  const vectors: [number, string, string][] = [
    [1603, 'ERROR_INSTALL_FAILURE', '0x80070643'],
    [1058, 'ERROR_SERVICE_DISABLED', '0x80070422'],
    [3017, 'ERROR_FAIL_REBOOT_REQUIRED', '0x80070bc9'], // [mingw]
    [15010, 'ERROR_EVT_CONFIGURATION_ERROR', '0x80073aa2'], // [mingw]
    [14098, 'ERROR_SXS_COMPONENT_STORE_CORRUPT', '0x80073712'], // [mingw]
    [1460, 'ERROR_TIMEOUT', '0x800705b4'],
    [13, 'ERROR_INVALID_DATA', '0x8007000d'],
    [2, 'ERROR_FILE_NOT_FOUND', '0x80070002'],
    [32, 'ERROR_SHARING_VIOLATION', '0x80070020'],
  ];
  it.each(vectors)('%i %s -> %s', (num, name, hr) => {
    expect(hresultFromWin32(num).toString(16)).toBe(hr.slice(2));
    expect(WIN32_ERRORS.get(num)).toBe(name);
    const info = lookupError(hr);
    expect(info.win32).toEqual({ code: num, name });
    expect(info.facility).toContain('FACILITY_WIN32 (7)');
    expect(lookupError(num).code).toBe(hr);
  });
});

describe('Win32 name table', () => {
  it('has at least 150 names, all ERROR_* (or the few other winerror.h prefixes)', () => {
    expect(WIN32_ERRORS.size).toBeGreaterThanOrEqual(150);
    const names = new Set<string>();
    for (const [num, name] of WIN32_ERRORS) {
      expect(Number.isInteger(num) && num >= 0 && num <= 0xffff, String(num)).toBe(true);
      expect(name).toMatch(/^(ERROR_|WAIT_TIMEOUT$|RPC_S_|EPT_S_)/);
      expect(names.has(name), name).toBe(false);
      names.add(name);
    }
  });

  // Pairs copied from [wine] include/winerror.h (first block of #defines) unless marked [mingw].
  const header: [number, string][] = [
    [0, 'ERROR_SUCCESS'],
    [1, 'ERROR_INVALID_FUNCTION'],
    [3, 'ERROR_PATH_NOT_FOUND'],
    [5, 'ERROR_ACCESS_DENIED'],
    [8, 'ERROR_NOT_ENOUGH_MEMORY'],
    [14, 'ERROR_OUTOFMEMORY'],
    [21, 'ERROR_NOT_READY'],
    [23, 'ERROR_CRC'],
    [31, 'ERROR_GEN_FAILURE'],
    [33, 'ERROR_LOCK_VIOLATION'],
    [38, 'ERROR_HANDLE_EOF'],
    [50, 'ERROR_NOT_SUPPORTED'],
    [53, 'ERROR_BAD_NETPATH'],
    [80, 'ERROR_FILE_EXISTS'],
    [87, 'ERROR_INVALID_PARAMETER'],
    [109, 'ERROR_BROKEN_PIPE'],
    [112, 'ERROR_DISK_FULL'],
    [122, 'ERROR_INSUFFICIENT_BUFFER'],
    [123, 'ERROR_INVALID_NAME'],
    [126, 'ERROR_MOD_NOT_FOUND'],
    [127, 'ERROR_PROC_NOT_FOUND'],
    [145, 'ERROR_DIR_NOT_EMPTY'],
    [170, 'ERROR_BUSY'],
    [183, 'ERROR_ALREADY_EXISTS'],
    [193, 'ERROR_BAD_EXE_FORMAT'],
    [206, 'ERROR_FILENAME_EXCED_RANGE'],
    [225, 'ERROR_VIRUS_INFECTED'],
    [232, 'ERROR_NO_DATA'],
    [234, 'ERROR_MORE_DATA'],
    [258, 'WAIT_TIMEOUT'],
    [259, 'ERROR_NO_MORE_ITEMS'],
    [267, 'ERROR_DIRECTORY'],
    [299, 'ERROR_PARTIAL_COPY'],
    [303, 'ERROR_DELETE_PENDING'],
    [577, 'ERROR_INVALID_IMAGE_HASH'],
    [740, 'ERROR_ELEVATION_REQUIRED'],
    [995, 'ERROR_OPERATION_ABORTED'],
    [997, 'ERROR_IO_PENDING'],
    [998, 'ERROR_NOACCESS'],
    [1009, 'ERROR_BADDB'],
    [1015, 'ERROR_REGISTRY_CORRUPT'],
    [1053, 'ERROR_SERVICE_REQUEST_TIMEOUT'],
    [1056, 'ERROR_SERVICE_ALREADY_RUNNING'],
    [1060, 'ERROR_SERVICE_DOES_NOT_EXIST'],
    [1062, 'ERROR_SERVICE_NOT_ACTIVE'],
    [1068, 'ERROR_SERVICE_DEPENDENCY_FAIL'],
    [1069, 'ERROR_SERVICE_LOGON_FAILED'],
    [1072, 'ERROR_SERVICE_MARKED_FOR_DELETE'],
    [1115, 'ERROR_SHUTDOWN_IN_PROGRESS'],
    [1168, 'ERROR_NOT_FOUND'],
    [1223, 'ERROR_CANCELLED'],
    [1314, 'ERROR_PRIVILEGE_NOT_HELD'],
    [1326, 'ERROR_LOGON_FAILURE'],
    [1332, 'ERROR_NONE_MAPPED'],
    [1392, 'ERROR_FILE_CORRUPT'],
    [1393, 'ERROR_DISK_CORRUPT'],
    [1398, 'ERROR_TIME_SKEW'],
    [1450, 'ERROR_NO_SYSTEM_RESOURCES'],
    [1465, 'ERROR_XML_PARSE_ERROR'],
    [1601, 'ERROR_INSTALL_SERVICE_FAILURE'],
    [1602, 'ERROR_INSTALL_USEREXIT'],
    [1605, 'ERROR_UNKNOWN_PRODUCT'],
    [1612, 'ERROR_INSTALL_SOURCE_ABSENT'],
    [1618, 'ERROR_INSTALL_ALREADY_RUNNING'],
    [1619, 'ERROR_INSTALL_PACKAGE_OPEN_FAILED'],
    [1620, 'ERROR_INSTALL_PACKAGE_INVALID'],
    [1625, 'ERROR_INSTALL_PACKAGE_REJECTED'],
    [1633, 'ERROR_INSTALL_PLATFORM_UNSUPPORTED'],
    [1638, 'ERROR_PRODUCT_VERSION'],
    [1641, 'ERROR_SUCCESS_REBOOT_INITIATED'],
    [1642, 'ERROR_PATCH_TARGET_NOT_FOUND'],
    [1652, 'ERROR_INSTALL_SERVICE_SAFEBOOT'],
    [1722, 'RPC_S_SERVER_UNAVAILABLE'],
    [1726, 'RPC_S_CALL_FAILED'],
    [1790, 'ERROR_TRUST_FAILURE'],
    [1816, 'ERROR_NOT_ENOUGH_QUOTA'],
    [1909, 'ERROR_ACCOUNT_LOCKED_OUT'],
    [3010, 'ERROR_SUCCESS_REBOOT_REQUIRED'],
    [3011, 'ERROR_SUCCESS_RESTART_REQUIRED'],
    [1654, 'ERROR_INSTALL_REJECTED'], // [mingw]
    [14081, 'ERROR_SXS_ASSEMBLY_MISSING'],
    [14099, 'ERROR_ADVANCED_INSTALLER_FAILED'], // [mingw]
  ];
  it.each(header)('%i = %s', (num, name) => {
    expect(WIN32_ERRORS.get(num)).toBe(name);
  });
});

describe('lookupError: curated codes', () => {
  it('maps each code to the repairs of the brief', () => {
    const expected: Record<string, CodeRepair[]> = {
      '0x80070643': ['wintrust', 'winre'],
      '0x800b010b': ['wintrust'],
      '0x800b010e': ['wintrust'],
      '0x80070422': ['services'],
      '0x80073aa2': ['pending', 'au-pause'],
      '0x80070bc9': ['pending', 'au-pause'],
      '0x80242016': ['pending', 'au-pause'],
      '0x80240034': ['wu-cache'],
      '0x8024200d': ['wu-cache'],
      '0x80070002': ['wu-cache'],
      '0x8007000d': ['wu-cache'],
      '0x8024402c': ['wsus-policy'],
      '0x80244022': ['wsus-policy'],
      '0x800f0922': ['services'],
    };
    for (const [code, repairs] of Object.entries(expected)) expect(lookupError(code).repairs, code).toEqual(repairs);
    expect(lookupError('0x800B0109').repairs[0]).toBe('trust-cert');
  });

  it('symbols from the header, via signed and unsigned input', () => {
    expect(lookupError(-2146762482).symbol).toBe('CERT_E_REVOCATION_FAILURE'); // [wincrypt]
    expect(lookupError(-2146762487).symbol).toBe('CERT_E_UNTRUSTEDROOT');
    expect(lookupError(-2146762485).symbol).toBe('TRUST_E_FAIL');
    expect(lookupError(-2146885613).symbol).toBe('CRYPT_E_REVOCATION_OFFLINE');
    expect(lookupError(-2145116138).symbol).toBe('WU_E_UH_POSTREBOOTUNEXPECTEDSTATE'); // [wuerror]
    expect(lookupError(1603).symbol).toBe('ERROR_INSTALL_FAILURE');
  });

  it('every curated entry is consistent: ids, ASCII text, facility and severity', () => {
    const codes = knownErrorCodes();
    expect(codes.length).toBeGreaterThanOrEqual(26);
    for (const c of codes) {
      const info = lookupError(c);
      expect(info.code).toBe(c);
      expect(info.known).toBe(true);
      expect(isKnownError(c)).toBe(true);
      expect(info.meaning.length, c).toBeGreaterThan(5);
      expect(info.meaning + (info.hint ?? '')).toMatch(/^[\x20-\x7e]*$/); // console-safe
      for (const r of info.repairs) expect(REPAIR_IDS).toContain(r);
      expect(info.severity).toBe('error');
    }
  });

  it('rejects non-codes with BadInputError', () => {
    expect(() => lookupError('not a code')).toThrow(BadInputError);
    expect(() => lookupError(1.25)).toThrow(BadInputError);
  });
});

describe('lookupError: generic decoding', () => {
  it('unknown Win32 codes get the winerror.h name', () => {
    const i = lookupError(0x80070052); // ERROR_CANNOT_MAKE = 82 [wine]
    expect(i.known).toBe(false);
    expect(i.symbol).toBe('ERROR_CANNOT_MAKE');
    expect(i.win32).toEqual({ code: 82, name: 'ERROR_CANNOT_MAKE' });
    expect(i.meaning).toContain('82');
    expect(i.repairs).toEqual([]);
    const j = lookupError('0x8007fffe');
    expect(j.win32).toEqual({ code: 0xfffe });
    expect(j.symbol).toBeUndefined();
  });

  it('Windows Update agent codes by facility 0x24 and sub-range [wuerror]', () => {
    const ds = lookupError('0x8024800c'); // WU_E_DS_LOCKTIMEOUTEXPIRED
    expect(ds.known).toBe(false);
    expect(ds.facilityCode).toBe(36);
    expect(ds.facility).toBe('FACILITY_WINDOWSUPDATE (36): Windows Update agent');
    expect(ds.meaning).toContain('data store');
    expect(lookupError('0x80240fff').meaning).toContain('general'); // WU_E_UNEXPECTED
    expect(lookupError('0x80244fff').meaning).toContain('protocol talker'); // WU_E_PT_UNEXPECTED
    const ok = lookupError('0x00240005'); // WU_S_REBOOT_REQUIRED
    expect(ok.severity).toBe('success');
    expect(ok.facilityCode).toBe(36);
  });

  it('certificate, BITS, CBS and unknown facilities get facility text [wine FACILITY_*]', () => {
    const ca = lookupError('0x800b0112'); // CERT_E_UNTRUSTEDCA, not curated
    expect(ca.facility).toContain('FACILITY_CERT (11)');
    expect(lookupError('0x80200056').facility).toContain('FACILITY_BACKGROUNDCOPY (32)'); // the ReportingEvents sample
    expect(lookupError('0x800f0900').facility).toContain('FACILITY_SETUPAPI (15)');
    expect(lookupError('0x87ff0001').facility).toContain('facility 2047');
    expect(lookupError('0x0').symbol).toBe('S_OK');
    expect(lookupError('0x0').severity).toBe('success');
  });
});

const DOC = path.join(SHARED, 'docs', 'windows-update.md');
const docReason = skipReason(sharedReason());
describe.skipIf(!!docReason)('every code of windows-update.md section 7 [doc]', () => {
  const text = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
  const sec = text.slice(text.indexOf('## 7. Error codes'), text.indexOf('## 8.'));
  const rows = [...sec.matchAll(/^\| (0x[0-9A-Fa-f]{8}) \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);
  it('the table was found', () => {
    expect(rows.length).toBeGreaterThanOrEqual(26);
  });
  it.each(rows)('%s %s', (code, symCol) => {
    const info = lookupError(code);
    expect(info.known).toBe(true);
    const sym = /\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b/.exec(symCol)?.[1];
    if (sym) expect(info.symbol).toBe(sym);
    const num = /\((\d+)\)|HRESULT of (\d+)/.exec(symCol);
    if (num) expect(info.win32?.code).toBe(Number(num[1] ?? num[2]));
  });
});
