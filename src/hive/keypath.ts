// Key paths the way people type them after regedit and reg.exe: a root such as HKLM\SYSTEM or
// HKEY_CURRENT_USER in front, forward slashes, CurrentControlSet; and which hive a file is (SYSTEM,
// SOFTWARE, NTUSER.DAT, ...), so a path or a .reg file naming another hive can be refused.
// Pure: a Hive and names in, values out.
import type { Hive } from './hive.js';
import { upcase } from './names.js';
import { regDword } from './query.js';
import { stripHivePrefix } from './regtext.js';
import { BadInputError } from '../shared/errors.js';

export type HiveKind = 'system' | 'software' | 'sam' | 'security' | 'components' | 'drivers' | 'bcd' | 'elam' | 'user' | 'usrclass' | 'hardware';

/** How a kind is named in messages. */
export const KIND_LABEL: Record<HiveKind, string> = {
  system: 'SYSTEM',
  software: 'SOFTWARE',
  sam: 'SAM',
  security: 'SECURITY',
  components: 'COMPONENTS',
  drivers: 'DRIVERS',
  bcd: 'BCD',
  elam: 'ELAM',
  user: 'NTUSER.DAT',
  usrclass: 'UsrClass.dat',
  hardware: 'HARDWARE (volatile, no hive file)',
};

/** "a SYSTEM hive", "an NTUSER.DAT hive". */
export function aHive(k: HiveKind): string {
  return `${/^(NTUSER|ELAM)/.test(KIND_LABEL[k]) ? 'an' : 'a'} ${KIND_LABEL[k]} hive`;
}

/** The hive file Windows keeps each kind in, for "import it into ..." advice. */
export const KIND_FILE: Record<HiveKind, string> = {
  system: 'Windows\\System32\\config\\SYSTEM',
  software: 'Windows\\System32\\config\\SOFTWARE',
  sam: 'Windows\\System32\\config\\SAM',
  security: 'Windows\\System32\\config\\SECURITY',
  components: 'Windows\\System32\\config\\COMPONENTS',
  drivers: 'Windows\\System32\\config\\DRIVERS',
  bcd: 'the BCD store (EFI\\Microsoft\\Boot\\BCD)',
  elam: 'Windows\\System32\\config\\ELAM',
  user: "the user's NTUSER.DAT (or config\\DEFAULT)",
  usrclass: "the user's AppData\\Local\\Microsoft\\Windows\\UsrClass.dat",
  hardware: 'no file (HKLM\\HARDWARE is built at boot)',
};

export interface HiveIdentity {
  /** undefined: nothing in the content or the names says which hive this is (a new, empty hive). */
  kind?: HiveKind;
  /** What the kind was told from, for messages: "root keys Select, ControlSet001". */
  because: string;
}

/** HKLM\<name> -> kind (the names Windows loads its machine hives under). */
const MACHINE: Record<string, HiveKind> = {
  SYSTEM: 'system',
  SOFTWARE: 'software',
  SAM: 'sam',
  SECURITY: 'security',
  COMPONENTS: 'components',
  DRIVERS: 'drivers',
  BCD00000000: 'bcd',
  ELAM: 'elam',
  HARDWARE: 'hardware',
};

/** File names -> kind (the host file name, then the base block's stored name). */
const FILE_NAMES: Record<string, HiveKind> = {
  SYSTEM: 'system',
  SOFTWARE: 'software',
  SAM: 'sam',
  SECURITY: 'security',
  COMPONENTS: 'components',
  DRIVERS: 'drivers',
  BCD: 'bcd',
  'BCD-TEMPLATE': 'bcd',
  ELAM: 'elam',
  'NTUSER.DAT': 'user',
  NTUSER: 'user',
  DEFAULT: 'user',
  'USRCLASS.DAT': 'usrclass',
};

function lastComponent(p: string): string {
  const parts = p.split(/[\\/]/).filter((c) => c !== '');
  return parts[parts.length - 1] ?? '';
}

/**
 * Which hive `h` is, from its root key's subkeys (and the root's own name for UsrClass.dat); when
 * the content says nothing (an empty hive), from `fileNames` (the host path, then the name the
 * base block stores).
 */
