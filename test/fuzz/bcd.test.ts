// Fuzz tier, BCD stores: parseBcdStore + describeWinre (+ formatDevice of every device) over
// Hive.open of real BCD stores from ../shared/fixtures (bcd/, and the BCD hives of hives/), mutated
// two ways: bytes of the whole hive file (half of the cases), or the data of one element value
// rewritten in a sound hive (the other half), so the element decoders (devices, object lists,
// integers) see hostile data behind a valid registry structure. Plus a generated regression.
import { describe, expect, it } from 'vitest';
import { Hive } from '../../src/hive/hive.js';
import { describeWinre, formatDevice, parseBcdStore } from '../../src/formats/bcd.js';
import { FormatError } from '../../src/shared/errors.js';
import { CASES, caseRng, fixtureBytes, fixturesReason, fuzz, mutate, share } from './harness.js';

const STORES: [string, string][] = [
  ['bcd', 'BCDrecovery'],
  ['bcd', 'BCDvm'],
  ['hives', 'regipy/BCD'],
  ['hives', 'DFIRArtifactMuseum/Win7/BCD'],
  ['hives', 'DFIRArtifactMuseum/Win11/BCD-Template'],
];

function runBcd(bytes: Uint8Array): { outSize: number } {
  const store = parseBcdStore(Hive.open(bytes));
  const w = describeWinre(store);
  let out = JSON.stringify(w).length;
  for (const o of store.objects) {
    for (const e of o.elements) {
      out += e.raw.length + 32;
      const v = e.value as unknown;
      if (v && typeof v === 'object' && 'kind' in v) out += formatDevice(v as Parameters<typeof formatDevice>[0]).length;
      else if (typeof v === 'string') out += v.length;
      else if (Array.isArray(v)) out += v.length * 8;
    }
  }
  return { outSize: out };
}

/** Every (element key, vk) of a store, to rewrite one element's data. */
function elementValues(h: Hive): { key: number; type: number }[] {
  const out: { key: number; type: number }[] = [];
  const objects = h.lookup('Objects');
  if (objects === undefined) return out;
  for (const o of h.subkeys(objects)) {
    const els = h.findSubkey(o, 'Elements');
    if (els === undefined) continue;
    for (const e of h.subkeys(els)) {
      const vk = h.findValue(e, 'Element');
      if (vk !== undefined) out.push({ key: e, type: h.valueType(vk) });
    }
  }
  return out;
}

describe.skipIf(!!fixturesReason())('fuzz: BCD stores (parseBcdStore + describeWinre)', () => {
  it(`${CASES} mutated real stores: a description or a FormatError, each case bounded`, async () => {
    const stores = STORES.map(([d, f]) => fixtureBytes(d, f));
    for (const [i, b] of stores.entries()) expect(() => runBcd(b.slice()), STORES[i]![1]).not.toThrow();
    let total = 0;
    for (const [si, orig] of stores.entries()) {
      const elements = elementValues(Hive.open(orig.slice()));
      expect(elements.length, STORES[si]![1]).toBeGreaterThan(3);
      const r = await fuzz(
        `bcd ${STORES[si]![1]}`,
        share(CASES, stores.length, si),
        (i) => {
          const rng = caseRng(`bcd:${STORES[si]![1]}`, i);
          if (i % 2 === 0) {
            const m = mutate(rng, orig, { hot: [[0x1000, orig.length]], maxOps: 8 });
            return { input: m.bytes, inSize: m.bytes.length, ops: m.ops, label: 'file bytes' };
          }
          // One element's data mutated (often resized) behind a sound hive structure.
          const h = Hive.open(orig.slice());
          const el = elements[rng.int(elements.length)]!;
          const vk = h.findValue(el.key, 'Element')!;
          const data = h.valueData(vk);
          const m = data.length ? mutate(rng, data, { maxOps: 6, maxLength: 4096 }) : { bytes: new Uint8Array(rng.int(64)), ops: ['empty->zeros'] };
          const type = rng.chance(0.1) ? rng.pick([1, 3, 4, 7, 11]) : el.type;
          h.setValue(el.key, 'Element', type, m.bytes);
          const bytes = h.serialize().slice();
          return { input: bytes, inSize: bytes.length, ops: [`element ${h.keyName(el.key)} type ${type}:`, ...m.ops], label: 'element data' };
        },
        (b) => runBcd(b),
        { outFactor: 8 },
      );
      expect(r.failures).toEqual([]);
      total += r.cases;
    }
    expect(total).toBeGreaterThanOrEqual(CASES);
  });
});

describe('crafted BCD: bounded copies (regression)', () => {
  it('2,000 elements whose values all name one 64 KiB data cell are refused, not copied 2,000 times', () => {
    const h = Hive.create({ minor: 3, rootName: 'BCD' });
    const objects = h.ensureKey('Objects');
    const obj = h.createKey(objects, '{9dea862c-5cdd-4e70-acc1-f32b344d4795}');
    const els = h.createKey(obj, 'Elements');
    const keys: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const k = h.createKey(els, (0x12000004 + i).toString(16).padStart(8, '0'));
      h.setValue(k, 'Element', 3, new Uint8Array(i === 0 ? 65536 : 8));
      keys.push(k);
    }
    const bytes = h.serialize().slice();
    const dv = new DataView(bytes.buffer);
    const vk0 = h.values(keys[0]!)[0]!;
    const cell = dv.getUint32(0x1000 + vk0 + 4 + 8, true);
    for (const k of keys) {
      const vk = h.values(k)[0]!;
      dv.setUint32(0x1000 + vk + 4 + 4, 65536, true);
      dv.setUint32(0x1000 + vk + 4 + 8, cell, true);
    }
    const t0 = performance.now();
    expect(() => parseBcdStore(Hive.open(bytes))).toThrow(FormatError);
    expect(() => parseBcdStore(Hive.open(bytes))).toThrow(/element data adds up to more than the \d+-byte hive/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
