// Writing: random edits on real fixtures and on new hives, saved through the atomic path, then read
// back by independent readers (python3-hivex dump equals our model; reglookup, regfinfo and hivexml
// accept the file); and edits made by hivex are read back by wufix.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hive, MAX_INDEX, MAX_FAST_INDEX } from '../../src/hive/hive.js';
import { openHiveFile, saveHiveFile, writeNewHiveFile } from '../../src/hive/hivefile.js';
import { parseBaseBlock } from '../../src/hive/baseblock.js';
import { dumpJsonLines } from '../../src/hive/dump.js';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { hivexDump, expectAcceptedByReaders, hivexsh, type DumpRow } from '../helpers/hive-tools.js';
import { Model } from '../helpers/hive-model.js';
import * as sddl from '../../src/formats/sddl.js';

const toolReason = toolsReason('python3-hivex', 'reglookup', 'regfinfo', 'hivexml', 'hivexsh');
const reason = skipReason(sharedReason(), toolReason);

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-write-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function ourDump(hive: Hive): DumpRow[] {
  const rows: DumpRow[] = [];
  dumpJsonLines(hive, '', (l) => rows.push(JSON.parse(l)));
  return rows;
}

function fill(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

const wellFormed = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
const keyName = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z0-9 _.{}-]{1,24}$/),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  )
  .filter((s) => s.length > 0 && s.length <= 255 && !s.includes('\\') && wellFormed(s));
const valueName = fc.oneof(fc.constant(''), keyName, fc.string({ unit: 'grapheme', minLength: 0, maxLength: 100 }).filter(wellFormed));
const valueType = fc.oneof(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: 0xffffffff }));
const valueSize = fc.oneof(
  fc.integer({ min: 0, max: 8 }),
  fc.integer({ min: 0, max: 400 }),
  fc.integer({ min: 16330, max: 16360 }),
  fc.integer({ min: 0, max: 200 * 1024 }),
);

type Op =
  | { kind: 'create'; at: number; name: string }
  | { kind: 'delkey'; at: number }
  | { kind: 'set'; at: number; name: string; reuse: number; type: number; size: number; seed: number }
  | { kind: 'delval'; at: number; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), at: fc.nat(), name: keyName }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delkey' as const), at: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      name: valueName,
      reuse: fc.integer({ min: -3, max: 20 }),
      type: valueType,
      size: valueSize,
      seed: fc.nat(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delval' as const), at: fc.nat(), pick: fc.nat() }) },
);

/** Apply one op to the engine and the model alike. */
function apply(hive: Hive, model: Model, o: Op, paths: string[]): void {
  const p = paths[o.at % paths.length]!;
  const nk = hive.lookup(p)!;
  switch (o.kind) {
    case 'create': {
      const child = p === '' ? o.name : `${p}\\${o.name}`;
      if (model.get(child)) return;
      if (child.split('\\').length > 500) return;
      hive.createKey(nk, o.name);
      model.ensure(child);
      return;
    }
    case 'delkey':
      if (p === '') return;
      hive.deleteKey(nk);
      model.deleteKey(p);
      return;
    case 'set': {
      const vals = model.get(p)!.values;
      const name = o.reuse >= 0 && vals.length ? vals[o.reuse % vals.length]!.name : o.name;
      const data = fill(o.size, o.seed);
      hive.setValue(nk, name, o.type, data);
      model.setValue(p, name, o.type, data);
      return;
    }
    case 'delval': {
      const vals = model.get(p)!.values;
      if (!vals.length) return;
      const name = vals[o.pick % vals.length]!.name;
      expect(hive.deleteValue(nk, name)).toBe(true);
      model.deleteValue(p, name);
      return;
    }
  }
}

