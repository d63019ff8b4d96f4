import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FormatError } from '../../src/shared/errors.js';
import { parseBaseBlock, baseBlockChecksum, writeBaseBlock } from '../../src/hive/baseblock.js';
import { marvin32 } from '../../src/hive/marvin32.js';
import { DirtyHiveError, inspectLogs, needsRecovery, recoverHive, type LogFile, type RecoveryResult } from '../../src/hive/recovery.js';
import { findLogs, readLogs, truncateLogs } from '../../src/hive/logfiles.js';
import { FIXTURES, hiveFixture, sharedReason, skipReason, toolsReason } from '../helpers/env.js';

// Expected numbers come from registry-hives.md (section 3 bullets and the section 8 table) and from
// the independent readers (hivexml, reglookup, regfinfo, python3-hivex), never from recovery.ts.

const HIVES = path.join(FIXTURES, 'hives');
const W11 = 'DFIRArtifactMuseum/Win11';

// ---------------------------------------------------------------------------------------------
// Helpers

const cache = new Map<string, Uint8Array>();
/** A fixture's bytes, sha256-checked once (hiveFixture verifies the MANIFEST). */
function fx(dest: string): Uint8Array {
  let b = cache.get(dest);
  if (!b) {
    const buf = readFileSync(hiveFixture(dest));
    b = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    cache.set(dest, b);
  }
  return b;
}

/** The fixture's logs as findLogs sees them beside the primary, each sha256-checked. */
async function logsFor(primaryDest: string): Promise<LogFile[]> {
  const paths = await findLogs(hiveFixture(primaryDest));
  return paths.map((p) => ({ name: path.basename(p), bytes: fx(path.relative(HIVES, p).split(path.sep).join('/')) }));
}

const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);

