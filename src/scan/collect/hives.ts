// Opening the offline registry hives for a scan: a hive that cannot be opened is a problem line,
// never a failed scan. SYSTEM or SOFTWARE that cannot be read at all (empty, overwritten, a folder
// or special file in its place) is also a HiveDamage fact with where a copy may be (hive-damaged).
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describeNode, problemText } from '../../shared/safefs.js';
import { openHiveFile, type OpenedHive } from '../../hive/hivefile.js';
import type { Hive } from '../../hive/hive.js';
import type { HiveDamage } from '../../model/scan.js';
import { resolveCI } from '../../windows/paths.js';
import { configHive } from '../../windows/locations.js';
import { winRel } from '../../windows/files.js';

export async function tryOpen(file: string | undefined, problems: string[], label: string): Promise<OpenedHive | undefined> {
  if (!file) return undefined;
  try {
    const h = await openHiveFile(file, { inspectLogs: false });
    for (const r of h.refusedLogs) problems.push(`${r.problemLine()} (the hive was read without it)`);
    if (h.unrecoverable) problems.push(`${label}: dirty and its transaction logs are missing or unusable; read as it is on disk`);
    return h;
  } catch (e) {
    problems.push(`${label}: ${problemText(e, label)}`);
    return undefined;
  }
}

export interface MachineHives {
  software?: Hive;
  system?: Hive;
  components?: Hive;
  /** SYSTEM / SOFTWARE that could not be read. */
  damage: HiveDamage[];
}

/** lstat without following; undefined when absent or unreadable. */
function lstatOf(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** What is wrong with a hive file that did not open, in words (before the parser's reason). */
function damageOf(p: string, why: string): { problem: string; bytes?: number } {
  const st = lstatOf(p);
  if (!st) return { problem: `cannot be read (${why})` };
  if (st.isDirectory()) return { problem: 'is a folder, not a file' };
  if (!st.isFile()) return { problem: `is ${describeNode(st, p)}` };
  if (st.size === 0) return { problem: 'is empty (0 bytes)', bytes: 0 };
  return { problem: `cannot be read as a registry hive (${st.size} bytes: ${why})`, bytes: st.size };
}

/** A regular file's size at a volume-relative path, or why it is not one (never followed). */
function fileAt(root: string, rel: string): { file: string; bytes?: number; kind: 'file' | 'absent' | 'other' } {
  const p = resolveCI(root, rel);
  const st = p ? lstatOf(p) : undefined;
  const file = p ? winRel(root, p) : rel;
  if (!p || !st) return { file, kind: 'absent' };
  return st.isFile() ? { file, bytes: st.size, kind: 'file' } : { file, kind: 'other' };
}

/** Where a copy of the hive `name` may be: RegBack, its transaction logs, restore points, Windows.old. */
export function recoveryRoute(root: string, name: 'SYSTEM' | 'SOFTWARE'): HiveDamage['recovery'] {
  const out: HiveDamage['recovery'] = [];
  const rb = fileAt(root, configHive(`RegBack\\${name}`));
  if (rb.kind === 'file' && rb.bytes! > 0)
    out.push({
      file: rb.file,
      bytes: rb.bytes,
      usable: true,
      note: `a ${rb.bytes}-byte copy: copy it over the damaged hive (keep the damaged file beside it)`,
    });
  else if (rb.kind === 'file') out.push({ file: rb.file, bytes: 0, usable: false, note: 'empty (0 bytes): Windows 10 1803 and later no longer fill RegBack' });
  else out.push({ file: rb.file, usable: false, note: rb.kind === 'absent' ? 'no RegBack copy' : 'not a regular file; not used' });
  for (const ext of ['LOG1', 'LOG2', 'LOG']) {
    const l = fileAt(root, configHive(`${name}.${ext}`));
    if (l.kind !== 'file') continue;
    out.push({
      file: l.file,
      bytes: l.bytes,
      usable: false,
      note: `${l.bytes} bytes: a transaction log holds only recent changes; it completes a hive that was not closed cleanly, it cannot rebuild this one`,
    });
  }
  const svi = resolveCI(root, 'System Volume Information');
  const sviSt = svi ? lstatOf(svi) : undefined;
  if (svi && sviSt?.isDirectory()) {
    let n = 0;
    try {
      n = readdirSync(svi).filter((e) => /^\{[0-9a-f-]{36}\}\{3808876b-c176-4e48-b7ae-04046e6cc752\}$/i.test(e)).length;
    } catch {
      /* unreadable: said as 0 */
    }
    out.push({
      file: winRel(root, svi),
      usable: n > 0,
      note: n
        ? `${n} volume shadow copy store(s): a restore point may hold ${name} (System Restore in Windows RE, or copy it out of the shadow copy)`
        : 'no shadow copy store found: no restore point to take it from',
    });
  }
  const old = fileAt(root, path.join('Windows.old', configHive(name)).split(path.sep).join('\\'));
  if (old.kind === 'file' && old.bytes! > 0)
    out.push({
      file: old.file,
      bytes: old.bytes,
      usable: true,
      note: `${old.bytes} bytes, from the previous Windows installation: older settings and software, a last resort`,
    });
  return out;
}

/** SOFTWARE, SYSTEM and COMPONENTS from Windows\System32\config, in that order. */
export async function openMachineHives(root: string, problems: string[]): Promise<MachineHives> {
  const cfgPath = (name: string) => resolveCI(root, configHive(name));
  const damage: HiveDamage[] = [];
  const open = async (name: 'SOFTWARE' | 'SYSTEM') => {
    const file = cfgPath(name);
    const before = problems.length;
    const h = await tryOpen(file, problems, `${name} hive`);
    if (h) return h.hive;
    if (!file) return undefined; // absent: SYSTEM decides what a Windows volume is; a trimmed tree may lack SOFTWARE
    const why = problems
      .slice(before)
      .join('; ')
      .replace(new RegExp(`^${name} hive: `), '');
    damage.push({ hive: name, file: winRel(root, file), ...damageOf(file, why), recovery: recoveryRoute(root, name) });
    return undefined;
  };
  const software = await open('SOFTWARE');
  const system = await open('SYSTEM');
  const components = (await tryOpen(cfgPath('COMPONENTS'), problems, 'COMPONENTS hive'))?.hive;
  return { software, system, components, damage };
}
