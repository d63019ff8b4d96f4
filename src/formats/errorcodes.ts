// Error-code knowledge for `wufix scan`: every code of windows-update.md §7 with its symbol, meaning
// and the wufix repair(s) that address it, plus a generic HRESULT decoder (severity, facility,
// Win32 error names) for everything else. Pure data and functions; no I/O.
//
// Sources (numbers checked against them while writing this file):
// - Win32 ERROR_* numbers and FACILITY_* numbers: wine-mirror/wine include/winerror.h and
//   mingw-w64/mingw-w64 mingw-w64-headers/include/winerror.h (ERROR_FAIL_REBOOT_REQUIRED 3017,
//   ERROR_SXS_* 14xxx and ERROR_EVT_CONFIGURATION_ERROR 15010 are only in the mingw-w64 copy).
// - TRUST_E_* / CERT_E_* / CRYPT_E_*: the FACILITY_CERT / FACILITY_SECURITY part of winerror.h.
// - WU_E_*: wuerror.h constants (transcribed copies: 0x8024xxxx values of the WU agent).
// - CBS_E_*: windows-update.md §7 (Windows SDK winerror.h; not in the public mingw/wine copies).
// - ERROR_WINHTTP_*: winhttp.h (WINHTTP_ERROR_BASE 12000).
// Repair mapping: windows-update.md §1-§7 and winre.md §1; where the doc leaves a choice, the
// reasoning is written next to the entry ("context decides" = the scan picks by other evidence).
import type { RepairId } from '../model/ids.js';
import { BadInputError } from '../shared/errors.js';

/** Repair ids a finding can point at (one module per repair under src/repairs). */
/** A repair an error code points to: a wufix repair, or 'wsus-policy' (fix the WSUS settings by hand). */
export type CodeRepair = RepairId | 'wsus-policy';

export interface ErrorInfo {
  /** '0x80070643': lowercase, 8 hex digits. */
  code: string;
  /** Symbolic name (ERROR_INSTALL_FAILURE, WU_E_DOWNLOAD_FAILED, ...) when known. */
  symbol?: string;
  /** One sentence: what the code means (plain words, ASCII). */
  meaning: string;
  /** Repair ids that fix it, most likely first; empty when no wufix repair applies. */
  repairs: CodeRepair[];
  /** What usually causes it / what to check (windows-update.md §7 "Usual cause / fix"). */
  hint?: string;
  /** Facility text, e.g. 'FACILITY_WIN32 (7)'. */
  facility?: string;
  /** Facility number (bits 16-28). */
  facilityCode: number;
  /** Severity bit: 'error' (bit 31 set) or 'success'. */
  severity: 'success' | 'error';
  /** For FACILITY_WIN32 codes: the Win32 error inside. */
  win32?: { code: number; name?: string };
  /** True when the code is in the curated table (has a specific meaning and repair list). */
  known: boolean;
}

interface KnownEntry {
  symbol?: string;
  meaning: string;
  repairs: CodeRepair[];
  hint?: string;
}

