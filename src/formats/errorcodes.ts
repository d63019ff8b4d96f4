// Error-code knowledge for `wufix scan` and `wufix explain`: a curated table (symbol, meaning, typical
// cause, the wufix repair or the manual step, and the SOURCE of each entry) plus a decoder by facility
// for everything else: Win32 (0x8007xxxx), NTSTATUS (raw 0xC0000005, or HRESULT_FROM_NT 0xD0150004),
// Windows Update agent (0x8024xxxx, by wuerror.h sub-range), CBS/PSFX (0x800Fxxxx), Windows Setup
// (0xC190xxxx with its extended code: phase and operation), HTTP (0x8019xxxx), WinHTTP (0x80072xxx),
// certificates and trust (0x800Bxxxx, 0x8009xxxx). Pure data and functions; no I/O.
//
// Sources, each checked while writing this file (the `source` of every entry names the one it used):
// - Win32 ERROR_* and FACILITY_* numbers: wine-mirror/wine include/winerror.h and mingw-w64
//   mingw-w64-headers/include/winerror.h (ERROR_FAIL_REBOOT_REQUIRED 3017, ERROR_SXS_* 14xxx,
//   ERROR_EVT_CONFIGURATION_ERROR 15010 only in the mingw-w64 copy); Microsoft's "System Error Codes"
//   pages (ERROR_REQUEST_OUT_OF_SEQUENCE 776 = 0x308).
// - WU_E_* / WU_S_*: wuerror.h as transcribed by the win32metadata bindings (module
//   windows.win32.system.updateagent: every WU_E_ value with its number) and Microsoft's "Windows
//   Update error codes by component" (MicrosoftDocs/windows-itpro-docs
//   windows/deployment/update/windows-update-error-reference.md).
// - CBS_E_* / PSFX_E_*: the Windows SDK winerror.h block 0x800F0800-0x800F0989. The public wine and
//   mingw-w64 copies do not carry it; the values were checked in a public transcription of the SDK
//   values (a CBS result-to-name switch) and, where Microsoft documents the code, in "Windows Update
//   common errors and mitigation". 0x800F0954 has two public names; the documented one is used.
// - STATUS_*: ntstatus.h (Windows SDK), checked in a public NTStatus constant list (0xC0150001-0xC0150027
//   STATUS_SXS_* and the classics).
// - MOSETUP_E_* and the extended code (phase, operation): Microsoft's "Resolve Windows upgrade errors"
//   (windows/deployment/upgrade/upgrade-error-codes.md and resolution-procedures.md).
// - HTTP_E_STATUS_*: winerror.h FACILITY_HTTP (25): 0x8019xxxx carries the HTTP status (0x193 = 403).
// - ERROR_WINHTTP_*: winhttp.h (WINHTTP_ERROR_BASE 12000); appx ERROR_INSTALL_* / ERROR_PACKAGES_IN_USE:
//   Microsoft's "Troubleshooting packaging, deployment, and query of Windows apps".
// Repair mapping: windows-update.md sections 1-7 and winre.md section 1; where the doc leaves a choice,
// the reasoning is written next to the entry ("context decides" = the scan picks by other evidence).
// Pending work that belongs to an SFC/DISM repair or a finished install waiting for its reboot is never
// a reason to revert: the entries that say "a reboot finishes it" carry no `pending` repair.
import type { AttemptResult } from '../model/attempts.js';
import type { RepairId } from '../model/ids.js';
import { BadInputError } from '../shared/errors.js';

/** A repair an error code points to (wsus-policy removes only WSUS values that cannot work; a reachable-looking server stays for the technician). */
export type CodeRepair = RepairId;

/** Which decoder explained the code. */
export type CodeKind = 'success' | 'win32' | 'ntstatus' | 'windows-update' | 'cbs' | 'setup' | 'http' | 'winhttp' | 'trust' | 'com' | 'hresult';

export interface ErrorInfo {
  /** '0x80070643': lowercase, 8 hex digits. */
  code: string;
  /** Symbolic name (ERROR_INSTALL_FAILURE, WU_E_DOWNLOAD_FAILED, ...) when known. */
  symbol?: string;
  /** One sentence: what the code means (plain words, ASCII). */
  meaning: string;
  /** What typically causes it (plain words, ASCII), when a source or the doc says. */
  cause?: string;
  /** Repair ids that fix it, most likely first; empty when no wufix repair applies. */
  repairs: CodeRepair[];
  /** The manual step (what to run or check by hand), when there is one. */
  hint?: string;
  /** Where the symbol and meaning come from (a header or a Microsoft page; "not verified" when not). */
  source?: string;
  /** Facility text, e.g. 'FACILITY_WIN32 (7): Win32 error'. Never a bare number for a known facility. */
  facility?: string;
  /** Facility number (bits 16-28 of the value as an HRESULT). */
  facilityCode: number;
  /** Severity bit: 'error' (bit 31 set) or 'success'. */
  severity: 'success' | 'error';
  /** The decoder that explained it. */
  kind: CodeKind;
  /** For FACILITY_WIN32 codes: the Win32 error inside. */
  win32?: { code: number; name?: string };
  /** For NTSTATUS values (raw, or wrapped by HRESULT_FROM_NT): the NTSTATUS. */
  ntstatus?: { code: string; name?: string; wrapped: boolean };
  /** For FACILITY_HTTP codes: the HTTP status. */
  http?: number;
  /** For Windows Update agent codes: the wuerror.h sub-range. */
  subsystem?: string;
  /** What the code by itself says about an attempt when it is not a failure (reboot-pending, ...). */
  result?: Extract<AttemptResult, 'succeeded' | 'reboot-pending' | 'cancelled' | 'not-applicable'>;
  /** True when the code is in the curated table (has a specific meaning and repair list). */
  known: boolean;
}

interface KnownEntry {
  symbol?: string;
  meaning: string;
  cause?: string;
  repairs: CodeRepair[];
  hint?: string;
  source: string;
  result?: ErrorInfo['result'];
}

// ---------------------------------------------------------------------------------------------
// Sources (the `source` text of the entries).
// ---------------------------------------------------------------------------------------------
const S_WINERROR = 'winerror.h (Windows SDK; number checked in wine and mingw-w64 winerror.h)';
const S_CBS = 'winerror.h (Windows SDK) CBS_E_/PSFX_E_ block, checked in a public transcription (not in wine/mingw-w64)';
const S_WU = 'wuerror.h (Windows SDK); learn.microsoft.com: Windows Update error codes by component';
const S_WU_COMMON = 'learn.microsoft.com: Windows Update common errors and mitigation';
const S_UPGRADE = 'learn.microsoft.com: Resolve Windows upgrade errors';
const S_NTSTATUS = 'ntstatus.h (Windows SDK)';
const S_WINHTTP = 'winhttp.h (Windows SDK, WINHTTP_ERROR_BASE 12000)';
const S_APPX = 'learn.microsoft.com: Troubleshooting packaging, deployment, and query of Windows apps';
const S_TRUST = 'winerror.h (Windows SDK) FACILITY_CERT / FACILITY_SECURITY block';
const S_HTTP = 'winerror.h (Windows SDK) HTTP_E_STATUS_* (FACILITY_HTTP 25)';
const S_COM = 'winerror.h (Windows SDK) COM errors';
const DISM_RESTORE =
  'DISM /Image:X:\\ /Cleanup-Image /RestoreHealth /Source:<matching install.wim> (online: DISM /Online ... then sfc /scannow), then retry the update.';
const BOOT_ONCE = 'Boot Windows once so the pending work finishes; do not revert it.';

