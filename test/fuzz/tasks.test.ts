// Fuzz tier, the scheduled-task editors of the wu-tasks repair and the service descriptor check:
//  - parseTriggersHeader / withEnabledBit over seeded mutations of the real Triggers blobs
//    (test/fixtures/taskcache, winreg-tasks, MIT): a header or an error value, never a throw; the
//    bit edit changes at most one byte;
//  - parseTaskXml / enableTaskXml over mutations of a Windows-written task file (UTF-16LE with a
//    BOM, and UTF-8), plus crafted shapes (thousands of unclosed tags inside Settings, 256 KiB of
//    <Enabled>): each case bounded; an edit changes only "false" to "true";
//  - serviceLockdown over mutations of real service descriptors (test/fixtures/service-sd).
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseTriggersHeader, withEnabledBit } from '../../src/formats/taskcache.js';
import { enableTaskXml, MAX_TASK_XML_BYTES, parseTaskXml } from '../../src/formats/taskxml.js';
import { keyLockdown, serviceLockdown } from '../../src/windows/services.js';
import { serviceSd } from '../helpers/service-sd.js';
import { CASES, caseRng, fuzz, mutate } from './harness.js';

const DIR = path.join(__dirname, '..', 'fixtures', 'taskcache');
const BLOBS = readdirSync(DIR)
  .filter((n) => n.endsWith('.bin'))
  .sort()
  .map((n) => new Uint8Array(readFileSync(path.join(DIR, n))));

const TASK = `<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.6" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\r\n  <RegistrationInfo>\r\n    <URI>\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan</URI>\r\n  </RegistrationInfo>\r\n  <Triggers>\r\n    <TimeTrigger>\r\n      <Enabled>false</Enabled>\r\n    </TimeTrigger>\r\n  </Triggers>\r\n  <Settings>\r\n    <StartWhenAvailable>true</StartWhenAvailable>\r\n    <IdleSettings>\r\n      <StopOnIdleEnd>true</StopOnIdleEnd>\r\n    </IdleSettings>\r\n    <Enabled>false</Enabled>\r\n  </Settings>\r\n</Task>\r\n`;
const XMLS = [
  new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TASK, 'utf16le')])),
  new Uint8Array(Buffer.from(TASK.replace('UTF-16', 'UTF-8'))),
];

let edits = 0;
function runXml(b: Uint8Array) {
  const parsed = parseTaskXml(b);
  const out = enableTaskXml(b);
  if ('error' in out) return { outSize: JSON.stringify(parsed).length };
  edits++;
  // Only "false" -> "true": one unit shorter, same bytes before the change and after it.
  const unit = out.length === b.length - 1 ? 1 : out.length === b.length - 2 ? 2 : 0;
  if (!unit) throw new Error(`the edit wrote ${out.length} bytes from ${b.length}`);
  let i = 0;
  while (i < out.length && out[i] === b[i]) i++;
  const tail = Buffer.from(out.subarray(i + 4 * unit)).equals(Buffer.from(b.subarray(i + 5 * unit)));
  if (!tail) throw new Error('the edit changed more than the Enabled text');
  return { outSize: out.length };
}

function runTriggers(b: Uint8Array) {
  const h = parseTriggersHeader(b);
  if ('error' in h) return { outSize: h.error.length };
  const on = withEnabledBit(b, !h.enabled);
  let diff = 0;
  for (let i = 0; i < b.length; i++) if (on[i] !== b[i]) diff++;
  if (diff !== 1 || on.length !== b.length) throw new Error(`the bit edit changed ${diff} byte(s)`);
  const back = withEnabledBit(on, h.enabled);
  if (!Buffer.from(back).equals(Buffer.from(b))) throw new Error('the bit edit does not round-trip');
  return { outSize: b.length };
}

const fillTo = (head: string, unit: string, tail: string) =>
  new Uint8Array(Buffer.from(head + unit.repeat(Math.floor((MAX_TASK_XML_BYTES - head.length - tail.length) / unit.length)) + tail));
const CRAFTED: [string, () => Uint8Array][] = [
  ['Settings holding 256 KiB of unclosed tags', () => fillTo('<Task><Settings>', '<a>', '<Enabled>false</Enabled></Settings></Task>')],
  ['Settings holding 256 KiB of open-close pairs', () => fillTo('<Task><Settings>', '<a></b>', '<Enabled>false</Enabled></Settings>')],
  ['256 KiB of <Enabled>', () => fillTo('<Settings>', '<Enabled>', '</Settings>')],
  ['256 KiB of <Settings> without an end', () => fillTo('', '<Settings>', '<Enabled>false</Enabled>')],
  ['256 KiB of nested words', () => fillTo('<Settings><x>', 'y'.repeat(10) + ' ', '</x><Enabled>false</Enabled></Settings>')],
];

describe('fuzz: scheduled tasks and service descriptors', () => {
  it(`${CASES} mutated Triggers blobs: a header or an error value; the bit edit changes one byte and round-trips`, async () => {
    expect(BLOBS.length).toBeGreaterThan(5);
    const r = await fuzz(
      'triggers',
      CASES,
      (i) => {
        const rng = caseRng('triggers', i);
        const src = BLOBS[rng.int(BLOBS.length)]!;
        const m = mutate(rng, src, { maxOps: 6 });
        return { input: m.bytes, inSize: m.bytes.length, ops: m.ops, label: 'triggers' };
      },
      runTriggers,
    );
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(CASES);
  });

  it(`${CASES} mutated task files and crafted shapes: bounded; an edit changes only false -> true`, async () => {
    for (const x of XMLS) expect('error' in enableTaskXml(x)).toBe(false);
    const r = await fuzz(
      'taskxml',
      CASES,
      (i) => {
        const rng = caseRng('taskxml', i);
        const src = XMLS[rng.int(XMLS.length)]!;
        const m = mutate(rng, src, { maxOps: 8, donor: XMLS[rng.int(XMLS.length)] });
        return { input: m.bytes, inSize: m.bytes.length, ops: m.ops, label: 'taskxml' };
      },
      runXml,
    );
    expect(r.failures).toEqual([]);
    expect(edits).toBeGreaterThan(CASES / 10); // the mutations reach the edit
    const crafted = await fuzz(
      'taskxml crafted',
      CRAFTED.length,
      (i) => {
        const [label, make] = CRAFTED[i]!;
        const bytes = make();
        return { input: bytes, inSize: bytes.length, ops: [], label };
      },
      runXml,
    );
    expect(crafted.failures).toEqual([]);
  });

  it(`${CASES} mutated service descriptors: locked or not, never a throw`, async () => {
    const real = [serviceSd('wuauserv')];
    const r = await fuzz(
      'service-sd',
      CASES,
      (i) => {
        const rng = caseRng('service-sd', i);
        const m = mutate(rng, real[0]!, { maxOps: 6 });
        return { input: m.bytes, inSize: m.bytes.length, ops: m.ops, label: 'wuauserv' };
      },
      (b) => ({ outSize: JSON.stringify([serviceLockdown(b) ?? {}, keyLockdown(b) ?? {}]).length }),
    );
    expect(r.failures).toEqual([]);
  });
});
