// Virtual-disk containers, recognised by their content (never by the file name): VHD (fixed,
// dynamic, differencing), VHDX, VMDK (sparse extent or descriptor), qcow2 and VDI. Only the headers
// are read, through `read`, and every field is bounded: a hostile header gives a container of that
// format with what could be read, never a huge allocation or a read past the file.
//
// Issue #18 attaches these through QEMU; until then wufix uses this to say what a file is, instead
// of reading a container's header as a raw disk ("no partition table"), and reads a fixed VHD (a raw
// disk followed by a 512-byte footer) as the raw disk it holds.

export type ContainerFormat = 'raw' | 'vhd' | 'vhdx' | 'vmdk' | 'qcow2' | 'vdi';

export interface ContainerInfo {
  format: ContainerFormat;
  /** The variant: VHD fixed/dynamic/differencing, VMDK createType, qcow2 version, VDI image type. */
  variant?: string;
  /** The size of the disk inside, in bytes, when the header says it. */
  virtualSize?: number;
  /** A parent the image reads through (qcow2 backing file, VMDK parentFileNameHint, differencing VHD/VHDX, VDI diff). */
  backing?: string;
  /** For a fixed VHD: the bytes of the raw disk before the footer. */
  rawBytes?: number;
  /** Who uses the format, for messages. */
  label: string;
}

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
export type ReadAt = (offset: number, length: number) => Uint8Array;

const LABEL: Record<ContainerFormat, string> = {
  raw: 'raw disk image',
  vhd: 'VHD virtual disk (Virtual PC, Azure, older Hyper-V)',
  vhdx: 'VHDX virtual disk (Hyper-V)',
  vmdk: 'VMDK virtual disk (VMware)',
  qcow2: 'qcow2 virtual disk (QEMU/KVM)',
  vdi: 'VDI virtual disk (VirtualBox)',
};

/** The largest header text read (a VMDK descriptor, a backing file name). */
const MAX_TEXT = 64 * 1024;
/** Sizes above this (2^60 bytes) are not believed. */
const MAX_SIZE = 2 ** 60;

const ascii = (b: Uint8Array, from = 0, to = b.length) => String.fromCharCode(...b.subarray(from, Math.min(to, b.length)));
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u64be = (b: Uint8Array, at: number) => (b.length >= at + 8 ? Number(view(b).getBigUint64(at, false)) : undefined);
const u64le = (b: Uint8Array, at: number) => (b.length >= at + 8 ? Number(view(b).getBigUint64(at, true)) : undefined);
const u32be = (b: Uint8Array, at: number) => (b.length >= at + 4 ? view(b).getUint32(at, false) : undefined);
const u32le = (b: Uint8Array, at: number) => (b.length >= at + 4 ? view(b).getUint32(at, true) : undefined);
const sane = (n: number | undefined) => (n !== undefined && Number.isSafeInteger(n) && n > 0 && n <= MAX_SIZE ? n : undefined);
const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');

