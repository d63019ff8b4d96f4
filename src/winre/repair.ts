// winre: rebuild a recovery partition too small for the WinRE update (KB5034441/KB5034439/KB5034440,
// 0x80070643), or create one where there is none. Planning only: the disk plan comes from the
// planner (src/winre/plan.ts), the BCD and ReAgent.xml changes are computed here from the
// bytes the scan read, and the plan is two steps: the disk rebuild (applied with the Windows volume
// unmounted, src/winre/linux.ts) and ReAgent.xml (an ordinary write-file step).
import { createHash } from 'node:crypto';
import { checkPath, readFileSafe } from '../shared/safefs.js';
import { MAX_REAGENT_BYTES } from '../formats/reagent.js';
import type { PlanStep, RepairModule, WinreRebuild, WinreSource } from '../model/plan.js';
import { planWinreRebuild } from './plan.js';
import { WINRE_UPDATE_FREE } from '../windows/winre.js';
import { describeBytes } from '../shared/units.js';
import { repointWinre } from '../formats/bcd-write.js';
import { type BcdTarget } from '../model/winre.js';
import { repointReAgent, WINRE_DIRECTORY, type ReAgentTarget } from '../formats/reagent-repoint.js';
import { reagentSkeleton, encodeReAgentText } from '../formats/reagent.js';
import { parseBcdStore, describeWinre } from '../formats/bcd.js';
import { volumeSpace } from '../windows/install.js';
import { resolveCI } from '../windows/paths.js';
import { Hive } from '../hive/hive.js';
import { randomGuid } from '../shared/guid.js';
import { RefusedError } from '../shared/errors.js';
import type { Layout, Partition } from '../model/disk.js';

export const REAGENT_XML = 'Windows\\System32\\Recovery\\ReAgent.xml';
const WINRE_FINDINGS: readonly import('../model/scan.js').FindingId[] = ['winre-too-small', 'winre-misplaced', 'winre-disabled'];

/** The partition ReAgent.xml's WinreLocation points at (by offset), else the scan's recovery partition. */
function currentRecovery(layout: Layout, offset: number | undefined, fallback: number | undefined): Partition | undefined {
  if (offset) {
    const p = layout.partitions.find((q) => q.start === offset);
    if (p) return p;
  }
  return fallback !== undefined ? layout.partitions.find((q) => q.number === fallback) : undefined;
}

/** The OS loader whose osdevice is the Windows partition (a store may hold several installs). */
function osLoaderFor(bcd: Uint8Array, layout: Layout, os: Partition): string | undefined {
  try {
    const w = describeWinre(parseBcdStore(Hive.open(bcd.slice())));
    const match = w.osLoaders.filter((l) => {
      const d = l.osDevice;
      if (!d || d.kind !== 'partition') return false;
      return layout.scheme === 'gpt' ? d.partitionGuid === os.guid : d.partitionOffset === os.start && d.diskSignature === layout.signature;
    });
    return match.length === 1 ? match[0]!.id : undefined;
  } catch {
    return undefined;
  }
}

const OS_SDI = ['Windows\\Boot\\DVD\\EFI\\boot.sdi', 'Windows\\Boot\\DVD\\PCAT\\boot.sdi'];

