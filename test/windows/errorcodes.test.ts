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
import {
  WIN32_ERRORS,
  decodeSetupExtended,
  explainCode,
  hresultFromWin32,
  isKnownError,
  knownErrorCodes,
  lookupError,
  normalizeHresult,
  parseCodeInput,
  splitCodeArgs,
  type CodeRepair,
} from '../../src/formats/errorcodes.js';
import { SHARED, sharedReason, skipReason } from '../helpers/env.js';

const REPAIR_IDS: CodeRepair[] = ['wintrust', 'wu-cache', 'services', 'pending', 'au-pause', 'qualitycompat', 'trust-cert', 'winre', 'wsus-policy', 'wu-hosts'];

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

// ---------------------------------------------------------------------------------------------
// Decoding by facility (issue #16 item 5). Expected names and numbers are copied from public sources:
//   [ntstatus] a public ntstatus.h transcription (NTStatus constants): STATUS_SXS_* 0xC0150001-0xC0150027
//   [cbs]      a public transcription of the Windows SDK CBS_E_/PSFX_E_ values, as signed decimals in a
//              C# switch (-2146498172 = PSFX_E_MATCHING_BINARY_MISSING) and as a C++ switch
//   [wu-doc]   MicrosoftDocs windows-itpro-docs windows/deployment/update/windows-update-error-reference.md
//   [wu-meta]  the win32metadata wuerror.h transcription as signed decimals (WU_E_PT_ENDPOINT_UNREACHABLE = -2145123272)
//   [upgrade]  MicrosoftDocs windows/deployment/upgrade/upgrade-error-codes.md and resolution-procedures.md
//   [cm-doc]   Configuration Manager docs: 3247440400 is the decimal of MOSETUP_E_COMPAT_SCANONLY (0xC1900210)
//   [appx]     learn.microsoft.com app deployment troubleshooting: 0x80073CF9, 0x80073D02
//   [winhttp]  winhttp.h: ERROR_WINHTTP_SECURE_INVALID_CA = WINHTTP_ERROR_BASE + 45
//   [http]     winerror.h: HTTP_E_STATUS_FORBIDDEN 0x80190193
// ---------------------------------------------------------------------------------------------
describe('NTSTATUS: raw and HRESULT_FROM_NT [ntstatus]', () => {
  it('0xD0150004 is HRESULT_FROM_NT(STATUS_SXS_ASSEMBLY_NOT_FOUND), never "facility 4117"', () => {
    const i = lookupError('0xD0150004');
    expect(i.symbol).toBe('STATUS_SXS_ASSEMBLY_NOT_FOUND');
    expect(i.kind).toBe('ntstatus');
    expect(i.ntstatus).toEqual({ code: '0xc0150004', name: 'STATUS_SXS_ASSEMBLY_NOT_FOUND', wrapped: true });
    expect(i.facility).not.toMatch(/facility 4117/);
    expect(i.facility).toContain('HRESULT_FROM_NT');
    expect(i.facility).toContain('SXS');
    expect(i.meaning).toContain('component store');
    expect(i.meaning).not.toContain(i.symbol!); // the report prints symbol and meaning side by side
    expect(i.source).toContain('ntstatus.h');
  });
  const sxs: [number, string][] = [
    [0xc0150001, 'STATUS_SXS_SECTION_NOT_FOUND'],
    [0xc0150002, 'STATUS_SXS_CANT_GEN_ACTCTX'],
    [0xc015000c, 'STATUS_SXS_ASSEMBLY_MISSING'],
    [0xc0150015, 'STATUS_SXS_CORRUPTION'],
    [0xc015001a, 'STATUS_SXS_COMPONENT_STORE_CORRUPT'],
    [0xc015001b, 'STATUS_SXS_FILE_HASH_MISMATCH'],
    [0xc0150020, 'STATUS_ADVANCED_INSTALLER_FAILED'],
    [0xc0150024, 'STATUS_SXS_TRANSACTION_CLOSURE_INCOMPLETE'],
    [0xc0150027, 'STATUS_SXS_FILE_HASH_MISSING'],
  ];
  it.each(sxs)('0x%s raw and wrapped', (status, name) => {
    const raw = lookupError(status);
    expect(raw.symbol).toBe(name);
    expect(raw.ntstatus?.wrapped).toBe(false);
    const wrapped = lookupError((status | 0x10000000) >>> 0);
    expect(wrapped.symbol).toBe(name);
    expect(wrapped.ntstatus).toMatchObject({ code: '0x' + status.toString(16), wrapped: true });
    for (const f of [raw.facility, wrapped.facility]) expect(f).not.toMatch(/facility \d/);
  });
  it('classic NTSTATUS values are named, unknown ones decoded by layout', () => {
    expect(lookupError('0xC0000005').symbol).toBe('STATUS_ACCESS_VIOLATION');
    expect(lookupError('0xC0000022').symbol).toBe('STATUS_ACCESS_DENIED');
    const u = lookupError('0xC0159999');
    expect(u.kind).toBe('ntstatus');
    expect(u.symbol).toBeUndefined();
    expect(u.facility).toContain('SXS');
  });
});