export function identifyHive(h: Hive, fileNames: (string | undefined)[] = []): HiveIdentity {
  const subs = h.subkeys(h.rootCell).map((nk) => h.keyName(nk));
  const have = new Set(subs.map((s) => upcase(s)));
  const has = (...names: string[]) => names.filter((n) => have.has(n));
  const show = (names: string[]) => `root keys ${names.map((n) => subs.find((s) => upcase(s) === n) ?? n).join(', ')}`;
  const rootName = h.keyName(h.rootCell);

  const bcd = has('DESCRIPTION', 'OBJECTS');
  if (bcd.length === 2) return { kind: 'bcd', because: show(bcd) };
  const controlSets = subs.filter((s) => /^ControlSet\d{3}$/i.test(s)).map((s) => upcase(s));
  if (have.has('SELECT') || controlSets.length) return { kind: 'system', because: show([...has('SELECT'), ...controlSets.slice(0, 2)]) };
  if (have.has('SAM') && !have.has('POLICY')) return { kind: 'sam', because: show(['SAM']) };
  const sec = has('POLICY', 'RXACT');
  if (sec.length === 2) return { kind: 'security', because: show(sec) };
  const comp = has('DERIVEDDATA', 'CANONICALDATA');
  if (comp.length) return { kind: 'components', because: show(comp) };
  if (have.has('DRIVERDATABASE')) return { kind: 'drivers', because: show(['DRIVERDATABASE']) };
  const sw = has('CLASSES', 'POLICIES', 'CLIENTS', 'REGISTEREDAPPLICATIONS', 'WOW6432NODE');
  if (have.has('MICROSOFT') && sw.length) return { kind: 'software', because: show(['MICROSOFT', ...sw.slice(0, 2)]) };
  if (/_Classes$/i.test(rootName)) return { kind: 'usrclass', because: `root key ${rootName}` };
  const user = has('CONTROL PANEL', 'ENVIRONMENT', 'APPEVENTS', 'CONSOLE');
  if (user.length) return { kind: 'user', because: show(user.slice(0, 3)) };
  const cls = has('LOCAL SETTINGS', 'CLSID', '*');
  if (cls.length && !have.has('SOFTWARE')) return { kind: 'usrclass', because: show(cls) };
  for (const n of fileNames) {
    if (!n) continue;
    const kind = FILE_NAMES[upcase(lastComponent(n))];
    if (kind) return { kind, because: `file name ${lastComponent(n)}` };
  }
  return { because: subs.length ? show(subs.slice(0, 3).map((s) => upcase(s))) : 'an empty root key' };
}

/** A path that begins with a registry root (HKLM\SYSTEM, HKEY_CURRENT_USER, HKU\<sid>, ...). */
export interface RootedPath {
  /** The root as written, e.g. "HKLM\SYSTEM" or "HKEY_USERS\S-1-5-21-1". */
  root: string;
  /** The hive that root is; undefined for a name Windows does not use (HKLM\OFFLINE, HKU\TEMP: a hive loaded there by hand). */
  kind?: HiveKind;
  /** The components below the root. */
  rest: string[];
}

const SID = /^S-1-\d+(-\d+)*$/i;

/** Split a registry root off `parts` (already split at separators); undefined when there is none. */
export function splitRoot(parts: string[]): RootedPath | undefined {
  let p = parts;
  // regedit's address bar copies "Computer\HKEY_LOCAL_MACHINE\...".
  if (p.length > 1 && upcase(p[0]!) === 'COMPUTER' && /^HK/i.test(p[1]!)) p = p.slice(1);
  const top = upcase(p[0] ?? '');
  if (top === 'HKEY_LOCAL_MACHINE' || top === 'HKLM') {
    if (p.length < 2) return undefined;
    return { root: `${p[0]}\\${p[1]}`, kind: MACHINE[upcase(p[1]!)], rest: p.slice(2) };
  }
  if (top === 'HKEY_USERS' || top === 'HKU') {
    if (p.length < 2) return undefined;
    const name = p[1]!;
    const kind: HiveKind | undefined = /_Classes$/i.test(name) ? 'usrclass' : SID.test(name) || upcase(name) === '.DEFAULT' ? 'user' : undefined;
    return { root: `${p[0]}\\${name}`, kind, rest: p.slice(2) };
  }
  if (top === 'HKEY_CURRENT_USER' || top === 'HKCU') return { root: p[0]!, kind: 'user', rest: p.slice(1) };
  return undefined;
}

