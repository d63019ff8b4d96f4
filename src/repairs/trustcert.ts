// trust-cert --cert <file>: trust the signing certificate of locally published (WSUS third-party)
// updates that fail with 0x800B0109 (windows-update.md §6): import it into LocalMachine
// TrustedPublisher, and into ROOT when it is self-signed, as registry Blob records (key = uppercase
// SHA-1 thumbprint, properties first and the 0x20 certificate record last), and set the policy
// AcceptTrustedPublisherCerts=1 ("Allow signed updates from an intranet Microsoft update service").
import { X509Certificate } from 'node:crypto';
import type { PlanStep, RegData } from '../model/plan.js';
import type { PlanContext, Repair } from '../engine/volume.js';
import type { Hive } from '../hive/hive.js';
import { REG } from '../hive/regtext.js';
import { BadInputError } from '../shared/errors.js';
import { buildCertBlob, parseCertBlob, thumbprintOf, CERT_PROP_ID, type CertProperty } from '../formats/certstore.js';
import { keyAt, regRaw } from '../hive/query.js';
import { dwordHex } from './wintrust.js';

export const SOFTWARE_HIVE = 'Windows\\System32\\config\\SOFTWARE';
export const TRUSTED_PUBLISHER = 'Microsoft\\SystemCertificates\\TrustedPublisher\\Certificates';
export const ROOT_STORE = 'Microsoft\\SystemCertificates\\ROOT\\Certificates';
export const WU_POLICY_KEY = 'Policies\\Microsoft\\Windows\\WindowsUpdate';
export const ACCEPT_VALUE = 'AcceptTrustedPublisherCerts';

export interface CertFile {
  /** The DER encoding (as X509Certificate re-encodes it: exactly the certificate, nothing after it). */
  der: Uint8Array;
  /** SHA-1 of the DER, 40 uppercase hex characters: the registry key name. */
  thumbprint: string;
  /** Issued by itself and its signature verifies with its own key. */
  selfSigned: boolean;
  subject: string;
}

const PEM_RE = /-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----([\s\S]*?)-----END (?:X509 |TRUSTED )?CERTIFICATE-----/g;

/**
 * A certificate file as the user gives it: DER (.cer/.crt/.der) or PEM with one certificate.
 * Anything else (a key, a PKCS#7 bundle, several certificates, garbage) is a BadInputError.
 */
export function certFromFile(bytes: Uint8Array, file?: string): CertFile {
  let der: Uint8Array;
  const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 64 * 1024))).toString('latin1');
  if (bytes.length > 0 && bytes[0] === 0x30) der = bytes;
  else if (/-----BEGIN /.test(head)) {
    const text = Buffer.from(bytes).toString('latin1');
    const blocks = [...text.matchAll(PEM_RE)];
    if (blocks.length === 0) {
      const what = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1] ?? 'unknown';
      throw new BadInputError(`not a certificate: the PEM block is "${what}"; give the certificate (-----BEGIN CERTIFICATE-----)`, {
        file,
        code: 'not-a-certificate',
      });
    }
    if (blocks.length > 1) {
      throw new BadInputError(
        `${blocks.length} certificates in one file; give each with its own --cert (the signing certificate goes to TrustedPublisher, a CA only to Root)`,
        { file, code: 'several-certificates' },
      );
    }
    der = new Uint8Array(Buffer.from(blocks[0]![1]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'));
  } else {
    throw new BadInputError('not a certificate: neither DER (starts with 0x30) nor PEM (-----BEGIN CERTIFICATE-----)', { file, code: 'not-a-certificate' });
  }
  let x: X509Certificate;
  try {
    x = new X509Certificate(der);
  } catch (e) {
    throw new BadInputError(`not a certificate: ${(e as Error).message}`, { file, code: 'not-a-certificate' });
  }
  const canonical = new Uint8Array(x.raw);
  if (canonical.length !== der.length) {
    throw new BadInputError(`not a single certificate: ${der.length - canonical.length} bytes follow it`, { file, code: 'not-a-certificate' });
  }
  let selfSigned = false;
  try {
    selfSigned = x.checkIssued(x) && x.verify(x.publicKey);
  } catch {
    selfSigned = false;
  }
  return { der: canonical, thumbprint: thumbprintOf(canonical), selfSigned, subject: x.subject.replace(/\n/g, ', ') };
}

