// remove-package --package <name|KB> (issue #19, item 5; DaRT's Hotfix Uninstall): an update that
// broke the machine is removed offline with `dism /Image:<root> /Remove-Package /PackageName:<name>`
// (Windows/WinPE only; refused elsewhere with what to run). Never chosen by a finding: only with
// --only remove-package and a named package. The package is looked up in the offline SOFTWARE hive
// (CBS\Packages, CurrentState decoded); refused: not there or not installed, the servicing stack
// (it cannot be removed once installed), a Permanent package, and the only cumulative update
// (RollupFix) that is installed: removing it would leave the store without a baseline to fall back
// to. Not undoable byte for byte (to undo, install the update again), which plan, journal and undo say.
import type { PlanStep } from '../model/plan.js';
import type { PlanContext, Repair } from '../engine/volume.js';
import { RefusedError } from '../shared/errors.js';
import { readCbsPackages, type CbsPackage } from '../windows/servicing.js';

const SOFTWARE_HIVE = 'Windows\\System32\\config\\SOFTWARE';
/** States in which a package can be removed (Installed, Install Pending, Partially Installed, Staged). */
const REMOVABLE = new Set([0x70, 0x60, 0x65, 0x40]);
/** Permanent: installed for good (refused by checkRemovable with its own reason). */
const PERMANENT = 0x80;
const isRollup = (p: CbsPackage) => /^Package_for_RollupFix~/i.test(p.name);

/** The package `want` names: a full CBS package name, or a KB number (its top-level package). */
export function pickPackage(packages: CbsPackage[], want: string): CbsPackage {
  const w = want.trim();
  const kb = /^(?:KB)?(\d{6,8})$/i.exec(w);
  let hits: CbsPackage[];
  if (kb) {
    const all = packages.filter((p) => p.kb === `KB${kb[1]}` && p.state !== undefined && (REMOVABLE.has(p.state) || p.state === PERMANENT));
    // The update itself, not its sub-packages (Package_1_for_KB..., Package_for_KB...~wrapper): the top-level ones.
    const top = all.filter((p) => /^Package_for_/i.test(p.name));
    hits = top.length ? top : all;
  } else hits = packages.filter((p) => p.name.toLowerCase() === w.toLowerCase());
  if (hits.length === 0) {
    const named = kb ? packages.filter((p) => p.kb === `KB${kb[1]}`) : [];
    throw new RefusedError(
      named.length
        ? `KB${kb![1]} is in CBS\\Packages only as ${named.map((p) => `${p.name} (${p.stateName})`).join(', ')}: nothing installed to remove`
        : `no CBS package ${kb ? `for KB${kb[1]}` : `named ${w}`} in the offline SOFTWARE hive (see wufix packages)`,
      'package-not-found',
    );
  }
  if (hits.length > 1)
    throw new RefusedError(
      `KB${kb![1]} has ${hits.length} installed packages (${hits.map((p) => p.name).join(', ')}): give one with --package <full name>`,
      'package-not-found',
    );
  const p = hits[0]!;
  if (p.state === undefined || !(REMOVABLE.has(p.state) || p.state === PERMANENT))
    throw new RefusedError(`${p.name} is ${p.stateName}: nothing installed to remove`, 'package-not-found');
  return p;
}

/** Packages wufix never removes: the servicing stack, Permanent ones, the only installed cumulative update. */
export function checkRemovable(p: CbsPackage, packages: CbsPackage[]): void {
  if (/ServicingStack/i.test(p.name))
    throw new RefusedError(
      `${p.name} is the servicing stack: it cannot be removed once installed (Microsoft: servicing stack updates are permanent); nothing was run`,
      'package-protected',
    );
  if (p.state === PERMANENT) throw new RefusedError(`${p.name} is Permanent: DISM cannot remove it; nothing was run`, 'package-protected');
  if (isRollup(p)) {
    const others = packages.filter((q) => q !== p && isRollup(q) && q.state !== undefined && (q.state === 0x70 || q.state === 0x50 || q.state === 0x40));
    if (!others.length)
      throw new RefusedError(
        `${p.name} is the only cumulative update in the store: removing it leaves no baseline to fall back to; install a newer cumulative update instead, or repair the store (component-store); nothing was run`,
        'package-protected',
      );
  }
}

export async function planRemovePackage(ctx: PlanContext): Promise<PlanStep[]> {
  const { options, volume } = ctx;
  const want = options.removePackage;
  if (!want) return [];
  const rel = volume.resolve(SOFTWARE_HIVE);
  const software = rel ? await volume.openHive(rel) : undefined;
  if (!software) throw new RefusedError('the offline SOFTWARE hive could not be read, so the package cannot be checked; nothing was run', 'package-not-found');
  const packages = readCbsPackages(software);
  const p = pickPackage(packages, want);
  checkRemovable(p, packages);
  // A package stuck mid-servicing: Microsoft's documented fix is this same DISM removal (Azure "VM
  // startup is stuck at Windows update"); it documents no registry-only form. Offline without DISM,
  // the stuck servicing itself is what the pending repair clears (Azure's pending-servicing steps).
  const stuck = p.state === 0x60 || p.state === 0x05 || p.state === 0x65;
  const pendingHint = stuck
    ? `; it is stuck in ${p.stateName}: without DISM (Linux), wufix repair --only pending clears the pending servicing that keeps it there (the package stays listed)`
    : '';
  return [
    {
      repair: 'remove-package',
      reason: `requested with --package ${want}`,
      change: { kind: 'dism-remove-package', package: p.name, state: p.stateName },
      note: `${p.kb ? `${p.kb}, ` : ''}${p.stateName}${p.lastError ? `, LastError 0x${(p.lastError >>> 0).toString(16)}` : ''}; DISM removes it itself: to undo, install the update again${pendingHint}`,
    },
  ];
}

export const removePackage: Repair = {
  id: 'remove-package',
  title: 'remove an installed update offline (--package <name|KB>): dism /Image /Remove-Package (Windows/WinPE)',
  fixes: [],
  uses: () => [SOFTWARE_HIVE],
  plan: planRemovePackage,
  needs: 'Windows/WinPE (DISM) and the package: --package <name|KB>',
};