describe('CBS and PSFX [cbs]', () => {
  const signed: [number, string][] = [
    [-2146498172, 'PSFX_E_MATCHING_BINARY_MISSING'],
    [-2146498173, 'PSFX_E_MATCHING_COMPONENT_DIRECTORY_MISSING'],
    [-2146498171, 'PSFX_E_APPLY_REVERSE_DELTA_FAILED'],
    [-2146498170, 'PSFX_E_APPLY_FORWARD_DELTA_FAILED'],
  ];
  it.each(signed)('%i = %s', (n, name) => expect(lookupError(n).symbol).toBe(name));
  const hex: [string, string][] = [
    ['0x800F0816', 'CBS_E_DPX_JOB_STATE_SAVED'],
    ['0x800F081F', 'CBS_E_SOURCE_MISSING'],
    ['0x800F0820', 'CBS_E_CANCEL'],
    ['0x800F0821', 'CBS_E_ABORT'],
    ['0x800F0823', 'CBS_E_NEW_SERVICING_STACK_REQUIRED'],
    ['0x800F0831', 'CBS_E_STORE_CORRUPTION'],
    ['0x800F0805', 'CBS_E_INVALID_PACKAGE'],
    ['0x800F080D', 'CBS_E_MANIFEST_INVALID_ITEM'],
    ['0x800F0900', 'CBS_E_XML_PARSER_FAILURE'],
    ['0x800F0920', 'CBS_E_HANG_DETECTED'],
    ['0x800F0922', 'CBS_E_INSTALLERS_FAILED'],
    ['0x800F0984', 'PSFX_E_MATCHING_BINARY_MISSING'],
  ];
  it.each(hex)('%s = %s, kind cbs, with a source', (code, name) => {
    const i = lookupError(code);
    expect(i.symbol).toBe(name);
    expect(i.kind).toBe('cbs');
    expect(i.source).toMatch(/winerror\.h/);
  });
  it('0x800f0984 and 0x800f0816 (the Setup.evtx failures of the issue) have a cause and a manual step', () => {
    for (const c of ['0x800f0984', '0x800f0816']) {
      const i = lookupError(c);
      expect(i.known, c).toBe(true);
      expect(i.cause?.length, c).toBeGreaterThan(10);
      expect(i.hint?.length, c).toBeGreaterThan(10);
    }
    expect(lookupError('0x800f0984').hint).toContain('RestoreHealth');
  });
});

