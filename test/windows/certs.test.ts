// Registry certificate stores: Blob records (MS-GPEF minimal form), a certificate made by openssl in
// the test, and the real stores of regipy/ntuser_software_partial (a user's Software key), each
// certificate's SHA-1 and subject also computed by openssl from the DER libhivex reads.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Hive } from '../../src/hive/hive.js';
import { REG } from '../../src/hive/regtext.js';
import { writeNewHiveFile } from '../../src/hive/hivefile.js';
import { FormatError } from '../../src/shared/errors.js';
import { parseCertBlob, buildCertBlob, readStore, readAllStores, thumbprintOf, CERT_PROP_ID, STORE_PATHS } from '../../src/formats/certstore.js';
import { sharedReason, toolsReason, skipReason, hiveFixture } from '../helpers/env.js';
import { hivexDump } from '../helpers/hive-tools.js';

const reason = skipReason(toolsReason('openssl', 'python3-hivex'));
const dir = mkdtempSync(path.join(os.tmpdir(), 'wufix-certs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let der: Uint8Array;
let opensslSha1 = '';
beforeAll(() => {
  if (reason) return;
  const key = path.join(dir, 'k.pem');
  const crt = path.join(dir, 'c.der');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-outform',
      'DER',
      '-out',
      crt,
      '-days',
      '30',
      '-subj',
      '/CN=WSUS Publisher Test/O=wufix',
      '-sha256',
    ],
    { stdio: 'ignore' },
  );
  der = new Uint8Array(readFileSync(crt));
  opensslSha1 = execFileSync('openssl', ['x509', '-inform', 'DER', '-in', crt, '-noout', '-fingerprint', '-sha1'], { encoding: 'utf8' })
    .trim()
    .replace(/^.*=/, '')
    .replace(/:/g, '');
});

describe('Blob records', () => {
  it('MS-GPEF minimal blob: 20 00 00 00 01 00 00 00 <len LE32> <DER>', () => {
    const fake = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]);
    const b = buildCertBlob(fake);
    expect(Buffer.from(b).toString('hex')).toBe('20000000' + '01000000' + '05000000' + '3003020107');
    expect(parseCertBlob(b)).toEqual({ properties: [], certificate: fake });
  });
  it('properties first, the 0x20 record last (the MS-BPAU order), a passed 0x20 prop is not duplicated', () => {
    const props = [0x19, 0x0f, 0x03, 0x09, 0x04, 0x14].map((id) => ({ id, data: new Uint8Array([id, id]) }));
    const b = buildCertBlob(new Uint8Array([0x30, 0x00]), [...props, { id: 0x20, data: new Uint8Array([9]) }]);
    const p = parseCertBlob(b);
    expect(p.properties.map((x) => x.id)).toEqual([0x19, 0x0f, 0x03, 0x09, 0x04, 0x14]);
    expect(p.certificate).toEqual(new Uint8Array([0x30, 0x00]));
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    expect(dv.getUint32(b.length - 14, true)).toBe(CERT_PROP_ID.CERTIFICATE);
    for (let off = 0; off < b.length; off += 12 + dv.getUint32(off + 8, true)) expect(dv.getUint32(off + 4, true)).toBe(1);
  });
  it('a zero PropertyID ends the list (wine); truncated records are FormatErrors', () => {
    const b = buildCertBlob(new Uint8Array([0x30, 0x00]));
    expect(parseCertBlob(new Uint8Array([...b, 0, 0, 0, 0, 9, 9])).certificate).toEqual(new Uint8Array([0x30, 0x00]));
    expect(() => parseCertBlob(b.subarray(0, b.length - 1))).toThrow(FormatError);
    expect(() => parseCertBlob(new Uint8Array([...b, 1, 2, 3]))).toThrow(FormatError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (x) => {
        try {
          parseCertBlob(x);
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
        }
      }),
    );
  });
});

