// Applying a plan, all or nothing: preflight refusals -> journal (plan, hashes, tar of every file
// that will change) -> apply, one file at a time, each write atomic -> verify by reading back ->
// record the after-hashes. If anything fails (or Ctrl-C arrives) the files are restored from the
// journal and completed renames are reversed. `undo` restores a finished run byte for byte.
import { promises as fsp, existsSync, lstatSync, accessSync, constants as fsc } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { openHiveFile, saveHiveFile, checkWritable, type OpenedHive } from '../hive/hivefile.js';
import { atomicWrite } from '../shared/atomic.js';
import { confine, mkdirSafe, readFileSafe, removeFileSafe, renameSafe, sha256Safe, statSafe, isPlainRelative } from '../shared/safefs.js';
import { resolveCI } from '../windows/paths.js';
import { BadInputError, InterruptedError, RefusedError, VerificationError, WufixError } from '../shared/errors.js';
import { signalWords, watchInterrupts } from '../shared/interrupt.js';
import { Journal, checkJournalSpace, planFilePaths, type JournalFile } from './journal.js';
import type { Change, Plan, PlanStep, RegData, StoreSource } from '../model/plan.js';
import { faultPoint } from '../shared/faults.js';
import { restoreHealthFromLog } from './dism-result.js';

/** Host path of a volume-relative path (existing components matched case-insensitively). */
export function hostPath(root: string, rel: string): string {
  const found = resolveCI(root, rel);
  if (found) return found;
  // Resolve the longest existing parent, then append the rest as written.
  const parts = rel.split('\\').filter(Boolean);
  for (let i = parts.length - 1; i > 0; i--) {
    const parent = resolveCI(root, parts.slice(0, i).join('\\'));
    if (parent) return path.join(parent, ...parts.slice(i));
  }
  return path.join(root, ...parts);
}

const hexBytes = (d: RegData) => new Uint8Array(Buffer.from(d.data, 'hex'));

/** Files a change touches (to back up): hives (their logs are added from the opened hive), written files. */
const filesOf = planFilePaths; // the disk part of a winre-rebuild is journaled by its backend (disk-run.ts)

/**
 * What applying needs from the host beyond the file system: Windows' own servicing tool. The engine
 * never imports a platform driver; src/cli/wiring.ts passes src/platform/windows.ts on Windows.
 */
export interface ToolRun {
  commandLine: string;
  exitCode: number | null;
  ok: boolean;
  codePage?: number;
  output: string;
}

export interface ApplyHost {
  /** `dism /Image:<root> /Cleanup-Image /RevertPendingActions`, and what it printed. */
  revertPendingActions(root: string): Promise<ToolRun>;
  /** `dism /Image:<root> /Cleanup-Image /RestoreHealth /Source:wim:<wim>:<index> /LimitAccess /ScratchDir:<scratch>`; progress lines from DISM's bar. */
  restoreHealth?(root: string, source: StoreSource, scratch: string, progress: (m: string) => void, logPath?: string): Promise<ToolRun>;
  /** `sfc /scannow /offbootdir=<root> /offwindir=<root>\Windows`. */
  sfcOffline?(root: string): Promise<ToolRun>;
  /** `dism /Image:<root> /Remove-Package /PackageName:<name>`. */
  removePackage?(root: string, name: string): Promise<ToolRun>;
}

export interface ApplyOptions {
  journalRoot: string;
  /** Progress lines for the console. */
  progress?: (msg: string) => void;
  /** The host's tools (DISM); absent off Windows, where a plan needing them is refused. */
  host?: ApplyHost;
}

export interface ApplyResult {
  journal: string;
  applied: number;
}

