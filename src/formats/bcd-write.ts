// BCD device encoding and the WinRE re-pointing of issue #6 (winre.md §9 "Rewrite rule").
// encodeDevice is the inverse of decodeDevice for the devices Windows writes in a WinRE chain:
// partition (GPT unique GUID + disk GUID; MBR byte offset + disk signature), ramdisk ([partition or
// boot]\path,{options}) and boot. repointWinre plans, without writing, the element changes that make
// the WinRE loader, its ramdisk options and the OS loader point at a rebuilt recovery partition.
// Existing device elements are patched in place (only the partition identity, and the image path
// when it moves, change), so bytes this module does not model (flags, ramdisk parameters) are kept.
import { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { BadInputError, FormatError, RefusedError } from '../shared/errors.js';
import { guidToBytes, isGuid, parseGuidText } from '../shared/guid.js';
import type { RegData } from '../model/plan.js';
import {
  ELEMENT,
  OBJECT_TYPE,
  WELL_KNOWN_OBJECTS,
  decodeDevice,
  describeWinre,
  elementValue,
  findObject,
  parseBcdStore,
  type BcdDevice,
  type BcdObject,
  type BcdStore,
} from './bcd.js';
import type { BcdTarget } from '../model/winre.js';

// ---------------------------------------------------------------------------------------------
// Encoding

/** BL_DEVICE_DESCRIPTOR DeviceType (ReactOS bl.h). */
const DEV_BLOCKIO = 0;
const DEV_BOOT = 5;
const DEV_PARTITION = 6;
/** BL_LOCAL_DEVICE_TYPE RamDisk. */
const LOCAL_RAMDISK = 3;
/** Size of a partition/boot descriptor as Windows writes it (header 0x10 + 0x38). */
const SIMPLE_SIZE = 0x48;

const ALIAS_TO_ID: Record<string, string> = Object.fromEntries(Object.entries(WELL_KNOWN_OBJECTS).map(([id, alias]) => [alias, id]));

/** "{guid}", "guid" or a well-known alias ("{ramdiskoptions}") -> lowercase "guid" without braces. */
function bareGuid(s: string, what: string): string {
  const t = s.trim().toLowerCase();
  const id = ALIAS_TO_ID[t] ?? t;
  const g = id.startsWith('{') && id.endsWith('}') ? id.slice(1, -1) : id;
  if (!isGuid(g)) throw new FormatError(`BCD device: ${what} "${s}" is not a GUID`);
  return g;
}

function u32(v: number | undefined, what: string): number {
  if (v === undefined || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new FormatError(`BCD device: ${what} ${v} is not a 32-bit unsigned number`);
  return v;
}

/** UTF-16LE of `s` followed by one NUL character. */
function utf16z(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2 + 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i] = c & 0xff;
    out[2 * i + 1] = c >> 8;
  }
  return out;
}

function pathBytes(path: string): Uint8Array {
  if (path.includes('\u0000')) throw new FormatError('BCD device: path contains a NUL character');
  return utf16z(path);
}

/** The 40 identity bytes of a partition descriptor at +0x10..+0x38 (partition id, local type, table, disk id). */
function writePartitionIdentity(out: Uint8Array, o: number, d: Extract<BcdDevice, { kind: 'partition' }>): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.fill(0, o + 0x10, o + 0x20);
  out.fill(0, o + 0x28, o + 0x38);
  if (d.table === 'gpt') {
    if (!d.partitionGuid || !d.diskGuid) throw new FormatError('BCD device: a GPT partition needs partitionGuid and diskGuid');
    out.set(guidToBytes(bareGuid(d.partitionGuid, 'partition GUID')), o + 0x10);
    dv.setUint32(o + 0x24, 0, true);
    out.set(guidToBytes(bareGuid(d.diskGuid, 'disk GUID')), o + 0x28);
  } else if (d.table === 'mbr') {
    const off = d.partitionOffset;
    if (off === undefined || !Number.isSafeInteger(off) || off < 0) throw new FormatError(`BCD device: MBR partition offset ${off} is not a byte offset`);
    dv.setBigUint64(o + 0x10, BigInt(off), true);
    dv.setUint32(o + 0x24, 1, true);
    dv.setUint32(o + 0x28, u32(d.diskSignature, 'disk signature'), true);
  } else {
    throw new FormatError(`BCD device: unknown partition table "${String((d as { table: unknown }).table)}"`);
  }
}

