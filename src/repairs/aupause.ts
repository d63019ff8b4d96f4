// au-pause / au-resume: stop Windows Update from retrying an update that loops (install -> reboot ->
// rollback -> reinstall) by setting the policy NoAutoUpdate=1, and remove it again once the update is
// dealt with (windows-update.md §4 step 4, §6). While it is set, every scan reports the info finding
// 'au-paused' as a reminder. au-pause does not erase the failures in the logs, so the scan's
// 'reboot-loop' finding (derived from them) stays; it stops the retries while 'pending' fixes the cause.
import type { PlanStep, RegData } from '../model/plan.js';
import type { PlanContext, Repair, Volume } from '../engine/volume.js';
import { REG } from '../hive/regtext.js';
import { AU_POLICY_KEY } from '../windows/policy.js';
import { dwordHex } from './wintrust.js';

const SOFTWARE_REL = 'Windows\\System32\\config\\SOFTWARE';
const NAME = 'NoAutoUpdate';

/** The SOFTWARE hive (volume-relative path) and the NoAutoUpdate value as stored, if any. */
async function readNoAutoUpdate(volume: Volume): Promise<{ hive: string; old: RegData | null } | undefined> {
  const hive = volume.resolve(SOFTWARE_REL);
  const h = hive === undefined ? undefined : await volume.openHive(hive);
  if (hive === undefined || !h) return undefined;
  const nk = h.lookup(AU_POLICY_KEY);
  const vk = nk === undefined ? undefined : h.findValue(nk, NAME);
  const old = vk === undefined ? null : { type: h.valueType(vk), data: Buffer.from(h.valueData(vk)).toString('hex') };
  return { hive, old };
}

export const auPause: Repair = {
  id: 'au-pause',
  title: 'pause automatic updates (policy NoAutoUpdate=1) so a looping update is not retried',
  fixes: ['reboot-loop'],
  uses: () => [SOFTWARE_REL],
  async plan({ scan, volume }: PlanContext): Promise<PlanStep[]> {
    if (scan.policy.noAutoUpdate === 1) return [];
    const cur = await readNoAutoUpdate(volume);
    if (!cur) return [];
    const loops = scan.findings.filter((f) => f.id === 'reboot-loop');
    return [
      {
        repair: 'au-pause',
        reason: loops.length ? `reboot-loop (${loops.map((f) => f.subject).join(', ')})` : 'requested (--only au-pause)',
        change: { kind: 'reg-set', hive: cur.hive, key: AU_POLICY_KEY, name: NAME, value: { type: REG.DWORD, data: dwordHex(1) }, old: cur.old },
        note: 'Windows stops installing updates automatically until au-resume (wufix repair --only au-resume)',
      },
    ];
  },
};

export const auResume: Repair = {
  id: 'au-resume',
  title: 'resume automatic updates (remove the policy NoAutoUpdate)',
  fixes: [],
  uses: () => [SOFTWARE_REL],
  async plan({ scan, volume }: PlanContext): Promise<PlanStep[]> {
    const cur = await readNoAutoUpdate(volume);
    if (!cur?.old) return [];
    const paused = scan.findings.find((f) => f.id === 'au-paused');
    return [
      {
        repair: 'au-resume',
        reason: paused ? 'au-paused (NoAutoUpdate=1)' : `policy ${NAME} present`,
        change: { kind: 'reg-delete-value', hive: cur.hive, key: AU_POLICY_KEY, name: NAME, old: cur.old },
        note: 'automatic updates follow the AUOptions policy or the Windows default again',
      },
    ];
  },
};
