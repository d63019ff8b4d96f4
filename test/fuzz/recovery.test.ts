// Fuzz tier, hive transaction logs: inspectLogs and recoverHive over seeded mutations of real
// .LOG1/.LOG2 files (and their primaries' base blocks) from ../shared/fixtures/hives; half of the
// cases re-seal what was mutated (base block checksum, both Marvin32 hashes of every HvLE entry), as
// an attacker who crafts a log would, so the replay itself is exercised, not only the hash checks.
// The recovered image is then opened and walked. Plus generated regressions for the size bounds.
import { describe, expect, it } from 'vitest';
import { inspectLogs, recoverHive, type LogFile } from '../../src/hive/recovery.js';
import { baseBlockChecksum, newBaseBlock } from '../../src/hive/baseblock.js';
import { marvin32 } from '../../src/hive/marvin32.js';
import { FormatError } from '../../src/shared/errors.js';
import { CASES, caseRng, fixtureBytes, fixturesReason, fuzz, mutate, share, type Rng } from './harness.js';
import { fullWalk } from './walk.js';

const SETS: { primary: string; logs: string[]; walk: boolean }[] = [
  { primary: 'DFIRArtifactMuseum/Win11/DEFAULT', logs: ['DEFAULT.LOG1', 'DEFAULT.LOG2'], walk: true },
  { primary: 'DFIRArtifactMuseum/Win11/BBI', logs: ['BBI.LOG1', 'BBI.LOG2'], walk: true },
  { primary: 'DFIRArtifactMuseum/Win11/LocalService/NTUSER.DAT', logs: ['NTUSER.DAT.LOG1', 'NTUSER.DAT.LOG2'], walk: true },
  { primary: 'DFIRArtifactMuseum/Win11/NetworkService/NTUSER.DAT', logs: ['NTUSER.DAT.LOG1', 'NTUSER.DAT.LOG2'], walk: true },
  { primary: 'regipy/transactions_NTUSER.DAT', logs: ['transactions_ntuser.dat.log1', 'transactions_ntuser.dat.log2'], walk: true },
  // 12 MB: replayed, not walked (the walk of the big hive is the hive suite's business).
  { primary: 'regipy/SYSTEM_B', logs: ['SYSTEM_B.LOG1', 'SYSTEM_B.LOG2'], walk: false },
];

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Recompute a log's base block checksum and the hashes of every entry that still parses. */
export function resealLog(b: Uint8Array): void {
  if (b.length >= 512) dv(b).setUint32(508, baseBlockChecksum(b), true);
  let pos = 512;
  while (pos + 40 <= b.length) {
    const isEntry = b[pos] === 0x48 && b[pos + 1] === 0x76 && b[pos + 2] === 0x4c && b[pos + 3] === 0x45; // HvLE
    const size = isEntry ? dv(b).getUint32(pos + 4, true) : 0;
    if (!isEntry || size < 512 || size % 512 !== 0 || pos + size > b.length) {
      pos += 512;
      continue;
    }
    dv(b).setBigUint64(pos + 24, marvin32(b.subarray(pos + 40, pos + size)), true);
    dv(b).setBigUint64(pos + 32, marvin32(b.subarray(pos, pos + 32)), true);
    pos += size;
  }
}

/** Mutate the fields of the first entries a crafted log would change (counts, sizes, offsets). */
function mutateEntryFields(rng: Rng, b: Uint8Array): string[] {
  const ops: string[] = [];
  let pos = 512;
  for (let k = 0; k < 4 && pos + 40 <= b.length; k++) {
    const size = dv(b).getUint32(pos + 4, true);
    if (rng.chance(0.5)) {
      const field = rng.pick([4, 8, 12, 16, 20, 40, 44, 48, 52]);
      const v = rng.pick([0, 1, 512, 0x1000, 0x7ffff000, 0x7fffffff, 0x80000000, 0xffffffff, size * 2, rng.u32()]);
      if (pos + field + 4 <= b.length) dv(b).setUint32(pos + field, v >>> 0, true);
      ops.push(`entry@${pos}+${field}=0x${(v >>> 0).toString(16)}`);
    }
    if (size < 512 || size % 512 !== 0) break;
    pos += size;
  }
  return ops;
}