/** Refusals that apply to any plan, checked before anything is written. */
export async function preflight(
  plan: Plan,
  journalRoot: string,
  opts: { writable?: boolean; host?: ApplyHost } = {},
): Promise<{ hives: Map<string, OpenedHive>; backupBytes: number }> {
  const root = confine(plan.root); // every access below: no link followed, no special file opened
  // 1. The running OS.
  if (process.platform === 'win32') {
    const sysDrive = (process.env.SystemDrive ?? 'C:').toUpperCase();
    const inWinPE = sysDrive === 'X:' || existsSync('X:\\Windows\\System32\\winpeshl.exe');
    if (!inWinPE && path.resolve(root).slice(0, 2).toUpperCase() === sysDrive) {
      throw new RefusedError(
        `${root} is the running Windows; wufix repairs an offline installation only: boot WinPE (or another Windows) and run it from there`,
        'running-os',
      );
    }
  }
  // DISM and SFC run only where Windows' own tools are: said before anything else, with what to run there.
  const tool = plan.steps.find(
    (s) =>
      (s.change.kind === 'dism-restore-health' && !opts.host?.restoreHealth) ||
      (s.change.kind === 'sfc-offline' && !opts.host?.sfcOffline) ||
      (s.change.kind === 'dism-remove-package' && !opts.host?.removePackage),
  );
  if (tool) {
    const c = tool.change;
    const src =
      c.kind === 'dism-restore-health'
        ? ` --store-source <drive>:\\${c.source.wim.split(/[\\/]/).pop()} --store-source-index ${c.source.index}`
        : c.kind === 'dism-remove-package'
          ? ` --package ${c.package}`
          : '';
    const what = c.kind === 'dism-remove-package' ? 'DISM /Remove-Package, which exists' : 'DISM /RestoreHealth and SFC, which exist';
    throw new RefusedError(
      `the ${tool.repair} repair runs ${what} only in Windows/WinPE: boot WinPE and run wufix repair --root <W:> --only ${tool.repair}${src} (nothing was written)`,
      'no-dism',
    );
  }
  // 2. The volume must be writable (`writable: false`: checked on a read-only mount made on purpose, before the read-write one).
  if (opts.writable !== false) {
    try {
      accessSync(hostPath(root, 'Windows'), fsc.W_OK);
    } catch (e) {
      // Not ours to write (EACCES/EPERM) is a missing privilege, not a read-only volume (EROFS).
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'EACCES' || code === 'EPERM') && process.platform !== 'win32' && typeof process.getuid === 'function' && process.getuid() !== 0)
        throw new RefusedError(`${root}: needs root: run with sudo (this user may not write the Windows volume)`, 'not-root');
      if (code === 'EACCES' || code === 'EPERM')
        throw new RefusedError(
          `${root}: permission denied: run as ${process.platform === 'win32' ? 'Administrator' : 'root'} (the Windows folder is not writable)`,
          'not-root',
        );
      throw new RefusedError(`${root} is read-only (mounted read-only or write-protected); mount it read-write and retry`, 'read-only');
    }
  }
  // 3. Hives: readable, not dirty without logs.
  const hives = new Map<string, OpenedHive>();
  let backupBytes = 0;
  for (const s of plan.steps) {
    for (const rel of filesOf(s.change)) {
      const host = hostPath(root, rel);
      if (s.change.kind === 'dism-revert-pending') {
        if (process.platform !== 'win32')
          throw new RefusedError(
            '--use-dism needs Windows or WinPE with DISM; without it the pending repair edits the hives offline (leave out --use-dism)',
            'no-dism',
          );
        backupBytes += statSafe(host)?.size ?? 0;
        continue;
      }
      if (s.change.kind.startsWith('reg-') && !hives.has(rel)) {
        if (!statSafe(host)) throw new BadInputError('hive not found', { file: host });
        const h = await openHiveFile(host);
        checkWritable(h); // also refuses a log beside it that is a link or a special file
        hives.set(rel, h);
        for (const f of [host, ...h.logPaths]) backupBytes += statSafe(f)?.size ?? 0;
      } else backupBytes += statSafe(host)?.size ?? 0;
    }
    if (s.change.kind === 'rename') {
      const from = hostPath(root, s.change.from);
      let st;
      try {
        st = lstatSync(from);
      } catch {
        /* absent: already renamed */
      }
      if (st?.isSymbolicLink()) {
        throw new RefusedError(
          `${s.change.from} is a junction or symbolic link, not a folder; wufix does not follow it (check where it points and rename it by hand)`,
          'link',
        );
      }
      if (st) statSafe(from); // a link or special file on the way, or in its place, refuses
      statSafe(path.dirname(hostPath(root, s.change.to)));
    }
  }
  // 4. Room for the journal.
  checkJournalSpace(journalRoot, backupBytes);
  return { hives, backupBytes };
}

