// Installation specs for the wu-cache / pending / trust-cert repair tests (the scan scenarios of
// test/scan/scenarios.ts are reused as they are where they fit).
import type { InstallSpec } from '../helpers/winbuilder.js';

/** Windows 10 22H2 whose update database is broken: 0x80240034 (WU_E_DOWNLOAD_FAILED) twice, caches present. */
export const wuCacheBroken: InstallSpec = {
  productName: 'Windows 10 Pro',
  editionId: 'Professional',
  installationType: 'Client',
  currentBuild: 19045,
  ubr: 4046,
  displayVersion: '22H2',
  reportingEvents: [
    { time: '2024-03-12 18:01:07', kb: 'KB5035845', code: '80240034', title: '2024-03 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5035845)' },
    { time: '2024-03-13 18:02:44', kb: 'KB5035845', code: '80240034', title: '2024-03 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5035845)' },
  ],
  caches: true,
};

/** The win7Loop markers without PackagesPending/SessionsPending, plus WU's RebootRequired: every marker the pending repair clears. */
export const pendingMarkersOnly: InstallSpec = {
  productName: 'Windows 10 Pro',
  editionId: 'Professional',
  installationType: 'Client',
  currentBuild: 19045,
  ubr: 3930,
  displayVersion: '22H2',
  pending: { rebootPending: true, pendingXml: true, components: true, rebootRequired: true },
};
