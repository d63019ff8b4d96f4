// `disk show` as data: the JSON document of the schema and the readable table.
import { attributesString } from './roles.js';
import type { Layout, Partition } from '../model/disk.js';

export interface ShowPartitionJson {
  number: number;
  start: number;
  size: number;
  type: string;
  role: string;
  name?: string;
  attributes?: string;
  guid?: string;
  active: boolean;
  fs: string;
  label: string;
}

export interface ShowJson {
  scheme: 'gpt' | 'mbr';
  sectorSize: number;
  sizeBytes: number;
  diskGuid?: string;
  signature?: string;
  partitions: ShowPartitionJson[];
  free: { start: number; size: number }[];
}

/** FAT12/16/32 are reported as such; an extended container has no file system ("unknown"). */
function fsName(p: Partition): string {
  return p.volume?.fs ?? 'unknown';
}

export function showJson(l: Layout): ShowJson {
  const out: ShowJson = { scheme: l.scheme, sectorSize: l.sectorSize, sizeBytes: l.sizeBytes } as ShowJson;
  if (l.scheme === 'gpt') out.diskGuid = l.diskGuid!;
  else out.signature = '0x' + (l.signature ?? 0).toString(16).padStart(8, '0');
  out.partitions = l.partitions.map((p) => {
    const j: ShowPartitionJson = { number: p.number, start: p.start, size: p.size, type: p.type, role: p.role } as ShowPartitionJson;
    if (l.scheme === 'gpt') {
      j.name = p.name ?? '';
      j.attributes = attributesString(p.attributes ?? 0n);
      j.guid = p.guid!;
    }
    j.active = p.active;
    j.fs = fsName(p);
    j.label = p.volume?.label ?? '';
    return j;
  });
  out.free = l.free.map((f) => ({ start: f.start, size: f.size }));
  return out;
}

/** 1.50 GiB style sizes (binary units, as diskpart and sgdisk print them). */
export function humanSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}
function lpad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** The readable table. Callers pass the result through asciiSafe before printing. */
export function showText(l: Layout, name: string): string {
  const lines: string[] = [];
  const id = l.scheme === 'gpt' ? `disk GUID ${l.diskGuid}` : `signature 0x${(l.signature ?? 0).toString(16).padStart(8, '0')}`;
  lines.push(`Disk ${name}: ${l.scheme.toUpperCase()}, ${humanSize(l.sizeBytes)} (${l.sizeBytes} bytes), ${l.sectorSize}-byte sectors, ${id}`);
  lines.push('');
  const head = ['#', 'Start', 'Size', 'Role', 'FS', 'Label', l.scheme === 'gpt' ? 'Name' : 'Flags'];
  const rows = l.partitions.map((p) => [
    String(p.number),
    humanSize(p.start),
    humanSize(p.size),
    p.role,
    fsName(p),
    p.volume?.label ? `"${p.volume.label}"` : '',
    l.scheme === 'gpt' ? (p.name ? `"${p.name}"` : '') : [p.active ? 'active' : '', p.logical ? 'logical' : ''].filter(Boolean).join(','),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i <= 2 ? lpad(c, w[i]!) : pad(c, w[i]!)))
      .join('  ')
      .trimEnd();
  lines.push(fmt(head));
  l.partitions.forEach((p, k) => {
    lines.push(fmt(rows[k]!));
    const detail = l.scheme === 'gpt' ? `type ${p.type}  guid ${p.guid}  attributes ${attributesString(p.attributes ?? 0n)}` : `type ${p.type}`;
    const vol = p.volume;
    const extra: string[] = [`bytes ${p.start}+${p.size}`];
    if (vol?.serial) extra.push(`serial ${vol.serial}`);
    if (vol?.clusterSize) extra.push(`cluster ${vol.clusterSize}`);
    if (vol?.bitlocker) extra.push(`bitlocker ${vol.bitlocker}`);
    lines.push(`${' '.repeat(w[0]! + 2)}${detail}  ${extra.join('  ')}`);
  });
  if (l.partitions.length === 0) lines.push('(no partitions)');
  lines.push('');
  if (l.free.length === 0) lines.push('Free: none (1 MiB aligned)');
  else {
    lines.push('Free (1 MiB aligned):');
    for (const f of l.free) lines.push(`  at ${humanSize(f.start)} (byte ${f.start}): ${humanSize(f.size)} (${f.size} bytes)`);
  }
  return lines.join('\n') + '\n';
}