// ---------------------------------------------------------------------------------------------
// Curated table: windows-update.md §7 first (all of it), then other codes the scan meets often.
// ---------------------------------------------------------------------------------------------
const KNOWN: Record<number, KnownEntry> = {
  // --- windows-update.md §7 ---
  0x80070643: {
    symbol: 'ERROR_INSTALL_FAILURE',
    meaning: 'Fatal error during installation (MSI/.NET/WinRE servicing returned 1603).',
    // Context decides: .NET/MSI setup logs with a trust failure -> wintrust (§1, KB2656368);
    // the WinRE update KB5034441/KB5034439/KB5034440 -> winre (winre.md §1: 250 MB free needed).
    repairs: ['wintrust', 'winre'],
    hint: 'Read the setup logs; for .NET check the WinTrust State; for KB5034441/KB5034439 check the WinRE partition free space.',
  },
  0x800b010b: {
    symbol: 'TRUST_E_FAIL',
    meaning: 'Generic trust failure while verifying a signature.',
    repairs: ['wintrust'],
    hint: 'WinTrust State of the LocalSystem hive, root certificates, CRL reachability.',
  },
  0x800b010e: {
    symbol: 'CERT_E_REVOCATION_FAILURE',
    meaning: 'The revocation status of a certificate could not be checked.',
    repairs: ['wintrust'],
    hint: 'Offline-OK bits of the WinTrust State, proxy, clock.',
  },
  0x800b0100: {
    symbol: 'TRUST_E_NOSIGNATURE',
    meaning: 'No signature was present in the subject.',
    // A corrupt .cat in catroot2 is rebuilt by the cache reset (catroot2 rename, §2).
    repairs: ['wu-cache'],
    hint: 'Corrupt .cat in servicing\\Packages or catroot2.',
  },
  0x800b0101: {
    symbol: 'CERT_E_EXPIRED',
    meaning: 'A required certificate is not within its validity period.',
    repairs: [],
    hint: 'Expired certificate or wrong system clock.',
  },
  0x800b0109: {
    symbol: 'CERT_E_UNTRUSTEDROOT',
    meaning: 'A certificate chain terminated in a root certificate that is not trusted.',
    // WSUS locally published updates -> trust-cert (§6); State=0x40000 (ALLOWONLYPERTRUST) in
    // the LocalSystem hive also gives it (§1 "Why it matters") -> wintrust. Context decides.
    repairs: ['trust-cert', 'wintrust'],
    hint: 'Add the signing root (and TrustedPublisher + AcceptTrustedPublisherCerts for WSUS third-party updates).',
  },
  0x800b010a: {
    symbol: 'CERT_E_CHAINING',
    meaning: 'A certificate chain could not be built to a trusted root.',
    repairs: ['trust-cert'],
    hint: 'Missing intermediate or root certificate; root auto-update blocked.',
  },
  0x800b010c: {
    symbol: 'CERT_E_REVOKED',
    meaning: 'A certificate was explicitly revoked by its issuer.',
    repairs: [],
    hint: 'Revoked certificate; Disallowed store or CTL.',
  },
  0x80073aa2: {
    symbol: 'ERROR_EVT_CONFIGURATION_ERROR',
    meaning: 'Event log configuration error (Win32 15010) during the install; the update rolled back.',
    // Rollback loop (§4): revert the pending transaction and stop the re-offer.
    repairs: ['pending', 'au-pause'],
    hint: 'Event-log publisher/manifest problem; revert pending actions, pause automatic updates, reinstall.',
  },
  0x800f0922: {
    symbol: 'CBS_E_INSTALLERS_FAILED',
    meaning: 'A servicing advanced installer failed and the package was rolled back.',
    // §3: a disabled service (HTTP Start=4) is the cause wufix can fix offline.
    repairs: ['services'],
    hint: 'Disabled service (HTTP), too small system reserved partition, VPN.',
  },
  0x800f081f: {
    symbol: 'CBS_E_SOURCE_MISSING',
    meaning: 'The source files for the package or file were not found.',
    repairs: [],
    hint: 'DISM /RestoreHealth /Source.',
  },
  0x800f0831: {
    symbol: 'CBS_E_STORE_CORRUPTION',
    meaning: 'The component store is corrupt (a prerequisite package is missing).',
    repairs: [],
    hint: 'DISM /RestoreHealth; install the prerequisite SSU/LCU.',
  },
  0x80070002: {
    symbol: 'ERROR_FILE_NOT_FOUND',
    meaning: 'The system cannot find the file specified.',
    repairs: ['wu-cache'],
    hint: 'Reset SoftwareDistribution; read CBS.log.',
  },
  0x80070005: {
    symbol: 'E_ACCESSDENIED',
    meaning: 'Access is denied.',
    repairs: [],
    hint: 'ACLs; search CBS.log for ", error".',
  },
  0x80070422: {
    symbol: 'ERROR_SERVICE_DISABLED',
    meaning: 'The service cannot be started because it is disabled.',
    repairs: ['services'],
    hint: 'wuauserv (or BITS) has Start=4.',
  },
  0x80070bc9: {
    symbol: 'ERROR_FAIL_REBOOT_REQUIRED',
    meaning: 'The operation failed; a reboot is required to roll back the changes.',
    // §4 Microsoft escalation: TrustedInstaller automatic + RevertPendingActions (pending repair).
    repairs: ['pending', 'au-pause'],
    hint: 'Stuck post-reboot transaction (windows-update.md section 4).',
  },
  0x8024402c: {
    symbol: 'WU_E_PT_WINHTTP_NAME_NOT_RESOLVED',
    meaning: 'The proxy or update server name could not be resolved.',
    repairs: ['wsus-policy'],
    hint: 'Proxy/DNS; stale WUServer + UseWUServer=1 off the corporate network.',
  },
  0x80244022: {
    symbol: 'WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL',
    meaning: 'The update server answered HTTP 503 (service unavailable).',
    repairs: ['wsus-policy'],
    hint: 'WSUS application pool, proxy, or a stale WUServer policy.',
  },
  0x80240034: {
    symbol: 'WU_E_DOWNLOAD_FAILED',
    meaning: 'The update failed to download.',
    repairs: ['wu-cache'],
    hint: 'BITS/proxy; reset SoftwareDistribution.',
  },
  0x8024200d: {
    symbol: 'WU_E_UH_NEEDANOTHERDOWNLOAD',
    meaning: 'The update handler needs the update to be downloaded again.',
    repairs: ['wu-cache'],
    hint: 'Clear SoftwareDistribution\\Download.',
  },
  0x80242016: {
    symbol: 'WU_E_UH_POSTREBOOTUNEXPECTEDSTATE',
    meaning: 'The update was in an unexpected state after its post-reboot operation.',
    repairs: ['pending', 'au-pause'],
    hint: 'Revert pending actions, rescan.',
  },
  0x80070020: {
    symbol: 'ERROR_SHARING_VIOLATION',
    meaning: 'The file is being used by another process.',
    repairs: [],
    hint: 'Antivirus filter drivers; an offline repair avoids it.',
  },
  0x80073712: {
    symbol: 'ERROR_SXS_COMPONENT_STORE_CORRUPT',
    meaning: 'The component store is in an inconsistent state.',
    repairs: [],
    hint: 'DISM /RestoreHealth.',
  },
  0x800705b4: {
    symbol: 'ERROR_TIMEOUT',
    meaning: 'The operation returned because the timeout period expired.',
    repairs: [],
    hint: 'WSUS, proxy, antivirus or time synchronisation.',
  },
  0x8007000d: {
    symbol: 'ERROR_INVALID_DATA',
    meaning: 'The data is invalid (corrupt download).',
    repairs: ['wu-cache'],
    hint: 'Corrupt download; reset SoftwareDistribution to download again.',
  },
  0xc1900101: {
    meaning: 'Windows Setup rolled back the feature update (generic rollback, usually a driver).',
    repairs: [],
    hint: 'Read $WINDOWS.~BT\\Sources\\Panther\\setupact.log.',
  },

  // --- other codes the scan meets (judgment; documented) ---
  0x80004005: { symbol: 'E_FAIL', meaning: 'Unspecified error.', repairs: [] },
  0x8000ffff: { symbol: 'E_UNEXPECTED', meaning: 'Catastrophic failure (unexpected error).', repairs: [] },
  0x80004004: { symbol: 'E_ABORT', meaning: 'The operation was aborted.', repairs: [] },
  0x80070057: { symbol: 'E_INVALIDARG', meaning: 'The parameter is incorrect.', repairs: [] },
  0x8007000e: { symbol: 'E_OUTOFMEMORY', meaning: 'Not enough memory resources are available.', repairs: [] },
  0x80070003: { symbol: 'ERROR_PATH_NOT_FOUND', meaning: 'The system cannot find the path specified.', repairs: ['wu-cache'] },
  0x80070070: { symbol: 'ERROR_DISK_FULL', meaning: 'There is not enough space on the disk.', repairs: [] },
  0x80070641: {
    symbol: 'ERROR_INSTALL_SERVICE_FAILURE',
    meaning: 'The Windows Installer service could not be accessed.',
    repairs: ['services'],
    hint: 'msiserver disabled (Start=4).',
  },
  0x80070652: {
    symbol: 'ERROR_INSTALL_ALREADY_RUNNING',
    meaning: 'Another installation is already in progress.',
    repairs: ['pending'],
    hint: 'A pending or hung installation; check the pending-servicing markers.',
  },
  0x80070bc2: {
    symbol: 'ERROR_SUCCESS_REBOOT_REQUIRED',
    meaning: 'The install succeeded; a reboot is required to complete it.',
    repairs: [],
  },
  0x80073701: { symbol: 'ERROR_SXS_ASSEMBLY_MISSING', meaning: 'A referenced assembly could not be found.', repairs: [], hint: 'DISM /RestoreHealth.' },
  0x800736b3: { symbol: 'ERROR_SXS_ASSEMBLY_NOT_FOUND', meaning: 'The referenced assembly is not installed.', repairs: [] },
  0x8007371b: {
    symbol: 'ERROR_SXS_TRANSACTION_CLOSURE_INCOMPLETE',
    meaning: 'One or more required members of the servicing transaction are not present.',
    repairs: [],
    hint: 'DISM /RestoreHealth.',
  },
  0x80073713: { symbol: 'ERROR_ADVANCED_INSTALLER_FAILED', meaning: 'An advanced installer failed during setup or servicing.', repairs: ['services'] },
  0x800f0906: { symbol: 'CBS_E_DOWNLOAD_FAILURE', meaning: 'The source files could not be downloaded.', repairs: [] },
  0x800f0823: {
    symbol: 'CBS_E_NEW_SERVICING_STACK_REQUIRED',
    meaning: 'The package needs a newer servicing stack.',
    repairs: [],
    hint: 'Install the servicing stack update first.',
  },
  0x800b0004: { symbol: 'TRUST_E_SUBJECT_NOT_TRUSTED', meaning: 'The subject is not trusted for the specified action.', repairs: ['wintrust'] },
  0x800b0111: { symbol: 'TRUST_E_EXPLICIT_DISTRUST', meaning: 'The certificate was explicitly marked as untrusted.', repairs: [] },
  0x80096010: { symbol: 'TRUST_E_BAD_DIGEST', meaning: "The object's digest did not verify (corrupt file).", repairs: ['wu-cache'] },
  0x80096004: { symbol: 'TRUST_E_CERT_SIGNATURE', meaning: 'The signature of the certificate cannot be verified.', repairs: ['trust-cert'] },
  0x80092013: {
    symbol: 'CRYPT_E_REVOCATION_OFFLINE',
    meaning: 'The revocation server was offline.',
    repairs: ['wintrust'],
    hint: 'Offline-OK bits of the WinTrust State.',
  },
  0x80092010: { symbol: 'CRYPT_E_REVOKED', meaning: 'The certificate is revoked.', repairs: [] },
  0x8024001e: { symbol: 'WU_E_SERVICE_STOP', meaning: 'The operation did not complete because the service or system was shutting down.', repairs: [] },
  0x80240022: { symbol: 'WU_E_ALL_UPDATES_FAILED', meaning: 'The operation failed for all the updates.', repairs: [] },
  0x80240016: {
    symbol: 'WU_E_INSTALL_NOT_ALLOWED',
    meaning: 'Install attempted while another installation was running or a mandatory restart was pending.',
    repairs: ['pending'],
  },
  0x8024002e: {
    symbol: 'WU_E_WU_DISABLED',
    meaning: 'Access to an unmanaged server is not allowed (policy).',
    repairs: ['wsus-policy'],
  },
  0x8024002f: {
    symbol: 'WU_E_CALL_CANCELLED_BY_POLICY',
    meaning: 'The operation did not complete because the DisableWindowsUpdateAccess policy was set.',
    repairs: ['wsus-policy'],
  },
  0x80244011: {
    symbol: 'WU_E_PT_SUS_SERVER_NOT_SET',
    meaning: 'The WUServer policy value is missing although WSUS use is configured.',
    repairs: ['wsus-policy'],
  },
  0x80244017: { symbol: 'WU_E_PT_HTTP_STATUS_DENIED', meaning: 'The update server answered HTTP 401 (authentication required).', repairs: [] },
  0x80244018: { symbol: 'WU_E_PT_HTTP_STATUS_FORBIDDEN', meaning: 'The update server answered HTTP 403 (forbidden).', repairs: [] },
  0x8024401b: { symbol: 'WU_E_PT_HTTP_STATUS_PROXY_AUTH_REQ', meaning: 'The proxy requires authentication (HTTP 407).', repairs: [] },
  0x8024401c: { symbol: 'WU_E_PT_HTTP_STATUS_REQUEST_TIMEOUT', meaning: 'The server timed out waiting for the request (HTTP 408).', repairs: [] },
  0x8024401f: { symbol: 'WU_E_PT_HTTP_STATUS_SERVER_ERROR', meaning: 'The update server answered HTTP 500.', repairs: [] },
  0x8024402f: { symbol: 'WU_E_PT_ECP_SUCCEEDED_WITH_ERRORS', meaning: 'External cab file processing completed with some errors.', repairs: [] },
  0x80246007: { symbol: 'WU_E_DM_NOTDOWNLOADED', meaning: 'The update has not been downloaded.', repairs: ['wu-cache'] },
  0x80246008: {
    symbol: 'WU_E_DM_FAILTOCONNECTTOBITS',
    meaning: 'The download manager could not connect to BITS.',
    repairs: ['services'],
    hint: 'BITS disabled or its security descriptor broken.',
  },
  0x80248007: { symbol: 'WU_E_DS_NODATA', meaning: 'The information requested is not in the data store.', repairs: ['wu-cache'] },
  0x8024a000: { symbol: 'WU_E_AU_NOSERVICE', meaning: 'Automatic Updates was unable to service incoming requests.', repairs: ['services'] },
  0x80242014: { symbol: 'WU_E_UH_POSTREBOOTSTILLPENDING', meaning: 'The post-reboot operation for the update is still in progress.', repairs: ['pending'] },
  0x8024200b: { symbol: 'WU_E_UH_INSTALLERFAILURE', meaning: 'The update handler failed to install the update (see CBS.log).', repairs: [] },
  0x80072ee2: { symbol: 'ERROR_WINHTTP_TIMEOUT', meaning: 'The connection to the update server timed out.', repairs: [] },
  0x80072ee7: {
    symbol: 'ERROR_WINHTTP_NAME_NOT_RESOLVED',
    meaning: 'The server name could not be resolved.',
    repairs: ['wsus-policy'],
    hint: 'DNS/proxy, or a stale WUServer policy.',
  },
  0x80072efd: {
    symbol: 'ERROR_WINHTTP_CANNOT_CONNECT',
    meaning: 'The connection to the server could not be established.',
    repairs: ['wsus-policy'],
    hint: 'Firewall/proxy, or a stale WUServer policy.',
  },
  0x80072efe: { symbol: 'ERROR_WINHTTP_CONNECTION_ERROR', meaning: 'The connection with the server was terminated abnormally.', repairs: [] },
  0x80072f8f: {
    symbol: 'ERROR_WINHTTP_SECURE_FAILURE',
    meaning: 'A TLS/certificate error occurred talking to the server.',
    repairs: ['trust-cert'],
    hint: 'Wrong clock, missing root certificate, TLS settings.',
  },
};

