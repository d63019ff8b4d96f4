// --winre-source <install.wim|install.esd> (issue #19, item 6): when Winre.wim is missing (or the
// technician names the media to take it from), it comes out of the install media as Microsoft's
// KB5028997 says (Windows\System32\Recovery\Winre.wim inside the install image), with boot.sdi from
// the same image (Windows\Boot\DVD\EFI\boot.sdi, else PCAT). The image is chosen, and the extracted
// Winre.wim checked, by the Windows build of the offline system: the same build, or a release of the
// same servicing base (19041-19045 are one base with enablement packages, as are 22621/22631 and
// 26100/26200). What cannot match is refused before anything is written. The extraction (wimlib)
// goes into a temp folder of this process, removed when it ends; the plan names those files and
// their hashes, and the disk step checks both before copying.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SystemInfo, WimImageOpener, WimImageSummary, WimSummary } from '../model/scan.js';
import type { WinreSource } from '../model/plan.js';
import { BadInputError, FormatError, RefusedError } from '../shared/errors.js';
import { readWimSummary } from '../windows/recovery.js';
import { wimExtract } from '../platform/wimlib.js';
import { sha256File } from '../engine/journal.js';
import { wimArchFits, wimArchName } from '../windows/version.js';

/** Builds that are one servicing base (the later ones are enablement packages over the first). */
const FAMILIES: readonly (readonly number[])[] = [
  [18362, 18363],
  [19041, 19042, 19043, 19044, 19045],
  [22621, 22631],
  [26100, 26200],
];

/** The servicing base of a build (itself for builds without enablement-package siblings). */
export function buildFamily(build: number): number {
  return FAMILIES.find((f) => f.includes(build))?.[0] ?? build;
}

/** The build number in a WIM image's MAJOR.MINOR.BUILD.SPBUILD version. */
export function wimBuild(version: string | undefined): number | undefined {
  const b = Number(version?.split('.')[2]);
  return Number.isSafeInteger(b) && b > 0 ? b : undefined;
}

const describe = (i: WimImageSummary) => `image ${i.index}${i.name ? ` "${i.name}"` : ''}${i.version ? ` (${i.version})` : ''}`;

/**
 * The image of the install media to take WinRE from: `index` when given (it must match), else the
 * images of the offline system's build family, the one of its edition first. Refused when the
 * offline build is unknown or nothing matches.
 */
export function pickInstallImage(wim: string, images: WimImageSummary[], system: SystemInfo, index?: number): WimImageSummary {
  const build = system.currentBuild;
  if (build === undefined)
    throw new RefusedError(
      `the offline Windows build could not be read, so no image of ${wim} can be checked against it; nothing was written`,
      'winre-source-mismatch',
    );
  const sameBuild = (i: WimImageSummary) => {
    const b = wimBuild(i.version);
    return b !== undefined && buildFamily(b) === buildFamily(build);
  };
  // WinRE of another architecture does not boot on this machine (an x64 PC cannot start arm64 WinRE).
  const sameArch = (i: WimImageSummary) => wimArchFits(i.arch, system.architecture);
  const fits = (i: WimImageSummary) => sameBuild(i) && sameArch(i);
  const archRefusal = (i: WimImageSummary) =>
    new RefusedError(
      `${describe(i)} of ${wim} is ${wimArchName(i.arch)}, the offline Windows ${system.architecture}: its WinRE would not start on this machine; use ${system.architecture} media. Nothing was written`,
      'winre-source-mismatch',
    );
  if (index !== undefined) {
    const i = images.find((x) => x.index === index);
    if (!i) throw new RefusedError(`${wim} has no image ${index} (it has ${images.map((x) => x.index).join(', ') || 'none'})`, 'winre-source-mismatch');
    if (sameBuild(i) && !sameArch(i)) throw archRefusal(i);
    if (!fits(i))
      throw new RefusedError(
        `${describe(i)} of ${wim} is not Windows build ${build} (or its servicing base): its WinRE would not match the offline Windows; use media of build ${build}. Nothing was written`,
        'winre-source-mismatch',
      );
    return i;
  }
  const ok = images.filter(fits);
  const pick = ok.find((i) => system.editionId && i.editionId?.toLowerCase() === system.editionId.toLowerCase()) ?? ok[0];
  const otherArch = images.find((i) => sameBuild(i) && !sameArch(i));
  if (!pick && otherArch) throw archRefusal(otherArch);
  if (!pick)
    throw new RefusedError(
      `no image of ${wim} is Windows build ${build} (it has ${images.map((i) => `${i.index}: ${i.version ?? 'no version'}`).join(', ') || 'no images'}): its WinRE would not match the offline Windows; use media of build ${build}. Nothing was written`,
      'winre-source-mismatch',
    );
  return pick;
}

