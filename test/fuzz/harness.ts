// The fuzz tier's shared machinery: a seeded mutator over real fixture bytes and a case runner that
// checks the parser contract on every case (issue #14 item 4, docs/parser-bounds.md):
//   - the parser returns a value, or throws one of our typed errors (FormatError / BadInputError /
//     WufixError); any other exception (TypeError, RangeError, stack overflow...) is a failure;
//   - each case ends within a per-case bound (a hang detector, not a speed test);
//   - the output stays a bounded multiple of the input (checked per case by the caller's `size`)
//     and the heap does not grow without bound over the batch.
// Everything is deterministic: the same seed gives the same cases. WUFIX_FUZZ_SEED changes the seed,
// WUFIX_FUZZ_CASES raises the count (never below the 2,000-per-file floor), WUFIX_FUZZ_ONLY=<n> runs
// one case (to reproduce a failure printed by a run).
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { FIXTURES, sharedReason } from '../helpers/env.js';
import { WufixError } from '../../src/shared/errors.js';

export const SEED = Number(process.env.WUFIX_FUZZ_SEED ?? 0x14f0_0014) >>> 0;
/** The floor per parser family (issue #14 acceptance: at least 2,000 cases each, in CI too). */
export const MIN_CASES = 2000;
export const CASES = Math.max(MIN_CASES, Number(process.env.WUFIX_FUZZ_CASES ?? MIN_CASES));
const ONLY = process.env.WUFIX_FUZZ_ONLY === undefined ? undefined : Number(process.env.WUFIX_FUZZ_ONLY);
/** Per-case hang detector (generous: the slowest real case is reported and is far below it). */
export const CASE_BOUND_MS = Number(process.env.WUFIX_FUZZ_CASE_MS ?? 2000);

/** xorshift32: tiny, seeded, reproducible. */
export class Rng {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 2 ** 32) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