// ---------------------------------------------------------------------------------------------
// Win32 error names (winerror.h). Compact "number NAME" list; 'ERROR_' is added unless the name
// already carries another prefix (WAIT_TIMEOUT, RPC_S_*, EPT_S_*).
// ---------------------------------------------------------------------------------------------
const WIN32_LIST = `
0 SUCCESS|1 INVALID_FUNCTION|2 FILE_NOT_FOUND|3 PATH_NOT_FOUND|4 TOO_MANY_OPEN_FILES|5 ACCESS_DENIED|
6 INVALID_HANDLE|7 ARENA_TRASHED|8 NOT_ENOUGH_MEMORY|9 INVALID_BLOCK|10 BAD_ENVIRONMENT|11 BAD_FORMAT|
12 INVALID_ACCESS|13 INVALID_DATA|14 OUTOFMEMORY|15 INVALID_DRIVE|16 CURRENT_DIRECTORY|17 NOT_SAME_DEVICE|
18 NO_MORE_FILES|19 WRITE_PROTECT|20 BAD_UNIT|21 NOT_READY|22 BAD_COMMAND|23 CRC|24 BAD_LENGTH|25 SEEK|
26 NOT_DOS_DISK|27 SECTOR_NOT_FOUND|29 WRITE_FAULT|30 READ_FAULT|31 GEN_FAILURE|32 SHARING_VIOLATION|
33 LOCK_VIOLATION|34 WRONG_DISK|36 SHARING_BUFFER_EXCEEDED|38 HANDLE_EOF|39 HANDLE_DISK_FULL|
50 NOT_SUPPORTED|51 REM_NOT_LIST|52 DUP_NAME|53 BAD_NETPATH|54 NETWORK_BUSY|55 DEV_NOT_EXIST|
58 BAD_NET_RESP|59 UNEXP_NET_ERR|64 NETNAME_DELETED|65 NETWORK_ACCESS_DENIED|67 BAD_NET_NAME|
80 FILE_EXISTS|82 CANNOT_MAKE|85 ALREADY_ASSIGNED|86 INVALID_PASSWORD|87 INVALID_PARAMETER|
88 NET_WRITE_FAULT|109 BROKEN_PIPE|110 OPEN_FAILED|111 BUFFER_OVERFLOW|112 DISK_FULL|
114 INVALID_TARGET_HANDLE|120 CALL_NOT_IMPLEMENTED|121 SEM_TIMEOUT|122 INSUFFICIENT_BUFFER|
123 INVALID_NAME|124 INVALID_LEVEL|126 MOD_NOT_FOUND|127 PROC_NOT_FOUND|128 WAIT_NO_CHILDREN|
142 BUSY_DRIVE|145 DIR_NOT_EMPTY|148 PATH_BUSY|158 NOT_LOCKED|160 BAD_ARGUMENTS|161 BAD_PATHNAME|
167 LOCK_FAILED|170 BUSY|183 ALREADY_EXISTS|193 BAD_EXE_FORMAT|203 ENVVAR_NOT_FOUND|
206 FILENAME_EXCED_RANGE|216 EXE_MACHINE_TYPE_MISMATCH|222 BAD_FILE_TYPE|223 FILE_TOO_LARGE|
225 VIRUS_INFECTED|226 VIRUS_DELETED|230 BAD_PIPE|231 PIPE_BUSY|232 NO_DATA|233 PIPE_NOT_CONNECTED|
234 MORE_DATA|258 =WAIT_TIMEOUT|259 NO_MORE_ITEMS|266 CANNOT_COPY|267 DIRECTORY|275 EAS_DIDNT_FIT|
282 EAS_NOT_SUPPORTED|298 TOO_MANY_POSTS|299 PARTIAL_COPY|303 DELETE_PENDING|317 MR_MID_NOT_FOUND|
487 INVALID_ADDRESS|534 ARITHMETIC_OVERFLOW|535 PIPE_CONNECTED|536 PIPE_LISTENING|
574 UNHANDLED_EXCEPTION|575 APP_INIT_FAILURE|577 INVALID_IMAGE_HASH|589 CANNOT_LOAD_REGISTRY_FILE|
634 CORRUPT_SYSTEM_FILE|637 SYSTEM_IMAGE_BAD_SIGNATURE|638 PNP_REBOOT_REQUIRED|641 SYSTEM_SHUTDOWN|
653 SYSTEM_HIVE_TOO_LARGE|665 FILE_SYSTEM_LIMITATION|668 ASSERTION_FAILURE|685 REGISTRY_HIVE_RECOVERED|
740 ELEVATION_REQUIRED|741 REPARSE|995 OPERATION_ABORTED|996 IO_INCOMPLETE|997 IO_PENDING|998 NOACCESS|
999 SWAPERROR|1001 STACK_OVERFLOW|1004 INVALID_FLAGS|1005 UNRECOGNIZED_VOLUME|1006 FILE_INVALID|
1009 BADDB|1010 BADKEY|1011 CANTOPEN|1012 CANTREAD|1013 CANTWRITE|1014 REGISTRY_RECOVERED|
1015 REGISTRY_CORRUPT|1016 REGISTRY_IO_FAILED|1017 NOT_REGISTRY_FILE|1018 KEY_DELETED|1019 NO_LOG_SPACE|
1020 KEY_HAS_CHILDREN|1051 DEPENDENT_SERVICES_RUNNING|1052 INVALID_SERVICE_CONTROL|
1053 SERVICE_REQUEST_TIMEOUT|1054 SERVICE_NO_THREAD|1055 SERVICE_DATABASE_LOCKED|
1056 SERVICE_ALREADY_RUNNING|1057 INVALID_SERVICE_ACCOUNT|1058 SERVICE_DISABLED|1059 CIRCULAR_DEPENDENCY|
1060 SERVICE_DOES_NOT_EXIST|1061 SERVICE_CANNOT_ACCEPT_CTRL|1062 SERVICE_NOT_ACTIVE|
1063 FAILED_SERVICE_CONTROLLER_CONNECT|1064 EXCEPTION_IN_SERVICE|1065 DATABASE_DOES_NOT_EXIST|
1066 SERVICE_SPECIFIC_ERROR|1067 PROCESS_ABORTED|1068 SERVICE_DEPENDENCY_FAIL|1069 SERVICE_LOGON_FAILED|
1070 SERVICE_START_HANG|1071 INVALID_SERVICE_LOCK|1072 SERVICE_MARKED_FOR_DELETE|1073 SERVICE_EXISTS|
1075 SERVICE_DEPENDENCY_DELETED|1077 SERVICE_NEVER_STARTED|1079 DIFFERENT_SERVICE_ACCOUNT|
1110 MEDIA_CHANGED|1112 NO_MEDIA_IN_DRIVE|1113 NO_UNICODE_TRANSLATION|1114 DLL_INIT_FAILED|
1115 SHUTDOWN_IN_PROGRESS|1116 NO_SHUTDOWN_IN_PROGRESS|1117 IO_DEVICE|1130 NOT_ENOUGH_SERVER_MEMORY|
1150 OLD_WIN_VERSION|1155 NO_ASSOCIATION|1157 DLL_NOT_FOUND|1167 DEVICE_NOT_CONNECTED|1168 NOT_FOUND|
1169 NO_MATCH|1175 UNABLE_TO_REMOVE_REPLACED|1176 UNABLE_TO_MOVE_REPLACEMENT|
1177 UNABLE_TO_MOVE_REPLACEMENT_2|1200 BAD_DEVICE|1203 NO_NET_OR_BAD_PATH|1208 EXTENDED_ERROR|
1219 SESSION_CREDENTIAL_CONFLICT|1222 NO_NETWORK|1223 CANCELLED|1224 USER_MAPPED_FILE|
1225 CONNECTION_REFUSED|1226 GRACEFUL_DISCONNECT|1231 NETWORK_UNREACHABLE|1232 HOST_UNREACHABLE|
1235 REQUEST_ABORTED|1236 CONNECTION_ABORTED|1237 RETRY|1243 SERVICE_NOT_FOUND|1244 NOT_AUTHENTICATED|
1245 NOT_LOGGED_ON|1246 CONTINUE|1247 ALREADY_INITIALIZED|1256 HOST_DOWN|1260 ACCESS_DISABLED_BY_POLICY|
1265 DOWNGRADE_DETECTED|1275 DRIVER_BLOCKED|1300 NOT_ALL_ASSIGNED|1305 UNKNOWN_REVISION|1307 INVALID_OWNER|
1314 PRIVILEGE_NOT_HELD|1315 INVALID_ACCOUNT_NAME|1317 NO_SUCH_USER|1323 WRONG_PASSWORD|1326 LOGON_FAILURE|
1327 ACCOUNT_RESTRICTION|1330 PASSWORD_EXPIRED|1331 ACCOUNT_DISABLED|1332 NONE_MAPPED|1336 INVALID_ACL|
1337 INVALID_SID|1338 INVALID_SECURITY_DESCR|1355 NO_SUCH_DOMAIN|1358 INTERNAL_DB_CORRUPTION|
1359 INTERNAL_ERROR|1392 FILE_CORRUPT|1393 DISK_CORRUPT|1398 TIME_SKEW|1450 NO_SYSTEM_RESOURCES|
1453 WORKING_SET_QUOTA|1455 COMMITMENT_LIMIT|1460 TIMEOUT|1465 XML_PARSE_ERROR|1466 XMLDSIG_ERROR|
1467 RESTART_APPLICATION|1500 EVENTLOG_FILE_CORRUPT|1501 EVENTLOG_CANT_START|1502 LOG_FILE_FULL|
1601 INSTALL_SERVICE_FAILURE|1602 INSTALL_USEREXIT|1603 INSTALL_FAILURE|1604 INSTALL_SUSPEND|
1605 UNKNOWN_PRODUCT|1606 UNKNOWN_FEATURE|1607 UNKNOWN_COMPONENT|1608 UNKNOWN_PROPERTY|
1609 INVALID_HANDLE_STATE|1610 BAD_CONFIGURATION|1611 INDEX_ABSENT|1612 INSTALL_SOURCE_ABSENT|
1613 INSTALL_PACKAGE_VERSION|1614 PRODUCT_UNINSTALLED|1615 BAD_QUERY_SYNTAX|1616 INVALID_FIELD|
1617 DEVICE_REMOVED|1618 INSTALL_ALREADY_RUNNING|1619 INSTALL_PACKAGE_OPEN_FAILED|
1620 INSTALL_PACKAGE_INVALID|1621 INSTALL_UI_FAILURE|1622 INSTALL_LOG_FAILURE|
1623 INSTALL_LANGUAGE_UNSUPPORTED|1624 INSTALL_TRANSFORM_FAILURE|1625 INSTALL_PACKAGE_REJECTED|
1626 FUNCTION_NOT_CALLED|1627 FUNCTION_FAILED|1628 INVALID_TABLE|1629 DATATYPE_MISMATCH|
1630 UNSUPPORTED_TYPE|1631 CREATE_FAILED|1632 INSTALL_TEMP_UNWRITABLE|1633 INSTALL_PLATFORM_UNSUPPORTED|
1634 INSTALL_NOTUSED|1635 PATCH_PACKAGE_OPEN_FAILED|1636 PATCH_PACKAGE_INVALID|
1637 PATCH_PACKAGE_UNSUPPORTED|1638 PRODUCT_VERSION|1639 INVALID_COMMAND_LINE|
1640 INSTALL_REMOTE_DISALLOWED|1641 SUCCESS_REBOOT_INITIATED|1642 PATCH_TARGET_NOT_FOUND|
1643 PATCH_PACKAGE_REJECTED|1644 INSTALL_TRANSFORM_REJECTED|1645 INSTALL_REMOTE_PROHIBITED|
1646 PATCH_REMOVAL_UNSUPPORTED|1647 UNKNOWN_PATCH|1648 PATCH_NO_SEQUENCE|1649 PATCH_REMOVAL_DISALLOWED|
1650 INVALID_PATCH_XML|1651 PATCH_MANAGED_ADVERTISED_PRODUCT|1652 INSTALL_SERVICE_SAFEBOOT|
1653 FAIL_FAST_EXCEPTION|1654 INSTALL_REJECTED|1722 =RPC_S_SERVER_UNAVAILABLE|1723 =RPC_S_SERVER_TOO_BUSY|
1726 =RPC_S_CALL_FAILED|1727 =RPC_S_CALL_FAILED_DNE|1753 =EPT_S_NOT_REGISTERED|1790 TRUST_FAILURE|
1816 NOT_ENOUGH_QUOTA|1818 =RPC_S_CALL_CANCELLED|1901 INVALID_TIME|1907 PASSWORD_MUST_CHANGE|
1908 DOMAIN_CONTROLLER_NOT_FOUND|1909 ACCOUNT_LOCKED_OUT|1920 CANT_ACCESS_FILE|1921 CANT_RESOLVE_FILENAME|
1930 KM_DRIVER_BLOCKED|1931 CONTEXT_EXPIRED|3010 SUCCESS_REBOOT_REQUIRED|3011 SUCCESS_RESTART_REQUIRED|
3017 FAIL_REBOOT_REQUIRED|3018 FAIL_REBOOT_INITIATED|4312 OBJECT_NOT_FOUND|4317 INVALID_OPERATION|
4390 NOT_A_REPARSE_POINT|4392 INVALID_REPARSE_DATA|5023 INVALID_STATE|6000 ENCRYPTION_FAILED|
6001 DECRYPTION_FAILED|6002 FILE_ENCRYPTED|12002 WINHTTP_TIMEOUT|12007 WINHTTP_NAME_NOT_RESOLVED|
12029 WINHTTP_CANNOT_CONNECT|12030 WINHTTP_CONNECTION_ERROR|12175 WINHTTP_SECURE_FAILURE|
14001 SXS_CANT_GEN_ACTCTX|14003 SXS_ASSEMBLY_NOT_FOUND|14081 SXS_ASSEMBLY_MISSING|14083 SXS_CORRUPTION|
14098 SXS_COMPONENT_STORE_CORRUPT|14099 ADVANCED_INSTALLER_FAILED|14107 SXS_TRANSACTION_CLOSURE_INCOMPLETE|
14108 SMI_PRIMITIVE_INSTALLER_FAILED|14109 GENERIC_COMMAND_FAILED|14110 SXS_FILE_HASH_MISSING|
15010 EVT_CONFIGURATION_ERROR`;

