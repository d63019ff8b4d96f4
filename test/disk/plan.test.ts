// Property tests of the single write path (applyPlan): random valid plans on random real layouts
// (made by sgdisk/sfdisk) leave `sgdisk -v` / `sfdisk -V` clean and `sfdisk --json` equal to the
// layout the test itself computed from the plan; random invalid plans are rejected with the image
// byte-identical. Sizes in the generators are whole MiB.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPlan } from '../../src/disk/apply.js';
import { readLayout } from '../../src/disk/layout.js';
import { openBlockDevice } from '../../src/disk/blockdev.js';
import { PlanError, validate } from '../../src/disk/plan.js';
import { type Plan, type PlanOp } from '../../src/model/disk.js';
import {
  buildGpt,
  buildMbr,
  diskToolsReason,
  MiB,
  sfdiskFree,
  sfdiskJson,
  sfdiskVerifyClean,
  sgdiskInfo,
  sgdiskVerifyClean,
  sha256,
  tempDir,
  TYPE,
  type GptPartSpec,
  type MbrPartSpec,
} from '../helpers/disk-images.js';
import { rmSync } from 'node:fs';
import path from 'node:path';

const reason = diskToolsReason();
const DISK = 64 * MiB;
/** GPT usable area in whole MiB with 512-byte sectors on a 64 MiB disk: [1, 63). */
const GPT_LO = 1;
const GPT_HI = 63;
const MBR_LO = 1;
const MBR_HI = 64;
const RUNS = Number(process.env.WUFIX_PROP_RUNS ?? 40);

const GPT_TYPES = [TYPE.BASIC, TYPE.RECOVERY, TYPE.ESP, TYPE.MSR, TYPE.LINUX];
const MBR_TYPES = [0x07, 0x27, 0x0c, 0x0b, 0x83, 0x42];

/** Expected partition (bytes), as sfdisk --json will report it. */
interface Want {
  number: number;
  start: number;
  size: number;
  type: string;
  guid?: string;
  name?: string;
  attributes?: bigint;
  active: boolean;
}

interface Seg {
  lo: number;
  hi: number;
}

/** Free whole-MiB intervals of [lo, hi) not covered by `used`. */
function freeSegs(lo: number, hi: number, used: Seg[]): Seg[] {
  const s = [...used].sort((a, b) => a.lo - b.lo);
  const out: Seg[] = [];
  let pos = lo;
  for (const u of s) {
    if (u.lo > pos) out.push({ lo: pos, hi: Math.min(u.lo, hi) });
    pos = Math.max(pos, u.hi);
  }
  if (pos < hi) out.push({ lo: pos, hi });
  return out.filter((x) => x.hi > x.lo);
}

// -- random base layouts -------------------------------------------------------------------------

const layoutArb = (maxParts: number) =>
  fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3 }), size: fc.integer({ min: 1, max: 9 }) }), { minLength: 0, maxLength: maxParts });

function gptBase(spec: { gap: number; size: number }[], types: number[]): GptPartSpec[] {
  const out: GptPartSpec[] = [];
  let pos = GPT_LO;
  spec.forEach((s, i) => {
    const lo = pos + s.gap;
    const hi = lo + s.size;
    if (hi > GPT_HI) return;
    out.push({ start: lo * MiB, size: s.size * MiB, type: GPT_TYPES[types[i]! % GPT_TYPES.length]!, name: `p${i + 1}`, attributes: BigInt(types[i]!) << 60n });
    pos = hi;
  });
  return out;
}

// -- random plans derived from choices -----------------------------------------------------------

const choicesArb = fc.record({
  deletes: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  shrinks: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 12, maxLength: 12 }),
  creates: fc.array(
    fc.record({
      region: fc.nat(),
      startPick: fc.nat(),
      lenPick: fc.nat(),
      type: fc.nat(),
      attributes: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      name: fc.string({ unit: fc.oneof(fc.constantFrom(...'abcXYZ 09-_'.split('')), fc.constantFrom('\u00e9', '\u65e5', '\u00df')), maxLength: 36 }),
      guid: fc.option(fc.uuid({ version: 4 }), { nil: undefined }),
      logical: fc.boolean(),
    }),
    { maxLength: 4 },
  ),
});
type Choices = typeof choicesArb extends fc.Arbitrary<infer T> ? T : never;

