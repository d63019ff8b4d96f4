// Installation specs for the wu-cache / pending / trust-cert repair tests (the scan scenarios of
// test/scan/scenarios.ts are reused as they are where they fit).
import type { InstallSpec } from '../helpers/winbuilder.js';
import { WIN10_22H2 } from '../scan/scenarios.js';

/** Windows 10 22H2 whose update database is broken: 0x80240034 (WU_E_DOWNLOAD_FAILED) twice, caches present. */
export const wuCacheBroken: InstallSpec = {
  ...WIN10_22H2,
  ubr: 4046,
  reportingEvents: [
    {
      time: '2024-03-12 18:01:07',
      kb: 'KB5035845',
      code: '80240034',
      title: '2024-03 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5035845)',
    },
    {
      time: '2024-03-13 18:02:44',
      kb: 'KB5035845',
      code: '80240034',
      title: '2024-03 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5035845)',
    },
  ],
  caches: true,
};

/** The win7Loop markers without PackagesPending/SessionsPending, plus WU's RebootRequired: every marker the pending repair clears. */
export const pendingMarkersOnly: InstallSpec = {
  ...WIN10_22H2,
  ubr: 3930,
  pending: { rebootPending: true, pendingXml: true, components: true, rebootRequired: true },
};