describe('Windows Update agent names and sub-ranges [wu-doc][wu-meta]', () => {
  const doc: [string, string, RegExp][] = [
    ['0x8024A000', 'WU_E_AU_NOSERVICE', /Automatic Updates/],
    ['0x80243FFF', 'WU_E_AUCLIENT_UNEXPECTED', /UI/],
    ['0x80249005', 'WU_E_INVENTORY_WMI_ERROR', /inventory/],
    ['0x8024E007', 'WU_E_EE_CLUSTER_ERROR', /expression evaluator/],
    ['0x8024F004', 'WU_E_SERVER_BUSY', /reporter/],
    ['0x80245003', 'WU_E_REDIRECTOR_ID_SMALLER', /redirector/],
    ['0x8024400B', 'WU_E_PT_SOAP_VERSION', /protocol talker/],
    ['0x80244019', 'WU_E_PT_HTTP_STATUS_NOT_FOUND', /protocol talker/],
    ['0x80247002', 'WU_E_OL_NEWCLIENT_REQUIRED', /offline scan/],
    ['0x8024D009', 'WU_E_SETUP_SKIP_UPDATE', /agent setup/],
    ['0x8024C001', 'WU_E_DRV_PRUNED', /driver/],
    ['0x80246017', 'WU_E_DM_UNAUTHORIZED_LOCAL_USER', /download manager/],
    ['0x80242006', 'WU_E_UH_INVALIDMETADATA', /update handler/],
  ];
  it.each(doc)('%s = %s', (code, name, sub) => {
    const i = lookupError(code);
    expect(i.symbol).toBe(name);
    expect(i.kind).toBe('windows-update');
    if (!i.known) expect(i.subsystem).toMatch(sub);
    expect(i.facility).toBe('FACILITY_WINDOWSUPDATE (36): Windows Update agent');
  });
  it('signed decimals of the newer 0x802404xx protocol codes', () => {
    expect(lookupError(-2145123272).symbol).toBe('WU_E_PT_ENDPOINT_UNREACHABLE');
    expect(lookupError(-2145123274).symbol).toBe('WU_E_PT_CATALOG_SYNC_REQUIRED');
    expect(lookupError(-2145107915).symbol).toBe('WU_E_PT_ECP_FILE_LOCATION_ERROR');
    expect(lookupError('0x8024044a').subsystem).toContain('protocol talker');
  });
  it('the codes of the brief', () => {
    expect(lookupError('0x80242014').symbol).toBe('WU_E_UH_POSTREBOOTSTILLPENDING');
    expect(lookupError('0x80240017').symbol).toBe('WU_E_NOT_APPLICABLE');
    expect(lookupError('0x80240016').symbol).toBe('WU_E_INSTALL_NOT_ALLOWED');
    expect(lookupError('0x80240438').symbol).toBe('WU_E_PT_ENDPOINT_UNREACHABLE');
    expect(lookupError('0x8024000b').symbol).toBe('WU_E_CALL_CANCELLED');
    expect(lookupError('0x8024001e').symbol).toBe('WU_E_SERVICE_STOP');
    expect(lookupError('0x00240005').symbol).toBe('WU_S_REBOOT_REQUIRED');
  });
});

