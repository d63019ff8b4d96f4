// The host names Windows Update needs, and the lines of a hosts file that map one of them to an
// address (issue #19 item 2: "update disabler" tools add such lines). Any address breaks Windows
// Update: a sinkhole (0.0.0.0, 127.0.0.1, ::1) and a real-looking IP alike, since the resolver
// answers from the hosts file and never asks DNS for the name.
//
// The list is Microsoft's, each entry the name and every name below it:
// - "Manage connection endpoints for Windows 11", section Windows Update
//   (learn.microsoft.com/windows/privacy/manage-windows-11-endpoints): *.update.microsoft.com,
//   *.delivery.mp.microsoft.com (fe3., dl., tlu.dl.), *.windowsupdate.com (download., ctldl., au.),
//   *.prod.do.dsp.mp.microsoft.com (Delivery Optimization), emdl.ws.microsoft.com,
//   tsfe.trafficshaping.dsp.mp.microsoft.com;
// - "Step 2: Configure WSUS", 2.1.1 (learn.microsoft.com/windows-server/administration/
//   windows-server-update-services/deploy/2-configure-wsus): windowsupdate.microsoft.com and
//   *.windowsupdate.microsoft.com, wustat.windows.com, ntservicepack.microsoft.com.
// Not in it, although that WSUS list names them: go.microsoft.com (the fwlink redirector of every
// Microsoft product) and download.microsoft.com (Microsoft's general download site); a line
// blocking them is someone's choice about all of Microsoft, not a Windows Update blocker.
import type { HostsFile } from '../formats/hosts.js';
import type { BlockedHostsLine } from '../model/scan.js';

export type { BlockedHostsLine } from '../model/scan.js';

export interface WuHost {
  /** The name; it and every name below it (".<name>") are Windows Update's. */
  name: string;
  /** Without it Windows Update cannot scan or download at all (else it degrades: peers, throttling). */
  core: boolean;
}

export const WU_HOSTS: readonly WuHost[] = [
  { name: 'windowsupdate.microsoft.com', core: true },
  { name: 'update.microsoft.com', core: true },
  { name: 'windowsupdate.com', core: true },
  { name: 'delivery.mp.microsoft.com', core: true },
  { name: 'wustat.windows.com', core: false },
  { name: 'ntservicepack.microsoft.com', core: false },
  { name: 'prod.do.dsp.mp.microsoft.com', core: false },
  { name: 'emdl.ws.microsoft.com', core: false },
  { name: 'tsfe.trafficshaping.dsp.mp.microsoft.com', core: false },
];

/** The Windows Update entry `name` falls under (case-insensitive, a trailing dot ignored), if any. */
export function wuHostOf(name: string): WuHost | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  return WU_HOSTS.find((h) => n === h.name || n.endsWith(`.${h.name}`));
}

/** Every entry of `file` naming a Windows Update host, in file order. */
export function blockedWuLines(file: HostsFile): BlockedHostsLine[] {
  const out: BlockedHostsLine[] = [];
  for (const l of file.entries) {
    const hits = l.names.map((n) => ({ n, h: wuHostOf(n) }));
    const wu = hits.filter((x) => x.h);
    if (!wu.length) continue;
    out.push({
      line: l.number,
      text: l.text,
      address: l.address,
      wuNames: wu.map((x) => x.n),
      otherNames: hits.filter((x) => !x.h).map((x) => x.n),
      core: wu.some((x) => x.h!.core),
    });
  }
  return out;
}
