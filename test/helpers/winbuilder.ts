// Builds realistic offline Windows installations for the scan (and later repair) tests:
// a Windows directory tree whose user hives are real Windows hives from ../shared (DEFAULT with its
// transaction logs, service-profile NTUSER.DATs, a user NTUSER.DAT), generated SOFTWARE / SYSTEM /
// COMPONENTS hives with the keys that matter, logs in their real formats, ReAgent.xml, and
// optionally a GPT disk image (sgdisk + mkntfs + ntfs-3g) with the same layout.
import { copyFileSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Hive } from '../../src/hive/hive.js';
import { openHiveFile, saveHiveFile, writeNewHiveFile } from '../../src/hive/hivefile.js';
import { hiveFixture, fixture } from './env.js';
import { buildGpt, gptEnd, MiB, GiB, TYPE, RECOVERY_ATTRS, run, type BuiltImage } from './disk-images.js';

export const WINTRUST_KEY = 'Software\\Microsoft\\Windows\\CurrentVersion\\WinTrust\\Trust Providers\\Software Publishing';

export interface LogLine {
  time: string; // 'YYYY-MM-DD HH:MM:SS'
  kb: string;
  code: string; // '80070643' (hex, no 0x)
  title: string;
  success?: boolean;
}

export interface InstallSpec {
  productName: string;
  editionId: string;
  installationType: 'Client' | 'Server';
  currentBuild: number;
  ubr?: number;
  displayVersion?: string;
  /** Service Start overrides (name -> Start). */
  serviceStart?: Record<string, number>;
  /** WinTrust State per hive kind; undefined keeps the real hive's value (0x23C00). */
  wintrust?: Partial<Record<'default' | 'system' | 'localservice' | 'networkservice' | 'user', number>>;
  /** Pending servicing markers. */
  pending?: { rebootPending?: boolean; packagesPending?: string[]; pendingXml?: boolean; components?: boolean; rebootRequired?: boolean };
  /** CBS packages: name -> CurrentState. */
  packages?: Record<string, number>;
  policy?: { wuServer?: string; useWUServer?: number; noAutoUpdate?: number; acceptTrustedPublisherCerts?: number };
  qualityCompat?: boolean;
  /** ReportingEvents.log entries (Win8+ format, UTF-16LE with BOM). */
  reportingEvents?: LogLine[];
  /** WindowsUpdate.log REPORT EVENT entries (Windows 7 text log). */
  windowsUpdateLog?: LogLine[];
  /** CBS.log: one failed WindowsUpdateAgent session per entry. */
  cbs?: LogLine[];
  /** CBS.log verbatim (instead of `cbs`). */
  cbsText?: string;
  /** SYSTEM TimeZoneInformation (+ the SOFTWARE Time Zones entry): a zone without daylight time. */
  timeZone?: { keyName: string; biasMinutes: number };
  /** A .NET/MSI setup log in Windows\Temp with these lines (verbatim). */
  setupLog?: { name: string; lines: string[] };
  /** Copy the real System.evtx (Windows Update client events 19/20/43/44). */
  systemEvtx?: boolean;
  /** ReAgent.xml InstallState and the WinRE location offset (bytes) / disk GUID. */
  reagent?: { installState: number; offset?: number; guid?: string };
  /** Files in the update caches. */
  caches?: boolean;
  /** SYSTEM ControlSet001\Control\ComputerName\ComputerName (REG_SZ ComputerName). */
  computerName?: string;
  /** SYSTEM ControlSet001\Control\Session Manager\Environment PROCESSOR_ARCHITECTURE ("AMD64", "ARM64", "x86"). */
  processorArchitecture?: string;
}

function utf16(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s + '\0', 'utf16le'));
}
function dword(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}
function multiSz(list: string[]): Uint8Array {
  return new Uint8Array(Buffer.from(list.map((s) => s + '\0').join('') + '\0', 'utf16le'));
}

function write(file: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
}

