// CBS sessions and CbsPersist cabinets (issue #16), integration tier:
// - the cabinet reader against gcab and cabextract on cabinets gcab makes from the real CBS.logs of
//   ../shared/fixtures/logs/cbs (MSZIP with -z, and uncompressed);
// - collectCbsLogs on a Windows tree holding CBS.log, CbsPersist_*.log and .cab (MSZIP, one patched
//   to say LZX), a file that is no CBS log and a symbolic link: reading order, events, problem lines;
// - fuzz: seeded mutations of windows of the real CBS.logs through cbsEvents, and of real-text
//   cabinets through cabMembers + cbsEvents: events or a typed error, each case bounded.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CabError, cabMembers } from '../../src/formats/cab.js';
import { cbsEvents } from '../../src/formats/logs/cbs.js';
import type { ByteChunks } from '../../src/formats/logs/lines.js';
import { newStats, type UpdateEvent } from '../../src/model/attempts.js';
import { collectCbsLogs } from '../../src/scan/collect/cbs-source.js';
import { arraySink } from '../../src/scan/collect/sink.js';
import { FIXTURES, skipReason, toolsReason } from '../helpers/env.js';
import { CASES, caseRng, fixtureBytes, fixturesReason, fuzz, mutate, type Rng } from './harness.js';

const CBS_LOGS = [
  'cbs/win7sp1-x86-sfc-scannow-unrepairable-plus-sp1-0x80070490-Infinito1977.log',
  'cbs/win10-1903-1909-clean-wu-sessions-0x800f0805-noise-JoseMorenoSater.log',
  'cbs/win10-19041-dismpp-and-fod-sessions-no-failure-HowardZHY.log',
  'cbs/win11-24h2-clean-wu-sessions-glsureshkumar.log',
];
const fixturePath = (rel: string) => path.join(FIXTURES, 'logs', rel);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-cbs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function* chunksOf(bytes: Uint8Array, rng: Rng): Generator<Uint8Array> {
  for (let o = 0; o < bytes.length;) {
    const n = rng.chance(0.2) ? 1 + rng.int(16) : 1 + rng.int(65536);
    yield bytes.subarray(o, o + n);
    o += n;
  }
}

async function memberBytes(cab: ByteChunks): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const m of cabMembers(cab)) {
    const parts: Uint8Array[] = [];
    for await (const c of m.chunks) parts.push(Uint8Array.from(c));
    out.set(m.entry.name, Buffer.concat(parts));
  }
  return out;
}

/** gcab writes members by their path: run it in the folder that holds them. */
function gcab(dir: string, cab: string, names: string[], mszip: boolean): void {
  execFileSync('gcab', ['-c', ...(mszip ? ['-z'] : []), cab, ...names], { cwd: dir, stdio: 'pipe' });
}

/** Offset of the first CFFOLDER's typeCompress (after CFHEADER and its optional reserve). */
function typeCompressOffset(cab: Buffer): number {
  const flags = cab.readUInt16LE(30);
  return (flags & 4 ? 36 + 4 + cab.readUInt16LE(36) : 36) + 6;
}

function checkEvent(e: UpdateEvent): void {
  expect(e.message.length).toBeLessThanOrEqual(500);
  expect(e.message).not.toMatch(/[\r\n]/);
  if (e.code !== undefined) expect(e.code).toMatch(/^0x[0-9a-f]{8}$/);
  if (e.kb !== undefined) expect(e.kb).toMatch(/^KB\d{6,8}$/);
  expect(e.timeIsLocal).toBe(true);
  expect(['failed', 'succeeded', 'reboot-pending', 'cancelled', 'not-applicable', 'in-progress', 'unknown']).toContain(e.result);
  if (e.kind === 'applicability') expect(e.result).toBe('failed');
  if (e.unrepaired) expect(e.unrepaired.length).toBeLessThanOrEqual(64);
}

