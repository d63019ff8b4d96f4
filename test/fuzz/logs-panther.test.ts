// Fuzz (issue #16): seeded mutations of windows of the real Panther logs (../shared/fixtures/logs/panther)
// through pantherEvents (as setupact and as setuperr) and setupDiagEvents, and of real event-log
// chunks (../shared/fixtures/logs/evtx) through parseEvtxChunk + evtxUpdateEvent: events that keep
// the conventions (or nothing), never an exception, each case bounded in time and output.
import { describe, expect, it } from 'vitest';
import { parseEvtxChunk, EVTX_CHUNK_SIZE, EVTX_FILE_HEADER_SIZE } from '../../src/formats/evtx.js';
import { evtxUpdateEvent, type EvtxLogSource } from '../../src/formats/evtx-events.js';
import { pantherEvents } from '../../src/formats/logs/panther.js';
import { setupDiagEvents } from '../../src/formats/logs/setupdiag.js';
import { newStats, type UpdateEvent } from '../../src/model/attempts.js';
import { CASES, caseRng, fixtureBytes, fixturesReason, fuzz, mutate, type Rng } from './harness.js';

const PANTHER = [
  'panther/win10-1803-to-21h2-media-upgrade-0x80070032-0x50013-setupact-rickaK77.log',
  'panther/win10-1909-featureupdate-rollback-0xC1900101-0x30018-Panther-setuperr-baslr.log',
  'panther/win10-1909-featureupdate-rollback-0xC1900101-0x30018-Rollback-setupact-baslr.log',
  'panther/win10-1909-featureupdate-rollback-0xC1900101-0x30018-Rollback-setuperr-baslr.log',
  'panther/win11-host-mct-win10-2004-cancelled-0x800704C7-setupact-copyleft21.log',
  'panther/win11-host-mct-win10-2004-cancelled-0x800704C7-setuperr-copyleft21.log',
];
const EVTX: [string, EvtxLogSource][] = [
  ['evtx/win11-21h2-System-wuclient-19-20-43-44-five-failures-DFIRArtifactMuseum.evtx', 'System.evtx'],
  ['evtx/win10-21h1-Setup-servicing-lcu-reboot-required-DFIRArtifactMuseum.evtx', 'Setup.evtx'],
  ['evtx/win10-ltsc2019-WindowsUpdateClient%4Operational-scan-failures-0x800b0101-DFIRArtifactMuseum.evtx', 'WindowsUpdateClient.evtx'],
  ['evtx/win2012r2-Setup-servicing-kb2999226-and-roles-DFIRArtifactMuseum.evtx', 'Setup.evtx'],
];

// A SetupDiag text result in the documented format, as a seed next to the real Panther text.
const SETUPDIAG_SEED = new TextEncoder().encode(
  'Matching Profile found: FindRollbackFailure - 3A43C9B5-05B3-4F7C-A955-88F991BB5A48\r\n    UpgradeEndTime = 11/4/2023 11:02:40 PM\r\n' +
    'Error: SetupDiag reports rollback failure found.\r\nLast Phase = Safe OS\r\nError: 0xC1900101 - 0x4000D\r\n' +
    '<ProfileName>FindSPFatalError</ProfileName><FailureDetails>Err = 0x8007042B, LastPhase = Downlevel</FailureDetails>\r\n',
);

const RESULTS = ['failed', 'succeeded', 'reboot-pending', 'cancelled', 'not-applicable', 'in-progress', 'unknown'];

function checkEvent(e: UpdateEvent, local: boolean): void {
  expect(e.message.length).toBeLessThanOrEqual(500);
  expect(e.message).toMatch(/^[\x20-\x7e]*$/);
  expect(e.timeIsLocal).toBe(local);
  expect(RESULTS).toContain(e.result);
  if (e.code !== undefined) expect(e.code).toMatch(/^0x[0-9a-f]{8}$/);
  if (e.extendedCode !== undefined) expect(e.extendedCode).toMatch(/^0x[0-9a-f]{1,8}$/);
  if (e.kb !== undefined) expect(e.kb).toMatch(/^KB\d{6,8}$/);
  if (e.time !== undefined) expect(Number.isNaN(e.time.getTime())).toBe(false);
  if (e.phase !== undefined) expect(e.phase.length).toBeLessThanOrEqual(100);
}