export async function applyPlan(plan: Plan, opts: ApplyOptions): Promise<ApplyResult> {
  const progress = opts.progress ?? (() => {});
  const root = confine(plan.root);
  const { hives } = await preflight(plan, opts.journalRoot, { host: opts.host });
  const journal = await Journal.create(opts.journalRoot, plan.runId);
  await journal.writeJson('plan.json', plan);
  await journal.setState({ phase: 'planned', done: [], renames: [] });
  await journal.log(`plan: ${plan.steps.length} steps on ${root}`);

  // Back up every file that will change: hives with all their logs, written files.
  const toBackup = new Map<string, string>();
  for (const s of plan.steps) {
    for (const rel of filesOf(s.change)) {
      const host = hostPath(root, rel);
      toBackup.set(host, rel);
      const h = s.change.kind.startsWith('reg-') ? hives.get(rel) : undefined;
      for (const log of h?.logPaths ?? []) toBackup.set(log, path.relative(root, log).split(path.sep).join('\\'));
    }
  }
  progress(`backing up ${toBackup.size} file(s) to ${journal.dir}`);
  const files = await journal.backup(
    root,
    [...toBackup].map(([host, rel]) => ({ host, rel })),
  );
  await journal.setState({ phase: 'backed-up', done: [], renames: [] });
  faultPoint('after-backup');

  // Ctrl-C (or SIGTERM, SIGHUP) during apply: finish the current file, then roll back.
  const stop = watchInterrupts(progress);
  const done: number[] = [];
  const renames: { from: string; to: string }[] = [];
  try {
    await journal.setState({ phase: 'applying', done, renames });
    // Group registry changes per hive (one atomic save each), in plan order of first appearance.
    const order: (string | number)[] = [];
    const byHive = new Map<string, number[]>();
    plan.steps.forEach((s, i) => {
      const c = s.change;
      if (c.kind === 'reg-set' || c.kind === 'reg-delete-value' || c.kind === 'reg-delete-key' || c.kind === 'reg-set-key-security') {
        if (!byHive.has(c.hive)) {
          byHive.set(c.hive, []);
          order.push(c.hive);
        }
        byHive.get(c.hive)!.push(i);
      } else order.push(i);
    });
    let group = 0;
    for (const item of order) {
      if (stop.signal) throw new InterruptedError(`${signalWords(stop.signal)}; everything was rolled back`);
      if (typeof item === 'string') {
        const h = hives.get(item)!;
        for (const i of byHive.get(item)!) applyRegChange(h, plan.steps[i]!.change);
        progress(`saving ${item}`);
        await saveHiveFile(h);
        done.push(...byHive.get(item)!);
        await journal.log(`saved ${item}: steps ${byHive.get(item)!.join(',')}`);
      } else {
        const s = plan.steps[item]!;
        await applyFileChange(root, s, journal, renames, opts.host, progress);
        done.push(item);
      }
      await journal.setState({ phase: 'applying', done, renames });
      faultPoint(`after-group-${group++}`);
    }
    await journal.setState({ phase: 'applied', done, renames });
    // Verify by reading everything back from disk.
    progress('verifying');
    await verifyPlan(plan);
    for (const f of files) {
      const host = hostPath(root, f.path);
      f.sha256After = statSafe(host) ? await sha256Safe(host) : null;
    }
    await journal.writeJson('files.json', files);
    await journal.setState({ phase: 'verified', done, renames });
    await journal.log('verified');
    return { journal: journal.dir, applied: done.length };
  } catch (e) {
    await journal.log(`failed: ${(e as Error).message}; rolling back`);
    await rollback(root, journal, files, renames);
    await journal.setState({ phase: 'rolled-back', done: [], renames: [], error: (e as Error).message });
    if (e instanceof WufixError) throw e;
    throw new RefusedError(`the repair failed and was rolled back (nothing changed): ${(e as Error).message}`, 'apply-failed');
  } finally {
    stop.release();
  }
}

