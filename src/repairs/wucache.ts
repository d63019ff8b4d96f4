// wu-cache: the offline "reset Windows Update components" (windows-update.md §2). Keeps a copy of
// SoftwareDistribution\ReportingEvents.log in the journal, then renames SoftwareDistribution,
// System32\catroot2 and every BITS queue file (qmgr0/1.dat, or qmgr.db with edb*.log/edb.chk/
// qmgr.jfm, moved as one set) to `<name>.wufix-<runId>`. All steps are in one plan, so the engine
// applies them all or none. Never touches System32\catroot (Windows does not rebuild it), and a
// junction/symbolic link standing in place of a folder is skipped and reported, never followed.
import type { PlanStep } from '../model/plan.js';
import type { PlanContext, Repair } from '../engine/volume.js';
import { RefusedError } from '../shared/errors.js';

export const SOFTWARE_DISTRIBUTION = 'Windows\\SoftwareDistribution';
export const CATROOT2 = 'Windows\\System32\\catroot2';
export const BITS_DOWNLOADER = 'ProgramData\\Microsoft\\Network\\Downloader';

const parts = (rel: string) => rel.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');

/** True when a volume-relative path is System32\catroot itself or anything below it (not catroot2). */
export function touchesCatroot(rel: string): boolean {
  const p = parts(rel).map((x) => x.toLowerCase());
  for (let i = 0; i + 1 < p.length; i++) if (p[i] === 'system32' && p[i + 1] === 'catroot') return true;
  return false;
}

/** Throws when any step would touch System32\catroot: a last guard against a planner bug. */
export function assertNoCatroot(steps: PlanStep[]): PlanStep[] {
  for (const s of steps) {
    const c = s.change;
    const paths = c.kind === 'rename' ? [c.from, c.to] : c.kind === 'keep-copy' || c.kind === 'write-file' ? [c.path] : [];
    for (const p of paths) {
      if (touchesCatroot(p)) {
        throw new RefusedError(`refusing to plan a change to ${p}: System32\\catroot is never touched (Windows does not rebuild it)`, 'catroot');
      }
    }
  }
  return steps;
}

/** The name a renamed cache gets: `<path>.wufix-<runId>` in the same directory. */
export const renamedTo = (rel: string, runId: string) => `${rel}.wufix-${runId}`;

export interface CachePlan {
  steps: PlanStep[];
  /** Folders/files left alone because a junction or symbolic link stands in their place. */
  skippedLinks: string[];
}

/** The steps (and what was skipped); exported for tests. `plan` puts the skipped ones in a note. */
export function planCaches(ctx: PlanContext): CachePlan {
  const { scan, options, volume } = ctx;
  const finding = scan.findings.find((f) => f.id === 'wu-cache');
  const reason = finding ? `wu-cache (${finding.errorCodes?.join(', ') ?? 'update cache errors'})` : 'requested with --only wu-cache';
  const steps: PlanStep[] = [];
  const skippedLinks: string[] = [];
  const extra: string[] = [];
  const step = (change: PlanStep['change'], note?: string): void => {
    steps.push({ repair: 'wu-cache', reason, change, ...(note ? { note } : {}) });
  };
  // Volume-relative path as it is on disk (case kept), or undefined when absent.
  const found = (rel: string): { rel: string } | undefined => {
    const stored = volume.resolve(rel);
    return stored ? { rel: stored } : undefined;
  };
  const isLink = (f: { rel: string }) => volume.kind(f.rel) === 'link';

  // SoftwareDistribution: keep ReportingEvents.log first (the update history), then rename the folder.
  const sd = found(scan.caches.softwareDistribution?.path ?? SOFTWARE_DISTRIBUTION);
  if (sd) {
    if (isLink(sd)) skippedLinks.push(sd.rel);
    else {
      const rep = found(`${sd.rel}\\ReportingEvents.log`);
      if (rep && !isLink(rep)) step({ kind: 'keep-copy', path: rep.rel }, 'the update history, kept in the journal before the folder is renamed');
      const size = scan.caches.softwareDistribution;
      step(
        { kind: 'rename', from: sd.rel, to: renamedTo(sd.rel, options.runId) },
        size ? `${size.files} files, ${size.bytes} bytes; Windows Update rebuilds it at its next start` : undefined,
      );
    }
  }
  // catroot2 (the CryptSvc catalog database; Windows recreates it). catroot itself is never touched.
  const c2 = found(scan.caches.catroot2?.path ?? CATROOT2);
  if (c2) {
    if (isLink(c2)) skippedLinks.push(c2.rel);
    else step({ kind: 'rename', from: c2.rel, to: renamedTo(c2.rel, options.runId) }, 'CryptSvc recreates it; System32\\catroot is left as it is');
  }
  // The BITS queue: move the whole set together, or none of it.
  const queue = scan.caches.bitsQueue.map((q) => found(q.path)).filter((q): q is { rel: string } => !!q);
  const dl = found(BITS_DOWNLOADER);
  if (dl && isLink(dl)) skippedLinks.push(dl.rel);
  else if (queue.length) {
    const links = queue.filter((q) => isLink(q));
    // The set moves together: one link among the files keeps all of them where they are.
    if (links.length) {
      skippedLinks.push(...links.map((q) => q.rel));
      extra.push(`the BITS queue set (${queue.map((q) => q.rel.split('\\').pop()).join(', ')}) is left together as it is`);
    } else {
      const names = queue.map((q) => q.rel.split('\\').pop()).join(', ');
      for (const q of queue)
        step({ kind: 'rename', from: q.rel, to: renamedTo(q.rel, options.runId) }, `BITS queue (${names}) moved as one set; BITS creates an empty queue`);
    }
  }
  if (skippedLinks.length && steps.length) {
    const first = steps[0]!;
    first.note = [
      first.note,
      `not renamed: ${skippedLinks.join(', ')} ${skippedLinks.length > 1 ? 'are junctions or symbolic links' : 'is a junction or symbolic link'} (not followed; check where it points and rename it by hand)`,
      ...extra,
    ]
      .filter(Boolean)
      .join('; ');
  }
  return { steps: assertNoCatroot(steps), skippedLinks };
}

export const wucache: Repair = {
  id: 'wu-cache',
  title: 'rename SoftwareDistribution, catroot2 and the BITS queue so Windows rebuilds them (catroot is never touched)',
  fixes: ['wu-cache'],
  // A link in place of a cache folder or queue file refuses the repair (exit 3); planCaches also
  // skips such links, for callers that plan without that check.
  uses: ({ scan }) => [
    scan.caches.softwareDistribution?.path ?? SOFTWARE_DISTRIBUTION,
    `${scan.caches.softwareDistribution?.path ?? SOFTWARE_DISTRIBUTION}\\ReportingEvents.log`,
    scan.caches.catroot2?.path ?? CATROOT2,
    BITS_DOWNLOADER,
    ...scan.caches.bitsQueue.map((q) => q.path),
  ],
  plan(ctx) {
    return planCaches(ctx).steps;
  },
};
