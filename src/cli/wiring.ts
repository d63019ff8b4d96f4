// The one place that picks implementations per host: the repair registry (the volume repairs and
// the WinRE rebuild) and the host tools the engine's ports need (DISM on Windows). Everything below
// src/cli receives these as values; nothing below imports a platform driver to find them itself.
import type { ApplyHost } from '../engine/apply.js';
import type { Repair } from '../engine/volume.js';
import { VOLUME_REPAIRS } from '../repairs/index.js';
import { winre } from '../winre/repair.js';
import { runDismRemovePackage, runDismRestoreHealth, runDismRevertPendingActions, runSfcOffline } from '../platform/windows.js';

/** Every repair, in plan order (src/repairs/index.ts says why that order). */
export const REPAIRS: readonly Repair[] = [...VOLUME_REPAIRS, winre];

/** The host tools for applying a plan: DISM on Windows/WinPE, none elsewhere (a plan needing them is refused). */
export function applyHost(platform: NodeJS.Platform = process.platform): ApplyHost | undefined {
  return platform === 'win32'
    ? {
        revertPendingActions: (root) => runDismRevertPendingActions(root),
        restoreHealth: (root, source, scratch, progress, logPath) => runDismRestoreHealth(root, source, scratch, progress, logPath),
        sfcOffline: (root) => runSfcOffline(root),
        removePackage: (root, name) => runDismRemovePackage(root, name),
      }
    : undefined;
}