// ---------------------------------------------------------------------------------------------
// Curated table: windows-update.md section 7 first (all of it), then the codes real logs carry.
// ---------------------------------------------------------------------------------------------
const KNOWN: Record<number, KnownEntry> = {
  // --- windows-update.md section 7 ---
  0x80070643: {
    symbol: 'ERROR_INSTALL_FAILURE',
    meaning: 'Fatal error during installation (MSI/.NET/WinRE servicing returned 1603).',
    cause: '.NET/MSI setup with a trust failure, or the WinRE update (KB5034441/KB5034439/KB5034440) without 250 MiB free in the recovery partition.',
    // Context decides: .NET/MSI setup logs with a trust failure -> wintrust (section 1, KB2656368);
    // the WinRE update KB5034441/KB5034439/KB5034440 -> winre (winre.md section 1: 250 MB free needed).
    repairs: ['wintrust', 'winre'],
    hint: 'Read the setup logs; for .NET check the WinTrust State; for KB5034441/KB5034439 check the WinRE partition free space.',
    source: S_WINERROR,
  },
  0x800b010b: {
    symbol: 'TRUST_E_FAIL',
    meaning: 'Generic trust failure while verifying a signature.',
    cause: 'The WinTrust State of the LocalSystem hive, missing root certificates, or an unreachable CRL.',
    repairs: ['wintrust'],
    source: S_TRUST,
  },
  0x800b010e: {
    symbol: 'CERT_E_REVOCATION_FAILURE',
    meaning: 'The revocation status of a certificate could not be checked.',
    cause: 'No route to the CRL/OCSP servers (offline machine, proxy) or a wrong clock.',
    repairs: ['wintrust'],
    hint: 'Offline-OK bits of the WinTrust State, proxy, clock.',
    source: S_TRUST,
  },
  0x800b0100: {
    symbol: 'TRUST_E_NOSIGNATURE',
    meaning: 'No signature was present in the subject.',
    cause: 'A corrupt .cat in servicing\\Packages or catroot2.',
    // A corrupt .cat in catroot2 is rebuilt by the cache reset (catroot2 rename, section 2).
    repairs: ['wu-cache'],
    source: S_TRUST,
  },
  0x800b0101: {
    symbol: 'CERT_E_EXPIRED',
    meaning: 'A required certificate is not within its validity period.',
    cause: 'An expired certificate, or a wrong system clock (CMOS battery, time zone).',
    repairs: [],
    hint: 'Check the clock of the machine; renew the certificate if it really expired.',
    source: S_TRUST,
  },
  0x800b0109: {
    symbol: 'CERT_E_UNTRUSTEDROOT',
    meaning: 'A certificate chain terminated in a root certificate that is not trusted.',
    cause: 'WSUS locally published updates signed by a root the client lacks, or WinTrust State 0x40000.',
    // WSUS locally published updates -> trust-cert (section 6); State=0x40000 (ALLOWONLYPERTRUST) in
    // the LocalSystem hive also gives it (section 1 "Why it matters") -> wintrust. Context decides.
    repairs: ['trust-cert', 'wintrust'],
    hint: 'Add the signing root (and TrustedPublisher + AcceptTrustedPublisherCerts for WSUS third-party updates).',
    source: S_TRUST,
  },
  0x800b010a: {
    symbol: 'CERT_E_CHAINING',
    meaning: 'A certificate chain could not be built to a trusted root.',
    cause: 'A missing intermediate or root certificate; root auto-update blocked.',
    repairs: ['trust-cert'],
    source: S_TRUST,
  },
  0x800b010c: {
    symbol: 'CERT_E_REVOKED',
    meaning: 'A certificate was explicitly revoked by its issuer.',
    cause: 'A revoked certificate; the Disallowed store or a CTL.',
    repairs: [],
    source: S_TRUST,
  },
  0x80073aa2: {
    symbol: 'ERROR_EVT_CONFIGURATION_ERROR',
    meaning: 'Event log configuration error (Win32 15010) during the install; the update rolled back.',
    cause: 'An event-log publisher or manifest problem; the install rolls back and is offered again.',
    // Rollback loop (section 4): revert the pending transaction and stop the re-offer.
    repairs: ['pending', 'au-pause'],
    hint: 'Revert pending actions, pause automatic updates, reinstall.',
    source: S_WINERROR,
  },
  0x800f0922: {
    symbol: 'CBS_E_INSTALLERS_FAILED',
    meaning: 'A servicing advanced installer failed and the package was rolled back.',
    cause: 'A disabled service (HTTP), a too small system reserved partition, or a VPN; the Chinese page also names low disk space.',
    // Section 3: a disabled service (HTTP Start=4) is the cause wufix can fix offline.
    repairs: ['services'],
    hint: 'Read CBS.log for the failing advanced installer; check the system reserved partition free space.',
    source: S_CBS,
  },
  0x800f081f: {
    symbol: 'CBS_E_SOURCE_MISSING',
    meaning: 'The source files for the package or file were not found.',
    cause: 'Component store corruption: a payload the repair or the install needs is not in WinSxS and no source was given.',
    repairs: [],
    hint: DISM_RESTORE,
    source: `${S_CBS}; ${S_WU_COMMON}`,
  },
  0x800f0831: {
    symbol: 'CBS_E_STORE_CORRUPTION',
    meaning: 'The component store (WinSxS) is corrupt.',
    cause: 'Corruption in the component store, often a prerequisite package (SSU/LCU) half installed or missing.',
    repairs: [],
    hint: DISM_RESTORE,
    source: `${S_CBS}; ${S_WU_COMMON}`,
  },
  0x80070002: {
    symbol: 'ERROR_FILE_NOT_FOUND',
    meaning: 'The system cannot find the file specified.',
    cause: 'A file the download cache or servicing expects is gone.',
    repairs: ['wu-cache'],
    hint: 'Reset SoftwareDistribution; read CBS.log.',
    source: S_WINERROR,
  },
  0x80070005: {
    symbol: 'E_ACCESSDENIED',
    meaning: 'Access is denied.',
    cause: 'File system or registry permissions were changed and the servicing stack lacks access.',
    repairs: [],
    hint: 'Search CBS.log for ", error" at that time; fix the ACL of the file or key it names.',
    source: `${S_WINERROR}; ${S_WU_COMMON}`,
  },
  0x80070422: {
    symbol: 'ERROR_SERVICE_DISABLED',
    meaning: 'The service cannot be started because it is disabled.',
    cause: 'wuauserv (or BITS) has Start=4.',
    repairs: ['services'],
    source: `${S_WINERROR}; ${S_WU_COMMON}`,
  },
  0x80070bc9: {
    symbol: 'ERROR_FAIL_REBOOT_REQUIRED',
    meaning: 'The requested operation failed; a reboot is required to roll back the changes made.',
    cause: 'A transaction waits for its reboot: an install rolling back (a stuck post-reboot transaction) or an SFC/DISM repair to finish.',
    // Section 4 Microsoft escalation for a stuck transaction: TrustedInstaller automatic +
    // RevertPendingActions. The scan offers it only with state evidence and never for SFC/DISM work.
    repairs: ['pending', 'au-pause'],
    hint: `If the pending work is an SFC/DISM repair or a finished install: ${BOOT_ONCE} Revert only a transaction stuck across reboots (windows-update.md section 4).`,
    source: `${S_WINERROR}; ${S_WU_COMMON}`,
    result: 'reboot-pending',
  },
  0x800719e4: {
    symbol: 'ERROR_LOG_FULL',
    meaning: 'Log space is exhausted.',
    cause:
      'The registry transaction logs (System32\\config\\TxR, CLFS) are full: servicing cannot open a transaction (Azure win-fix-transaction-logs; Microsoft "Error 0x800719e4 (ERROR_LOG_FULL) when Windows update fails").',
    repairs: ['pending'],
    source: `${S_WINERROR}`,
  },
  0x8024402c: {
    symbol: 'WU_E_PT_WINHTTP_NAME_NOT_RESOLVED',
    meaning: 'The proxy or update server name could not be resolved.',
    cause: 'Proxy/DNS, or a stale WUServer + UseWUServer=1 off the corporate network.',
    repairs: ['wsus-policy'],
    source: S_WU,
  },
  0x80244022: {
    symbol: 'WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL',
    meaning: 'The update server answered HTTP 503 (service unavailable).',
    cause: 'The WSUS application pool, a proxy, or a stale WUServer policy.',
    repairs: ['wsus-policy'],
    source: S_WU,
  },
  0x80240034: {
    symbol: 'WU_E_DOWNLOAD_FAILED',
    meaning: 'The update failed to download.',
    cause: 'BITS or the proxy, or a damaged download cache.',
    repairs: ['wu-cache'],
    hint: 'Reset SoftwareDistribution.',
    source: S_WU,
  },
  0x8024200d: {
    symbol: 'WU_E_UH_NEEDANOTHERDOWNLOAD',
    meaning: 'The update handler needs the update to be downloaded again.',
    repairs: ['wu-cache'],
    hint: 'Clear SoftwareDistribution\\Download.',
    source: S_WU,
  },
  0x80242016: {
    symbol: 'WU_E_UH_POSTREBOOTUNEXPECTEDSTATE',
    meaning: 'The update was in an unexpected state after its post-reboot operation.',
    cause: 'A post-reboot transaction that did not complete (rollback loop).',
    repairs: ['pending', 'au-pause'],
    hint: 'Revert pending actions, rescan.',
    source: S_WU,
  },
  0x80070020: {
    symbol: 'ERROR_SHARING_VIOLATION',
    meaning: 'The file is being used by another process.',
    cause: 'Non-Microsoft filter drivers such as antivirus hold the file.',
    repairs: [],
    hint: 'An offline repair avoids it; online: clean boot and retry, Process Monitor on the file CBS.log names.',
    source: `${S_WINERROR}; ${S_WU_COMMON}`,
  },
  0x80073712: {
    symbol: 'ERROR_SXS_COMPONENT_STORE_CORRUPT',
    meaning: 'The component store is in an inconsistent state.',
    cause: 'Component store corruption (a component partially installed, a damaged manifest or payload).',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_WINERROR,
  },
  0x800705b4: {
    symbol: 'ERROR_TIMEOUT',
    meaning: 'The operation returned because the timeout period expired.',
    cause: 'WSUS, proxy, antivirus or time synchronisation.',
    repairs: [],
    source: S_WINERROR,
  },
  0x8007000d: {
    symbol: 'ERROR_INVALID_DATA',
    meaning: 'The data is invalid (corrupt download).',
    cause: 'Data that is not valid was downloaded, or corruption occurred.',
    repairs: ['wu-cache'],
    hint: 'Reset SoftwareDistribution to download again.',
    source: `${S_WINERROR}; ${S_WU_COMMON}`,
  },
  0xc1900101: {
    symbol: 'MOSETUP_E_SETUP_PLATFORM',
    meaning: 'Windows Setup rolled back the feature update (generic rollback code).',
    cause: 'Usually an incompatible driver; the extended code gives the phase and operation.',
    repairs: [],
    hint: 'Read $WINDOWS.~BT\\Sources\\Panther\\setupact.log and Rollback\\setupapi\\setupapi.dev.log; update or remove the driver, clean boot, retry.',
    source: S_UPGRADE,
  },

  // --- CBS / PSFX codes real CBS.log, DISM.log and Setup.evtx carry ---
  0x800f0984: {
    symbol: 'PSFX_E_MATCHING_BINARY_MISSING',
    meaning: 'The component directory exists in WinSxS but the binary the update patches (by delta) is missing.',
    cause: 'Component store damage: a file an update delta applies to was removed (cleanup or reset-base, an earlier broken update).',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_CBS,
  },
  0x800f0982: {
    symbol: 'PSFX_E_MATCHING_COMPONENT_NOT_FOUND',
    meaning: 'The component an update delta applies to cannot be identified in WinSxS.',
    cause: 'Component store damage, or a language pack or feature added after the base image.',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_CBS,
  },
  0x800f0985: {
    symbol: 'PSFX_E_APPLY_REVERSE_DELTA_FAILED',
    meaning: 'Applying a reverse delta failed.',
    cause: 'A missing or damaged manifest or payload in WinSxS.',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_CBS,
  },
  0x800f0986: {
    symbol: 'PSFX_E_APPLY_FORWARD_DELTA_FAILED',
    meaning: 'Applying a forward delta failed.',
    cause: 'A missing or damaged payload in WinSxS.',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_CBS,
  },
  0x800f0816: {
    symbol: 'CBS_E_DPX_JOB_STATE_SAVED',
    meaning: 'The package expansion (DPX) job did not finish; its state was saved to resume later.',
    cause: 'Servicing interrupted while expanding the update payload (shutdown, reboot), or a damaged download.',
    // The symbol is the SDK's; Microsoft publishes no description: the meaning is read from the name.
    repairs: ['wu-cache'],
    hint: 'Reset the download cache and install the update again.',
    source: `${S_CBS}; no Microsoft description (meaning read from the symbol)`,
  },
  0x800f0820: {
    symbol: 'CBS_E_CANCEL',
    meaning: 'The servicing operation was cancelled.',
    cause: 'The client (Windows Update, DISM) or the user cancelled, or the system shut down.',
    repairs: [],
    source: S_CBS,
    result: 'cancelled',
  },
  0x800f0821: {
    symbol: 'CBS_E_ABORT',
    meaning: 'The servicing client aborted the operation (CBS transaction timeout exceeded).',
    cause: 'A servicing operation took so long that the servicing stack watchdog timer expired.',
    repairs: [],
    hint: 'Give the machine more CPU/memory (VMs), install KB4493473 or later, retry.',
    source: `${S_CBS}; ${S_WU_COMMON}`,
  },
  0x800f0920: {
    symbol: 'CBS_E_HANG_DETECTED',
    meaning: 'A hang was detected while processing the servicing operation.',
    cause: 'Logged after 0x800f0821: the watchdog timer expired on a slow operation.',
    repairs: [],
    hint: 'Give the machine more CPU/memory (VMs), install KB4493473 or later, retry.',
    source: `${S_CBS}; ${S_WU_COMMON}`,
  },
  0x800f0825: {
    symbol: 'CBS_E_CANNOT_UNINSTALL',
    meaning: 'The package cannot be uninstalled.',
    cause: 'Typically component store corruption: a component in a partially installed state.',
    repairs: [],
    hint: DISM_RESTORE,
    source: `${S_CBS}; ${S_WU_COMMON}`,
  },
  0x800f0828: {
    symbol: 'CBS_E_INSUFFICIENT_DISK_SPACE',
    meaning: 'There is not enough disk space for the servicing operation.',
    cause: 'Too little free space on the Windows volume.',
    repairs: [],
    hint: 'Free space on the Windows volume (DISM /Cleanup-Image /StartComponentCleanup, old files), retry.',
    source: `${S_CBS}; in one public transcription only (not verified in a second source)`,
  },
  0x800f0805: {
    symbol: 'CBS_E_INVALID_PACKAGE',
    meaning: 'The update package is not valid.',
    cause: 'A package for another Windows version, edition or architecture, or a damaged .cab/.msu.',
    repairs: [],
    hint: 'Check the package matches the image (build, architecture); download it again.',
    source: S_CBS,
  },
  0x800f080d: {
    symbol: 'CBS_E_MANIFEST_INVALID_ITEM',
    meaning: 'A package manifest contains an item that is not valid.',
    cause: 'A damaged package or manifest.',
    repairs: [],
    hint: 'Download the package again; DISM /RestoreHealth if the manifest is in WinSxS.',
    source: S_CBS,
  },
  0x800f081e: {
    symbol: 'CBS_E_NOT_APPLICABLE',
    meaning: 'The package is not applicable to this image.',
    cause: 'A package for another build, edition or language, or one already superseded.',
    repairs: [],
    source: S_CBS,
    result: 'not-applicable',
  },
  0x800f0823: {
    symbol: 'CBS_E_NEW_SERVICING_STACK_REQUIRED',
    meaning: 'The package needs a newer servicing stack.',
    repairs: [],
    hint: 'Install the servicing stack update first.',
    source: S_CBS,
  },
  0x800f0906: {
    symbol: 'CBS_E_DOWNLOAD_FAILURE',
    meaning: 'The source files could not be downloaded.',
    cause: 'No access to Windows Update for repair content (WSUS, proxy, offline).',
    repairs: [],
    hint: 'Give DISM a /Source or allow repair content from Windows Update.',
    source: S_CBS,
  },
  0x800f0954: {
    symbol: 'CBS_E_NO_OPTIONAL_CONTENT_FOUND_ON_UPDATE_SERVERS',
    meaning: 'The optional content (Feature on Demand) was not found on the update server.',
    cause: 'A WSUS-managed machine adding a Feature on Demand (OpenSSH, RSAT, .NET 3.5) that WSUS does not carry.',
    repairs: ['wsus-policy'],
    hint: 'Enable "Download repair content and optional features directly from Windows Update" or give a FoD source.',
    source: 'learn.microsoft.com: OpenSSH / Feature on Demand install errors (the SDK transcription names 0x800F0954 differently)',
  },

  // --- Win32 codes the servicing logs carry ---
  0x80070308: {
    symbol: 'ERROR_REQUEST_OUT_OF_SEQUENCE',
    meaning: 'An operation was requested that is not valid in the current state of the component (Win32 776).',
    cause: 'In servicing logs: a new operation while an earlier one still waits (for its reboot); wufix judgment, not a Microsoft text.',
    repairs: [],
    hint: BOOT_ONCE,
    source: `${S_WINERROR}; learn.microsoft.com: System Error Codes (776 = 0x308)`,
  },
  0x80070070: {
    symbol: 'ERROR_DISK_FULL',
    meaning: 'There is not enough space on the disk.',
    cause: 'The Windows volume (or the download location) is full.',
    repairs: [],
    hint: 'Free space on the Windows volume (old Windows.old, SoftwareDistribution\\Download, user files), retry.',
    source: `${S_WINERROR}; ${S_UPGRADE}`,
  },
  0x80070032: {
    symbol: 'ERROR_NOT_SUPPORTED',
    meaning: 'The request is not supported.',
    cause: 'An operation this Windows edition or image state does not support (for example servicing an image offline).',
    repairs: [],
    source: S_WINERROR,
  },
  0x800704c7: {
    symbol: 'ERROR_CANCELLED',
    meaning: 'The operation was cancelled by the user.',
    cause: 'A user, a shutdown or the client cancelled the operation.',
    repairs: [],
    source: S_WINERROR,
    result: 'cancelled',
  },
  0x80070490: {
    symbol: 'ERROR_NOT_FOUND',
    meaning: 'Element not found.',
    cause: 'In servicing: a component or manifest the operation looks for is missing (component store damage); in setup: an incompatible driver.',
    repairs: [],
    hint: DISM_RESTORE,
    source: `${S_WINERROR}; ${S_UPGRADE}`,
  },
  0x80073cf9: {
    symbol: 'ERROR_INSTALL_FAILED',
    meaning: 'The app package (appx/msix) could not be installed (Win32 15609).',
    cause: 'A Store app or appx package deployment failed; the AppXDeployment-Server event log names why.',
    repairs: [],
    hint: 'Read Microsoft-Windows-AppXDeploymentServer/Operational; reinstall the app.',
    source: `${S_WINERROR}; ${S_APPX}`,
  },
  0x80073d02: {
    symbol: 'ERROR_PACKAGES_IN_USE',
    meaning: 'The app package could not be installed because resources it modifies are in use (Win32 15618).',
    cause: 'The app (or a process using it) is running.',
    repairs: [],
    hint: 'Close the app or restart, then update it again.',
    source: `${S_WINERROR}; ${S_APPX}`,
  },
  0x80080005: {
    symbol: 'CO_E_SERVER_EXEC_FAILURE',
    meaning: 'Server execution failed (a COM server did not start).',
    cause: 'A COM server (for Windows Update: the update orchestrator or wuauserv) failed to start or timed out.',
    repairs: ['services'],
    hint: 'Check the update services start (wuauserv, UsoSvc, BITS) and their Start values.',
    source: S_COM,
  },
  0x8007371b: {
    symbol: 'ERROR_SXS_TRANSACTION_CLOSURE_INCOMPLETE',
    meaning: 'One or more required members of the servicing transaction are not present.',
    cause: 'Component store corruption.',
    repairs: [],
    hint: DISM_RESTORE,
    source: `${S_WINERROR}; ${S_WU_COMMON}`,
  },
  0x80073701: {
    symbol: 'ERROR_SXS_ASSEMBLY_MISSING',
    meaning: 'A referenced assembly could not be found.',
    cause: 'Typically component store corruption: a component in a partially installed state.',
    repairs: [],
    hint: DISM_RESTORE,
    source: `${S_WINERROR}; ${S_WU_COMMON}`,
  },
  0x80070570: {
    symbol: 'ERROR_FILE_CORRUPT',
    meaning: 'The file or directory is corrupted and unreadable.',
    cause: 'Component store corruption, or file system damage.',
    repairs: [],
    hint: `chkdsk the volume first; then ${DISM_RESTORE}`,
    source: `${S_WINERROR}; ${S_WU_COMMON}`,
  },

  // --- NTSTATUS (HRESULT_FROM_NT) codes of the servicing stack ---
  0xd0150004: {
    symbol: 'STATUS_SXS_ASSEMBLY_NOT_FOUND',
    meaning: 'A component (assembly) the operation needs is not in the component store (NTSTATUS 0xC0150004 as an HRESULT).',
    cause: 'Component store damage, or a component that was never installed (a prerequisite update missing).',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_NTSTATUS,
  },
  0xd015001a: {
    symbol: 'STATUS_SXS_COMPONENT_STORE_CORRUPT',
    meaning: 'The component store is corrupt (NTSTATUS 0xC015001A as an HRESULT).',
    cause: 'Component store corruption.',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_NTSTATUS,
  },
  0xd0150015: {
    symbol: 'STATUS_SXS_CORRUPTION',
    meaning: 'Side-by-side (component store) corruption was detected (NTSTATUS 0xC0150015 as an HRESULT).',
    cause: 'Component store corruption.',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_NTSTATUS,
  },
  0xd015000c: {
    symbol: 'STATUS_SXS_ASSEMBLY_MISSING',
    meaning: 'A referenced assembly is missing from the component store (NTSTATUS 0xC015000C as an HRESULT).',
    cause: 'Component store damage.',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_NTSTATUS,
  },
  0xd015001b: {
    symbol: 'STATUS_SXS_FILE_HASH_MISMATCH',
    meaning: 'A component file does not match the hash in its manifest (NTSTATUS 0xC015001B as an HRESULT).',
    cause: 'A damaged or replaced file in WinSxS (disk errors, tampering, a third-party tool).',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_NTSTATUS,
  },

  // --- Windows Setup (feature updates) ---
  0xc1900200: {
    symbol: 'MOSETUP_E_COMPAT_SYSREQ_BLOCK',
    meaning: 'The system does not pass the minimum requirements to install the update.',
    cause: 'Hardware below the requirements of the new Windows version (TPM, CPU, RAM, disk).',
    repairs: [],
    hint: 'Check the Windows specifications; read the compatibility report in Panther.',
    source: S_UPGRADE,
  },
  0xc1900202: {
    symbol: 'MOSETUP_E_COMPAT_DOWNLOADREQ_BLOCK',
    meaning: 'The system does not pass the minimum requirements to download the update.',
    repairs: [],
    hint: 'Check the Windows specifications; read the compatibility report in Panther.',
    source: S_UPGRADE,
  },
  0xc1900208: {
    symbol: 'MOSETUP_E_COMPAT_INSTALLREQ_BLOCK',
    meaning: 'The system does not pass the compatibility scan to install the update.',
    cause: 'An incompatible app or driver blocks the upgrade.',
    repairs: [],
    hint: 'Find the blocker in the compatibility report (Panther\\CompatData*.xml), remove or update it.',
    source: S_UPGRADE,
  },
  0xc190020e: {
    symbol: 'MOSETUP_E_INSTALLDISKSPACE_BLOCK',
    meaning: 'The system does not pass the disk space requirements to install the payload.',
    cause: 'Too little free space on the Windows volume (about 20 GB for a 64-bit upgrade).',
    repairs: [],
    hint: 'Free space on the Windows volume, or give setup an external drive, retry.',
    source: S_UPGRADE,
  },
  0xc1900210: {
    symbol: 'MOSETUP_E_COMPAT_SCANONLY',
    meaning: 'Setup ran a compatibility scan only (setup.exe /Compat ScanOnly) and found no compatibility issue.',
    repairs: [],
    source: S_UPGRADE,
    result: 'succeeded',
  },
  0xc1900107: {
    symbol: 'MOSETUP_E_CLEANUP_PENDING',
    meaning: 'A cleanup operation from a previous installation attempt is still pending; a reboot is required.',
    repairs: [],
    hint: 'Reboot and run setup again; if it stays, Disk Cleanup of the system files.',
    source: S_UPGRADE,
    result: 'reboot-pending',
  },

  // --- Windows Update agent codes real logs carry ---
  0x80040154: {
    symbol: 'REGDB_E_CLASSNOTREG',
    meaning: 'Class not registered (a COM class the caller needs is not registered).',
    cause: 'A missing or damaged COM registration, often of a component the update or its installer calls.',
    repairs: [],
    source: S_COM,
  },
  0x80004005: { symbol: 'E_FAIL', meaning: 'Unspecified error.', repairs: [], source: S_COM },
  0x8000ffff: { symbol: 'E_UNEXPECTED', meaning: 'Catastrophic failure (unexpected error).', repairs: [], source: S_COM },
  0x80004004: { symbol: 'E_ABORT', meaning: 'The operation was aborted.', repairs: [], source: S_COM, result: 'cancelled' },
  0x80070057: { symbol: 'E_INVALIDARG', meaning: 'The parameter is incorrect.', repairs: [], source: S_WINERROR },
  0x8007000e: { symbol: 'E_OUTOFMEMORY', meaning: 'Not enough memory resources are available.', repairs: [], source: S_WINERROR },
  0x80070003: {
    symbol: 'ERROR_PATH_NOT_FOUND',
    meaning: 'The system cannot find the path specified.',
    cause: 'The servicing stack cannot reach a path (a missing folder of the download cache or WinSxS).',
    repairs: ['wu-cache'],
    hint: 'Search CBS.log for ", error" at that time.',
    source: `${S_WINERROR}; ${S_WU_COMMON}`,
  },
  0x80070641: {
    symbol: 'ERROR_INSTALL_SERVICE_FAILURE',
    meaning: 'The Windows Installer service could not be accessed.',
    cause: 'msiserver disabled (Start=4).',
    repairs: ['services'],
    source: S_WINERROR,
  },
  0x80070652: {
    symbol: 'ERROR_INSTALL_ALREADY_RUNNING',
    meaning: 'Another installation is already in progress.',
    cause: 'A pending or hung installation.',
    repairs: ['pending'],
    hint: 'Check the pending-servicing markers.',
    source: S_WINERROR,
  },
  0x80070bc2: {
    symbol: 'ERROR_SUCCESS_REBOOT_REQUIRED',
    meaning: 'The install succeeded; a reboot is required to complete it.',
    repairs: [],
    hint: BOOT_ONCE,
    source: S_WINERROR,
    result: 'reboot-pending',
  },
  0x800736b3: {
    symbol: 'ERROR_SXS_ASSEMBLY_NOT_FOUND',
    meaning: 'The referenced assembly is not installed.',
    repairs: [],
    hint: DISM_RESTORE,
    source: S_WINERROR,
  },
  0x80073713: {
    symbol: 'ERROR_ADVANCED_INSTALLER_FAILED',
    meaning: 'An advanced installer failed during setup or servicing.',
    repairs: ['services'],
    source: S_WINERROR,
  },
  0x800b0004: {
    symbol: 'TRUST_E_SUBJECT_NOT_TRUSTED',
    meaning: 'The subject is not trusted for the specified action.',
    repairs: ['wintrust'],
    source: S_TRUST,
  },
  0x800b0111: { symbol: 'TRUST_E_EXPLICIT_DISTRUST', meaning: 'The certificate was explicitly marked as untrusted.', repairs: [], source: S_TRUST },
  0x80096010: { symbol: 'TRUST_E_BAD_DIGEST', meaning: "The object's digest did not verify (corrupt file).", repairs: ['wu-cache'], source: S_TRUST },
  0x80096004: { symbol: 'TRUST_E_CERT_SIGNATURE', meaning: 'The signature of the certificate cannot be verified.', repairs: ['trust-cert'], source: S_TRUST },
  0x80092013: {
    symbol: 'CRYPT_E_REVOCATION_OFFLINE',
    meaning: 'The revocation server was offline.',
    repairs: ['wintrust'],
    hint: 'Offline-OK bits of the WinTrust State.',
    source: S_TRUST,
  },
  0x80092010: { symbol: 'CRYPT_E_REVOKED', meaning: 'The certificate is revoked.', repairs: [], source: S_TRUST },
  0x8024001e: {
    symbol: 'WU_E_SERVICE_STOP',
    meaning: 'The operation did not complete because the service or system was being shut down.',
    cause: 'A shutdown or service stop during the operation; with low disk space, the agent stopping for lack of room.',
    repairs: [],
    source: S_WU,
  },
  0x8024000b: {
    symbol: 'WU_E_CALL_CANCELLED',
    meaning: 'The operation was cancelled.',
    cause: 'Cancelled by the user or the service; also when the results cannot be filtered.',
    repairs: [],
    source: `${S_WU}; ${S_WU_COMMON}`,
    result: 'cancelled',
  },
  0x80240017: {
    symbol: 'WU_E_NOT_APPLICABLE',
    meaning: 'The operation was not performed because there are no applicable updates.',
    cause: 'The update is for another build, edition or architecture, or is already installed or superseded.',
    repairs: [],
    source: `${S_WU}; ${S_UPGRADE}`,
    result: 'not-applicable',
  },
  0x80240022: { symbol: 'WU_E_ALL_UPDATES_FAILED', meaning: 'The operation failed for all the updates.', repairs: [], source: S_WU },
  0x80240016: {
    symbol: 'WU_E_INSTALL_NOT_ALLOWED',
    meaning: 'Install attempted while another installation was running or a mandatory restart was pending.',
    cause: 'A restart from an earlier install has not happened yet, or another install runs.',
    repairs: [],
    hint: BOOT_ONCE,
    source: S_WU,
  },
  0x80240438: {
    symbol: 'WU_E_PT_ENDPOINT_UNREACHABLE',
    meaning: 'There is no route or network connectivity to the update endpoint.',
    cause: 'No network, a proxy, or a WSUS policy pointing at a server the machine cannot reach.',
    repairs: ['wsus-policy'],
    source: S_WU,
  },
  0x8024002e: {
    symbol: 'WU_E_WU_DISABLED',
    meaning: 'Access to an unmanaged server is not allowed (policy).',
    // Not wsus-policy: it never removes DisableWindowsUpdateAccess / DoNotConnectToWindowsUpdateInternetLocations.
    repairs: [],
    hint: 'A policy blocks Windows Update (DisableWindowsUpdateAccess or DoNotConnectToWindowsUpdateInternetLocations under Policies\\Microsoft\\Windows\\WindowsUpdate); change it in the policy that sets it.',
    source: S_WU,
  },
  0x8024002f: {
    symbol: 'WU_E_CALL_CANCELLED_BY_POLICY',
    meaning: 'The operation did not complete because the DisableWindowsUpdateAccess policy was set.',
    repairs: [],
    hint: 'DisableWindowsUpdateAccess=1 under Policies\\Microsoft\\Windows\\WindowsUpdate; change it in the policy that sets it.',
    source: S_WU,
  },
  0x80244011: {
    symbol: 'WU_E_PT_SUS_SERVER_NOT_SET',
    meaning: 'The WUServer policy value is missing although WSUS use is configured.',
    repairs: ['wsus-policy'],
    source: S_WU,
  },
  0x80244017: { symbol: 'WU_E_PT_HTTP_STATUS_DENIED', meaning: 'The update server answered HTTP 401 (authentication required).', repairs: [], source: S_WU },
  0x80244018: {
    symbol: 'WU_E_PT_HTTP_STATUS_FORBIDDEN',
    meaning: 'The update server answered HTTP 403 (forbidden).',
    cause: 'A proxy server in the way.',
    repairs: [],
    hint: 'Check the proxy settings (Automatically detect settings).',
    source: `${S_WU}; ${S_UPGRADE}`,
  },
  0x8024401b: { symbol: 'WU_E_PT_HTTP_STATUS_PROXY_AUTH_REQ', meaning: 'The proxy requires authentication (HTTP 407).', repairs: [], source: S_WU },
  0x8024401c: { symbol: 'WU_E_PT_HTTP_STATUS_REQUEST_TIMEOUT', meaning: 'The server timed out waiting for the request (HTTP 408).', repairs: [], source: S_WU },
  0x8024401f: { symbol: 'WU_E_PT_HTTP_STATUS_SERVER_ERROR', meaning: 'The update server answered HTTP 500.', repairs: [], source: S_WU },
  0x8024402f: {
    symbol: 'WU_E_PT_ECP_SUCCEEDED_WITH_ERRORS',
    meaning: 'External cab file processing completed with some errors.',
    cause: 'Web filtering software (Microsoft names Lightspeed Rocket) altering the downloads.',
    repairs: [],
    source: `${S_WU}; ${S_WU_COMMON}`,
  },
  0x80246007: { symbol: 'WU_E_DM_NOTDOWNLOADED', meaning: 'The update has not been downloaded.', repairs: ['wu-cache'], source: `${S_WU}; ${S_UPGRADE}` },
  0x80246008: {
    symbol: 'WU_E_DM_FAILTOCONNECTTOBITS',
    meaning: 'The download manager could not connect to BITS.',
    cause: 'BITS disabled or its security descriptor broken.',
    repairs: ['services'],
    source: S_WU,
  },
  0x80248007: { symbol: 'WU_E_DS_NODATA', meaning: 'The information requested is not in the data store.', repairs: ['wu-cache'], source: S_WU },
  0x8024a000: { symbol: 'WU_E_AU_NOSERVICE', meaning: 'Automatic Updates was unable to service incoming requests.', repairs: ['services'], source: S_WU },
  0x80242014: {
    symbol: 'WU_E_UH_POSTREBOOTSTILLPENDING',
    meaning: 'The post-reboot operation for the update is still in progress.',
    cause: 'The update installed its offline part and waits for the restart that completes it.',
    // A finished install waiting for its reboot is never reverted (issue #16): no `pending` repair.
    repairs: [],
    hint: BOOT_ONCE,
    source: `${S_WU}; ${S_WU_COMMON}`,
    result: 'reboot-pending',
  },
  0x8024200b: { symbol: 'WU_E_UH_INSTALLERFAILURE', meaning: 'The update handler failed to install the update (see CBS.log).', repairs: [], source: S_WU },
  0x80072ee2: {
    symbol: 'ERROR_WINHTTP_TIMEOUT',
    meaning: 'The connection to the update server timed out.',
    cause:
      'No connectivity to Windows Update, WSUS or Configuration Manager (firewall, proxy), or a hosts file mapping its servers to an address that does not answer.',
    repairs: ['wu-hosts'],
    source: `${S_WINHTTP}; ${S_WU_COMMON}`,
  },
  0x80072ee7: {
    symbol: 'ERROR_WINHTTP_NAME_NOT_RESOLVED',
    meaning: 'The server name could not be resolved.',
    cause: 'DNS/proxy, or a stale WUServer policy.',
    repairs: ['wsus-policy'],
    source: S_WINHTTP,
  },
  0x80072efd: {
    symbol: 'ERROR_WINHTTP_CANNOT_CONNECT',
    meaning: 'The connection to the server could not be established.',
    cause: 'Firewall rules or proxies blocking the Microsoft download URLs, a hosts file mapping them to 0.0.0.0 or 127.0.0.1, or a stale WUServer policy.',
    repairs: ['wsus-policy', 'wu-hosts'],
    source: `${S_WINHTTP}; ${S_WU_COMMON}`,
  },
  0x80072efe: {
    symbol: 'ERROR_WINHTTP_CONNECTION_ERROR',
    meaning: 'The connection with the server was terminated abnormally.',
    cause: 'BITS cannot transfer the file (proxy, network, or the destination folder cannot be written).',
    repairs: [],
    source: `${S_WINHTTP}; ${S_WU_COMMON}`,
  },
  0x80072f8f: {
    symbol: 'ERROR_WINHTTP_SECURE_FAILURE',
    meaning: 'A TLS/certificate error occurred talking to the server.',
    cause: 'A wrong clock, a missing root certificate, or TLS 1.2 not configured.',
    repairs: ['trust-cert'],
    source: `${S_WINHTTP}; ${S_WU_COMMON}`,
  },
  0x80190193: {
    symbol: 'HTTP_E_STATUS_FORBIDDEN',
    meaning: 'The server answered HTTP 403 (forbidden).',
    cause: 'A proxy or the server refused the request (authentication, IP filtering, blocked URL).',
    repairs: [],
    hint: 'Check the proxy and the URL access for the update or download endpoints.',
    source: S_HTTP,
  },
};
// ---------------------------------------------------------------------------------------------
// Win32 error names (winerror.h; ERROR_WINHTTP_* from winhttp.h, the 156xx appx codes from the appx
// deployment troubleshooting page). Compact "number NAME" list; 'ERROR_' is added unless the name
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
740 ELEVATION_REQUIRED|741 REPARSE|776 REQUEST_OUT_OF_SEQUENCE|995 OPERATION_ABORTED|996 IO_INCOMPLETE|997 IO_PENDING|998 NOACCESS|
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
6001 DECRYPTION_FAILED|6002 FILE_ENCRYPTED|12001 WINHTTP_OUT_OF_HANDLES|12002 WINHTTP_TIMEOUT|
12006 WINHTTP_UNRECOGNIZED_SCHEME|12007 WINHTTP_NAME_NOT_RESOLVED|12011 WINHTTP_OPTION_NOT_SETTABLE|
12012 WINHTTP_SHUTDOWN|12017 WINHTTP_OPERATION_CANCELLED|12029 WINHTTP_CANNOT_CONNECT|
12030 WINHTTP_CONNECTION_ERROR|12032 WINHTTP_RESEND_REQUEST|12037 WINHTTP_SECURE_CERT_DATE_INVALID|
12038 WINHTTP_SECURE_CERT_CN_INVALID|12045 WINHTTP_SECURE_INVALID_CA|12057 WINHTTP_SECURE_CERT_REV_FAILED|
12156 WINHTTP_REDIRECT_FAILED|12157 WINHTTP_SECURE_CHANNEL_ERROR|12166 WINHTTP_BAD_AUTO_PROXY_SCRIPT|
12167 WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT|12169 WINHTTP_SECURE_INVALID_CERT|12170 WINHTTP_SECURE_CERT_REVOKED|
12172 WINHTTP_NOT_INITIALIZED|12175 WINHTTP_SECURE_FAILURE|12178 WINHTTP_AUTO_PROXY_SERVICE_ERROR|
12179 WINHTTP_SECURE_CERT_WRONG_USAGE|12180 WINHTTP_AUTODETECTION_FAILED|12181 WINHTTP_HEADER_COUNT_EXCEEDED|
12182 WINHTTP_HEADER_SIZE_OVERFLOW|12184 WINHTTP_RESPONSE_DRAIN_OVERFLOW|
14001 SXS_CANT_GEN_ACTCTX|14003 SXS_ASSEMBLY_NOT_FOUND|14081 SXS_ASSEMBLY_MISSING|14083 SXS_CORRUPTION|
14098 SXS_COMPONENT_STORE_CORRUPT|14099 ADVANCED_INSTALLER_FAILED|14107 SXS_TRANSACTION_CLOSURE_INCOMPLETE|
14108 SMI_PRIMITIVE_INSTALLER_FAILED|14109 GENERIC_COMMAND_FAILED|14110 SXS_FILE_HASH_MISSING|
15010 EVT_CONFIGURATION_ERROR|15600 INSTALL_OPEN_PACKAGE_FAILED|15609 INSTALL_FAILED|
15613 INSTALL_PREREQUISITE_FAILED|15614 PACKAGE_REPOSITORY_CORRUPTED|15615 INSTALL_POLICY_FAILURE|
15617 DEPLOYMENT_BLOCKED_BY_POLICY|15618 PACKAGES_IN_USE|15622 INSTALL_PACKAGE_DOWNGRADE`;

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

/** Parse a compact "hex NAME|hex NAME" list into a map (the names get `prefix`). */
function hexNames(list: string, prefix: string, base = 0): ReadonlyMap<number, string> {
  const m = new Map<number, string>();
  for (const item of list.split('|')) {
    const t = item.trim();
    if (!t) continue;
    const sp = t.indexOf(' ');
    m.set((base + parseInt(t.slice(0, sp), 16)) >>> 0, prefix + t.slice(sp + 1));
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// WU_E_* names (wuerror.h, as the win32metadata bindings transcribe it): low 16 bits of 0x8024xxxx.
// ---------------------------------------------------------------------------------------------
const WU_LIST = `
0001 NO_SERVICE|0002 MAX_CAPACITY_REACHED|0003 UNKNOWN_ID|0004 NOT_INITIALIZED|0005 RANGEOVERLAP|
0006 TOOMANYRANGES|0007 INVALIDINDEX|0008 ITEMNOTFOUND|0009 OPERATIONINPROGRESS|000a COULDNOTCANCEL|
000b CALL_CANCELLED|000c NOOP|000d XML_MISSINGDATA|000e XML_INVALID|000f CYCLE_DETECTED|
0010 TOO_DEEP_RELATION|0011 INVALID_RELATIONSHIP|0012 REG_VALUE_INVALID|0013 DUPLICATE_ITEM|
0014 INVALID_INSTALL_REQUESTED|0016 INSTALL_NOT_ALLOWED|0017 NOT_APPLICABLE|0018 NO_USERTOKEN|
0019 EXCLUSIVE_INSTALL_CONFLICT|001a POLICY_NOT_SET|001b SELFUPDATE_IN_PROGRESS|001d INVALID_UPDATE|
001e SERVICE_STOP|001f NO_CONNECTION|0020 NO_INTERACTIVE_USER|0021 TIME_OUT|0022 ALL_UPDATES_FAILED|
0023 EULAS_DECLINED|0024 NO_UPDATE|0025 USER_ACCESS_DISABLED|0026 INVALID_UPDATE_TYPE|0027 URL_TOO_LONG|
0028 UNINSTALL_NOT_ALLOWED|0029 INVALID_PRODUCT_LICENSE|002a MISSING_HANDLER|002b LEGACYSERVER|
002c BIN_SOURCE_ABSENT|002d SOURCE_ABSENT|002e WU_DISABLED|002f CALL_CANCELLED_BY_POLICY|
0030 INVALID_PROXY_SERVER|0031 INVALID_FILE|0032 INVALID_CRITERIA|0033 EULA_UNAVAILABLE|
0034 DOWNLOAD_FAILED|0035 UPDATE_NOT_PROCESSED|0036 INVALID_OPERATION|0037 NOT_SUPPORTED|
0038 WINHTTP_INVALID_FILE|0039 TOO_MANY_RESYNC|0040 NO_SERVER_CORE_SUPPORT|0041 SYSPREP_IN_PROGRESS|
0042 UNKNOWN_SERVICE|0043 NO_UI_SUPPORT|0044 PER_MACHINE_UPDATE_ACCESS_DENIED|0045 UNSUPPORTED_SEARCHSCOPE|
0046 BAD_FILE_URL|0047 REVERT_NOT_ALLOWED|0048 INVALID_NOTIFICATION_INFO|0049 OUTOFRANGE|
004a SETUP_IN_PROGRESS|004b ORPHANED_DOWNLOAD_JOB|004c LOW_BATTERY|004d INFRASTRUCTUREFILE_INVALID_FORMAT|
004e INFRASTRUCTUREFILE_REQUIRES_SSL|004f IDLESHUTDOWN_OPCOUNT_DISCOVERY|0050 IDLESHUTDOWN_OPCOUNT_SEARCH|
0051 IDLESHUTDOWN_OPCOUNT_DOWNLOAD|0052 IDLESHUTDOWN_OPCOUNT_INSTALL|0053 IDLESHUTDOWN_OPCOUNT_OTHER|
0054 INTERACTIVE_CALL_CANCELLED|0055 AU_CALL_CANCELLED|0056 SYSTEM_UNSUPPORTED|0057 NO_SUCH_HANDLER_PLUGIN|
0058 INVALID_SERIALIZATION_VERSION|0059 NETWORK_COST_EXCEEDS_POLICY|005a CALL_CANCELLED_BY_HIDE|
005b CALL_CANCELLED_BY_INVALID|005c INVALID_VOLUMEID|005d UNRECOGNIZED_VOLUMEID|005e EXTENDEDERROR_NOTSET|
005f EXTENDEDERROR_FAILED|0060 IDLESHUTDOWN_OPCOUNT_SERVICEREGISTRATION|0061 FILETRUST_SHA2SIGNATURE_MISSING|
0062 UPDATE_NOT_APPROVED|0063 CALL_CANCELLED_BY_INTERACTIVE_SEARCH|0064 INSTALL_JOB_RESUME_NOT_ALLOWED|
0065 INSTALL_JOB_NOT_SUSPENDED|0066 INSTALL_USERCONTEXT_ACCESSDENIED|0436 PT_CATALOG_SYNC_REQUIRED|
0437 PT_SECURITY_VERIFICATION_FAILURE|0438 PT_ENDPOINT_UNREACHABLE|0439 PT_INVALID_FORMAT|043a PT_INVALID_URL|
043b PT_NWS_NOT_LOADED|043c PT_PROXY_AUTH_SCHEME_NOT_SUPPORTED|043d SERVICEPROP_NOTAVAIL|
043e PT_ENDPOINT_REFRESH_REQUIRED|043f PT_ENDPOINTURL_NOTAVAIL|0440 PT_ENDPOINT_DISCONNECTED|
0441 PT_INVALID_OPERATION|0442 PT_OBJECT_FAULTED|0443 PT_NUMERIC_OVERFLOW|0444 PT_OPERATION_ABORTED|
0445 PT_OPERATION_ABANDONED|0446 PT_QUOTA_EXCEEDED|0447 PT_NO_TRANSLATION_AVAILABLE|0448 PT_ADDRESS_IN_USE|
0449 PT_ADDRESS_NOT_AVAILABLE|044a PT_OTHER|044b PT_SECURITY_SYSTEM_FAILURE|0fff UNEXPECTED|
1001 MSI_WRONG_VERSION|1002 MSI_NOT_CONFIGURED|1003 MSP_DISABLED|1004 MSI_WRONG_APP_CONTEXT|
1005 MSI_NOT_PRESENT|1fff MSP_UNEXPECTED|
2000 UH_REMOTEUNAVAILABLE|2001 UH_LOCALONLY|2002 UH_UNKNOWNHANDLER|2003 UH_REMOTEALREADYACTIVE|
2004 UH_DOESNOTSUPPORTACTION|2005 UH_WRONGHANDLER|2006 UH_INVALIDMETADATA|2007 UH_INSTALLERHUNG|
2008 UH_OPERATIONCANCELLED|2009 UH_BADHANDLERXML|200a UH_CANREQUIREINPUT|200b UH_INSTALLERFAILURE|
200c UH_FALLBACKTOSELFCONTAINED|200d UH_NEEDANOTHERDOWNLOAD|200e UH_NOTIFYFAILURE|
200f UH_INCONSISTENT_FILE_NAMES|2010 UH_FALLBACKERROR|2011 UH_TOOMANYDOWNLOADREQUESTS|
2012 UH_UNEXPECTEDCBSRESPONSE|2013 UH_BADCBSPACKAGEID|2014 UH_POSTREBOOTSTILLPENDING|
2015 UH_POSTREBOOTRESULTUNKNOWN|2016 UH_POSTREBOOTUNEXPECTEDSTATE|2017 UH_NEW_SERVICING_STACK_REQUIRED|
2018 UH_CALLED_BACK_FAILURE|2019 UH_CUSTOMINSTALLER_INVALID_SIGNATURE|201a UH_UNSUPPORTED_INSTALLCONTEXT|
201b UH_INVALID_TARGETSESSION|201c UH_DECRYPTFAILURE|201d UH_HANDLER_DISABLEDUNTILREBOOT|
201e UH_APPX_NOT_PRESENT|201f UH_NOTREADYTOCOMMIT|2020 UH_APPX_INVALID_PACKAGE_VOLUME|
2021 UH_APPX_DEFAULT_PACKAGE_VOLUME_UNAVAILABLE|2022 UH_APPX_INSTALLED_PACKAGE_VOLUME_UNAVAILABLE|
2023 UH_APPX_PACKAGE_FAMILY_NOT_FOUND|2024 UH_APPX_SYSTEM_VOLUME_NOT_FOUND|2fff UH_UNEXPECTED|
3001 INSTALLATION_RESULTS_UNKNOWN_VERSION|3002 INSTALLATION_RESULTS_INVALID_DATA|
3003 INSTALLATION_RESULTS_NOT_FOUND|3004 TRAYICON_FAILURE|3ffd NON_UI_MODE|3ffe WUCLTUI_UNSUPPORTED_VERSION|
3fff AUCLIENT_UNEXPECTED|
4000 PT_SOAPCLIENT_BASE|4001 PT_SOAPCLIENT_INITIALIZE|4002 PT_SOAPCLIENT_OUTOFMEMORY|4003 PT_SOAPCLIENT_GENERATE|
4004 PT_SOAPCLIENT_CONNECT|4005 PT_SOAPCLIENT_SEND|4006 PT_SOAPCLIENT_SERVER|4007 PT_SOAPCLIENT_SOAPFAULT|
4008 PT_SOAPCLIENT_PARSEFAULT|4009 PT_SOAPCLIENT_READ|400a PT_SOAPCLIENT_PARSE|400b PT_SOAP_VERSION|
400c PT_SOAP_MUST_UNDERSTAND|400d PT_SOAP_CLIENT|400e PT_SOAP_SERVER|400f PT_WMI_ERROR|
4010 PT_EXCEEDED_MAX_SERVER_TRIPS|4011 PT_SUS_SERVER_NOT_SET|4012 PT_DOUBLE_INITIALIZATION|
4013 PT_INVALID_COMPUTER_NAME|4015 PT_REFRESH_CACHE_REQUIRED|4016 PT_HTTP_STATUS_BAD_REQUEST|
4017 PT_HTTP_STATUS_DENIED|4018 PT_HTTP_STATUS_FORBIDDEN|4019 PT_HTTP_STATUS_NOT_FOUND|
401a PT_HTTP_STATUS_BAD_METHOD|401b PT_HTTP_STATUS_PROXY_AUTH_REQ|401c PT_HTTP_STATUS_REQUEST_TIMEOUT|
401d PT_HTTP_STATUS_CONFLICT|401e PT_HTTP_STATUS_GONE|401f PT_HTTP_STATUS_SERVER_ERROR|
4020 PT_HTTP_STATUS_NOT_SUPPORTED|4021 PT_HTTP_STATUS_BAD_GATEWAY|4022 PT_HTTP_STATUS_SERVICE_UNAVAIL|
4023 PT_HTTP_STATUS_GATEWAY_TIMEOUT|4024 PT_HTTP_STATUS_VERSION_NOT_SUP|4025 PT_FILE_LOCATIONS_CHANGED|
4026 PT_REGISTRATION_NOT_SUPPORTED|4027 PT_NO_AUTH_PLUGINS_REQUESTED|4028 PT_NO_AUTH_COOKIES_CREATED|
4029 PT_INVALID_CONFIG_PROP|402a PT_CONFIG_PROP_MISSING|402b PT_HTTP_STATUS_NOT_MAPPED|
402c PT_WINHTTP_NAME_NOT_RESOLVED|402d PT_LOAD_SHEDDING|402f PT_ECP_SUCCEEDED_WITH_ERRORS|
4030 PT_ECP_INIT_FAILED|4031 PT_ECP_INVALID_FILE_FORMAT|4032 PT_ECP_INVALID_METADATA|
4033 PT_ECP_FAILURE_TO_EXTRACT_DIGEST|4034 PT_ECP_FAILURE_TO_DECOMPRESS_CAB_FILE|
4035 PT_ECP_FILE_LOCATION_ERROR|4fff PT_UNEXPECTED|
5001 REDIRECTOR_LOAD_XML|5002 REDIRECTOR_S_FALSE|5003 REDIRECTOR_ID_SMALLER|5004 REDIRECTOR_UNKNOWN_SERVICE|
5005 REDIRECTOR_UNSUPPORTED_CONTENTTYPE|5006 REDIRECTOR_INVALID_RESPONSE|
5008 REDIRECTOR_ATTRPROVIDER_EXCEEDED_MAX_NAMEVALUE|5009 REDIRECTOR_ATTRPROVIDER_INVALID_NAME|
500a REDIRECTOR_ATTRPROVIDER_INVALID_VALUE|500b REDIRECTOR_SLS_GENERIC_ERROR|500c REDIRECTOR_CONNECT_POLICY|
500d REDIRECTOR_ONLINE_DISALLOWED|502d PT_SAME_REDIR_ID|502e PT_NO_MANAGED_RECOVER|50ff REDIRECTOR_UNEXPECTED|
5101 SIH_VERIFY_DOWNLOAD_ENGINE|5102 SIH_VERIFY_DOWNLOAD_PAYLOAD|5103 SIH_VERIFY_STAGE_ENGINE|
5104 SIH_VERIFY_STAGE_PAYLOAD|5105 SIH_ACTION_NOT_FOUND|5106 SIH_SLS_PARSE|5107 SIH_INVALIDHASH|
5108 SIH_NO_ENGINE|5109 SIH_POST_REBOOT_INSTALL_FAILED|510a SIH_POST_REBOOT_NO_CACHED_SLS_RESPONSE|
510b SIH_PARSE|510c SIH_SECURITY|510d SIH_PPL|510e SIH_POLICY|510f SIH_STDEXCEPTION|5110 SIH_NONSTDEXCEPTION|
5111 SIH_ENGINE_EXCEPTION|5112 SIH_BLOCKED_FOR_PLATFORM|5113 SIH_ANOTHER_INSTANCE_RUNNING|
5114 SIH_DNSRESILIENCY_OFF|51ff SIH_UNEXPECTED|
6001 DM_URLNOTAVAILABLE|6002 DM_INCORRECTFILEHASH|6003 DM_UNKNOWNALGORITHM|6004 DM_NEEDDOWNLOADREQUEST|
6005 DM_NONETWORK|6006 DM_WRONGBITSVERSION|6007 DM_NOTDOWNLOADED|6008 DM_FAILTOCONNECTTOBITS|
6009 DM_BITSTRANSFERERROR|600a DM_DOWNLOADLOCATIONCHANGED|600b DM_CONTENTCHANGED|
600c DM_DOWNLOADLIMITEDBYUPDATESIZE|600e DM_UNAUTHORIZED|600f DM_BG_ERROR_TOKEN_REQUIRED|
6010 DM_DOWNLOADSANDBOXNOTFOUND|6011 DM_DOWNLOADFILEPATHUNKNOWN|6012 DM_DOWNLOADFILEMISSING|
6013 DM_UPDATEREMOVED|6014 DM_READRANGEFAILED|6016 DM_UNAUTHORIZED_NO_USER|6017 DM_UNAUTHORIZED_LOCAL_USER|
6018 DM_UNAUTHORIZED_DOMAIN_USER|6019 DM_UNAUTHORIZED_MSA_USER|601a DM_FALLINGBACKTOBITS|
601b DM_DOWNLOAD_VOLUME_CONFLICT|601c DM_SANDBOX_HASH_MISMATCH|601d DM_HARDRESERVEID_CONFLICT|
601e DM_DOSVC_REQUIRED|6fff DM_UNEXPECTED|
7001 OL_INVALID_SCANFILE|7002 OL_NEWCLIENT_REQUIRED|7003 INVALID_EVENT_PAYLOAD|7004 INVALID_EVENT_PAYLOADSIZE|
7005 SERVICE_NOT_REGISTERED|7fff OL_UNEXPECTED|7100 METADATA_NOOP|7101 METADATA_CONFIG_INVALID_BINARY_ENCODING|
7102 METADATA_FETCH_CONFIG|7104 METADATA_INVALID_PARAMETER|7105 METADATA_UNEXPECTED|
7106 METADATA_NO_VERIFICATION_DATA|7107 METADATA_BAD_FRAGMENTSIGNING_CONFIG|
7108 METADATA_FAILURE_PROCESSING_FRAGMENTSIGNING_CONFIG|7120 METADATA_XML_MISSING|
7121 METADATA_XML_FRAGMENTSIGNING_MISSING|7122 METADATA_XML_MODE_MISSING|7123 METADATA_XML_MODE_INVALID|
7124 METADATA_XML_VALIDITY_INVALID|7125 METADATA_XML_LEAFCERT_MISSING|7126 METADATA_XML_INTERMEDIATECERT_MISSING|
7127 METADATA_XML_LEAFCERT_ID_MISSING|7128 METADATA_XML_BASE64CERDATA_MISSING|7140 METADATA_BAD_SIGNATURE|
7141 METADATA_UNSUPPORTED_HASH_ALG|7142 METADATA_SIGNATURE_VERIFY_FAILED|
7150 METADATATRUST_CERTIFICATECHAIN_VERIFICATION|7151 METADATATRUST_UNTRUSTED_CERTIFICATECHAIN|
7160 METADATA_TIMESTAMP_TOKEN_MISSING|7161 METADATA_TIMESTAMP_TOKEN_VERIFICATION_FAILED|
7162 METADATA_TIMESTAMP_TOKEN_UNTRUSTED|7163 METADATA_TIMESTAMP_TOKEN_VALIDITY_WINDOW|
7164 METADATA_TIMESTAMP_TOKEN_SIGNATURE|7165 METADATA_TIMESTAMP_TOKEN_CERTCHAIN|
7166 METADATA_TIMESTAMP_TOKEN_REFRESHONLINE|7167 METADATA_TIMESTAMP_TOKEN_ALL_BAD|
7168 METADATA_TIMESTAMP_TOKEN_NODATA|7169 METADATA_TIMESTAMP_TOKEN_CACHELOOKUP|
717e METADATA_TIMESTAMP_TOKEN_VALIDITYWINDOW_UNEXPECTED|717f METADATA_TIMESTAMP_TOKEN_UNEXPECTED|
7180 METADATA_CERT_MISSING|7181 METADATA_LEAFCERT_BAD_TRANSPORT_ENCODING|
7182 METADATA_INTCERT_BAD_TRANSPORT_ENCODING|7183 METADATA_CERT_UNTRUSTED|
8000 DS_SHUTDOWN|8001 DS_INUSE|8002 DS_INVALID|8003 DS_TABLEMISSING|8004 DS_TABLEINCORRECT|
8005 DS_INVALIDTABLENAME|8006 DS_BADVERSION|8007 DS_NODATA|8008 DS_MISSINGDATA|8009 DS_MISSINGREF|
800a DS_UNKNOWNHANDLER|800b DS_CANTDELETE|800c DS_LOCKTIMEOUTEXPIRED|800d DS_NOCATEGORIES|800e DS_ROWEXISTS|
800f DS_STOREFILELOCKED|8010 DS_CANNOTREGISTER|8011 DS_UNABLETOSTART|8013 DS_DUPLICATEUPDATEID|
8014 DS_UNKNOWNSERVICE|8015 DS_SERVICEEXPIRED|8016 DS_DECLINENOTALLOWED|8017 DS_TABLESESSIONMISMATCH|
8018 DS_SESSIONLOCKMISMATCH|8019 DS_NEEDWINDOWSSERVICE|801a DS_INVALIDOPERATION|801b DS_SCHEMAMISMATCH|
801c DS_RESETREQUIRED|801d DS_IMPERSONATED|801e DS_DATANOTAVAILABLE|801f DS_DATANOTLOADED|
8020 DS_NODATA_NOSUCHREVISION|8021 DS_NODATA_NOSUCHUPDATE|8022 DS_NODATA_EULA|8023 DS_NODATA_SERVICE|
8024 DS_NODATA_COOKIE|8025 DS_NODATA_TIMER|8026 DS_NODATA_CCR|8027 DS_NODATA_FILE|8028 DS_NODATA_DOWNLOADJOB|
8029 DS_NODATA_TMI|8fff DS_UNEXPECTED|
9001 INVENTORY_PARSEFAILED|9002 INVENTORY_GET_INVENTORY_TYPE_FAILED|9003 INVENTORY_RESULT_UPLOAD_FAILED|
9004 INVENTORY_UNEXPECTED|9005 INVENTORY_WMI_ERROR|
a000 AU_NOSERVICE|a002 AU_NONLEGACYSERVER|a003 AU_LEGACYCLIENTDISABLED|a004 AU_PAUSED|
a005 AU_NO_REGISTERED_SERVICE|a006 AU_DETECT_SVCID_MISMATCH|a007 REBOOT_IN_PROGRESS|a008 AU_OOBE_IN_PROGRESS|
afff AU_UNEXPECTED|
b001 WUTASK_INPROGRESS|b002 WUTASK_STATUS_DISABLED|b003 WUTASK_NOT_STARTED|b004 WUTASK_RETRY|
b005 WUTASK_CANCELINSTALL_DISALLOWED|b101 UNKNOWN_HARDWARECAPABILITY|b102 BAD_XML_HARDWARECAPABILITY|
b103 WMI_NOT_SUPPORTED|b104 UPDATE_MERGE_NOT_ALLOWED|b105 SKIPPED_UPDATE_INSTALLATION|b201 SLS_INVALID_REVISION|
b301 FILETRUST_DUALSIGNATURE_RSA|b302 FILETRUST_DUALSIGNATURE_ECC|b303 TRUST_SUBJECT_NOT_TRUSTED|
b304 TRUST_PROVIDER_UNKNOWN|
c001 DRV_PRUNED|c002 DRV_NOPROP_OR_LEGACY|c003 DRV_REG_MISMATCH|c004 DRV_NO_METADATA|c005 DRV_MISSING_ATTRIBUTE|
c006 DRV_SYNC_FAILED|c007 DRV_NO_PRINTER_CONTENT|c008 DRV_DEVICE_PROBLEM|cfff DRV_UNEXPECTED|
d001 SETUP_INVALID_INFDATA|d002 SETUP_INVALID_IDENTDATA|d003 SETUP_ALREADY_INITIALIZED|d004 SETUP_NOT_INITIALIZED|
d005 SETUP_SOURCE_VERSION_MISMATCH|d006 SETUP_TARGET_VERSION_GREATER|d007 SETUP_REGISTRATION_FAILED|
d008 SELFUPDATE_SKIP_ON_FAILURE|d009 SETUP_SKIP_UPDATE|d00a SETUP_UNSUPPORTED_CONFIGURATION|
d00b SETUP_BLOCKED_CONFIGURATION|d00c SETUP_REBOOT_TO_FIX|d00d SETUP_ALREADYRUNNING|d00e SETUP_REBOOTREQUIRED|
d00f SETUP_HANDLER_EXEC_FAILURE|d010 SETUP_INVALID_REGISTRY_DATA|d011 SELFUPDATE_REQUIRED|
d012 SELFUPDATE_REQUIRED_ADMIN|d013 SETUP_WRONG_SERVER_VERSION|d014 SETUP_DEFERRABLE_REBOOT_PENDING|
d015 SETUP_NON_DEFERRABLE_REBOOT_PENDING|d016 SETUP_FAIL|dfff SETUP_UNEXPECTED|
e001 EE_UNKNOWN_EXPRESSION|e002 EE_INVALID_EXPRESSION|e003 EE_MISSING_METADATA|e004 EE_INVALID_VERSION|
e005 EE_NOT_INITIALIZED|e006 EE_INVALID_ATTRIBUTEDATA|e007 EE_CLUSTER_ERROR|efff EE_UNEXPECTED|
f001 REPORTER_EVENTCACHECORRUPT|f002 REPORTER_EVENTNAMESPACEPARSEFAILED|f003 INVALID_EVENT|f004 SERVER_BUSY|
f005 CALLBACK_COOKIE_NOT_FOUND|ffff REPORTER_UNEXPECTED`;

/** WU_S_* success codes (0x0024xxxx), same transcription. */
const WU_S_LIST = `
0001 SERVICE_STOP|0002 SELFUPDATE|0003 UPDATE_ERROR|0004 MARKED_FOR_DISCONNECT|0005 REBOOT_REQUIRED|
0006 ALREADY_INSTALLED|0007 ALREADY_UNINSTALLED|0008 ALREADY_DOWNLOADED|0009 SOME_UPDATES_SKIPPED_ON_BATTERY|
000a ALREADY_REVERTED|0010 SEARCH_CRITERIA_NOT_SUPPORTED|2015 UH_INSTALLSTILLPENDING|
2016 UH_DOWNLOAD_SIZE_CALCULATED|5001 SIH_NOOP|6001 DM_ALREADYDOWNLOADING|7101 METADATA_SKIPPED_BY_ENFORCEMENTMODE|
7102 METADATA_IGNORED_SIGNATURE_VERIFICATION|8001 SEARCH_LOAD_SHEDDING`;

export const WU_ERRORS: ReadonlyMap<number, string> = hexNames(WU_LIST, 'WU_E_', 0x80240000);
const WU_SUCCESS: ReadonlyMap<number, string> = hexNames(WU_S_LIST, 'WU_S_', 0x00240000);

// ---------------------------------------------------------------------------------------------
// CBS_E_* / PSFX_E_* names (Windows SDK winerror.h block, from the public transcription): low 16
// bits of 0x800Fxxxx. 0x800F0954 is left to the curated table (two public names).
// ---------------------------------------------------------------------------------------------
const CBS_LIST = `
0800 CBS_E_INTERNAL_ERROR|0801 CBS_E_NOT_INITIALIZED|0802 CBS_E_ALREADY_INITIALIZED|0803 CBS_E_INVALID_PARAMETER|
0804 CBS_E_OPEN_FAILED|0805 CBS_E_INVALID_PACKAGE|0806 CBS_E_PENDING|0807 CBS_E_NOT_INSTALLABLE|
0808 CBS_E_IMAGE_NOT_ACCESSIBLE|0809 CBS_E_ARRAY_ELEMENT_MISSING|080a CBS_E_REESTABLISH_SESSION|
080b CBS_E_PROPERTY_NOT_AVAILABLE|080c CBS_E_UNKNOWN_UPDATE|080d CBS_E_MANIFEST_INVALID_ITEM|
080e CBS_E_MANIFEST_VALIDATION_DUPLICATE_ATTRIBUTES|080f CBS_E_MANIFEST_VALIDATION_DUPLICATE_ELEMENT|
0810 CBS_E_MANIFEST_VALIDATION_MISSING_REQUIRED_ATTRIBUTES|0811 CBS_E_MANIFEST_VALIDATION_MISSING_REQUIRED_ELEMENTS|
0812 CBS_E_MANIFEST_VALIDATION_UPDATES_PARENT_MISSING|0813 CBS_E_INVALID_INSTALL_STATE|0814 CBS_E_INVALID_CONFIG_VALUE|
0815 CBS_E_INVALID_CARDINALITY|0816 CBS_E_DPX_JOB_STATE_SAVED|0817 CBS_E_PACKAGE_DELETED|0818 CBS_E_IDENTITY_MISMATCH|
0819 CBS_E_DUPLICATE_UPDATENAME|081a CBS_E_INVALID_DRIVER_OPERATION_KEY|081b CBS_E_UNEXPECTED_PROCESSOR_ARCHITECTURE|
081c CBS_E_EXCESSIVE_EVALUATION|081d CBS_E_CYCLE_EVALUATION|081e CBS_E_NOT_APPLICABLE|081f CBS_E_SOURCE_MISSING|
0820 CBS_E_CANCEL|0821 CBS_E_ABORT|0822 CBS_E_ILLEGAL_COMPONENT_UPDATE|0823 CBS_E_NEW_SERVICING_STACK_REQUIRED|
0824 CBS_E_SOURCE_NOT_IN_LIST|0825 CBS_E_CANNOT_UNINSTALL|0826 CBS_E_PENDING_VICTIM|0827 CBS_E_STACK_SHUTDOWN_REQUIRED|
0828 CBS_E_INSUFFICIENT_DISK_SPACE|0829 CBS_E_AC_POWER_REQUIRED|082a CBS_E_STACK_UPDATE_FAILED_REBOOT_REQUIRED|
082b CBS_E_SQM_REPORT_IGNORED_AI_FAILURES_ON_TRANSACTION_RESOLVE|082c CBS_E_DEPENDENT_FAILURE|
082d CBS_E_PAC_INITIAL_FAILURE|082e CBS_E_NOT_ALLOWED_OFFLINE|082f CBS_E_EXCLUSIVE_WOULD_MERGE|
0830 CBS_E_IMAGE_UNSERVICEABLE|0831 CBS_E_STORE_CORRUPTION|0832 CBS_E_STORE_TOO_MUCH_CORRUPTION|
0840 CBS_E_SESSION_CORRUPT|0841 CBS_E_SESSION_INTERRUPTED|0842 CBS_E_SESSION_FINALIZED|0843 CBS_E_SESSION_READONLY|
0900 CBS_E_XML_PARSER_FAILURE|0901 CBS_E_MANIFEST_VALIDATION_MULTIPLE_UPDATE_COMPONENT_ON_SAME_FAMILY_NOT_ALLOWED|
0902 CBS_E_BUSY|0903 CBS_E_INVALID_RECALL|0904 CBS_E_MORE_THAN_ONE_ACTIVE_EDITION|0905 CBS_E_NO_ACTIVE_EDITION|
0906 CBS_E_DOWNLOAD_FAILURE|0907 CBS_E_GROUPPOLICY_DISALLOWED|0908 CBS_E_METERED_NETWORK|0909 CBS_E_PUBLIC_OBJECT_LEAK|
090b CBS_E_REPAIR_PACKAGE_CORRUPT|090c CBS_E_COMPONENT_NOT_INSTALLED_BY_CBS|090d CBS_E_MISSING_PACKAGE_MAPPING_INDEX|
090e CBS_E_EMPTY_PACKAGE_MAPPING_INDEX|090f CBS_E_WINDOWS_UPDATE_SEARCH_FAILURE|
0910 CBS_E_WINDOWS_AUTOMATIC_UPDATE_SETTING_DISALLOWED|0920 CBS_E_HANG_DETECTED|0921 CBS_E_PRIMITIVES_FAILED|
0922 CBS_E_INSTALLERS_FAILED|0923 CBS_E_SAFEMODE_ENTERED|0924 CBS_E_SESSIONS_LEAKED|0925 CBS_E_INVALID_EXECUTESTATE|
0940 CBS_E_WUSUS_MAPPING_UNAVAILABLE|0941 CBS_E_WU_MAPPING_UNAVAILABLE|0942 CBS_E_WUSUS_BYPASS_MAPPING_UNAVAILABLE|
0943 CBS_E_WUSUS_MISSING_PACKAGE_MAPPING_INDEX|0944 CBS_E_WU_MISSING_PACKAGE_MAPPING_INDEX|
0945 CBS_E_WUSUS_BYPASS_MISSING_PACKAGE_MAPPING_INDEX|0946 CBS_E_SOURCE_MISSING_FROM_WUSUS_CAB|
0947 CBS_E_SOURCE_MISSING_FROM_WUSUS_EXPRESS|0948 CBS_E_SOURCE_MISSING_FROM_WU_CAB|
0949 CBS_E_SOURCE_MISSING_FROM_WU_EXPRESS|094a CBS_E_SOURCE_MISSING_FROM_WUSUS_BYPASS_CAB|
094b CBS_E_SOURCE_MISSING_FROM_WUSUS_BYPASS_EXPRESS|094c CBS_E_3RD_PARTY_MAPPING_UNAVAILABLE|
094d CBS_E_3RD_PARTY_MISSING_PACKAGE_MAPPING_INDEX|094e CBS_E_SOURCE_MISSING_FROM_3RD_PARTY_CAB|
094f CBS_E_SOURCE_MISSING_FROM_3RD_PARTY_EXPRESS|0950 CBS_E_INVALID_WINDOWS_UPDATE_COUNT|
0951 CBS_E_INVALID_NO_PRODUCT_REGISTERED|0952 CBS_E_INVALID_ACTION_LIST_PACKAGE_COUNT|
0953 CBS_E_INVALID_ACTION_LIST_INSTALL_REASON|0955 CBS_E_INVALID_PACKAGE_REQUEST_ON_MULTILINGUAL_FOD|
0980 PSFX_E_DELTA_NOT_SUPPORTED_FOR_COMPONENT|0981 PSFX_E_REVERSE_AND_FORWARD_DELTAS_MISSING|
0982 PSFX_E_MATCHING_COMPONENT_NOT_FOUND|0983 PSFX_E_MATCHING_COMPONENT_DIRECTORY_MISSING|
0984 PSFX_E_MATCHING_BINARY_MISSING|0985 PSFX_E_APPLY_REVERSE_DELTA_FAILED|0986 PSFX_E_APPLY_FORWARD_DELTA_FAILED|
0987 PSFX_E_NULL_DELTA_HYDRATION_FAILED|0988 PSFX_E_INVALID_DELTA_COMBINATION|0989 PSFX_E_REVERSE_DELTA_MISSING`;

export const CBS_ERRORS: ReadonlyMap<number, string> = hexNames(CBS_LIST, '', 0x800f0000);

// ---------------------------------------------------------------------------------------------
// NTSTATUS names (ntstatus.h): STATUS_SXS_* of the component store and the classics update logs show.
// ---------------------------------------------------------------------------------------------
const NT_LIST = `
00000000 SUCCESS|00000103 PENDING|00000104 REPARSE|40000000 OBJECT_NAME_EXISTS|80000005 BUFFER_OVERFLOW|
80000006 NO_MORE_FILES|c0000001 UNSUCCESSFUL|c0000002 NOT_IMPLEMENTED|c0000005 ACCESS_VIOLATION|
c0000008 INVALID_HANDLE|c000000d INVALID_PARAMETER|c000000f NO_SUCH_FILE|c0000017 NO_MEMORY|
c0000022 ACCESS_DENIED|c0000023 BUFFER_TOO_SMALL|c0000034 OBJECT_NAME_NOT_FOUND|c0000035 OBJECT_NAME_COLLISION|
c000003a OBJECT_PATH_NOT_FOUND|c0000043 SHARING_VIOLATION|c0000054 FILE_LOCK_CONFLICT|c000007f DISK_FULL|
c000009a INSUFFICIENT_RESOURCES|c0000102 FILE_CORRUPT_ERROR|c0000120 CANCELLED|c0000135 DLL_NOT_FOUND|
c0000142 DLL_INIT_FAILED|c000014c REGISTRY_CORRUPT|c0000185 IO_DEVICE_ERROR|c00000bb NOT_SUPPORTED|
c0000221 IMAGE_CHECKSUM_MISMATCH|c0000225 NOT_FOUND|c0000409 STACK_BUFFER_OVERRUN|c0000428 INVALID_IMAGE_HASH|
c0150001 SXS_SECTION_NOT_FOUND|c0150002 SXS_CANT_GEN_ACTCTX|c0150003 SXS_INVALID_ACTCTXDATA_FORMAT|
c0150004 SXS_ASSEMBLY_NOT_FOUND|c0150005 SXS_MANIFEST_FORMAT_ERROR|c0150006 SXS_MANIFEST_PARSE_ERROR|
c0150007 SXS_ACTIVATION_CONTEXT_DISABLED|c0150008 SXS_KEY_NOT_FOUND|c0150009 SXS_VERSION_CONFLICT|
c015000a SXS_WRONG_SECTION_TYPE|c015000b SXS_THREAD_QUERIES_DISABLED|c015000c SXS_ASSEMBLY_MISSING|
4015000d SXS_RELEASE_ACTIVATION_CONTEXT|c015000e SXS_PROCESS_DEFAULT_ALREADY_SET|c015000f SXS_EARLY_DEACTIVATION|
c0150010 SXS_INVALID_DEACTIVATION|c0150011 SXS_MULTIPLE_DEACTIVATION|c0150012 SXS_SYSTEM_DEFAULT_ACTIVATION_CONTEXT_EMPTY|
c0150013 SXS_PROCESS_TERMINATION_REQUESTED|c0150014 SXS_CORRUPT_ACTIVATION_STACK|c0150015 SXS_CORRUPTION|
c0150016 SXS_INVALID_IDENTITY_ATTRIBUTE_VALUE|c0150017 SXS_INVALID_IDENTITY_ATTRIBUTE_NAME|
c0150018 SXS_IDENTITY_DUPLICATE_ATTRIBUTE|c0150019 SXS_IDENTITY_PARSE_ERROR|c015001a SXS_COMPONENT_STORE_CORRUPT|
c015001b SXS_FILE_HASH_MISMATCH|c015001c SXS_MANIFEST_IDENTITY_SAME_BUT_CONTENTS_DIFFERENT|
c015001d SXS_IDENTITIES_DIFFERENT|c015001e SXS_ASSEMBLY_IS_NOT_A_DEPLOYMENT|c015001f SXS_FILE_NOT_PART_OF_ASSEMBLY|
c0150020 ADVANCED_INSTALLER_FAILED|c0150021 XML_ENCODING_MISMATCH|c0150022 SXS_MANIFEST_TOO_BIG|
c0150023 SXS_SETTING_NOT_REGISTERED|c0150024 SXS_TRANSACTION_CLOSURE_INCOMPLETE|c0150025 SMI_PRIMITIVE_INSTALLER_FAILED|
c0150026 GENERIC_COMMAND_FAILED|c0150027 SXS_FILE_HASH_MISSING`;

export const NT_STATUSES: ReadonlyMap<number, string> = hexNames(NT_LIST, 'STATUS_');

/** NTSTATUS facilities (ntstatus.h FACILITY_*, bits 16-27) and what they cover. */
const NT_FACILITIES: Record<number, [string, string?]> = {
  0x1: ['FACILITY_DEBUGGER'],
  0x2: ['FACILITY_RPC_RUNTIME'],
  0x3: ['FACILITY_RPC_STUBS'],
  0x4: ['FACILITY_IO_ERROR_CODE'],
  0x7: ['FACILITY_NTWIN32', 'a Win32 error as NTSTATUS'],
  0x13: ['FACILITY_CLUSTER_ERROR_CODE'],
  0x15: ['FACILITY_SXS_ERROR_CODE', 'side-by-side, the component store'],
  0x19: ['FACILITY_TRANSACTION'],
  0x1c: ['FACILITY_FILTER_MANAGER'],
};

// ---------------------------------------------------------------------------------------------
// Windows Setup (MOSETUP_E_*): the "Modern setup errors" list of Resolve Windows upgrade errors.
// ---------------------------------------------------------------------------------------------
const SETUP_LIST = `
0100 VERSION_MISMATCH|0101 SETUP_PLATFORM|0102 SHUTDOWN_BLOCK|0103 COMPAT_TIMEOUT|0104 PROCESS_TIMEOUT|
0105 TEST_MODE|0106 TERMINATE_PROCESS|0107 CLEANUP_PENDING|0108 REPORTING|0109 COMPAT_TERMINATE|
010a UNKNOWN_CMD_LINE|010b INSTALL_IMAGE_NOT_FOUND|010c AUTOMATION_INVALID|010d INVALID_CMD_LINE|
010e EULA_ACCEPT_REQUIRED|0110 EULA_CANCEL|0111 ADVERTISE_CANCEL|0112 TARGET_DRIVE_NOT_FOUND|0113 EULA_DECLINED|
011e FLIGHTING_BVT|011f PROCESS_CRASHED|0120 EULA_TIMEOUT|0121 ADVERTISE_TIMEOUT|0122 DOWNLOADDISKSPACE_TIMEOUT|
0123 INSTALLDISKSPACE_TIMEOUT|0124 COMPAT_SYSREQ_TIMEOUT|0125 COMPAT_DOWNLOADREQ_TIMEOUT|
0126 GATHER_OS_STATE_SIGNATURE|0127 UNINSTALL_ALLOWED_ABORT|0128 MISSING_TASK|0129 UPDATEMEDIA_REQUESTED|
012f FINALIZE_ALREADY_REQUESTED|0130 INSTALL_HASH_MISSING|0131 INSTALL_HASH_MISMATCH|01df DISK_FULL|
01e0 GATHER_OS_STATE_FAILED|01e1 PROCESS_SUSPENDED|01e2 PREINSTALL_SCRIPT_FAILED|01e3 PRECOMMIT_SCRIPT_FAILED|
01e4 FAILURE_SCRIPT_FAILED|01e5 SCRIPT_TIMEOUT|0200 COMPAT_SYSREQ_BLOCK|0201 COMPAT_SYSREQ_CANCEL|
0202 COMPAT_DOWNLOADREQ_BLOCK|0203 COMPAT_DOWNLOADREQ_CANCEL|0204 COMPAT_MIGCHOICE_BLOCK|0205 COMPAT_MIGCHOICE_CANCEL|
0206 COMPAT_DEVICEREQ_BLOCK|0207 COMPAT_DEVICEREQ_CANCEL|0208 COMPAT_INSTALLREQ_BLOCK|0209 COMPAT_INSTALLREQ_CANCEL|
020a COMPAT_RECOVERYREQ_BLOCK|020b COMPAT_RECOVERYREQ_CANCEL|020c DOWNLOADDISKSPACE_BLOCK|020d DOWNLOADDISKSPACE_CANCEL|
020e INSTALLDISKSPACE_BLOCK|020f INSTALLDISKSPACE_CANCEL|0210 COMPAT_SCANONLY|0211 DOWNLOAD_UNPACK_DISKSPACE_BLOCK|
0212 DOWNLOAD_UNPACK_DISKSPACE_MULTIARCH_BLOCK|0213 NO_OFFER_FOUND|0214 UNSUPPORTED_VERSION|
0215 NO_MATCHING_INSTALL_IMAGE|0216 ROLLBACK_PENDING|0220 COMPAT_REPORT_NOT_DISPLAYED|0400 UA_VERSION_MISMATCH|
0401 UA_NO_PACKAGES_TO_DOWNLOAD|0402 UA_UPDATE_CANNOT_BE_MERGED|0403 UA_CORRUPT_PAYLOAD_FILES|0404 UA_BOX_NOT_FOUND|
0405 UA_BOX_CRASHED`;

export const SETUP_ERRORS: ReadonlyMap<number, string> = hexNames(SETUP_LIST, 'MOSETUP_E_', 0xc1900000);

/** HTTP_E_STATUS_* names (winerror.h, FACILITY_HTTP): HTTP status -> name suffix. */
const HTTP_LIST = `
1 UNEXPECTED|12c AMBIGUOUS|12d MOVED|12e REDIRECT|12f REDIRECT_METHOD|130 NOT_MODIFIED|131 USE_PROXY|
133 REDIRECT_KEEP_VERB|190 BAD_REQUEST|191 DENIED|192 PAYMENT_REQ|193 FORBIDDEN|194 NOT_FOUND|195 BAD_METHOD|
196 NONE_ACCEPTABLE|197 PROXY_AUTH_REQ|198 REQUEST_TIMEOUT|199 CONFLICT|19a GONE|19b LENGTH_REQUIRED|
19c PRECOND_FAILED|19d REQUEST_TOO_LARGE|19e URI_TOO_LONG|19f UNSUPPORTED_MEDIA|1a0 RANGE_NOT_SATISFIABLE|
1a1 EXPECTATION_FAILED|1f4 SERVER_ERROR|1f5 NOT_SUPPORTED|1f6 BAD_GATEWAY|1f7 SERVICE_UNAVAIL|
1f8 GATEWAY_TIMEOUT|1f9 VERSION_NOT_SUP`;

const HTTP_ERRORS: ReadonlyMap<number, string> = hexNames(HTTP_LIST, 'HTTP_E_STATUS_', 0x80190000);

/** WS_E_* (winerror.h FACILITY_WEBSERVICES 61, Windows Web Services; the WU agent's newer transport). */
const WS_LIST = `
00 INVALID_FORMAT|01 OBJECT_FAULTED|02 NUMERIC_OVERFLOW|03 INVALID_OPERATION|04 OPERATION_ABORTED|
05 ENDPOINT_ACCESS_DENIED|06 OPERATION_TIMED_OUT|07 OPERATION_ABANDONED|08 QUOTA_EXCEEDED|
09 NO_TRANSLATION_AVAILABLE|0a SECURITY_VERIFICATION_FAILURE|0b ADDRESS_IN_USE|0c ADDRESS_NOT_AVAILABLE|
0d ENDPOINT_NOT_FOUND|0e ENDPOINT_NOT_AVAILABLE|0f ENDPOINT_FAILURE|10 ENDPOINT_UNREACHABLE|
11 ENDPOINT_ACTION_NOT_SUPPORTED|12 ENDPOINT_TOO_BUSY|13 ENDPOINT_FAULT_RECEIVED|14 ENDPOINT_DISCONNECTED|
15 PROXY_FAILURE|16 PROXY_ACCESS_DENIED|17 NOT_SUPPORTED|18 PROXY_REQUIRES_BASIC_AUTH|19 PROXY_REQUIRES_DIGEST_AUTH|
1a PROXY_REQUIRES_NTLM_AUTH|1b PROXY_REQUIRES_NEGOTIATE_AUTH|1c SERVER_REQUIRES_BASIC_AUTH|
1d SERVER_REQUIRES_DIGEST_AUTH|1e SERVER_REQUIRES_NTLM_AUTH|1f SERVER_REQUIRES_NEGOTIATE_AUTH|
20 INVALID_ENDPOINT_URL|21 OTHER|22 SECURITY_TOKEN_EXPIRED|23 SECURITY_SYSTEM_FAILURE`;

const WS_ERRORS: ReadonlyMap<number, string> = hexNames(WS_LIST, 'WS_E_', 0x803d0000);
const FACILITY_WEBSERVICES = 61;

// ---------------------------------------------------------------------------------------------
// The extended code of a setup result (0xC1900101 - 0x4000D): phase (first digit) and operation
// (last two digits), as "Resolve Windows upgrade errors" (upgrade-error-codes.md) tables them.
// ---------------------------------------------------------------------------------------------
const SETUP_PHASES: readonly [string, string][] = [
  ['SP_EXECUTION_UNKNOWN', 'unknown phase'],
  ['SP_EXECUTION_DOWNLEVEL', 'downlevel: the old Windows is running, setup prepares'],
  ['SP_EXECUTION_SAFE_OS', 'SafeOS: the WinPE-like setup environment applies the new image'],
  ['SP_EXECUTION_FIRST_BOOT', 'first boot into the new Windows'],
  ['SP_EXECUTION_OOBE_BOOT', 'second boot (OOBE) of the new Windows'],
  ['SP_EXECUTION_UNINSTALL', 'uninstall: going back to the previous Windows'],
];

const SETUP_OPERATIONS: readonly string[] = [
  'UNKNOWN',
  'COPY_PAYLOAD',
  'DOWNLOAD_UPDATES',
  'INSTALL_UPDATES',
  'INSTALL_RECOVERY_ENVIRONMENT',
  'INSTALL_RECOVERY_IMAGE',
  'REPLICATE_OC',
  'INSTALL_DRVIERS', // sic: the page spells it so
  'PREPARE_SAFE_OS',
  'PREPARE_ROLLBACK',
  'PREPARE_FIRST_BOOT',
  'PREPARE_OOBE_BOOT',
  'APPLY_IMAGE',
  'MIGRATE_DATA',
  'SET_PRODUCT_KEY',
  'ADD_UNATTEND',
  'ADD_DRIVER',
  'ENABLE_FEATURE',
  'DISABLE_FEATURE',
  'REGISTER_ASYNC_PROCESS',
  'REGISTER_SYNC_PROCESS',
  'CREATE_FILE',
  'CREATE_REGISTRY',
  'BOOT',
  'SYSPREP',
  'OOBE',
  'BEGIN_FIRST_BOOT',
  'END_FIRST_BOOT',
  'BEGIN_OOBE_BOOT',
  'END_OOBE_BOOT',
  'PRE_OOBE',
  'POST_OOBE',
  'ADD_PROVISIONING_PACKAGE',
];

/** The result + extended combinations resolution-procedures.md describes (cause and mitigation). */
const SETUP_EXTENDED: Record<string, { cause: string; hint: string }> = {
  '0xc1900101-0x20004': {
    cause: 'An error in the SafeOS phase during INSTALL_RECOVERY_ENVIRONMENT, generally out-of-date drivers.',
    hint: 'Uninstall antivirus, remove unused SATA devices and unused drivers, update drivers and BIOS.',
  },
  '0xc1900101-0x2000c': {
    cause: 'An unspecified error in the SafeOS phase during the WIM apply; generally out-of-date drivers (or disk corruption).',
    hint: 'Disconnect peripherals except mouse, keyboard and display; update drivers; run chkdsk; accept "Download and install updates".',
  },
  '0xc1900101-0x20017': {
    cause: 'A driver caused an illegal operation in SafeOS and could not be migrated (drivers or non-Microsoft disk encryption).',
    hint: 'Find the driver in Panther\\setuperr.log and setupact.log; update or uninstall it.',
  },
  '0xc1900101-0x30018': {
    cause: 'A device driver stopped responding to setup.exe (first boot, SYSPREP operation).',
    hint: 'Read Rollback\\setupapi\\setupapi.dev.log; disconnect peripherals, get updated drivers from the vendor.',
  },
  '0xc1900101-0x3000d': {
    cause: 'Failure in the FIRST_BOOT phase during MIGRATE_DATA; can be a display driver.',
    hint: 'Disconnect peripherals except mouse, keyboard and display; update or uninstall the display driver.',
  },
  '0xc1900101-0x4000d': {
    cause: 'A rollback during the second boot (OOBE) phase in MIGRATE_DATA: a driver configuration issue, incompatible drivers.',
    hint: 'Look for Rollback\\setupmem.dmp and the stop code in Panther logs; free disk space, disable or update the named driver, BIOS update.',
  },
  '0xc1900101-0x40017': {
    cause: 'The upgrade failed after the second reboot, usually a faulty driver (antivirus filter or encryption drivers).',
    hint: 'Clean boot into Windows, then retry the upgrade with "Download and install updates".',
  },
  '0xc1900101-0x4001e': {
    cause: 'Installation failed in the second boot phase during PRE_OOBE (generic OOBE-phase error).',
    hint: 'Follow the general 0xC1900101 procedures: drivers, clean boot, Panther logs.',
  },
};

/** The extended code of a Windows Setup result, decoded. */
export interface SetupExtended {
  /** '0x4000d': lowercase, no leading zeros. */
  code: string;
  phase: number;
  /** 'SP_EXECUTION_OOBE_BOOT' (or 'phase N' when the page has no name for it). */
  phaseName: string;
  phaseText?: string;
  operation: number;
  /** 'SP_EXECUTION_OP_MIGRATE_DATA' (or undefined past the page's table). */
  operationName?: string;
  /** Cause and mitigation when the page describes this result + extended combination. */
  cause?: string;
  hint?: string;
  source: string;
}

/** Decode a setup extended code (0x4000D = phase 4, operation 0x0D); `result` picks the described combinations. */
export function decodeSetupExtended(ext: number, result?: string): SetupExtended {
  const phase = (ext >>> 16) & 0xf;
  const operation = ext & 0xffff;
  const code = '0x' + (ext >>> 0).toString(16);
  const p = SETUP_PHASES[phase];
  const op = SETUP_OPERATIONS[operation];
  const out: SetupExtended = {
    code,
    phase,
    phaseName: p ? p[0] : `phase ${phase}`,
    operation,
    source: S_UPGRADE,
  };
  if (p) out.phaseText = p[1];
  if (op) out.operationName = `SP_EXECUTION_OP_${op}`;
  const described = result ? SETUP_EXTENDED[`${result}-${code}`] : undefined;
  if (described) Object.assign(out, described);
  return out;
}

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
  [61, 'FACILITY_WEBSERVICES'],
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
  19: '.NET runtime (CLR)',
  61: 'Windows Web Services (the WU agent transport)',
  208: 'Delivery Optimization',
};

/** WU agent sub-ranges (wuerror.h groups the codes by bits 12-15; 0x802404xx are newer WU_E_PT_* codes). */
const WU_SUBSYSTEMS: Record<number, string> = {
  0x0: 'general (WU_E_*)',
  0x1: 'Windows Installer (WU_E_MSI_*)',
  0x2: 'update handler (WU_E_UH_*)',
  0x3: 'Windows Update UI / AU client (WU_E_AUCLIENT_*)',
  0x4: 'protocol talker, server communication (WU_E_PT_*)',
  0x5: 'redirector and service-initiated healing (WU_E_REDIRECTOR_*, WU_E_SIH_*)',
  0x6: 'download manager (WU_E_DM_*)',
  0x7: 'offline scan and update metadata (WU_E_OL_*, WU_E_METADATA_*)',
  0x8: 'data store (WU_E_DS_*)',
  0x9: 'inventory (WU_E_INVENTORY_*)',
  0xa: 'Automatic Updates (WU_E_AU_*)',
  0xb: 'WU tasks, hardware capability, file trust (WU_E_WUTASK_*, ...)',
  0xc: 'driver utility (WU_E_DRV_*)',
  0xd: 'agent setup and self-update (WU_E_SETUP_*)',
  0xe: 'expression evaluator (WU_E_EE_*)',
  0xf: 'reporter (WU_E_REPORTER_*)',
};

const FACILITY_WIN32 = 7;
const FACILITY_WINDOWSUPDATE = 36;
const FACILITY_SETUPAPI = 15;
const FACILITY_HTTP = 25;
const FACILITY_CERT = 11;
const FACILITY_SECURITY = 9;

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

/** Windows Setup result codes (MOSETUP_E_*): 0xC190xxxx (and 0xC180xxxx, the WSUS upgrade content). */
const isSetupCode = (hr: number) => hr >>> 16 === 0xc190 || hr >>> 16 === 0xc180;

/** NTSTATUS shape: bit 30 (R in an HRESULT, reserved) set, or HRESULT_FROM_NT (bit 28, N). */
function ntStatusOf(hr: number): { status: number; wrapped: boolean } | undefined {
  if (hr & 0x10000000) return { status: (hr & ~0x10000000) >>> 0, wrapped: true };
  if (hr & 0x40000000) return { status: hr, wrapped: false };
  return undefined;
}

function ntFacilityText(status: number, wrapped: boolean): string {
  const fac = (status >>> 16) & 0xfff;
  const f = NT_FACILITIES[fac];
  const how = wrapped ? `HRESULT_FROM_NT of NTSTATUS ${hex8(status)}` : 'NTSTATUS';
  if (fac === 0) return `${how} (facility 0)`;
  if (!f) return `${how}: NT facility 0x${fac.toString(16)}`;
  return `${how}: ${f[0]} (0x${fac.toString(16)})${f[1] ? `: ${f[1]}` : ''}`;
}

function applyKnown(info: ErrorInfo, known: KnownEntry): ErrorInfo {
  info.known = true;
  if (known.symbol) info.symbol = known.symbol;
  info.meaning = known.meaning;
  info.repairs = [...known.repairs];
  info.source = known.source;
  if (known.cause) info.cause = known.cause;
  if (known.hint) info.hint = known.hint;
  if (known.result) info.result = known.result;
  return info;
}

const hex4 = (n: number) => '0x' + n.toString(16).padStart(4, '0');
const sevWord = (info: ErrorInfo) => (info.severity === 'error' ? 'error' : 'status');

/** The generic decoding of a code the curated table does not hold: by facility, never "facility N" for a known one. */
// One branch per facility family; the order decides (setup before NTSTATUS: 0xC190xxxx has the NTSTATUS shape).
function decodeGeneric(info: ErrorInfo, hr: number): ErrorInfo {
  const low = hr & 0xffff;
  const fac = info.facilityCode;
  if (hr === 0) {
    return Object.assign(info, { symbol: 'S_OK', meaning: 'Success.', kind: 'success', result: 'succeeded', source: S_COM });
  }
  if (info.win32) {
    const name = info.win32.name;
    if (name) info.symbol = name;
    info.kind = low >= 12000 && low < 12200 ? 'winhttp' : 'win32';
    info.meaning = name ? `Win32 error ${low} (${name}).` : `Win32 error ${low} (no name in the wufix table).`;
    info.source = name ? (info.kind === 'winhttp' ? S_WINHTTP : S_WINERROR) : 'decoded from the HRESULT layout (winerror.h HRESULT_FROM_WIN32)';
    if (low === 3010 || low === 3011) info.result = 'reboot-pending';
    return info;
  }
  if (isSetupCode(hr)) {
    info.kind = 'setup';
    info.facility = 'Windows Setup (MOSETUP, 0xC190xxxx result codes)';
    const name = SETUP_ERRORS.get(hr);
    if (name) info.symbol = name;
    info.meaning = `Windows Setup result code ${hex4(low)}${name ? '' : ' (not in the documented list)'}.`;
    info.source = S_UPGRADE;
    return info;
  }
  const nt = ntStatusOf(hr);
  if (nt) {
    const name = NT_STATUSES.get(nt.status);
    info.kind = 'ntstatus';
    info.facility = ntFacilityText(nt.status, nt.wrapped);
    info.ntstatus = { code: hex8(nt.status), ...(name ? { name } : {}), wrapped: nt.wrapped };
    if (name) info.symbol = name;
    info.meaning = nt.wrapped
      ? `NTSTATUS ${hex8(nt.status)} reported as an HRESULT (HRESULT_FROM_NT): a kernel/native status.`
      : `NTSTATUS ${hex8(nt.status)}: a kernel/native status value.`;
    info.source = name ? S_NTSTATUS : 'decoded from the NTSTATUS layout (ntstatus.h)';
    return info;
  }
  if (fac === FACILITY_WINDOWSUPDATE) {
    const sub = low >= 0x0400 && low < 0x0500 ? WU_SUBSYSTEMS[0x4]! : (WU_SUBSYSTEMS[(low >>> 12) & 0xf] ?? 'unknown subsystem');
    const name = info.severity === 'error' ? WU_ERRORS.get(hr) : WU_SUCCESS.get(hr);
    info.kind = 'windows-update';
    info.subsystem = sub;
    if (name) info.symbol = name;
    info.meaning = `Windows Update agent ${sevWord(info)}, ${sub}, code ${hex4(low)}.`;
    info.source = name ? S_WU : 'decoded from the wuerror.h sub-ranges (no name in the wufix table)';
    if (hr === 0x00240005 || hr === 0x00242015) info.result = 'reboot-pending';
    return info;
  }
  if (fac === FACILITY_SETUPAPI && low >= 0x0800) {
    const name = CBS_ERRORS.get(hr);
    info.kind = 'cbs';
    if (name) info.symbol = name;
    const family = low >= 0x0980 ? 'PSFX (delta/payload hydration of the component store)' : 'Component Based Servicing';
    info.meaning = `${family} ${sevWord(info)}, code ${hex4(low)}.`;
    info.source = name ? S_CBS : 'decoded from the CBS range of winerror.h (no name in the wufix table)';
    return info;
  }
  if (fac === FACILITY_HTTP) {
    const name = HTTP_ERRORS.get(hr);
    info.kind = 'http';
    if (low >= 100 && low < 600) info.http = low;
    if (name) info.symbol = name;
    info.meaning = info.http ? `The server answered HTTP ${info.http}.` : `HTTP ${sevWord(info)} code ${hex4(low)}.`;
    info.source = S_HTTP;
    return info;
  }
  if (fac === FACILITY_WEBSERVICES) {
    const name = WS_ERRORS.get(hr);
    if (name) info.symbol = name;
    info.meaning = `Windows Web Services ${sevWord(info)} (the connection to a web service endpoint), code ${hex4(low)}.`;
    info.source = name ? 'winerror.h (Windows SDK) WS_E_* (FACILITY_WEBSERVICES 61)' : 'decoded from the HRESULT layout (winerror.h)';
    return info;
  }
  if (fac === FACILITY_CERT || fac === FACILITY_SECURITY) {
    info.kind = 'trust';
    info.meaning = `Certificate/trust ${sevWord(info)} code ${hex4(low)} of ${info.facility}.`;
    info.source = 'decoded from the HRESULT layout (winerror.h FACILITY_CERT / FACILITY_SECURITY)';
    return info;
  }
  info.kind = fac <= 4 ? 'com' : 'hresult';
  info.meaning = `${info.severity === 'error' ? 'Error' : 'Status'} code ${hex4(low)} of ${info.facility}.`;
  info.source = 'decoded from the HRESULT layout (winerror.h)';
  return info;
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
  return decode(parseInt(norm.slice(2), 16));
}

function decode(hr: number): ErrorInfo {
  const facilityCode = (hr >>> 16) & 0x1fff;
  const severity: 'success' | 'error' = hr >>> 31 ? 'error' : 'success';
  const info: ErrorInfo = { code: hex8(hr), meaning: '', repairs: [], facility: facilityText(hr), facilityCode, severity, kind: 'hresult', known: false };
  // 0xC... values with the "customer", NTSTATUS or setup shape are not FACILITY_WIN32 even if bits match.
  if (facilityCode === FACILITY_WIN32 && (hr & 0x78000000) === 0) {
    const low = hr & 0xffff;
    const name = WIN32_ERRORS.get(low);
    info.win32 = name ? { code: low, name } : { code: low };
  }
  decodeGeneric(info, hr);
  const known = KNOWN[hr];
  return known ? applyKnown(info, known) : info;
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

// ---------------------------------------------------------------------------------------------
// `wufix explain` input: what technicians type into err.exe / certutil -error.
// ---------------------------------------------------------------------------------------------

/** One code as typed, parsed: the value, how it was read, and the setup extended part. */
export interface CodeInput {
  value: number;
  /** 'hex', 'hex (no 0x)', 'signed decimal', 'decimal', 'decimal Win32 error'. */
  readAs: string;
  extended?: number;
}

const BAD_CODE_HELP = 'expected hex (0x80070643 or 80070643), decimal (1603, -2146498548) or a setup result with its extended code (0xC1900101-0x4000D)';

/** Parse one number the way err.exe users type it; undefined when it is not one. */
function parseNumber(s: string): { value: number; readAs: string } | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^0x([0-9a-f]{1,8})$/i.exec(s))) return { value: parseInt(m[1]!, 16) >>> 0, readAs: 'hex' };
  if ((m = /^-(\d{1,10})$/.exec(s))) {
    const n = Number(m[1]);
    return n >= 1 && n <= 0x80000000 ? { value: (-n >>> 0) >>> 0, readAs: 'signed decimal' } : undefined;
  }
  // Eight digits starting 8, 9 or C..F are how logs write HRESULTs without 0x ("80070643"); a value
  // of 80,000,000+ in decimal is no plausible code. Any a-f digit makes it hex too.
  if (/^[0-9a-f]{1,8}$/i.test(s) && (/[a-f]/i.test(s) || (s.length === 8 && /^[89]/.test(s)))) return { value: parseInt(s, 16) >>> 0, readAs: 'hex (no 0x)' };
  if ((m = /^(\d{1,10})$/.exec(s))) {
    const n = Number(m[1]);
    if (n > 0xffffffff) return undefined;
    return { value: n >>> 0, readAs: n > 0 && n <= 0xffff ? 'decimal Win32 error' : 'decimal' };
  }
  return undefined;
}

/** Parse "0xC1900101-0x4000D", "0xC1900101 - 0x4000D", "0xC1900101, 0x30018" or a single code. */
export function parseCodeInput(input: string): CodeInput | undefined {
  const s = input.trim();
  if (s.length === 0 || s.length > 40) return undefined;
  const pair = /^(\S+?)\s*(?:\s-\s|-(?=0x|[0-9a-f]{5})|,)\s*((?:0x)?[0-9a-f]{1,5})$/i.exec(s);
  const head = pair ? pair[1]! : s;
  const n = parseNumber(head);
  if (!n) return undefined;
  let value = n.value;
  if (value > 0 && value <= 0xffff) value = hresultFromWin32(value);
  if (!pair) return { value, readAs: n.readAs };
  const ext = parseInt(pair[2]!.replace(/^0x/i, ''), 16);
  // Only an error result carries an extended code.
  if (value >>> 31 === 0) return undefined;
  return { value, readAs: n.readAs, extended: ext };
}

/**
 * Group command-line words into codes: "0xC1900101 - 0x4000D" (three words) and "0xC1900101," "0x30018"
 * become one code with its extended part; everything else is one code per word.
 */
export function splitCodeArgs(args: readonly string[]): string[] {
  const words = args.flatMap((a) => a.split(/(?<=,)\s*|\s+/)).filter((w) => w.length > 0);
  const out: string[] = [];
  const isExt = (w: string | undefined) => w !== undefined && /^(?:0x[0-9a-f]{1,5}|[0-9a-f]{5})$/i.test(w);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (words[i + 1] === '-' && isExt(words[i + 2])) {
      out.push(`${w} - ${words[i + 2]}`);
      i += 2;
    } else if (w.endsWith(',') && w.length > 1 && isExt(words[i + 1]) && parseCodeInput(`${w}${words[i + 1]}`)) {
      out.push(`${w} ${words[i + 1]}`);
      i += 1;
    } else {
      out.push(w.endsWith(',') && w.length > 1 ? w.slice(0, -1) : w);
    }
  }
  return out;
}

/** What `wufix explain` prints for one code. */
export interface ExplainedCode {
  input: string;
  readAs: string;
  info: ErrorInfo;
  extended?: SetupExtended;
}

/** Explain one typed code (see parseCodeInput); BadInputError 'bad-error-code' when it is not one. */
export function explainCode(input: string): ExplainedCode {
  const p = parseCodeInput(input);
  if (!p) throw new BadInputError(`not an error code: ${JSON.stringify(input.slice(0, 40))} (${BAD_CODE_HELP})`, { code: 'bad-error-code' });
  const info = decode(p.value);
  const out: ExplainedCode = { input: input.trim(), readAs: p.readAs, info };
  if (p.extended !== undefined) out.extended = decodeSetupExtended(p.extended, info.code);
  return out;
}
