// Bad input: truncated files, random byte flips, cyclic lists, absurd sizes. The engine must answer
// with a FormatError (exit 2 from the CLI, one line) or read what is there; never hang, crash with
// another exception, or allocate without bound.
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hive } from '../../src/hive/hive.js';
import { FormatError, BadInputError } from '../../src/shared/errors.js';
import { recoverHive } from '../../src/hive/recovery.js';
import { sharedReason, hiveFixture } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';

/** Open, walk every key, read every value, then edit; returns 'ok' or 'format'. */
function exercise(bytes: Uint8Array, edit = false): string {
  try {
    const h = Hive.open(bytes);
    h.walk(h.rootCell, '', (nk) => {
      for (const vk of h.values(nk)) h.value(vk);
      h.className(nk);
    });
    if (edit) {
      const k = h.ensureKey('Software\\Wufix\\Fuzz');
      h.setValue(k, 'State', 4, new Uint8Array([0, 0x3c, 2, 0]));
      h.setValue(k, 'Big', 3, new Uint8Array(20000));
      h.deleteKey(h.lookup('Software\\Wufix')!);
      h.verify();
      Hive.open(h.serialize()).verify();
    }
    return 'ok';
  } catch (e) {
    if (e instanceof FormatError || e instanceof BadInputError) return 'format';
    throw e;
  }
}

const RUNS = Number(process.env.WUFIX_FUZZ_RUNS ?? 1000);

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe.skipIf(!!sharedReason())('corrupt hives', () => {
  const targets = ['hivex/minimal', 'regipy/BCD', 'DFIRArtifactMuseum/Win7/NTUSER1.DAT', 'regipy/NTUSER.DAT'];
  for (const dest of sharedReason() ? [] : targets) {
    it(`${dest}: 1,000 runs of random byte flips give a clean read (and edit) or a FormatError`, () => {
      const orig = new Uint8Array(readFileSync(hiveFixture(dest)));
      const rand = rng(dest.length * 7919);
      const outcomes = { ok: 0, format: 0 };
      const before = process.memoryUsage().rss;
      for (let run = 0; run < RUNS; run++) {
        const b = orig.slice();
        const flips = 1 + Math.floor(rand() * 16);
        for (let i = 0; i < flips; i++) {
          // Bias towards the structures: the base block and the first bins.
          const span = rand() < 0.5 ? Math.min(b.length, 0x3000) : b.length;
          const at = Math.floor(rand() * span);
          b[at] = rand() < 0.5 ? Math.floor(rand() * 256) : b[at]! ^ (1 << Math.floor(rand() * 8));
        }
        outcomes[exercise(b, run % 2 === 0) as 'ok' | 'format']++;
      }
      expect(outcomes.ok + outcomes.format).toBe(RUNS);
      expect(outcomes.format).toBeGreaterThan(0);
      // Memory stays bounded (no allocation driven by a corrupt length).
      expect(process.memoryUsage().rss - before).toBeLessThan(512 * 1024 * 1024);
    });
  }

  it('truncated files at every 4 KiB boundary and in the base block are FormatErrors', () => {
    const orig = new Uint8Array(readFileSync(hiveFixture('regipy/BCD')));
    const cuts = [0, 3, 100, 511, 4095, 4096, 4097];
    for (let c = 8192; c < orig.length; c += 4096) cuts.push(c - 1);
    for (const c of cuts) expect(exercise(orig.slice(0, c))).toBe('format');
  });

  it('a cyclic subkey list and a self-parented tree are caught, not followed forever', () => {
    const h = Hive.create({ minor: 5 });
    const a = h.createKey(h.rootCell, 'A');
    h.createKey(a, 'B');
    const bytes = h.serialize();
    const dv = new DataView(bytes.buffer);
    // Point A's subkey list entry at A itself: A -> A -> A ...
    const listOff = dv.getUint32(0x1000 + a + 4 + 28, true);
    dv.setUint32(0x1000 + listOff + 4 + 4, a, true);
    expect(exercise(bytes)).toBe('format');
  });

  it('absurd cell sizes and value lengths are refused without allocating them', () => {
    const h = Hive.create({ minor: 5 });
    h.setValue(h.rootCell, 'v', 3, new Uint8Array(100));
    const good = h.serialize();
    const vk = h.values(h.rootCell)[0]!;
    const b1 = good.slice();
    new DataView(b1.buffer).setUint32(0x1000 + vk + 4 + 4, 0x7ffffff0, true); // 2 GiB data length
    expect(exercise(b1)).toBe('format');
    const b2 = good.slice();
    new DataView(b2.buffer).setInt32(0x1000 + vk, -0x7ffffff8, true); // cell larger than the file
    expect(exercise(b2)).toBe('format');
    const b3 = good.slice();
    new DataView(b3.buffer).setUint32(40, 0xfffff000, true); // hbins size near 4 GiB
    expect(exercise(b3)).toBe('format');
  });

  it('recovery from garbage logs never throws anything but a FormatError', () => {
    const primary = new Uint8Array(readFileSync(hiveFixture('DFIRArtifactMuseum/Win11/DEFAULT')));
    const log = new Uint8Array(readFileSync(hiveFixture('DFIRArtifactMuseum/Win11/DEFAULT.LOG1')));
    const rand = rng(42);
    for (let run = 0; run < 200; run++) {
      const l = log.slice();
      for (let i = 0; i < 8; i++) l[Math.floor(rand() * l.length)] = Math.floor(rand() * 256);
      try {
        const r = recoverHive(primary, [{ name: 'DEFAULT.LOG1', bytes: l }]);
        expect(exercise(r.bytes)).toMatch(/ok|format/);
      } catch (e) {
        expect(e).toBeInstanceOf(FormatError);
      }
    }
  });
});

describe('the CLI answers bad input with exit 2 and one line, never a stack trace', () => {
  it('truncated, empty, missing and non-hive files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-bad-'));
    try {
      const h = Hive.create({ minor: 5 });
      h.createKey(h.rootCell, 'Software');
      const full = h.serialize();
      const cases: [string, Uint8Array | null, RegExp][] = [
        ['empty', new Uint8Array(0), /too short for a regf base block/],
        ['truncated', full.slice(0, 6000), /runs past the end of the \d+-byte file/],
        ['text', new TextEncoder().encode('hello world, not a hive at all'.repeat(30)), /not a registry hive/],
        ['missing', null, /no such file/],
      ];
      for (const [name, bytes, msg] of cases) {
        const f = path.join(dir, name);
        if (bytes) writeFileSync(f, bytes);
        for (const args of [
          ['hive', 'info', f],
          ['hive', 'dump', f, '--json'],
          ['hive', 'set', f, 'K', 'v', '--type', 'REG_DWORD', '--data', '1'],
        ]) {
          const r = runCli(args);
          expect(r.status, `${name} ${args[1]}: ${r.stderr}`).toBe(2);
          expect(r.stderr).toMatch(msg);
          expect(r.stderr.trim().split('\n')).toHaveLength(1);
          expect(r.stderr).not.toMatch(/\n\s+at /);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