function gptPlan(base: Want[], c: Choices): { plan: Plan; want: Want[] } {
  const ops: PlanOp[] = [];
  let parts = base.map((p) => ({ ...p }));
  base.forEach((p, i) => {
    if (c.deletes[i]) {
      ops.push({ op: 'delete', partition: p.number });
      parts = parts.filter((q) => q.number !== p.number);
    }
  });
  parts.forEach((p, i) => {
    const by = c.shrinks[i]! % (p.size / MiB);
    if (by > 0) {
      ops.push({ op: 'shrink', partition: p.number, bytes: by * MiB });
      p.size -= by * MiB;
    }
  });
  const usedGuids = new Set(parts.map((p) => p.guid));
  for (const cr of c.creates) {
    const segs = freeSegs(
      GPT_LO,
      GPT_HI,
      parts.map((p) => ({ lo: p.start / MiB, hi: (p.start + p.size) / MiB })),
    );
    if (!segs.length) break;
    const seg = segs[cr.region % segs.length]!;
    const lo = seg.lo + (cr.startPick % (seg.hi - seg.lo));
    const hi = lo + 1 + (cr.lenPick % (seg.hi - lo));
    let number = 1;
    while (parts.some((p) => p.number === number)) number++;
    const guid = cr.guid && !usedGuids.has(cr.guid) ? cr.guid : undefined;
    const type = GPT_TYPES[cr.type % GPT_TYPES.length]!;
    ops.push({ op: 'create', start: lo * MiB, end: hi * MiB, type, attributes: '0x' + cr.attributes.toString(16), name: cr.name, ...(guid ? { guid } : {}) });
    parts.push({ number, start: lo * MiB, size: (hi - lo) * MiB, type, guid, name: cr.name, attributes: cr.attributes, active: false });
    if (guid) usedGuids.add(guid);
  }
  return { plan: { ops }, want: parts.sort((a, b) => a.number - b.number) };
}

function mbrBase(spec: { gap: number; size: number }[], types: number[], extendedAt: number, logicals: number): MbrPartSpec[] {
  // Primaries first (up to 4, one of them possibly extended holding `logicals` logicals).
  const out: MbrPartSpec[] = [];
  let pos = MBR_LO;
  let slot = 1;
  let i = 0;
  while (slot <= 4 && i < spec.length) {
    const s = spec[i++]!;
    const lo = pos + s.gap;
    if (slot - 1 === extendedAt) {
      // extended: [lo, lo + 1 + n * (1 + size)), logicals each preceded by 1 MiB for their EBR
      let epos = lo;
      const ls: MbrPartSpec[] = [];
      for (let k = 0; k < logicals && i < spec.length; k++) {
        const ls_ = spec[i++]!;
        const llo = epos + 1;
        const lhi = llo + ls_.size;
        if (lhi > MBR_HI) break;
        ls.push({ number: 5 + ls.length, start: llo * MiB, size: ls_.size * MiB, type: MBR_TYPES[types[k]! % MBR_TYPES.length]! });
        epos = lhi;
      }
      const ehi = Math.min(MBR_HI, epos + s.size);
      if (ehi <= lo + 1) continue;
      out.push({ number: slot++, start: lo * MiB, size: (ehi - lo) * MiB, type: 0x0f }, ...ls);
      pos = ehi;
      continue;
    }
    const hi = lo + s.size;
    if (hi > MBR_HI) break;
    out.push({
      number: slot++,
      start: lo * MiB,
      size: s.size * MiB,
      type: MBR_TYPES[types[i]! % MBR_TYPES.length]!,
      active: slot === 2 && types[0]! % 2 === 0,
    });
    pos = hi;
  }
  return out;
}

