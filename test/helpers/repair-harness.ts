// Shared pieces of the repair module tests: whole-tree fingerprints as records, registry dumps as
// value maps, and expected dumps after a set of changes.
import type { DumpRow } from './hive-tools.js';
import { treeHashes as treeMap, treeDiff } from './tree.js';
import type { RegData } from '../../src/model/plan.js';
// In-process engine runs (applyPlan, undoRun) seal journals in the test file's own state directory.
import './state-dir.js';

/** sha256 of every file under root (directories too), except the journal dir `wufix/`. */
export function treeHashes(root: string): Record<string, string> {
  return Object.fromEntries(treeMap(root));
}

export const changedFiles = (a: Record<string, string>, b: Record<string, string>) => treeDiff(new Map(Object.entries(a)), new Map(Object.entries(b)));

export type ValueMap = Record<string, Record<string, RegData>>;

/** A libhivex dump as path -> value name -> {type, data}, names lowercased (registry collation). */
export const asMap = (rows: DumpRow[]): ValueMap =>
  Object.fromEntries(rows.map((r) => [r.path.toLowerCase(), Object.fromEntries(r.values.map((v) => [v.name.toLowerCase(), { type: v.type, data: v.data }]))]));

/** `before` with the given values set (null = deleted); new keys appear as listed. */
export function withChanges(before: DumpRow[], changes: Record<string, Record<string, RegData | null>>): ValueMap {
  const m = asMap(before);
  for (const [p, vals] of Object.entries(changes)) {
    const k = (m[p.toLowerCase()] ??= {});
    for (const [n, v] of Object.entries(vals)) {
      if (v === null) delete k[n.toLowerCase()];
      else k[n.toLowerCase()] = v;
    }
  }
  return m;
}

export const dw = (n: number): RegData => ({ type: 4, data: Buffer.from(new Uint32Array([n]).buffer).toString('hex') });
export const findingIds = (s: { findings: { id: string; subject?: string }[] }) => s.findings.map((f) => `${f.id}${f.subject ? `:${f.subject}` : ''}`).sort();
