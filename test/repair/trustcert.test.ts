// trust-cert on the WSUS 0x800B0109 scenario (test/scan/scenarios.ts wsusCert) with certificates
// made here by openssl: a self-signed one (TrustedPublisher + ROOT) and a CA-signed one
// (TrustedPublisher only). The written Blobs are read back with python3-hivex, their records walked
// here (windows-update.md §6), the certificate loaded into node:crypto and its SHA-1 compared
// with openssl's fingerprint.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, cpSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { buildWindowsTree } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { hivexDump, type DumpRow } from '../helpers/hive-tools.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { wsusCert } from '../scan/scenarios.js';
import { scanTarget } from '../../src/scan/scan.js';
import { buildPlan, renderPlan } from '../../src/engine/plan.js';
import { applyPlan } from '../../src/engine/apply.js';
import { undoRun } from '../../src/engine/undo.js';
import { BadInputError } from '../../src/shared/errors.js';
import { trustcert, certFromFile, blobFor, planTrustCert } from '../../src/repairs/trustcert.js';
import { hostVolume } from '../../src/engine/volume.js';

const reason = skipReason(sharedReason(), toolsReason('openssl', 'python3-hivex'));
const opensslReason = skipReason(toolsReason('openssl'));
const TP = 'Microsoft\\SystemCertificates\\TrustedPublisher\\Certificates';
const ROOT = 'Microsoft\\SystemCertificates\\ROOT\\Certificates';
const POLICY = 'Policies\\Microsoft\\Windows\\WindowsUpdate';
const SOFTWARE = 'Windows/System32/config/SOFTWARE';

const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-trustcert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (n: string) => path.join(dir, n);
const ossl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface Made {
  pem: Uint8Array;
  der: Uint8Array;
  /** openssl's SHA-1 fingerprint, 40 uppercase hex. */
  sha1: string;
  subject: string;
}
let self: Made;
let signed: Made;
let caPem: Uint8Array;
function made(name: string): Made {
  ossl('x509', '-in', f(`${name}.pem`), '-outform', 'DER', '-out', f(`${name}.der`));
  const sha1 = ossl('x509', '-in', f(`${name}.pem`), '-noout', '-fingerprint', '-sha1')
    .trim()
    .replace(/^.*=/, '')
    .replace(/:/g, '')
    .toUpperCase();
  const subject = ossl('x509', '-in', f(`${name}.pem`), '-noout', '-subject', '-nameopt', 'RFC2253')
    .trim()
    .replace(/^subject=/, '');
  return { pem: new Uint8Array(readFileSync(f(`${name}.pem`))), der: new Uint8Array(readFileSync(f(`${name}.der`))), sha1, subject };
}

