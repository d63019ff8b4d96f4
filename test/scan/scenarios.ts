// The seed failures of issue #4 as installation specs, and a healthy one.
import type { InstallSpec } from '../helpers/winbuilder.js';

/** The Windows versions the scenarios run on (SOFTWARE CurrentVersion values). */
export const WIN10_22H2 = {
  productName: 'Windows 10 Pro',
  editionId: 'Professional',
  installationType: 'Client',
  currentBuild: 19045,
  displayVersion: '22H2',
} as const;
export const WIN10_22H2_ENT = {
  productName: 'Windows 10 Enterprise',
  editionId: 'Enterprise',
  installationType: 'Client',
  currentBuild: 19045,
  ubr: 4046,
  displayVersion: '22H2',
} as const;
export const WIN7_PRO = { productName: 'Windows 7 Professional', editionId: 'Professional', installationType: 'Client', currentBuild: 7601 } as const;

export const server2022Winre: InstallSpec = {
  productName: 'Windows Server 2022 Standard',
  editionId: 'ServerStandard',
  installationType: 'Server',
  currentBuild: 20348,
  ubr: 2159,
  displayVersion: '21H2',
  reportingEvents: [
    {
      time: '2024-01-09 10:05:12',
      kb: 'KB5034129',
      code: '0',
      title: '2024-01 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5034129)',
      success: true,
    },
    {
      time: '2024-01-10 03:12:44',
      kb: 'KB5034439',
      code: '80070643',
      title: '2024-01 Security Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5034439)',
    },
  ],
  cbs: [{ time: '2024-01-10 03:12:40', kb: 'KB5034439', code: '80070643', title: '' }],
  caches: true,
};

export const win10Winre: InstallSpec = {
  ...WIN10_22H2,
  ubr: 3930,
  reportingEvents: [
    {
      time: '2024-01-09 21:14:02',
      kb: 'KB5034441',
      code: '80070643',
      title: '2024-01 Security Update for Windows 10 Version 22H2 for x64-based Systems (KB5034441)',
    },
    {
      time: '2024-01-10 21:15:40',
      kb: 'KB5034441',
      code: '80070643',
      title: '2024-01 Security Update for Windows 10 Version 22H2 for x64-based Systems (KB5034441)',
    },
  ],
  caches: true,
};

export const dotnetWintrust: InstallSpec = {
  ...WIN7_PRO,
  wintrust: { default: 0xc9, user: 0xc9 },
  qualityCompat: true,
  windowsUpdateLog: [
    {
      time: '2012-06-13 03:04:11',
      kb: 'KB2656368',
      code: '80070643',
      title: 'Security Update for Microsoft .NET Framework 4 on Windows XP, Windows Server 2003, Windows Vista, Windows 7, Windows Server 2008 x86 (KB2656368)',
    },
  ],
  setupLog: {
    name: 'KB2656368_20120613_030402156-Microsoft .NET Framework 4 Client Profile-MSP0.txt',
    lines: [
      '=== Verbose logging started: 6/13/2012  3:04:02  Build type: SHIP UNICODE 5.00.7601.00  Calling process: C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\SetupCache\\Client\\setup.exe ===',
      'MSI (s) (C4:28) [03:04:09:531]: Note: 1: 2262 2: Error 3: -2147287038 ',
      "MSI (s) (C4:28) [03:04:09:640]: SOFTWARE RESTRICTION POLICY: Verifying patch --> 'C:\\Windows\\Installer\\2b0b1.msp' against software restriction policy",
      'MSI (s) (C4:28) [03:04:09:640]: SOFTWARE RESTRICTION POLICY: C:\\Windows\\Installer\\2b0b1.msp has a digital signature',
      'MSI (s) (C4:28) [03:04:10:203]: WinVerifyTrust returned 0x800B010B',
      'MSI (s) (C4:28) [03:04:10:203]: Signature verification failed for patch C:\\Windows\\Installer\\2b0b1.msp, error 0x800b010b',
      "MSI (s) (C4:28) [03:04:10:218]: Product: Microsoft .NET Framework 4 Client Profile - Update 'KB2656368' could not be installed. Error code 1603.",
      'MSI (s) (C4:28) [03:04:10:218]: Windows Installer installed an update. Product Name: Microsoft .NET Framework 4 Client Profile. Product Version: 4.0.30319. Product Language: 0. Manufacturer: Microsoft Corporation. Update Name: KB2656368. Installation success or error status: 1603.',
      'Final Result: Installation failed with error code: (0x80070643), "Fatal error during installation" (Elapsed time: 0 00:00:08).',
    ],
  },
};