function applyRegChange(h: OpenedHive, c: Change): void {
  const hive = h.hive;
  switch (c.kind) {
    case 'reg-set':
      hive.setValue(hive.ensureKey(c.key), c.name, c.value.type, hexBytes(c.value));
      return;
    case 'reg-delete-value': {
      const nk = hive.lookup(c.key);
      if (nk !== undefined) hive.deleteValue(nk, c.name);
      return;
    }
    case 'reg-delete-key': {
      const nk = hive.lookup(c.key);
      if (nk !== undefined) hive.deleteKey(nk);
      return;
    }
    case 'reg-set-key-security': {
      const nk = hive.lookup(c.key);
      if (nk === undefined) throw new VerificationError(`${c.key} is not in the hive any more`);
      hive.setKeySecurity(nk, new Uint8Array(Buffer.from(c.sd, 'hex')));
      return;
    }
    default:
      throw new Error(`not a registry change: ${c.kind}`);
  }
}

async function applyFileChange(
  root: string,
  s: PlanStep,
  journal: Journal,
  renames: { from: string; to: string }[],
  host: ApplyHost | undefined,
  progress: (m: string) => void,
): Promise<void> {
  const c = s.change;
  if (c.kind === 'rename') {
    const from = hostPath(root, c.from);
    if (!statSafe(from)) return; // already renamed (a re-run after an interruption)
    const to = path.join(path.dirname(from), c.to.split('\\').pop()!);
    renameSafe(from, to); // refuses a link in its place or on the way, and an existing destination
    renames.push({ from: c.from, to: c.to });
    await journal.log(`renamed ${c.from} -> ${c.to}`);
    return;
  }
  if (c.kind === 'keep-copy') return; // the journal's backup.tar holds it
  if (c.kind === 'winre-rebuild') return; // applied before, with the volume unmounted (disk-run.ts)
  if (c.kind === 'dism-revert-pending') {
    if (!host) throw new RefusedError('--use-dism needs Windows or WinPE (dism.exe); on Linux use the pending repair without --use-dism', 'no-dism');
    const r = await host.revertPendingActions(root);
    await journal.log(`${r.commandLine} -> exit ${r.exitCode} (code page ${r.codePage})\n${r.output}`);
    if (!r.ok)
      throw new RefusedError(`DISM /RevertPendingActions failed with exit code ${r.exitCode}; its output is in ${journal.dir}\\log.txt`, 'dism-failed');
    return;
  }
  if (c.kind === 'dism-restore-health' || c.kind === 'sfc-offline' || c.kind === 'dism-remove-package') {
    await runStoreTool(c, root, journal, host, progress);
    return;
  }
  if (c.kind === 'write-file') {
    const host = hostPath(root, c.path);
    mkdirSafe(path.dirname(host));
    await atomicWrite(host, new Uint8Array(Buffer.from(c.base64, 'base64')));
    await journal.log(`wrote ${c.path}`);
    return;
  }
  throw new Error(`not a file change: ${c.kind}`);
}

/**
 * DISM /RestoreHealth or SFC on the offline volume. Neither can be undone byte for byte (they replace
 * component files in WinSxS and System32), which the journal says; a failure stops the run (the
 * registry and file changes before it are rolled back, DISM's own work is not).
 */
