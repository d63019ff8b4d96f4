// A BCD store (a regf hive, winre.md §9) decoded: objects, typed elements with their bcdedit names,
// device elements (partition, ramdisk, file, boot, locate), and the WinRE chain
// (OS loader -> recoverysequence -> WinRE loader -> ramdisk -> device options -> boot.sdi).
// Device layout: winre.md §9 tables; ReactOS boot/environ bl.h (BL_DEVICE_DESCRIPTOR, device types
// Disk 0 / Boot 5 / Partition 6 / Locate 8, local types RamDisk 3 / File 5); kupiakos/pybcd.
import { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { FormatError } from '../shared/errors.js';
import { guidFromBytes } from '../shared/guid.js';
import { multiSzStrings, regDword, regString, utf16le } from '../hive/query.js';

/** The largest BCD store read from a disk (a BCD hive is tens of KB; Windows' own are < 1 MB). */
export const MAX_BCD_BYTES = 64 << 20;

// ---------------------------------------------------------------------------------------------
// Names

export const WELL_KNOWN_OBJECTS: Readonly<Record<string, string>> = {
  '{9dea862c-5cdd-4e70-acc1-f32b344d4795}': '{bootmgr}',
  '{a5a30fa2-3d06-4e9f-b5f4-a01df9d1fcba}': '{fwbootmgr}',
  '{b2721d73-1db4-4c62-bf78-c548a880142d}': '{memdiag}',
  '{466f5a88-0af2-4f76-9038-095b170dc21c}': '{ntldr}',
  '{5189b25c-5558-4bf2-bca4-289b11bd29e2}': '{badmemory}',
  '{6efb52bf-1766-41db-a6b3-0ee5eff72bd7}': '{bootloadersettings}',
  '{7ea2e1ac-2e61-4728-aaa3-896d9d0a9f0e}': '{globalsettings}',
  '{7ff607e0-4395-11db-b0de-0800200c9a66}': '{hypervisorsettings}',
  '{4636856e-540f-4170-a130-a84776f4c654}': '{dbgsettings}',
  '{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}': '{emssettings}',
  '{1afa9c49-16ab-4a5c-901b-212802da9460}': '{resumeloadersettings}',
  '{ae5534e0-a924-466c-b836-758539a3ee3a}': '{ramdiskoptions}',
  '{fa926493-6f1c-4193-a414-58f0b2456d1e}': '{current}',
  '{1cae1eb7-a0df-4d4d-9851-4860e34ef535}': '{default}',
};

export const OBJECT_TYPE = {
  FWBOOTMGR: 0x10100001,
  BOOTMGR: 0x10100002,
  OSLOADER: 0x10200003,
  RESUME: 0x10200004,
  MEMDIAG: 0x10200005,
  DEVICE_OPTIONS: 0x30000000,
} as const;

const APP_NAMES: Record<number, string> = {
  1: 'fwbootmgr',
  2: 'bootmgr',
  3: 'osloader',
  4: 'resume',
  5: 'memdiag',
  6: 'ntldr',
  7: 'setupldr',
  8: 'bootsector',
  9: 'startup',
  0xa: 'bootapp',
  0xfffff: 'firmware',
};

/** "bootmgr", "osloader", "inherit osloader", "device", "firmware" ... */
export function objectTypeName(type: number): string {
  const cls = type >>> 28;
  const app = type & 0xfffff;
  if (cls === 1) return APP_NAMES[app] ?? `application 0x${app.toString(16)}`;
  if (cls === 2) {
    const sub = (type >>> 20) & 0xf;
    if (sub === 1) return 'inherit library';
    return `inherit ${APP_NAMES[app] ?? `0x${app.toString(16)}`}`;
  }
  if (cls === 3) return 'device';
  return `0x${(type >>> 0).toString(16)}`;
}

// Element names as bcdedit shows them (BcdLibraryElementTypes / BcdBootMgr / BcdOSLoader /
// BcdResume / BcdMemDiag / BcdDeviceObject element types).
const LIBRARY: Record<number, string> = {
  0x11000001: 'device',
  0x12000002: 'path',
  0x12000004: 'description',
  0x12000005: 'locale',
  0x14000006: 'inherit',
  0x15000007: 'truncatememory',
  0x14000008: 'recoverysequence',
  0x16000009: 'recoveryenabled',
  0x1700000a: 'badmemorylist',
  0x1600000b: 'badmemoryaccess',
  0x1500000c: 'firstmegabytepolicy',
  0x1500000d: 'relocatephysical',
  0x1500000e: 'avoidlowmemory',
  0x1600000f: 'traditionalkseg',
  0x16000010: 'bootdebug',
  0x15000011: 'debugtype',
  0x15000012: 'debugaddress',
  0x15000013: 'debugport',
  0x15000014: 'baudrate',
  0x15000015: 'channel',
  0x12000016: 'targetname',
  0x16000017: 'noumex',
  0x15000018: 'debugstart',
  0x12000019: 'busparams',
  0x1500001a: 'hostip',
  0x1500001b: 'port',
  0x1600001c: 'dhcp',
  0x1200001d: 'key',
  0x1600001e: 'vm',
  0x16000020: 'bootems',
  0x15000022: 'emsport',
  0x15000023: 'emsbaudrate',
  0x12000030: 'loadoptions',
  0x16000040: 'advancedoptions',
  0x16000041: 'optionsedit',
  0x15000042: 'keyringaddress',
  0x11000043: 'bootstatdevice',
  0x12000044: 'bootstatfilepath',
  0x16000045: 'preservebootstat',
  0x16000046: 'graphicsmodedisabled',
  0x15000047: 'configaccesspolicy',
  0x16000048: 'nointegritychecks',
  0x16000049: 'testsigning',
  0x1200004a: 'fontpath',
  0x1500004b: 'integrityservices',
  0x1500004c: 'volumebandid',
  0x16000050: 'extendedinput',
  0x15000051: 'initialconsoleinput',
  0x15000052: 'graphicsresolution',
  0x16000053: 'restartonfailure',
  0x16000054: 'highestmode',
  0x16000060: 'isolatedcontext',
  0x15000065: 'displaymessage',
  0x15000066: 'displaymessageoverride',
  0x17000077: 'allowedinmemorysettings',
};
const BOOTMGR: Record<number, string> = {
  0x24000001: 'displayorder',
  0x24000002: 'bootsequence',
  0x23000003: 'default',
  0x25000004: 'timeout',
  0x26000005: 'resume',
  0x23000006: 'resumeobject',
  0x24000010: 'toolsdisplayorder',
  0x26000020: 'displaybootmenu',
  0x26000021: 'noerrordisplay',
  0x21000022: 'bcddevice',
  0x22000023: 'bcdfilepath',
  0x27000030: 'customactions',
  0x26000031: 'persistbootsequence',
};
const OSLOADER: Record<number, string> = {
  0x21000001: 'osdevice',
  0x22000002: 'systemroot',
  0x23000003: 'resumeobject',
  0x26000010: 'detecthal',
  0x22000011: 'kernel',
  0x22000012: 'hal',
  0x22000013: 'dbgtransport',
  0x25000020: 'nx',
  0x25000021: 'pae',
  0x26000022: 'winpe',
  0x26000024: 'nocrashautoreboot',
  0x26000025: 'lastknowngood',
  0x26000026: 'oslnointegritychecks',
  0x26000027: 'osltestsigning',
  0x26000030: 'nolowmem',
  0x25000031: 'removememory',
  0x25000032: 'increaseuserva',
  0x26000040: 'vga',
  0x26000041: 'quietboot',
  0x26000042: 'novesa',
  0x25000050: 'clustermodeaddressing',
  0x26000051: 'usephysicaldestination',
  0x25000052: 'restrictapiccluster',
  0x26000060: 'onecpu',
  0x25000061: 'numproc',
  0x26000062: 'maxproc',
  0x25000063: 'configflags',
  0x26000070: 'usefirmwarepcisettings',
  0x25000071: 'msi',
  0x25000072: 'pciexpress',
  0x25000080: 'safeboot',
  0x26000081: 'safebootalternateshell',
  0x26000090: 'bootlog',
  0x26000091: 'sos',
  0x260000a0: 'debug',
  0x260000a1: 'halbreakpoint',
  0x260000a2: 'useplatformclock',
  0x260000b0: 'ems',
  0x250000c0: 'forcefailure',
  0x250000c1: 'driverloadfailurepolicy',
  0x250000c2: 'bootmenupolicy',
  0x250000e0: 'bootstatuspolicy',
  0x250000f0: 'hypervisorlaunchtype',
  0x250000f3: 'hypervisordebugtype',
  0x250000f4: 'hypervisordebugport',
  0x250000f5: 'hypervisorbaudrate',
};
const RESUME: Record<number, string> = {
  0x21000001: 'filedevice',
  0x22000002: 'filepath',
  0x26000003: 'customsettings',
  0x26000004: 'pae',
  0x21000005: 'associatedosdevice',
  0x26000006: 'debugoptionenabled',
  0x25000007: 'bootux',
  0x25000008: 'bootmenupolicy',
};
const MEMDIAG: Record<number, string> = { 0x25000001: 'passcount', 0x25000002: 'testmix' };
const DEVICE: Record<number, string> = {
  0x35000001: 'ramdiskimageoffset',
  0x35000002: 'ramdisktftpclientport',
  0x31000003: 'ramdisksdidevice',
  0x32000004: 'ramdisksdipath',
  0x35000005: 'ramdiskimagelength',
  0x36000006: 'exportascd',
  0x35000007: 'ramdisktftpblocksize',
  0x35000008: 'ramdisktftpwindowsize',
  0x36000009: 'ramdiskmcenabled',
  0x3600000a: 'ramdiskmctftpfallback',
  0x3600000b: 'ramdisktftpvarwindow',
};

export const ELEMENT = {
  DEVICE: 0x11000001,
  PATH: 0x12000002,
  DESCRIPTION: 0x12000004,
  INHERIT: 0x14000006,
  RECOVERY_SEQUENCE: 0x14000008,
  RECOVERY_ENABLED: 0x16000009,
  OSDEVICE: 0x21000001,
  SYSTEMROOT: 0x22000002,
  DISPLAY_ORDER: 0x24000001,
  DEFAULT: 0x23000003,
  RESUME_OBJECT_BOOTMGR: 0x23000006,
  WINPE: 0x26000022,
  RAMDISK_SDI_DEVICE: 0x31000003,
  RAMDISK_SDI_PATH: 0x32000004,
} as const;

/** The bcdedit name of an element in an object of the given type, or "custom:<hex>". */
export function elementName(id: number, objectType?: number): string {
  const cls = id >>> 28;
  let n: string | undefined;
  if (cls === 1) n = LIBRARY[id];
  else if (cls === 3) n = DEVICE[id];
  else if (cls === 2) {
    const app = objectType === undefined ? 0 : objectType & 0xfffff;
    const maps = app === 1 || app === 2 ? [BOOTMGR] : app === 4 ? [RESUME] : app === 5 ? [MEMDIAG] : app === 3 ? [OSLOADER] : [OSLOADER, BOOTMGR];
    for (const m of maps) if ((n = m[id])) break;
  }
  return n ?? `custom:${(id >>> 0).toString(16).padStart(8, '0')}`;
}

export type ElementFormat = 'device' | 'string' | 'object' | 'objectlist' | 'integer' | 'boolean' | 'integerlist' | 'unknown';
const FORMATS: Record<number, ElementFormat> = { 1: 'device', 2: 'string', 3: 'object', 4: 'objectlist', 5: 'integer', 6: 'boolean', 7: 'integerlist' };
export const elementFormat = (id: number): ElementFormat => FORMATS[(id >>> 24) & 0xf] ?? 'unknown';

// ---------------------------------------------------------------------------------------------
// Devices

export type BcdDevice =
  | { kind: 'boot'; optionsId?: string }
  | {
      kind: 'partition';
      optionsId?: string;
      table: 'gpt' | 'mbr';
      /** GPT: partition unique GUID. */
      partitionGuid?: string;
      /** MBR: partition start in bytes. */
      partitionOffset?: number;
      /** GPT: disk GUID. */
      diskGuid?: string;
      /** MBR: disk signature. */
      diskSignature?: number;
    }
  | { kind: 'ramdisk'; optionsId?: string; parent: BcdDevice; path: string }
  | { kind: 'file'; optionsId?: string; parent: BcdDevice; path: string }
  | { kind: 'locate'; optionsId?: string }
  | { kind: 'unknown'; optionsId?: string; deviceType: number; localType?: number };

const braced = (g: string) => `{${g}}`;

function isZero(b: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[off + i] !== 0) return false;
  return true;
}

