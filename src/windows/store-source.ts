// The source of a component store repair (issue #19, item 4): DISM /RestoreHealth takes missing or
// damaged component payloads from /Source, and finds them only in an image of the same version
// (build.UBR: the cumulative update) and edition as the offline Windows (learn.microsoft.com
// "Repair a Windows Image", "Configure a Windows Repair Source"). The image is chosen and checked
// here, pure: a source that cannot match is refused before anything runs; what the source holds of
// the offline WinSxS (component folders by name) is counted for the plan.
import type { StoreSource } from '../model/plan.js';
import type { SystemInfo, WimImageSummary } from '../model/scan.js';
import { RefusedError } from '../shared/errors.js';
import { wimArchFits, wimArchName } from './version.js';

/** build.UBR of a WIM image's MAJOR.MINOR.BUILD.SPBUILD. */
export function imageBuildUbr(version: string | undefined): { build: number; ubr: number } | undefined {
  const p = (version ?? '').split('.').map(Number);
  return p.length === 4 && p.every((n) => Number.isSafeInteger(n) && n >= 0) ? { build: p[2]!, ubr: p[3]! } : undefined;
}

const describe = (i: WimImageSummary) =>
  `image ${i.index}${i.name ? ` "${i.name}"` : ''} (${i.version ?? 'no version'}${i.editionId ? `, ${i.editionId}` : ''})`;

/**
 * The image of `wim` to repair from: `index` when given, else the one of the offline build.UBR and
 * edition. Refused when the offline version is unknown or no image has the same build.UBR and edition.
 */
export function pickStoreImage(wim: string, images: WimImageSummary[], system: SystemInfo, index?: number): StoreSource {
  const { currentBuild: build, ubr, editionId } = system;
  if (build !== undefined && build < 9200)
    throw new RefusedError(
      `Windows build ${build} (Windows 7 / Server 2008 R2) has no DISM /RestoreHealth: its store is repaired from inside it by the System Update Readiness tool (CheckSUR, KB947821); nothing was run`,
      'store-source-mismatch',
    );
  if (build === undefined || ubr === undefined)
    throw new RefusedError(
      'the offline Windows version (CurrentBuild.UBR) could not be read, so no repair source can be checked against it; nothing was run',
      'store-source-mismatch',
    );
  const want = `${build}.${ubr}${editionId ? ` ${editionId}` : ''}`;
  const sameVersion = (i: WimImageSummary) => {
    const v = imageBuildUbr(i.version);
    return !!v && v.build === build && v.ubr === ubr && (!editionId || i.editionId?.toLowerCase() === editionId.toLowerCase());
  };
  // Components are per architecture (amd64_..., arm64_...): another architecture's image has none of them.
  const sameArch = (i: WimImageSummary) => wimArchFits(i.arch, system.architecture);
  const fits = (i: WimImageSummary) => sameVersion(i) && sameArch(i);
  const archRefusal = (i: WimImageSummary) =>
    new RefusedError(
      `${describe(i)} of ${wim} is ${wimArchName(i.arch)}, the offline Windows ${system.architecture}: it holds none of its components; use ${system.architecture} media of ${want}. Nothing was run`,
      'store-source-mismatch',
    );
  const why = `DISM finds the components only in an image of the same cumulative update (build.UBR) and edition: use install media of ${want}, or an install.wim serviced to it (dism /Add-Package), and retry. Nothing was run`;
  let pick: WimImageSummary | undefined;
  if (index !== undefined) {
    pick = images.find((i) => i.index === index);
    if (!pick) throw new RefusedError(`${wim} has no image ${index} (it has ${images.map((i) => i.index).join(', ') || 'none'})`, 'store-source-mismatch');
    if (sameVersion(pick) && !sameArch(pick)) throw archRefusal(pick);
    if (!fits(pick)) throw new RefusedError(`${describe(pick)} of ${wim} is not the offline Windows (${want}): ${why}`, 'store-source-mismatch');
  } else {
    pick = images.find(fits);
    const otherArch = images.find((i) => sameVersion(i) && !sameArch(i));
    if (!pick && otherArch) throw archRefusal(otherArch);
    if (!pick)
      throw new RefusedError(
        `no image of ${wim} is the offline Windows (${want}; it has ${images.map(describe).join(', ') || 'no images'}): ${why}`,
        'store-source-mismatch',
      );
  }
  return {
    wim,
    index: pick.index,
    ...(pick.version ? { version: pick.version } : {}),
    ...(pick.editionId ? { editionId: pick.editionId } : {}),
    ...(pick.name ? { name: pick.name } : {}),
  };
}

/**
 * What the source holds of the offline component store, by WinSxS folder name (case-insensitive):
 * how many of the offline folders it has, and the first ones it lacks (those DISM cannot restore
 * from it). The Manifests, Backup, Temp, ... folders are left out of both.
 */
export function storeCoverage(offline: string[], source: string[]): { offline: number; inSource: number; missing: string[]; text: string } {
  const component = (n: string) => /^[a-z0-9]+_.+_[0-9a-f]{16}_/i.test(n);
  const have = new Set(source.filter(component).map((n) => n.toLowerCase()));
  const mine = offline.filter(component);
  const missing = mine.filter((n) => !have.has(n.toLowerCase()));
  const inSource = mine.length - missing.length;
  const text =
    `the source holds ${inSource} of the ${mine.length} component folders of the offline WinSxS` +
    (missing.length
      ? `; not in it: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''} (DISM cannot restore those from it)`
      : '');
  return { offline: mine.length, inSource, missing, text };
}