/** Win32 error number -> symbolic name (ERROR_*, WAIT_TIMEOUT, RPC_S_*). */
export const WIN32_ERRORS: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  for (const item of WIN32_LIST.split('|')) {
    const t = item.trim();
    if (!t) continue;
    const sp = t.indexOf(' ');
    const num = Number(t.slice(0, sp));
    const raw = t.slice(sp + 1);
    m.set(num, raw.startsWith('=') ? raw.slice(1) : `ERROR_${raw}`);
  }
  return m;
})();

/** FACILITY_* numbers (winerror.h) -> name; the ones update failures come from, plus the classics. */
export const FACILITIES: ReadonlyMap<number, string> = new Map<number, string>([
  [0, 'FACILITY_NULL'],
  [1, 'FACILITY_RPC'],
  [2, 'FACILITY_DISPATCH'],
  [3, 'FACILITY_STORAGE'],
  [4, 'FACILITY_ITF'],
  [7, 'FACILITY_WIN32'],
  [8, 'FACILITY_WINDOWS'],
  [9, 'FACILITY_SECURITY'],
  [10, 'FACILITY_CONTROL'],
  [11, 'FACILITY_CERT'],
  [12, 'FACILITY_INTERNET'],
  [13, 'FACILITY_MEDIASERVER'],
  [14, 'FACILITY_MSMQ'],
  [15, 'FACILITY_SETUPAPI'],
  [16, 'FACILITY_SCARD'],
  [17, 'FACILITY_COMPLUS'],
  [19, 'FACILITY_URT'],
  [23, 'FACILITY_SXS'],
  [25, 'FACILITY_HTTP'],
  [26, 'FACILITY_USERMODE_COMMONLOG'],
  [27, 'FACILITY_WER'],
  [31, 'FACILITY_USERMODE_FILTER_MANAGER'],
  [32, 'FACILITY_BACKGROUNDCOPY'],
  [33, 'FACILITY_CONFIGURATION'],
  [34, 'FACILITY_STATE_MANAGEMENT'],
  [35, 'FACILITY_METADIRECTORY'],
  [36, 'FACILITY_WINDOWSUPDATE'],
  [37, 'FACILITY_DIRECTORYSERVICE'],
  [38, 'FACILITY_GRAPHICS'],
  [39, 'FACILITY_SHELL'],
  [40, 'FACILITY_TPM_SERVICES'],
  [41, 'FACILITY_TPM_SOFTWARE'],
  [48, 'FACILITY_PLA'],
  [49, 'FACILITY_FVE'],
  [50, 'FACILITY_FWP'],
  [51, 'FACILITY_WINRM'],
  [52, 'FACILITY_NDIS'],
  [57, 'FACILITY_BCD'],
  [58, 'FACILITY_USERMODE_VHD'],
  [80, 'FACILITY_WINDOWS_DEFENDER'],
  [136, 'FACILITY_DRVSERVICING'],
  [208, 'FACILITY_DELIVERY_OPTIMIZATION'],
]);