function info(format: ContainerFormat, fields: Omit<ContainerInfo, 'format' | 'label'> = {}): ContainerInfo {
  const out: ContainerInfo = { format, label: LABEL[format] };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/** What `fileSize` bytes read through `read` are: a container format, or raw. */
export function detectContainer(read: ReadAt, fileSize: number): ContainerInfo {
  const head = read(0, Math.min(fileSize, 512));
  if (ascii(head, 0, 8) === 'vhdxfile') return vhdx(read, fileSize);
  if (ascii(head, 0, 4) === 'QFI\xfb') return qcow2(head, read, fileSize);
  if (ascii(head, 0, 4) === 'KDMV') return vmdkSparse(head, read, fileSize);
  if (u32le(head, 0x40) === 0xbeda107f) return vdi(head);
  if (ascii(head, 0, 21) === '# Disk DescriptorFile') return vmdkDescriptor(ascii(read(0, Math.min(fileSize, MAX_TEXT))));
  // A dynamic or differencing VHD has a copy of the footer at byte 0; a fixed one only at the end.
  if (ascii(head, 0, 8) === 'conectix') return vhd(head, fileSize);
  if (fileSize >= 1024 && fileSize % 512 === 0) {
    const foot = read(fileSize - 512, 512);
    if (ascii(foot, 0, 8) === 'conectix') return vhd(foot, fileSize);
  }
  return info('raw');
}

/** The VHD footer (big-endian): current size at 48, disk type at 60 (2 fixed, 3 dynamic, 4 differencing). */
function vhd(foot: Uint8Array, fileSize: number): ContainerInfo {
  const type = u32be(foot, 60);
  const variant = type === 2 ? 'fixed' : type === 3 ? 'dynamic' : type === 4 ? 'differencing' : `type ${type ?? '?'}`;
  const virtualSize = sane(u64be(foot, 48));
  // Fixed: the raw disk is every byte before the footer, and the footer says how many.
  const rawBytes = type === 2 && virtualSize !== undefined && virtualSize === fileSize - 512 ? virtualSize : undefined;
  return info('vhd', { variant, virtualSize, rawBytes, backing: type === 4 ? '(parent VHD)' : undefined });
}

/** qcow2 header (big-endian): version at 4, backing file offset/size at 8/16, virtual size at 24. */
function qcow2(head: Uint8Array, read: ReadAt, fileSize: number): ContainerInfo {
  const version = u32be(head, 4);
  const virtualSize = sane(u64be(head, 24));
  const boff = u64be(head, 8) ?? 0;
  const bsize = u32be(head, 16) ?? 0;
  let backing: string | undefined;
  if (boff > 0 && bsize > 0 && bsize <= 1023 && boff + bsize <= fileSize) backing = printable(ascii(read(boff, bsize)));
  return info('qcow2', { variant: version === undefined ? undefined : `v${version}`, virtualSize, backing });
}

/** VMDK sparse extent header (little-endian): capacity in sectors at 12, the embedded descriptor at 28/36 (sectors). */
function vmdkSparse(head: Uint8Array, read: ReadAt, fileSize: number): ContainerInfo {
  const capacity = u64le(head, 12);
  const descOff = (u64le(head, 28) ?? 0) * 512;
  const descLen = Math.min((u64le(head, 36) ?? 0) * 512, MAX_TEXT);
  let text = '';
  if (descOff > 0 && descLen > 0 && descOff + descLen <= fileSize) text = ascii(read(descOff, descLen)).replace(/\0[\s\S]*$/, '');
  const d = text ? descriptorFields(text) : {};
  const virtualSize = sane(capacity === undefined ? undefined : capacity * 512);
  return info('vmdk', { variant: d.createType ?? 'sparse extent', virtualSize, backing: d.parent });
}

/** A VMDK descriptor file: createType, the extents (sizes in sectors), the parent. */
function vmdkDescriptor(text: string): ContainerInfo {
  const d = descriptorFields(text);
  return info('vmdk', { variant: d.createType ?? 'descriptor', virtualSize: sane(d.sectors ? d.sectors * 512 : undefined), backing: d.parent });
}

function descriptorFields(text: string): { createType?: string; sectors?: number; parent?: string } {
  const out: { createType?: string; sectors?: number; parent?: string } = {};
  let sectors = 0;
  for (const line of text.split(/\r?\n/).slice(0, 4096)) {
    const ct = /^\s*createType\s*=\s*"([^"]{1,64})"/.exec(line);
    if (ct) out.createType = printable(ct[1]!);
    const parent = /^\s*parentFileNameHint\s*=\s*"([^"]{1,1024})"/.exec(line);
    if (parent) out.parent = printable(parent[1]!);
    const extent = /^\s*(RW|RDONLY|NOACCESS)\s+(\d{1,19})\s+\w+/.exec(line);
    if (extent) sectors += Number(extent[2]);
  }
  if (sectors > 0 && Number.isSafeInteger(sectors)) out.sectors = sectors;
  return out;
}

