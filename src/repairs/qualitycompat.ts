// qualitycompat: set the QualityCompat value (windows-update.md §5) on builds where Windows Update
// still withholds security updates without it (scan.policy.qualityCompatApplies: Windows 7 / 8.1 /
// 2008 R2 / 2012 before the April 2018 rollup, Windows 10 1507-1709 below the March 2018 cumulative
// update) and it is absent. Setting it is harmless on any build, but it is only planned where it helps.
import type { Repair } from '../engine/volume.js';
import { REG } from '../hive/regtext.js';
import { QUALITYCOMPAT_KEY, QUALITYCOMPAT_VALUE, MARCH_2018_CU_UBR } from '../windows/policy.js';
import { dwordHex } from './wintrust.js';

const SOFTWARE_REL = 'Windows\\System32\\config\\SOFTWARE';

function why(build: number | undefined, ubr: number | undefined): string {
  if (build === undefined) return 'build unknown';
  const cu = MARCH_2018_CU_UBR[build];
  if (cu) return `Windows 10 ${cu.release} build ${build}.${ubr ?? 0} is below the March 2018 cumulative update ${cu.kb} (${build}.${cu.ubr})`;
  return `build ${build} is assumed to lack the April 2018 rollup (KB4093118 / KB4093114)`;
}

export const qualityCompat: Repair = {
  id: 'qualitycompat',
  title: 'set the QualityCompat value that pre-2018 builds need to be offered security updates',
  fixes: ['qualitycompat-missing'],
  uses: () => [SOFTWARE_REL],
  plan({ scan, volume }) {
    if (!scan.policy.qualityCompatApplies || scan.policy.qualityCompat !== undefined) return [];
    const hive = volume.resolve(SOFTWARE_REL);
    if (!hive) return [];
    const finding = scan.findings.find((f) => f.id === 'qualitycompat-missing');
    return [
      {
        repair: 'qualitycompat',
        reason: finding ? 'qualitycompat-missing' : 'QualityCompat value absent',
        change: {
          kind: 'reg-set',
          hive,
          key: QUALITYCOMPAT_KEY,
          name: QUALITYCOMPAT_VALUE,
          value: { type: REG.DWORD, data: dwordHex(0) },
          old: null,
        },
        note: `${why(scan.system.currentBuild, scan.system.ubr)}; the value AV vendors write (REG_DWORD 0)`,
      },
    ];
  },
};
