// WinRE: the recovery partition (its free space and place) and whether Windows RE is enabled.
import type { Evidence, Finding, PartitionInfo, TargetScan } from '../../model/scan.js';
import { describeBytes, fmtBytes } from '../../shared/units.js';
import { WINRE_KBS, WINRE_UPDATE_FREE } from '../../windows/winre.js';
import { before, codesOf, attemptEvidence, failuresOf, lastRepair, type Rule } from './rule.js';

/** "250 MiB" and "KB5034441/KB5034439/KB5034440", from the facts in windows/winre.ts. */
const NEEDED = fmtBytes(WINRE_UPDATE_FREE);
const WINRE_UPDATES = [...WINRE_KBS].join('/');

function partitionText(rec: PartitionInfo): string {
  return `partition ${rec.number}: ${describeBytes(rec.size)}`;
}

/** winre-too-small: measured below 250 MiB free, or the WinRE update failed where nothing was measured. */
function tooSmall(t: TargetScan, rec: PartitionInfo | undefined): Finding[] {
  // Failures before a verified winre repair run are history: that run rebuilt the partition since.
  const run = lastRepair(t, 'winre');
  const winreFailures = failuresOf(t).filter((f) => f.kind === 'install' && f.kb && WINRE_KBS.has(f.kb.toUpperCase()) && !before(f, run));
  const diskPath = t.disk?.path ?? '';
  if (rec && rec.freeBytes !== undefined && rec.freeBytes < WINRE_UPDATE_FREE) {
    return [
      {
        id: 'winre-too-small',
        severity: 'error',
        explanation: `The recovery partition has ${describeBytes(rec.freeBytes)} free but the WinRE update (${WINRE_UPDATES}) needs ${NEEDED}, so it fails with 0x80070643; the winre repair rebuilds the partition larger.`,
        evidence: [
          {
            file: diskPath,
            offset: rec.start,
            data: `${partitionText(rec)}, ${describeBytes(rec.freeBytes)} free, ${rec.fs}${rec.label ? ` "${rec.label}"` : ''}`,
          },
          ...winreFailures.map(attemptEvidence),
        ],
        repair: 'winre',
        errorCodes: ['0x80070643'],
      },
    ];
  }
  if (winreFailures.length === 0 || (rec && rec.freeBytes !== undefined)) return [];
  return [
    {
      id: 'winre-too-small',
      severity: 'error',
      explanation: rec
        ? `The WinRE update failed with ${codesOf(winreFailures).join(', ') || 'an error'}; the recovery partition's free space could not be measured (scan with --image or --disk as root to mount it), but this failure means less than ${NEEDED} free.`
        : `The WinRE update failed and no recovery partition was examined; scan with --disk/--image to check the recovery partition (the update needs ${NEEDED} free in it).`,
      evidence: [...(rec ? [{ file: diskPath, offset: rec.start, data: partitionText(rec) }] : []), ...winreFailures.map(attemptEvidence)],
      repair: 'winre',
      errorCodes: codesOf(winreFailures),
    },
  ];
}

function disabled(t: TargetScan): Finding[] {
  const w = t.winre;
  if (w.installState !== 0 && w.recoveryEnabled !== false) return [];
  const ev: Evidence[] = [];
  if (w.reagentXml && w.installState !== undefined) ev.push({ file: w.reagentXml, data: `InstallState state="${w.installState}"` });
  if (w.bcdStore && w.recoveryEnabled === false) ev.push({ file: w.bcdStore, data: 'OS loader recoveryenabled = No' });
  if (w.winreWimOnOs) ev.push({ file: w.winreWimOnOs.path, data: `${describeBytes(w.winreWimOnOs.bytes)} (the image waits here while WinRE is disabled)` });
  return [
    {
      id: 'winre-disabled',
      severity: 'warning',
      explanation:
        'Windows RE is disabled, so recovery and the WinRE servicing updates cannot use it; the winre repair re-enables it on a correctly sized recovery partition.',
      evidence: ev,
      repair: 'winre',
    },
  ];
}

function misplaced(t: TargetScan, rec: PartitionInfo | undefined, os: PartitionInfo | undefined): Finding[] {
  if (!t.disk || !rec || !os || rec.start >= os.start) return [];
  return [
    {
      id: 'winre-misplaced',
      severity: 'warning',
      explanation: `The recovery partition (${rec.number}) sits before the Windows partition (${os.number}), so it cannot be grown by shrinking Windows; the winre repair creates a larger one after Windows instead.`,
      evidence: [{ file: t.disk.path, data: `recovery at byte ${rec.start}, Windows at byte ${os.start}` }],
      repair: 'winre',
    },
  ];
}

export const winreRule: Rule = {
  id: 'winre',
  derive(t) {
    const rec = t.disk?.partitions.find((p) => p.number === t.disk?.recoveryPartition);
    const os = t.disk?.partitions.find((p) => p.number === t.disk?.osPartition);
    return [...tooSmall(t, rec), ...disabled(t), ...misplaced(t, rec, os)];
  },
};