interface RawEntry {
  seq: number;
  offset: number;
  size: number;
  hbinsSize: number;
}
/** Independent walk: every 512-aligned HvLE entry whose two Marvin32 hashes match, in file order. */
function hashValidEntries(b: Uint8Array): RawEntry[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: RawEntry[] = [];
  let p = 512;
  while (p + 40 <= b.length) {
    if (b[p] === 0x48 && b[p + 1] === 0x76 && b[p + 2] === 0x4c && b[p + 3] === 0x45) {
      const size = dv.getUint32(p + 4, true);
      if (
        size >= 512 &&
        size % 512 === 0 &&
        p + size <= b.length &&
        marvin32(b.subarray(p, p + 32)) === dv.getBigUint64(p + 32, true) &&
        marvin32(b.subarray(p + 40, p + size)) === dv.getBigUint64(p + 24, true)
      ) {
        out.push({ seq: dv.getUint32(p + 12, true), offset: p, size, hbinsSize: dv.getUint32(p + 16, true) });
        p += size;
        continue;
      }
    }
    p += 512;
  }
  return out;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function expectCleanRecovered(r: RecoveryResult) {
  const bb = parseBaseBlock(r.bytes);
  expect(bb.type).toBe(0);
  expect(bb.seq1).toBe(bb.seq2);
  expect(bb.checksumOk).toBe(true);
  expect(bb.storedChecksum).toBe(baseBlockChecksum(r.bytes));
  expect(r.bytes.length).toBe(4096 + bb.hbinsSize);
  if (r.applied.length > 0) expect(bb.seq1).toBe((r.applied[r.applied.length - 1]!.lastSeq + 1) >>> 0);
  return bb;
}

const PY_COUNT = [
  'import hivex, sys',
  'h = hivex.Hivex(sys.argv[1])',
  'n = 0',
  'stack = [h.root()]',
  'while stack:',
  '    x = stack.pop(); n += 1',
  '    stack.extend(h.node_children(x))',
  'print(n)',
].join('\n');

/** Keys (root included) by walking node_children with python3-hivex. */
function countKeys(file: string): number {
  const r = spawnSync('/usr/bin/python3', ['-c', PY_COUNT, file], { encoding: 'utf8' });
  expect(r.status, `python3-hivex on ${file}: ${r.stderr}`).toBe(0);
  return Number(r.stdout.trim());
}

function withTempFile<T>(bytes: Uint8Array, fn: (file: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'wufix-recovery-'));
  try {
    const f = path.join(dir, 'hive');
    writeFileSync(f, bytes);
    return fn(f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** hivexml, reglookup and regfinfo accept the hive; returns the python3-hivex key count. */
function acceptedByReaders(bytes: Uint8Array, label: string): number {
  return withTempFile(bytes, (f) => {
    const hx = spawnSync('hivexml', [f], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    expect(hx.status, `hivexml ${label}: ${hx.stderr}`).toBe(0);
    const rl = spawnSync('reglookup', [f], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(rl.status, `reglookup ${label}: ${rl.stderr}`).toBe(0);
    expect(rl.stderr, `reglookup ${label} stderr`).not.toMatch(/ERROR/);
    const ri = spawnSync('regfinfo', [f], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    expect(ri.status, `regfinfo ${label}: ${ri.stderr}`).toBe(0);
    return countKeys(f);
  });
}

// Synthetic logs, built from real hives -----------------------------------------------------

function setU32(b: Uint8Array, o: number, v: number) {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(o, v >>> 0, true);
}

/** A new-format entry carrying `pages` (offsets from the hive bins), with correct Hash-1/Hash-2. */
function makeEntry(seq: number, hbinsSize: number, pages: { offset: number; data: Uint8Array }[], flags = 0, tweak?: (e: Uint8Array) => void): Uint8Array {
  const dataLen = pages.reduce((s, p) => s + p.data.length, 0);
  const size = Math.ceil((40 + 8 * pages.length + dataLen) / 512) * 512;
  const e = new Uint8Array(size);
  e.set([0x48, 0x76, 0x4c, 0x45], 0);
  setU32(e, 4, size);
  setU32(e, 8, flags);
  setU32(e, 12, seq);
  setU32(e, 16, hbinsSize);
  setU32(e, 20, pages.length);
  let d = 40 + 8 * pages.length;
  pages.forEach((p, i) => {
    setU32(e, 40 + 8 * i, p.offset);
    setU32(e, 44 + 8 * i, p.data.length);
    e.set(p.data, d);
    d += p.data.length;
  });
  tweak?.(e);
  const dv = new DataView(e.buffer);
  dv.setBigUint64(24, marvin32(e.subarray(40)), true);
  dv.setBigUint64(32, marvin32(e.subarray(0, 32)), true);
  return e;
}

/** A type-6 log: the primary's first 512 bytes with seq1 = seq2 = seq, then the entries. */
function makeNewLog(baseFrom: Uint8Array, seq: number, entries: Uint8Array[]): Uint8Array {
  const total = 512 + entries.reduce((s, e) => s + e.length, 0);
  const log = new Uint8Array(total);
  log.set(baseFrom.subarray(0, 512), 0);
  writeBaseBlock(log, { seq1: seq, seq2: seq, type: 6 });
  let p = 512;
  for (const e of entries) {
    log.set(e, p);
    p += e.length;
  }
  return log;
}

/** A copy of `primary` whose base block says seq1/seq2 (checksum fixed unless `badChecksum`). */
function withSeqs(primary: Uint8Array, seq1: number, seq2: number, badChecksum = false): Uint8Array {
  const p = primary.slice();
  writeBaseBlock(p, { seq1, seq2 });
  if (badChecksum) p[300]! ^= 0x5a;
  return p;
}

/** 4096-byte pages of the hive bins where `a` and `b` differ. */
function differingPages(a: Uint8Array, b: Uint8Array, hbinsSize: number): { offset: number; data: Uint8Array }[] {
  const out: { offset: number; data: Uint8Array }[] = [];
  for (let off = 0; off < hbinsSize; off += 4096) {
    const x = a.subarray(4096 + off, 8192 + off);
    const y = b.subarray(4096 + off, 8192 + off);
    if (Buffer.compare(x, y) !== 0) out.push({ offset: off, data: b.slice(4096 + off, 8192 + off) });
  }
  return out;
}

const bins = (b: Uint8Array, hbinsSize: number) => b.subarray(4096, 4096 + hbinsSize);

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Recovery either succeeds with a clean hive or throws a FormatError; nothing else. */
function recoverOrFormatError(primary: Uint8Array, logs: LogFile[]): RecoveryResult | FormatError {
  try {
    const r = recoverHive(primary, logs);
    expectCleanRecovered(r);
    return r;
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
}

// ---------------------------------------------------------------------------------------------

const fixturesReason = skipReason(sharedReason());
const readersReason = skipReason(sharedReason(), toolsReason('hivexml', 'reglookup', 'regfinfo', 'python3-hivex'));
const skipNote = (r: string | undefined) => (r ? ` (skipped: ${r})` : '');

describe.skipIf(!!fixturesReason)(`recovery: chains on the real fixtures (registry-hives.md sections 3 and 8)${skipNote(fixturesReason)}`, () => {
  it('regipy/SYSTEM_B: LOG1 2107-2110 then LOG2 2111-2130, hbins 12,398,592 -> 12,591,104', async () => {
    const primary = fx('regipy/SYSTEM_B');
    const pbb = parseBaseBlock(primary);
    expect([pbb.seq1, pbb.seq2]).toEqual([1622, 1621]);
    expect(pbb.hbinsSize).toBe(12_398_592);
    expect(needsRecovery(primary)).toBe(true);
    const r = recoverHive(primary, await logsFor('regipy/SYSTEM_B'));
    expect(r.primaryWasDirty).toBe(true);
    expect(r.applied).toEqual([
      { log: 'SYSTEM_B.LOG1', firstSeq: 2107, lastSeq: 2110, entries: 4 },
      { log: 'SYSTEM_B.LOG2', firstSeq: 2111, lastSeq: 2130, entries: 20 },
    ]);
    const bb = expectCleanRecovered(r);
    expect(bb.seq1).toBe(2131);
    expect(bb.hbinsSize).toBe(12_591_104);
    expect(r.bytes.length).toBe(4096 + 12_591_104);
    expect(r.maxSeqSeen).toBe(2130);
    // Every byte we do not own is kept: the base block differs from the primary's only in the fields recovery sets.
    const changed = [...range(0, 4095)].filter((i) => r.bytes[i] !== primary[i]);
    for (const i of changed) expect([4, 5, 6, 7, 8, 9, 10, 11, 40, 41, 42, 43, 508, 509, 510, 511]).toContain(i);
  });

  it('regipy/transactions_NTUSER.DAT: log1 566-588 applies, log2 (base 562) is stale', async () => {
    const primary = fx('regipy/transactions_NTUSER.DAT');
    expect([parseBaseBlock(primary).seq1, parseBaseBlock(primary).seq2]).toEqual([567, 566]);
    const logs = await logsFor('regipy/transactions_NTUSER.DAT');
    expect(logs.map((l) => l.name)).toEqual(['transactions_ntuser.dat.log1', 'transactions_ntuser.dat.log2']);
    const info = inspectLogs(primary, logs);
    expect(info[0]!.entries.map((e) => e.seq)).toEqual(range(566, 588));
    expect(info[0]!.usable).toBe(true);
    expect(info[1]!.baseSeq1).toBe(562);
    expect(info[1]!.usable).toBe(false);
    expect(info[1]!.problem).toMatch(/stale/);
    const r = recoverHive(primary, logs);
    expect(r.applied).toEqual([{ log: 'transactions_ntuser.dat.log1', firstSeq: 566, lastSeq: 588, entries: 23 }]);
    expect(expectCleanRecovered(r).seq1).toBe(589);
    // The stale log alone cannot recover the hive.
    expect(() => recoverHive(primary, [logs[1]!])).toThrow(DirtyHiveError);
  });

  it('regipy/UsrClass.dat: LOG1 287-290 then LOG2 291-300', async () => {
    const r = recoverHive(fx('regipy/UsrClass.dat'), await logsFor('regipy/UsrClass.dat'));
    expect(r.applied.map((a) => [a.log, a.firstSeq, a.lastSeq])).toEqual([
      ['UsrClass.dat.LOG1', 287, 290],
      ['UsrClass.dat.LOG2', 291, 300],
    ]);
    expect(expectCleanRecovered(r).seq1).toBe(301);
  });

  it('Win11/DEFAULT: LOG2 104-105 then LOG1 106-107 (ordered by sequence, not by name)', async () => {
    const logs = await logsFor(`${W11}/DEFAULT`);
    expect(logs.map((l) => l.name)).toEqual(['DEFAULT.LOG1', 'DEFAULT.LOG2']);
    const r = recoverHive(fx(`${W11}/DEFAULT`), logs);
    expect(r.applied.map((a) => [a.log, a.firstSeq, a.lastSeq])).toEqual([
      ['DEFAULT.LOG2', 104, 105],
      ['DEFAULT.LOG1', 106, 107],
    ]);
    expect(expectCleanRecovered(r).seq1).toBe(108);
    // Same result whatever order the logs are given in.
    const r2 = recoverHive(fx(`${W11}/DEFAULT`), [...logs].reverse());
    expect(Buffer.compare(r2.bytes, r.bytes)).toBe(0);
  });

  // The other Win11 dirty hives: the doc gives no chain, so check the rules against an independent
  // walk of the logs: the replay is a gap-free run that starts in a non-stale log at its base seq,
  // ends where no log continues it, and the hbins size is that of the last applied entry.
  it.each([`${W11}/BBI`, `${W11}/NTUSER.DAT`, `${W11}/UsrClass.dat`, `${W11}/LocalService/NTUSER.DAT`, `${W11}/NetworkService/NTUSER.DAT`])(
    '%s: replays a gap-free chain by the sequence rules',
    async (dest) => {
      const primary = fx(dest);
      const pbb = parseBaseBlock(primary);
      expect(pbb.seq1).not.toBe(pbb.seq2);
      const logs = await logsFor(dest);
      expect(logs.length).toBe(2);
      const r = recoverHive(primary, logs);
      expect(r.applied.length).toBeGreaterThan(0);
      let expected: number | undefined;
      for (const a of r.applied) {
        const log = logs.find((l) => l.name === a.log)!;
        const base = u32(log.bytes, 4);
        expect(a.firstSeq).toBe(base);
        if (expected === undefined) expect(base).toBeGreaterThanOrEqual(pbb.seq2);
        else expect(a.firstSeq).toBe(expected);
        const raw = hashValidEntries(log.bytes);
        expect(raw.slice(0, a.entries).map((e) => e.seq)).toEqual(range(a.firstSeq, a.lastSeq));
        expected = a.lastSeq + 1;
      }
      // No log starts at last + 1 (otherwise it would have been chained).
      for (const l of logs) if (!r.applied.some((a) => a.log === l.name)) expect(u32(l.bytes, 4)).not.toBe(expected);
      const last = r.applied[r.applied.length - 1]!;
      const lastEntry = hashValidEntries(logs.find((l) => l.name === last.log)!.bytes).find((e) => e.seq === last.lastSeq)!;
      const bb = expectCleanRecovered(r);
      expect(bb.hbinsSize).toBe(lastEntry.hbinsSize);
    },
  );

  it('Win11 NetworkService LOG1 (93 then 90, 29) and LocalService LOG2 (45 then 43, 21): remnants count in maxValidSeq', async () => {
    const cases = [
      { dest: `${W11}/NetworkService/NTUSER.DAT`, log: 'NTUSER.DAT.LOG1', chain: [93], remnantsMax: 90 },
      { dest: `${W11}/LocalService/NTUSER.DAT`, log: 'NTUSER.DAT.LOG2', chain: [45], remnantsMax: 43 },
    ];
    for (const c of cases) {
      const primary = fx(c.dest);
      const logs = await logsFor(c.dest);
      const info = inspectLogs(primary, logs).find((i) => i.name === c.log)!;
      expect(info.entries.map((e) => e.seq)).toEqual(c.chain);
      expect(info.maxValidSeq).toBe(Math.max(...c.chain));
      // Break the chain entry's Hash-1: the chain is gone, the stale remnants still count.
      const broken = logs.map((l) => (l.name === c.log ? { ...l, bytes: l.bytes.slice() } : l));
      const b = broken.find((l) => l.name === c.log)!.bytes;
      b[512 + 40]! ^= 0xff;
      const info2 = inspectLogs(primary, broken).find((i) => i.name === c.log)!;
      expect(info2.entries).toEqual([]);
      expect(info2.usable).toBe(false);
      expect(info2.maxValidSeq).toBe(c.remnantsMax);
      const r = recoverHive(primary, logs);
      expect(r.maxSeqSeen).toBeGreaterThanOrEqual(Math.max(...c.chain));
    }
  });

  it('regipy/SYSTEM_B.LOG1: remnants 2092-2102, 2035, 1586-1603 after the chain; the chain alone stops them', async () => {
    const logs = await logsFor('regipy/SYSTEM_B');
    const log1 = logs.find((l) => l.name === 'SYSTEM_B.LOG1')!;
    const raw = hashValidEntries(log1.bytes).map((e) => e.seq);
    expect(raw).toEqual([...range(2107, 2110), ...range(2092, 2102), 2035, ...range(1586, 1603)]);
    const info = inspectLogs(fx('regipy/SYSTEM_B'), logs)[0]!;
    expect(info.entries.map((e) => e.seq)).toEqual(range(2107, 2110));
    expect(info.maxValidSeq).toBe(2110);
    // Without the chain (signatures of 2107-2110 wiped) the highest remnant is 2102.
    const b = log1.bytes.slice();
    for (const e of hashValidEntries(log1.bytes).filter((e) => e.seq >= 2107)) b[e.offset] = 0;
    const info2 = inspectLogs(fx('regipy/SYSTEM_B'), [{ name: 'SYSTEM_B.LOG1', bytes: b }])[0]!;
    expect(info2.entries).toEqual([]);
    expect(info2.maxValidSeq).toBe(2102);
  });

  it.each([
    [`${W11}/ELAM`, ['ELAM.LOG1']],
    [`${W11}/DEFAULT_PROFILE/NTUSER.DAT`, ['NTUSER.DAT.LOG1', 'NTUSER.DAT.LOG2']],
    [`${W11}/BCD-Template`, ['BCD-Template.LOG']],
  ])('%s: clean primary, logs ignored even though they hold valid entries', async (dest, names) => {
    const primary = fx(dest);
    expect(needsRecovery(primary)).toBe(false);
    const logs = await logsFor(dest);
    expect(logs.map((l) => l.name)).toEqual(names);
    const info = inspectLogs(primary, logs);
    for (const i of info) {
      expect(i.format).toBe('new'); // BCD-Template.LOG is a type-6 log named .LOG
      expect(hashValidEntries(logs.find((l) => l.name === i.name)!.bytes).length).toBeGreaterThan(0);
    }
    const r = recoverHive(primary, logs);
    expect(r.applied).toEqual([]);
    expect(r.primaryWasDirty).toBe(false);
    expect(r.bytes).not.toBe(primary);
    expect(Buffer.compare(r.bytes, primary)).toBe(0);
  });

  it('Win11/DEFAULT_PROFILE: LOG2 has base 3 and a different hbins size', async () => {
    const dest = `${W11}/DEFAULT_PROFILE/NTUSER.DAT`;
    const info = inspectLogs(fx(dest), await logsFor(dest));
    const log2 = info.find((i) => i.name === 'NTUSER.DAT.LOG2')!;
    expect(log2.baseSeq1).toBe(3);
    expect(log2.entries[0]!.hbinsSize).not.toBe(parseBaseBlock(fx(dest)).hbinsSize);
  });

  it.each(['regipy/SYSTEM_2', 'regipy/amcache.hve'])('%s: dirty without logs -> DirtyHiveError', async (dest) => {
    const primary = fx(dest);
    expect(needsRecovery(primary)).toBe(true);
    expect(await findLogs(hiveFixture(dest))).toEqual([]);
    let err: unknown;
    try {
      recoverHive(primary, await readLogs(hiveFixture(dest)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DirtyHiveError);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as DirtyHiveError).code).toBe('dirty-no-logs');
    expect((err as Error).message).toMatch(/dirty/);
    expect((err as Error).message).toMatch(/no usable transaction log/);
  });

  it('a type-6 log passed as the primary is a FormatError, a non-hive too', () => {
    expect(() => recoverHive(fx(`${W11}/BCD-Template.LOG`), [])).toThrow(FormatError);
    expect(() => recoverHive(fx('DFIRArtifactMuseum/Win7/NotAHive'), [])).toThrow(FormatError);
    expect(() => needsRecovery(fx('DFIRArtifactMuseum/Win7/NotAHive'))).toThrow(FormatError);
    expect(needsRecovery(fx('regipy/SYSTEM'))).toBe(false);
  });

  it('invalid primary base block: only the log with the latest entries is used, with its base block', async () => {
    const primary = withSeqs(fx('regipy/SYSTEM_B'), 1622, 1621, true);
    expect(parseBaseBlock(primary).checksumOk).toBe(false);
    const logs = await logsFor('regipy/SYSTEM_B');
    const r = recoverHive(primary, logs);
    expect(r.applied).toEqual([{ log: 'SYSTEM_B.LOG2', firstSeq: 2111, lastSeq: 2130, entries: 20 }]);
    const bb = expectCleanRecovered(r);
    expect(bb.seq1).toBe(2131);
    expect(bb.hbinsSize).toBe(12_591_104);
    const log2 = logs[1]!.bytes;
    // Base block taken from LOG2 (only seqs, type, hbins size and checksum rewritten).
    for (const i of [0, 12, 20, 24, 32, 36, 44, 48, 144, 176]) expect(u32(r.bytes, i)).toBe(u32(log2, i));
    expect(u32(r.bytes, 28)).toBe(0);
  });
});

describe.skipIf(!!readersReason)(`recovery: recovered hives are accepted by independent readers${skipNote(readersReason)}`, () => {
  it.each([
    { dest: 'regipy/SYSTEM_B', before: 33_123, after: 35_595 },
    { dest: 'regipy/transactions_NTUSER.DAT', before: 2_590, after: 3_105 },
  ])('$dest: keys $before -> $after (python3-hivex and reglookup)', async ({ dest, before, after }) => {
    expect(withTempFile(fx(dest), countKeys)).toBe(before);
    const r = recoverHive(fx(dest), await logsFor(dest));
    expect(acceptedByReaders(r.bytes, dest)).toBe(after);
    const viaReglookup = withTempFile(r.bytes, (f) => {
      const out = spawnSync('reglookup', ['-H', '-t', 'KEY', f], { encoding: 'utf8', maxBuffer: 1 << 28 });
      expect(out.status).toBe(0);
      return out.stdout.split('\n').filter((l) => l !== '').length;
    });
    expect(viaReglookup).toBe(after);
  });

  it.each([
    'regipy/UsrClass.dat',
    `${W11}/DEFAULT`,
    `${W11}/BBI`,
    `${W11}/NTUSER.DAT`,
    `${W11}/UsrClass.dat`,
    `${W11}/LocalService/NTUSER.DAT`,
    `${W11}/NetworkService/NTUSER.DAT`,
  ])('%s: hivexml, reglookup and regfinfo accept the recovered hive', async (dest) => {
    const r = recoverHive(fx(dest), await logsFor(dest));
    expect(r.applied.length).toBeGreaterThan(0);
    expect(acceptedByReaders(r.bytes, dest)).toBeGreaterThan(1);
  });

  it('negative control: the readers reject a recovered hive cut in half', async () => {
    const r = recoverHive(fx(`${W11}/DEFAULT`), await logsFor(`${W11}/DEFAULT`));
    const cut = r.bytes.slice(0, 4096 + Math.floor((r.bytes.length - 4096) / 8192) * 4096);
    withTempFile(cut, (f) => {
      const hx = spawnSync('hivexml', [f], { stdio: ['ignore', 'ignore', 'ignore'] });
      const ri = spawnSync('regfinfo', [f], { stdio: ['ignore', 'ignore', 'ignore'] });
      expect(hx.status !== 0 || ri.status !== 0).toBe(true);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Synthetic logs built from the real pair regipy/NTUSER.DAT -> NTUSER_modified.DAT (same hbins size).

describe.skipIf(!!readersReason)(`recovery: synthetic logs over a real hive pair${skipNote(readersReason)}`, () => {
  const load = () => {
    const from = fx('regipy/NTUSER.DAT');
    const to = fx('regipy/NTUSER_modified.DAT');
    const hb = parseBaseBlock(from).hbinsSize;
    expect(parseBaseBlock(to).hbinsSize).toBe(hb);
    const pages = differingPages(from, to, hb);
    expect(pages.length).toBeGreaterThan(4);
    return { from, to, hb, pages };
  };

  it('new format across the 2^32 wrap: LOG1 0xFFFFFFFE..0xFFFFFFFF then LOG2 0..1', () => {
    const { from, to, hb, pages } = load();
    const primary = withSeqs(from, 0xffffffff, 0xfffffffe);
    const q = Math.floor(pages.length / 4);
    const log1 = makeNewLog(from, 0xfffffffe, [makeEntry(0xfffffffe, hb, pages.slice(0, q)), makeEntry(0xffffffff, hb, pages.slice(q, 2 * q))]);
    const log2 = makeNewLog(from, 0, [makeEntry(0, hb, pages.slice(2 * q, 3 * q)), makeEntry(1, hb, pages.slice(3 * q), 1)]);
    const r = recoverHive(primary, [
      { name: 'X.LOG2', bytes: log2 },
      { name: 'X.LOG1', bytes: log1 },
    ]);
    expect(r.applied).toEqual([
      { log: 'X.LOG1', firstSeq: 0xfffffffe, lastSeq: 0xffffffff, entries: 2 },
      { log: 'X.LOG2', firstSeq: 0, lastSeq: 1, entries: 2 },
    ]);
    const bb = expectCleanRecovered(r);
    expect(bb.seq1).toBe(2);
    expect(bb.flags & 1).toBe(1); // flags bit0 copied from the last entry
    expect(Buffer.compare(bins(r.bytes, hb), bins(to, hb))).toBe(0);
    expect(r.maxSeqSeen).toBe(1); // wrap-aware: 1 comes after 0xFFFFFFFF
    expect(acceptedByReaders(r.bytes, 'wrap')).toBe(withTempFile(to, countKeys));
  });

  it('continues into the other log only at last + 1; stale logs are skipped', () => {
    const { from, hb, pages } = load();
    const primary = withSeqs(from, 11, 10);
    const log1 = makeNewLog(from, 10, [makeEntry(10, hb, pages.slice(0, 2)), makeEntry(11, hb, pages.slice(2, 3))]);
    const gap = makeNewLog(from, 13, [makeEntry(13, hb, pages.slice(3, 4))]);
    const r = recoverHive(primary, [
      { name: 'X.LOG1', bytes: log1 },
      { name: 'X.LOG2', bytes: gap },
    ]);
    expect(r.applied).toEqual([{ log: 'X.LOG1', firstSeq: 10, lastSeq: 11, entries: 2 }]);
    expect(expectCleanRecovered(r).seq1).toBe(12);
    expect(r.maxSeqSeen).toBe(13);
    // Page 3 came only from the unchained log: untouched.
    const p3 = pages[3]!.offset;
    expect(Buffer.compare(r.bytes.subarray(4096 + p3, 8192 + p3), from.subarray(4096 + p3, 8192 + p3))).toBe(0);

    // Stale: base 15 < primary secondary 20, so the next log (base 20) is applied alone.
    const primary2 = withSeqs(from, 21, 20);
    const stale = makeNewLog(from, 15, [makeEntry(15, hb, pages.slice(0, 1)), makeEntry(16, hb, pages.slice(1, 2))]);
    const fresh = makeNewLog(from, 20, [makeEntry(20, hb, pages.slice(2, 3))]);
    const r2 = recoverHive(primary2, [
      { name: 'X.LOG1', bytes: stale },
      { name: 'X.LOG2', bytes: fresh },
    ]);
    expect(r2.applied).toEqual([{ log: 'X.LOG2', firstSeq: 20, lastSeq: 20, entries: 1 }]);
    expect(expectCleanRecovered(r2).seq1).toBe(21);
    expect(r2.logs[0]!.problem).toMatch(/stale/);
  });

  it('a chain stops at a bad hash, a wrong sequence or a zero page count', () => {
    const { from, hb, pages } = load();
    const primary = withSeqs(from, 6, 5);
    const e5 = makeEntry(5, hb, pages.slice(0, 1));
    const badHash = makeEntry(6, hb, pages.slice(1, 2));
    badHash[100]! ^= 1;
    const wrongSeq = makeEntry(7, hb, pages.slice(1, 2));
    const zeroPages = makeEntry(6, hb, []);
    for (const second of [badHash, wrongSeq, zeroPages]) {
      const log = makeNewLog(from, 5, [e5, second, makeEntry(7, hb, pages.slice(2, 3))]);
      const r = recoverHive(primary, [{ name: 'X.LOG1', bytes: log }]);
      expect(r.applied).toEqual([{ log: 'X.LOG1', firstSeq: 5, lastSeq: 5, entries: 1 }]);
      expect(r.logs[0]!.entries.map((e) => e.seq)).toEqual([5]);
    }
  });

  it('invalid primary base block: the log with the latest entries wins and its base block is used', () => {
    const { from, to, hb, pages } = load();
    const primary = withSeqs(from, 6, 5, true);
    const half = Math.floor(pages.length / 2);
    const older = makeNewLog(to, 5, [makeEntry(5, hb, pages.slice(0, half)), makeEntry(6, hb, pages.slice(half))]);
    const newer = makeNewLog(to, 7, [makeEntry(7, hb, pages)]);
    const r = recoverHive(primary, [
      { name: 'X.LOG1', bytes: newer },
      { name: 'X.LOG2', bytes: older },
    ]);
    expect(r.applied).toEqual([{ log: 'X.LOG1', firstSeq: 7, lastSeq: 7, entries: 1 }]);
    expect(expectCleanRecovered(r).seq1).toBe(8);
    expect(Buffer.compare(bins(r.bytes, hb), bins(to, hb))).toBe(0);
    expect(acceptedByReaders(r.bytes, 'bad base block')).toBe(withTempFile(to, countKeys));
  });

  // Old format (type 1): base block, DIRT + bitmap (one bit per 512-byte page), packed dirty pages.
  const makeOldLog = (target: Uint8Array, seq: number, timestamp: bigint, pageIdx: number[], type = 1): Uint8Array => {
    const hb = parseBaseBlock(target).hbinsSize;
    const bitmapLen = hb / 4096;
    const pagesStart = Math.ceil((516 + bitmapLen) / 512) * 512;
    const log = new Uint8Array(pagesStart + 512 * pageIdx.length);
    log.set(target.subarray(0, 512), 0);
    writeBaseBlock(log, { seq1: seq, seq2: seq, type, timestamp });
    log.set([0x44, 0x49, 0x52, 0x54], 512);
    pageIdx.forEach((i, k) => {
      log[516 + (i >> 3)]! |= 1 << (i & 7);
      log.set(target.subarray(4096 + 512 * i, 4096 + 512 * i + 512), pagesStart + 512 * k);
    });
    return log;
  };
  const dirty512 = (a: Uint8Array, b: Uint8Array, hb: number) =>
    range(0, hb / 512 - 1).filter((i) => Buffer.compare(a.subarray(4096 + 512 * i, 4608 + 512 * i), b.subarray(4096 + 512 * i, 4608 + 512 * i)) !== 0);

  it('old format: the bitmap pages are applied when the timestamp matches; LOG2 wins when newer', () => {
    const { from, to, hb } = load();
    const primary = withSeqs(from, 750, 749);
    const ts = parseBaseBlock(primary).timestamp;
    const idx = dirty512(from, to, hb);
    const r = recoverHive(primary, [{ name: 'X.LOG', bytes: makeOldLog(to, 750, ts, idx) }]);
    expect(r.logs[0]!.format).toBe('old');
    expect(r.applied).toEqual([{ log: 'X.LOG', firstSeq: 750, lastSeq: 750, entries: 1 }]);
    expect(expectCleanRecovered(r).seq1).toBe(751);
    expect(Buffer.compare(bins(r.bytes, hb), bins(to, hb))).toBe(0);
    expect(acceptedByReaders(r.bytes, 'old format')).toBe(withTempFile(to, countKeys));

    // Two applicable logs: the newer one is used.
    const r2 = recoverHive(primary, [
      { name: 'X.LOG1', bytes: makeOldLog(to, 750, ts, idx.slice(0, 1)) },
      { name: 'X.LOG2', bytes: makeOldLog(to, 751, ts, idx, 2) },
    ]);
    expect(r2.applied[0]!.log).toBe('X.LOG2');
    expect(Buffer.compare(bins(r2.bytes, hb), bins(to, hb))).toBe(0);

    // A timestamp that does not match the primary's: not applicable.
    expect(() => recoverHive(primary, [{ name: 'X.LOG', bytes: makeOldLog(to, 750, ts + 1n, idx) }])).toThrow(DirtyHiveError);
    // Truncated dirty pages: invalid, never a partial replay.
    const trunc = makeOldLog(to, 750, ts, idx);
    expect(() => recoverHive(primary, [{ name: 'X.LOG', bytes: trunc.subarray(0, trunc.length - 512) }])).toThrow(DirtyHiveError);
  });

  it('old format with an invalid primary base block matches the first bin timestamp and takes the log base block', () => {
    const { from, to, hb } = load();
    const primary = withSeqs(from, 750, 749, true);
    const hbinTs = new DataView(from.buffer, from.byteOffset).getBigUint64(4096 + 20, true);
    const idx = dirty512(from, to, hb);
    const log = makeOldLog(to, 750, hbinTs, idx);
    const r = recoverHive(primary, [{ name: 'X.LOG1', bytes: log }]);
    expectCleanRecovered(r);
    expect(Buffer.compare(bins(r.bytes, hb), bins(to, hb))).toBe(0);
    expect(u32(r.bytes, 36)).toBe(u32(log, 36));
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: only FormatError, never a hang or an unbounded allocation.

describe.skipIf(!!fixturesReason)(`recovery: robustness${skipNote(fixturesReason)}`, () => {
  it('truncating a log at an entry boundary shortens the chain to the entries before it', async () => {
    const dest = `${W11}/DEFAULT`;
    const logs = await logsFor(dest);
    const log1 = logs.find((l) => l.name === 'DEFAULT.LOG1')!;
    const log2 = logs.find((l) => l.name === 'DEFAULT.LOG2')!;
    const e107 = hashValidEntries(log1.bytes).find((e) => e.seq === 107)!;
    const r = recoverHive(fx(dest), [{ ...log1, bytes: log1.bytes.subarray(0, e107.offset + 100) }, log2]);
    expect(r.applied.map((a) => [a.log, a.firstSeq, a.lastSeq])).toEqual([
      ['DEFAULT.LOG2', 104, 105],
      ['DEFAULT.LOG1', 106, 106],
    ]);
    expect(expectCleanRecovered(r).seq1).toBe(107);
    const e105 = hashValidEntries(log2.bytes).find((e) => e.seq === 105)!;
    const r2 = recoverHive(fx(dest), [log1, { ...log2, bytes: log2.bytes.subarray(0, e105.offset) }]);
    // LOG2 ends at 104; LOG1 starts at 106, not 105, so it is not chained.
    expect(r2.applied.map((a) => [a.log, a.firstSeq, a.lastSeq])).toEqual([['DEFAULT.LOG2', 104, 104]]);
  });

  it('truncated logs at many lengths: a clean result or a FormatError', async () => {
    for (const dest of [`${W11}/DEFAULT`, `${W11}/NetworkService/NTUSER.DAT`, 'regipy/transactions_NTUSER.DAT']) {
      const primary = fx(dest);
      const logs = await logsFor(dest);
      for (let i = 0; i < logs.length; i++) {
        const len = logs[i]!.bytes.length;
        for (const cut of [0, 1, 100, 511, 512, 513, 552, 1024, 4096, 4097, len >> 2, len >> 1, len - 512, len - 1]) {
          const mod = logs.map((l, j) => (j === i ? { ...l, bytes: l.bytes.subarray(0, Math.max(0, cut)) } : l));
          recoverOrFormatError(primary, mod);
          inspectLogs(primary, mod);
        }
      }
    }
  });

  it('300 seeded random byte flips in logs and primary base blocks: a clean result or a FormatError', async () => {
    const rnd = mulberry32(0x5eed1234);
    const sets = await Promise.all(
      [`${W11}/DEFAULT`, `${W11}/LocalService/NTUSER.DAT`, `${W11}/NetworkService/NTUSER.DAT`, `${W11}/BBI`].map(async (d) => ({
        primary: fx(d),
        logs: await logsFor(d),
      })),
    );
    let ok = 0;
    let errors = 0;
    const t0 = Date.now();
    for (let iter = 0; iter < 300; iter++) {
      const set = sets[Math.floor(rnd() * sets.length)]!;
      let primary = set.primary;
      const logs = set.logs.map((l) => ({ ...l }));
      const target = Math.floor(rnd() * (logs.length + 1));
      const flips = 1 + Math.floor(rnd() * 8);
      if (target === logs.length) {
        primary = primary.slice();
        for (let k = 0; k < flips; k++) primary[Math.floor(rnd() * 4096)]! ^= 1 + Math.floor(rnd() * 255);
      } else {
        const b = logs[target]!.bytes.slice();
        for (let k = 0; k < flips; k++) {
          // Half the flips hit the base block and the first entry headers, where parsing decisions are made.
          const pos = rnd() < 0.5 ? Math.floor(rnd() * Math.min(b.length, 8192)) : Math.floor(rnd() * b.length);
          b[pos]! ^= 1 + Math.floor(rnd() * 255);
        }
        logs[target] = { ...logs[target]!, bytes: b };
      }
      const res = recoverOrFormatError(primary, logs);
      if (res instanceof FormatError) errors++;
      else ok++;
    }
    expect(ok + errors).toBe(300);
    expect(ok).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('hash-valid entries claiming absurd sizes are rejected without allocating them', () => {
    const from = fx('regipy/NTUSER.DAT');
    const hb = parseBaseBlock(from).hbinsSize;
    const page = { offset: 0, data: from.slice(4096, 8192) };
    const primary = withSeqs(from, 2, 1);
    const run = (entry: Uint8Array) => recoverOrFormatError(primary, [{ name: 'X.LOG1', bytes: makeNewLog(from, 1, [entry]) }]);

    // hbins size of almost 4 GiB with correct hashes: a FormatError, not a 4 GiB buffer.
    const huge = run(makeEntry(1, 0xfffff000, [page]));
    expect(huge).toBeInstanceOf(FormatError);
    expect((huge as Error).message).toMatch(/2 GiB/);
    // Page count that cannot fit in the entry, page outside the hbins size, size past the end of the file.
    expect(run(makeEntry(1, hb, [page], 0, (e) => setU32(e, 20, 0x10000000)))).toBeInstanceOf(DirtyHiveError);
    expect(run(makeEntry(1, hb, [{ offset: 0x7ffff000, data: page.data }]))).toBeInstanceOf(DirtyHiveError);
    expect(run(makeEntry(1, hb, [page], 0, (e) => setU32(e, 4, 0xfffffe00)))).toBeInstanceOf(DirtyHiveError);
    // A valid entry followed by a hash-valid, in-sequence entry claiming 2 GiB + 4 KiB: replaying
    // this log is refused rather than silently stopping short.
    const log = makeNewLog(from, 1, [makeEntry(1, hb, [page]), makeEntry(2, 0x80001000, [page])]);
    expect(recoverOrFormatError(primary, [{ name: 'X.LOG1', bytes: log }])).toBeInstanceOf(FormatError);
  });

  it('thousands of headers with a valid Hash-2 but a bad Hash-1 do not make the scan quadratic', () => {
    const from = fx('regipy/NTUSER.DAT');
    const len = 4 << 20;
    const log = new Uint8Array(len);
    log.set(from.subarray(0, 512), 0);
    writeBaseBlock(log, { seq1: 1, seq2: 1, type: 6 });
    const dv = new DataView(log.buffer);
    for (let p = 512; p + 512 <= len; p += 512) {
      log.set([0x48, 0x76, 0x4c, 0x45], p);
      dv.setUint32(p + 4, len - p, true); // each claims to run to the end of the file
      dv.setUint32(p + 12, 1000, true);
      dv.setUint32(p + 16, 4096, true);
      dv.setUint32(p + 20, 1, true);
      dv.setBigUint64(32 + p, marvin32(log.subarray(p, p + 32)), true);
    }
    const t0 = Date.now();
    const res = recoverOrFormatError(withSeqs(from, 2, 1), [{ name: 'X.LOG1', bytes: log }]);
    expect(res).toBeInstanceOf(DirtyHiveError);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('garbage primaries: a FormatError or a clean hive rebuilt from the log', async () => {
    const logs = await logsFor(`${W11}/DEFAULT`);
    const rnd = mulberry32(7);
    const garbage = Uint8Array.from({ length: 16384 }, () => Math.floor(rnd() * 256));
    expect(recoverOrFormatError(garbage, [])).toBeInstanceOf(FormatError);
    expect(recoverOrFormatError(new Uint8Array(0), [])).toBeInstanceOf(FormatError);
    const rebuilt = recoverOrFormatError(garbage, logs);
    expect(rebuilt).not.toBeInstanceOf(FormatError);
    // Only one log (DEFAULT.LOG1 holds the latest entries, 106-107) is used when the primary is unreadable.
    expect((rebuilt as RecoveryResult).applied).toEqual([{ log: 'DEFAULT.LOG1', firstSeq: 106, lastSeq: 107, entries: 2 }]);
  });
});

// ---------------------------------------------------------------------------------------------
// logfiles.ts

describe('logfiles: findLogs / readLogs / truncateLogs', () => {
  it('matches .LOG, .LOG1, .LOG2 case-insensitively on the whole name, in that order', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wufix-logs-'));
    try {
      const primary = path.join(dir, 'NTUSER.DAT');
      for (const n of [
        'NTUSER.DAT',
        'ntuser.dat.LOG2',
        'NTUSER.DAT.log',
        'Ntuser.Dat.Log1',
        'NTUSER.DAT.LOG3',
        'NTUSER.DAT.LOG1.bak',
        'XNTUSER.DAT.LOG1',
        'NTUSER.DA.LOG1',
      ]) {
        writeFileSync(path.join(dir, n), n);
      }
      const found = await findLogs(primary);
      expect(found.map((p) => path.basename(p))).toEqual(['NTUSER.DAT.log', 'Ntuser.Dat.Log1', 'ntuser.dat.LOG2']);
      const logs = await readLogs(primary);
      expect(logs.map((l) => [l.name, Buffer.from(l.bytes).toString()])).toEqual([
        ['NTUSER.DAT.log', 'NTUSER.DAT.log'],
        ['Ntuser.Dat.Log1', 'Ntuser.Dat.Log1'],
        ['ntuser.dat.LOG2', 'ntuser.dat.LOG2'],
      ]);
      await truncateLogs(found);
      for (const p of found) expect(statSync(p).size).toBe(0);
      expect(statSync(primary).size).toBe('NTUSER.DAT'.length);
      // An empty log is reported as such.
      const info = inspectLogs(new Uint8Array(0), await readLogs(primary));
      expect(info.map((i) => i.format)).toEqual(['empty', 'empty', 'empty']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!!fixturesReason)('finds the fixtures logs despite their case (ntuser.dat.LOG1, transactions_ntuser.dat.log1)', async () => {
    const names = async (d: string) => (await findLogs(path.join(HIVES, d))).map((p) => path.basename(p));
    expect(await names(`${W11}/NTUSER.DAT`)).toEqual(['ntuser.dat.LOG1', 'ntuser.dat.LOG2']);
    expect(await names('regipy/transactions_NTUSER.DAT')).toEqual(['transactions_ntuser.dat.log1', 'transactions_ntuser.dat.log2']);
    expect(await names(`${W11}/BCD-Template`)).toEqual(['BCD-Template.LOG']);
    expect(await names('regipy/SYSTEM')).toEqual([]);
  });
});