describe.skipIf(!!skipReason(fixturesReason(), toolsReason('gcab', 'cabextract')))('cabinets of real CBS text: our reader = gcab -x = cabextract', () => {
  it('MSZIP (gcab -z) and uncompressed cabinets of the four real CBS.logs read back byte for byte', async () => {
    const src = path.join(tmp, 'src');
    mkdirSync(src, { recursive: true });
    const names = CBS_LOGS.map((l, i) => {
      const n = `CbsPersist_2020010${i + 1}000000.log`;
      copyFileSync(fixturePath(l), path.join(src, n));
      return n;
    });
    for (const mszip of [true, false]) {
      const cab = path.join(tmp, mszip ? 'z.cab' : 'n.cab');
      gcab(src, cab, names, mszip);
      const bytes = readFileSync(cab);
      if (mszip) expect(bytes.readUInt16LE(typeCompressOffset(bytes)) & 0xf).toBe(1);
      const ours = await memberBytes(chunksOf(bytes, caseRng('cab-real', mszip ? 1 : 0)));
      const ce = path.join(tmp, mszip ? 'ce-z' : 'ce-n');
      execFileSync('cabextract', ['-q', '-d', ce, cab], { stdio: 'pipe' });
      const gx = path.join(tmp, mszip ? 'gx-z' : 'gx-n');
      mkdirSync(gx, { recursive: true });
      execFileSync('gcab', ['-x', '-C', gx, cab], { stdio: 'pipe' });
      expect([...ours.keys()].sort()).toEqual([...names].sort());
      for (const n of names) {
        const want = readFileSync(path.join(ce, n));
        expect(ours.get(n)!.equals(want), `${n} vs cabextract`).toBe(true);
        expect(readFileSync(path.join(gx, n)).equals(want), `${n}: gcab -x vs cabextract`).toBe(true);
        expect(want.equals(readFileSync(path.join(src, n)))).toBe(true);
      }
      // The events of a member read from the cabinet are those of the plain file.
      const plain: UpdateEvent[] = [];
      for await (const e of cbsEvents([readFileSync(path.join(src, names[0]!))], 'x', { source: 'CbsPersist' })) plain.push(e);
      const fromCab: UpdateEvent[] = [];
      for await (const m of cabMembers([bytes]))
        if (m.entry.name === names[0]) for await (const e of cbsEvents(m.chunks, 'x', { source: 'CbsPersist' })) fromCab.push(e);
        else for await (const c of m.chunks) void c;
      expect(fromCab).toEqual(plain);
      expect(plain.length).toBe(13);
    }
  });
});

describe.skipIf(!!skipReason(fixturesReason(), toolsReason('gcab')))('collectCbsLogs on a Windows tree', () => {
  it('reads CbsPersist oldest first then CBS.log; LZX, a non-CBS file and a link are problem lines', async () => {
    const root = path.join(tmp, 'vol');
    const dir = path.join(root, 'Windows', 'Logs', 'CBS');
    mkdirSync(dir, { recursive: true });
    copyFileSync(fixturePath(CBS_LOGS[0]!), path.join(dir, 'CBS.log'));
    copyFileSync(fixturePath(CBS_LOGS[2]!), path.join(dir, 'CbsPersist_20220619004800.log'));
    // A cabinet of the 1903 log (MSZIP), named as Windows names it.
    const stage = path.join(tmp, 'stage');
    mkdirSync(stage, { recursive: true });
    copyFileSync(fixturePath(CBS_LOGS[1]!), path.join(stage, 'CbsPersist_20200205102057.log'));
    gcab(stage, path.join(dir, 'CbsPersist_20200205102057.cab'), ['CbsPersist_20200205102057.log'], true);
    // The same cabinet saying LZX.
    const lzx = readFileSync(path.join(dir, 'CbsPersist_20200205102057.cab'));
    lzx.writeUInt16LE(0x1503, typeCompressOffset(lzx));
    writeFileSync(path.join(dir, 'CbsPersist_20190101000000.cab'), lzx);
    writeFileSync(path.join(dir, 'CbsPersist_20180101000000.log'), 'this is not a CBS log\nat all\n');
    symlinkSync('/etc/passwd', path.join(dir, 'CbsPersist_20170101000000.log'));
    writeFileSync(path.join(dir, 'unrelated.txt'), 'x');

    const progress: string[] = [];
    const sink = arraySink((m) => progress.push(m));
    await collectCbsLogs(root, sink);
    expect(progress).toEqual(['reading CBS.log']);
    const rel = (n: string) => `Windows\\Logs\\CBS\\${n}`;
    expect(sink.files.map((f) => f.file)).toEqual([
      rel('CbsPersist_20170101000000.log'),
      rel('CbsPersist_20180101000000.log'),
      rel('CbsPersist_20190101000000.cab'),
      rel('CbsPersist_20200205102057.cab\\CbsPersist_20200205102057.log'),
      rel('CbsPersist_20220619004800.log'),
      rel('CBS.log'),
    ]);
    expect(sink.files.map((f) => f.understood)).toEqual([false, false, false, true, true, true]);
    expect(sink.files[5]).toMatchObject({ source: 'CBS.log', format: 'cbs', lines: 10440, events: 13, bytes: 1827951 });
    expect(sink.files[3]).toMatchObject({ source: 'CbsPersist', format: 'cbs', events: 0, lines: 9652 });
    expect(sink.problems).toHaveLength(3);
    expect(sink.problems[0]).toMatch(/^Windows\\Logs\\CBS\\CbsPersist_20170101000000\.log: not read: /);
    expect(sink.problems[1]).toBe('Windows\\Logs\\CBS\\CbsPersist_20180101000000.log: present but not understood: no CBS line recognized (2 lines)');
    expect(sink.problems[2]).toBe('Windows\\Logs\\CBS\\CbsPersist_20190101000000.cab: compressed with LZX, not read');
    // Events: the HowardZHY persist log's installs, then CBS.log's 13; each names its file.
    const persist = sink.events.filter((e) => e.source === 'CbsPersist');
    expect(persist.length).toBeGreaterThan(0);
    expect(persist.every((e) => e.file === rel('CbsPersist_20220619004800.log') && e.result === 'succeeded')).toBe(true);
    expect(sink.events.filter((e) => e.file === rel('CBS.log'))).toHaveLength(13);
    for (const e of sink.events) checkEvent(e);
  });
});