const USER_SID = 'S-1-5-21-3623811015-3361044348-30300820-1001';
const SERVICES: Record<string, { start: number; image: string; delayed?: number }> = {
  wuauserv: { start: 3, image: '%systemroot%\\system32\\svchost.exe -k netsvcs -p' },
  BITS: { start: 3, image: '%SystemRoot%\\System32\\svchost.exe -k netsvcs -p' },
  CryptSvc: { start: 2, image: '%SystemRoot%\\system32\\svchost.exe -k NetworkService -p' },
  TrustedInstaller: { start: 3, image: '%SystemRoot%\\servicing\\TrustedInstaller.exe' },
  msiserver: { start: 3, image: '%systemroot%\\system32\\msiexec.exe /V' },
  UsoSvc: { start: 2, image: '%systemroot%\\system32\\svchost.exe -k netsvcs -p', delayed: 1 },
  EventLog: { start: 2, image: '%SystemRoot%\\System32\\svchost.exe -k LocalServiceNetworkRestricted -p' },
};

async function buildSoftware(file: string, s: InstallSpec): Promise<void> {
  const h = Hive.create({ minor: 5, rootName: 'ROOT' });
  const cv = h.ensureKey('Microsoft\\Windows NT\\CurrentVersion');
  h.setValue(cv, 'ProductName', 1, utf16(s.productName));
  h.setValue(cv, 'EditionID', 1, utf16(s.editionId));
  h.setValue(cv, 'InstallationType', 1, utf16(s.installationType));
  h.setValue(cv, 'CurrentBuild', 1, utf16(String(s.currentBuild)));
  h.setValue(cv, 'CurrentBuildNumber', 1, utf16(String(s.currentBuild)));
  h.setValue(cv, 'CurrentVersion', 1, utf16(s.currentBuild >= 9600 ? '6.3' : '6.1'));
  if (s.currentBuild >= 10240) h.setValue(cv, 'CurrentMajorVersionNumber', 4, dword(10));
  if (s.ubr !== undefined) h.setValue(cv, 'UBR', 4, dword(s.ubr));
  if (s.displayVersion) h.setValue(cv, 'DisplayVersion', 1, utf16(s.displayVersion));
  h.setValue(cv, 'SystemRoot', 1, utf16('C:\\Windows'));
  const pl = 'Microsoft\\Windows NT\\CurrentVersion\\ProfileList';
  const profiles: [string, string][] = [
    ['S-1-5-18', '%systemroot%\\system32\\config\\systemprofile'],
    ['S-1-5-19', '%systemroot%\\ServiceProfiles\\LocalService'],
    ['S-1-5-20', '%systemroot%\\ServiceProfiles\\NetworkService'],
    [USER_SID, 'C:\\Users\\Alice'],
  ];
  for (const [sid, p] of profiles) h.setValue(h.ensureKey(`${pl}\\${sid}`), 'ProfileImagePath', 2, utf16(p));
  if (s.timeZone) {
    const tzi = new Uint8Array(44); // Bias, StandardBias, DaylightBias, StandardDate, DaylightDate
    new DataView(tzi.buffer).setInt32(0, s.timeZone.biasMinutes, true);
    new DataView(tzi.buffer).setInt32(8, -60, true);
    const z = h.ensureKey(`Microsoft\\Windows NT\\CurrentVersion\\Time Zones\\${s.timeZone.keyName}`);
    h.setValue(z, 'TZI', 3, tzi);
    h.setValue(z, 'Std', 1, utf16(s.timeZone.keyName));
  }
  const cbs = 'Microsoft\\Windows\\CurrentVersion\\Component Based Servicing';
  h.ensureKey(`${cbs}\\SessionsPending`); // exists (empty) on healthy systems
  for (const [name, state] of Object.entries(s.packages ?? {})) {
    h.setValue(h.ensureKey(`${cbs}\\Packages\\${name}`), 'CurrentState', 4, dword(state));
  }
  if (s.pending?.rebootPending) h.ensureKey(`${cbs}\\RebootPending`);
  if (s.pending?.packagesPending?.length) {
    const k = h.ensureKey(`${cbs}\\PackagesPending`);
    for (const p of s.pending.packagesPending) h.setValue(k, p, 4, dword(1));
    const sp = h.ensureKey(`${cbs}\\SessionsPending`);
    h.setValue(sp, 'Exclusive', 4, dword(1));
    h.setValue(sp, 'TotalSessionPhases', 4, dword(1));
  }
  if (s.pending?.rebootRequired) h.ensureKey('Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired');
  if (s.policy) {
    const wu = h.ensureKey('Policies\\Microsoft\\Windows\\WindowsUpdate');
    if (s.policy.wuServer) {
      h.setValue(wu, 'WUServer', 1, utf16(s.policy.wuServer));
      h.setValue(wu, 'WUStatusServer', 1, utf16(s.policy.wuServer));
    }
    if (s.policy.acceptTrustedPublisherCerts !== undefined) h.setValue(wu, 'AcceptTrustedPublisherCerts', 4, dword(s.policy.acceptTrustedPublisherCerts));
    const au = h.ensureKey('Policies\\Microsoft\\Windows\\WindowsUpdate\\AU');
    if (s.policy.useWUServer !== undefined) h.setValue(au, 'UseWUServer', 4, dword(s.policy.useWUServer));
    if (s.policy.noAutoUpdate !== undefined) h.setValue(au, 'NoAutoUpdate', 4, dword(s.policy.noAutoUpdate));
  }
  if (s.qualityCompat) h.setValue(h.ensureKey('Microsoft\\Windows\\CurrentVersion\\QualityCompat'), 'cadca5fe-87d3-4b96-b7fb-a231484277cc', 4, dword(0));
  for (const store of ['ROOT', 'CA', 'TrustedPublisher', 'Disallowed']) h.ensureKey(`Microsoft\\SystemCertificates\\${store}\\Certificates`);
  await writeNewHiveFile(file, h, true);
}