/** Plain words for the facilities a technician meets in update logs. */
const FACILITY_TEXT: Record<number, string> = {
  0: 'generic COM',
  1: 'RPC',
  4: 'COM interface-specific',
  7: 'Win32 error',
  8: 'Windows',
  9: 'security/SSPI',
  11: 'certificates and trust (WinTrust/CryptoAPI)',
  12: 'WinInet',
  15: 'SetupAPI / Component Based Servicing (CBS_E_*)',
  23: 'side-by-side (SxS)',
  25: 'HTTP',
  32: 'BITS (Background Intelligent Transfer Service)',
  36: 'Windows Update agent',
  49: 'BitLocker (FVE)',
  57: 'boot configuration data (BCD)',
  208: 'Delivery Optimization',
};

/** WU agent sub-ranges (wuerror.h prefixes by bits 12-15 of the code). */
const WU_SUBSYSTEMS: Record<number, string> = {
  0x0: 'general (WU_E_*)',
  0x1: 'Windows Installer (WU_E_MSI_*)',
  0x2: 'update handler (WU_E_UH_*)',
  0x3: 'AU client UI (WU_E_AUCLIENT_*)',
  0x4: 'protocol talker, server communication (WU_E_PT_*)',
  0x5: 'redirector (WU_E_REDIRECTOR_*)',
  0x6: 'download manager (WU_E_DM_*)',
  0x7: 'offline scan (WU_E_OL_*)',
  0x8: 'data store (WU_E_DS_*)',
  0x9: 'inventory (WU_E_INVENTORY_*)',
  0xa: 'Automatic Updates (WU_E_AU_*)',
  0xc: 'driver (WU_E_DRV_*)',
  0xd: 'agent setup (WU_E_SETUP_*)',
  0xe: 'expression evaluator (WU_E_EE_*)',
  0xf: 'reporter (WU_E_REPORTER_*)',
};

