// `wufix repair`, `wufix undo`: thin layers over src/engine (`wufix journal`: src/cli/journal.ts).
import { Command } from 'commander';
import path from 'node:path';
import { readFileSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { checkTargetOptions, scan, withImageTarget, withImageRoot } from './targets.js';
import { expandImages } from './scan-batch.js';
import { runRepairBatch } from './repair-batch.js';
import { type DiskFacts } from '../model/target.js';
import { applyWithDisk, linuxBackend, undoWithDisk, windowsBackend, type DiskBackend, type MountRoot, type UndoWithDiskResult } from '../winre/run.js';
import { scanTarget } from '../scan/scan.js';
import { windowsHost, type WinHost } from '../platform/winhost.js';
import { vdiskBackend, vdiskTarget, withVdiskWindows } from './vdisk-windows.js';
import { closeImageSessions, createOverlay, imageSession } from '../platform/qemu.js';
import type { WinreRebuild } from '../model/plan.js';
import { windowsDiskFacts } from '../winre/windows.js';
import { winreFromInstallWim, wimlibOpener } from '../winre/install-wim.js';
import { dismMountOpener, dismSync } from '../platform/dism-mount.js';
import { dismExe } from '../platform/windows.js';
import type { WimImageOpener } from '../model/scan.js';
import { pickStoreImage, storeCoverage } from '../windows/store-source.js';
import { readWimSummary } from '../windows/recovery.js';
import { resolveCI } from '../windows/paths.js';
import { wimDirNames } from '../platform/wimlib.js';
import { missingTool } from '../platform/linux.js';
import type { RepairId } from '../model/ids.js';
import type { StoreSource } from '../model/plan.js';
import type { WimSummary } from '../model/scan.js';
import { statSync, lstatSync } from 'node:fs';
import type { ScanResult } from '../model/scan.js';
import { REPAIRS, applyHost } from './wiring.js';
import { buildPlan, journalBytes, renderJournalSpace, renderPlan, type JournalSpace } from '../engine/plan.js';
import { undoRun } from '../engine/undo.js';
import type { Plan } from '../model/plan.js';
import { Journal, authenticateRun, journalFreeBytes, journalNeedBytes, newRunId, setJournalTarget, type AuthOptions } from '../engine/journal.js';
import { openStateDir, realish } from '../engine/keyring.js';
import { BadInputError, RefusedError, UsageError } from '../shared/errors.js';
import { asciiSafe, writeJson, writeOut } from './output.js';
import { versionString } from './version.js';
import { consoleWidth, helpText } from '../shared/style.js';

export const STATE_DIR_HELP =
  'where wufix keeps the key that seals journals and its ledger of runs, outside any target (default: $WUFIX_STATE_DIR, else ~/.local/state/wufix; WinPE: wufix-state beside wufix.exe)';

/** --state-dir: the same as WUFIX_STATE_DIR for this process. */
export function useStateDir(dir: string | undefined): void {
  if (dir) process.env.WUFIX_STATE_DIR = path.resolve(dir);
}

const list = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

function parseSize(v: string): number {
  const m = /^(\d+)\s*([KMG]i?B?|B)?$/i.exec(v.trim());
  if (!m) throw new UsageError(`"${v}" is not a size (e.g. 1024M, 2G, or bytes)`);
  const unit = (m[2] ?? 'B').toUpperCase()[0]!;
  const mult = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}

function parseImageIndex(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--winre-source-index takes an image number (1, 2, ...), not "${v}"`);
  return n;
}

function parseDword(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`"${v}" is not a DWORD (decimal or 0x hex)`);
  return n;
}

/** The journal lives on the target volume (or where --journal says), never only in WinPE's RAM disk. */
export function journalRootFor(root: string, given?: string): string {
  const dir = given ? path.resolve(given) : path.join(root, 'wufix', 'journal');
  if (!given) {
    // On the target, a link in place of wufix\ or wufix\journal would put the journal somewhere else (a host folder).
    for (const p of [path.join(root, 'wufix'), dir]) {
      let link = false;
      try {
        link = !lstatSync(p).isDirectory();
      } catch {
        /* absent: created as a folder */
      }
      if (link)
        throw new RefusedError(
          `${p} on the target is a link or not a folder; wufix does not follow it for its journal (it may have been planted): look at it, or pass --journal <dir> elsewhere`,
          'journal-link',
        );
    }
  }
  if (process.platform === 'win32' && /^x:/i.test(dir) && (process.env.SystemDrive ?? '').toUpperCase() === 'X:') {
    throw new RefusedError(
      `the journal would live only in the WinPE RAM disk (${dir}) and vanish at reboot; pass --journal on the target volume or the USB stick`,
      'journal-ramdisk',
    );
  }
  return dir;
}

/**
 * The journal of a run on a disk image lives beside the image (<image>.wufix-journal), never on the
 * disk being changed; for a block device it must be given.
 */
export function imageJournalRoot(image: string, given?: string): string {
  if (given) return path.resolve(given);
  let isFile = false;
  try {
    isFile = statSync(image).isFile();
  } catch {
    /* reported by the caller */
  }
  if (!isFile) throw new UsageError(`${image} is a device: pass --journal <dir> on another disk (e.g. the USB stick) for the backup`);
  return path.resolve(`${image}.wufix-journal`);
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** One line per repair: its id, then what it does (wrapped under the text by helpText). */
function repairList(): string {
  const w = Math.max(...REPAIRS.map((r) => r.id.length));
  return REPAIRS.map((r) => `  ${r.id.padEnd(w)}  ${r.title}`).join('\n');
}

// long: the option list of repair (one .option per flag, with its help) and the action's dispatch
export function repairCommand(): Command {
  return new Command('repair')
    .description('fix what scan found: shows the plan, backs up what will change, applies all or nothing, verifies')
    .option('--root <dir>', 'the root of the mounted Windows volume (read-write)')
    .option(
      '--image <disk.img...>',
      "a disk image (raw, VHD, VHDX, VMDK, qcow2, VDI): its Windows partition is mounted read-write for the repair (Linux as root: every format; Windows/WinPE: VHD and VHDX, attached with diskpart); several images or a quoted glob ('lab/*.qcow2') are repaired one after the other, each with its own journal",
    )
    .option('--overlay <new.qcow2>', 'with --image: write every change into this new qcow2 overlay and leave the image itself untouched (its base)')
    .option('--disk <image|device>', 'its disk (for the layout)')
    .option('--only <ids>', 'run only these repairs (comma-separated)', list)
    .option('--skip <ids>', 'skip these repairs (comma-separated)', list)
    .option('--yes', 'apply without asking')
    .option('--dry-run', 'show the plan, change nothing')
    .option('--json', 'print the plan (and the result) as JSON')
    .option('--journal <dir>', 'where the journal goes (default: <root>\\wufix\\journal); e.g. the USB stick')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--wintrust-value <dword>', 'wintrust: the State to write (default 0x23C00; 0x22849 is the alternative)', parseDword)
    .option(
      '--reset-security',
      "services: also write Microsoft's default descriptors of bits and wuauserv whatever they are (locked descriptors are reset without it)",
    )
    .option('--clear-pending-renames', 'pending: also clear PendingFileRenameOperations')
    .option(
      '--wsus-reset-policy',
      'wsus-policy (with --only wsus-policy): also remove a well-formed WSUS server policy (WUServer, WUStatusServer, UseWUServer, TargetGroup), for a machine that left that network',
    )
    .option('--use-dism', 'pending: run DISM /RevertPendingActions instead of the offline edits (Windows/WinPE)')
    .option('--cert <file>', 'trust-cert: a signing certificate (PEM or DER); repeatable', (v: string, p: string[] = []) => [...p, v])
    .option(
      '--winre-size <size>',
      'winre: size of the new recovery partition, e.g. 1024M or 2G (default: the larger of 1 GiB and what Winre.wim needs)',
      parseSize,
    )
    .option(
      '--winre-source <install.wim>',
      'winre: take Winre.wim and boot.sdi from this install media (sources\\install.wim or install.esd of the same Windows build and architecture; wimlib on Linux, a read-only DISM mount in Windows/WinPE) when the recovery partition and Windows\\System32\\Recovery have none',
    )
    .option(
      '--winre-source-index <n>',
      'winre: the image of --winre-source to use (default: the one of the offline Windows build and edition)',
      parseImageIndex,
    )
    .option(
      '--store-source <install.wim>',
      'component-store: the install media to repair the component store from (sources\\install.wim or install.esd of the same build.UBR and edition; Windows/WinPE)',
    )
    .option('--store-source-index <n>', 'component-store: the image of --store-source (default: the one of the offline build.UBR and edition)', parseImageIndex)
    .option(
      '--package <name|KB>',
      'remove-package (with --only remove-package): the installed update to remove with DISM (a CBS package name or KB number; Windows/WinPE)',
    )
    .option('--no-reuse-guid', "winre: give the new recovery partition a new unique GUID (default: the old one's)")
    .addHelpText(
      'after',
      helpText(`
Repairs (the ids --only and --skip take):
${repairList()}

Without --only, the repairs for the scan's findings run.

Nothing is written without --yes or a "y" at the prompt. Every changed file is first copied into the journal (plan.json, backup.tar, hashes), and \`wufix undo --last --root <dir>\` puts every byte back.

Examples:
  wufix repair --root D:\\               # WinPE: show the plan, ask, apply
  wufix repair --root /mnt/win --only wintrust --yes --journal /mnt/usb/journal
  sudo wufix repair --image win10.vhdx --yes        # a VHDX/VMDK/qcow2/VDI, through QEMU
  sudo wufix repair --image base.qcow2 --overlay try.qcow2 --yes   # base untouched
  sudo wufix repair --image 'lab/*.qcow2' --only wintrust --yes   # one after another`),
    )
    .action(async (cli: Omit<RepairCliOptions, 'image'> & { image?: string[]; root?: string; disk?: string; stateDir?: string }) => {
      const images = cli.image ? expandImages(cli.image) : [];
      if (images.length > 1) {
        if (cli.root || cli.disk) throw new UsageError('--root and --disk name one volume: several images take --image only');
        process.exitCode = await runRepairBatch({ ...cli, images, argv: process.argv.slice(2) });
        return;
      }
      const o = { ...cli, image: images[0] };
      useStateDir(o.stateDir);
      if (!o.root && !o.image) throw new UsageError('repair needs --root <the mounted Windows volume> or --image <disk image>');
      checkRepairOptions(o);
      checkTargetOptions(o);
      if (o.overlay && !o.image)
        throw new UsageError('--overlay goes with --image: the image it is laid over (wufix repair --image base.qcow2 --overlay new.qcow2)');
      if (o.image) {
        if (process.platform === 'win32') await repairImageWindows(o, windowsHost());
        else await repairImage(o);
        return;
      }
      const root = o.root!;
      if (process.platform === 'win32' && wantsWinre(o)) {
        // Windows/WinPE: the disk facts through diskpart and \\.\PhysicalDriveN, the rebuild by diskpart.
        // Without diskpart (or when it cannot tell), the other repairs still run; --only winre refuses.
        const host = windowsHost();
        const facts = await windowsDiskFacts(host, root, { disk: o.disk, progress }).catch((e: Error) => {
          if (o.only?.includes('winre')) throw e;
          progress(`the WinRE partition was not checked: ${e.message}`);
          return undefined;
        });
        if (facts) {
          const target = await scanTarget({ root, disk: facts.info, bitlocker: facts.bitlocker, bcd: facts.bcd, progress });
          const p = await prepareRepair(target, o, facts);
          if (p) await applyAndReport(p, o, journalRootFor(root, o.journal), (fn) => fn(root), windowsBackend(host, root));
          return;
        }
      }
      const report = await scan({ root: o.root, disk: o.disk, tool: versionString() });
      const p = await prepareRepair(report.targets[0]!, o, undefined);
      if (p) await applyAndReport(p, o, journalRootFor(root, o.journal), (fn) => fn(root));
    });
}