function runRecovery(primary: Uint8Array, logs: LogFile[], walk: boolean, inspect = true): { outSize: number } {
  if (inspect) inspectLogs(primary, logs);
  const r = recoverHive(primary, logs);
  let out = r.bytes.length;
  if (walk) out += fullWalk(r.bytes, false, false).outSize;
  return { outSize: out };
}

describe.skipIf(!!fixturesReason())('fuzz: hive transaction logs (inspectLogs + recoverHive + open)', () => {
  it(`${CASES} mutated real .LOG1/.LOG2 sets: a recovered hive or a FormatError, each case bounded`, async () => {
    const sets = SETS.map((s) => {
      const dir = s.primary.split('/').slice(0, -1).join('/');
      return { ...s, bytes: fixtureBytes('hives', s.primary), logBytes: s.logs.map((l) => fixtureBytes('hives', `${dir}/${l}`)) };
    });
    // Unmutated, every set replays and opens.
    for (const s of sets)
      expect(
        () =>
          runRecovery(
            s.bytes,
            s.logs.map((name, i) => ({ name, bytes: s.logBytes[i]! })),
            s.walk,
          ),
        s.primary,
      ).not.toThrow();
    let total = 0;
    // SYSTEM_B gets fewer cases (its replay alone costs ~40 ms); the small sets share the rest.
    const bigCases = 120;
    const small = sets.filter((s) => s.walk);
    for (const [si, s] of sets.entries()) {
      const n = s.walk ? share(CASES - bigCases, small.length, small.indexOf(s)) : bigCases;
      const r = await fuzz(
        `hive logs ${s.primary}`,
        n,
        (i) => {
          const rng = caseRng(`logs:${s.primary}`, i);
          const logs: LogFile[] = s.logs.map((name, k) => ({ name, bytes: s.logBytes[k]! }));
          let primary = s.bytes;
          const ops: string[] = [];
          const target = rng.int(logs.length + 1); // == logs.length: the primary's base block
          const reseal = rng.chance(0.5);
          if (target === logs.length) {
            const m = mutate(rng, primary, { hot: [[0, 512]], maxOps: 4, resize: false });
            primary = m.bytes;
            ops.push('primary:', ...m.ops);
            if (reseal) dv(primary).setUint32(508, baseBlockChecksum(primary), true);
          } else {
            const log = logs[target]!;
            const m = mutate(rng, log.bytes, {
              hot: [
                [0, 512],
                [512, 512 + 4096],
              ],
              maxOps: 6,
              donor: logs[(target + 1) % logs.length]!.bytes,
            });
            const bytes = m.bytes;
            ops.push(`${log.name}:`, ...m.ops, ...(rng.chance(0.5) ? mutateEntryFields(rng, bytes) : []));
            if (reseal) resealLog(bytes);
            logs[target] = { name: log.name, bytes };
          }
          if (reseal) ops.push('resealed');
          const inSize = primary.length + logs.reduce((a, l) => a + l.bytes.length, 0);
          return { input: { primary, logs, inspect: i % 4 === 0 }, inSize, ops, label: `set ${si}, inspect=${i % 4 === 0}` };
        },
        (c) => runRecovery(c.primary, c.logs, s.walk, c.inspect),
        { outFactor: 4 },
      );
      expect(r.failures).toEqual([]);
      total += r.cases;
    }
    expect(total).toBeGreaterThanOrEqual(CASES);
  });
});

// ---------------------------------------------------------------------------------------------
// Generated regressions: a few hundred bytes of log must not cost gigabytes.

function primaryHive(): Uint8Array {
  // A minimal clean primary: base block + one empty 4 KiB bin with a root nk.
  const b = new Uint8Array(0x2000);
  b.set(newBaseBlock({ minor: 5, rootCell: 0x20, hbinsSize: 0x1000, timestamp: 1n }), 0);
  const d = dv(b);
  d.setUint32(0x1000, 0x6e696268, true);
  d.setUint32(0x1008, 0x1000, true);
  d.setInt32(0x1020, -80, true);
  d.setUint16(0x1024, 0x6b6e, true); // nk
  d.setUint32(0x1024 + 16, 0xffffffff, true);
  d.setUint32(0x1024 + 28, 0xffffffff, true);
  d.setUint32(0x1024 + 40, 0xffffffff, true);
  d.setUint32(0x1024 + 44, 0xffffffff, true);
  d.setUint32(0x1024 + 48, 0xffffffff, true);
  d.setInt32(0x1020 + 80, 0x1000 - 0x20 - 80, true);
  // Dirty: seq1 != seq2.
  d.setUint32(4, 8, true);
  d.setUint32(8, 7, true);
  d.setUint32(508, baseBlockChecksum(b), true);
  return b;
}

