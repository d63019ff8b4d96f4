// component-store --store-source <install.wim> (issue #19, item 4): the component store (WinSxS) is
// damaged (0x800f081f, 0x80073712, 0x800f0831, 0x80073701; the scan's component-store-corrupt), so
// it is repaired as Microsoft documents for an offline image: DISM /Cleanup-Image /RestoreHealth
// from a matching install image with /LimitAccess (no Windows Update from WinPE), then SFC /scannow
// offline for the system files. Both are Windows' own tools, so the plan runs only in Windows/WinPE
// (refused elsewhere with what to run there), and neither is undoable byte for byte (the plan and
// the journal say so). The source was chosen and checked against the offline build.UBR and edition
// before planning (src/windows/store-source.ts); without one nothing is planned.
import type { PlanStep } from '../model/plan.js';
import type { PlanContext, Repair } from '../engine/volume.js';

/** DISM's scratch folder on the target (WinPE's X: RAM disk is too small for it); DISM empties it itself. */
export const STORE_SCRATCH = 'wufix\\dism-scratch';

export async function planComponentStore(ctx: PlanContext): Promise<PlanStep[]> {
  const { scan, options } = ctx;
  const source = options.storeSource;
  if (!source) return []; // the plan lists the finding as not fixed: it needs --store-source
  const finding = scan.findings.find((f) => f.id === 'component-store-corrupt');
  const reason = finding
    ? `component-store-corrupt (${(finding.errorCodes ?? []).join(', ') || 'damaged components'})`
    : 'requested with --only component-store';
  const from = `${source.wim} image ${source.index}${source.version ? ` (${source.version}${source.editionId ? `, ${source.editionId}` : ''})` : ''}`;
  return [
    {
      repair: 'component-store',
      reason,
      change: { kind: 'dism-restore-health', source, scratchDir: STORE_SCRATCH },
      note: `source ${from}${options.storeCoverage ? `: ${options.storeCoverage}` : ''}; DISM replaces component files itself: undo cannot put them back`,
    },
    {
      repair: 'component-store',
      reason: 'the system files, once the store is repaired',
      change: { kind: 'sfc-offline' },
      note: 'SFC repairs files from the store: undo cannot put them back',
    },
  ];
}

export const componentStore: Repair = {
  id: 'component-store',
  title: 'repair the component store: DISM /RestoreHealth from matching install media (--store-source), then SFC offline (Windows/WinPE)',
  fixes: ['component-store-corrupt'],
  uses: () => [],
  plan: planComponentStore,
  needs: 'Windows/WinPE (DISM, SFC) and the install media of the same build.UBR and edition: --store-source <install.wim>',
};