/** True for a root alias wufix cannot map onto one hive (HKCR merges two; HKCC is a link into SYSTEM). */
export function isUnmappableRoot(first: string): boolean {
  return ['HKEY_CLASSES_ROOT', 'HKCR', 'HKEY_CURRENT_CONFIG', 'HKCC', 'HKEY_PERFORMANCE_DATA'].includes(upcase(first));
}

export interface MappedPath {
  /** Relative to the hive root, backslash-separated ('' = the root). */
  path: string;
  /** The root that was stripped ('' when the path had none). */
  root: string;
  /** The hive the root names (undefined: none, or a name wufix does not know). */
  names?: HiveKind;
  /** The root names a different hive than `target`. */
  mismatch: boolean;
}

/**
 * Map rooted `parts` onto a hive of kind `target`: the root is stripped; HKCU\Software\Classes
 * (and HKU\<sid>\Software\Classes) is the root of UsrClass.dat, so it maps there and is a
 * mismatch for NTUSER.DAT (which has no such key: Windows links it to UsrClass.dat at logon).
 */
export function mapOntoHive(rooted: RootedPath, target: HiveKind | undefined): MappedPath {
  let { kind, rest } = rooted;
  let root = rooted.root;
  const classes = kind === 'user' && rest.length >= 2 && upcase(rest[0]!) === 'SOFTWARE' && upcase(rest[1]!) === 'CLASSES';
  if (classes && target !== undefined && target !== 'user') {
    kind = 'usrclass';
    root = `${root}\\${rest[0]}\\${rest[1]}`;
    rest = rest.slice(2);
  } else if (classes) {
    kind = 'usrclass';
  }
  const mismatch = kind !== undefined && target !== undefined && kind !== target;
  return { path: rest.join('\\'), root, names: kind, mismatch };
}

/**
 * A [key] path of a .reg file (backslashes only: "text/plain" is one name there) mapped onto a hive
 * of kind `target`. A root wufix cannot map (HKCR, a bare HKLM) is a FormatError asking for --prefix.
 */
export function mapRegKeyPath(fullPath: string, target: HiveKind | undefined): MappedPath {
  const rooted = splitRoot(fullPath.split('\\').filter((c) => c !== ''));
  if (rooted === undefined) return { path: stripHivePrefix(fullPath), root: '', mismatch: false }; // throws the --prefix advice
  return mapOntoHive(rooted, target);
}

/** Split a path typed by a person: backslashes; forward slashes only when it has no backslash (then "text/plain"-like names need backslashes). */
export function splitTyped(path: string): string[] {
  const sep = path.includes('\\') ? '\\' : '/';
  return path.split(sep).filter((c) => c !== '');
}

export interface ControlSetNote {
  /** "CurrentControlSet is ControlSet001 (Select\Current=1)" */
  note: string;
  controlSet: string;
}

/**
 * Replace a leading CurrentControlSet (a link Windows makes at boot; never in a hive file) with the
 * ControlSet00N that SYSTEM\Select\Current names. `parts` is relative to the hive root. Unchanged
 * when the first part is something else or the hive really has such a key.
 */
export function resolveCurrentControlSet(h: Hive, parts: string[], file?: string): { parts: string[]; resolved?: ControlSetNote } {
  if (parts.length === 0 || upcase(parts[0]!) !== 'CURRENTCONTROLSET') return { parts };
  if (h.findSubkey(h.rootCell, parts[0]!) !== undefined) return { parts };
  const current = regDword(h, 'Select', 'Current');
  if (current === undefined) {
    throw new BadInputError('CurrentControlSet cannot be resolved: the hive has no Select\\Current DWORD; name the control set (ControlSet001)', {
      file,
      code: 'no-value',
    });
  }
  const name = `ControlSet${String(current).padStart(3, '0')}`;
  const nk = h.findSubkey(h.rootCell, name);
  if (nk === undefined) {
    throw new BadInputError(`CurrentControlSet cannot be resolved: Select\\Current=${current} but the hive has no ${name} key (a broken SYSTEM hive)`, {
      file,
      code: 'no-key',
    });
  }
  const stored = h.keyName(nk);
  return { parts: [stored, ...parts.slice(1)], resolved: { controlSet: stored, note: `CurrentControlSet is ${stored} (Select\\Current=${current})` } };
}
