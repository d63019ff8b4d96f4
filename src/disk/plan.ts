// Partition plans as data, and validate(plan, layout): every check happens here, before any byte
// is written. A valid plan yields the exact layout the disk must have afterwards.
import { RefusedError } from '../shared/errors.js';
import { isGuid, randomGuid, ZERO_GUID } from '../shared/guid.js';
import { isExtendedType, MBR_TYPE } from './mbr.js';
import { gptFree, mbrFree } from './layout.js';
import { gptRole, mbrRole, mbrTypeString, parseMbrType, attributesString } from './roles.js';
import { type Layout, type Partition } from '../model/disk.js';
import { MiB } from '../shared/units.js';
import type { Plan, PlanOp } from '../model/disk.js';

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

const overlaps = (a: { start: number; size: number }, b: { start: number; size: number }) => a.start < b.start + b.size && b.start < a.start + a.size;

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

/** The plan being validated: the partitions as they become, and every problem found so far. */
interface Check {
  layout: Layout;
  ops: PlanOp[];
  ss: number;
  gpt: boolean;
  parts: Partition[];
  touched: Set<number>;
  ebrOffsets: Map<number, number>;
  problems: string[];
}

type CreateOp = Extract<PlanOp, { op: 'create' }>;
type Region = { start: number; size: number };

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n);
const byNumber = (v: Check, n: number) => v.parts.find((p) => p.number === n);
const isDeleted = (v: Check, n: number) => v.ops.some((o) => o.op === 'delete' && o.partition === n);

/**
 * Check `plan` against `layout` and compute the layout after it: 1. deletes and shrinks name
 * existing partitions once; deletes; shrinks; 2. creates, in plan order, against what remains.
 * Throws a PlanError listing every problem.
 */
export function validate(plan: Plan, layout: Layout, opts: ValidateOptions = {}): ValidatedPlan {
  const strip = (p: Partition): Partition => {
    const { volume: _v, ...rest } = p;
    void _v;
    return { ...rest };
  };
  if (!plan || !Array.isArray(plan.ops)) throw new PlanError(['plan has no "ops" array']);
  const v: Check = {
    layout,
    ops: plan.ops,
    ss: layout.sectorSize,
    gpt: layout.scheme === 'gpt',
    parts: layout.partitions.map(strip),
    touched: new Set<number>(),
    ebrOffsets: new Map(layout.mbr?.ebrOffsets ?? []),
    problems: [],
  };
  checkNamedOnce(v);
  applyDeletes(v);
  applyShrinks(v);
  applyCreates(v, opts.newGuid ?? randomGuid);
  if (v.problems.length) throw new PlanError(v.problems);
  return { before: layout, after: layoutAfter(v), touched: v.touched };
}

/** 1. Deletes and shrinks name existing partitions, each at most once; unknown operations are refused. */
function checkNamedOnce(v: Check): void {
  const named = new Set<number>();
  v.ops.forEach((op, i) => {
    const at = `op ${i + 1} (${(op as { op?: string }).op ?? '?'})`;
    if (op.op !== 'delete' && op.op !== 'shrink' && op.op !== 'create') {
      v.problems.push(`${at}: unknown operation`);
      return;
    }
    if (op.op === 'create') return;
    if (!isInt(op.partition) || !byNumber(v, op.partition)) {
      v.problems.push(`${at}: no partition ${String(op.partition)} on this disk`);
      return;
    }
    if (named.has(op.partition)) {
      v.problems.push(`${at}: partition ${op.partition} is named twice in the plan`);
      return;
    }
    named.add(op.partition);
  });
}