async function runStoreTool(
  c: Extract<Change, { kind: 'dism-restore-health' | 'sfc-offline' | 'dism-remove-package' }>,
  root: string,
  journal: Journal,
  host: ApplyHost | undefined,
  progress: (m: string) => void,
): Promise<void> {
  const tool =
    c.kind === 'dism-restore-health' ? 'DISM /RestoreHealth' : c.kind === 'sfc-offline' ? 'SFC /scannow (offline)' : `DISM /Remove-Package ${c.package}`;
  const has = c.kind === 'dism-restore-health' ? !!host?.restoreHealth : c.kind === 'sfc-offline' ? !!host?.sfcOffline : !!host?.removePackage;
  if (!has) throw new RefusedError(`${tool} needs Windows or WinPE; nothing of it ran`, 'no-dism');
  let r: ToolRun;
  let logRel: string | undefined;
  if (c.kind === 'dism-remove-package') {
    progress(`running ${tool} (${c.state})`);
    r = await host!.removePackage!(root, c.package);
  } else if (c.kind === 'dism-restore-health') {
    const scratch = hostPath(root, c.scratchDir);
    mkdirSafe(scratch);
    // DISM's own log of this run, beside the scratch folder (a file of this run only), read back below.
    logRel = path.win32.join(path.win32.dirname(c.scratchDir), `dism-restorehealth-${journal.runId}.log`);
    progress(`running ${tool} from ${c.source.wim} image ${c.source.index} (this takes 10-30 minutes)`);
    r = await host!.restoreHealth!(root, c.source, scratch, progress, hostPath(root, logRel));
  } else {
    progress(`running ${tool} (this takes 10-20 minutes)`);
    r = await host!.sfcOffline!(root);
  }
  await journal.log(`${r.commandLine} -> exit ${r.exitCode}${r.codePage ? ` (code page ${r.codePage})` : ''}\n${r.output}`);
  const said = logRel ? await dismLogSays(root, logRel) : undefined;
  if (said) {
    await journal.log(said);
    progress(said);
  }
  await journal.log(
    c.kind === 'dism-remove-package'
      ? `not undoable byte for byte: ${tool} removed the package itself; to undo it, install that update again`
      : `not undoable byte for byte: ${tool} replaced component files itself; undo leaves them as they are now`,
  );
  if (!r.ok)
    throw new RefusedError(`${tool} failed with exit code ${r.exitCode}${said ? ` (${said})` : ''}; its output is in ${journal.dir}\\log.txt`, 'dism-failed');
}

/** The largest DISM log read back (one run's log is a few MB). */
const MAX_DISM_RUN_LOG = 32 * 1024 * 1024;

/** What DISM's log of the run says about /RestoreHealth, or a line saying why it could not be read. */
async function dismLogSays(root: string, rel: string): Promise<string | undefined> {
  try {
    const r = await restoreHealthFromLog(readFileSafe(hostPath(root, rel), MAX_DISM_RUN_LOG, 'the DISM log'), rel);
    return r ? r.text : `${rel}: no /RestoreHealth session in it`;
  } catch (e) {
    return `${rel}: not read (${(e as Error).message})`;
  }
}

