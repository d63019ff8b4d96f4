// winre: rebuild a recovery partition too small for the WinRE update (KB5034441/KB5034439/KB5034440,
// 0x80070643), or create one where there is none. Planning only: the disk plan comes from the
// planner (src/winre/plan.ts), the BCD and ReAgent.xml changes are computed here from the
// bytes the scan read, and the plan is two steps: the disk rebuild (applied with the Windows volume
// unmounted, src/winre/linux.ts) and ReAgent.xml (an ordinary write-file step).
import { createHash } from 'node:crypto';
import { checkPath, readFileSafe } from '../shared/safefs.js';
import { MAX_REAGENT_BYTES } from '../formats/reagent.js';
import type { PlanStep, RepairContext, RepairModule, WinreRebuild, WinreSource } from '../model/plan.js';
import type { PartitionInfo } from '../model/scan.js';
import type { DiskFacts } from '../model/target.js';
import { planWinreRebuild } from './plan.js';
import { WINRE_UPDATE_FREE } from '../windows/winre.js';
import { describeBytes } from '../shared/units.js';
import { repointWinre } from '../formats/bcd-write.js';
import { type BcdTarget, type WinrePlan } from '../model/winre.js';
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

/** Where Winre.wim and boot.sdi come from: the current recovery partition, else the Windows volume. */
function winreSource(root: string, rec: Partition | undefined, recInfo: PartitionInfo | undefined, fromWim?: WinreSource): WinreSource {
  // Named by the technician (--winre-source): extracted and checked against this Windows already.
  if (fromWim) return fromWim;
  const recFiles = recInfo?.winreFiles ?? [];
  const wimOnRec = recFiles.find((f) => f.name.toLowerCase() === 'winre.wim');
  if (rec && wimOnRec) {
    if (!recFiles.some((f) => f.name.toLowerCase() === 'boot.sdi')) {
      throw new RefusedError(
        `winre: partition ${rec.number} has Winre.wim but no boot.sdi in ${WINRE_DIRECTORY}; WinRE cannot start without it`,
        'winre-no-sdi',
      );
    }
    return { where: 'partition', partition: rec.number, start: rec.start, size: rec.size, dir: WINRE_DIRECTORY, files: recFiles };
  }
  const wim = resolveCI(root, 'Windows\\System32\\Recovery\\Winre.wim');
  const sdiRel = OS_SDI.find((p) => resolveCI(root, p));
  if (!wim || !sdiRel) {
    throw new RefusedError(
      `winre: no Winre.wim found (not in ${WINRE_DIRECTORY} on the recovery partition, not in Windows\\System32\\Recovery)${wim ? ' or no boot.sdi' : ''}; give the install media of this Windows build to take it from (--winre-source <sources\\install.wim or install.esd>), or copy Winre.wim from it into Windows\\System32\\Recovery, and retry`,
      'winre-no-wim',
    );
  }
  // Regular files only: a link or device in their place refuses (exit 3) before anything is written.
  const size = (rel: string) => checkPath(resolveCI(root, rel)!, 'file')!.size; // both resolved just above
  return {
    where: 'os',
    files: [
      { name: 'Winre.wim', bytes: size('Windows\\System32\\Recovery\\Winre.wim'), path: 'Windows\\System32\\Recovery\\Winre.wim' },
      { name: 'boot.sdi', bytes: size(sdiRel), path: sdiRel },
    ],
  };
}

/** The partition plan, with the new partition's unique GUID fixed now (the BCD and the plan agree). */
function rebuildPlan(
  ctx: RepairContext,
  disk: DiskFacts,
  os: Partition,
  rec: Partition | undefined,
  recInfo: PartitionInfo | undefined,
  source: WinreSource,
): WinrePlan {
  const { root, scan, options } = ctx;
  const layout = disk.layout;
  const wim = source.files.find((f) => f.name.toLowerCase() === 'winre.wim');
  if (!wim) throw new RefusedError('winre: the plan lists no Winre.wim', 'winre-no-wim');
  const free = volumeSpace(root)?.freeBytes;
  if (free === undefined) throw new RefusedError(`winre: the free space of the Windows volume (${root}) could not be read`, 'winre-no-free');
  const wp = planWinreRebuild({
    layout,
    osPartition: os.number,
    recoveryPartition: rec?.number,
    winreWimBytes: wim.bytes,
    recoveryFreeBytes: recInfo?.freeBytes,
    osFreeBytes: free,
    bitlockerOs: scan.bitlocker.some((b) => b.partition === os.number),
    targetSize: options.winreSize,
    // diskpart cannot keep the old GUID: never promise it when diskpart will do the work.
    reuseGuid: disk.via === 'diskpart' ? false : options.reuseGuid,
  });
  if (disk.via === 'diskpart') wp.notes.push('diskpart picks the new unique GUID itself: the BCD is re-pointed at it right after diskpart runs');
  const create = wp.diskPlan.ops.find((o) => o.op === 'create');
  if (layout.scheme === 'gpt' && create && create.op === 'create' && !create.guid) {
    create.guid = randomGuid();
    wp.newPartition.guid = create.guid;
  }
  return wp;
}

