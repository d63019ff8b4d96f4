// Fuzz tier, the hosts file: parseHosts, blockedWuLines and commentOutHostsLines (the wu-hosts
// repair's edit) over seeded mutations of a Windows-written hosts file with what an update disabler
// adds (CRLF and LF, with and without a BOM), plus crafted shapes: a megabyte of line breaks, one
// 1 MiB line with thousands of names, every line an entry. Each case must end fast with a value
// (never a TypeError or RangeError), and the edit must hold its contract on every one: the result
// parses to no Windows Update entry, and it is the input with only the stated bytes inserted.
import { describe, expect, it } from 'vitest';
import { commentOutHostsLines, HOSTS_COMMENT_PREFIX, MAX_HOSTS_BYTES, parseHosts, type HostsEdit } from '../../src/formats/hosts.js';
import { blockedWuLines } from '../../src/windows/wuhosts.js';
import { FormatError } from '../../src/shared/errors.js';
import { CASES, caseRng, fuzz, mutate } from './harness.js';

const LINES = [
  '# Copyright (c) 1993-2009 Microsoft Corp.',
  '#',
  '# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.',
  '#\t127.0.0.1       localhost',
  '#\t::1             localhost',
  '',
  '0.0.0.0 windowsupdate.microsoft.com',
  '0.0.0.0\tupdate.microsoft.com\t# wub',
  '127.0.0.1 fe2.update.microsoft.com sls.update.microsoft.com',
  '::1 Download.WindowsUpdate.com.',
  '0.0.0.0 ads.example tlu.dl.delivery.mp.microsoft.com tracker.example',
  '0.0.0.0 go.microsoft.com',
  '192.168.1.10 nas.home',
  '0.0.0.0 wustat.windows.com',
];
const SOURCES = [
  Buffer.from(LINES.join('\r\n')),
  Buffer.from(`\ufeff${LINES.join('\r\n')}\r\n`),
  Buffer.from(LINES.join('\n') + '\n'),
  Buffer.from(`\ufeff${LINES.join('\n')}`),
].map((b) => new Uint8Array(b));

let edited = 0;

/** Parse, find, edit as the repair does; check the edit's contract. Throws (a failure) when it does not hold. */
function runHosts(bytes: Uint8Array): { outSize: number } {
  const f = parseHosts(bytes);
  const blocked = blockedWuLines(f);
  const edits: HostsEdit[] = blocked.map((b) => (b.otherNames.length ? { line: b.line, after: `${b.address} ${b.otherNames.join(' ')}` } : { line: b.line }));
  const out = commentOutHostsLines(bytes, f, edits);
  const again = parseHosts(out.length > MAX_HOSTS_BYTES ? out.subarray(0, 0) : out);
  if (out.length <= MAX_HOSTS_BYTES && blockedWuLines(again).length) throw new Error('the edit left a Windows Update entry');
  // Exactly the stated bytes inserted: the prefix per edit, the after-line with its line break.
  const byNumber = new Map(f.entries.map((l) => [l.number, l]));
  let added = 0;
  for (const e of edits) {
    added += HOSTS_COMMENT_PREFIX.length;
    if (e.after !== undefined) added += Buffer.byteLength(e.after) + (byNumber.get(e.line)!.eol || f.eol).length;
  }
  if (out.length !== bytes.length + added) throw new Error(`the edit wrote ${out.length} bytes, not ${bytes.length} + ${added}`);
  if (edits.length) edited++;
  const first = edits.length ? byNumber.get(edits[0]!.line) : undefined;
  if (first && !Buffer.from(out.subarray(0, first.start)).equals(Buffer.from(bytes.subarray(0, first.start))))
    throw new Error('bytes before the first edit changed');
  if (!edits.length && !Buffer.from(out).equals(Buffer.from(bytes))) throw new Error('nothing to edit, yet the bytes changed');
  return { outSize: out.length + JSON.stringify(f.entries).length / 8 };
}

/** `unit` repeated to fill (at most) MAX_HOSTS_BYTES: under the cap, so the parser itself handles it. */
const fill = (unit: string) => new Uint8Array(Buffer.from(unit.repeat(Math.floor(MAX_HOSTS_BYTES / Buffer.byteLength(unit)))));
const CRAFTED: [string, () => Uint8Array][] = [
  ['1 MiB of line breaks', () => fill('\n')],
  ['1 MiB of CR', () => fill('\r')],
  ['1 MiB of #', () => fill('#')],
  [
    'one 1 MiB line of names',
    () => new Uint8Array(Buffer.concat([Buffer.from('0.0.0.0'), Buffer.from(fill(' a.update.microsoft.com')).subarray(0, MAX_HOSTS_BYTES - 7)])),
  ],
  ['every line a Windows Update entry', () => fill('::\twindowsupdate.com\n')],
  ['every line an entry with another name', () => fill('0::0 a update.microsoft.com\r\n')],
];

describe('fuzz: hosts file (parseHosts + blockedWuLines + commentOutHostsLines)', () => {
  it(`${CASES} mutated hosts files: entries or a FormatError, the edit's contract held, each case bounded`, async () => {
    for (const s of SOURCES) expect(blockedWuLines(parseHosts(s)).map((b) => b.line)).toEqual([7, 8, 9, 10, 11, 14]);
    const r = await fuzz(
      'hosts',
      CASES,
      (i) => {
        const rng = caseRng('hosts', i);
        const src = SOURCES[rng.int(SOURCES.length)]!;
        const m = mutate(rng, src, { maxOps: 10, donor: SOURCES[rng.int(SOURCES.length)] });
        return { input: m.bytes, inSize: m.bytes.length, ops: m.ops, label: `source ${SOURCES.indexOf(src)}` };
      },
      runHosts,
      { outFactor: 16 },
    );
    expect(r.failures).toEqual([]);
    // The mutations reach the edit: most cases still have Windows Update entries to comment out.
    expect(edited).toBeGreaterThan(CASES / 2);
    const crafted = await fuzz(
      'hosts crafted',
      CRAFTED.length,
      (i) => {
        const [label, make] = CRAFTED[i]!;
        const bytes = make();
        return { input: bytes, inSize: bytes.length, ops: [], label };
      },
      runHosts,
      { outFactor: 16, caseBoundMs: 4000 },
    );
    expect(crafted.failures).toEqual([]);
    // All under the cap: the parser, not the cap, handled them.
    expect(crafted.refusals.size).toBe(0);
  });

  it(`a file larger than ${MAX_HOSTS_BYTES} bytes is refused before anything is decoded`, () => {
    expect(() => parseHosts(new Uint8Array(MAX_HOSTS_BYTES + 1).fill(0x0a))).toThrow(FormatError);
  });
});