/**
 * `repair --image`: planned on a read-only attach, applied on a writable one (the same QEMU export
 * for the disk step and the file part), detached and `qemu-img check`ed at the end. With --overlay
 * the image becomes the base of a new qcow2 overlay, which is what is repaired (the base is opened
 * read-only); an overlay the run did not write to is removed again.
 */
async function repairImage(o: RepairCliOptions): Promise<void> {
  const base = o.image!;
  let overlay: string | undefined;
  if (o.overlay) {
    if (!existsSync(base)) throw new BadInputError('does not exist', { file: base, code: 'not-found' });
    overlay = createOverlay(base, o.overlay);
    o.image = overlay;
  }
  const image = o.image!;
  let wrote = false;
  try {
    await withImageSessions(async () => {
      const journalRoot = imageJournalRoot(image, o.journal);
      const mountRoot: MountRoot = (fn) => withImageRoot(image, fn);
      const p = await withImageTarget(image, { tool: versionString() }, (_root, target, facts) => prepareRepair(target, o, facts));
      // The file part's refusals are checked on a read-only mount first (a read-write one alone changes the image).
      if (!p) return;
      await applyAndReport(p, o, journalRoot, mountRoot, imageBackend(image), (fn) => withImageRoot(image, fn, true));
      wrote = true;
    });
  } finally {
    if (overlay && !wrote && !existsSync(`${overlay}.wufix-journal`)) rmSync(overlay, { force: true });
  }
  if (overlay && wrote && !o.json)
    writeOut(`The changes are in the overlay ${overlay}; ${base} is unchanged (the overlay's backing file, opened read-only).\n`);
}

