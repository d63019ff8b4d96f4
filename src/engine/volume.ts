// The volume port: all a repair's plan() may read from the offline Windows volume. Planners get it in
// their context and never touch the file system themselves (.dependency-cruiser.cjs forbids node:fs
// and the safe-fs layer in src/repairs), so a planner is a pure function of the scan, its options and
// what this port answers; tests give it an in-memory volume built from real hives.
// Paths are volume-relative with backslashes, matched case-insensitively as Windows does.
import { lstatSync } from 'node:fs';
import { Hive } from '../hive/hive.js';
import { openHiveFile } from '../hive/hivefile.js';
import { upcase } from '../hive/names.js';
import { readFileSafe, TooLargeError } from '../shared/safefs.js';
import { resolveCI } from '../windows/paths.js';
import { winRel } from '../windows/files.js';
import type { RepairContext, RepairModule } from '../model/plan.js';

/** What stands at a path, not followed: a link (symbolic link, junction) or special file is never entered. */
export type NodeKind = 'file' | 'dir' | 'link' | 'special';

export interface Volume {
  /**
   * `rel` as stored on the volume (case kept, backslashes), or undefined when some part of it is
   * absent; a link or special file on the way ends the lookup (undefined), the last part may be one.
   */
  resolve(rel: string): string | undefined;
  /** What stands at `rel` (found as resolve finds it), not followed; undefined when absent. */
  kind(rel: string): NodeKind | undefined;
  /** A file's bytes (at most `maxBytes`, larger is refused), never through a link; undefined when absent. */
  readFile(rel: string, maxBytes: number): Uint8Array | undefined;
  /** A hive, read-only, as on disk (its transaction logs are not inspected); undefined when absent. */
  openHive(rel: string): Promise<Hive | undefined>;
}

/** What a volume repair's planner gets: the model's context plus the volume to read from. */
export interface PlanContext extends RepairContext {
  volume: Volume;
}

/**
 * A repair that plans from the volume port. (The model's RepairModule cannot name the port: model
 * imports no hive code. A RepairModule that needs no volume, like winre, is one of these too.)
 */
export interface Repair extends Omit<RepairModule, 'plan' | 'uses'> {
  plan(ctx: PlanContext): ReturnType<RepairModule['plan']>;
  uses?(ctx: PlanContext): string[];
}

/** The volume mounted at host directory `root`, through the lookups that never follow a link. */
export function hostVolume(root: string): Volume {
  return {
    resolve(rel) {
      const host = resolveCI(root, rel);
      return host === undefined ? undefined : winRel(root, host);
    },
    kind(rel) {
      const host = resolveCI(root, rel);
      if (host === undefined) return undefined;
      try {
        const st = lstatSync(host);
        return st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'special';
      } catch {
        return undefined;
      }
    },
    readFile(rel, maxBytes) {
      const host = resolveCI(root, rel);
      return host === undefined ? undefined : readFileSafe(host, maxBytes);
    },
    async openHive(rel) {
      const host = resolveCI(root, rel);
      return host === undefined ? undefined : (await openHiveFile(host, { inspectLogs: false })).hive;
    },
  };
}

/** One entry of an in-memory volume: a file's bytes, a folder, or a link standing there. */
export type MemoryNode = Uint8Array | 'dir' | 'link' | 'special';

const relParts = (rel: string) => rel.split(/[\\/]+/).filter((c) => c !== '' && c !== '.');

/**
 * A volume held in memory (tests, and planning from a saved copy): `nodes` maps volume-relative
 * paths to contents; folders on the way to a file exist implicitly. Lookups are case-insensitive
 * and return the stored case; like the host volume, a link or special file on the way is not entered.
 */
export function memoryVolume(nodes: Readonly<Record<string, MemoryNode>>): Volume {
  const byKey = new Map<string, { rel: string; node: MemoryNode }>();
  for (const [rel, node] of Object.entries(nodes)) {
    const parts = relParts(rel);
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('\\');
      if (!byKey.has(upcase(dir))) byKey.set(upcase(dir), { rel: dir, node: 'dir' });
    }
    byKey.set(upcase(parts.join('\\')), { rel: parts.join('\\'), node });
  }
  const find = (rel: string): { rel: string; node: MemoryNode } | undefined => {
    const parts = relParts(rel);
    if (parts.some((c) => c === '..')) return undefined;
    for (let i = 1; i < parts.length; i++) if (byKey.get(upcase(parts.slice(0, i).join('\\')))?.node !== 'dir') return undefined;
    return byKey.get(upcase(parts.join('\\')));
  };
  const fileOf = (rel: string): Uint8Array | undefined => {
    const n = find(rel)?.node;
    return n instanceof Uint8Array ? n : undefined;
  };
  return {
    resolve: (rel) => find(rel)?.rel,
    kind(rel) {
      const n = find(rel)?.node;
      return n === undefined ? undefined : n instanceof Uint8Array ? 'file' : n;
    },
    readFile(rel, maxBytes) {
      const b = fileOf(rel);
      if (b && b.length > maxBytes) throw new TooLargeError(rel, b.length, maxBytes, 'the file');
      return b;
    },
    openHive: async (rel) => {
      const b = fileOf(rel);
      return b === undefined ? undefined : Hive.open(b);
    },
  };
}
