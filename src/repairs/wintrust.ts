// wintrust: reset the WinTrust "Software Publishing" State to the Windows default 0x23C00 (or
// --wintrust-value) in every user hive where it is present and differs: .DEFAULT (LocalSystem),
// systemprofile, LocalService, NetworkService and every ProfileList profile.
import type { PlanStep } from '../model/plan.js';
import type { Repair } from '../engine/volume.js';
import { WINTRUST_KEY, DEFAULT_STATE, decodeState } from '../windows/wintrust.js';
import { REG } from '../hive/regtext.js';

export const dwordHex = (n: number) => Buffer.from(new Uint32Array([n >>> 0]).buffer).toString('hex');
const opts = (n: number) => decodeState(n).enabledSet.join(',') || 'none';
const hex = (n: number) => `0x${n.toString(16).toUpperCase().padStart(5, '0')}`;

export const wintrust: Repair = {
  id: 'wintrust',
  title: 'reset the WinTrust "Software Publishing" State in every user hive',
  fixes: ['wintrust-state'],
  // Every user hive ("reset in every hive"): one that is a link, or sits in a linked profile folder, refuses.
  uses: ({ scan }) => [
    'Windows\\System32\\config\\SOFTWARE', // ProfileList: which hives there are
    'Windows\\System32\\config\\DEFAULT',
    ...scan.wintrust.map((h) => h.hive).filter((h) => !/^([A-Za-z]:|[\\/]{2})/.test(h)),
  ],
  plan({ scan, options }) {
    const target = options.wintrustValue ?? DEFAULT_STATE;
    const steps: PlanStep[] = [];
    for (const h of scan.wintrust) {
      if (!h.exists || h.state === undefined || h.state === target) continue;
      const finding = scan.findings.find((f) => f.id === 'wintrust-state' && f.subject === h.hive);
      steps.push({
        repair: 'wintrust',
        reason: finding ? `wintrust-state (${h.kind})` : `State differs from ${hex(target)} (${h.kind})`,
        change: {
          kind: 'reg-set',
          hive: h.hive,
          key: WINTRUST_KEY,
          name: 'State',
          value: { type: REG.DWORD, data: dwordHex(target) },
          old: { type: REG.DWORD, data: dwordHex(h.state) },
        },
        note: `setreg options ${opts(h.state)} -> ${opts(target)}`,
      });
    }
    return steps;
  },
};