/** A new-format log with one hash-valid entry: `hbinsSize` claimed, one 4 KiB page at offset 0. */
function craftedLog(primary: Uint8Array, hbinsSize: number): Uint8Array {
  const b = new Uint8Array(512 + 512 + 4096);
  b.set(primary.subarray(0, 512), 0);
  const d = dv(b);
  d.setUint32(4, 8, true);
  d.setUint32(8, 8, true);
  d.setUint32(28, 6, true); // LOG_NEW
  d.setUint32(508, baseBlockChecksum(b), true);
  const e = 512;
  b.set([0x48, 0x76, 0x4c, 0x45], e);
  d.setUint32(e + 4, 512 + 4096, true);
  d.setUint32(e + 12, 8, true); // seq
  d.setUint32(e + 16, hbinsSize, true);
  d.setUint32(e + 20, 1, true); // one page
  d.setUint32(e + 40, 0, true);
  d.setUint32(e + 44, 0x1000, true);
  b.set(primary.subarray(0x1000, 0x2000), e + 48); // the page data (after 40 + 8 bytes): the primary's own bin
  resealLog(b);
  return b;
}

describe('crafted logs: bounded replay (regressions)', () => {
  it('a 5 KiB log whose hash-valid entry claims 2 GiB - 4 KiB of bins is refused without allocating them', () => {
    const p = primaryHive();
    const log = craftedLog(p, 0x7ffff000);
    const heap0 = process.memoryUsage().arrayBuffers;
    let err: unknown;
    try {
      recoverHive(p, [{ name: 'X.LOG1', bytes: log }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).message).toMatch(/hive-bins size of 0x7ffff000.*the rest would be zeros/);
    expect((err as FormatError).offset).toBe(512 + 16);
    expect(process.memoryUsage().arrayBuffers - heap0).toBeLessThan(64 << 20);
    // The same log with its true size replays, and the result opens.
    const ok = recoverHive(p, [{ name: 'X.LOG1', bytes: craftedLog(p, 0x1000) }]);
    expect(ok.applied).toHaveLength(1);
    expect(() => fullWalk(ok.bytes, false)).not.toThrow();
  });

  it('a grown bin whose free space was not logged still replays (the bin header says how far it reaches)', () => {
    const p = primaryHive();
    // The logged page is a 64 KiB bin header with one free cell: only its first 4 KiB are logged.
    const log = craftedLog(p, 0x10000);
    const page = log.subarray(512 + 48, 512 + 48 + 4096);
    dv(page).setUint32(8, 0x10000, true);
    dv(page).setInt32(0x20 + 80, 0x10000 - 0x20 - 80, true);
    resealLog(log);
    const r = recoverHive(p, [{ name: 'X.LOG1', bytes: log }]);
    expect(r.bytes.length).toBe(0x1000 + 0x10000);
    expect(() => fullWalk(r.bytes, false)).not.toThrow();
  });

  it('an old-format log whose base block claims 2 GiB of bins is refused without allocating them', () => {
    const p = primaryHive();
    // Old format (type 1): base block, "DIRT" + a bitmap of hbins/4096 bytes with one page set.
    const hbins = 0x7ffff000;
    const bitmap = hbins / 4096;
    const pagesAt = Math.ceil((516 + bitmap) / 512) * 512;
    const log = new Uint8Array(pagesAt + 512);
    log.set(p.subarray(0, 512), 0);
    const d = dv(log);
    d.setUint32(4, 8, true);
    d.setUint32(8, 8, true);
    d.setUint32(28, 1, true);
    d.setUint32(40, hbins, true);
    d.setUint32(508, baseBlockChecksum(log), true);
    log.set([0x44, 0x49, 0x52, 0x54], 512);
    log[516] = 1; // page 0 dirty
    log.set(p.subarray(0x1000, 0x1200), pagesAt);
    const prim = p.slice();
    // Old logs match the primary on its base block timestamp (both 1 here).
    let err: unknown;
    try {
      recoverHive(prim, [{ name: 'X.LOG', bytes: log }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).message).toMatch(/X\.LOG: base block gives a hive-bins size of 0x7ffff000/);
  });
});
