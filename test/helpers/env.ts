// Where the shared fixtures are, which external tools exist, and the skip policy:
// a test that needs something missing is skipped with a clear reason, except under CI=true,
// where the missing prerequisite is a failure (.ci/run must not go green on skipped tests).
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = process.env.WUFIX_SHARED ?? path.resolve(PROJECT_ROOT, '../shared');
export const FIXTURES = path.join(SHARED, 'fixtures');
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** Returns a reason string when something is missing, or undefined. In CI a missing thing throws. */
function missing(reason: string): string {
  if (IN_CI) throw new Error(`CI=true: required prerequisite missing: ${reason}`);
  return reason;
}

export function sharedReason(): string | undefined {
  if (existsSync(path.join(FIXTURES, 'hives', 'MANIFEST.tsv'))) return undefined;
  return missing(`../shared fixtures not found at ${SHARED} (set WUFIX_SHARED)`);
}

const toolCache = new Map<string, boolean>();
export function hasTool(name: string): boolean {
  let ok = toolCache.get(name);
  if (ok === undefined) {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
    }
    toolCache.set(name, ok);
  }
  return ok;
}

/** A Python module importable by /usr/bin/python3 (the Debian bindings live there). */
export function pyModuleAvailable(module: string): boolean {
  const k = `py:${module}`;
  let ok = toolCache.get(k);
  if (ok === undefined) {
    try {
      execFileSync('/usr/bin/python3', ['-c', `import ${module}`], { stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
    }
    toolCache.set(k, ok);
  }
  return ok;
}

export const pyHivexAvailable = () => pyModuleAvailable('hivex');

/** Tool names that are Python modules rather than commands. */
const PY_TOOLS: Record<string, string> = { 'python3-hivex': 'hivex', 'python3-evtx': 'Evtx' };

/** undefined when every named tool is present ("python3-hivex" / "python3-evtx" = the Python bindings). */
export function toolsReason(...names: string[]): string | undefined {
  const absent = names.filter((n) => (PY_TOOLS[n] ? !pyModuleAvailable(PY_TOOLS[n]) : !hasTool(n)));
  if (absent.length === 0) return undefined;
  return missing(`tools not installed: ${absent.join(', ')} (run \`make test-deps\` as root)`);
}

/** Combine reasons: the first one that applies. */
export function skipReason(...reasons: (string | undefined)[]): string | undefined {
  return reasons.find((r) => r !== undefined);
}

export interface ManifestRow {
  dest: string;
  sha256: string;
  size: number;
}

export function readManifest(dir: string): ManifestRow[] {
  const text = readFileSync(path.join(FIXTURES, dir, 'MANIFEST.tsv'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = lines[0]!.split('\t');
  // hives/, bcd/, evtx/ name the columns dest/size; logs/ names them path/bytes.
  const col = (...names: string[]) => Math.max(...names.map((n) => head.indexOf(n)));
  const di = col('dest', 'path');
  const si = col('sha256');
  const zi = col('size', 'bytes');
  return lines.slice(1).map((l) => {
    const c = l.split('\t');
    return { dest: c[di]!, sha256: c[si]!, size: Number(c[zi]) };
  });
}

/** Absolute path of a fixture, verified against its MANIFEST sha256. */
export function fixture(dir: string, dest: string): string {
  const p = path.join(FIXTURES, dir, dest);
  const row = readManifest(dir).find((r) => r.dest === dest);
  if (!row) throw new Error(`fixture ${dir}/${dest} is not in MANIFEST.tsv`);
  const sha = createHash('sha256').update(readFileSync(p)).digest('hex');
  if (sha !== row.sha256) throw new Error(`fixture ${p}: sha256 ${sha} does not match MANIFEST ${row.sha256}`);
  return p;
}

export const hiveFixture = (dest: string) => fixture('hives', dest);