/** Run ops on a copy of `source` (or a new hive), save atomically, check with every reader. */
async function runCase(label: string, source: string | { minor: number }, ops: Op[]): Promise<void> {
  const file = path.join(tmp, `${label.replace(/\W+/g, '_')}-${Math.random().toString(36).slice(2)}`);
  if (typeof source === 'string') copyFileSync(source, file);
  else await writeNewHiveFile(file, Hive.create({ minor: source.minor }));
  try {
    const opened = await openHiveFile(file);
    const model = Model.fromDump(ourDump(opened.hive));
    let paths = model.paths();
    for (const o of ops) {
      apply(opened.hive, model, o, paths);
      if (o.kind === 'create' || o.kind === 'delkey') paths = model.paths();
    }
    opened.hive.verify();
    expect(ourDump(opened.hive)).toEqual(model.dump());
    const before = parseBaseBlock(readFileSync(file));
    await saveHiveFile(opened);
    const after = parseBaseBlock(readFileSync(file));
    expect(after.seq1).toBe(after.seq2);
    expect(after.seq1).toBeGreaterThan(Math.max(before.seq1, before.seq2));
    expect(after.type).toBe(0);
    expect(after.checksumOk).toBe(true);
    // Independent readers.
    expect(hivexDump(file)).toEqual(model.dump());
    expect(expectAcceptedByReaders(file, { minor: after.minor })).toEqual([]);
    // And ours, from the saved bytes.
    const re = Hive.open(new Uint8Array(readFileSync(file)));
    re.verify();
    expect(ourDump(re)).toEqual(model.dump());
  } finally {
    rmSync(file, { force: true });
  }
}