/** Why deleting `p` is refused (MBR: renumbering logicals, an extended partition not emptied). */
function deleteProblem(v: Check, p: Partition): string | undefined {
  if (v.gpt) return undefined;
  if (p.logical) {
    const later = v.parts.filter((q) => q.logical && q.number > p.number && !isDeleted(v, q.number));
    if (later.length)
      return `deleting logical partition ${p.number} would renumber partition${later.length > 1 ? 's' : ''} ${later.map((q) => q.number).join(', ')}; not supported`;
  }
  if (p.role === 'extended') {
    const kept = v.parts.filter((q) => q.logical && !isDeleted(v, q.number));
    if (kept.length) return `extended partition ${p.number} still holds logical partition${kept.length > 1 ? 's' : ''} ${kept.map((q) => q.number).join(', ')}`;
  }
  return undefined;
}

/** The deletes: each allowed one leaves the layout (and its EBR offset with it). */
function applyDeletes(v: Check): void {
  for (const [i, op] of v.ops.entries()) {
    if (op.op !== 'delete') continue;
    const p = byNumber(v, op.partition);
    if (!p) continue;
    const problem = deleteProblem(v, p);
    if (problem) {
      v.problems.push(`op ${i + 1} (delete): ${problem}`);
      continue;
    }
    v.touched.add(p.number);
  }
  v.parts = v.parts.filter((p) => !(v.touched.has(p.number) && isDeleted(v, p.number)));
  for (const n of v.touched) v.ebrOffsets.delete(n);
}

/** Why shrinking `p` by `bytes` is refused. */
function shrinkProblem(p: Partition, bytes: unknown): string | undefined {
  if (!isInt(bytes) || bytes <= 0) return 'bytes must be a positive integer';
  if (bytes % MiB !== 0) return `${bytes} bytes is not a multiple of 1 MiB (misaligned)`;
  if (p.role === 'extended') return 'shrinking an extended partition is not supported';
  if (bytes + MiB > p.size) return `partition is ${p.size} bytes; shrinking by ${bytes} leaves less than 1 MiB`;
  return undefined;
}

/** The shrinks: each allowed one takes its bytes off the partition's end. */
function applyShrinks(v: Check): void {
  for (const [i, op] of v.ops.entries()) {
    if (op.op !== 'shrink') continue;
    const p = byNumber(v, op.partition);
    if (!p) continue;
    const problem = shrinkProblem(p, op.bytes);
    if (problem) {
      v.problems.push(`op ${i + 1} (shrink ${p.number}): ${problem}`);
      continue;
    }
    p.size -= op.bytes;
    v.touched.add(p.number);
  }
}

/** Where partitions may lie: GPT's usable LBAs, MBR's sectors after the first (at most 2^32). */
function usableArea(v: Check): { diskStart: number; diskEnd: number } {
  const { layout, ss } = v;
  if (v.gpt) {
    const g = gptHeader(layout);
    return { diskStart: g.firstUsableLba * ss, diskEnd: (g.lastUsableLba + 1) * ss };
  }
  return { diskStart: ss, diskEnd: Math.min(layout.sizeBytes, 2 ** 32 * ss) };
}

function gptHeader(layout: Layout): NonNullable<Layout['gpt']> {
  if (!layout.gpt) throw new PlanError(['GPT layout without its header']);
  return layout.gpt;
}

/** 2. Creates, in plan order, against what remains. */
function applyCreates(v: Check, newGuid: () => string): void {
  const area = usableArea(v);
  const guids = new Set(v.parts.map((p) => p.guid).filter((g): g is string => !!g));
  for (const [i, op] of v.ops.entries()) {
    if (op.op !== 'create') continue;
    const bad = (m: string) => v.problems.push(`op ${i + 1} (create): ${m}`);
    const reg = createRegion(v, op, area, bad);
    if (!reg) continue;
    if (v.gpt) createGpt(v, op, reg, guids, newGuid, bad);
    else createMbr(v, op, reg, bad);
  }
}