describe.skipIf(!!fixturesReason())('fuzz: CBS sessions and CbsPersist cabinets', () => {
  it(`${CASES} mutated windows of real CBS.logs through cbsEvents; mutated real-text cabinets through cabMembers`, async () => {
    const logs = CBS_LOGS.map((l) => fixtureBytes('logs', l));
    const r = await fuzz(
      'logs-cbs',
      CASES,
      (i) => {
        const rng = caseRng('logs-cbs', i);
        const src = logs[rng.int(logs.length)]!;
        const len = Math.min(src.length, 1024 + rng.int(96 * 1024));
        const from = rng.int(src.length - len + 1);
        const m = mutate(rng, src.subarray(from, from + len), { maxOps: 12, donor: logs[rng.int(logs.length)]! });
        return { input: { bytes: m.bytes, seed: rng.u32() }, inSize: m.bytes.length, ops: m.ops, label: `@${from}+${len}` };
      },
      async (c) => {
        const stats = newStats();
        let out = 0;
        for await (const e of cbsEvents(chunksOf(c.bytes, caseRng('chunks', c.seed)), 'CBS.log', {
          stats,
          maxLineLength: c.seed % 5 === 0 ? 1 + (c.seed % 300) : undefined,
        })) {
          checkEvent(e);
          out += JSON.stringify(e).length * 2;
        }
        expect(stats.recognized).toBeLessThanOrEqual(stats.lines);
        return { outSize: out };
      },
      { outFactor: 8 },
    );
    expect(r.failures).toEqual([]);
    expect(r.typed).toBe(0); // cbsEvents never throws on text

    // Cabinets: built once from real CBS text by the test's own writer (zlib), then mutated.
    const text = Buffer.from(logs[3]!.subarray(0, 120_000));
    const cabs = [mszipCab(text), storedCab(text)];
    const c = await fuzz(
      'logs-cbs cab',
      Math.max(500, CASES >> 2),
      (i) => {
        const rng = caseRng('logs-cbs-cab', i);
        const k = rng.int(cabs.length);
        const m = mutate(rng, cabs[k]!, { maxOps: 6 });
        return { input: { bytes: m.bytes, seed: rng.u32() }, inSize: m.bytes.length, ops: m.ops, label: k ? 'stored' : 'mszip' };
      },
      async (x) => {
        let out = 0;
        try {
          for await (const m of cabMembers(chunksOf(x.bytes, caseRng('cab-chunks', x.seed)), { maxOutput: 4 << 20, maxFiles: 64 }))
            for await (const e of cbsEvents(m.chunks, m.entry.name)) out += JSON.stringify(e).length;
        } catch (e) {
          // CabError is a BadInputError (typed: counted as a refusal); anything else fails the case.
          if (e instanceof CabError) expect(e.code === 'format' || e.code === 'too-large').toBe(true);
          throw e;
        }
        return { outSize: out };
      },
      { outFactor: 8, outSlack: 8 << 20 },
    );
    expect(c.failures).toEqual([]);
    expect(c.ok).toBeGreaterThan(0);
    expect(c.typed).toBeGreaterThan(0);
  });
});

// A tiny MS-CAB writer for the fuzz seeds (one folder, one member), MSZIP or stored.
function cabOf(name: string, data: Buffer, mszip: boolean): Buffer {
  const blocks: Buffer[] = [];
  let prev: Buffer | undefined;
  for (let p = 0; p < data.length; p += 32768) {
    const raw = data.subarray(p, p + 32768);
    const payload = mszip ? Buffer.concat([Buffer.from('CK'), prev ? deflateRawSync(raw, { dictionary: prev }) : deflateRawSync(raw)]) : raw;
    prev = raw;
    const h = Buffer.alloc(8);
    h.writeUInt16LE(payload.length, 4);
    h.writeUInt16LE(raw.length, 6);
    blocks.push(h, payload);
  }
  const file = Buffer.concat([Buffer.alloc(16), Buffer.from(name + '\0', 'latin1')]);
  file.writeUInt32LE(data.length, 0);
  const coffFiles = 36 + 8;
  const dataOff = coffFiles + file.length;
  const body = Buffer.concat(blocks);
  const head = Buffer.alloc(36);
  head.write('MSCF', 0, 'latin1');
  head.writeUInt32LE(dataOff + body.length, 8);
  head.writeUInt32LE(coffFiles, 16);
  head[24] = 3;
  head[25] = 1;
  head.writeUInt16LE(1, 26);
  head.writeUInt16LE(1, 28);
  const folder = Buffer.alloc(8);
  folder.writeUInt32LE(dataOff, 0);
  folder.writeUInt16LE(blocks.length / 2, 4);
  folder.writeUInt16LE(mszip ? 1 : 0, 6);
  return Buffer.concat([head, folder, file, body]);
}
const mszipCab = (t: Buffer) => cabOf('CbsPersist_20250420103741.log', t, true);
const storedCab = (t: Buffer) => cabOf('CbsPersist_20250420103741.log', t, false);