describe.skipIf(!!reason)('random edits are read back exactly by libhivex, reglookup, regfinfo, hivexml', () => {
  const bases = [
    'hivex/minimal',
    'hivex/rlenvalue_test_hive',
    'regipy/BCD',
    'regipy/NTUSER.DAT',
    'DFIRArtifactMuseum/Win7/NTUSER1.DAT',
    'DFIRArtifactMuseum/Win11/ELAM',
    'DFIRArtifactMuseum/Win11/DEFAULT_PROFILE/NTUSER.DAT',
  ];
  for (const dest of bases) {
    it(`on ${dest}`, async () => {
      const src = hiveFixture(dest);
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => runCase(dest, src, ops)),
        { numRuns: 25, seed: 0x5eed + dest.length },
      );
    });
  }
  for (const minor of [3, 4, 5, 6]) {
    it(`on a new hive, version 1.${minor}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 80 }), (ops) => runCase(`new-${minor}`, { minor }, ops)),
        { numRuns: 25, seed: 0xbeef + minor },
      );
    });
  }
});

describe.skipIf(!!toolReason)('large subkey lists follow Windows thresholds', () => {
  for (const minor of [3, 5]) {
    it(`2,000 subkeys under one key in a 1.${minor} hive, then 1,500 deleted`, async () => {
      const file = path.join(tmp, `many-${minor}`);
      const hive = Hive.create({ minor });
      const parent = hive.createKey(hive.rootCell, 'Parent');
      const model = new Model();
      model.ensure('Parent');
      // Deterministic shuffled names, mixed case and non-ASCII.
      const names = Array.from({ length: 2000 }, (_, i) => `K${((i * 7919) % 2000).toString(36)}${i % 3 === 0 ? '\u00e9' : i % 3 === 1 ? 'x' : '\u4e2d'}`);
      for (const n of names) {
        hive.createKey(parent, n);
        model.ensure(`Parent\\${n}`);
      }
      hive.verify();
      await writeNewHiveFile(file, hive, true);
      expect(hivexDump(file)).toEqual(model.dump());
      expect(expectAcceptedByReaders(file)).toEqual([]);
      // The list became an ri of leaves: lf -> li at 507 in 1.3 hives, lh leaves in 1.5.
      const shape = listShape(new Uint8Array(readFileSync(file)), 'Parent');
      expect(shape.sig).toBe('ri');
      for (const leaf of shape.leaves) {
        expect(leaf.sig).toBe(minor >= 5 ? 'lh' : 'li');
        expect(leaf.count).toBeLessThanOrEqual(MAX_INDEX);
      }
      expect(shape.leaves.reduce((n, l) => n + l.count, 0)).toBe(2000);
      const re = (await openHiveFile(file)).hive;
      const p2 = re.lookup('Parent')!;
      for (const n of names.slice(0, 1500)) {
        re.deleteKey(re.findSubkey(p2, n.toUpperCase() === n ? n.toLowerCase() : n.toUpperCase())!);
        model.deleteKey(`Parent\\${n}`);
      }
      re.verify();
      await writeNewHiveFile(file, re, true);
      expect(hivexDump(file)).toEqual(model.dump());
      expect(expectAcceptedByReaders(file)).toEqual([]);
    });
  }

  it(`a 1.3 fast leaf turns into an index leaf at ${MAX_FAST_INDEX} entries`, () => {
    const hive = Hive.create({ minor: 3 });
    const p = hive.createKey(hive.rootCell, 'P');
    for (let i = 0; i < MAX_FAST_INDEX; i++) hive.createKey(p, `k${i}`);
    const b = hive.serialize();
    expect(listShape(b, 'P').sig).toBe('lf');
    hive.createKey(p, 'one-more');
    expect(listShape(hive.serialize(), 'P').sig).toBe('li');
  });
});

/** Read the raw subkey-list structure of a key (independent of the engine's list code). */
function listShape(bytes: Uint8Array, keyPath: string) {
  const hive = Hive.open(bytes);
  const nk = hive.lookup(keyPath)!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const cellData = (off: number) => 0x1000 + off + 4;
  const list = dv.getUint32(cellData(nk) + 28, true);
  const sigAt = (off: number) => String.fromCharCode(bytes[cellData(off)]!, bytes[cellData(off) + 1]!);
  const countAt = (off: number) => dv.getUint16(cellData(off) + 2, true);
  const sig = sigAt(list);
  const leaves: { sig: string; count: number }[] = [];
  if (sig === 'ri') {
    for (let i = 0; i < countAt(list); i++) {
      const l = dv.getUint32(cellData(list) + 4 + i * 4, true);
      leaves.push({ sig: sigAt(l), count: countAt(l) });
    }
  }
  return { sig, leaves };
}

describe.skipIf(!!reason)('edits made by hivex are read back by wufix', () => {
  it('hivexsh adds keys and values; our dump equals libhivex dump', () => {
    const file = path.join(tmp, 'hivexsh-edit');
    copyFileSync(hiveFixture('regipy/NTUSER.DAT'), file);
    const r = hivexsh(
      file,
      [
        'cd Software',
        'add WufixTest',
        'cd WufixTest',
        'setval 3',
        'State',
        'dword:0x23c00',
        'Name',
        'string:cafe',
        'Bin',
        'hex:3:01,02,03,04,05',
        'commit',
      ].join('\n') + '\n',
      true,
    );
    expect(r.status, r.stderr).toBe(0);
    const ours = ourDump(Hive.open(new Uint8Array(readFileSync(file))));
    expect(ours).toEqual(hivexDump(file));
    const k = ours.find((x) => x.path === 'Software\\WufixTest')!;
    expect(k.values.find((v) => v.name === 'State')!.data).toBe('003c0200');
  });
});

describe.skipIf(!!reason)('saving a dirty hive replays its logs first', () => {
  it('Win11 DEFAULT: logs applied, value set, logs emptied, clean primary above every seq', async () => {
    const dir = mkdtempSync(path.join(tmp, 'dirty-'));
    for (const f of ['DEFAULT', 'DEFAULT.LOG1', 'DEFAULT.LOG2']) copyFileSync(hiveFixture(`DFIRArtifactMuseum/Win11/${f}`), path.join(dir, f));
    const file = path.join(dir, 'DEFAULT');
    const opened = await openHiveFile(file);
    expect(opened.dirty).toBe(true);
    expect(opened.recovery?.applied.length).toBeGreaterThan(0);
    const model = Model.fromDump(ourDump(opened.hive));
    const keyPath = 'Software\\Microsoft\\Windows\\CurrentVersion\\WinTrust\\Trust Providers\\Software Publishing';
    const nk = opened.hive.ensureKey(keyPath);
    model.ensure(keyPath);
    const data = new Uint8Array([0x00, 0x3c, 0x02, 0x00]);
    opened.hive.setValue(nk, 'State', 4, data);
    model.setValue(keyPath, 'State', 4, data);
    const maxSeen = opened.hive.maxSeqSeen;
    await saveHiveFile(opened);
    const bb = parseBaseBlock(readFileSync(file));
    expect(bb.seq1).toBe(bb.seq2);
    expect(bb.seq1).toBe(maxSeen + 1);
    expect(readFileSync(path.join(dir, 'DEFAULT.LOG1')).length).toBe(0);
    expect(readFileSync(path.join(dir, 'DEFAULT.LOG2')).length).toBe(0);
    expect(hivexDump(file)).toEqual(model.dump());
    expect(expectAcceptedByReaders(file)).toEqual([]);
  });

  it('a dirty hive without logs is refused for writing unless --accept-dirty', async () => {
    const file = path.join(tmp, 'SYSTEM_2');
    copyFileSync(hiveFixture('regipy/SYSTEM_2'), file);
    const opened = await openHiveFile(file);
    expect(opened.unrecoverable).toBe(true);
    await expect(saveHiveFile(opened)).rejects.toThrow(/dirty.*--accept-dirty/);
    expect(readFileSync(file).equals(readFileSync(hiveFixture('regipy/SYSTEM_2')))).toBe(true);
    await saveHiveFile(opened, { acceptDirty: true });
    expect(parseBaseBlock(readFileSync(file)).seq1).toBe(parseBaseBlock(readFileSync(file)).seq2);
    writeFileSync(file, '');
  });
});

describe.skipIf(!!reason)('key security: setKeySecurity on a real SYSTEM hive', () => {
  it('a new descriptor, shared, then given back: the sk list stays one ring with true reference counts; reglookup, regfinfo and hivexml accept it', async () => {
    const file = path.join(tmp, 'sk-SYSTEM');
    copyFileSync(hiveFixture('regipy/SYSTEM'), file); // clean (sequence numbers equal)
    const h = await openHiveFile(file);
    const hive = h.hive;
    const wu = hive.lookup('ControlSet001\\Services\\wuauserv')!;
    const bits = hive.lookup('ControlSet001\\Services\\BITS')!;
    const orig = new Uint8Array(hive.keySecurity(wu)!);
    // A DENY FullControl for SYSTEM in front of the original DACL, as WuMgr leaves it.
    const sd = sddl.decodeSecurityDescriptor(orig);
    const lockedSd = sddl.encodeSecurityDescriptor({
      ...sd,
      dacl: { revision: sd.dacl!.revision, aces: [{ type: 1, flags: 0, mask: 0xf003f, sid: 'S-1-5-18' }, ...sd.dacl!.aces] },
    });
    hive.setKeySecurity(wu, lockedSd); // a new sk cell
    hive.setKeySecurity(bits, lockedSd); // shared with wuauserv's
    expect(hive.skOffset(bits)).toBe(hive.skOffset(wu));
    hive.setKeySecurity(bits, orig); // back to the original cell
    hive.setKeySecurity(wu, orig); // the new cell loses its last key: freed and unlinked
    expect(Buffer.from(hive.keySecurity(wu)!).equals(Buffer.from(orig))).toBe(true);
    // Ring and reference counts, read from the raw cells: every key's sk on the ring, each count = its keys.
    const refs = new Map<number, number>();
    hive.walk(hive.rootCell, '', (nk) => refs.set(hive.skOffset(nk), (refs.get(hive.skOffset(nk)) ?? 0) + 1));
    const ring = skRing(hive, hive.skOffset(wu));
    expect(new Set(ring)).toEqual(new Set(refs.keys()));
    for (const [sk, n] of refs) expect(skRefCount(hive, sk), `sk 0x${sk.toString(16)}`).toBe(n);
    await saveHiveFile(h);
    expect(expectAcceptedByReaders(file)).toEqual([]);
    // And with the locked descriptor saved: the readers accept it and reglookup shows the DENY.
    const h2 = await openHiveFile(file);
    h2.hive.setKeySecurity(h2.hive.lookup('ControlSet001\\Services\\wuauserv')!, lockedSd);
    await saveHiveFile(h2);
    expect(expectAcceptedByReaders(file)).toEqual([]);
  });
});

/** The sk offsets on the ring that holds `start` (flink order), read from the cells. */
function skRing(h: Hive, start: number): number[] {
  const out = [start];
  for (let sk = skField(h, start, 4); sk !== start && out.length < 100_000; sk = skField(h, sk, 4)) out.push(sk);
  for (const sk of out) expect(skField(h, skField(h, sk, 4), 8)).toBe(sk); // blink of the next is this one
  return out;
}
const skRefCount = (h: Hive, sk: number) => skField(h, sk, 12);
function skField(h: Hive, sk: number, off: number): number {
  const b = h.serialize();
  return new DataView(b.buffer, b.byteOffset).getUint32(4096 + sk + 4 + off, true);
}