export const win7Loop: InstallSpec = {
  ...WIN7_PRO,
  qualityCompat: true,
  pending: { rebootPending: true, packagesPending: ['Package_for_KB4056894~31bf3856ad364e35~amd64~~6.1.1.3'], pendingXml: true, components: true },
  packages: { 'Package_for_KB4056894~31bf3856ad364e35~amd64~~6.1.1.3': 0x60 },
  windowsUpdateLog: [
    {
      time: '2018-01-05 03:10:22',
      kb: 'KB4056894',
      code: '80073aa2',
      title: '2018-01 Security Monthly Quality Rollup for Windows 7 for x64-based Systems (KB4056894)',
    },
    {
      time: '2018-01-06 03:11:05',
      kb: 'KB4056894',
      code: '80073aa2',
      title: '2018-01 Security Monthly Quality Rollup for Windows 7 for x64-based Systems (KB4056894)',
    },
    {
      time: '2018-01-07 03:09:47',
      kb: 'KB4056894',
      code: '80073aa2',
      title: '2018-01 Security Monthly Quality Rollup for Windows 7 for x64-based Systems (KB4056894)',
    },
  ],
};

export const wsusCert: InstallSpec = {
  ...WIN10_22H2_ENT,
  policy: { wuServer: 'http://wsus.corp.example:8530', useWUServer: 1 },
  reportingEvents: [{ time: '2024-02-14 11:20:31', kb: 'KB0000001', code: '800b0109', title: 'Adobe Acrobat Reader DC 23.008.20470 (KB0000001)' }],
};

export const healthy: InstallSpec = {
  productName: 'Windows 10 Pro',
  editionId: 'Professional',
  installationType: 'Client',
  currentBuild: 22631,
  ubr: 3007,
  displayVersion: '23H2',
  reportingEvents: [
    {
      time: '2024-02-13 19:02:11',
      kb: 'KB5034765',
      code: '0',
      title: '2024-02 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems (KB5034765)',
      success: true,
    },
  ],
  caches: true,
};

/** Windows 10 1703 with the real System.evtx (KB4025342 failing four times with 0x80248007). */
export const win10Evtx: InstallSpec = {
  productName: 'Windows 10 Pro',
  editionId: 'Professional',
  installationType: 'Client',
  currentBuild: 15063,
  ubr: 483,
  systemEvtx: true,
  caches: true,
};

export const servicesDisabled: InstallSpec = {
  productName: 'Windows 11 Pro',
  editionId: 'Professional',
  installationType: 'Client',
  currentBuild: 22631,
  ubr: 3007,
  displayVersion: '23H2',
  serviceStart: { wuauserv: 4, BITS: 4, UsoSvc: 4 },
  reagent: { installState: 0 },
};

export const staleWsus: InstallSpec = {
  ...WIN10_22H2_ENT,
  policy: { wuServer: 'http://wsus.oldcorp.example:8530', useWUServer: 1, noAutoUpdate: 1 },
  reportingEvents: [
    {
      time: '2024-03-01 09:00:00',
      kb: 'KB5035845',
      code: '8024402c',
      title: '2024-03 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5035845)',
    },
    {
      time: '2024-03-02 09:00:00',
      kb: 'KB5035845',
      code: '8024402c',
      title: '2024-03 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5035845)',
    },
  ],
};