function mbrPlan(base: Want[], c: Choices): { plan: Plan; want: Want[] } {
  const ops: PlanOp[] = [];
  let parts = base.map((p) => ({ ...p }));
  const isExt = (p: Want) => p.type === '0x0f' || p.type === '0x05';
  const logicalNums = base.filter((p) => p.number >= 5).map((p) => p.number);
  // Delete: primaries freely (extended only with all its logicals), logicals only as a suffix.
  const delLogicalFrom = (() => {
    let k = logicalNums.length;
    while (k > 0 && c.deletes[4 + k - 1]) k--;
    return k;
  })();
  const deleted = new Set<number>(logicalNums.slice(delLogicalFrom));
  for (const p of base) {
    if (p.number > 4) continue;
    if (!c.deletes[p.number - 1]) continue;
    if (isExt(p) && delLogicalFrom > 0) continue;
    deleted.add(p.number);
  }
  for (const n of [...deleted].sort((a, b) => b - a)) ops.push({ op: 'delete', partition: n });
  parts = parts.filter((p) => !deleted.has(p.number));
  parts.forEach((p, i) => {
    if (isExt(p)) return;
    const by = c.shrinks[i]! % (p.size / MiB);
    if (by > 0) {
      ops.push({ op: 'shrink', partition: p.number, bytes: by * MiB });
      p.size -= by * MiB;
    }
  });
  for (const cr of c.creates) {
    const ext = parts.find(isExt);
    const type = MBR_TYPES[cr.type % MBR_TYPES.length]!;
    const typeS = '0x' + type.toString(16).padStart(2, '0');
    if (cr.logical && ext) {
      const ls = parts.filter((p) => p.number >= 5);
      const last = ls[ls.length - 1];
      const lo = (last ? last.start + last.size : ext.start) / MiB + 1;
      const ehi = (ext.start + ext.size) / MiB;
      if (lo >= ehi) continue;
      const hi = lo + 1 + (cr.lenPick % (ehi - lo));
      ops.push({ op: 'create', start: lo * MiB, end: hi * MiB, type: typeS, logical: true });
      parts.push({ number: 5 + ls.length, start: lo * MiB, size: (hi - lo) * MiB, type: typeS, active: false });
      continue;
    }
    let slot = 1;
    while (slot <= 4 && parts.some((p) => p.number === slot)) slot++;
    if (slot > 4) continue;
    const prim = parts.filter((p) => p.number <= 4);
    const segs = freeSegs(
      MBR_LO,
      MBR_HI,
      prim.map((p) => ({ lo: p.start / MiB, hi: (p.start + p.size) / MiB })),
    );
    if (!segs.length) continue;
    const seg = segs[cr.region % segs.length]!;
    const lo = seg.lo + (cr.startPick % (seg.hi - seg.lo));
    const hi = lo + 1 + (cr.lenPick % (seg.hi - lo));
    const active = cr.attributes % 3n === 0n && !parts.some((p) => p.active);
    ops.push({ op: 'create', start: lo * MiB, end: hi * MiB, type: typeS, ...(active ? { active: true } : {}) });
    parts.push({ number: slot, start: lo * MiB, size: (hi - lo) * MiB, type: typeS, active });
  }
  return { plan: { ops }, want: parts.sort((a, b) => a.number - b.number) };
}

/** The table as sfdisk (and, for GPT attributes when asked, sgdisk -i) reports it. */
function readWant(file: string, attrs: 'sgdisk' | GptPartSpec[] | 'none' = 'sgdisk'): Want[] {
  const ref = sfdiskJson(file);
  return ref.partitions.map((p) => ({
    number: p.number,
    start: p.start,
    size: p.size,
    type: p.type,
    guid: p.guid,
    name: p.name,
    attributes:
      ref.scheme !== 'gpt' || attrs === 'none'
        ? undefined
        : attrs === 'sgdisk'
          ? BigInt(sgdiskInfo(file, p.number).attributes)
          : (attrs[p.number - 1]!.attributes ?? 0n),
    active: p.active,
  }));
}

function applyToImage(file: string, plan: Plan): void {
  const dev = openBlockDevice(file, { write: true });
  try {
    applyPlan(dev, plan);
  } finally {
    dev.close();
  }
}

/**
 * Free regions as wufix reports them must be (1) outside any MBR extended partition, exactly what
 * `sfdisk -F` lists (GPT: everything; libfdisk uses its own heuristics inside the extended one),
 * and (2) usable: a create spanning exactly a region validates, one 1 MiB longer does not.
 */