/**
 * `repair --image` on Windows/WinPE: a VHD/VHDX planned on a read-only diskpart attach (a refusal
 * leaves it as it was), applied on a writable one through the Windows backend (the WinRE rebuild
 * by diskpart on the attached disk), detached at the end; the journal lives beside the image.
 */
export async function repairImageWindows(o: RepairCliOptions, host: WinHost): Promise<void> {
  const image = o.image!;
  if (o.overlay)
    throw new UsageError(
      '--overlay writes a qcow2 overlay through QEMU (Linux); on Windows make a differencing disk (diskpart: create vdisk file="C:\\lab\\try.vhdx" parent="C:\\lab\\base.vhdx") and repair that',
    );
  const journalRoot = imageJournalRoot(image, o.journal);
  const p = await withVdiskWindows(host, image, true, progress, async (root, a) => {
    const { target, facts } = await vdiskTarget(host, image, root, a, progress);
    return prepareRepair(target, o, facts);
  });
  if (!p) return;
  await withVdiskWindows(host, image, false, progress, (root, a) => applyAndReport(p, o, journalRoot, (fn) => fn(root), vdiskBackend(host, root, a)));
}

/** `undo --image` on Windows/WinPE: the VHD/VHDX attached writable with diskpart, the run undone through the Windows backend. */
export async function undoImageWindows(host: WinHost, image: string, jr: string, id: string, o: { force?: boolean }): Promise<UndoWithDiskResult> {
  return withVdiskWindows(host, image, false, progress, (root, a) =>
    undoWithDisk(jr, id, { force: o.force, progress, mountRoot: (fn) => fn(root), disk: image, backend: vdiskBackend(host, root, a) }),
  );
}