/** The region of a create: whole integers, 1 MiB aligned, whole sectors, inside the usable area. */
function createRegion(v: Check, op: CreateOp, area: { diskStart: number; diskEnd: number }, bad: (m: string) => void): Region | undefined {
  const { diskStart, diskEnd } = area;
  if (!isInt(op.start) || !isInt(op.end) || op.start < 0 || op.end <= op.start) {
    bad(`start ${String(op.start)} and end ${String(op.end)} must be integers with start < end`);
    return undefined;
  }
  const reg = { start: op.start, size: op.end - op.start };
  if (op.start % MiB !== 0) {
    bad(`start ${op.start} is not aligned to 1 MiB`);
    return undefined;
  }
  const ext = v.gpt ? undefined : v.parts.find((p) => p.role === 'extended');
  const regionEnd = op.logical && ext ? ext.start + ext.size : diskEnd;
  if (op.end % MiB !== 0 && op.end !== regionEnd) {
    bad(`end ${op.end} is not aligned to 1 MiB (nor the end of the usable area, ${regionEnd})`);
    return undefined;
  }
  if (reg.size % v.ss !== 0) {
    bad(`size ${reg.size} is not a multiple of the ${v.ss}-byte sector`);
    return undefined;
  }
  if (op.start < diskStart || op.end > diskEnd) {
    bad(`${range(reg)} is outside the usable area [${diskStart}, ${diskEnd})`);
    return undefined;
  }
  return reg;
}

/** Why the GPT fields of a create are refused (type, MBR-only flags, attributes, name). */
function gptFieldsProblem(op: CreateOp): string | undefined {
  if (typeof op.type !== 'string' || !isGuid(op.type) || op.type.toLowerCase() === ZERO_GUID) return `type "${String(op.type)}" is not a GPT type GUID`;
  if (op.active || op.logical) return `"active" and "logical" are MBR-only`;
  if (parseAttributes(op.attributes) === undefined) return `attributes ${String(op.attributes)} are not a 64-bit 0x-hex value`;
  const name = op.name ?? '';
  if (typeof name !== 'string' || name.length > 36) return `name is longer than 36 UTF-16 code units`;
  return undefined;
}

/** A GPT create: its fields, a unique GUID not used yet, no overlap, a free entry. */
function createGpt(v: Check, op: CreateOp, reg: Region, guids: Set<string>, newGuid: () => string, bad: (m: string) => void): void {
  const problem = gptFieldsProblem(op);
  if (problem) return void bad(problem);
  const guid = (op.guid ?? newGuid()).toLowerCase();
  if (!isGuid(guid) || guid === ZERO_GUID) return void bad(`unique GUID "${String(op.guid)}" is not a valid GUID`);
  if (guids.has(guid)) return void bad(`unique GUID ${guid} is already used by another partition`);
  const hit = v.parts.find((p) => overlaps(p, reg));
  if (hit) return void bad(`${range(reg)} overlaps partition ${hit.number} ${range(hit)}`);
  let idx = 0;
  while (v.parts.some((p) => p.number === idx + 1)) idx++;
  const entryCount = gptHeader(v.layout).entryCount;
  if (idx >= entryCount) return void bad(`the GPT entry array is full (${entryCount} entries)`);
  const type = op.type.toLowerCase();
  const attributes = parseAttributes(op.attributes) ?? 0n; // checked by gptFieldsProblem
  guids.add(guid);
  v.parts.push({ number: idx + 1, start: reg.start, size: reg.size, type, role: gptRole(type), name: op.name ?? '', attributes, guid, active: false });
  v.touched.add(idx + 1);
}

/** Why the MBR fields of a create are refused (type byte, GPT-only fields, 2^32 sectors, a second active). */
function mbrFieldsProblem(v: Check, op: CreateOp, reg: Region, t: number | undefined): string | undefined {
  if (t === undefined || t === 0) return `type "${String(op.type)}" is not an MBR partition type byte like 0x27`;
  if (t === MBR_TYPE.GPT_PROTECTIVE) return `type 0xee (GPT protective) cannot be created`;
  if (op.attributes !== undefined || op.name !== undefined || op.guid !== undefined) return `attributes, name and unique GUID are GPT-only`;
  if (reg.start / v.ss >= 2 ** 32 || reg.size / v.ss >= 2 ** 32) return `${range(reg)} is beyond what MBR can address (2^32 sectors)`;
  const active = v.parts.find((p) => p.active);
  if (op.active && active) return `partition ${active.number} is already active; clearing its flag is not part of this plan`;
  return undefined;
}