describe('Windows Setup results and extended codes [upgrade][cm-doc]', () => {
  const mosetup: [string, string][] = [
    ['0xC1900101', 'MOSETUP_E_SETUP_PLATFORM'],
    ['0xC1900107', 'MOSETUP_E_CLEANUP_PENDING'],
    ['0xC1900200', 'MOSETUP_E_COMPAT_SYSREQ_BLOCK'],
    ['0xC1900202', 'MOSETUP_E_COMPAT_DOWNLOADREQ_BLOCK'],
    ['0xC1900204', 'MOSETUP_E_COMPAT_MIGCHOICE_BLOCK'],
    ['0xC1900208', 'MOSETUP_E_COMPAT_INSTALLREQ_BLOCK'],
    ['0xC190020E', 'MOSETUP_E_INSTALLDISKSPACE_BLOCK'],
    ['0xC1900215', 'MOSETUP_E_NO_MATCHING_INSTALL_IMAGE'],
    ['0xC1900405', 'MOSETUP_E_UA_BOX_CRASHED'],
  ];
  it.each(mosetup)('%s = %s, facility named, never "facility 400"', (code, name) => {
    const i = lookupError(code);
    expect(i.symbol).toBe(name);
    expect(i.kind).toBe('setup');
    expect(i.facility).not.toMatch(/facility \d/);
    expect(i.source).toContain('Resolve Windows upgrade errors');
  });
  it('the decimal of MOSETUP_E_COMPAT_SCANONLY [cm-doc]', () => {
    const e = explainCode('3247440400');
    expect(e.info.code).toBe('0xc1900210');
    expect(e.info.symbol).toBe('MOSETUP_E_COMPAT_SCANONLY');
    expect(e.readAs).toBe('decimal');
  });
  // Phase = first digit, operation = last two digits; tables of upgrade-error-codes.md.
  const ext: [number, number, string, number, string][] = [
    [0x4000d, 4, 'SP_EXECUTION_OOBE_BOOT', 0x0d, 'SP_EXECUTION_OP_MIGRATE_DATA'],
    [0x30018, 3, 'SP_EXECUTION_FIRST_BOOT', 0x18, 'SP_EXECUTION_OP_SYSPREP'],
    [0x3000d, 3, 'SP_EXECUTION_FIRST_BOOT', 0x0d, 'SP_EXECUTION_OP_MIGRATE_DATA'],
    [0x2000c, 2, 'SP_EXECUTION_SAFE_OS', 0x0c, 'SP_EXECUTION_OP_APPLY_IMAGE'],
    [0x20017, 2, 'SP_EXECUTION_SAFE_OS', 0x17, 'SP_EXECUTION_OP_BOOT'],
    [0x20004, 2, 'SP_EXECUTION_SAFE_OS', 0x04, 'SP_EXECUTION_OP_INSTALL_RECOVERY_ENVIRONMENT'],
    [0x40017, 4, 'SP_EXECUTION_OOBE_BOOT', 0x17, 'SP_EXECUTION_OP_BOOT'],
    [0x4001e, 4, 'SP_EXECUTION_OOBE_BOOT', 0x1e, 'SP_EXECUTION_OP_PRE_OOBE'],
    [0x50013, 5, 'SP_EXECUTION_UNINSTALL', 0x13, 'SP_EXECUTION_OP_REGISTER_ASYNC_PROCESS'],
    [0x10020, 1, 'SP_EXECUTION_DOWNLEVEL', 0x20, 'SP_EXECUTION_OP_ADD_PROVISIONING_PACKAGE'],
  ];
  it.each(ext)('0x%s: phase %i %s, operation %i %s', (code, phase, phaseName, op, opName) => {
    const x = decodeSetupExtended(code, '0xc1900101');
    expect(x).toMatchObject({ code: '0x' + code.toString(16), phase, phaseName, operation: op, operationName: opName });
  });
  it('the combinations resolution-procedures.md describes carry its cause; others only the decoding', () => {
    for (const c of [0x20004, 0x2000c, 0x20017, 0x30018, 0x3000d, 0x4000d, 0x40017, 0x4001e]) {
      const x = decodeSetupExtended(c, '0xc1900101');
      expect(x.cause, c.toString(16)).toBeDefined();
      expect(x.hint, c.toString(16)).toBeDefined();
    }
    expect(decodeSetupExtended(0x30018, '0xc1900101').cause).toContain('stopped responding');
    expect(decodeSetupExtended(0x50013, '0xc1900101').cause).toBeUndefined();
    expect(decodeSetupExtended(0x4000d, '0x80070005').cause).toBeUndefined();
    expect(decodeSetupExtended(0x70099).operationName).toBeUndefined();
    expect(decodeSetupExtended(0x70099).phaseName).toBe('phase 7');
  });
});