/** Read every change back from disk; throws on the first mismatch. */
export async function verifyPlan(plan: Plan): Promise<void> {
  const root = confine(plan.root);
  const cache = new Map<string, OpenedHive>();
  const hive = async (rel: string) => {
    let h = cache.get(rel);
    if (!h) {
      h = await openHiveFile(hostPath(root, rel));
      cache.set(rel, h);
    }
    return h.hive;
  };
  for (const s of plan.steps) {
    const c = s.change;
    const fail = (what: string) => {
      throw new VerificationError(`verification failed: ${what}`);
    };
    switch (c.kind) {
      case 'reg-set': {
        const h = await hive(c.hive);
        const nk = h.lookup(c.key);
        const vk = nk === undefined ? undefined : h.findValue(nk, c.name);
        if (vk === undefined) fail(`${c.hive} [${c.key}] ${c.name} is missing`);
        const data = Buffer.from(h.valueData(vk!)).toString('hex');
        if (h.valueType(vk!) !== c.value.type || data !== c.value.data) fail(`${c.hive} [${c.key}] ${c.name} reads back as ${data}`);
        break;
      }
      case 'reg-delete-value': {
        const h = await hive(c.hive);
        const nk = h.lookup(c.key);
        if (nk !== undefined && h.findValue(nk, c.name) !== undefined) fail(`${c.hive} [${c.key}] ${c.name} still exists`);
        break;
      }
      case 'reg-delete-key': {
        const h = await hive(c.hive);
        if (h.lookup(c.key) !== undefined) fail(`${c.hive} [${c.key}] still exists`);
        break;
      }
      case 'reg-set-key-security': {
        const h = await hive(c.hive);
        const nk = h.lookup(c.key);
        const sd = nk === undefined ? undefined : h.keySecurity(nk);
        if (!sd || Buffer.from(sd).toString('hex') !== c.sd)
          fail(`${c.hive} [${c.key}] security reads back as ${sd ? Buffer.from(sd).toString('hex') : 'none'}`);
        break;
      }
      case 'rename':
        if (resolveCI(root, c.from)) fail(`${c.from} still exists`);
        if (!resolveCI(root, c.to)) fail(`${c.to} does not exist`);
        break;
      case 'keep-copy':
      case 'dism-revert-pending': // checked by the scan afterwards
      case 'dism-restore-health': // its result is read back from DISM's output and, by the rescan, from CBS.log
      case 'sfc-offline':
      case 'dism-remove-package':
      case 'winre-rebuild': // verified by its backend
        break;
      case 'write-file': {
        const host = hostPath(root, c.path);
        const want = Buffer.from(c.base64, 'base64');
        if (!statSafe(host) || !Buffer.from(readFileSafe(host, want.length + 1)).equals(want)) fail(`${c.path} does not hold the planned content`);
        break;
      }
    }
  }
}

/** Put every backed-up file back as it was and reverse renames (newest first). */
export async function rollback(root: string, journal: Journal, files: JournalFile[], renames: { from: string; to: string }[]): Promise<void> {
  root = confine(root);
  for (const r of [...renames].reverse()) {
    if (!isPlainRelative(r.from) || !isPlainRelative(r.to))
      throw new RefusedError(`the journal names a rename outside the volume (${r.from} -> ${r.to}); refusing to undo from it`, 'journal-path');
    const to = resolveCI(root, r.to);
    if (to && !resolveCI(root, r.from)) renameSafe(to, path.join(path.dirname(to), r.from.split('\\').pop()!));
  }
  await restoreFiles(root, journal, files);
}

/** Restore the files of a journal from backup.tar (atomic per file); absent-before files are removed. */
export async function restoreFiles(root: string, journal: Journal, files: JournalFile[]): Promise<void> {
  root = confine(root);
  for (const f of files) {
    if (!isPlainRelative(f.entry))
      throw new RefusedError(`the journal names a file outside the volume (${f.entry}); refusing to restore from it`, 'journal-path');
  }
  const tmp = confine(await fsp.mkdtemp(path.join(os.tmpdir(), 'wufix-restore-')));
  try {
    // A plan of renames only backs up nothing: there is no archive to extract then.
    if (files.some((f) => f.existed)) await journal.extract(tmp);
    for (const f of files) {
      const host = path.join(root, ...f.entry.split('/'));
      if (!f.existed) {
        removeFileSafe(host);
        continue;
      }
      // Extracted by us, but from an archive: read it as a regular file, never through a link.
      const data = readFileSafe(path.join(tmp, ...f.entry.split('/')), f.size, 'the backed-up file');
      await atomicWrite(host, data);
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}