/** One descriptor (DeviceType onwards), without the 16-byte options GUID. */
function descriptor(d: BcdDevice, depth: number): Uint8Array {
  if (depth > 4) throw new FormatError('BCD device: nesting too deep');
  switch (d.kind) {
    case 'boot': {
      const out = new Uint8Array(SIMPLE_SIZE);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, DEV_BOOT, true);
      dv.setUint32(8, SIMPLE_SIZE, true);
      return out;
    }
    case 'partition': {
      const out = new Uint8Array(SIMPLE_SIZE);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, DEV_PARTITION, true);
      dv.setUint32(8, SIMPLE_SIZE, true);
      writePartitionIdentity(out, 0, d);
      return out;
    }
    case 'ramdisk': {
      if (d.parent.optionsId !== undefined) throw new FormatError('BCD device: a device inside a ramdisk has no options GUID');
      if (d.parent.kind !== 'partition' && d.parent.kind !== 'boot')
        throw new FormatError(`BCD device: a ramdisk on a ${d.parent.kind} device is not supported`);
      const inner = descriptor(d.parent, depth + 1);
      const path = pathBytes(d.path);
      // header 0x10 | local type + 20 bytes of ramdisk parameters | file path block (version 1,
      // length, type 5) | inner descriptor | UTF-16LE path + NUL   (winre.md §9 "Ramdisk device")
      const block = 0x28;
      const size = block + 12 + inner.length + path.length;
      const out = new Uint8Array(size);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, DEV_BLOCKIO, true);
      dv.setUint32(4, 1, true);
      dv.setUint32(8, size, true);
      dv.setUint32(0x10, LOCAL_RAMDISK, true);
      dv.setUint32(block, 1, true);
      dv.setUint32(block + 4, size - block, true);
      dv.setUint32(block + 8, 5, true);
      out.set(inner, block + 12);
      out.set(path, block + 12 + inner.length);
      return out;
    }
    default:
      throw new FormatError(`BCD device: encoding a ${d.kind} device is not supported (no Windows sample to check it against)`);
  }
}

/**
 * A device element (REG_BINARY) as Windows writes it: the 16-byte options GUID (zero when none),
 * then the descriptor. Partition, ramdisk and boot devices; anything else is a FormatError.
 */
export function encodeDevice(d: BcdDevice): Uint8Array {
  const desc = descriptor(d, 0);
  const out = new Uint8Array(16 + desc.length);
  if (d.optionsId !== undefined) out.set(guidToBytes(bareGuid(d.optionsId, 'options id')), 0);
  out.set(desc, 16);
  return out;
}

// ---------------------------------------------------------------------------------------------
// In-place patching of stored device elements

interface Layout {
  /** Offsets of every partition descriptor (its DeviceType field). */
  partitions: number[];
  /** Ramdisk/file: the outer descriptor, its file path block and the path's byte span. */
  file?: { outer: number; block: number; pathStart: number; pathEnd: number };
}

/** Walk a device element with the decoder's arithmetic (call decodeDevice first: it validates). */
function layoutOf(b: Uint8Array): Layout {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Layout = { partitions: [] };
  const walk = (o: number, depth: number): number => {
    const type = dv.getUint32(o, true);
    const size = dv.getUint32(o + 8, true);
    if (type === DEV_PARTITION) out.partitions.push(o);
    if (type === DEV_BLOCKIO && depth < 4) {
      const local = dv.getUint32(o + 0x10, true);
      const block = local === LOCAL_RAMDISK ? o + 0x28 : local === 5 ? o + 0x14 : -1;
      if (block >= 0) {
        const innerSize = walk(block + 12, depth + 1);
        if (depth === 0) out.file = { outer: o, block, pathStart: block + 12 + innerSize, pathEnd: o + size };
      }
    }
    return size;
  };
  walk(0x10, 0);
  return out;
}

/** `raw` with every partition descriptor pointing at `p`; nothing else changes. */
function patchPartitions(raw: Uint8Array, p: Extract<BcdDevice, { kind: 'partition' }>): Uint8Array {
  decodeDevice(raw);
  const out = raw.slice();
  for (const o of layoutOf(out).partitions) writePartitionIdentity(out, o, p);
  return out;
}