describe('HTTP, WinHTTP, appx and the other codes of the brief', () => {
  it('FACILITY_HTTP carries the HTTP status [http]', () => {
    const i = lookupError('0x80190193');
    expect(i).toMatchObject({ kind: 'http', http: 403, symbol: 'HTTP_E_STATUS_FORBIDDEN' });
    expect(lookupError('0x80190194')).toMatchObject({ http: 404, symbol: 'HTTP_E_STATUS_NOT_FOUND', known: false });
    expect(lookupError('0x801901f7')).toMatchObject({ http: 503, symbol: 'HTTP_E_STATUS_SERVICE_UNAVAIL' });
  });
  it('WinHTTP errors are Win32 12000+ [winhttp]', () => {
    const i = lookupError('0x80072f0d');
    expect(i.win32).toEqual({ code: 12045, name: 'ERROR_WINHTTP_SECURE_INVALID_CA' });
    expect(i.kind).toBe('winhttp');
    expect(lookupError('0x80072ee2').symbol).toBe('ERROR_WINHTTP_TIMEOUT');
  });
  it('Windows Web Services codes the WU agent logs (learn.microsoft.com WS_E_* table: 2151481360 = WS_E_ENDPOINT_UNREACHABLE)', () => {
    expect(explainCode('2151481360').info.symbol).toBe('WS_E_ENDPOINT_UNREACHABLE');
    expect(lookupError('0x803d000d').symbol).toBe('WS_E_ENDPOINT_NOT_FOUND');
    expect(lookupError('0x803d0005').symbol).toBe('WS_E_ENDPOINT_ACCESS_DENIED');
    expect(lookupError('0x803d0010').facility).toContain('FACILITY_WEBSERVICES (61)');
  });
  it('appx and Win32 codes of the brief [appx][wine]', () => {
    expect(lookupError('0x80073cf9').symbol).toBe('ERROR_INSTALL_FAILED');
    expect(lookupError('0x80073d02').symbol).toBe('ERROR_PACKAGES_IN_USE');
    expect(lookupError('0x80070308').win32).toEqual({ code: 776, name: 'ERROR_REQUEST_OUT_OF_SEQUENCE' });
    expect(lookupError('0x800704c7').symbol).toBe('ERROR_CANCELLED');
    expect(lookupError('0x80070032').symbol).toBe('ERROR_NOT_SUPPORTED');
    expect(lookupError('0x80070490').symbol).toBe('ERROR_NOT_FOUND');
    expect(lookupError('0x80080005').symbol).toBe('CO_E_SERVER_EXEC_FAILURE');
  });
  it('every code the brief lists is curated, with a cause or a manual step and a source', () => {
    const brief = [
      '0x800f0984',
      '0x800f0816',
      '0x800f0820',
      '0x80070308',
      '0x80073cf9',
      '0x800f081f',
      '0x80073712',
      '0x800f0831',
      '0x800f0922',
      '0x800f0828',
      '0x80070bc9',
      '0x80242014',
      '0x80240017',
      '0x80073d02',
      '0x80240016',
      '0x800b0101',
      '0x80240438',
      '0x8024402c',
      '0x80072ee2',
      '0x80190193',
      '0x8024000b',
      '0x80070070',
      '0x8024001e',
      '0xc1900101',
      '0xc1900200',
      '0xc1900202',
      '0xc1900208',
      '0xc190020e',
      '0x800704c7',
      '0x80070032',
      '0x80080005',
      '0x80070490',
      '0x800f0805',
      '0x800f080d',
      '0xd0150004',
    ];
    for (const c of brief) {
      const i = lookupError(c);
      expect(i.known, c).toBe(true);
      expect(i.symbol, c).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(i.source, c).toMatch(/winerror\.h|wuerror\.h|ntstatus\.h|winhttp\.h|learn\.microsoft\.com/);
      expect((i.cause ?? '') + (i.hint ?? '') + i.meaning, c).toMatch(/^[\x20-\x7e]+$/);
    }
  });
  it('every curated entry names its source', () => {
    for (const c of knownErrorCodes()) expect(lookupError(c).source, c).toMatch(/winerror\.h|wuerror\.h|ntstatus\.h|winhttp\.h|learn\.microsoft\.com/);
  });
});

describe('what a code says about an attempt (reboot, cancel, not applicable)', () => {
  it('reboot-pending codes never point at a revert', () => {
    for (const c of ['0x80242014', '0x80070bc2', '0xc1900107', '0x00240005']) expect(lookupError(c).result, c).toBe('reboot-pending');
    expect(lookupError('0x80242014').repairs).not.toContain('pending');
    expect(lookupError('0x80242014').hint).toMatch(/[Bb]oot .*once/);
    // 0x80070bc9: a stuck transaction may be reverted, but the hint says SFC/DISM work is not.
    expect(lookupError('0x80070bc9').result).toBe('reboot-pending');
    expect(lookupError('0x80070bc9').hint).toMatch(/SFC\/DISM/);
  });
  it('cancelled and not-applicable', () => {
    for (const c of ['0x800704c7', '0x8024000b', '0x800f0820']) expect(lookupError(c).result, c).toBe('cancelled');
    for (const c of ['0x80240017', '0x800f081e']) expect(lookupError(c).result, c).toBe('not-applicable');
    expect(lookupError('0x800f0984').result).toBeUndefined();
  });
});

describe('no bare facility number for a known facility', () => {
  it('across every family', () => {
    const codes = [
      '0xd0150004',
      '0x90150004',
      '0xc0000005',
      '0xc1900101',
      '0xc19001df',
      '0x80070643',
      '0x80244019',
      '0x800f0984',
      '0x80190193',
      '0x800b0109',
      '0x80200053',
    ];
    for (const c of codes) expect(lookupError(c).facility, c).not.toMatch(/^facility \d|facility \d{3,}/);
  });
});