function checkFree(file: string): void {
  const dev = openBlockDevice(file);
  let layout;
  try {
    layout = readLayout(dev, { probe: false });
  } finally {
    dev.close();
  }
  const ext = layout.partitions.find((p) => p.role === 'extended');
  const outside = (r: { start: number; size: number }) => !ext || r.start + r.size <= ext.start || r.start >= ext.start + ext.size;
  const ours = layout.free.filter(outside);
  const theirs = sfdiskFree(file).filter(outside);
  const key = (r: { start: number; size: number }) => `${r.start}+${r.size}`;
  // Every region sfdisk lists is ours too; libfdisk skips regions of exactly one grain after the
  // last partition (its test is "gap > grain"), which we list because they can be used.
  expect(ours.map(key)).toEqual(expect.arrayContaining(theirs.map(key)));
  for (const extra of ours.filter((r) => !theirs.some((q) => key(q) === key(r)))) expect(extra.size, key(extra)).toBe(MiB);
  const gpt = layout.scheme === 'gpt';
  for (const r of layout.free) {
    const inExt = !outside(r);
    const slotFree = gpt || inExt || [1, 2, 3, 4].some((n) => !layout.partitions.some((p) => p.number === n));
    if (!slotFree) continue;
    const op = (end: number): PlanOp => ({ op: 'create', start: r.start, end, type: gpt ? TYPE.BASIC : '0x07', ...(inExt ? { logical: true } : {}) });
    expect(() => validate({ ops: [op(r.start + r.size)] }, layout), `free ${JSON.stringify(r)}`).not.toThrow();
    expect(() => validate({ ops: [op(r.start + r.size + MiB)] }, layout), `free ${JSON.stringify(r)} + 1 MiB`).toThrow(PlanError);
  }
}