/** The extracted Winre.wim must be a WIM whose image is WinRE of the same build family and architecture. */
export function checkExtractedWinre(summary: WimSummary, system: SystemInfo, from: string): string | undefined {
  const img = summary.images[summary.bootIndex > 0 ? summary.bootIndex - 1 : 0] ?? summary.images[0];
  const b = wimBuild(img?.version);
  if (b === undefined || system.currentBuild === undefined)
    throw new RefusedError(
      `the Winre.wim in ${from} carries no Windows version, so it cannot be checked against the offline Windows; nothing was written`,
      'winre-source-mismatch',
    );
  if (buildFamily(b) !== buildFamily(system.currentBuild))
    throw new RefusedError(
      `the Winre.wim in ${from} is build ${b}, the offline Windows ${system.currentBuild}: not the same release; nothing was written`,
      'winre-source-mismatch',
    );
  if (!wimArchFits(img?.arch, system.architecture))
    throw new RefusedError(
      `the Winre.wim in ${from} is ${wimArchName(img?.arch)}, the offline Windows ${system.architecture}: it would not start on this machine; nothing was written`,
      'winre-source-mismatch',
    );
  return img?.version;
}

const WINRE_MEMBER = '/Windows/System32/Recovery/Winre.wim';
const SDI_MEMBERS = ['/Windows/Boot/DVD/EFI/boot.sdi', '/Windows/Boot/DVD/PCAT/boot.sdi'];
/** No real Winre.wim is this large (they are 400-700 MB); a bigger "Winre.wim" is not copied. */
const MAX_WINRE_BYTES = 4 * 1024 ** 3;

/** Temp folders of this process's extractions, removed when it ends. */
const made: string[] = [];
process.on('exit', () => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Linux: each member extracted by wimlib into a folder of its own in a private temp folder (removed at exit). */
export const wimlibOpener: WimImageOpener = (wim, index, members) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-winre-'));
  made.push(dir);
  const where = new Map<string, string>();
  members.forEach((m, i) => {
    const sub = path.join(dir, String(i));
    mkdirSync(sub);
    wimExtract(wim, index, [m], sub);
    where.set(m, path.join(sub, path.posix.basename(m)));
  });
  return { find: (m) => (where.has(m) && existsSync(where.get(m)!) ? where.get(m) : undefined) };
};

/**
 * Winre.wim and boot.sdi out of the install media, checked: the image matching the offline Windows,
 * both files regular and of sane size, Winre.wim a WIM of the same build family and architecture.
 * `open` reads the image: wimlibOpener on Linux, a read-only DISM mount on Windows/WinPE (cli picks).
 */
export async function winreFromInstallWim(
  given: string,
  system: SystemInfo,
  opts: { index?: number; progress?: (m: string) => void; open?: WimImageOpener } = {},
): Promise<Extract<WinreSource, { where: 'install-wim' }>> {
  const progress = opts.progress ?? (() => {});
  const open = opts.open ?? wimlibOpener;
  let wim: string;
  try {
    wim = realpathSync(given);
    if (!statSync(wim).isFile()) throw new Error('not a file');
  } catch {
    throw new BadInputError("does not exist or is not a file (--winre-source takes the install media's sources\\install.wim or install.esd)", {
      file: given,
      code: 'not-found',
    });
  }
  let summary: WimSummary;
  try {
    summary = readWimSummary(wim);
  } catch (e) {
    throw new RefusedError(
      `${given} is not a WIM/ESD wufix can read (${(e as Error).message}); --winre-source takes sources\\install.wim or install.esd`,
      'winre-source-bad',
    );
  }
  if (summary.totalParts > 1)
    throw new RefusedError(
      `${given} is part ${summary.partNumber} of a split WIM (.swm): join it first (wimlib: wimexport install.swm all install.wim --ref="install*.swm"; DISM: dism /Export-Image /SourceImageFile:install.swm /SWMFile:install*.swm /SourceIndex:<n> /DestinationImageFile:install.wim)`,
      'winre-source-bad',
    );
  const image = pickInstallImage(given, summary.images, system, opts.index);
  progress(`extracting Winre.wim and boot.sdi from ${describe(image)} of ${given}`);
  const files = open(wim, image.index, [WINRE_MEMBER, ...SDI_MEMBERS], summary);
  const file = async (name: string, members: string[], what: string, max: number) => {
    const p = members.map((m) => files.find(m)).find((x) => x !== undefined);
    let st;
    try {
      if (p === undefined) throw new Error('absent');
      st = lstatSync(p);
    } catch {
      throw new RefusedError(
        `${describe(image)} of ${given} has no ${what}; use the install media of this Windows. Nothing was written`,
        'winre-source-no-winre',
      );
    }
    if (!st.isFile() || st.size === 0 || st.size > max)
      throw new RefusedError(
        `${what} in ${describe(image)} of ${given} is not a regular file of a plausible size; not used. Nothing was written`,
        'winre-source-bad',
      );
    return { name, bytes: st.size, host: p, sha256: await sha256File(p) };
  };
  const wimFile = await file('Winre.wim', [WINRE_MEMBER], 'Windows\\System32\\Recovery\\Winre.wim', MAX_WINRE_BYTES);
  const sdi = await file('boot.sdi', SDI_MEMBERS, 'Windows\\Boot\\DVD\\EFI\\boot.sdi', 64 * 1024 ** 2);
  let inner: WimSummary;
  try {
    inner = readWimSummary(wimFile.host);
  } catch (e) {
    throw new RefusedError(
      `the Winre.wim in ${describe(image)} of ${given} is not a readable WIM (${(e as FormatError).message}); nothing was written`,
      'winre-source-bad',
    );
  }
  const version = checkExtractedWinre(inner, system, `${describe(image)} of ${given}`);
  return { where: 'install-wim', wim: given, index: image.index, ...(version ? { version } : {}), files: [wimFile, sdi] };
}