async function buildSystem(file: string, s: InstallSpec): Promise<void> {
  const h = Hive.create({ minor: 5, rootName: 'ROOT' });
  const sel = h.ensureKey('Select');
  for (const [n, v] of [
    ['Current', 1],
    ['Default', 1],
    ['Failed', 0],
    ['LastKnownGood', 1],
  ] as const)
    h.setValue(sel, n, 4, dword(v));
  for (const [name, d] of Object.entries(SERVICES)) {
    if (name === 'UsoSvc' && s.currentBuild < 10240) continue;
    const k = h.ensureKey(`ControlSet001\\Services\\${name}`);
    h.setValue(k, 'Start', 4, dword(s.serviceStart?.[name] ?? d.start));
    h.setValue(k, 'Type', 4, dword(0x20));
    h.setValue(k, 'ImagePath', 2, utf16(d.image));
    if (d.delayed) h.setValue(k, 'DelayedAutostart', 4, dword(d.delayed));
    h.setValue(
      h.ensureKey(`ControlSet001\\Services\\${name}\\Security`),
      'Security',
      3,
      new Uint8Array([1, 0, 0x14, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    );
  }
  if (s.computerName) h.setValue(h.ensureKey('ControlSet001\\Control\\ComputerName\\ComputerName'), 'ComputerName', 1, utf16(s.computerName));
  const sm = h.ensureKey('ControlSet001\\Control\\Session Manager');
  if (s.processorArchitecture)
    h.setValue(h.ensureKey('ControlSet001\\Control\\Session Manager\\Environment'), 'PROCESSOR_ARCHITECTURE', 1, utf16(s.processorArchitecture));
  if (s.pending?.rebootPending) h.setValue(sm, 'PendingFileRenameOperations', 7, multiSz(['\\??\\C:\\Windows\\WinSxS\\Temp\\PendingRenames\\x.dll', '']));
  if (s.timeZone) {
    // What Windows writes for a zone without daylight time: both SYSTEMTIMEs zero.
    const tz = h.ensureKey('ControlSet001\\Control\\TimeZoneInformation');
    h.setValue(tz, 'Bias', 4, dword(s.timeZone.biasMinutes));
    h.setValue(tz, 'StandardBias', 4, dword(0));
    h.setValue(tz, 'DaylightBias', 4, dword(-60));
    h.setValue(tz, 'StandardStart', 3, new Uint8Array(16));
    h.setValue(tz, 'DaylightStart', 3, new Uint8Array(16));
    h.setValue(tz, 'StandardName', 1, utf16(`@tzres.dll,-${s.timeZone.biasMinutes}`));
    h.setValue(tz, 'DaylightName', 1, utf16(`@tzres.dll,-${s.timeZone.biasMinutes + 1}`));
    h.setValue(tz, 'TimeZoneKeyName', 1, utf16(s.timeZone.keyName));
    h.setValue(tz, 'DynamicDaylightTimeDisabled', 4, dword(0));
  }
  await writeNewHiveFile(file, h, true);
}

async function buildComponents(file: string, s: InstallSpec): Promise<void> {
  const h = Hive.create({ minor: 5, rootName: 'ROOT' });
  if (s.pending?.components) {
    h.setValue(h.rootCell, 'PendingXmlIdentifier', 3, utf16('1d3a4f5e6b7c8d9e'));
    h.setValue(h.rootCell, 'NextQueueEntryIndex', 3, new Uint8Array([1, 0, 0, 0]));
    h.setValue(h.rootCell, 'AdvancedInstallersNeedResolving', 3, new Uint8Array([1]));
  }
  h.ensureKey('DerivedData\\Components');
  await writeNewHiveFile(file, h, true);
}

/** Copy a real hive (with its logs) and set its WinTrust State when asked. */
async function realHive(dest: string, src: string, logs: string[], state: number | undefined): Promise<void> {
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(hiveFixture(src), dest);
  // Logs keep their real names (Windows pairs NTUSER.DAT with ntuser.dat.LOG1 case-insensitively).
  for (const l of logs) copyFileSync(hiveFixture(`${path.dirname(src)}/${l}`), path.join(path.dirname(dest), l));
  if (state !== undefined) {
    const h = await openHiveFile(dest);
    h.hive.setValue(h.hive.ensureKey(WINTRUST_KEY), 'State', 4, dword(state));
    await saveHiveFile(h);
  }
}

function fileTime(t: string): string {
  return `${t}:123+0100`;
}

function reportingEvents(lines: LogLine[]): Uint8Array {
  const text = lines
    .map((l, i) =>
      [
        `{${(0x10000000 + i).toString(16).toUpperCase()}-61E3-4998-9EBD-B448C62540A4}`,
        fileTime(l.time),
        '1',
        l.success ? '183 [AGENT_INSTALLING_SUCCEEDED]' : '182 [AGENT_INSTALLING_FAILED]',
        '101',
        '{FD8A47F9-2E75-4763-AE52-777D471C87C8}',
        '200',
        l.success ? '0' : l.code,
        'UpdateOrchestrator',
        l.success ? 'Success' : 'Failure',
        'Content Install',
        l.success
          ? `Installation Successful: Windows successfully installed the following update: ${l.title}`
          : `Installation Failure: Windows failed to install the following update with error 0x${l.code}: ${l.title}.`,
      ].join('\t'),
    )
    .join('\r\n');
  return new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text + '\r\n', 'utf16le')]));
}