/** An MBR create: a logical partition in the extended one, or a primary in a free slot. */
function createMbr(v: Check, op: CreateOp, reg: Region, bad: (m: string) => void): void {
  const t = typeof op.type === 'string' ? parseMbrType(op.type) : undefined;
  const problem = mbrFieldsProblem(v, op, reg, t);
  if (problem || t === undefined) return void bad(problem ?? 'no type');
  if (op.logical) createLogical(v, op, reg, t, bad);
  else createPrimary(v, op, reg, t, bad);
}

/** A logical partition: inside the extended one, after the last logical with room for its EBR. */
function createLogical(v: Check, op: CreateOp, reg: Region, t: number, bad: (m: string) => void): void {
  const { ss } = v;
  const ext = v.parts.find((p) => p.role === 'extended');
  if (!ext) return void bad(`no extended partition to hold a logical partition`);
  if (isExtendedType(t)) return void bad(`a logical partition cannot have an extended type`);
  if (reg.start <= ext.start || reg.start + reg.size > ext.start + ext.size) {
    return void bad(`${range(reg)} is not inside the extended partition ${ext.number} ${range(ext)} (one sector for its EBR first)`);
  }
  const logicals = v.parts.filter((p) => p.logical).sort((a, b) => a.number - b.number);
  const last = logicals[logicals.length - 1];
  let ebr: number;
  if (!last) {
    ebr = ext.start;
  } else {
    const prevEnd = last.start + last.size;
    if (reg.start <= prevEnd)
      return void bad(`${range(reg)} must come after the last logical partition ${last.number} ${range(last)} with a sector for its EBR`);
    ebr = reg.start - MiB >= prevEnd ? reg.start - MiB : reg.start - ss;
  }
  const number = 5 + logicals.length;
  v.parts.push({ number, start: reg.start, size: reg.size, type: mbrTypeString(t), role: mbrRole(t), active: !!op.active, logical: true });
  v.ebrOffsets.set(number, ebr);
  v.touched.add(number);
}

/** A primary partition: no overlap, at most one extended, a free slot of the four. */
function createPrimary(v: Check, op: CreateOp, reg: Region, t: number, bad: (m: string) => void): void {
  const hit = v.parts.find((p) => overlaps(p, reg));
  if (hit) return void bad(`${range(reg)} overlaps partition ${hit.number} ${range(hit)}`);
  const ext = v.parts.find((p) => p.role === 'extended');
  if (isExtendedType(t) && ext) return void bad(`there is already an extended partition (${ext.number})`);
  let slot = 1;
  while (slot <= 4 && v.parts.some((p) => !p.logical && p.number === slot)) slot++;
  if (slot > 4) return void bad(`a fifth primary partition: MBR holds four (use a logical partition)`);
  v.parts.push({ number: slot, start: reg.start, size: reg.size, type: mbrTypeString(t), role: mbrRole(t), active: !!op.active });
  v.touched.add(slot);
}

/** The layout after a valid plan: the partitions in number order and the free space recomputed. */
function layoutAfter(v: Check): Layout {
  const { layout, parts } = v;
  parts.sort((a, b) => a.number - b.number);
  const after: Layout = {
    scheme: layout.scheme,
    sectorSize: v.ss,
    sizeBytes: layout.sizeBytes,
    diskGuid: layout.diskGuid,
    signature: layout.signature,
    partitions: parts,
    free: [],
    gpt: layout.gpt,
  };
  if (v.gpt) {
    after.free = gptFree({ partitions: parts, sectorSize: v.ss, gpt: gptHeader(layout) });
  } else {
    const extP = parts.find((p) => p.role === 'extended');
    after.mbr = { extendedNumber: extP?.number ?? 0, ebrOffsets: v.ebrOffsets };
    after.free = mbrFree(after);
  }
  return after;
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