/** `raw` (a ramdisk/file device) with its path replaced; the two length fields follow. */
function patchPath(raw: Uint8Array, path: string): Uint8Array {
  decodeDevice(raw);
  const f = layoutOf(raw).file;
  if (!f) throw new FormatError('BCD device: no path to replace');
  const oldPath = raw.subarray(f.pathStart, f.pathEnd);
  const np = pathBytes(path);
  const delta = np.length - oldPath.length;
  const out = new Uint8Array(raw.length + delta);
  out.set(raw.subarray(0, f.pathStart), 0);
  out.set(np, f.pathStart);
  out.set(raw.subarray(f.pathEnd), f.pathStart + np.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(f.outer + 8, dv.getUint32(f.outer + 8, true) + delta, true);
  dv.setUint32(f.block + 4, dv.getUint32(f.block + 4, true) + delta, true);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Re-pointing

/** One registry value set, relative to the store root (value name "Element", or "Type" for a new object). */
export interface BcdChange {
  key: string;
  name: string;
  old: RegData | null;
  value: RegData;
}

export interface RepointOptions {
  /** The OS loader to give recoverysequence/recoveryenabled ("{guid}" or "{default}"). */
  osLoader?: string;
  /** The WinRE loader to re-point (e.g. ReAgent.xml WinreBCD) when the OS loader has no recoverysequence. */
  winreLoader?: string;
  /** Directory of Winre.wim and boot.sdi on the recovery partition; default \Recovery\WindowsRE. */
  directory?: string;
}

export interface RepointResult {
  changes: BcdChange[];
  /** The OS loader and WinRE loader ids ("{guid}" as stored), for reagentc /osguid and ReAgent.xml WinreBCD. */
  osLoader: string;
  winreLoader: string;
  /** The ramdisk device-options objects re-pointed. */
  optionsIds: string[];
  /** Things the technician should know (shared options objects, unusual types); nothing is refused here. */
  warnings: string[];
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const fromHex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const sz = (s: string) => pathBytes(s);
/** REG_MULTI_SZ as Windows writes a BCD object list: each string + NUL, then a final NUL. */
const multiSz = (items: string[]) => utf16z(items.map((x) => x + '\u0000').join(''));

function targetDevice(t: BcdTarget): Extract<BcdDevice, { kind: 'partition' }> {
  const bad = (m: string) => new BadInputError(`WinRE target: ${m}`, { code: 'bcd-target' });
  if (t.scheme === 'gpt') {
    const g = (s: string, what: string) => {
      const x = parseGuidText(s);
      if (x === undefined) throw bad(`${what} "${s}" is not a GUID`);
      return x;
    };
    return { kind: 'partition', table: 'gpt', partitionGuid: g(t.partitionGuid, 'partition GUID'), diskGuid: g(t.diskGuid, 'disk GUID') };
  }
  if (t.scheme === 'mbr') {
    if (!Number.isInteger(t.diskSignature) || t.diskSignature < 0 || t.diskSignature > 0xffffffff)
      throw bad(`disk signature ${t.diskSignature} is not a 32-bit number`);
    if (!Number.isSafeInteger(t.offset) || t.offset <= 0) throw bad(`partition offset ${t.offset} is not a byte offset`);
    return { kind: 'partition', table: 'mbr', partitionOffset: t.offset, diskSignature: t.diskSignature };
  }
  throw bad(`unknown scheme "${String((t as { scheme: unknown }).scheme)}"`);
}

function normalizeDir(d: string): string {
  const x = d.replace(/\//g, '\\').replace(/\\+$/, '');
  if (!x.startsWith('\\') || x.includes('\u0000') || /[:*?"<>|]/.test(x)) {
    throw new BadInputError(`WinRE directory "${d}" is not a path from the volume root like \\Recovery\\WindowsRE`, { code: 'bcd-target' });
  }
  return x;
}

const isDevice = (v: unknown): v is BcdDevice => !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
const asList = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.map((s) => s.toLowerCase()) : undefined);

function ramdiskOf(o: BcdObject, id: number): Extract<BcdDevice, { kind: 'ramdisk' }> | undefined {
  const v = elementValue(o, id);
  return isDevice(v) && v.kind === 'ramdisk' ? v : undefined;
}

function resolveId(store: BcdStore, want: string, defaultLoader: string | undefined): BcdObject | undefined {
  const w = want.trim().toLowerCase();
  if (w === '{default}') return defaultLoader ? findObject(store, defaultLoader) : undefined;
  return findObject(store, w.startsWith('{') ? w : `{${w}}`);
}

function pickOsLoader(store: BcdStore, want: string | undefined, defaultLoader: string | undefined, recoveryTargets: Set<string>): BcdObject {
  const loaders = store.objects.filter((o) => o.type === OBJECT_TYPE.OSLOADER);
  if (want !== undefined) {
    const o = resolveId(store, want, defaultLoader);
    if (!o) throw new BadInputError(`BCD: OS loader ${want} is not in the store`, { code: 'bcd-os-loader' });
    if (o.type !== OBJECT_TYPE.OSLOADER) throw new BadInputError(`BCD: ${want} is a ${o.typeName} object, not an OS loader`, { code: 'bcd-os-loader' });
    return o;
  }
  const usable = (o: BcdObject) => elementValue(o, ELEMENT.WINPE) !== true && !recoveryTargets.has(o.id);
  const def = defaultLoader ? loaders.find((o) => o.id === defaultLoader) : undefined;
  if (def && usable(def)) return def;
  const candidates = loaders.filter(usable);
  const withSeq = candidates.filter((o) => asList(elementValue(o, ELEMENT.RECOVERY_SEQUENCE))?.length);
  if (withSeq.length === 1) return withSeq[0]!;
  if (candidates.length === 1) return candidates[0]!;
  throw new RefusedError(
    candidates.length === 0
      ? 'BCD: no Windows OS loader in the store to attach WinRE to'
      : `BCD: ${candidates.length} Windows OS loaders (${candidates.map((o) => `${o.id} "${o.description ?? ''}"`).join(', ')}); say which one gets WinRE`,
    'bcd-os-loader',
  );
}

const isWinreWim = (d: Extract<BcdDevice, { kind: 'ramdisk' }> | undefined) => !!d && /\\winre\.wim$/i.test(d.path);

function pickWinre(store: BcdStore, os: BcdObject, want: string | undefined, recoveryTargets: Set<string>, warnings: string[]): BcdObject {
  if (want !== undefined) {
    const o = resolveId(store, want, undefined);
    if (!o) throw new RefusedError(`BCD: WinRE loader ${want} is not in the store; rebuild it with reagentc /enable`, 'bcd-no-winre');
    return o;
  }
  const seq = asList(elementValue(os, ELEMENT.RECOVERY_SEQUENCE));
  if (seq?.length) {
    const o = findObject(store, seq[0]!);
    if (o) return o;
    warnings.push(`recoverysequence of ${os.id} points at ${seq[0]}, which is not in the store`);
  }
  const found = store.objects.filter(
    (o) =>
      o.id !== os.id &&
      o.type === OBJECT_TYPE.OSLOADER &&
      (recoveryTargets.has(o.id) || isWinreWim(ramdiskOf(o, ELEMENT.OSDEVICE)) || isWinreWim(ramdiskOf(o, ELEMENT.DEVICE))),
  );
  if (found.length === 1) return found[0]!;
  throw new RefusedError(
    found.length === 0
      ? `BCD: no WinRE loader in the store (${os.id} has no recoverysequence); run reagentc /enable /osguid ${os.id}`
      : `BCD: ${found.length} candidate WinRE loaders (${found.map((o) => o.id).join(', ')}); say which one to use`,
    'bcd-no-winre',
  );
}

/**
 * Every element change that makes the WinRE chain point at `target` (winre.md §9): the WinRE
 * loader's device and osdevice (ramdisk [partition]<directory>\Winre.wim,{options}), the options'
 * ramdisksdidevice (+ ramdisksdipath <directory>\boot.sdi), and on the OS loader recoverysequence =
 * [WinRE loader] and recoveryenabled = Yes. Existing device elements keep every byte except the
 * partition identity (and the path and its two length fields when the directory changes).
 * Nothing is written; values already right produce no change.
 */
export function repointWinre(hive: Hive, target: BcdTarget, opts: RepointOptions = {}): RepointResult {
  const part = targetDevice(target);
  const dir = normalizeDir(opts.directory ?? '\\Recovery\\WindowsRE');
  const store = parseBcdStore(hive);
  const w = describeWinre(store);
  const warnings: string[] = [];
  const recoveryTargets = new Set<string>();
  for (const o of store.objects) for (const t of asList(elementValue(o, ELEMENT.RECOVERY_SEQUENCE)) ?? []) recoveryTargets.add(t);

  const os = pickOsLoader(store, opts.osLoader, w.defaultLoader, recoveryTargets);
  const re = pickWinre(store, os, opts.winreLoader, recoveryTargets, warnings);
  if (re.id === os.id) throw new RefusedError(`BCD: ${os.id} cannot be its own WinRE loader`, 'bcd-no-winre');
  if (re.type !== OBJECT_TYPE.OSLOADER) throw new RefusedError(`BCD: WinRE object ${re.id} is a ${re.typeName} object, not an OS loader`, 'bcd-no-winre');

  const cs = new ChangeSet(hive);
  const optionsIds = repointLoaderDevices(cs, re, part, `${dir}\\Winre.wim`, warnings);
  for (const optId of optionsIds) repointRamdiskOptions(cs, store, re, optId, part, `${dir}\\boot.sdi`, warnings);
  repointOsLoader(cs, os, re);
  return { changes: cs.changes, osLoader: os.id, winreLoader: re.id, optionsIds, warnings };
}

/** The element changes being collected, named by the key names the store already uses. */
class ChangeSet {
  readonly changes: BcdChange[] = [];
  constructor(private readonly hive: Hive) {}
  private keyName(path: string, fallback: string): string {
    const nk = this.hive.lookup(path);
    return nk === undefined ? fallback : this.hive.keyName(nk);
  }
  objKey(id: string): string {
    return `Objects\\${this.keyName(`Objects\\${id}`, id)}`;
  }
  elKey(id: string, el: number): string {
    const h = (el >>> 0).toString(16).padStart(8, '0');
    const base = this.objKey(id);
    return `${base}\\Elements\\${this.keyName(`${base}\\Elements\\${h}`, h)}`;
  }
  private current(key: string, name: string): RegData | null {
    const nk = this.hive.lookup(key);
    const vk = nk === undefined ? undefined : this.hive.findValue(nk, name);
    return vk === undefined ? null : { type: this.hive.valueType(vk), data: hex(this.hive.valueData(vk)) };
  }
  /** Record `key\name` = (type, data) unless it already holds exactly that. */
  set(key: string, name: string, type: number, data: Uint8Array): void {
    const old = this.current(key, name);
    const value = { type, data: hex(data) };
    if (old && old.type === value.type && old.data === value.data) return;
    this.changes.push({ key, name, old, value });
  }
}

type PartitionDevice = Extract<BcdDevice, { kind: 'partition' }>;

const rawOf = (o: BcdObject | undefined, id: number) => o?.elements.find((e) => e.id === id);

/** WinRE loader: device and osdevice as ramdisk [part]wimPath; returns the ramdisk options ids used. */
function repointLoaderDevices(cs: ChangeSet, re: BcdObject, part: PartitionDevice, wimPath: string, warnings: string[]): string[] {
  const rdOs = ramdiskOf(re, ELEMENT.OSDEVICE);
  const rdDev = ramdiskOf(re, ELEMENT.DEVICE);
  const commonOptions = rdOs?.optionsId ?? rdDev?.optionsId;
  if (!commonOptions) {
    throw new RefusedError(`BCD: WinRE loader ${re.id} has no ramdisk device options to re-point; run reagentc /enable`, 'bcd-no-winre');
  }
  const optionsIds: string[] = [];
  for (const id of [ELEMENT.DEVICE, ELEMENT.OSDEVICE]) {
    const el = rawOf(re, id);
    const rd = ramdiskOf(re, id);
    let data: Uint8Array;
    let type: number = REG.BINARY;
    if (el && !el.error && rd && rd.parent.kind === 'partition') {
      data = patchPartitions(el.raw, part);
      if (rd.path.toLowerCase() !== wimPath.toLowerCase()) data = patchPath(data, wimPath);
      type = el.regType;
    } else {
      data = encodeDevice({ kind: 'ramdisk', optionsId: rd?.optionsId ?? commonOptions, parent: part, path: wimPath });
      if (el) warnings.push(`${re.id} element ${el.hex} (${el.name}) was not a ramdisk on a partition; written new`);
    }
    const opt = (rd?.optionsId ?? commonOptions).toLowerCase();
    if (!optionsIds.includes(opt)) optionsIds.push(opt);
    cs.set(cs.elKey(re.id, id), 'Element', type, data);
  }
  return optionsIds;
}

/** Ramdisk device options `optId`: boot.sdi device and path (the object created when missing). */
function repointRamdiskOptions(cs: ChangeSet, store: BcdStore, re: BcdObject, optId: string, part: PartitionDevice, sdiPath: string, warnings: string[]): void {
  const opt = findObject(store, optId);
  const sharers = store.objects.filter(
    (o) => o.id !== re.id && [ELEMENT.DEVICE, ELEMENT.OSDEVICE].some((e) => ramdiskOf(o, e)?.optionsId?.toLowerCase() === optId),
  );
  if (sharers.length) warnings.push(`ramdisk options ${optId} are also used by ${sharers.map((o) => o.id).join(', ')}; their boot.sdi moves too`);
  if (!opt) {
    const base = `Objects\\${optId}`;
    const type = new Uint8Array(4);
    new DataView(type.buffer).setUint32(0, OBJECT_TYPE.DEVICE_OPTIONS, true);
    cs.set(`${base}\\Description`, 'Type', REG.DWORD, type);
    cs.set(`${base}\\Elements\\12000004`, 'Element', REG.SZ, sz('Windows Recovery'));
    cs.set(`${base}\\Elements\\31000003`, 'Element', REG.BINARY, encodeDevice(part));
    cs.set(`${base}\\Elements\\32000004`, 'Element', REG.SZ, sz(sdiPath));
    warnings.push(`ramdisk options ${optId} were missing; created`);
    return;
  }
  if (opt.type !== OBJECT_TYPE.DEVICE_OPTIONS) warnings.push(`ramdisk options ${optId} have type ${opt.typeName}, not device`);
  const sdiEl = rawOf(opt, ELEMENT.RAMDISK_SDI_DEVICE);
  const sdiDev = elementValue(opt, ELEMENT.RAMDISK_SDI_DEVICE);
  if (sdiEl && !sdiEl.error && isDevice(sdiDev) && sdiDev.kind === 'partition') {
    cs.set(cs.elKey(opt.id, ELEMENT.RAMDISK_SDI_DEVICE), 'Element', sdiEl.regType, patchPartitions(sdiEl.raw, part));
  } else {
    cs.set(cs.elKey(opt.id, ELEMENT.RAMDISK_SDI_DEVICE), 'Element', REG.BINARY, encodeDevice(part));
  }
  const pathEl = rawOf(opt, ELEMENT.RAMDISK_SDI_PATH);
  const cur = elementValue(opt, ELEMENT.RAMDISK_SDI_PATH);
  if (typeof cur !== 'string' || cur.toLowerCase() !== sdiPath.toLowerCase()) {
    const t = pathEl && !pathEl.error && (pathEl.regType === REG.SZ || pathEl.regType === REG.EXPAND_SZ) ? pathEl.regType : REG.SZ;
    cs.set(cs.elKey(opt.id, ELEMENT.RAMDISK_SDI_PATH), 'Element', t, sz(sdiPath));
  }
}

/** OS loader: recoverysequence = [WinRE loader] and recoveryenabled = Yes. */
function repointOsLoader(cs: ChangeSet, os: BcdObject, re: BcdObject): void {
  const seq = asList(elementValue(os, ELEMENT.RECOVERY_SEQUENCE));
  if (seq?.[0] !== re.id) {
    const el = rawOf(os, ELEMENT.RECOVERY_SEQUENCE);
    cs.set(cs.elKey(os.id, ELEMENT.RECOVERY_SEQUENCE), 'Element', el?.regType === REG.MULTI_SZ ? el.regType : REG.MULTI_SZ, multiSz([re.id]));
  }
  if (elementValue(os, ELEMENT.RECOVERY_ENABLED) !== true) {
    cs.set(cs.elKey(os.id, ELEMENT.RECOVERY_ENABLED), 'Element', REG.BINARY, new Uint8Array([1]));
  }
}

/**
 * Apply changes made by repointWinre (tests; the repair engine applies and journals them itself).
 * A value that no longer holds `old` is refused, so a stale plan never overwrites a newer store.
 */
export function applyBcdChanges(hive: Hive, changes: readonly BcdChange[]): void {
  for (const c of changes) {
    const nk = hive.lookup(c.key);
    const vk = nk === undefined ? undefined : hive.findValue(nk, c.name);
    const now = vk === undefined ? null : { type: hive.valueType(vk), data: hex(hive.valueData(vk)) };
    const same = now === null || c.old === null ? now === c.old : now.type === c.old.type && now.data === c.old.data;
    if (!same) throw new RefusedError(`BCD: ${c.key}\\${c.name} changed since the plan was made`, 'bcd-stale');
  }
  for (const c of changes) hive.setValue(hive.ensureKey(c.key), c.name, c.value.type, fromHex(c.value.data));
}