/** Runs `fn`, then detaches every image it attached; a container damaged after the write is reported (after an error of `fn`, on stderr). */
export async function withImageSessions<T>(fn: () => Promise<T>): Promise<T> {
  let r: T;
  try {
    r = await fn();
  } catch (e) {
    try {
      closeImageSessions();
    } catch (c) {
      process.stderr.write(`wufix: ${(c as Error).message}\n`);
    }
    throw e;
  }
  closeImageSessions();
  return r;
}

/** The Linux disk backend on the raw disk inside the image (a container's writable QEMU export; a raw image itself). */
export function imageBackend(image: string): DiskBackend {
  const onRaw = (c: WinreRebuild): WinreRebuild => {
    const d = imageSession(image).disk(true);
    return d.rawPath === image ? c : { ...c, disk: d.rawPath };
  };
  return {
    name: 'linux',
    apply: (c, dir, o) => linuxBackend.apply(onRaw(c), dir, o),
    restore: (c, dir, progress) => linuxBackend.restore(onRaw(c), dir, progress),
    undo: (c, dir, o) => linuxBackend.undo(onRaw(c), dir, o),
  };
}

export interface RepairCliOptions {
  overlay?: string;
  only?: string[];
  skip?: string[];
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  journal?: string;
  wintrustValue?: number;
  resetSecurity?: boolean;
  clearPendingRenames?: boolean;
  wsusResetPolicy?: boolean;
  useDism?: boolean;
  cert?: string[];
  image?: string;
  winreSize?: number;
  reuseGuid?: boolean;
  winreSource?: string;
  winreSourceIndex?: number;
  storeSource?: string;
  storeSourceIndex?: number;
  package?: string;
}

