// Fuzz tier, security descriptors and certificate blobs:
//  - decodeSecurityDescriptor / securityDescriptorToSddl (and a re-encode round trip) over seeded
//    mutations of the real descriptors of the fixtures' sk cells;
//  - parseSddl / sddlToSecurityDescriptor over mutations of those descriptors' SDDL text;
//  - parseCertBlob and readStore (Blob records, then the DER through node:crypto) over mutations of
//    the real certificate Blob values of fixtures/hives (regipy/ntuser_software_partial, Win11
//    NTUSER.DAT), each put in a small hive at the store path readStore reads.
import { describe, expect, it } from 'vitest';
import { Hive, NIL } from '../../src/hive/hive.js';
import { decodeSecurityDescriptor, encodeSecurityDescriptor, parseSddl, sddlToSecurityDescriptor, securityDescriptorToSddl } from '../../src/formats/sddl.js';
import { parseCertBlob, readStore } from '../../src/formats/certstore.js';
import { FormatError } from '../../src/shared/errors.js';
import { CASES, caseRng, fixtureBytes, fixturesReason, fuzz, mutate } from './harness.js';

const SD_HIVES = ['DFIRArtifactMuseum/Win11/DEFAULT_PROFILE/NTUSER.DAT', 'DFIRArtifactMuseum/Win7/NTUSER1.DAT', 'regipy/BCD', 'DFIRArtifactMuseum/Win11/ELAM'];
const CERT_HIVES: [string, string][] = [
  ['regipy/ntuser_software_partial', 'Microsoft\\SystemCertificates'],
  ['DFIRArtifactMuseum/Win11/NTUSER.DAT', 'Software\\Microsoft\\SystemCertificates'],
];

/** Distinct security descriptors of a hive (each sk cell once). */
function descriptors(bytes: Uint8Array): Uint8Array[] {
  const h = Hive.open(bytes);
  const seen = new Set<number>();
  const out: Uint8Array[] = [];
  h.walk(h.rootCell, '', (nk) => {
    const sk = h.skOffset(nk);
    if (sk === NIL || seen.has(sk)) return;
    seen.add(sk);
    const sd = h.keySecurity(nk);
    if (sd) out.push(sd.slice());
  });
  return out;
}

/** Certificate Blob values under `root` (store\Certificates\<thumbprint>\Blob). */
function blobs(bytes: Uint8Array, root: string): Uint8Array[] {
  const h = Hive.open(bytes);
  const out: Uint8Array[] = [];
  const start = h.lookup(root);
  if (start === undefined) return out;
  h.walk(start, root, (nk, p) => {
    if (!/\\Certificates\\[^\\]+$/i.test(p)) return;
    const vk = h.findValue(nk, 'Blob');
    if (vk !== undefined) out.push(h.valueData(vk));
  });
  return out;
}

function runSd(b: Uint8Array): { outSize: number } {
  const sd = decodeSecurityDescriptor(b);
  const text = securityDescriptorToSddl(b);
  // What decodes re-encodes, and the encoding decodes to the same model.
  const again = decodeSecurityDescriptor(encodeSecurityDescriptor(sd));
  expect(again.owner).toBe(sd.owner);
  return { outSize: text.length * 2 };
}

function runSddl(text: string): { outSize: number } {
  parseSddl(text);
  return { outSize: sddlToSecurityDescriptor(text).length };
}

function runCert(blob: Uint8Array): { outSize: number } {
  let out = 0;
  try {
    const b = parseCertBlob(blob);
    out += b.properties.reduce((n, p) => n + p.data.length + 16, 0) + (b.certificate?.length ?? 0);
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
  }
  // The store reader over the same bytes: entries with problems carry an error, never throw.
  const h = Hive.create({ minor: 5 });
  const k = h.ensureKey('Microsoft\\SystemCertificates\\ROOT\\Certificates\\0000000000000000000000000000000000000000');
  h.setValue(k, 'Blob', 3, blob);
  const certs = readStore(h, 'Microsoft\\SystemCertificates\\ROOT');
  expect(certs).toHaveLength(1);
  out += JSON.stringify(certs).length;
  return { outSize: out };
}