describe('explain input: what technicians type [err.exe forms]', () => {
  it('single codes in every documented form', () => {
    expect(parseCodeInput('0x800F0984')).toEqual({ value: 0x800f0984, readAs: 'hex' });
    expect(parseCodeInput('800f0984')).toEqual({ value: 0x800f0984, readAs: 'hex (no 0x)' });
    expect(parseCodeInput('80070643')).toEqual({ value: 0x80070643, readAs: 'hex (no 0x)' });
    expect(parseCodeInput('-2146498548')).toEqual({ value: 0x800f080c, readAs: 'signed decimal' });
    expect(parseCodeInput('1603')).toEqual({ value: 0x80070643, readAs: 'decimal Win32 error' });
    expect(parseCodeInput('3247440400')).toEqual({ value: 0xc1900210, readAs: 'decimal' });
    expect(parseCodeInput('0')).toEqual({ value: 0, readAs: 'decimal' });
  });
  it('a setup result with its extended code', () => {
    for (const s of ['0xC1900101-0x4000D', '0xC1900101 - 0x4000D', '0xC1900101, 0x4000D', '0xc1900101-4000d', 'C1900101-0x4000D']) {
      expect(parseCodeInput(s), s).toEqual({ value: 0xc1900101, readAs: s.startsWith('0x') ? 'hex' : 'hex (no 0x)', extended: 0x4000d });
    }
    expect(parseCodeInput('0x8007042B - 0x4000D')?.extended).toBe(0x4000d);
  });
  it('refuses what is not a code', () => {
    for (const bad of [
      '',
      'zzz',
      '0x',
      '0x123456789',
      '12g4',
      '-',
      '--5',
      '0xC1900101-0x1234567',
      '0x00000000-0x4000D',
      '99999999999',
      '-2147483649',
      '1.5',
      '0x8007 0643',
    ]) {
      expect(parseCodeInput(bad), bad).toBeUndefined();
      expect(() => explainCode(bad), bad).toThrow(BadInputError);
    }
    try {
      explainCode('zzz');
    } catch (e) {
      expect((e as BadInputError).code).toBe('bad-error-code');
      expect((e as BadInputError).message).not.toContain('\n');
    }
  });
  it('splits command-line words into codes', () => {
    expect(splitCodeArgs(['0xC1900101', '-', '0x4000D', '0xD0150004'])).toEqual(['0xC1900101 - 0x4000D', '0xD0150004']);
    expect(splitCodeArgs(['0xC1900101,', '0x30018'])).toEqual(['0xC1900101, 0x30018']);
    expect(splitCodeArgs(['0xC1900101, 0x30018', '1603'])).toEqual(['0xC1900101, 0x30018', '1603']);
    expect(splitCodeArgs(['0x800f0984,', '0x80070002'])).toEqual(['0x800f0984', '0x80070002']);
    expect(splitCodeArgs(['0xC1900101-0x4000D'])).toEqual(['0xC1900101-0x4000D']);
    expect(splitCodeArgs(['-2146498548'])).toEqual(['-2146498548']);
  });
  it('explainCode ties the extended part to its result', () => {
    const e = explainCode('0xC1900101 - 0x4000D');
    expect(e.info.symbol).toBe('MOSETUP_E_SETUP_PLATFORM');
    expect(e.extended).toMatchObject({ phase: 4, operation: 0x0d, phaseName: 'SP_EXECUTION_OOBE_BOOT' });
    expect(e.extended?.cause).toContain('second boot');
  });
});

describe('the scan report prints "code  SYMBOL: meaning"', () => {
  it('no meaning repeats its symbol (curated, and decoded by facility except Win32)', () => {
    const generic = ['0x8024800c', '0x800f0901', '0xc1900213', '0xc0000022', '0xd0150001', '0x80190194', '0x00240005'];
    for (const c of [...knownErrorCodes(), ...generic]) {
      const i = lookupError(c);
      if (i.symbol) expect(i.meaning, c).not.toContain(i.symbol);
    }
  });
});
