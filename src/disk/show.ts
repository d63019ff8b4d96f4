// `disk show` as data: the JSON document of the schema and the readable table.
import { attributesString } from './roles.js';
import type { Layout, Partition } from '../model/disk.js';
import { asciiSafe, DEFAULT_WIDTH } from '../shared/style.js';

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

/**
 * The readable table, at most `width` columns (80 by default, the console's otherwise): one row per
 * partition (number, start, size, role, file system, label), then its details packed into
 * indented lines (name or flags, type, GUID, attributes, byte range, volume facts). Names and
 * labels are made ASCII-safe here, before the layout measures them.
 */
export function showText(l: Layout, name: string, width = DEFAULT_WIDTH): string {
  const lines: string[] = [];
  const id = l.scheme === 'gpt' ? `disk GUID ${l.diskGuid}` : `signature 0x${(l.signature ?? 0).toString(16).padStart(8, '0')}`;
  const head = `Disk ${asciiSafe(name)}:`;
  const what = `${l.scheme.toUpperCase()}, ${humanSize(l.sizeBytes)} (${l.sizeBytes} bytes), ${l.sectorSize}-byte sectors`;
  // The device's name on a line of its own when the line would not fit (a long image path).
  lines.push(...(head.length + 1 + what.length <= width ? [`${head} ${what}`] : [head, `  ${what}`]), `  ${id}`);
  lines.push('');
  const label = (p: Partition) => (p.volume?.label ? `"${asciiSafe(p.volume.label)}"` : '');
  const row = (p: Partition) => [String(p.number), humanSize(p.start), humanSize(p.size), p.role, fsName(p), label(p)];
  const table = (cols: number) => {
    const head = ['#', 'Start', 'Size', 'Role', 'FS', 'Label'].slice(0, cols);
    const rows = l.partitions.map((p) => row(p).slice(0, cols));
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const fmt = (r: string[]) =>
      r
        .map((c, i) => (i <= 2 ? lpad(c, w[i]!) : pad(c, w[i]!)))
        .join('  ')
        .trimEnd();
    return { head: fmt(head), rows: rows.map(fmt), indent: w[0]! + 2 };
  };
  // A long label that would pass the width goes to the details instead.
  let t = table(6);
  const labelInDetails = Math.max(t.head.length, ...t.rows.map((r) => r.length)) > width;
  if (labelInDetails) t = table(5);
  lines.push(t.head);
  l.partitions.forEach((p, k) => {
    lines.push(t.rows[k]!);
    // Groups of details, each group starting a line: what the table says, the identity, the volume.
    const label1 = labelInDetails && p.volume?.label ? [`label ${label(p)}`] : [];
    const vol = p.volume;
    const volume = [
      vol?.serial ? `serial ${vol.serial}` : '',
      vol?.clusterSize ? `cluster ${vol.clusterSize}` : '',
      vol?.bitlocker ? `bitlocker ${vol.bitlocker}` : '',
    ].filter(Boolean);
    const groups =
      l.scheme === 'gpt'
        ? [
            [`type ${p.type}`, `attributes ${attributesString(p.attributes ?? 0n)}`],
            [`guid ${p.guid}`, ...(p.name ? [`name "${asciiSafe(p.name)}"`] : []), ...label1],
            [`bytes ${p.start}+${p.size}`, ...volume],
          ]
        : [
            [`type ${p.type}`, ...(p.active ? ['active'] : []), ...(p.logical ? ['logical'] : []), ...label1],
            [`bytes ${p.start}+${p.size}`, ...volume],
          ];
    for (const g of groups) lines.push(...pack(g, width, t.indent));
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

/** Items (never split) on lines of at most `width`, two spaces apart, each line indented. */
function pack(items: string[], width: number, indent: number): string[] {
  const pre = ' '.repeat(indent);
  const out: string[] = [];
  let line = '';
  for (const it of items) {
    if (line && indent + line.length + 2 + it.length > width) {
      out.push(pre + line);
      line = it;
    } else line = line ? `${line}  ${it}` : it;
  }
  if (line) out.push(pre + line);
  return out;
}