function windowsUpdateLog(lines: LogLine[]): string {
  const out = ['2018-01-04\t19:02:11:015\t 952\t5b4\tAgent\t  * WSUS server: <NULL>'];
  for (const l of lines) {
    const [d, t] = l.time.split(' ');
    out.push(
      `${d}\t${t}:581\t 952\t5b4\tReport\tREPORT EVENT: {C7C93C12-61E3-4998-9EBD-B448C62540A4}\t${fileTime(l.time)}\t1\t${l.success ? 183 : 182}\t101\t{FD8A47F9-2E75-4763-AE52-777D471C87C8}\t201\t${l.success ? 0 : l.code}\tAutomaticUpdates\t${l.success ? 'Success' : 'Failure'}\tContent Install\t${l.success ? 'Installation Successful' : `Installation Failure: Windows failed to install the following update with error 0x${l.code}`}: ${l.title}.`,
    );
  }
  return out.join('\r\n') + '\r\n';
}

/** CBS.log in the real session format: each entry is one WindowsUpdateAgent session that failed. */
function cbsLog(lines: LogLine[]): string {
  const out = [
    '2024-01-09 08:00:01, Info                  CBS    Loaded Servicing Stack v10.0.20348.2200 with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.20348.2200_none_8a2a2a0e5b1c6f1a\\cbscore.dll',
  ];
  lines.forEach((l, i) => {
    const session = `3107684${i}_140954723${i}`;
    const pkg = `Package_for_${l.kb}~31bf3856ad364e35~amd64~~10.0.1.0`;
    out.push(
      `${l.time}, Info                  CBS    Session: ${session} initialized by client WindowsUpdateAgent, external staging directory: (null), external registry directory: (null)`,
    );
    out.push(`${l.time}, Info                  CBS    Exec: Processing started.  Client: WindowsUpdateAgent, Session: ${session}, Package: ${pkg}`);
    out.push(`${l.time}, Error                 CBS    Failed to execute execution package: ${pkg} [HRESULT = 0x${l.code}]`);
    out.push(`${l.time}, Info                  CBS    Session: ${session} finalized. Reboot required: no [HRESULT = 0x${l.code}]`);
  });
  return out.join('\r\n') + '\r\n';
}