/** Where ReAgent.xml and the BCD point WinRE: the new partition, by offset (MBR) or GUID (GPT). */
function targetsOf(layout: Layout, wp: WinrePlan): { reagent: ReAgentTarget; bcd: BcdTarget } {
  const start = wp.newPartition.start;
  if (layout.scheme === 'gpt') {
    return {
      reagent: { scheme: 'gpt', diskGuid: layout.diskGuid!, offset: start }, // a GPT layout always has its disk GUID
      bcd: { scheme: 'gpt', diskGuid: layout.diskGuid!, partitionGuid: wp.newPartition.guid! }, // set by rebuildPlan
    };
  }
  const mbr = { scheme: 'mbr', diskSignature: layout.signature ?? 0, offset: start } as const;
  return { reagent: mbr, bcd: mbr };
}

/** The BCD changes, computed now (a store without a WinRE chain is refused before any write). */
function bcdChanges(disk: DiskFacts, os: Partition, target: BcdTarget, wp: WinrePlan): { bcd?: WinreRebuild['bcd']; winreLoader?: string } {
  if (!disk.bcd) {
    wp.notes.push('no BCD store was found on the disk: only ReAgent.xml is re-pointed; run "reagentc /enable" in Windows afterwards');
    return {};
  }
  const hive = Hive.open(disk.bcd.bytes.slice());
  const osLoader = osLoaderFor(disk.bcd.bytes, disk.layout, os);
  const r = repointWinre(hive, target, { osLoader });
  for (const w of r.warnings) wp.notes.push(`BCD: ${w}`);
  return { bcd: { location: disk.bcd.location, target, ...(osLoader ? { osLoader } : {}), changes: r.changes.length }, winreLoader: r.winreLoader };
}

/** The second step: ReAgent.xml re-pointed in place (or created from Windows' skeleton). */
function reagentStep(root: string, target: ReAgentTarget, winreLoader: string | undefined): PlanStep {
  const reHost = resolveCI(root, REAGENT_XML);
  const original = reHost ? readFileSafe(reHost, MAX_REAGENT_BYTES, 'ReAgent.xml') : encodeReAgentText(reagentSkeleton(), { charset: 'utf-8', bom: true });
  const reagentBytes = repointReAgent(original, target, winreLoader);
  return {
    repair: 'winre',
    reason: 'point WinRE at the new partition',
    change: {
      kind: 'write-file',
      path: REAGENT_XML,
      base64: Buffer.from(reagentBytes).toString('base64'),
      oldSha256: reHost ? createHash('sha256').update(original).digest('hex') : null,
    },
    note: `WinreLocation offset ${target.offset}, InstallState 1`,
  };
}

export const winre: RepairModule = {
  id: 'winre',
  title: 'rebuild the WinRE recovery partition larger (KB5034441 / 0x80070643) and re-point ReAgent.xml and the BCD',
  fixes: WINRE_FINDINGS,
  uses: () => [REAGENT_XML, 'Windows\\System32\\Recovery\\Winre.wim', ...OS_SDI],
  needs: 'the disk: --image <disk image or /dev/sdX> on Linux as root (Windows volume unmounted), or --root <letter> in Windows/WinPE (diskpart)',
  plan(ctx) {
    const { root, scan, disk } = ctx;
    if (!disk) return [];
    const layout = disk.layout;
    const osNumber = disk.info.osPartition;
    const os = osNumber === undefined ? undefined : layout.partitions.find((p) => p.number === osNumber);
    if (!os) throw new RefusedError(`winre: the Windows partition was not found on ${disk.info.path}`, 'winre-no-os');
    const rec = currentRecovery(layout, scan.winre.winreLocation?.offset, disk.info.recoveryPartition);
    const recInfo = rec ? disk.info.partitions.find((p) => p.number === rec.number) : undefined;
    const source = winreSource(root, rec, recInfo, ctx.options.winreFromWim);
    const wp = rebuildPlan(ctx, disk, os, rec, recInfo, source);
    const targets = targetsOf(layout, wp);
    const { bcd, winreLoader } = bcdChanges(disk, os, targets.bcd, wp);
    const reagent = reagentStep(root, targets.reagent, winreLoader);

    const finding = scan.findings.find((f) => WINRE_FINDINGS.includes(f.id));
    const reason = finding
      ? `${finding.id}${rec?.number !== undefined && recInfo?.freeBytes !== undefined ? ` (partition ${rec.number}: ${describeBytes(recInfo.freeBytes)} free, ${describeBytes(WINRE_UPDATE_FREE)} needed)` : ''}`
      : 'requested with --only winre';
    const change: WinreRebuild = {
      kind: 'winre-rebuild',
      disk: disk.info.path,
      expect: layout.partitions.map((p) => ({ number: p.number, start: p.start, size: p.size })),
      winre: wp,
      source,
      ...(bcd ? { bcd } : {}),
      reagentXml: REAGENT_XML,
    };
    return [{ repair: 'winre', reason, change }, reagent];
  },
};