/**
 * The Blob written for a certificate: the SHA1_HASH property (0x03, the 20-byte thumbprint, which
 * Windows would otherwise compute and add), then the 0x20 certificate record last.
 */
export function blobFor(cert: CertFile): Uint8Array {
  const props: CertProperty[] = [{ id: CERT_PROP_ID.SHA1_HASH, data: new Uint8Array(Buffer.from(cert.thumbprint, 'hex')) }];
  return buildCertBlob(cert.der, props);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function existingBlob(h: Hive | undefined, key: string): RegData | undefined {
  if (!h) return undefined;
  const nk = keyAt(h, key);
  const v = nk === undefined ? undefined : regRaw(h, nk, 'Blob');
  return v ? { type: v.type, data: hex(v.data) } : undefined;
}

/** True when a stored Blob already holds exactly this certificate (Windows may have added properties). */
function holds(old: RegData | undefined, der: Uint8Array): boolean {
  if (!old || old.type !== REG.BINARY) return false;
  try {
    const c = parseCertBlob(new Uint8Array(Buffer.from(old.data, 'hex'))).certificate;
    return !!c && Buffer.from(c).equals(Buffer.from(der));
  } catch {
    return false;
  }
}

export async function planTrustCert(ctx: PlanContext): Promise<PlanStep[]> {
  const { scan, options, volume } = ctx;
  const files = options.certs ?? [];
  if (files.length === 0) return []; // nothing to import: the plan lists the finding as not fixed
  const certs = files.map((f) => ({ file: f.path, cert: certFromFile(f.bytes, f.path) }));
  const finding = scan.findings.find((f) => f.id === 'wsus-cert-untrusted');
  const reason = finding ? 'wsus-cert-untrusted (0x800B0109)' : 'requested with --cert';

  const hiveRel = volume.resolve(SOFTWARE_HIVE);
  const sw = hiveRel === undefined ? undefined : await volume.openHive(hiveRel);
  if (hiveRel === undefined || !sw) throw new BadInputError('SOFTWARE hive not found', { file: SOFTWARE_HIVE });
  const steps: PlanStep[] = [];
  const seen = new Set<string>();
  for (const { file, cert } of certs) {
    const stores = [TRUSTED_PUBLISHER, ...(cert.selfSigned ? [ROOT_STORE] : [])];
    for (const store of stores) {
      const key = `${store}\\${cert.thumbprint}`;
      if (seen.has(key.toUpperCase())) continue;
      seen.add(key.toUpperCase());
      const old = existingBlob(sw, key) ?? null;
      if (old && holds(old, cert.der)) continue;
      const storeName = store.split('\\')[2];
      steps.push({
        repair: 'trust-cert',
        reason,
        change: { kind: 'reg-set', hive: hiveRel, key, name: 'Blob', value: { type: REG.BINARY, data: hex(blobFor(cert)) }, old },
        note: `${cert.subject} from ${file} into ${storeName}${storeName === 'ROOT' ? ' (self-signed)' : ''}; SHA-1 ${cert.thumbprint}${old ? '; replaces a Blob that does not hold this certificate' : ''}`,
      });
    }
  }
  const nk = keyAt(sw, WU_POLICY_KEY);
  const v = nk === undefined ? undefined : regRaw(sw, nk, ACCEPT_VALUE);
  const isOne = v && v.type === REG.DWORD && v.data.length === 4 && new DataView(v.data.buffer, v.data.byteOffset, 4).getUint32(0, true) === 1;
  if (!isOne) {
    steps.push({
      repair: 'trust-cert',
      reason,
      change: {
        kind: 'reg-set',
        hive: hiveRel,
        key: WU_POLICY_KEY,
        name: ACCEPT_VALUE,
        value: { type: REG.DWORD, data: dwordHex(1) },
        old: v ? { type: v.type, data: hex(v.data) } : null,
      },
      note: 'policy "Allow signed updates from an intranet Microsoft update service location"',
    });
  }
  return steps;
}

export const trustcert: Repair = {
  id: 'trust-cert',
  title: 'trust a WSUS publishing certificate (--cert <file>): TrustedPublisher (+ Root when self-signed), AcceptTrustedPublisherCerts=1',
  fixes: ['wsus-cert-untrusted'],
  uses: () => [SOFTWARE_HIVE],
  plan: planTrustCert,
  needs: 'the signing certificate: --cert <file>',
};
