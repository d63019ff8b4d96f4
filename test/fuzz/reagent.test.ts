// Fuzz tier, ReAgent.xml: parseReAgentXml (bytes in every encoding it reads) and writeReAgentXml
// against the mutated original, over seeded mutations of the real-format sample of
// test/helpers/reagent-samples.ts (winre.md §7) and of variants of it (comments, PIs, CDATA, a
// DOCTYPE, entity references), plus the crafted shapes that hurt XML readers: entity expansion
// (billion laughs), deep nesting, huge and numerous attributes, thousands of unterminated comments.
import { describe, expect, it } from 'vitest';
import { MAX_REAGENT_BYTES, encodeReAgentText, parseReAgentXml, writeReAgentXml, type ReAgentEncoding } from '../../src/formats/reagent.js';
import { FormatError } from '../../src/shared/errors.js';
import { ENABLED, Z } from '../helpers/reagent-samples.js';
import { CASES, caseRng, fuzz, mutate } from './harness.js';

const ENCODINGS: ReAgentEncoding[] = [
  { charset: 'utf-8', bom: true },
  { charset: 'utf-8', bom: false },
  { charset: 'utf-16le', bom: true },
  { charset: 'utf-16be', bom: true },
];

const VARIANTS = [
  ENABLED,
  ENABLED.replace('<WinreBCD', '<!-- moved by a tool --><WinreBCD').replace('<InstallState', '<![CDATA[ <InstallState state="9"/> ]]><InstallState'),
  `<!DOCTYPE WindowsRE [<!ENTITY a "x">]>\r\n${ENABLED.replace('path="\\Recovery\\WindowsRE"', 'path="&#92;Recovery&#x5c;WindowsRE&amp;&a;"')}`,
  ENABLED.replace(/state="(\d)"/g, "value='$1'").replace('<OemTool', '<?pi data?><Unknown x="1"/><OemTool'),
];

function runReagent(bytes: Uint8Array, write: boolean): { outSize: number } {
  const cfg = parseReAgentXml(bytes);
  let out = JSON.stringify(cfg).length * 2;
  if (write) {
    const w = writeReAgentXml({ winreLocation: { path: '\\Recovery\\WindowsRE', id: 0, offset: 1048576, guid: Z }, installState: 1 }, bytes);
    out += w.length;
  }
  return { outSize: out };
}

// The shapes an attacker would write into a ReAgent.xml; each must end fast, with a value or a FormatError.
const CRAFTED: [string, () => string][] = [
  [
    'billion laughs (10 levels of 10 entity references)',
    () => {
      const ents = ['<!ENTITY lol "lol">'];
      for (let i = 1; i < 10; i++) ents.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
      return `<?xml version="1.0"?>\n<!DOCTYPE WindowsRE [${ents.join('\n')}]>\n<WindowsRE version="2.0"><WinreBCD id="&lol9;"/><WinreLocation path="&lol9;&lol9;"/></WindowsRE>`;
    },
  ],
  ['60,000 levels of nesting', () => `<WindowsRE version="2.0">${'<a>'.repeat(60_000)}${'</a>'.repeat(60_000)}</WindowsRE>`],
  ['one 400,000-character attribute', () => `<WindowsRE><WinreLocation path="${'A'.repeat(400_000)}" id="0"/></WindowsRE>`],
  ['70,000 attributes on one element, no closing >', () => `<WindowsRE><WinreLocation${' a="1"'.repeat(70_000)}`],
  ['120,000 unterminated comments', () => `<WindowsRE>${'<!--'.repeat(120_000)}`],
  ['40,000 unterminated PIs and CDATA', () => `<WindowsRE>${'<?<![CDATA['.repeat(40_000)}`],
  ['18,000 elements', () => `<WindowsRE>${'<InstallState state="1"/>'.repeat(18_000)}</WindowsRE>`],
  ['numeric entities out of range and huge', () => `<WindowsRE><WinreBCD id="&#x110000;&#99999999999999999999;&#0;&#xd800;"/></WindowsRE>`],
];

describe('fuzz: ReAgent.xml (parseReAgentXml + writeReAgentXml)', () => {
  it(`${CASES} mutated real-format files in 4 encodings: a config or a FormatError, each case bounded`, async () => {
    const sources = VARIANTS.flatMap((v) => ENCODINGS.map((e) => ({ bytes: encodeReAgentText(v, e), e })));
    for (const s of sources) expect(() => runReagent(s.bytes, true)).not.toThrow();
    expect(parseReAgentXml(sources[8]!.bytes).winreLocation?.path).toBe('\\Recovery\\WindowsRE&&a;'); // numeric and predefined entities decoded, DTD ones not
    const r = await fuzz(
      'reagent',
      CASES - CRAFTED.length * 2,
      (i) => {
        const rng = caseRng('reagent', i);
        const src = sources[rng.int(sources.length)]!;
        const m = mutate(rng, src.bytes, { maxOps: 10, donor: sources[rng.int(sources.length)]!.bytes });
        return { input: { bytes: m.bytes, write: i % 3 === 0 }, inSize: m.bytes.length, ops: m.ops, label: `${src.e.charset}${src.e.bom ? '+bom' : ''}` };
      },
      (c) => runReagent(c.bytes, c.write),
      { outFactor: 16 },
    );
    expect(r.failures).toEqual([]);
    const crafted = await fuzz(
      'reagent crafted',
      CRAFTED.length * 2,
      (i) => {
        const [label, make] = CRAFTED[i >> 1]!;
        const bytes = encodeReAgentText(make(), ENCODINGS[(i & 1) * 2]!); // UTF-8 and UTF-16LE
        return { input: bytes, inSize: bytes.length, ops: [], label };
      },
      (b) => runReagent(b, true),
      { outFactor: 16, caseBoundMs: 2000 },
    );
    expect(crafted.failures).toEqual([]);
    // They are all under the size cap: the scanner itself, not the cap, handles them.
    expect([...crafted.refusals.keys()].some((m) => /more than the/.test(m))).toBe(false);
    expect(r.cases + crafted.cases).toBeGreaterThanOrEqual(CASES);
  });

  it('DTD entities are never expanded: the billion laughs reads as the literal references', () => {
    const cfg = parseReAgentXml(CRAFTED[0]![1]());
    expect(cfg.winreBcd).toBe('&lol9;');
    expect(cfg.winreLocation?.path).toBe('&lol9;&lol9;');
  });

  it(`a file larger than ${MAX_REAGENT_BYTES} bytes is refused before it is decoded`, () => {
    const big = encodeReAgentText(ENABLED + ' '.repeat(MAX_REAGENT_BYTES), ENCODINGS[0]!);
    expect(() => parseReAgentXml(big)).toThrow(FormatError);
    expect(() => parseReAgentXml(big)).toThrow(/more than the 1048576 a real one can be/);
  });

  it('120,000 unterminated comments are scanned in linear time (the lazy regex was quadratic)', () => {
    const t0 = performance.now();
    expect(() => parseReAgentXml(`<WindowsRE version="2.0">${'<!--'.repeat(120_000)}<WinreBCD id="{x}"/></WindowsRE>`)).not.toThrow();
    expect(parseReAgentXml(`<WindowsRE version="2.0">${'<!--'.repeat(120_000)}<WinreBCD id="{x}"/></WindowsRE>`).winreBcd).toBe('{x}');
    // A terminated comment still hides what is inside it.
    expect(parseReAgentXml('<WindowsRE><!-- <WinreBCD id="{hidden}"/> --><WinreBCD id="{real}"/></WindowsRE>').winreBcd).toBe('{real}');
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