const progress = (m: string) => process.stderr.write(asciiSafe(`  ... ${m}\n`));

/** Repairs that undo each other: asking for both in one run is a contradiction, not a plan. */
const CONTRADICTORY: readonly (readonly [string, string])[] = [['au-pause', 'au-resume']];

/** Options that contradict each other or cannot do anything: a usage error (exit 1) before anything is read. */
export function checkRepairOptions(o: RepairCliOptions): void {
  const only = o.only ?? [];
  const known = REPAIRS.map((r) => r.id as string);
  for (const id of [...only, ...(o.skip ?? [])]) if (!known.includes(id)) throw new UsageError(`unknown repair "${id}" (repairs: ${known.join(', ')})`);
  const both = only.filter((id) => (o.skip ?? []).includes(id));
  if (both.length) throw new UsageError(`--only and --skip both name ${both.join(', ')}: give each repair in one of them`);
  for (const [a, b] of CONTRADICTORY) {
    if (only.includes(a) && only.includes(b)) throw new UsageError(`--only ${a},${b}: ${b} undoes what ${a} does; run one of them`);
  }
  if (o.wsusResetPolicy && !only.includes('wsus-policy'))
    throw new UsageError('--wsus-reset-policy needs --only wsus-policy (removing a WSUS server policy is never a default)');
  if ((o.winreSource || o.winreSourceIndex !== undefined) && (o.skip ?? []).includes('winre'))
    throw new UsageError('--winre-source is for the winre repair, which --skip winre leaves out');
  if (o.winreSource && o.only && !o.only.includes('winre')) throw new UsageError('--winre-source is for the winre repair: add it to --only (--only winre)');
  if (o.package && !only.includes('remove-package')) throw new UsageError('--package goes with --only remove-package (removing an update is never a default)');
  if (only.includes('remove-package') && !o.package) throw new UsageError('--only remove-package needs --package <name|KB> (see wufix packages)');
  if (o.storeSourceIndex !== undefined && !o.storeSource) throw new UsageError('--store-source-index needs --store-source <install.wim>');
  if (o.storeSource && ((o.only && !o.only.includes('component-store')) || (o.skip ?? []).includes('component-store')))
    throw new UsageError('--store-source is for the component-store repair: add it to --only (--only component-store)');
  if (o.winreSourceIndex !== undefined && !o.winreSource) throw new UsageError('--winre-source-index needs --winre-source <install.wim>');
  if (only.includes('trust-cert') && !o.cert?.length) throw new UsageError('--only trust-cert needs --cert <file> (the WSUS signing certificate to trust)');
}

/** A repair may run (not skipped, and --only names it or is absent). */
const wants = (o: RepairCliOptions, id: RepairId) => !(o.skip ?? []).includes(id) && (!o.only || o.only.includes(id));
const wantsWinre = (o: RepairCliOptions) => wants(o, 'winre');