beforeAll(() => {
  if (opensslReason) return;
  // Self-signed, as in the issue: the publisher certificate WSUS/SCUP generates.
  ossl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=Contoso Third Party',
    '-keyout',
    f('self.key'),
    '-out',
    f('self.pem'),
    '-days',
    '30',
    '-sha256',
  );
  self = made('self');
  // A CA and a publisher certificate it signed.
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=Contoso Root CA', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '30', '-sha256');
  ossl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=Contoso Publisher', '-keyout', f('pub.key'), '-out', f('pub.csr'));
  ossl('x509', '-req', '-in', f('pub.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('signed.pem'), '-days', '30', '-sha256');
  signed = made('signed');
  caPem = new Uint8Array(readFileSync(f('ca.pem')));
});

/** The Blob's records walked here: [id, reserved, bytes]. */
function records(blob: Buffer): [number, number, Buffer][] {
  const out: [number, number, Buffer][] = [];
  for (let off = 0; off + 12 <= blob.length;) {
    const len = blob.readUInt32LE(off + 8);
    out.push([blob.readUInt32LE(off), blob.readUInt32LE(off + 4), blob.subarray(off + 12, off + 12 + len)]);
    off += 12 + len;
  }
  return out;
}

describe.skipIf(!!opensslReason)('certFromFile and the Blob (openssl certificates)', () => {
  it('PEM and DER give the same DER, openssl SHA-1 (uppercase) and self-signed flag', () => {
    for (const [m, selfSigned] of [
      [self, true],
      [signed, false],
    ] as const) {
      for (const input of [m.pem, m.der]) {
        const c = certFromFile(input);
        expect(Buffer.from(c.der).equals(Buffer.from(m.der))).toBe(true);
        expect(c.thumbprint).toBe(m.sha1);
        expect(c.thumbprint).toMatch(/^[0-9A-F]{40}$/);
        expect(c.selfSigned).toBe(selfSigned);
        expect(c.subject).toBe(m.subject);
      }
    }
    // PEM with CRLF line ends and text before the block (openssl x509 -text output).
    const withText = Buffer.concat([
      Buffer.from('Certificate:\r\n    Data: ...\r\n'),
      Buffer.from(Buffer.from(self.pem).toString('latin1').replace(/\n/g, '\r\n')),
    ]);
    expect(certFromFile(new Uint8Array(withText)).thumbprint).toBe(self.sha1);
  });

  it('known bytes: 03 00 00 00 | 01 00 00 00 | 14 00 00 00 | SHA-1, then 20 00 00 00 | 01 00 00 00 | len LE32 | DER', () => {
    const blob = Buffer.from(blobFor(certFromFile(self.der)));
    const len = Buffer.alloc(4);
    len.writeUInt32LE(self.der.length);
    const expected =
      '03000000' + '01000000' + '14000000' + self.sha1.toLowerCase() + '20000000' + '01000000' + len.toString('hex') + Buffer.from(self.der).toString('hex');
    expect(blob.toString('hex')).toBe(expected);
    expect(records(blob).map(([id, r]) => [id, r])).toEqual([
      [3, 1],
      [0x20, 1],
    ]);
  });

  it('non-certificates are BadInputErrors: garbage, a private key, two certificates, trailing bytes, empty, random bytes', () => {
    const bad = (b: Uint8Array | string, re: RegExp) => {
      const bytes = typeof b === 'string' ? new Uint8Array(Buffer.from(b)) : b;
      expect(() => certFromFile(bytes, 'x.cer')).toThrow(BadInputError);
      expect(() => certFromFile(bytes, 'x.cer')).toThrow(re);
    };
    bad('hello', /neither DER .* nor PEM/);
    bad(new Uint8Array(0), /neither DER/);
    bad(new Uint8Array(readFileSync(f('self.key'))), /PEM block is "PRIVATE KEY"/);
    bad(new Uint8Array(Buffer.concat([self.pem, caPem])), /2 certificates in one file/);
    bad(new Uint8Array([...self.der, 0, 0]), /2 bytes follow it/);
    bad(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]), /not a certificate/);
    bad('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /not a certificate/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (x) => {
        try {
          certFromFile(x);
        } catch (e) {
          expect(e).toBeInstanceOf(BadInputError);
        }
      }),
      { numRuns: 300 },
    );
    // Mutations of a real certificate: a valid certificate or a BadInputError, nothing else.
    fc.assert(
      fc.property(fc.nat(self.der.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const m = new Uint8Array(self.der);
        m[i] = m[i]! ^ x;
        try {
          certFromFile(m);
        } catch (e) {
          expect(e).toBeInstanceOf(BadInputError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe.skipIf(!!reason)('trust-cert repair on the WSUS 0x800B0109 scenario', () => {
  let tmp = '';
  let pristine = '';
  let n = 0;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-trustcert-tree-'));
    pristine = path.join(tmp, 'pristine');
    await buildWindowsTree(pristine, wsusCert);
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const fresh = () => {
    const d = path.join(tmp, `t${n++}`);
    cpSync(pristine, d, { recursive: true });
    return d;
  };
  const runId = (k: string) => `20240215T080000Z-${k}`;
  const rows = (root: string) => hivexDump(path.join(root, SOFTWARE));
  const blobAt = (rs: DumpRow[], key: string) => {
    const v = rs.find((r) => r.path === key)?.values.find((x) => x.name === 'Blob');
    return v ? { type: v.type, blob: Buffer.from(v.data, 'hex') } : undefined;
  };

  it('without --cert: plans nothing', async () => {
    const root = fresh();
    const scan = await scanTarget({ root });
    expect(scan.findings.map((x) => x.id)).toEqual(['wsus-cert-untrusted']);
    expect(await trustcert.plan({ root, volume: hostVolume(root), scan, options: { runId: runId('none01') } })).toEqual([]);
  });

  it('self-signed: TrustedPublisher + ROOT Blobs and AcceptTrustedPublisherCerts=1, read back with python3-hivex into X509Certificate; undo restores every byte', async () => {
    const root = fresh();
    const before = treeHashes(root);
    const swBefore = rows(root);
    const scan = await scanTarget({ root });
    const id = runId('self01');
    const plan = await buildPlan(scan, [trustcert], {}, { runId: id, certs: [{ path: 'contoso.cer', bytes: self.der }] }, { tool: 't' });
    expect(plan.steps.map((s) => (s.change.kind === 'reg-set' ? `${s.change.key}|${s.change.name}|${s.change.old === null}` : s.change.kind))).toEqual([
      `${TP}\\${self.sha1}|Blob|true`,
      `${ROOT}\\${self.sha1}|Blob|true`,
      `${POLICY}|AcceptTrustedPublisherCerts|true`,
    ]);
    for (const s of plan.steps) expect(s.reason).toBe('wsus-cert-untrusted (0x800B0109)');
    expect(plan.steps[1]!.note).toMatch(/CN=Contoso Third Party from contoso\.cer into ROOT \(self-signed\)/);
    expect(renderPlan(plan, [trustcert])).toMatch(
      /\[Policies\\Microsoft\\Windows\\WindowsUpdate\] AcceptTrustedPublisherCerts REG_DWORD: \(absent\) -> 0x00000001/,
    );

    const journalRoot = path.join(root, 'wufix', 'journal');
    await applyPlan(plan, { journalRoot });
    const swAfter = rows(root);
    for (const store of [TP, ROOT]) {
      const got = blobAt(swAfter, `${store}\\${self.sha1}`)!;
      expect(got.type).toBe(3);
      const recs = records(got.blob);
      // Properties first, the certificate record last.
      expect(recs.map(([id]) => id)).toEqual([3, 0x20]);
      expect(recs[0]![2].toString('hex').toUpperCase()).toBe(self.sha1);
      const x = new X509Certificate(recs[recs.length - 1]![2]);
      expect(x.fingerprint.replace(/:/g, '')).toBe(self.sha1);
      expect(x.subject).toBe('CN=Contoso Third Party');
      expect(x.checkIssued(x)).toBe(true);
    }
    const policy = swAfter.find((r) => r.path === POLICY)!.values.find((v) => v.name === 'AcceptTrustedPublisherCerts')!;
    expect(policy).toEqual({ name: 'AcceptTrustedPublisherCerts', type: 4, data: '01000000' });
    // Every other key and value as it was.
    const strip = (rs: DumpRow[]) =>
      rs
        .filter((r) => r.path !== `${TP}\\${self.sha1}` && r.path !== `${ROOT}\\${self.sha1}`)
        .map((r) => (r.path === POLICY ? { ...r, values: r.values.filter((v) => v.name !== 'AcceptTrustedPublisherCerts') } : r));
    expect(strip(swAfter)).toEqual(swBefore);
    expect(treeDiff(before, treeHashes(root)).filter((d) => !/^Windows\/System32\/config\/SOFTWARE(\.LOG\d)?$/.test(d))).toEqual([]);

    // The scan sees the certificate in both stores and the policy: the 0x800B0109 failures in the
    // log are history now, so wsus-cert-untrusted is gone.
    const scanAfter = await scanTarget({ root });
    expect(
      scanAfter.certificates
        .filter((c) => c.thumbprint === self.sha1)
        .map((c) => c.store)
        .sort(),
    ).toEqual(['Microsoft\\SystemCertificates\\ROOT', 'Microsoft\\SystemCertificates\\TrustedPublisher']);
    expect(scanAfter.policy.acceptTrustedPublisherCerts).toBe(1);
    expect(scanAfter.findings.map((x) => x.id)).toEqual([]);
    // Idempotent: the same certificate again plans nothing.
    expect(
      await planTrustCert({
        root,
        volume: hostVolume(root),
        scan: scanAfter,
        options: { runId: runId('again1'), certs: [{ path: 'c.pem', bytes: self.pem }] },
      }),
    ).toEqual([]);

    await undoRun(journalRoot, id);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('CA-signed: TrustedPublisher only (no ROOT); undo restores every byte', async () => {
    const root = fresh();
    const before = treeHashes(root);
    const id = runId('signed');
    const plan = await buildPlan(await scanTarget({ root }), [trustcert], {}, { runId: id, certs: [{ path: 'pub.pem', bytes: signed.pem }] }, { tool: 't' });
    expect(plan.steps.map((s) => (s.change.kind === 'reg-set' ? s.change.key : ''))).toEqual([`${TP}\\${signed.sha1}`, POLICY]);
    const journalRoot = path.join(root, 'wufix', 'journal');
    await applyPlan(plan, { journalRoot });
    const rs = rows(root);
    expect(rs.some((r) => r.path.startsWith(`${ROOT}\\`))).toBe(false);
    const got = blobAt(rs, `${TP}\\${signed.sha1}`)!;
    const x = new X509Certificate(records(got.blob).pop()![2]);
    expect(x.fingerprint.replace(/:/g, '')).toBe(signed.sha1);
    expect(x.subject).toBe('CN=Contoso Publisher');
    expect(x.issuer).toBe('CN=Contoso Root CA');
    await undoRun(journalRoot, id);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('an existing AcceptTrustedPublisherCerts=0 is recorded as the old value; a Blob of another certificate under the key is replaced', async () => {
    const root = fresh();
    const { openHiveFile, saveHiveFile } = await import('../../src/hive/hivefile.js');
    const h = await openHiveFile(path.join(root, SOFTWARE));
    h.hive.setValue(h.hive.ensureKey(POLICY), 'AcceptTrustedPublisherCerts', 4, new Uint8Array([0, 0, 0, 0]));
    h.hive.setValue(h.hive.ensureKey(`${TP}\\${signed.sha1}`), 'Blob', 3, blobFor(certFromFile(self.der)));
    await saveHiveFile(h);
    const steps = await planTrustCert({
      root,
      volume: hostVolume(root),
      scan: await scanTarget({ root }),
      options: { runId: runId('old001'), certs: [{ path: 'pub.der', bytes: signed.der }] },
    });
    expect(steps.map((s) => s.change)).toEqual([
      expect.objectContaining({ key: `${TP}\\${signed.sha1}`, old: { type: 3, data: Buffer.from(blobFor(certFromFile(self.der))).toString('hex') } }),
      expect.objectContaining({ key: POLICY, name: 'AcceptTrustedPublisherCerts', value: { type: 4, data: '01000000' }, old: { type: 4, data: '00000000' } }),
    ]);
    expect(steps[0]!.note).toMatch(/replaces a Blob that does not hold this certificate/);
  });
});