const REAGENT = (installState: number, offset: number, guid: string) => `<?xml version='1.0' encoding='utf-8'?>

<WindowsRE version="2.0">
  <WinreBCD id="{b2e2f7c1-5d7b-11ee-9c2a-806e6f6e6963}"/>
  <WinreLocation path="${installState ? '\\Recovery\\WindowsRE' : ''}" id="0" offset="${installState ? offset : 0}" guid="${installState ? guid : '{00000000-0000-0000-0000-000000000000}'}"/>
  <ImageLocation path="" id="0" offset="0" guid="{00000000-0000-0000-0000-000000000000}"/>
  <PBRImageLocation path="" id="0" offset="0" guid="{00000000-0000-0000-0000-000000000000}" index="0"/>
  <PBRCustomImageLocation path="" id="0" offset="0" guid="{00000000-0000-0000-0000-000000000000}" index="0"/>
  <InstallState state="${installState}"/>
  <OsInstallAvailable state="0"/>
  <CustomImageAvailable state="0"/>
  <IsAutoRepairOn state="1"/>
  <WinREStaged state="0"/>
  <OperationParam path=""/>
  <OperationPermanent state="0"/>
  <OsBuildVersion path="20348.1.amd64fre.fe_release.210507-1500"/>
  <OemTool state="0"/>
  <IsServer state="0"/>
  <DownlevelWinreLocation path="" id="0" offset="0" guid="{00000000-0000-0000-0000-000000000000}"/>
  <IsWimBoot state="0"/>
  <NarratorScheduled state="0"/>
  <ScheduledOperation state="4"/>
</WindowsRE>
`;