/** A different but reproducible stream for case `i` of a named suite. */
export function caseRng(suite: string, i: number): Rng {
  let h = SEED ^ 0x811c9dc5;
  for (let k = 0; k < suite.length; k++) h = Math.imul(h ^ suite.charCodeAt(k), 0x01000193) >>> 0;
  return new Rng((h ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
}

export const SPECIAL_BYTES = [0x00, 0xff, 0x7f, 0x80] as const;
export const SPECIAL_U32 = [0, 1, 0x7fffffff, 0xffffffff, 0x80000000, 0xfffffff8, 0x1000, 0xffff] as const;

export interface MutateOptions {
  /** Byte ranges [start, end) where most mutations land (headers, tables, the first bins). */
  hot?: [number, number][];
  /** Number of mutation steps: 1..maxOps. */
  maxOps?: number;
  /** Allow truncation / growth (off for formats with a fixed size, e.g. one disk sector). */
  resize?: boolean;
  /** Upper bound for the mutated length (duplication never grows past it). */
  maxLength?: number;
  /** Bytes to splice from (another fixture of the same family). */
  donor?: Uint8Array;
}

/**
 * Seeded structure-blind mutations: bit flips, bytes set to 0x00/0xff/0x7f/0x80, 32-bit fields set
 * to 0/1/0x7fffffff/0xffffffff (aligned and not), truncation, chunk duplication, splicing (from the
 * input itself or a donor), range zeroing. Returns the new bytes and what was done (for reports).
 */
export function mutate(rng: Rng, input: Uint8Array, opts: MutateOptions = {}): { bytes: Uint8Array; ops: string[] } {
  let b = new Uint8Array(input); // a copy, also for a Buffer (whose slice() is a view)
  const ops: string[] = [];
  const n = 1 + rng.int(opts.maxOps ?? 8);
  const resize = opts.resize !== false;
  const maxLength = opts.maxLength ?? input.length * 2 + 65536;
  const where = (len = 1): number => {
    if (b.length <= len) return 0;
    const hot = opts.hot?.filter(([s, e]) => s < b.length && e > s);
    if (hot && hot.length && rng.chance(0.7)) {
      const [s, e] = rng.pick(hot);
      const end = Math.min(e, b.length - len);
      if (end > s) return s + rng.int(end - s);
    }
    return rng.int(b.length - len + 1);
  };
  for (let k = 0; k < n; k++) {
    if (b.length === 0) break;
    // In-place changes mostly; truncation, duplication and wiping (which shift or cut whole
    // structures) in about one step of seven, so most cases still reach the deeper structures.
    const op = resize && rng.chance(0.15) ? 7 + rng.int(3) : rng.int(7);
    switch (op) {
      case 0:
      case 1: {
        const at = where();
        const bit = rng.int(8);
        b[at] = b[at]! ^ (1 << bit);
        ops.push(`flip@${at}.${bit}`);
        break;
      }
      case 2: {
        const at = where();
        const v = rng.pick(SPECIAL_BYTES);
        b[at] = v;
        ops.push(`byte@${at}=${v}`);
        break;
      }
      case 3:
      case 4: {
        if (b.length < 4) break;
        let at = where(4);
        if (rng.chance(0.75)) at &= ~3;
        const v = rng.pick(SPECIAL_U32);
        new DataView(b.buffer, b.byteOffset, b.length).setUint32(at, v >>> 0, true);
        ops.push(`u32@${at}=0x${(v >>> 0).toString(16)}`);
        break;
      }
      case 5: {
        // Random byte run.
        const len = 1 + rng.int(16);
        const at = where(len);
        for (let i = 0; i < len && at + i < b.length; i++) b[at + i] = rng.int(256);
        ops.push(`rand@${at}+${len}`);
        break;
      }
      case 6: {
        // Copy a chunk over another place (same length): splicing inside the file or from a donor.
        const src = opts.donor && rng.chance(0.5) ? opts.donor : b;
        const len = Math.min(1 + rng.int(512), src.length, b.length);
        const from = rng.int(src.length - len + 1);
        const to = where(len);
        b.set(src.subarray(from, from + len), to);
        ops.push(`splice${src === b ? '' : '-donor'}@${from}->${to}+${len}`);
        break;
      }
      case 7: {
        // Truncation (anywhere, or on a 512/4096 boundary).
        const cut = rng.chance(0.5) ? rng.int(b.length) : Math.floor(rng.int(b.length) / 512) * 512;
        b = b.slice(0, cut);
        ops.push(`truncate@${cut}`);
        break;
      }
      case 8: {
        // Chunk duplication: insert a copy of a chunk right after itself (or elsewhere).
        const len = Math.min(1 + rng.int(rng.chance(0.5) ? 64 : 8192), b.length);
        if (b.length + len > maxLength) break;
        const from = rng.int(b.length - len + 1);
        const at = rng.chance(0.5) ? from + len : rng.int(b.length + 1);
        const out = new Uint8Array(b.length + len);
        out.set(b.subarray(0, at), 0);
        out.set(b.subarray(from, from + len), at);
        out.set(b.subarray(at), at + len);
        b = out;
        ops.push(`dup@${from}+${len}->${at}`);
        break;
      }
      case 9: {
        // Zero a range (wiped sectors).
        const len = 1 + rng.int(rng.chance(0.5) ? 32 : 4096);
        const at = where(Math.min(len, b.length));
        b.fill(0, at, at + len);
        ops.push(`zero@${at}+${len}`);
        break;
      }
    }
  }
  return { bytes: b, ops };
}

/** Our typed errors: the only exceptions a parser may throw on hostile input. */
export function isTypedError(e: unknown): e is WufixError {
  return e instanceof WufixError;
}

export interface CaseResult {
  /** Optional measure of the output size (bytes, characters, items...) for the per-case bound. */
  outSize?: number;
}

export interface FuzzCase<T> {
  input: T;
  /** Size of the input for the output bound (bytes or characters). */
  inSize: number;
  /** What was done to make it (for failure reports). */
  ops: string[];
  label: string;
}

export interface FuzzReport {
  suite: string;
  cases: number;
  ok: number;
  typed: number;
  /** Messages of typed errors, counted (a few, to see what the cases exercise). */
  refusals: Map<string, number>;
  slowestMs: number;
  slowestCase: string;
  heapGrowthMb: number;
  maxOutRatio: number;
  failures: string[];
}

export interface FuzzOptions {
  /** Output may be at most `outFactor * inSize + outSlack` (memory a small multiple of the input). */
  outFactor?: number;
  outSlack?: number;
  caseBoundMs?: number;
  /** Heap growth over the whole batch (MB); a generous bound, the per-case output bound is the strict one. */
  heapBoundMb?: number;
}

function errLine(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  return `non-Error thrown: ${String(e)}`;
}

/**
 * Run `count` cases: `make(i)` builds case i, `run` parses it. Typed errors are counted as
 * refusals; anything else, a case over the time bound or an output over the size bound is a failure.
 */
export async function fuzz<T>(
  suite: string,
  count: number,
  make: (i: number) => FuzzCase<T>,
  run: (input: T) => CaseResult | void | Promise<CaseResult | void>,
  opts: FuzzOptions = {},
): Promise<FuzzReport> {
  const bound = opts.caseBoundMs ?? CASE_BOUND_MS;
  const outFactor = opts.outFactor ?? 16;
  const outSlack = opts.outSlack ?? 1 << 20;
  const report: FuzzReport = {
    suite,
    cases: 0,
    ok: 0,
    typed: 0,
    refusals: new Map(),
    slowestMs: 0,
    slowestCase: '',
    heapGrowthMb: 0,
    maxOutRatio: 0,
    failures: [],
  };
  const heap0 = process.memoryUsage().heapUsed;
  let heapPeak = heap0;
  for (let i = 0; i < count; i++) {
    if (ONLY !== undefined && i !== ONLY) continue;
    const c = make(i);
    const id = `${suite} case ${i} (${c.label}; ${c.ops.join(' ') || 'unmutated'})`;
    const t0 = performance.now();
    let res: CaseResult | void = undefined;
    let threw: unknown;
    try {
      res = await run(c.input);
    } catch (e) {
      threw = e === undefined ? new Error('undefined thrown') : e;
    }
    const ms = performance.now() - t0;
    report.cases++;
    if (ms > report.slowestMs) {
      report.slowestMs = ms;
      report.slowestCase = id;
    }
    if (ms > bound) report.failures.push(`${id}: took ${ms.toFixed(0)} ms (bound ${bound} ms)`);
    if (threw !== undefined) {
      if (isTypedError(threw)) {
        report.typed++;
        const key = threw.message.replace(/0x[0-9a-f]+|\d+/gi, '#').slice(0, 90);
        report.refusals.set(key, (report.refusals.get(key) ?? 0) + 1);
      } else {
        report.failures.push(`${id}: untyped exception ${errLine(threw)}`);
      }
    } else {
      report.ok++;
      const out = res?.outSize;
      if (out !== undefined) {
        const ratio = out / Math.max(1, c.inSize);
        if (ratio > report.maxOutRatio) report.maxOutRatio = ratio;
        if (out > outFactor * c.inSize + outSlack) {
          report.failures.push(`${id}: output of ${out} for an input of ${c.inSize} (bound ${outFactor}x + ${outSlack})`);
        }
      }
    }
    if (i % 64 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    if (report.failures.length >= 20) break;
  }
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  report.heapGrowthMb = (heapPeak - heap0) / 2 ** 20;
  const heapBound = opts.heapBoundMb ?? 512;
  if (report.heapGrowthMb > heapBound)
    report.failures.push(`${suite}: heap grew by ${report.heapGrowthMb.toFixed(0)} MB over the batch (bound ${heapBound} MB)`);
  const top = [...report.refusals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([m, k]) => `${k}x "${m}"`);
  // One line per suite, read by docs/parser-bounds.md and the report of a run.
  console.log(
    `fuzz ${suite}: ${report.cases} cases (seed 0x${SEED.toString(16)}), ${report.ok} parsed, ${report.typed} refused with a typed error, ` +
      `${report.failures.length} failures; slowest ${report.slowestMs.toFixed(1)} ms; heap peak +${report.heapGrowthMb.toFixed(0)} MB; ` +
      `max output/input ${report.maxOutRatio.toFixed(2)}; top refusals: ${top.join('; ')}`,
  );
  return report;
}

/** Split a total over suites so that the file runs at least `total` cases. */
export function share(total: number, parts: number, index: number): number {
  const base = Math.floor(total / parts);
  return base + (index < total - base * parts ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// Fixtures: real files from ../shared/fixtures, by path, checked against their MANIFEST sha256.

/** Why the fuzz tier cannot run here (undefined: it can). Under CI=true a missing ../shared throws. */
export const fixturesReason = (): string | undefined => sharedReason();

const manifests = new Map<string, Map<string, string>>();
function manifest(dir: string): Map<string, string> {
  let m = manifests.get(dir);
  if (!m) {
    const lines = readFileSync(path.join(FIXTURES, dir, 'MANIFEST.tsv'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const head = lines[0]!.split('\t');
    const name = head.indexOf('dest') >= 0 ? head.indexOf('dest') : head.indexOf('path');
    const sha = head.indexOf('sha256');
    m = new Map(
      lines
        .slice(1)
        .map((l) => l.split('\t'))
        .map((c) => [c[name]!, c[sha]!]),
    );
    manifests.set(dir, m);
  }
  return m;
}

/** The bytes of fixtures/<dir>/<rel>, verified (a fixture that is missing or changed is a failure). */
export function fixtureBytes(dir: string, rel: string): Uint8Array {
  const want = manifest(dir).get(rel);
  if (!want) throw new Error(`fixture ${dir}/${rel} is not in its MANIFEST.tsv`);
  const bytes = new Uint8Array(readFileSync(path.join(FIXTURES, dir, rel)));
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== want) throw new Error(`fixture ${dir}/${rel}: sha256 ${got} does not match its MANIFEST (${want})`);
  return bytes;
}