function* chunksOf(bytes: Uint8Array, rng: Rng): Generator<Uint8Array> {
  for (let o = 0; o < bytes.length;) {
    const n = rng.chance(0.2) ? 1 + rng.int(16) : 1 + rng.int(65536);
    yield bytes.subarray(o, o + n);
    o += n;
  }
}

describe.skipIf(!!fixturesReason())('fuzz: Panther, SetupDiag and EVTX update events', () => {
  it('mutated real setup logs and SetupDiag results: conventions kept, no exception, bounded', async () => {
    const logs = PANTHER.map((p) => fixtureBytes('logs', p));
    const seeds = [...logs, SETUPDIAG_SEED];
    const r = await fuzz(
      'logs-panther',
      CASES,
      (i) => {
        const rng = caseRng('logs-panther', i);
        const src = seeds[rng.int(seeds.length)]!;
        const len = Math.min(src.length, 256 + rng.int(64 * 1024));
        const from = rng.int(src.length - len + 1);
        const m = mutate(rng, src.subarray(from, from + len), { maxOps: 12, donor: seeds[rng.int(seeds.length)]! });
        return { input: { bytes: m.bytes, seed: rng.u32() }, inSize: m.bytes.length, ops: m.ops, label: `@${from}+${len}` };
      },
      async (c) => {
        let out = 0;
        const maxLineLength = c.seed % 5 === 0 ? 1 + (c.seed % 300) : undefined;
        for (const source of ['setupact.log', 'setuperr.log'] as const) {
          const stats = newStats();
          for await (const e of pantherEvents(chunksOf(c.bytes, caseRng('chunks', c.seed)), source, { source, stats, maxLineLength })) {
            checkEvent(e, true);
            expect(e.kind).toBe('feature-update');
            out += JSON.stringify(e).length * 2;
          }
          expect(stats.recognized).toBeLessThanOrEqual(stats.lines);
        }
        const stats = newStats();
        for await (const e of setupDiagEvents(chunksOf(c.bytes, caseRng('chunks-sd', c.seed)), 'SetupDiagResults.log', { stats, maxLineLength })) {
          checkEvent(e, true);
          out += JSON.stringify(e).length * 2;
        }
        expect(stats.recognized).toBeLessThanOrEqual(stats.lines);
        return { outSize: out };
      },
      { outFactor: 8 },
    );
    expect(r.failures).toEqual([]);
    expect(r.typed).toBe(0); // text parsers never throw
  });

  it('mutated real event-log chunks: evtxUpdateEvent keeps the conventions on whatever records survive', async () => {
    const chunks = EVTX.flatMap(([p, source]) => {
      const b = fixtureBytes('logs', p);
      const out: { bytes: Uint8Array; source: EvtxLogSource }[] = [];
      for (let o = EVTX_FILE_HEADER_SIZE; o + EVTX_CHUNK_SIZE <= b.length; o += EVTX_CHUNK_SIZE)
        out.push({ bytes: b.subarray(o, o + EVTX_CHUNK_SIZE), source });
      return out;
    });
    let mapped = 0;
    const r = await fuzz(
      'evtx-events',
      Math.max(500, CASES >> 2),
      (i) => {
        const rng = caseRng('evtx-events', i);
        const k = rng.int(chunks.length);
        const m = mutate(rng, chunks[k]!.bytes, { maxOps: 8 });
        return { input: { bytes: m.bytes, source: chunks[k]!.source }, inSize: m.bytes.length, ops: m.ops, label: `chunk ${k}` };
      },
      (c) => {
        let out = 0;
        const { events } = parseEvtxChunk(c.bytes, 0, { checkCrc: false });
        for (const ev of events) {
          const e = evtxUpdateEvent(ev, 'Windows\\System32\\winevt\\Logs\\x.evtx', c.source);
          if (!e) continue;
          mapped++;
          checkEvent(e, false);
          if (e.recordId !== undefined) expect(e.recordId).toMatch(/^\d+$/);
          out += JSON.stringify(e).length;
        }
        return { outSize: out };
      },
      { outFactor: 8 },
    );
    expect(r.failures).toEqual([]);
    expect(r.typed).toBe(0);
    expect(mapped).toBeGreaterThan(0);
  });
});