function readPath(b: Uint8Array, off: number, end: number): string {
  let s = '';
  for (let i = off; i + 1 < end; i += 2) {
    const c = b[i]! | (b[i + 1]! << 8);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** One BL_DEVICE_DESCRIPTOR at `o` (its DeviceType field), bounded by `limit`. */
function descriptorAt(b: Uint8Array, dv: DataView, o: number, limit: number, depth: number): { dev: BcdDevice; size: number } {
  if (depth > 4) throw new FormatError('BCD device: nesting too deep', o);
  if (o + 0x10 > limit) throw new FormatError('BCD device: descriptor header past the end', o);
  const type = dv.getUint32(o, true);
  const size = dv.getUint32(o + 8, true);
  if (size < 0x10 || o + size > limit) throw new FormatError(`BCD device: descriptor size 0x${size.toString(16)} does not fit`, o + 8);
  switch (type) {
    case 5:
      return { dev: { kind: 'boot' }, size };
    case 8:
      return { dev: { kind: 'locate' }, size };
    case 6: {
      if (size < 0x38) throw new FormatError('BCD device: partition descriptor too short', o + 8);
      const table = dv.getUint32(o + 0x24, true);
      if (table === 0) {
        return { dev: { kind: 'partition', table: 'gpt', partitionGuid: guidFromBytes(b, o + 0x10), diskGuid: guidFromBytes(b, o + 0x28) }, size };
      }
      if (table === 1) {
        const offset = dv.getBigUint64(o + 0x10, true);
        return { dev: { kind: 'partition', table: 'mbr', partitionOffset: Number(offset), diskSignature: dv.getUint32(o + 0x28, true) }, size };
      }
      throw new FormatError(`BCD device: unknown partition table type ${table}`, o + 0x24);
    }
    case 0: {
      const localType = dv.getUint32(o + 0x10, true);
      // RamDisk: 20 bytes of ramdisk parameters, then the file path block; File: the block at once.
      const block = localType === 3 ? o + 0x28 : localType === 5 ? o + 0x14 : -1;
      if (block < 0) return { dev: { kind: 'unknown', deviceType: type, localType }, size };
      if (block + 12 > o + size) throw new FormatError('BCD device: file path block past the end', block);
      const inner = descriptorAt(b, dv, block + 12, o + size, depth + 1);
      const path = readPath(b, block + 12 + inner.size, o + size);
      return { dev: { kind: localType === 3 ? 'ramdisk' : 'file', parent: inner.dev, path }, size };
    }
    default:
      return { dev: { kind: 'unknown', deviceType: type }, size };
  }
}

/** Decode a device element (REG_BINARY): 16-byte options GUID, then the device descriptor. */
export function decodeDevice(bytes: Uint8Array): BcdDevice {
  if (bytes.length < 0x20) throw new FormatError(`BCD device: ${bytes.length} bytes, shorter than the 32-byte header`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { dev } = descriptorAt(bytes, dv, 0x10, bytes.length, 0);
  if (!isZero(bytes, 0, 16)) dev.optionsId = braced(guidFromBytes(bytes, 0));
  return dev;
}

/** bcdedit-like text: partition={disk,part}, ramdisk=[...]\path,{options}, boot, locate. */
export function formatDevice(d: BcdDevice): string {
  switch (d.kind) {
    case 'boot':
      return 'boot';
    case 'locate':
      return 'locate';
    case 'partition':
      return d.table === 'gpt'
        ? `partition={disk {${d.diskGuid}}, partition {${d.partitionGuid}}}`
        : `partition={disk signature 0x${(d.diskSignature ?? 0).toString(16).padStart(8, '0')}, offset ${d.partitionOffset}}`;
    case 'ramdisk':
    case 'file': {
      const parent = d.parent.kind === 'boot' ? '[boot]' : `[${formatDevice(d.parent)}]`;
      const opts = d.optionsId ? `,${WELL_KNOWN_OBJECTS[d.optionsId] ?? d.optionsId}` : '';
      return `${d.kind}=${parent}${d.path}${opts}`;
    }
    default:
      return `unknown device type ${d.deviceType}${d.localType !== undefined ? `/${d.localType}` : ''}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Store

export type ElementValue = string | string[] | number | number[] | boolean | BcdDevice | Uint8Array;

export interface BcdElement {
  id: number;
  /** 8 lowercase hex digits, as the key name. */
  hex: string;
  name: string;
  format: ElementFormat;
  regType: number;
  raw: Uint8Array;
  /** Decoded value; the raw bytes when the registry type does not fit the element format. */
  value: ElementValue;
  /** Why the value could not be decoded (kept as raw). */
  error?: string;
}

export interface BcdObject {
  /** "{guid}" lowercase as stored. */
  id: string;
  alias?: string;
  type?: number;
  typeName: string;
  elements: BcdElement[];
  description?: string;
}

export interface BcdStore {
  /** Description\KeyName: BCD00000000 (BCD00000001 on Windows 7 media). */
  keyName?: string;
  objects: BcdObject[];
}

function readUintLE(b: Uint8Array): number {
  let v = 0;
  for (let i = Math.min(b.length, 8) - 1; i >= 0; i--) v = v * 256 + b[i]!;
  return v;
}

function decodeElement(id: number, regType: number, raw: Uint8Array): { value: ElementValue; error?: string } {
  const fmt = elementFormat(id);
  const str = () => utf16le(raw).split('\u0000')[0]!;
  try {
    switch (fmt) {
      case 'device':
        return { value: decodeDevice(raw) };
      case 'string':
      case 'object':
        if (regType === REG.SZ || regType === REG.EXPAND_SZ) return { value: str() };
        break;
      case 'objectlist':
        if (regType === REG.MULTI_SZ) return { value: multiSzStrings(raw).filter((s) => s !== '') };
        break;
      case 'integer':
        // 8 bytes LE; Windows 7 stores shorter values (3 bytes "00 c2 01" = 115200).
        if (raw.length >= 1 && raw.length <= 8) return { value: readUintLE(raw) };
        break;
      case 'boolean':
        return { value: raw.some((x) => x !== 0) };
      case 'integerlist': {
        const out: number[] = [];
        for (let i = 0; i + 8 <= raw.length; i += 8) out.push(readUintLE(raw.subarray(i, i + 8)));
        return { value: out };
      }
      default:
        break;
    }
    return { value: raw, error: `registry type ${regType} does not fit a ${fmt} element` };
  } catch (e) {
    // A structural problem of one element is reported on that element; anything else is a bug,
    // not a property of the store, and must not be hidden as an element error.
    if (!(e instanceof FormatError)) throw e;
    return { value: raw, error: e.message };
  }
}

/** Decode every object of a BCD store hive. */
export function parseBcdStore(h: Hive): BcdStore {
  const objectsNk = h.lookup('Objects');
  if (objectsNk === undefined) throw new FormatError('not a BCD store: no Objects key');
  const store: BcdStore = { keyName: regString(h, 'Description', 'KeyName'), objects: [] };
  // Element data is copied out: in a sound store every element owns its cells, so all of it fits
  // in the hive. More than that means cells shared between elements (crafted): refused, so that a
  // store of a few KB cannot make gigabytes of copies.
  let budget = h.hiveBinsSize;
  for (const onk of h.subkeys(objectsNk)) {
    const id = h.keyName(onk).toLowerCase();
    const desc = h.findSubkey(onk, 'Description');
    const type = desc === undefined ? undefined : regDword(h, desc, 'Type');
    const obj: BcdObject = { id, alias: WELL_KNOWN_OBJECTS[id], type, typeName: type === undefined ? 'unknown' : objectTypeName(type), elements: [] };
    const els = h.findSubkey(onk, 'Elements');
    for (const enk of els === undefined ? [] : h.subkeys(els)) {
      const hex = h.keyName(enk).toLowerCase();
      if (!/^[0-9a-f]{8}$/.test(hex)) continue;
      const eid = parseInt(hex, 16);
      const vk = h.findValue(enk, 'Element');
      if (vk === undefined) continue;
      const regType = h.valueType(vk);
      budget -= h.valueLength(vk);
      if (budget < 0) {
        throw new FormatError(
          `BCD store: element data adds up to more than the ${h.hiveBinsSize}-byte hive holds (cells shared between elements: crafted or corrupt store)`,
        );
      }
      const raw = h.valueData(vk);
      const { value, error } = decodeElement(eid, regType, raw);
      const el: BcdElement = { id: eid, hex, name: elementName(eid, type), format: elementFormat(eid), regType, raw, value };
      if (error) el.error = error;
      obj.elements.push(el);
    }
    const d = obj.elements.find((e) => e.id === ELEMENT.DESCRIPTION);
    if (d && typeof d.value === 'string') obj.description = d.value;
    store.objects.push(obj);
  }
  return store;
}

export function findObject(store: BcdStore, id: string): BcdObject | undefined {
  const k = id.toLowerCase();
  return store.objects.find((o) => o.id === k || o.alias === k);
}

export function elementValue(obj: BcdObject | undefined, id: number): ElementValue | undefined {
  const e = obj?.elements.find((x) => x.id === id);
  return e && !e.error ? e.value : undefined;
}

const asString = (v: ElementValue | undefined) => (typeof v === 'string' ? v : undefined);
const asList = (v: ElementValue | undefined) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined);
const asBool = (v: ElementValue | undefined) => (typeof v === 'boolean' ? v : undefined);
const asDevice = (v: ElementValue | undefined) => (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? v : undefined);

// ---------------------------------------------------------------------------------------------
// WinRE chain

export interface OsLoaderInfo {
  id: string;
  description?: string;
  path?: string;
  osDevice?: BcdDevice;
  recoverySequence?: string[];
  recoveryEnabled?: boolean;
  /** {bootmgr} default points here. */
  isDefault: boolean;
  winpe?: boolean;
}

export interface WinreDescription {
  /** The bootmgr's default loader id. */
  defaultLoader?: string;
  /** OS loaders (type 0x10200003) that no recoverysequence points at. */
  osLoaders: OsLoaderInfo[];
  /** The WinRE loader: the target of the default loader's recoverysequence (else the first one). */
  winreLoader?: {
    id: string;
    /** The object exists in the store. */
    exists: boolean;
    description?: string;
    path?: string;
    winpe?: boolean;
    /** device/osdevice as a ramdisk: the image (Winre.wim) and the partition holding it. */
    ramdisk?: { device: BcdDevice; path: string; optionsId?: string };
    deviceText?: string;
  };
  ramdiskOptions?: { id: string; exists: boolean; description?: string; sdiDevice?: BcdDevice; sdiPath?: string };
  /** Resume objects' recoverysequence (they carry one too). */
  resumeRecoverySequence?: string[];
  /** Inconsistencies found on the way, in plain words. */
  problems: string[];
}

/** Follow the WinRE chain of a store (winre.md §9 "What an enabled WinRE looks like"). */
export function describeWinre(store: BcdStore): WinreDescription {
  const problems: string[] = [];
  const bootmgr = findObject(store, '{bootmgr}') ?? store.objects.find((o) => o.type === OBJECT_TYPE.BOOTMGR);
  const defaultLoader = asString(elementValue(bootmgr, ELEMENT.DEFAULT))?.toLowerCase();
  const loaders = store.objects.filter((o) => o.type === OBJECT_TYPE.OSLOADER);
  const seqOf = (o: BcdObject) => asList(elementValue(o, ELEMENT.RECOVERY_SEQUENCE))?.map((s) => s.toLowerCase());
  const targets = new Set<string>();
  for (const o of store.objects) for (const t of seqOf(o) ?? []) targets.add(t);

  const osLoaders: OsLoaderInfo[] = loaders
    .filter((o) => !targets.has(o.id))
    .map((o) => ({
      id: o.id,
      description: o.description,
      path: asString(elementValue(o, ELEMENT.PATH)),
      osDevice: asDevice(elementValue(o, ELEMENT.OSDEVICE)),
      recoverySequence: seqOf(o),
      recoveryEnabled: asBool(elementValue(o, ELEMENT.RECOVERY_ENABLED)),
      isDefault: o.id === defaultLoader,
      winpe: asBool(elementValue(o, ELEMENT.WINPE)),
    }));
  const resume = store.objects.find((o) => o.type === OBJECT_TYPE.RESUME && seqOf(o));
  const out: WinreDescription = { defaultLoader, osLoaders, problems, resumeRecoverySequence: resume ? seqOf(resume) : undefined };

  const primary = osLoaders.find((l) => l.isDefault && l.recoverySequence?.length) ?? osLoaders.find((l) => l.recoverySequence?.length);
  const reId = primary?.recoverySequence?.[0];
  if (!reId) return out;
  const re = findObject(store, reId);
  if (!re) {
    problems.push(`recoverysequence of ${primary.id} points at ${reId}, which is not in the store`);
    out.winreLoader = { id: reId, exists: false };
    return out;
  }
  const dev = asDevice(elementValue(re, ELEMENT.DEVICE));
  const osdev = asDevice(elementValue(re, ELEMENT.OSDEVICE));
  const rd = osdev?.kind === 'ramdisk' ? osdev : dev?.kind === 'ramdisk' ? dev : undefined;
  out.winreLoader = {
    id: re.id,
    exists: true,
    description: re.description,
    path: asString(elementValue(re, ELEMENT.PATH)),
    winpe: asBool(elementValue(re, ELEMENT.WINPE)),
    ramdisk: rd ? { device: rd.parent, path: rd.path, optionsId: rd.optionsId } : undefined,
    deviceText: osdev ? formatDevice(osdev) : dev ? formatDevice(dev) : undefined,
  };
  if (re.type !== OBJECT_TYPE.OSLOADER) problems.push(`WinRE object ${re.id} is of type ${re.typeName}, not osloader`);
  if (!rd) problems.push(`WinRE loader ${re.id} has no ramdisk device/osdevice`);
  if (dev && osdev && formatDevice(dev) !== formatDevice(osdev)) problems.push(`WinRE loader ${re.id}: device and osdevice differ`);
  if (primary.recoveryEnabled === false) problems.push(`recoveryenabled is No on ${primary.id}`);
  if (rd?.optionsId) {
    const opt = findObject(store, rd.optionsId);
    if (!opt) {
      problems.push(`ramdisk options object ${rd.optionsId} is not in the store`);
      out.ramdiskOptions = { id: rd.optionsId, exists: false };
    } else {
      out.ramdiskOptions = {
        id: opt.id,
        exists: true,
        description: opt.description,
        sdiDevice: asDevice(elementValue(opt, ELEMENT.RAMDISK_SDI_DEVICE)),
        sdiPath: asString(elementValue(opt, ELEMENT.RAMDISK_SDI_PATH)),
      };
      if (!out.ramdiskOptions.sdiDevice) problems.push(`ramdisk options ${opt.id} have no ramdisksdidevice`);
      if (!out.ramdiskOptions.sdiPath) problems.push(`ramdisk options ${opt.id} have no ramdisksdipath`);
      if (out.ramdiskOptions.sdiDevice && rd.parent && formatDevice(out.ramdiskOptions.sdiDevice) !== formatDevice(rd.parent)) {
        problems.push(`boot.sdi device and Winre.wim device differ`);
      }
    }
  } else if (rd) problems.push(`WinRE ramdisk has no device options GUID`);
  return out;
}