describe.skipIf(!!fixturesReason())('fuzz: security descriptors, SDDL and certificate blobs', () => {
  it(`${CASES} mutated real descriptors, SDDL strings and certificate blobs: a value or a FormatError`, async () => {
    const sds = SD_HIVES.flatMap((f) => descriptors(fixtureBytes('hives', f)));
    const sddls = sds.map((b) => securityDescriptorToSddl(b));
    const certs = CERT_HIVES.flatMap(([f, root]) => blobs(fixtureBytes('hives', f), root));
    expect(sds.length).toBeGreaterThan(50);
    expect(certs.length).toBeGreaterThanOrEqual(5);
    for (const c of certs)
      expect(
        readStore(
          (() => {
            const h = Hive.create({ minor: 5 });
            h.setValue(h.ensureKey('S\\Certificates\\X'), 'Blob', 3, c);
            return h;
          })(),
          'S',
        )[0]!.subject,
      ).toBeTruthy();
    const nSd = Math.ceil(CASES * 0.4);
    const nText = Math.ceil(CASES * 0.3);
    const nCert = CASES - nSd - nText;
    const r1 = await fuzz(
      'security descriptors',
      nSd,
      (i) => {
        const rng = caseRng('sd', i);
        const m = mutate(rng, sds[rng.int(sds.length)]!, {
          hot: [
            [0, 20],
            [20, 64],
          ],
          maxOps: 6,
          maxLength: 1 << 16,
        });
        return { input: m.bytes, inSize: m.bytes.length, ops: m.ops, label: 'binary' };
      },
      runSd,
      { outFactor: 16, outSlack: 4096 },
    );
    const r2 = await fuzz(
      'sddl text',
      nText,
      (i) => {
        const rng = caseRng('sddl', i);
        const src = Buffer.from(sddls[rng.int(sddls.length)]!, 'latin1');
        const m = mutate(rng, src, { maxOps: 6, donor: Buffer.from(sddls[rng.int(sddls.length)]!, 'latin1') });
        let text = Buffer.from(m.bytes).toString('latin1');
        let label = 'mutated text';
        // Now and then, long runs of what the grammar repeats (flags, ACEs, digits).
        const k = rng.int(100);
        if (k === 0) [text, label] = [`D:${'P'.repeat(50_000)}(A;;GA;;;SY)`, '50,000 P flags'];
        else if (k === 1) [text, label] = [`O:S-1-5-${'9'.repeat(100_000)}`, '100,000-digit SID'];
        else if (k === 2) [text, label] = [`D:${'(A;;GA;;;SY)'.repeat(5_000)}`, '5,000 ACEs'];
        return { input: text, inSize: text.length, ops: label === 'mutated text' ? m.ops : [], label };
      },
      runSddl,
      { outFactor: 16, outSlack: 4096 },
    );
    const r3 = await fuzz(
      'certificate blobs',
      nCert,
      (i) => {
        const rng = caseRng('cert', i);
        const m = mutate(rng, certs[rng.int(certs.length)]!, { hot: [[0, 64]], maxOps: 8, donor: certs[rng.int(certs.length)]! });
        return { input: m.bytes, inSize: m.bytes.length, ops: m.ops, label: 'blob' };
      },
      runCert,
      { outFactor: 16, outSlack: 1 << 16 },
    );
    for (const r of [r1, r2, r3]) expect(r.failures).toEqual([]);
    expect(r1.cases + r2.cases + r3.cases).toBeGreaterThanOrEqual(CASES);
  });
});

describe('crafted SDDL: linear parsing (regressions)', () => {
  it('"D:" + 200,000 "P" flags and a 300,000-digit SID are handled in time', () => {
    const t0 = performance.now();
    expect(parseSddl(`D:${'P'.repeat(200_000)}(A;;GA;;;SY)`).dacl?.aces).toHaveLength(1);
    expect(() => parseSddl(`O:S-1-5-${'9'.repeat(300_000)}`)).toThrow(/not a SID: 3000\d\d characters/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