describe.skipIf(!!reason)(`applyPlan property tests${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let t: ReturnType<typeof tempDir>;
  let k = 0;
  // The generators must actually exercise the write path (guards against vacuous properties).
  const stats = { runs: 0, ops: 0, logicalCreates: 0, invalid: {} as Record<string, number> };
  beforeAll(() => {
    t = tempDir();
  });
  afterAll(() => t?.cleanup());
  const img = () => path.join(t.dir, `p${k++}.img`);

  it('GPT: random valid plans leave sgdisk -v clean and sfdisk --json equal to the planned layout', () => {
    fc.assert(
      fc.property(layoutArb(8), fc.array(fc.nat(15), { minLength: 8, maxLength: 8 }), choicesArb, (spec, types, choices) => {
        const file = img();
        try {
          const baseSpec = gptBase(spec, types);
          buildGpt(file, DISK, baseSpec, 512, 'sfdisk');
          const base = readWant(file, baseSpec);
          const { plan, want } = gptPlan(base, choices);
          stats.ops += plan.ops.length;
          stats.runs++;
          applyToImage(file, plan);
          const v = sgdiskVerifyClean(file);
          expect(v.clean, v.output).toBe(true);
          const got = readWant(file);
          expect(got.map((p) => ({ ...p, guid: undefined }))).toEqual(want.map((p) => ({ ...p, guid: undefined })));
          // Given GUIDs are kept, existing ones unchanged, new ones random and unique.
          for (const w of want) if (w.guid) expect(got.find((g) => g.number === w.number)!.guid).toBe(w.guid);
          expect(new Set(got.map((g) => g.guid)).size).toBe(got.length);
          checkFree(file);
        } finally {
          rmSync(file, { force: true });
        }
      }),
      { numRuns: RUNS },
    );
    expect(stats.ops).toBeGreaterThan(stats.runs);
  });

  it('MBR: random valid plans (primaries, extended, logicals) leave sfdisk -V clean and sfdisk --json equal to the plan', () => {
    fc.assert(
      fc.property(
        layoutArb(10),
        fc.array(fc.nat(15), { minLength: 12, maxLength: 12 }),
        fc.integer({ min: -1, max: 3 }),
        fc.integer({ min: 0, max: 4 }),
        choicesArb,
        (spec, types, extendedAt, logicals, choices) => {
          const file = img();
          try {
            const baseSpec = mbrBase(spec, types, extendedAt, logicals);
            buildMbr(file, DISK, baseSpec);
            const base = readWant(file);
            const sigBefore = sfdiskJson(file).id;
            const { plan, want } = mbrPlan(base, choices);
            stats.ops += plan.ops.length;
            stats.logicalCreates += plan.ops.filter((o) => o.op === 'create' && o.logical).length;
            stats.runs++;
            applyToImage(file, plan);
            const v = sfdiskVerifyClean(file);
            expect(v.clean, `${v.output}\nplan: ${JSON.stringify(plan)}\nbase: ${JSON.stringify(base)}`).toBe(true);
            expect(readWant(file)).toEqual(want);
            expect(sfdiskJson(file).id).toBe(sigBefore);
            checkFree(file);
          } finally {
            rmSync(file, { force: true });
          }
        },
      ),
      { numRuns: RUNS },
    );
    expect(stats.ops).toBeGreaterThan(stats.runs);
    expect(stats.logicalCreates).toBeGreaterThan(0);
  });

  /** Mutations that make a valid plan invalid, each with the rule it breaks. */
  const invalidArb = fc.record({
    kind: fc.constantFrom(
      'overlap',
      'misaligned-start',
      'misaligned-shrink',
      'out-of-range',
      'no-such-partition',
      'twice',
      'shrink-too-much',
      'bad-type',
      'fifth-primary',
      'dup-guid',
      'gpt-only-field',
    ),
    pick: fc.nat(),
    shift: fc.integer({ min: 1, max: MiB - 1 }),
  });

  function invalidOps(scheme: 'gpt' | 'mbr', base: Want[], inv: { kind: string; pick: number; shift: number }): PlanOp[] | undefined {
    const p = base[inv.pick % Math.max(1, base.length)];
    const gptType = TYPE.BASIC;
    const type = scheme === 'gpt' ? gptType : '0x07';
    switch (inv.kind) {
      case 'overlap':
        return p ? [{ op: 'create', start: p.start, end: p.start + MiB, type }] : undefined;
      case 'misaligned-start':
        return [{ op: 'create', start: 2 * MiB + Math.ceil(inv.shift / 512) * 512, end: 3 * MiB, type }];
      case 'misaligned-shrink':
        return p && p.size > 2 * MiB && !['0x0f', '0x05'].includes(p.type) ? [{ op: 'shrink', partition: p.number, bytes: MiB + inv.shift }] : undefined;
      case 'out-of-range':
        return [{ op: 'create', start: 60 * MiB, end: 70 * MiB, type }];
      case 'no-such-partition':
        return [{ op: 'delete', partition: 9 + (inv.pick % 100) }];
      case 'twice':
        return p
          ? [
              { op: 'delete', partition: p.number },
              { op: 'delete', partition: p.number },
            ]
          : undefined;
      case 'shrink-too-much':
        return p ? [{ op: 'shrink', partition: p.number, bytes: p.size }] : undefined;
      case 'bad-type':
        return [{ op: 'create', start: 62 * MiB, end: 63 * MiB, type: scheme === 'gpt' ? '0x07' : TYPE.BASIC }];
      case 'fifth-primary': {
        if (scheme !== 'mbr' || base.filter((q) => q.number <= 4).length < 4) return undefined;
        return [{ op: 'create', start: 63 * MiB, end: 64 * MiB, type: '0x07' }];
      }
      case 'dup-guid':
        return scheme === 'gpt' && p?.guid ? [{ op: 'create', start: 62 * MiB, end: 63 * MiB, type, guid: p.guid }] : undefined;
      case 'gpt-only-field':
        return scheme === 'mbr'
          ? [{ op: 'create', start: 63 * MiB, end: 64 * MiB, type, name: 'x' }]
          : [{ op: 'create', start: 62 * MiB, end: 63 * MiB, type, active: true }];
    }
    return undefined;
  }

  for (const scheme of ['gpt', 'mbr'] as const) {
    it(`${scheme.toUpperCase()}: random invalid plans are rejected and the image is byte-identical`, () => {
      fc.assert(
        fc.property(layoutArb(8), fc.array(fc.nat(15), { minLength: 12, maxLength: 12 }), invalidArb, (spec, types, inv) => {
          const file = img();
          try {
            if (scheme === 'gpt') buildGpt(file, DISK, gptBase(spec, types), 512, 'sfdisk');
            else buildMbr(file, DISK, mbrBase(spec, types, -1, 0));
            const base = readWant(file, 'none');
            const bad = invalidOps(scheme, base, inv);
            fc.pre(bad !== undefined);
            const ops = bad;
            stats.invalid[inv.kind] = (stats.invalid[inv.kind] ?? 0) + 1;
            const before = sha256(file);
            let err: unknown;
            try {
              applyToImage(file, { ops });
            } catch (e) {
              err = e;
            }
            expect(err, `${inv.kind} accepted: ${JSON.stringify(ops)}`).toBeInstanceOf(PlanError);
            expect(sha256(file)).toBe(before);
          } finally {
            rmSync(file, { force: true });
          }
        }),
        { numRuns: RUNS },
      );
      expect(Object.keys(stats.invalid).length).toBeGreaterThan(5);
    });
  }
});