/**
 * --store-source: the install media image checked against the offline build.UBR and edition, and
 * (where wimlib is) how much of the offline WinSxS it holds, for the plan.
 */
function storeSourceFor(given: string, target: ScanResult, index: number | undefined): { source: StoreSource; coverage?: string } {
  const wim = path.resolve(given);
  let summary: WimSummary;
  try {
    if (!statSync(wim).isFile()) throw new Error('not a file');
    summary = readWimSummary(wim);
  } catch (e) {
    throw new RefusedError(
      `${given} is not a WIM/ESD wufix can read (${(e as Error).message}); --store-source takes the install media's sources\\install.wim or install.esd`,
      'store-source-bad',
    );
  }
  const source = pickStoreImage(wim, summary.images, target.system, index);
  const offline = (() => {
    const d = resolveCI(target.root, 'Windows\\WinSxS');
    try {
      // A link in place of WinSxS is not listed (it could name a host folder).
      return d && lstatSync(d).isDirectory() ? readdirSync(d).slice(0, 400_000) : undefined;
    } catch {
      return undefined;
    }
  })();
  const inSource = offline && process.platform !== 'win32' && !missingTool(['wimdir']) ? wimDirNames(wim, source.index, '/Windows/WinSxS') : undefined;
  return { source, ...(offline && inSource ? { coverage: storeCoverage(offline, inSource).text } : {}) };
}

/** How this host reads the install media of --winre-source: wimlib on Linux, a read-only DISM mount on Windows/WinPE. */
function installMediaOpener(): WimImageOpener {
  if (process.platform !== 'win32') return wimlibOpener;
  const exe = dismExe();
  if (!existsSync(exe))
    throw new RefusedError(`${exe} not found: --winre-source reads the install media with DISM (/Mount-Image /ReadOnly) on Windows and WinPE`, 'no-dism');
  return dismMountOpener(dismSync(exe));
}

/** Scan result -> plan -> shown -> confirmed? Returns the plan to apply, or undefined. */
async function prepareRepair(target: ScanResult, o: RepairCliOptions, disk: DiskFacts | undefined): Promise<Plan | undefined> {
  if (target.bitlocker.length) {
    throw new RefusedError(
      `partition ${target.bitlocker.map((b) => b.partition).join(', ')} is BitLocker-encrypted and locked; unlock it first (WinPE: manage-bde -unlock <drive>: -RecoveryPassword <key>)`,
      'bitlocker',
    );
  }
  const runId = newRunId();
  const certs = (o.cert ?? []).map((p) => {
    if (!existsSync(p)) throw new BadInputError('does not exist (--cert takes a PEM or DER certificate file)', { file: p, code: 'not-found' });
    return { path: p, bytes: new Uint8Array(readFileSync(p)) };
  });
  const winreFromWim =
    o.winreSource && wantsWinre(o)
      ? await winreFromInstallWim(o.winreSource, target.system, { index: o.winreSourceIndex, progress, open: installMediaOpener() })
      : undefined;
  const store = o.storeSource && wants(o, 'component-store') ? storeSourceFor(o.storeSource, target, o.storeSourceIndex) : undefined;
  const plan = await buildPlan(
    target,
    REPAIRS,
    { only: o.only, skip: o.skip },
    {
      runId,
      wintrustValue: o.wintrustValue,
      resetSecurity: o.resetSecurity,
      clearPendingRenames: o.clearPendingRenames,
      wsusResetPolicy: o.wsusResetPolicy,
      useDism: o.useDism,
      certs,
      winreSize: o.winreSize,
      reuseGuid: o.reuseGuid,
      ...(winreFromWim ? { winreFromWim } : {}),
      ...(o.package ? { removePackage: o.package } : {}),
      ...(store ? { storeSource: store.source, ...(store.coverage ? { storeCoverage: store.coverage } : {}) } : {}),
    },
    { tool: versionString(), disk },
  );
  const space = plan.steps.length ? journalSpace(plan, target.root, o) : undefined;
  if (o.image) plan.root = o.image;
  if (!o.json) writeOut(asciiSafe(renderPlan(plan, REPAIRS, consoleWidth()) + (space ? '\n' + renderJournalSpace(space) : '')));
  let apply = !!o.yes && !o.dryRun;
  // Said on stderr with --json (stdout is the JSON), after the plan otherwise.
  const say = (s: string) => (o.json ? process.stderr.write(s.trimStart()) : writeOut(s));
  if (o.dryRun && plan.steps.length) say(o.yes ? '\nDry run: nothing will be changed (--dry-run wins over --yes).\n' : '\nDry run: nothing changed.\n');
  if (!o.yes && !o.dryRun && plan.steps.length) {
    if (process.stdin.isTTY && process.stderr.isTTY) {
      apply = await confirm('Apply these changes? (a backup goes to the journal first) [y/N] ');
      if (!apply) say('Nothing changed.\n');
    } else if (!o.json) writeOut('\nDry run: nothing changed. Add --yes to apply.\n');
  }
  if (!apply || plan.steps.length === 0) {
    if (o.json) writeJson({ plan, applied: false, ...(space ? { journalSpace: space } : {}) });
    return undefined;
  }
  return plan;
}

