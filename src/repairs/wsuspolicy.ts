// wsus-policy: a WSUS client that cannot work or that is a clone (issue #19 item 1). Two changes, both
// registry value deletions in SOFTWARE, each shown in the plan with what it was:
//
// 1. The WSUS policy values that cannot work (windows/policy.ts brokenWsusValues): a WUServer or
//    WUStatusServer that is not an http(s) URL, UseWUServer=1 without a usable WUServer, TargetGroup /
//    TargetGroupEnabled without one. Without them Windows Update uses Microsoft Update again (or the
//    policy a domain pushes on the next gpupdate). A well-formed server URL is never touched: a server
//    that is merely out of reach (stale-wsus-policy from the logs) is the technician's decision.
// 2. The WSUS client identity under HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate:
//    SusClientId and SusClientIDValidation, as Microsoft's WSUS client guide says for clients set up
//    from an image ("Special considerations for client computers set up by using an image": delete
//    both values with wuauserv stopped, then start it; https://technet.microsoft.com/library/dd939898),
//    and PingID and AccountDomainSid, which the "Reset WSUS authorization" scripts of Microsoft's
//    script center delete with them. The agent creates a new identity on its next start and the
//    client registers with WSUS as a new computer (the old entry ages out of the WSUS console).
//    Offline, wuauserv is not running, so nothing rewrites them before the next boot.
//
// The module runs for the stale-wsus-policy finding that names a broken value (repair: wsus-policy),
// or when asked for (--only wsus-policy: a master or cloned image, a duplicate SusClientId in a fleet).
import type { PlanStep, RegData } from '../model/plan.js';
import type { PlanContext, Repair } from '../engine/volume.js';
import type { Hive } from '../hive/hive.js';
import { WSUS_IDENTITY_VALUES, WSUS_SERVER_VALUES, WU_CLIENT_KEY, brokenWsusValues, readWuPolicy } from '../windows/policy.js';

const SOFTWARE_REL = 'Windows\\System32\\config\\SOFTWARE';

function raw(h: Hive, key: string, name: string): RegData | undefined {
  const nk = h.lookup(key);
  const vk = nk === undefined ? undefined : h.findValue(nk, name);
  return vk === undefined ? undefined : { type: h.valueType(vk), data: Buffer.from(h.valueData(vk)).toString('hex') };
}

/** Printable ASCII only, at most 80 characters: names and data from the image in a plan note. */
const safe = (s: string) => {
  const t = s.replace(/[^\x20-\x7e]/g, '?');
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
};

export const wsusPolicy: Repair = {
  id: 'wsus-policy',
  title: 'WSUS: remove policy values that cannot work (never a well-formed server URL) and the client identity so it registers anew',
  fixes: ['stale-wsus-policy'],
  uses: () => [SOFTWARE_REL],
  async plan({ scan, volume, options }: PlanContext): Promise<PlanStep[]> {
    const hive = volume.resolve(SOFTWARE_REL);
    const h = hive === undefined ? undefined : await volume.openHive(hive);
    if (hive === undefined || !h) return [];
    const steps: PlanStep[] = [];
    // Read again from the hive as it is now, not from the scan: the plan deletes what is there.
    for (const b of brokenWsusValues(readWuPolicy(h))) {
      const old = raw(h, b.key, b.name);
      if (!old) continue;
      steps.push({
        repair: 'wsus-policy',
        reason: `stale-wsus-policy (${b.name} "${safe(b.data)}": ${b.why})`,
        change: { kind: 'reg-delete-value', hive, key: b.key, name: b.name, old },
        ...(b.name === 'UseWUServer' ? { note: 'Windows Update uses Microsoft Update again unless a domain policy sets a server' } : {}),
      });
    }
    // --wsus-reset-policy (with --only wsus-policy): the technician says the server policy itself is
    // stale (the machine left that network); every server value goes, each shown with what it was.
    if (options.wsusResetPolicy) {
      const planned = new Set(steps.map((s) => (s.change.kind === 'reg-delete-value' ? s.change.name : '')));
      for (const v of WSUS_SERVER_VALUES) {
        const old = planned.has(v.name) ? undefined : raw(h, v.key, v.name);
        if (!old) continue;
        steps.push({
          repair: 'wsus-policy',
          reason: `--wsus-reset-policy (${v.name})`,
          change: { kind: 'reg-delete-value', hive, key: v.key, name: v.name, old },
          ...(v.name === 'UseWUServer' ? { note: 'Windows Update uses Microsoft Update again unless a domain policy sets a server' } : {}),
        });
      }
    }
    const finding = scan.findings.find((f) => f.id === 'wsus-client-identity');
    for (const name of WSUS_IDENTITY_VALUES) {
      const old = raw(h, WU_CLIENT_KEY, name);
      if (!old) continue;
      steps.push({
        repair: 'wsus-policy',
        reason: `${finding ? 'wsus-client-identity' : 'WSUS client identity'} (${name})`,
        change: { kind: 'reg-delete-value', hive, key: WU_CLIENT_KEY, name, old },
        ...(name === 'SusClientId'
          ? { note: 'the Windows Update agent creates a new identity on its next start and registers with WSUS as a new computer' }
          : {}),
      });
    }
    return steps;
  },
};
