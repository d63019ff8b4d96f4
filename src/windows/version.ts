// The version of an offline Windows, from SOFTWARE\Microsoft\Windows NT\CurrentVersion (the typed
// value readers it uses are src/hive/query.ts), and its computer name from SYSTEM.
import { Hive } from '../hive/hive.js';
import { regDword, regString } from '../hive/query.js';
import { BadInputError } from '../shared/errors.js';
import { controlSetName, currentControlSet } from './services.js';

// ---------------------------------------------------------------------------------------------
// Version

export const CURRENT_VERSION_KEY = 'Microsoft\\Windows NT\\CurrentVersion';

export interface WindowsVersion {
  productName: string;
  editionId: string;
  /** 'Client' | 'Server' | 'Server Core' | 'Nano Server' | ... ('' when absent and not derivable). */
  installationType: string;
  currentBuild: number;
  ubr?: number;
  /** 21H2, 22H2, ... (Windows 10 20H2 and later). */
  displayVersion?: string;
  /** 1507..2009 (Windows 10 1511 and later). */
  releaseId?: string;
  /** CurrentMajorVersionNumber / CurrentMinorVersionNumber (Windows 10 and later). */
  major?: number;
  minor?: number;
  /** "6.1", "6.3" (kept at 6.3 on Windows 10+). */
  currentVersion?: string;
  /** "Service Pack 1" on Windows 7 / 2008 R2. */
  csdVersion?: string;
  buildLabEx?: string;
  /** %SystemRoot% as installed, e.g. "C:\Windows". */
  systemRoot?: string;
  isServer: boolean;
  /** A readable family: "Windows 7", "Windows 8.1", "Windows 10", "Windows 11", "Windows Server 2022", ... */
  family: string;
}

/** Read the version of the installation whose SOFTWARE hive is given. */
export function readVersion(software: Hive): WindowsVersion {
  const nk = software.lookup(CURRENT_VERSION_KEY);
  if (nk === undefined) {
    throw new BadInputError(`not a SOFTWARE hive: ${CURRENT_VERSION_KEY} is missing`, { code: 'not-software-hive' });
  }
  const s = (n: string) => regString(software, nk, n);
  const d = (n: string) => regDword(software, nk, n);
  const productName = s('ProductName') ?? '';
  const buildText = s('CurrentBuild') ?? s('CurrentBuildNumber') ?? '';
  const currentBuild = /^\d+$/.test(buildText.trim()) ? Number(buildText.trim()) : 0;
  let installationType = s('InstallationType') ?? '';
  if (installationType === '') {
    // Windows 7 client installs lack InstallationType; 2008 R2 has it. Fall back on the product name.
    installationType = /server/i.test(productName) ? 'Server' : productName ? 'Client' : '';
  }
  const isServer = /server/i.test(installationType) || /server/i.test(productName);
  const v: WindowsVersion = {
    productName,
    editionId: s('EditionID') ?? '',
    installationType,
    currentBuild,
    ubr: d('UBR'),
    displayVersion: s('DisplayVersion'),
    releaseId: s('ReleaseId'),
    major: d('CurrentMajorVersionNumber'),
    minor: d('CurrentMinorVersionNumber'),
    currentVersion: s('CurrentVersion'),
    csdVersion: s('CSDVersion'),
    buildLabEx: s('BuildLabEx'),
    systemRoot: s('SystemRoot'),
    isServer,
    family: '',
  };
  v.family = windowsFamily(v);
  return v;
}

