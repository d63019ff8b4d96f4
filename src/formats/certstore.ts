// Registry certificate stores (windows-update.md §6): the Blob property format (MS-GPEF 2.2.1.1.1.1,
// wine crypt32 serialize.c) and reading a store of the SOFTWARE hive with node:crypto.
import { createHash, X509Certificate } from 'node:crypto';
import { Hive } from '../hive/hive.js';
import { FormatError } from '../shared/errors.js';
import { keyAt, regRaw } from '../hive/query.js';

export const CERT_PROP_ID = {
  KEY_PROV_INFO: 2,
  SHA1_HASH: 3,
  MD5_HASH: 4,
  KEY_SPEC: 6,
  ENHKEY_USAGE: 9,
  FRIENDLY_NAME: 11,
  DESCRIPTION: 13,
  SIGNATURE_HASH: 15,
  KEY_IDENTIFIER: 20,
  AUTO_ENROLL: 21,
  PUBKEY_ALG_PARA: 22,
  ISSUER_PUBLIC_KEY_MD5_HASH: 24,
  SUBJECT_PUBLIC_KEY_MD5_HASH: 25,
  /** The DER certificate itself. */
  CERTIFICATE: 0x20,
} as const;

export const STORES = ['ROOT', 'AuthRoot', 'CA', 'TrustedPublisher', 'Disallowed'] as const;
/** SOFTWARE-relative store paths: the machine stores, then the Group Policy ones. */
export const STORE_PATHS: readonly string[] = [
  ...STORES.map((s) => `Microsoft\\SystemCertificates\\${s}`),
  'Policies\\Microsoft\\SystemCertificates\\Root',
  'Policies\\Microsoft\\SystemCertificates\\TrustedPublisher',
];

export interface CertProperty {
  id: number;
  data: Uint8Array;
}

export interface CertBlob {
  /** Every record except the certificate, in stored order. */
  properties: CertProperty[];
  certificate?: Uint8Array;
}

/**
 * Parse a `Blob` value: LE records `u32 PropertyID | u32 reserved (1) | u32 length | value`.
 * A PropertyID of 0 ends the list (wine); a record running past the end is a FormatError.
 */
export function parseCertBlob(bytes: Uint8Array): CertBlob {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const properties: CertProperty[] = [];
  let certificate: Uint8Array | undefined;
  let off = 0;
  let ended = false;
  while (off + 4 <= bytes.length) {
    const id = dv.getUint32(off, true);
    if (id === 0) {
      ended = true;
      break;
    }
    if (off + 12 > bytes.length) break;
    const len = dv.getUint32(off + 8, true);
    if (off + 12 + len > bytes.length) {
      throw new FormatError(`certificate blob: property 0x${id.toString(16)} of ${len} bytes runs past the end (${bytes.length} bytes)`, off);
    }
    const data = bytes.slice(off + 12, off + 12 + len);
    if (id === CERT_PROP_ID.CERTIFICATE) certificate = data;
    else properties.push({ id, data });
    off += 12 + len;
  }
  if (!ended && off < bytes.length) {
    throw new FormatError(`certificate blob: ${bytes.length - off} trailing bytes are not a whole record`, off);
  }
  return { properties, certificate };
}

function record(id: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, id, true);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, data.length, true);
  out.set(data, 12);
  return out;
}

/** A Blob: the properties first, the 0x20 certificate record last (minimal form: only that record). */
export function buildCertBlob(der: Uint8Array, props: CertProperty[] = []): Uint8Array {
  const parts = [...props.filter((p) => p.id !== CERT_PROP_ID.CERTIFICATE).map((p) => record(p.id, p.data)), record(CERT_PROP_ID.CERTIFICATE, der)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The registry key name of a certificate: SHA-1 of the DER as 40 uppercase hex characters. */
export function thumbprintOf(der: Uint8Array): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase();
}

export interface StoreCert {
  /** Key name under Certificates (should equal the thumbprint). */
  keyName: string;
  thumbprint?: string;
  subject?: string;
  issuer?: string;
  notBefore?: string;
  notAfter?: string;
  /** notAfter as a Date (invalid dates are left out). */
  notAfterDate?: Date;
  selfSigned?: boolean;
  /** The key name equals the SHA-1 of the DER (Windows/wine ignore a Blob where it does not). */
  blobOk: boolean;
  /** Why the entry could not be read (no Blob, bad Blob, not a certificate). */
  error?: string;
}

/** The certificates of one store, `storePath` relative to the SOFTWARE root (see STORE_PATHS). */
export function readStore(software: Hive, storePath: string): StoreCert[] {
  const certs = keyAt(software, `${storePath}\\Certificates`);
  if (certs === undefined) return [];
  return software.subkeys(certs).map((nk): StoreCert => {
    const keyName = software.keyName(nk);
    const raw = regRaw(software, nk, 'Blob');
    if (!raw) return { keyName, blobOk: false, error: 'no Blob value' };
    let blob: CertBlob;
    try {
      blob = parseCertBlob(raw.data);
    } catch (e) {
      return { keyName, blobOk: false, error: (e as Error).message };
    }
    if (!blob.certificate) return { keyName, blobOk: false, error: 'Blob has no certificate (0x20) record' };
    const thumbprint = thumbprintOf(blob.certificate);
    const base: StoreCert = { keyName, thumbprint, blobOk: thumbprint === keyName.toUpperCase() };
    try {
      const x = new X509Certificate(blob.certificate);
      let selfSigned = false;
      try {
        selfSigned = x.checkIssued(x) && x.verify(x.publicKey);
      } catch {
        selfSigned = false;
      }
      const d = new Date(x.validTo);
      return {
        ...base,
        subject: x.subject,
        issuer: x.issuer,
        notBefore: x.validFrom,
        notAfter: x.validTo,
        notAfterDate: Number.isNaN(d.getTime()) ? undefined : d,
        selfSigned,
      };
    } catch (e) {
      return { ...base, error: `not a readable certificate: ${(e as Error).message}` };
    }
  });
}

/** Every store of STORE_PATHS that has certificates, keyed by path. */
export function readAllStores(software: Hive): Record<string, StoreCert[]> {
  const out: Record<string, StoreCert[]> = {};
  for (const p of STORE_PATHS) {
    const c = readStore(software, p);
    if (c.length) out[p] = c;
  }
  return out;
}