/** Write an offline Windows tree under `root` (a directory standing for the volume root). */
export async function buildWindowsTree(root: string, s: InstallSpec): Promise<void> {
  const cfg = path.join(root, 'Windows', 'System32', 'config');
  mkdirSync(cfg, { recursive: true });
  await buildSoftware(path.join(cfg, 'SOFTWARE'), s);
  await buildSystem(path.join(cfg, 'SYSTEM'), s);
  await buildComponents(path.join(cfg, 'COMPONENTS'), s);
  const w = s.wintrust ?? {};
  // .DEFAULT: the real (dirty) Windows 11 DEFAULT with its .LOG1/.LOG2.
  await realHive(path.join(cfg, 'DEFAULT'), 'DFIRArtifactMuseum/Win11/DEFAULT', ['DEFAULT.LOG1', 'DEFAULT.LOG2'], w.default);
  await realHive(path.join(cfg, 'systemprofile', 'NTUSER.DAT'), 'DFIRArtifactMuseum/Win11/DEFAULT_PROFILE/NTUSER.DAT', [], w.system);
  await realHive(
    path.join(root, 'Windows', 'ServiceProfiles', 'LocalService', 'NTUSER.DAT'),
    'DFIRArtifactMuseum/Win11/LocalService/NTUSER.DAT',
    ['NTUSER.DAT.LOG1', 'NTUSER.DAT.LOG2'],
    w.localservice,
  );
  await realHive(
    path.join(root, 'Windows', 'ServiceProfiles', 'NetworkService', 'NTUSER.DAT'),
    'DFIRArtifactMuseum/Win11/NetworkService/NTUSER.DAT',
    ['NTUSER.DAT.LOG1', 'NTUSER.DAT.LOG2'],
    w.networkservice,
  );
  await realHive(path.join(root, 'Users', 'Alice', 'NTUSER.DAT'), 'regipy/NTUSER.DAT', [], w.user);
  // Logs.
  const sd = path.join(root, 'Windows', 'SoftwareDistribution');
  mkdirSync(sd, { recursive: true });
  if (s.reportingEvents) write(path.join(sd, 'ReportingEvents.log'), reportingEvents(s.reportingEvents));
  if (s.windowsUpdateLog) write(path.join(root, 'Windows', 'WindowsUpdate.log'), windowsUpdateLog(s.windowsUpdateLog));
  write(path.join(root, 'Windows', 'Logs', 'CBS', 'CBS.log'), s.cbsText ?? cbsLog(s.cbs ?? []));
  if (s.setupLog) write(path.join(root, 'Windows', 'Temp', s.setupLog.name), s.setupLog.lines.join('\r\n') + '\r\n');
  if (s.systemEvtx) {
    const evtx = path.join(root, 'Windows', 'System32', 'winevt', 'Logs', 'System.evtx');
    mkdirSync(path.dirname(evtx), { recursive: true });
    copyFileSync(fixture('evtx', 'system.evtx'), evtx);
  }
  if (s.caches) {
    write(path.join(sd, 'DataStore', 'DataStore.edb'), new Uint8Array(64 * 1024));
    write(path.join(sd, 'DataStore', 'Logs', 'edb.log'), new Uint8Array(8192));
    write(path.join(sd, 'Download', '4f6a7e1f0c9d2b8e', 'windows10.0-kb5034441-x64.cab'), new Uint8Array(100 * 1024));
    write(path.join(root, 'Windows', 'System32', 'catroot2', '{F750E6C3-38EE-11D1-85E5-00C04FC295EE}', 'catdb'), new Uint8Array(32 * 1024));
    write(path.join(root, 'Windows', 'System32', 'catroot2', 'edb.log'), new Uint8Array(4096));
    write(path.join(root, 'Windows', 'System32', 'catroot', '{F750E6C3-38EE-11D1-85E5-00C04FC295EE}', 'nt5.cat'), new Uint8Array(4096));
    const dl = path.join(root, 'ProgramData', 'Microsoft', 'Network', 'Downloader');
    for (const f of ['qmgr.db', 'edb.chk', 'edb.log', 'qmgr.jfm']) write(path.join(dl, f), new Uint8Array(4096));
  }
  if (s.pending?.pendingXml)
    write(
      path.join(root, 'Windows', 'WinSxS', 'pending.xml'),
      '<?xml version="1.0" encoding="utf-8"?>\r\n<PendingTransaction Version="3.1" Identifier="1d3a4f5e6b7c8d9e"></PendingTransaction>\r\n',
    );
  const rec = path.join(root, 'Windows', 'System32', 'Recovery');
  mkdirSync(rec, { recursive: true });
  const r = s.reagent ?? { installState: 1, offset: 0, guid: '{00000000-0000-0000-0000-000000000000}' };
  write(path.join(rec, 'ReAgent.xml'), REAGENT(r.installState, r.offset ?? 0, r.guid ?? '{00000000-0000-0000-0000-000000000000}'));
  if (r.installState === 0) write(path.join(rec, 'Winre.wim'), new Uint8Array(1024 * 1024));
}