describe.skipIf(!!reason)('with an openssl certificate', () => {
  it('build -> parse -> X509Certificate; thumbprint = openssl SHA-1', () => {
    const blob = buildCertBlob(der, [{ id: CERT_PROP_ID.FRIENDLY_NAME, data: new Uint8Array(Buffer.from('WSUS\0', 'utf16le')) }]);
    const back = parseCertBlob(blob);
    expect(Buffer.from(back.certificate!).equals(Buffer.from(der))).toBe(true);
    const x = new X509Certificate(back.certificate!);
    expect(x.subject).toContain('CN=WSUS Publisher Test');
    expect(thumbprintOf(der)).toBe(opensslSha1.toUpperCase());
  });

  it('readStore on a generated SOFTWARE hive (checked with libhivex): good, misnamed, missing and broken blobs', async () => {
    const h = Hive.create({ rootName: 'SOFTWARE' });
    const tp = opensslSha1.toUpperCase();
    const base = 'Microsoft\\SystemCertificates\\TrustedPublisher\\Certificates';
    h.setValue(h.ensureKey(`${base}\\${tp}`), 'Blob', REG.BINARY, buildCertBlob(der));
    h.setValue(h.ensureKey(`${base}\\${'0'.repeat(40)}`), 'Blob', REG.BINARY, buildCertBlob(der));
    h.ensureKey(`${base}\\${'1'.repeat(40)}`);
    h.setValue(h.ensureKey(`${base}\\${'2'.repeat(40)}`), 'Blob', REG.BINARY, buildCertBlob(der).subarray(0, 100));
    h.setValue(h.ensureKey(`Policies\\Microsoft\\SystemCertificates\\Root\\Certificates\\${tp}`), 'Blob', REG.BINARY, buildCertBlob(der));
    const f = path.join(dir, 'SOFTWARE');
    await writeNewHiveFile(f, h);
    const row = hivexDump(f).find((r) => r.path === `${base}\\${tp}`)!;
    expect(row.values[0]!.data).toBe(Buffer.from(buildCertBlob(der)).toString('hex'));

    const sw = Hive.open(new Uint8Array(readFileSync(f)));
    const certs = readStore(sw, 'Microsoft\\SystemCertificates\\TrustedPublisher');
    const by = Object.fromEntries(certs.map((c) => [c.keyName === tp ? 'good' : c.keyName[0], c]));
    const x = new X509Certificate(der);
    expect(by['0']).toMatchObject({ thumbprint: tp, blobOk: false, subject: x.subject });
    expect(by['1']).toEqual({ keyName: '1'.repeat(40), blobOk: false, error: 'no Blob value' });
    expect(by['2']!.blobOk).toBe(false);
    expect(by['2']!.error).toMatch(/runs past the end/);
    const good = certs.find((c) => c.keyName === tp)!;
    expect(good).toMatchObject({ thumbprint: tp, blobOk: true, selfSigned: true, subject: x.subject, issuer: x.issuer, notAfter: x.validTo });
    expect(good.notAfterDate!.getTime()).toBeGreaterThan(Date.now());
    expect(Object.keys(readAllStores(sw))).toEqual(['Microsoft\\SystemCertificates\\TrustedPublisher', 'Policies\\Microsoft\\SystemCertificates\\Root']);
    expect(STORE_PATHS).toContain('Microsoft\\SystemCertificates\\ROOT');
  });
});

const realReason = skipReason(sharedReason(), reason);
describe.skipIf(!!realReason)('real stores (regipy/ntuser_software_partial)', () => {
  it('CA, Root and TrustedPublisher: key name = SHA-1, subject/issuer/expiry as openssl prints them', () => {
    const file = hiveFixture('regipy/ntuser_software_partial');
    const rows = hivexDump(file);
    const sw = Hive.open(new Uint8Array(readFileSync(file)));
    let n = 0;
    for (const store of ['CA', 'Root', 'TrustedPublisher']) {
      const certs = readStore(sw, `Microsoft\\SystemCertificates\\${store}`);
      const theirRows = rows.filter((r) => new RegExp(`^Microsoft\\\\SystemCertificates\\\\${store}\\\\Certificates\\\\[^\\\\]+$`).test(r.path));
      expect(certs.map((c) => c.keyName)).toEqual(theirRows.map((r) => r.path.split('\\').pop()));
      for (const c of certs) {
        const r = theirRows.find((x) => x.path.endsWith(c.keyName))!;
        const blob = Buffer.from(r.values.find((v) => v.name === 'Blob')!.data, 'hex');
        // Independent: find the 0x20 record by walking the records here, hash and print with openssl.
        let off = 0;
        let certDer: Buffer | undefined;
        while (off + 12 <= blob.length) {
          const id = blob.readUInt32LE(off);
          const len = blob.readUInt32LE(off + 8);
          if (id === 0x20) certDer = blob.subarray(off + 12, off + 12 + len);
          off += 12 + len;
        }
        const p = path.join(dir, `${c.keyName}.der`);
        writeFileSync(p, certDer!);
        const o = execFileSync(
          'openssl',
          ['x509', '-inform', 'DER', '-in', p, '-noout', '-fingerprint', '-sha1', '-enddate', '-subject', '-issuer', '-nameopt', 'RFC2253'],
          { encoding: 'utf8' },
        );
        const sha1 = /Fingerprint=([0-9A-F:]+)/i.exec(o)![1]!.replace(/:/g, '').toUpperCase();
        expect(c.thumbprint).toBe(sha1);
        expect(c.blobOk).toBe(sha1 === c.keyName.toUpperCase());
        expect(c.blobOk).toBe(true);
        expect(new Date(/notAfter=(.*)/.exec(o)![1]!).getTime()).toBe(c.notAfterDate!.getTime());
        const cn = (s: string) => /CN=([^,\n]+)/.exec(s)?.[1];
        expect(cn(c.subject!)).toBe(cn(/subject=(.*)/.exec(o)![1]!));
        const subj = /subject=(.*)/.exec(o)![1]!.trim();
        const iss = /issuer=(.*)/.exec(o)![1]!.trim();
        if (subj !== iss) expect(c.selfSigned).toBe(false);
        n++;
      }
    }
    expect(n).toBe(9);
  });
});