const FACILITY_WIN32 = 7;
const FACILITY_WINDOWSUPDATE = 36;

function hex8(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/** HRESULT_FROM_WIN32: 0 stays 0, otherwise 0x8007xxxx (low 16 bits). */
export function hresultFromWin32(win32: number): number {
  if (win32 <= 0) return win32 >>> 0;
  return ((win32 & 0xffff) | (FACILITY_WIN32 << 16) | 0x80000000) >>> 0;
}

/**
 * Normalise an error code to '0x' + 8 lowercase hex digits, or undefined if `code` is not one.
 * - numbers: integers in -2^31..2^32-1; negative = signed HRESULT; 1..0xFFFF = a Win32 error
 *   (HRESULT_FROM_WIN32, so 1603 -> 0x80070643); 0 -> 0x00000000.
 * - strings: hex with or without '0x' (how the logs write them: '80070643', '0x800f0922'),
 *   or a signed decimal with a leading '-' ('-2147023165'). Hex values up to 0xFFFF are Win32
 *   codes too ('0x00000643' in "Final Result" lines -> 0x80070643).
 */
export function normalizeHresult(code: number | string): string | undefined {
  let n: number;
  if (typeof code === 'number') {
    if (!Number.isInteger(code) || code < -0x80000000 || code > 0xffffffff) return undefined;
    n = code;
  } else if (typeof code === 'string') {
    const s = code.trim();
    let m: RegExpExecArray | null;
    if ((m = /^-(\d{1,10})$/.exec(s))) {
      n = -Number(m[1]);
      if (n < -0x80000000) return undefined;
    } else if ((m = /^(?:0x)?([0-9a-f]{1,8})$/i.exec(s))) {
      n = parseInt(m[1]!, 16);
    } else {
      return undefined;
    }
  } else {
    return undefined;
  }
  n = n >>> 0;
  if (n > 0 && n <= 0xffff) n = hresultFromWin32(n);
  return hex8(n);
}

/** Facility text for an HRESULT value, e.g. 'FACILITY_WIN32 (7): Win32 error'. */
export function facilityText(hr: number): string {
  const fac = (hr >>> 16) & 0x1fff;
  const name = FACILITIES.get(fac) ?? `facility ${fac} (0x${fac.toString(16)})`;
  const words = FACILITY_TEXT[fac];
  const label = FACILITIES.has(fac) ? `${name} (${fac})` : name;
  return words ? `${label}: ${words}` : label;
}

/**
 * Everything wufix knows about an error code. Accepts what `normalizeHresult` accepts; throws
 * BadInputError (code 'bad-error-code') when the input is not an error code at all.
 */
export function lookupError(code: number | string): ErrorInfo {
  const norm = normalizeHresult(code);
  if (norm === undefined) {
    throw new BadInputError(`not an error code: ${JSON.stringify(String(code)).slice(0, 40)}`, { code: 'bad-error-code' });
  }
  const hr = parseInt(norm.slice(2), 16);
  const facilityCode = (hr >>> 16) & 0x1fff;
  const severity: 'success' | 'error' = hr >>> 31 ? 'error' : 'success';
  const info: ErrorInfo = {
    code: norm,
    meaning: '',
    repairs: [],
    facility: facilityText(hr),
    facilityCode,
    severity,
    known: false,
  };
  const low = hr & 0xffff;
  // 0xC... values with the "customer" or NTSTATUS shape are not FACILITY_WIN32 even if bits match.
  const isWin32 = facilityCode === FACILITY_WIN32 && (hr & 0x78000000) === 0;
  if (isWin32) {
    const name = WIN32_ERRORS.get(low);
    info.win32 = name ? { code: low, name } : { code: low };
  }
  const known = KNOWN[hr];
  if (known) {
    info.known = true;
    info.symbol = known.symbol;
    info.meaning = known.meaning;
    info.repairs = [...known.repairs];
    if (known.hint) info.hint = known.hint;
    return info;
  }
  if (hr === 0) {
    info.symbol = 'S_OK';
    info.meaning = 'Success.';
    return info;
  }
  if (isWin32) {
    const name = info.win32?.name;
    if (name) info.symbol = name;
    info.meaning = name ? `Win32 error ${low} (${name}).` : `Win32 error ${low}.`;
    return info;
  }
  if (facilityCode === FACILITY_WINDOWSUPDATE) {
    const sub = WU_SUBSYSTEMS[(low >>> 12) & 0xf] ?? 'unknown subsystem';
    info.meaning = `Windows Update agent ${severity === 'error' ? 'error' : 'status'}, ${sub}, code 0x${low.toString(16).padStart(4, '0')}.`;
    return info;
  }
  if (hr >>> 30 === 3 && (hr & 0x10000000) === 0 && !FACILITIES.has(facilityCode)) {
    info.meaning = `Error 0x${hr.toString(16)}; not an HRESULT of a known facility (possibly an NTSTATUS or a setup-specific code).`;
    return info;
  }
  info.meaning = `${severity === 'error' ? 'Error' : 'Status'} code 0x${low.toString(16).padStart(4, '0')} of ${info.facility}.`;
  return info;
}

/** True when `code` is in the curated table (not only decoded generically). */
export function isKnownError(code: number | string): boolean {
  const n = normalizeHresult(code);
  return n !== undefined && KNOWN[parseInt(n.slice(2), 16)] !== undefined;
}

/** The curated codes, for documentation and tests. */
export function knownErrorCodes(): string[] {
  return Object.keys(KNOWN).map((k) => hex8(Number(k)));
}