export const winre: RepairModule = {
  id: 'winre',
  title: 'rebuild the WinRE recovery partition larger (KB5034441 / 0x80070643) and re-point ReAgent.xml and the BCD',
  fixes: WINRE_FINDINGS,
  uses: () => [REAGENT_XML, 'Windows\\System32\\Recovery\\Winre.wim', ...OS_SDI],
  needs: 'the disk: --image <disk image or /dev/sdX> on Linux as root (Windows volume unmounted), or --root <letter> in Windows/WinPE (diskpart)',
  plan({ root, scan, options, disk }) {
    if (!disk) return [];
    const layout = disk.layout;
    const osNumber = disk.info.osPartition;
    if (osNumber === undefined) throw new RefusedError(`winre: the Windows partition was not found on ${disk.info.path}`, 'winre-no-os');
    const os = layout.partitions.find((p) => p.number === osNumber)!;
    const rec = currentRecovery(layout, scan.winre.winreLocation?.offset, disk.info.recoveryPartition);
    const recInfo = rec ? disk.info.partitions.find((p) => p.number === rec.number) : undefined;

    // Where Winre.wim and boot.sdi come from.
    let source: WinreSource;
    const recFiles = recInfo?.winreFiles ?? [];
    const wimOnRec = recFiles.find((f) => f.name.toLowerCase() === 'winre.wim');
    if (rec && wimOnRec) {
      if (!recFiles.some((f) => f.name.toLowerCase() === 'boot.sdi')) {
        throw new RefusedError(`winre: partition ${rec.number} has Winre.wim but no boot.sdi in ${WINRE_DIRECTORY}; WinRE cannot start without it`, 'winre-no-sdi');
      }
      source = { where: 'partition', partition: rec.number, start: rec.start, size: rec.size, dir: WINRE_DIRECTORY, files: recFiles };
    } else {
      const wim = resolveCI(root, 'Windows\\System32\\Recovery\\Winre.wim');
      const sdiRel = OS_SDI.find((p) => resolveCI(root, p));
      if (!wim || !sdiRel) {
        throw new RefusedError(
          `winre: no Winre.wim found (not in ${WINRE_DIRECTORY} on the recovery partition, not in Windows\\System32\\Recovery)${wim ? ' or no boot.sdi' : ''}; copy Winre.wim from the install media (sources\\install.wim, Windows\\System32\\Recovery) and retry`,
          'winre-no-wim',
        );
      }
      // Regular files only: a link or device in their place refuses (exit 3) before anything is written.
      const size = (rel: string) => checkPath(resolveCI(root, rel)!, 'file')!.size;
      source = {
        where: 'os',
        files: [
          { name: 'Winre.wim', bytes: size('Windows\\System32\\Recovery\\Winre.wim'), path: 'Windows\\System32\\Recovery\\Winre.wim' },
          { name: 'boot.sdi', bytes: size(sdiRel), path: sdiRel },
        ],
      };
    }
    const wimBytes = source.files.find((f) => f.name.toLowerCase() === 'winre.wim')!.bytes;

    const free = volumeSpace(root)?.freeBytes;
    if (free === undefined) throw new RefusedError(`winre: the free space of the Windows volume (${root}) could not be read`, 'winre-no-free');
    const wp = planWinreRebuild({
      layout,
      osPartition: os.number,
      recoveryPartition: rec?.number,
      winreWimBytes: wimBytes,
      recoveryFreeBytes: recInfo?.freeBytes,
      osFreeBytes: free,
      bitlockerOs: scan.bitlocker.some((b) => b.partition === os.number),
      targetSize: options.winreSize,
      // diskpart cannot keep the old GUID: never promise it when diskpart will do the work.
      reuseGuid: disk.via === 'diskpart' ? false : options.reuseGuid,
    });
    if (disk.via === 'diskpart') wp.notes.push('diskpart picks the new unique GUID itself: the BCD is re-pointed at it right after diskpart runs');
    // Fix the new partition's unique GUID now, so the BCD and the plan agree before anything is written.
    const create = wp.diskPlan.ops.find((o) => o.op === 'create');
    if (layout.scheme === 'gpt' && create && create.op === 'create' && !create.guid) {
      create.guid = randomGuid();
      wp.newPartition.guid = create.guid;
    }
    const start = wp.newPartition.start;
    const reagentTarget: ReAgentTarget =
      layout.scheme === 'gpt' ? { scheme: 'gpt', diskGuid: layout.diskGuid!, offset: start } : { scheme: 'mbr', diskSignature: layout.signature ?? 0, offset: start };
    const bcdTarget: BcdTarget =
      layout.scheme === 'gpt'
        ? { scheme: 'gpt', diskGuid: layout.diskGuid!, partitionGuid: wp.newPartition.guid! }
        : { scheme: 'mbr', diskSignature: layout.signature ?? 0, offset: start };

    // The BCD: compute the changes now (a store without a WinRE chain is refused before any write).
    let bcd: WinreRebuild['bcd'];
    let winreLoader: string | undefined;
    if (disk.bcd) {
      const hive = Hive.open(disk.bcd.bytes.slice());
      const osLoader = osLoaderFor(disk.bcd.bytes, layout, os);
      const r = repointWinre(hive, bcdTarget, { osLoader });
      winreLoader = r.winreLoader;
      bcd = { location: disk.bcd.location, target: bcdTarget, ...(osLoader ? { osLoader } : {}), changes: r.changes.length };
      for (const w of r.warnings) wp.notes.push(`BCD: ${w}`);
    } else {
      wp.notes.push('no BCD store was found on the disk: only ReAgent.xml is re-pointed; run "reagentc /enable" in Windows afterwards');
    }

    // ReAgent.xml: re-pointed in place (or created from Windows' skeleton).
    const reHost = resolveCI(root, REAGENT_XML);
    const original = reHost ? readFileSafe(reHost, MAX_REAGENT_BYTES, 'ReAgent.xml') : encodeReAgentText(reagentSkeleton(), { charset: 'utf-8', bom: true });
    const reagentBytes = repointReAgent(original, reagentTarget, winreLoader);

    const finding = scan.findings.find((f) => WINRE_FINDINGS.includes(f.id));
    const reason = finding ? `${finding.id}${rec?.number !== undefined && recInfo?.freeBytes !== undefined ? ` (partition ${rec.number}: ${describeBytes(recInfo.freeBytes)} free, ${describeBytes(WINRE_UPDATE_FREE)} needed)` : ''}` : 'requested with --only winre';
    const change: WinreRebuild = {
      kind: 'winre-rebuild',
      disk: disk.info.path,
      expect: layout.partitions.map((p) => ({ number: p.number, start: p.start, size: p.size })),
      winre: wp,
      source,
      ...(bcd ? { bcd } : {}),
      reagentXml: REAGENT_XML,
    };
    const steps: PlanStep[] = [
      { repair: 'winre', reason, change },
      {
        repair: 'winre',
        reason: 'point WinRE at the new partition',
        change: {
          kind: 'write-file',
          path: REAGENT_XML,
          base64: Buffer.from(reagentBytes).toString('base64'),
          oldSha256: reHost ? createHash('sha256').update(original).digest('hex') : null,
        },
        note: `WinreLocation offset ${start}, InstallState 1`,
      },
    ];
    return steps;
  },
};