export interface DiskSpec {
  size: number;
  /** Recovery partition size and how much of it stays free. */
  recoverySize: number;
  recoveryFree: number;
  guid?: string;
}

/**
 * A GPT disk image laid out like a UEFI Windows install (ESP, MSR, Windows, Recovery at the end)
 * whose Windows partition holds the tree built by buildWindowsTree (copied in through ntfs-3g) and
 * whose recovery partition has `recoveryFree` bytes free (a Winre.wim fills the rest).
 */
export function buildDisk(file: string, tree: string, d: DiskSpec): BuiltImage & { osStart: number; recStart: number } {
  const recStart = gptEnd(d.size) - d.recoverySize;
  const osStart = 117 * MiB;
  const img = buildGpt(file, d.size, [
    { start: MiB, size: 100 * MiB, type: TYPE.ESP, name: 'EFI system partition', attributes: 0x8000000000000000n, fs: { kind: 'fat32', label: 'SYSTEM' } },
    { start: 101 * MiB, size: 16 * MiB, type: TYPE.MSR, name: 'Microsoft reserved partition' },
    { start: osStart, size: recStart - osStart, type: TYPE.BASIC, name: 'Basic data partition', fs: { kind: 'ntfs', label: 'Windows' } },
    {
      start: recStart,
      size: d.recoverySize,
      type: TYPE.RECOVERY,
      name: '',
      attributes: RECOVERY_ATTRS,
      guid: d.guid,
      fs: { kind: 'ntfs', label: 'Windows RE tools' },
    },
  ]);
  withMountedNtfs(file, osStart, recStart - osStart, (mnt) => {
    run('cp', ['-a', `${tree}/.`, mnt]);
  });
  withMountedNtfs(file, recStart, d.recoverySize, (mnt) => {
    const dir = path.join(mnt, 'Recovery', 'WindowsRE');
    mkdirSync(dir, { recursive: true });
    write(path.join(dir, 'boot.sdi'), new Uint8Array(3 * MiB));
    const free = Number(run('df', ['-B1', '--output=avail', mnt]).split('\n')[1]!.trim());
    const fill = free - d.recoveryFree;
    if (fill > 0) run('dd', ['if=/dev/zero', `of=${path.join(dir, 'Winre.wim')}`, 'bs=1M', `count=${Math.floor(fill / MiB)}`, 'status=none']);
  });
  // The BCD store on the ESP (FAT32, written with mtools: no kernel vfat needed).
  const bcd = fixture('bcd', 'BCDrecovery');
  const at = `${file}@@${MiB}`;
  run('mmd', ['-i', at, '::/EFI', '::/EFI/Microsoft', '::/EFI/Microsoft/Boot']);
  run('mcopy', ['-i', at, bcd, '::/EFI/Microsoft/Boot/BCD']);
  return { ...img, osStart, recStart };
}

/** Mount an NTFS partition of an image read-write with ntfs-3g through a loop device; always cleaned up. */
export function withMountedNtfs<T>(image: string, offset: number, size: number, fn: (mnt: string) => T): T {
  const mnt = path.join(path.dirname(image), `mnt-${offset}`);
  mkdirSync(mnt, { recursive: true });
  const dev = run('losetup', ['--find', '--show', '--offset', String(offset), '--sizelimit', String(size), image]).trim();
  try {
    run('ntfs-3g', [dev, mnt]);
    try {
      return fn(mnt);
    } finally {
      run('umount', [mnt]);
    }
  } finally {
    run('losetup', ['--detach', dev]);
  }
}

export { GiB, MiB };
export const exists = existsSync;
