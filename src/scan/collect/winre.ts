// WinRE facts of a scan: ReAgent.xml, a Winre.wim staged on the OS volume, and the recovery
// entries of the BCD store.
import { problemText as describeError, readFileSafe } from '../../shared/safefs.js';
import { Hive } from '../../hive/hive.js';
import type { TargetScan } from '../../model/scan.js';
import { parseBcdStore, describeWinre, formatDevice } from '../../formats/bcd.js';
import { MAX_REAGENT_BYTES, parseReAgentXml } from '../../formats/reagent.js';
import { resolveCI } from '../../windows/paths.js';
import { fileSize, realFile, winRel } from '../../windows/files.js';
import { REAGENT_XML, STAGED_WINRE_WIM } from '../../windows/locations.js';
import { readWimSummary } from '../../windows/recovery.js';

export function collectReAgent(root: string, t: TargetScan): void {
  const reagent = resolveCI(root, REAGENT_XML);
  if (!reagent) return;
  t.winre.reagentXml = winRel(root, reagent);
  try {
    const r = parseReAgentXml(readFileSafe(reagent, MAX_REAGENT_BYTES, 'ReAgent.xml'));
    const { elements: _e, unknownElements: _u, ...fields } = r;
    t.winre.reagent = fields;
    t.winre.installState = r.installState;
    t.winre.staged = r.winreStaged;
    t.winre.imageLocation = r.imageLocation?.path;
    if (r.winreLocation) {
      t.winre.winreLocation = {
        path: r.winreLocation.path ?? '',
        offset: r.winreLocation.offset,
        guid: r.winreLocation.guid,
        id: r.winreLocation.id !== undefined ? String(r.winreLocation.id) : undefined,
      };
    }
  } catch (e) {
    t.problems.push(`ReAgent.xml: ${describeError(e)}`);
  }
}

/** Winre.wim left in Windows\System32\Recovery (where it waits while WinRE is disabled). */
export function collectStagedWim(root: string, t: TargetScan): void {
  const stagedWim = realFile(root, STAGED_WINRE_WIM);
  const stagedSize = fileSize(stagedWim);
  if (!stagedWim || stagedSize === undefined) return;
  t.winre.winreWimOnOs = { path: winRel(root, stagedWim), bytes: stagedSize };
  try {
    t.winre.winreWimOnOs.wim = readWimSummary(stagedWim);
  } catch (e) {
    t.winre.winreWimOnOs.wimError = describeError(e); // shown by `winre info`; not a scan problem
  }
}

/** Recovery facts from the BCD store: the default OS loader's recoverysequence / recoveryenabled. */
export function collectBcd(bcd: { file: string; bytes: Uint8Array }, t: TargetScan): void {
  t.winre.bcdStore = bcd.file;
  try {
    const w = describeWinre(parseBcdStore(Hive.open(bcd.bytes.slice())));
    const os = w.osLoaders.find((l) => l.isDefault) ?? w.osLoaders[0];
    if (os) {
      t.winre.recoverySequence = os.recoverySequence?.[0];
      t.winre.recoveryEnabled = os.recoveryEnabled;
    }
    if (w.winreLoader) {
      const l = w.winreLoader;
      t.winre.winreLoader = { id: l.id, exists: l.exists, description: l.description, device: l.deviceText, path: l.path };
    }
    if (w.ramdiskOptions) {
      const o = w.ramdiskOptions;
      t.winre.ramdiskOptions = { id: o.id, exists: o.exists, sdiDevice: o.sdiDevice ? formatDevice(o.sdiDevice) : undefined, sdiPath: o.sdiPath };
    }
    if (w.problems.length) t.winre.bcdProblems = w.problems;
  } catch (e) {
    t.problems.push(`${bcd.file}: ${describeError(e)}`);
  }
}