/** How much journal the plan takes and where (the plan's "Journal:" line); a journal folder refused later is named, not thrown, here. */
function journalSpace(plan: Plan, root: string, o: RepairCliOptions): JournalSpace {
  const bytes = journalBytes(plan, root);
  const needed = journalNeedBytes(bytes);
  let jr: string;
  try {
    jr = o.image ? imageJournalRoot(o.image, o.journal) : journalRootFor(root, o.journal);
  } catch (e) {
    return {
      dir: path.join(o.journal ? path.resolve(o.journal) : path.join(root, 'wufix', 'journal'), plan.runId),
      bytes,
      needed,
      problem: (e as Error).message,
    };
  }
  const free = journalFreeBytes(jr);
  return { dir: path.join(jr, plan.runId), bytes, needed, ...(free !== undefined ? { free } : {}) };
}

async function applyAndReport(
  plan: Plan,
  o: RepairCliOptions,
  journalRoot: string,
  mountRoot: MountRoot,
  backend?: DiskBackend,
  checkRoot?: MountRoot,
): Promise<void> {
  // The key and ledger that will authenticate this run's journal: outside the target, checked before anything is written.
  openStateDir({ targets: o.image ? [] : [plan.root] });
  setJournalTarget(journalRoot, o.image ? realish(o.image) : plan.root);
  const res = await applyWithDisk(plan, { journalRoot, progress, mountRoot, backend, checkRoot, host: applyHost() });
  if (o.json) writeJson({ plan, applied: true, journal: res.journal });
  else {
    const where = o.image
      ? `--image "${o.image}"${o.journal ? ` --journal "${o.journal}"` : ''}`
      : `--root "${plan.root}"${o.journal ? ` --journal "${o.journal}"` : ''}`;
    writeOut(asciiSafe(`\nApplied ${res.applied} change(s) and verified them. Journal: ${res.journal}\nUndo with: wufix undo ${plan.runId} ${where}\n`));
  }
}

/** What the undone run did that stays (DISM and SFC repair component files themselves). */
const notUndoneLine = (r: { notUndone?: string[] }) =>
  r.notUndone?.length ? `\nNot undone: ${r.notUndone.join(' and ')} replaced component files, which stay as they are now.` : '';

function undoMessage(r: UndoWithDiskResult): string {
  const disk = r.disk ? '; the disk (partition table, recovery partition, BCD store) restored and the Windows volume grown back' : '';
  const notes = (r.diskNotes.length ? `\nNot byte for byte: ${r.diskNotes.join('; ')}.` : '') + notUndoneLine(r);
  return asciiSafe(`Undone run ${r.runId}: ${r.restored} file(s) restored byte for byte, ${r.renamesReversed} rename(s) reversed${disk}.${notes}\n`);
}

