// The repair runs a target's journal records, so the report can tell the failures before a repair
// (history: "retry Windows Update now") from current ones. Read-only and untrusted: the journal is
// on the target (or beside the image) and may have been planted or altered, so this is only ever a
// hint for the report's wording, never a reason to change or skip anything; each file is read
// through the confined access (no link followed, size capped), and only a run whose state says it
// finished and verified ("verified", not undone or rolled back) counts.
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { readFileSafe, statSafe } from '../../shared/safefs.js';
import { isRepairId, type RepairId } from '../../model/ids.js';
import type { RepairRun } from '../../model/scan.js';
import { resolveCI } from '../../windows/paths.js';

/** The run ids wufix makes (src/engine/journal.ts newRunId): nothing else is opened. */
const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;
/** A plan.json carries the bytes of small files it writes (base64); larger is not read. */
const MAX_PLAN = 16 * 1024 * 1024;
const MAX_STATE = 1024 * 1024;
/** At most this many runs are looked at (the newest). */
const MAX_RUNS = 200;

function readJson(file: string, cap: number): unknown {
  try {
    return JSON.parse(Buffer.from(readFileSafe(file, cap, 'the journal file')).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** One run's plan and state, when it finished and verified. */
function readRun(dir: string, runId: string, journal: string, now: number): RepairRun | undefined {
  const state = obj(readJson(path.join(dir, 'state.json'), MAX_STATE));
  if (state?.phase !== 'verified' || typeof state.updatedAt !== 'string' || Number.isNaN(Date.parse(state.updatedAt))) return undefined;
  const plan = obj(readJson(path.join(dir, 'plan.json'), MAX_PLAN));
  if (!plan || plan.runId !== runId || !Array.isArray(plan.steps)) return undefined;
  const repairs = new Set<RepairId>();
  for (const s of plan.steps) {
    const r = obj(s)?.repair;
    if (typeof r === 'string' && isRepairId(r)) repairs.add(r);
  }
  if (!repairs.size) return undefined;
  // A run finishes after it starts (the id is its start, UTC) and before now (with a minute's skew).
  const started = Date.parse(runId.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z-.*$/, '$1-$2-$3T$4:$5:$6Z'));
  const finished = Date.parse(state.updatedAt);
  if (Number.isNaN(started) || finished < started || finished > now + 60_000) return undefined;
  return { runId, finishedAt: new Date(finished).toISOString(), repairs: [...repairs], journal };
}

/** Verified runs in one journal folder (host path), oldest first; absent or unreadable: none. */
export function readRepairRuns(journalRoot: string, now = Date.now()): RepairRun[] {
  let names: string[];
  try {
    if (!statSafe(journalRoot)?.isDirectory()) return [];
    names = readdirSync(journalRoot).filter((n) => RUN_ID.test(n));
  } catch {
    return []; // a link or special file in the way: not followed
  }
  const out: RepairRun[] = [];
  for (const n of names.sort().slice(-MAX_RUNS)) {
    const dir = path.join(journalRoot, n);
    try {
      if (!statSafe(dir)?.isDirectory()) continue;
    } catch {
      continue;
    }
    const run = readRun(dir, n, journalRoot, now);
    if (run) out.push(run);
  }
  return out;
}

/** The runs of the journal on the target (wufix\journal, the default of `repair --root`) and of `extra` folders. */
export function collectRepairRuns(root: string, extra: readonly string[] = []): RepairRun[] {
  const onTarget = resolveCI(root, 'wufix\\journal');
  const dirs = [...(onTarget ? [onTarget] : []), ...extra];
  const runs = dirs.flatMap((d) => readRepairRuns(d));
  return runs.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
}
