// Partition plans as data, and validate(plan, layout): every check happens here, before any byte
// is written. A valid plan yields the exact layout the disk must have afterwards.
import { RefusedError } from '../shared/errors.js';
import { isGuid, randomGuid, ZERO_GUID } from '../shared/guid.js';
import { isExtendedType, MBR_TYPE } from './mbr.js';
import { gptFree, mbrFree } from './layout.js';
import { gptRole, mbrRole, mbrTypeString, parseMbrType, attributesString } from './roles.js';
import { type Layout, type Partition } from '../model/disk.js';
import { MiB } from '../shared/units.js';
import type { Plan } from '../model/disk.js';

export interface ValidatedPlan {
  before: Layout;
  /** The layout the disk must have after the plan (no volume info). */
  after: Layout;
  /** Numbers of partitions the plan deletes, changes or creates. */
  touched: Set<number>;
}

/** A plan that fails validation: every problem found, in plan order. Nothing was written. */
export class PlanError extends RefusedError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid plan, nothing written: ${problems.join('; ')}`, 'invalid-plan');
    this.problems = problems;
  }
}

const overlaps = (a: { start: number; size: number }, b: { start: number; size: number }) =>
  a.start < b.start + b.size && b.start < a.start + a.size;

function parseAttributes(a: string | bigint | undefined): bigint | undefined {
  if (a === undefined) return 0n;
  if (typeof a === 'bigint') return a >= 0n && a < 1n << 64n ? a : undefined;
  if (!/^0x[0-9a-f]{1,16}$/i.test(a)) return undefined;
  return BigInt(a);
}

const range = (p: { start: number; size: number }) => `[${p.start}, ${p.start + p.size})`;

export interface ValidateOptions {
  /** Source of unique GUIDs for new GPT partitions (default: random v4). */
  newGuid?: () => string;
}

export function validate(plan: Plan, layout: Layout, opts: ValidateOptions = {}): ValidatedPlan {
  const problems: string[] = [];
  const ss = layout.sectorSize;
  const gpt = layout.scheme === 'gpt';
  const strip = (p: Partition): Partition => {
    const { volume: _v, ...rest } = p;
    void _v;
    return { ...rest };
  };
  let parts = layout.partitions.map(strip);
  const touched = new Set<number>();
  const named = new Set<number>();
  const ebrOffsets = new Map(layout.mbr?.ebrOffsets ?? []);
  if (!plan || !Array.isArray(plan.ops)) throw new PlanError(['plan has no "ops" array']);

  const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n);
  const byNumber = (n: number) => parts.find((p) => p.number === n);

  // 1. Deletes and shrinks name existing partitions, each at most once.
  const ops = plan.ops;
  ops.forEach((op, i) => {
    const at = `op ${i + 1} (${(op as { op?: string }).op ?? '?'})`;
    if (op.op !== 'delete' && op.op !== 'shrink' && op.op !== 'create') {
      problems.push(`${at}: unknown operation`);
      return;
    }
    if (op.op === 'create') return;
    if (!isInt(op.partition) || !byNumber(op.partition)) {
      problems.push(`${at}: no partition ${String(op.partition)} on this disk`);
      return;
    }
    if (named.has(op.partition)) {
      problems.push(`${at}: partition ${op.partition} is named twice in the plan`);
      return;
    }
    named.add(op.partition);
  });

  for (const [i, op] of ops.entries()) {
    if (op.op !== 'delete' || !byNumber(op.partition)) continue;
    const p = byNumber(op.partition)!;
    if (!gpt && p.logical) {
      const later = parts.filter((q) => q.logical && q.number > p.number && !ops.some((o) => o.op === 'delete' && o.partition === q.number));
      if (later.length) {
        problems.push(`op ${i + 1} (delete): deleting logical partition ${p.number} would renumber partition${later.length > 1 ? 's' : ''} ${later.map((q) => q.number).join(', ')}; not supported`);
        continue;
      }
    }
    if (!gpt && p.role === 'extended') {
      const kept = parts.filter((q) => q.logical && !ops.some((o) => o.op === 'delete' && o.partition === q.number));
      if (kept.length) {
        problems.push(`op ${i + 1} (delete): extended partition ${p.number} still holds logical partition${kept.length > 1 ? 's' : ''} ${kept.map((q) => q.number).join(', ')}`);
        continue;
      }
    }
    touched.add(p.number);
  }
  parts = parts.filter((p) => !(touched.has(p.number) && ops.some((o) => o.op === 'delete' && o.partition === p.number)));
  for (const n of touched) ebrOffsets.delete(n);

  for (const [i, op] of ops.entries()) {
    if (op.op !== 'shrink') continue;
    const p = byNumber(op.partition);
    if (!p) continue;
    const at = `op ${i + 1} (shrink ${p.number})`;
    if (!isInt(op.bytes) || op.bytes <= 0) {
      problems.push(`${at}: bytes must be a positive integer`);
      continue;
    }
    if (op.bytes % MiB !== 0) {
      problems.push(`${at}: ${op.bytes} bytes is not a multiple of 1 MiB (misaligned)`);
      continue;
    }
    if (p.role === 'extended') {
      problems.push(`${at}: shrinking an extended partition is not supported`);
      continue;
    }
    if (op.bytes + MiB > p.size) {
      problems.push(`${at}: partition is ${p.size} bytes; shrinking by ${op.bytes} leaves less than 1 MiB`);
      continue;
    }
    p.size -= op.bytes;
    touched.add(p.number);
  }

  // 2. Creates, in plan order, against what remains.
  const diskEnd = gpt ? (layout.gpt!.lastUsableLba + 1) * ss : Math.min(layout.sizeBytes, 2 ** 32 * ss);
  const diskStart = gpt ? layout.gpt!.firstUsableLba * ss : ss;
  const guids = new Set(parts.map((p) => p.guid).filter((g): g is string => !!g));
  const newGuid = opts.newGuid ?? randomGuid;
  for (const [i, op] of ops.entries()) {
    if (op.op !== 'create') continue;
    const at = `op ${i + 1} (create)`;
    const bad = (m: string) => problems.push(`${at}: ${m}`);
    if (!isInt(op.start) || !isInt(op.end) || op.start < 0 || op.end <= op.start) {
      bad(`start ${String(op.start)} and end ${String(op.end)} must be integers with start < end`);
      continue;
    }
    const reg = { start: op.start, size: op.end - op.start };
    if (op.start % MiB !== 0) {
      bad(`start ${op.start} is not aligned to 1 MiB`);
      continue;
    }
    const ext = gpt ? undefined : parts.find((p) => p.role === 'extended');
    const regionEnd = op.logical && ext ? ext.start + ext.size : diskEnd;
    if (op.end % MiB !== 0 && op.end !== regionEnd) {
      bad(`end ${op.end} is not aligned to 1 MiB (nor the end of the usable area, ${regionEnd})`);
      continue;
    }
    if (reg.size % ss !== 0) {
      bad(`size ${reg.size} is not a multiple of the ${ss}-byte sector`);
      continue;
    }
    if (op.start < diskStart || op.end > diskEnd) {
      bad(`${range(reg)} is outside the usable area [${diskStart}, ${diskEnd})`);
      continue;
    }
    if (gpt) {
      if (typeof op.type !== 'string' || !isGuid(op.type) || op.type.toLowerCase() === ZERO_GUID) {
        bad(`type "${String(op.type)}" is not a GPT type GUID`);
        continue;
      }
      if (op.active || op.logical) {
        bad(`"active" and "logical" are MBR-only`);
        continue;
      }
      const attributes = parseAttributes(op.attributes);
      if (attributes === undefined) {
        bad(`attributes ${String(op.attributes)} are not a 64-bit 0x-hex value`);
        continue;
      }
      const name = op.name ?? '';
      if (typeof name !== 'string' || name.length > 36) {
        bad(`name is longer than 36 UTF-16 code units`);
        continue;
      }
      const guid = (op.guid ?? newGuid()).toLowerCase();
      if (!isGuid(guid) || guid === ZERO_GUID) {
        bad(`unique GUID "${String(op.guid)}" is not a valid GUID`);
        continue;
      }
      if (guids.has(guid)) {
        bad(`unique GUID ${guid} is already used by another partition`);
        continue;
      }
      const hit = parts.find((p) => overlaps(p, reg));
      if (hit) {
        bad(`${range(reg)} overlaps partition ${hit.number} ${range(hit)}`);
        continue;
      }
      let idx = 0;
      while (parts.some((p) => p.number === idx + 1)) idx++;
      if (idx >= layout.gpt!.entryCount) {
        bad(`the GPT entry array is full (${layout.gpt!.entryCount} entries)`);
        continue;
      }
      const type = op.type.toLowerCase();
      guids.add(guid);
      parts.push({ number: idx + 1, start: reg.start, size: reg.size, type, role: gptRole(type), name, attributes, guid, active: false });
      touched.add(idx + 1);
      continue;
    }
    // MBR
    const t = typeof op.type === 'string' ? parseMbrType(op.type) : undefined;
    if (t === undefined || t === 0) {
      bad(`type "${String(op.type)}" is not an MBR partition type byte like 0x27`);
      continue;
    }
    if (t === MBR_TYPE.GPT_PROTECTIVE) {
      bad(`type 0xee (GPT protective) cannot be created`);
      continue;
    }
    if (op.attributes !== undefined || op.name !== undefined || op.guid !== undefined) {
      bad(`attributes, name and unique GUID are GPT-only`);
      continue;
    }
    if (reg.start / ss >= 2 ** 32 || reg.size / ss >= 2 ** 32) {
      bad(`${range(reg)} is beyond what MBR can address (2^32 sectors)`);
      continue;
    }
    if (op.active && parts.some((p) => p.active)) {
      const a = parts.find((p) => p.active)!;
      bad(`partition ${a.number} is already active; clearing its flag is not part of this plan`);
      continue;
    }
    if (op.logical) {
      if (!ext) {
        bad(`no extended partition to hold a logical partition`);
        continue;
      }
      if (isExtendedType(t)) {
        bad(`a logical partition cannot have an extended type`);
        continue;
      }
      if (reg.start <= ext.start || reg.start + reg.size > ext.start + ext.size) {
        bad(`${range(reg)} is not inside the extended partition ${ext.number} ${range(ext)} (one sector for its EBR first)`);
        continue;
      }
      const logicals = parts.filter((p) => p.logical).sort((a, b) => a.number - b.number);
      const last = logicals[logicals.length - 1];
      let ebr: number;
      if (!last) {
        ebr = ext.start;
      } else {
        const prevEnd = last.start + last.size;
        if (reg.start <= prevEnd) {
          bad(`${range(reg)} must come after the last logical partition ${last.number} ${range(last)} with a sector for its EBR`);
          continue;
        }
        ebr = reg.start - MiB >= prevEnd ? reg.start - MiB : reg.start - ss;
      }
      const number = 5 + logicals.length;
      parts.push({ number, start: reg.start, size: reg.size, type: mbrTypeString(t), role: mbrRole(t), active: !!op.active, logical: true });
      ebrOffsets.set(number, ebr);
      touched.add(number);
      continue;
    }
    const hit = parts.find((p) => overlaps(p, reg));
    if (hit) {
      bad(`${range(reg)} overlaps partition ${hit.number} ${range(hit)}`);
      continue;
    }
    if (isExtendedType(t) && ext) {
      bad(`there is already an extended partition (${ext.number})`);
      continue;
    }
    let slot = 1;
    while (slot <= 4 && parts.some((p) => !p.logical && p.number === slot)) slot++;
    if (slot > 4) {
      bad(`a fifth primary partition: MBR holds four (use a logical partition)`);
      continue;
    }
    parts.push({ number: slot, start: reg.start, size: reg.size, type: mbrTypeString(t), role: mbrRole(t), active: !!op.active });
    touched.add(slot);
  }

  if (problems.length) throw new PlanError(problems);
  parts.sort((a, b) => a.number - b.number);
  const after: Layout = {
    scheme: layout.scheme,
    sectorSize: ss,
    sizeBytes: layout.sizeBytes,
    diskGuid: layout.diskGuid,
    signature: layout.signature,
    partitions: parts,
    free: [],
    gpt: layout.gpt,
  };
  if (gpt) {
    after.free = gptFree({ partitions: parts, sectorSize: ss, gpt: layout.gpt! });
  } else {
    const extP = parts.find((p) => p.role === 'extended');
    after.mbr = { extendedNumber: extP?.number ?? 0, ebrOffsets };
    after.free = mbrFree(after);
  }
  return { before: layout, after, touched };
}

/** The fields a partition table stores (what the re-read after writing must reproduce). */
export function tableFields(p: Partition): string {
  return [
    p.number,
    p.start,
    p.size,
    p.type,
    p.name ?? '',
    p.attributes === undefined ? '' : attributesString(p.attributes),
    p.guid ?? '',
    p.active,
    !!p.logical,
  ].join('|');
}