/**
 * The run to undo: the one named, or with --last the newest one this machine can authenticate
 * (newer unauthenticated ones are named on stderr, never used). None authenticated: exit 3; no runs at all: exit 2.
 */
function pickRun(jr: string, runId: string | undefined, last: boolean | undefined, auth: AuthOptions): string {
  if (runId) return runId;
  const runs = Journal.list(jr);
  // No runs at all is a fact about the journal (bad input), not a mistake in the command line.
  if (!runs.length) throw new BadInputError(`no runs in this journal: nothing to undo (see wufix journal list)`, { file: jr, code: 'no-run' });
  if (!last) throw new UsageError(`give a run id or --last (${runs.length} run(s) in ${jr}: see wufix journal list)`);
  const skipped: string[] = [];
  for (const id of [...runs].reverse()) {
    const a = authenticateRun(jr, id, auth);
    if (a.ok) {
      for (const s of skipped) progress(s);
      return id;
    }
    skipped.push(`run ${id} is not authenticated (${a.why}); skipped`);
  }
  throw new RefusedError(
    `none of the ${runs.length} run(s) in ${jr} is authenticated (the newest, ${runs[runs.length - 1]}: ${skipped[0]!.replace(/^run \S+ is not authenticated \((.*)\); skipped$/, '$1')}); wufix undoes only journals it sealed with the key in its state directory: nothing was changed (see wufix journal list)`,
    'journal-unauthenticated',
  );
}

export function undoCommand(): Command {
  return new Command('undo')
    .description('restore every byte a repair run changed, from its journal (only a journal this machine sealed)')
    .argument('[run-id]', 'the run to undo (see wufix journal list)')
    .option('--last', 'the most recent authenticated run')
    .option('--root <dir>', 'the Windows volume the run repaired (its drive letter may have changed since)')
    .option(
      '--image <disk.img>',
      'the disk image the run repaired (Linux as root; Windows/WinPE: a VHD/VHDX, attached with diskpart); it is the disk written, and the run must have been made for it',
    )
    .option('--journal <dir>', 'the journal directory, if not <root>\\wufix\\journal')
    .option('--state-dir <dir>', STATE_DIR_HELP)
    .option('--force', 'restore even files that changed after the run')
    .action(async (runId: string | undefined, o: { last?: boolean; root?: string; image?: string; journal?: string; force?: boolean; stateDir?: string }) => {
      useStateDir(o.stateDir);
      checkTargetOptions(o);
      if (o.image) {
        const image = o.image;
        const jr = imageJournalRoot(image, o.journal);
        const id = pickRun(jr, runId, o.last, { disk: image });
        if (process.platform === 'win32') {
          writeOut(undoMessage(await undoImageWindows(windowsHost(), image, jr, id, o)));
          return;
        }
        const r = await withImageSessions(() =>
          undoWithDisk(jr, id, { force: o.force, progress, mountRoot: (fn) => withImageRoot(image, fn), disk: image, backend: imageBackend(image) }),
        );
        writeOut(undoMessage(r));
        return;
      }
      if (!o.root && !o.journal) throw new UsageError('undo needs --root <volume>, --image <disk image> or --journal <dir>');
      const jr = o.journal ? path.resolve(o.journal) : journalRootFor(o.root!);
      const id = pickRun(jr, runId, o.last, { root: o.root });
      if (process.platform === 'win32' && o.root) {
        // A run that rebuilt WinRE with diskpart is undone with diskpart.
        const root = o.root;
        const r = await undoWithDisk(jr, id, { force: o.force, progress, mountRoot: (fn) => fn(root), backend: windowsBackend(windowsHost(), root), root });
        writeOut(undoMessage(r));
        return;
      }
      const r = await undoRun(jr, id, { force: o.force, root: o.root, progress });
      writeOut(`Undone run ${r.runId}: ${r.restored} file(s) restored byte for byte, ${r.renamesReversed} rename(s) reversed.${notUndoneLine(r)}\n`);
    });
}