/** Build number to a family name. Windows 11 still calls itself "Windows 10" in ProductName. */
export function windowsFamily(v: { currentBuild: number; isServer: boolean }): string {
  const b = v.currentBuild;
  if (v.isServer) {
    if (b >= 26100) return 'Windows Server 2025';
    if (b >= 20348) return 'Windows Server 2022';
    if (b >= 17763) return b === 17763 ? 'Windows Server 2019' : 'Windows Server (Semi-Annual Channel)';
    if (b >= 14393) return b === 14393 ? 'Windows Server 2016' : 'Windows Server (Semi-Annual Channel)';
    if (b >= 9600) return 'Windows Server 2012 R2';
    if (b >= 9200) return 'Windows Server 2012';
    if (b >= 7600) return 'Windows Server 2008 R2';
    if (b >= 6000) return 'Windows Server 2008';
    return b ? 'Windows Server (unknown)' : 'unknown';
  }
  if (b >= 22000) return 'Windows 11';
  if (b >= 10240) return 'Windows 10';
  if (b >= 9600) return 'Windows 8.1';
  if (b >= 9200) return 'Windows 8';
  if (b >= 7600) return 'Windows 7';
  if (b >= 6000) return 'Windows Vista';
  return b ? 'Windows (unknown)' : 'unknown';
}

/** "10.0.19045.3803"-style text for reports. */
export function formatBuild(v: WindowsVersion): string {
  const major = v.major ?? (v.currentVersion ? Number(v.currentVersion.split('.')[0]) : undefined);
  const minor = v.minor ?? (v.currentVersion ? Number(v.currentVersion.split('.')[1]) : undefined);
  const head = major !== undefined && minor !== undefined && !Number.isNaN(major) && !Number.isNaN(minor) ? `${major}.${minor}.` : '';
  return `${head}${v.currentBuild}${v.ubr !== undefined ? `.${v.ubr}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Computer name

/** Where Windows keeps the name the machine had at its last boot (under the current control set). */
export const COMPUTER_NAME_KEY = 'Control\\ComputerName\\ComputerName';

/** NetBIOS names are 15 characters and DNS labels 63: anything longer is not a computer name. */
const MAX_COMPUTER_NAME = 63;

/**
 * The computer name of the installation whose SYSTEM hive is given: SYSTEM\<current control
 * set>\Control\ComputerName\ComputerName, value ComputerName (REG_SZ). Undefined when absent, empty,
 * not a string, longer than a computer name can be, or holding control characters (a hostile hive).
 */
export function readComputerName(system: Hive): string | undefined {
  const cs = currentControlSet(system);
  const name = regString(system, `${cs.paths[0] ?? controlSetName(cs.current)}\\${COMPUTER_NAME_KEY}`, 'ComputerName')?.trim();
  if (!name || name.length > MAX_COMPUTER_NAME || /[\u0000-\u001f\u007f-\u009f]/.test(name)) return undefined;
  return name;
}

// ---------------------------------------------------------------------------------------------
// Processor architecture

/** The architectures a WIM image names in <WINDOWS><ARCH> (PROCESSOR_ARCHITECTURE_* numbers). */
export const WIM_ARCH: Readonly<Record<number, string>> = { 0: 'x86', 5: 'arm', 6: 'ia64', 9: 'x64', 12: 'arm64' };

const ENV_ARCH: Readonly<Record<string, string>> = { x86: 'x86', amd64: 'x64', arm64: 'arm64', arm: 'arm', ia64: 'ia64' };

/**
 * The processor architecture Windows was installed for: SYSTEM\<current control set>\Control\Session
 * Manager\Environment, PROCESSOR_ARCHITECTURE ("x86", "AMD64", "ARM64"), as 'x86' | 'x64' | 'arm64'
 * | 'arm' | 'ia64'. Undefined when absent or not one of those.
 */
export function readArchitecture(system: Hive): string | undefined {
  const cs = currentControlSet(system);
  const v = regString(system, `${cs.paths[0] ?? controlSetName(cs.current)}\\Control\\Session Manager\\Environment`, 'PROCESSOR_ARCHITECTURE');
  return v === undefined ? undefined : ENV_ARCH[v.trim().toLowerCase()];
}

/** Whether a WIM image of `arch` (<ARCH>) can serve a Windows of `system`; true when either is unknown. */
export function wimArchFits(arch: number | undefined, system: string | undefined): boolean {
  return arch === undefined || system === undefined || WIM_ARCH[arch] === system;
}

/** "x64" for a WIM image's <ARCH>, "architecture <n>" for one outside the table. */
export function wimArchName(arch: number | undefined): string {
  return arch === undefined ? 'architecture unknown' : (WIM_ARCH[arch] ?? `architecture ${arch}`);
}