/** VDI header (little-endian, after the 64-byte banner): image type at 0x4C, disk size at 0x170. */
function vdi(head: Uint8Array): ContainerInfo {
  const type = u32le(head, 0x4c);
  const variant = type === 1 ? 'dynamic' : type === 2 ? 'fixed' : type === 3 ? 'undo' : type === 4 ? 'differencing' : `type ${type ?? '?'}`;
  return info('vdi', { variant, virtualSize: sane(u64le(head, 0x170)), backing: type === 4 ? '(parent VDI)' : undefined });
}

// VHDX: the region table at 192 KiB names the metadata region; its table (signature "metadata")
// holds the virtual disk size item and, in a differencing disk, the parent locator.
const REGION_TABLE = 192 * 1024;
const METADATA_REGION = '8b7ca206-4790-4b9a-b8fe-575f050f886e';
const VIRTUAL_DISK_SIZE = '2fa54224-cd1b-4876-b211-5dbed83bf4b8';
const PARENT_LOCATOR = 'a8d35f2d-b30b-454d-abf7-d3d84834ab0c';

/** A GUID as Windows writes it (first three fields little-endian), lower case. */
function guid(b: Uint8Array, at: number): string {
  const h = (i: number) => b[at + i]!.toString(16).padStart(2, '0');
  const le = (i: number, n: number) => Array.from({ length: n }, (_, k) => h(i + n - 1 - k)).join('');
  const be = (i: number, n: number) => Array.from({ length: n }, (_, k) => h(i + k)).join('');
  return `${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${be(8, 2)}-${be(10, 6)}`;
}

function vhdx(read: ReadAt, fileSize: number): ContainerInfo {
  if (fileSize < REGION_TABLE + 64 * 1024) return info('vhdx');
  const rt = read(REGION_TABLE, 64 * 1024);
  if (ascii(rt, 0, 4) !== 'regi') return info('vhdx');
  const count = Math.min(u32le(rt, 8) ?? 0, 2047);
  let meta: { off: number; len: number } | undefined;
  for (let i = 0; i < count; i++) {
    const at = 16 + i * 32;
    if (at + 32 > rt.length) break;
    if (guid(rt, at) === METADATA_REGION) meta = { off: u64le(rt, at + 16) ?? 0, len: u32le(rt, at + 24) ?? 0 };
  }
  if (!meta || meta.off <= 0 || meta.off + 64 * 1024 > fileSize) return info('vhdx');
  const table = read(meta.off, 64 * 1024);
  if (ascii(table, 0, 8) !== 'metadata') return info('vhdx');
  const entries = Math.min(view(table).getUint16(10, true), 2047);
  let virtualSize: number | undefined;
  let differencing = false;
  for (let i = 0; i < entries; i++) {
    const at = 32 + i * 32;
    if (at + 32 > table.length) break;
    const id = guid(table, at);
    const off = u32le(table, at + 16) ?? 0;
    if (id === PARENT_LOCATOR) differencing = true;
    if (id === VIRTUAL_DISK_SIZE && off >= 64 * 1024 && meta.off + off + 8 <= fileSize) virtualSize = sane(u64le(read(meta.off + off, 8), 0));
  }
  return info('vhdx', { variant: differencing ? 'differencing' : undefined, virtualSize, backing: differencing ? '(parent VHDX)' : undefined });
}

/** "VHDX virtual disk (Hyper-V), virtual size 127 GiB" for messages. */
export function describeContainer(c: ContainerInfo, fmtSize: (n: number) => string): string {
  const variant = c.variant ? ` ${c.variant}` : '';
  const size = c.virtualSize !== undefined ? `, virtual size ${fmtSize(c.virtualSize)}` : '';
  const backing = c.backing ? `, reads through ${c.backing}` : '';
  return `${c.label}${variant}${size}${backing}`;
}
