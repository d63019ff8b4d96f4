// SDDL <-> self-relative SECURITY_DESCRIPTOR (MS-DTYP 2.4.6 / 2.4.5 / 2.4.4 / 2.4.2, and the SDDL
// grammar of MS-DTYP 2.5.1). Pure: strings and bytes in, strings and bytes out.
//
// Binary layout written, as Windows' ConvertStringSecurityDescriptorToSecurityDescriptorW and the
// SCM's service descriptors lay it out (RtlMakeSelfRelativeSD order): the 20-byte header, then the
// SACL, the DACL, the owner SID and the group SID, each present one right after the previous one,
// no padding (every SID and ACE is a multiple of 4 bytes). Checked against descriptors written by
// Windows in test/windows/sddl.test.ts.
//
// Supported: O: G: D: S:; ACL flags P, AI, AR and D:NO_ACCESS_CONTROL (null DACL); ACE types
// A (allowed), D (denied), AU (audit), ML (mandatory label); ACE flags OI CI NP IO ID SA FA; rights
// as two-letter codes or a number (0x.. hex or decimal); SIDs as aliases (table below) or S-1-...
// Not supported (FormatError): object ACEs (OA/OD/OU/OL), callback/conditional ACEs, resource
// attribute ACEs, and the domain-relative aliases (DA, DU, LA, ...) which need the domain SID.
import { FormatError } from '../shared/errors.js';

export const SE = {
  OWNER_DEFAULTED: 0x0001,
  GROUP_DEFAULTED: 0x0002,
  DACL_PRESENT: 0x0004,
  DACL_DEFAULTED: 0x0008,
  SACL_PRESENT: 0x0010,
  SACL_DEFAULTED: 0x0020,
  DACL_AUTO_INHERIT_REQ: 0x0100,
  SACL_AUTO_INHERIT_REQ: 0x0200,
  DACL_AUTO_INHERITED: 0x0400,
  SACL_AUTO_INHERITED: 0x0800,
  DACL_PROTECTED: 0x1000,
  SACL_PROTECTED: 0x2000,
  RM_CONTROL_VALID: 0x4000,
  SELF_RELATIVE: 0x8000,
} as const;

/** ACE types (MS-DTYP 2.4.4.1) with their SDDL names. */
export const ACE_TYPES: Readonly<Record<string, number>> = { A: 0x00, D: 0x01, AU: 0x02, ML: 0x11 };
/** ACE flags in the order Windows prints them. */
export const ACE_FLAGS: readonly (readonly [string, number])[] = [
  ['OI', 0x01],
  ['CI', 0x02],
  ['NP', 0x04],
  ['IO', 0x08],
  ['ID', 0x10],
  ['SA', 0x40],
  ['FA', 0x80],
];

/** Single-bit rights, in bit order (the order Windows prints them). */
const RIGHT_BITS: readonly (readonly [string, number])[] = [
  ['CC', 0x1],
  ['DC', 0x2],
  ['LC', 0x4],
  ['SW', 0x8],
  ['RP', 0x10],
  ['WP', 0x20],
  ['DT', 0x40],
  ['LO', 0x80],
  ['CR', 0x100],
  ['SD', 0x10000],
  ['RC', 0x20000],
  ['WD', 0x40000],
  ['WO', 0x80000],
  ['GA', 0x10000000],
  ['GX', 0x20000000],
  ['GW', 0x40000000],
  ['GR', 0x80000000],
];
/** Combined rights: printed only when the mask is exactly one of them. */
const RIGHT_COMBOS: readonly (readonly [string, number])[] = [
  ['FA', 0x1f01ff],
  ['FR', 0x120089],
  ['FW', 0x120116],
  ['FX', 0x1200a0],
  ['KA', 0xf003f],
  ['KR', 0x20019],
  ['KW', 0x20006],
  ['KX', 0x20019],
];
/** Mandatory label rights (only meaningful in ML ACEs). */
const LABEL_RIGHTS: readonly (readonly [string, number])[] = [
  ['NR', 0x2],
  ['NW', 0x1],
  ['NX', 0x4],
];
const RIGHTS = new Map<string, number>([...RIGHT_BITS, ...RIGHT_COMBOS, ...LABEL_RIGHTS]);

/** Well-known SID aliases (MS-DTYP 2.5.1.1 / "SID Strings"), except the domain-relative ones. */
export const SID_ALIASES: Readonly<Record<string, string>> = {
  WD: 'S-1-1-0',
  CO: 'S-1-3-0',
  CG: 'S-1-3-1',
  OW: 'S-1-3-4',
  NU: 'S-1-5-2',
  IU: 'S-1-5-4',
  SU: 'S-1-5-6',
  AN: 'S-1-5-7',
  ED: 'S-1-5-9',
  PS: 'S-1-5-10',
  AU: 'S-1-5-11',
  RC: 'S-1-5-12',
  SY: 'S-1-5-18',
  LS: 'S-1-5-19',
  NS: 'S-1-5-20',
  BA: 'S-1-5-32-544',
  BU: 'S-1-5-32-545',
  BG: 'S-1-5-32-546',
  PU: 'S-1-5-32-547',
  AO: 'S-1-5-32-548',
  SO: 'S-1-5-32-549',
  PO: 'S-1-5-32-550',
  BO: 'S-1-5-32-551',
  RE: 'S-1-5-32-552',
  RU: 'S-1-5-32-554',
  RD: 'S-1-5-32-555',
  NO: 'S-1-5-32-556',
  MU: 'S-1-5-32-558',
  LU: 'S-1-5-32-559',
  IS: 'S-1-5-32-568',
  CY: 'S-1-5-32-569',
  ER: 'S-1-5-32-573',
  CD: 'S-1-5-32-574',
  RA: 'S-1-5-32-575',
  ES: 'S-1-5-32-576',
  MS: 'S-1-5-32-577',
  HA: 'S-1-5-32-578',
  AA: 'S-1-5-32-579',
  RM: 'S-1-5-32-580',
  WR: 'S-1-5-33',
  UD: 'S-1-5-84-0-0-0-0-0',
  AC: 'S-1-15-2-1',
  LW: 'S-1-16-4096',
  ME: 'S-1-16-8192',
  MP: 'S-1-16-8448',
  HI: 'S-1-16-12288',
  SI: 'S-1-16-16384',
  AS: 'S-1-18-1',
  SS: 'S-1-18-2',
};
const DOMAIN_ALIASES = new Set(['DA', 'DU', 'DG', 'DC', 'DD', 'CA', 'SA', 'EA', 'PA', 'RS', 'CN', 'AP', 'KA', 'EK', 'RO', 'LA', 'LG']);
const ALIAS_OF_SID = new Map(Object.entries(SID_ALIASES).map(([a, s]) => [s, a]));

export interface Ace {
  /** ACE type byte (0 allowed, 1 denied, 2 audit, 0x11 mandatory label). */
  type: number;
  flags: number;
  mask: number;
  /** "S-1-5-18" form. */
  sid: string;
}

export interface Acl {
  /** ACL_REVISION (2) for the ACE types supported here. */
  revision: number;
  aces: Ace[];
}

export interface SecurityDescriptor {
  /** The control word (SE_SELF_RELATIVE is added when encoding). */
  control: number;
  owner?: string;
  group?: string;
  /** undefined = not present; null = present but NULL (no access control). */
  dacl?: Acl | null;
  sacl?: Acl | null;
}

// ---------------------------------------------------------------------------------------------
// SIDs (MS-DTYP 2.4.2.2 binary, 2.4.2.1 string)

const MAX_SUB_AUTHORITIES = 15;
const MAX_SID_TEXT = 256;

/** "S-1-5-32-544" (or an alias) -> binary SID. */
export function sidToBytes(text: string): Uint8Array {
  // The longest SID text is about 190 characters (15 sub-authorities of 10 digits): longer input
  // is refused before any regex or BigInt work on it (a 1 MB run of digits is slow to convert).
  if (text.length > MAX_SID_TEXT) throw new FormatError(`not a SID: ${text.length} characters (a SID is at most ${MAX_SID_TEXT})`);
  const alias = SID_ALIASES[text.toUpperCase()];
  const s = alias ?? text;
  const m = /^S-1-(0x[0-9a-f]{1,12}|\d+)((?:-\d+)+)$/i.exec(s);
  if (!m) {
    if (DOMAIN_ALIASES.has(text.toUpperCase()))
      throw new FormatError(`SID alias ${text} is relative to a domain SID, which is not known offline; write the S-1-5-21-... SID`);
    throw new FormatError(`not a SID: ${JSON.stringify(text)}`);
  }
  const auth = BigInt(m[1]!.toLowerCase()); // decimal, or 0x-prefixed hex as Windows prints authorities >= 2^32
  if (auth >= 1n << 48n) throw new FormatError(`SID identifier authority out of range: ${text}`);
  const subs = m[2]!
    .slice(1)
    .split('-')
    .map((x) => BigInt(x));
  if (subs.length > MAX_SUB_AUTHORITIES) throw new FormatError(`SID has more than ${MAX_SUB_AUTHORITIES} sub-authorities: ${text}`);
  const out = new Uint8Array(8 + 4 * subs.length);
  const dv = new DataView(out.buffer);
  out[0] = 1;
  out[1] = subs.length;
  for (let i = 0; i < 6; i++) out[2 + i] = Number((auth >> BigInt(8 * (5 - i))) & 0xffn);
  subs.forEach((v, i) => {
    if (v > 0xffffffffn) throw new FormatError(`SID sub-authority out of range: ${text}`);
    dv.setUint32(8 + 4 * i, Number(v), true);
  });
  return out;
}

/** Binary SID at `offset` -> { sid: "S-1-...", size }. Authorities >= 2^32 print as hex (as Windows does). */
export function sidFromBytes(b: Uint8Array, offset = 0): { sid: string; size: number } {
  if (offset + 8 > b.length) throw new FormatError('SID runs past the end of the descriptor', offset);
  if (b[offset] !== 1) throw new FormatError(`SID revision ${b[offset]} (expected 1)`, offset);
  const n = b[offset + 1]!;
  if (n > MAX_SUB_AUTHORITIES) throw new FormatError(`SID with ${n} sub-authorities (at most ${MAX_SUB_AUTHORITIES})`, offset);
  const size = 8 + 4 * n;
  if (offset + size > b.length) throw new FormatError('SID runs past the end of the descriptor', offset);
  let auth = 0n;
  for (let i = 0; i < 6; i++) auth = (auth << 8n) | BigInt(b[offset + 2 + i]!);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const parts = [auth < 1n << 32n ? auth.toString() : `0x${auth.toString(16).toUpperCase().padStart(12, '0')}`];
  for (let i = 0; i < n; i++) parts.push(String(dv.getUint32(offset + 8 + 4 * i, true)));
  return { sid: `S-1-${parts.join('-')}`, size };
}

// ---------------------------------------------------------------------------------------------
// SDDL -> model

class Reader {
  pos = 0;
  constructor(readonly s: string) {}
  fail(msg: string): never {
    throw new FormatError(`SDDL: ${msg} at character ${this.pos} of ${JSON.stringify(this.s.length > 200 ? this.s.slice(0, 200) + '...' : this.s)}`, this.pos);
  }
  skipSpace(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++;
  }
  done(): boolean {
    this.skipSpace();
    return this.pos >= this.s.length;
  }
}

function parseRights(text: string, r: Reader): number {
  const t = text.trim();
  if (t === '') return 0;
  if (/^0x[0-9a-f]+$/i.test(t)) {
    const v = Number.parseInt(t.slice(2), 16);
    if (v > 0xffffffff) r.fail(`access mask ${t} does not fit in 32 bits`);
    return v >>> 0;
  }
  if (/^\d+$/.test(t)) {
    const v = Number(t);
    if (v > 0xffffffff) r.fail(`access mask ${t} does not fit in 32 bits`);
    return v >>> 0;
  }
  if (t.length % 2 !== 0) r.fail(`bad access rights ${JSON.stringify(t)}`);
  let mask = 0;
  for (let i = 0; i < t.length; i += 2) {
    const code = t.slice(i, i + 2).toUpperCase();
    const v = RIGHTS.get(code);
    if (v === undefined) r.fail(`unknown access right ${JSON.stringify(code)}`);
    mask = (mask | v) >>> 0;
  }
  return mask;
}

function parseAceFlags(text: string, r: Reader): number {
  const t = text.trim().toUpperCase();
  if (t.length % 2 !== 0) r.fail(`bad ACE flags ${JSON.stringify(text)}`);
  let flags = 0;
  for (let i = 0; i < t.length; i += 2) {
    const f = ACE_FLAGS.find(([n]) => n === t.slice(i, i + 2));
    if (!f) r.fail(`unknown ACE flag ${JSON.stringify(t.slice(i, i + 2))}`);
    flags |= f[1];
  }
  return flags;
}

function parseSidText(text: string, r: Reader): string {
  const t = text.trim();
  try {
    return sidFromBytes(sidToBytes(t)).sid;
  } catch (e) {
    if (e instanceof FormatError) r.fail(e.message);
    throw e;
  }
}

function parseAce(body: string, r: Reader, where: 'D' | 'S'): Ace {
  const f = body.split(';');
  if (f.length !== 6) r.fail(`an ACE has 6 fields (type;flags;rights;object;inherit-object;sid), got ${f.length} in (${body})`);
  const typeName = f[0]!.trim().toUpperCase();
  const type = ACE_TYPES[typeName];
  if (type === undefined) r.fail(`unsupported ACE type ${JSON.stringify(f[0])} (supported: ${Object.keys(ACE_TYPES).join(', ')})`);
  if (where === 'D' && (type === ACE_TYPES.AU || type === ACE_TYPES.ML)) r.fail(`ACE type ${typeName} belongs in the SACL (S:), not the DACL`);
  if (where === 'S' && (type === ACE_TYPES.A || type === ACE_TYPES.D)) r.fail(`ACE type ${typeName} belongs in the DACL (D:), not the SACL`);
  if (f[3]!.trim() !== '' || f[4]!.trim() !== '') r.fail('object GUIDs are only valid in object ACEs (OA/OD/OU), which are not supported');
  return { type, flags: parseAceFlags(f[1]!, r), mask: parseRights(f[2]!, r), sid: parseSidText(f[5]!, r) };
}

/** Parse an SDDL string into a descriptor model. Throws FormatError (with the character offset). */
export function parseSddl(sddl: string): SecurityDescriptor {
  const r = new Reader(sddl);
  const sd: SecurityDescriptor = { control: 0 };
  const seen = new Set<string>();
  while (!r.done()) {
    const tag = sddl.slice(r.pos, r.pos + 2).toUpperCase();
    if (!/^[OGDS]:$/.test(tag)) r.fail(`expected O:, G:, D: or S:`);
    const c = tag[0]!;
    if (seen.has(c)) r.fail(`${c}: appears twice`);
    seen.add(c);
    r.pos += 2;
    if (c === 'O' || c === 'G') {
      // A SID runs up to the next component tag.
      const start = r.pos;
      let end = start;
      while (end < sddl.length && !/^[OGDS]:/i.test(sddl.slice(end, end + 2))) end++;
      // "S-1-..." itself starts with "S" but never with "S:".
      const sid = parseSidText(sddl.slice(start, end), r);
      if (c === 'O') sd.owner = sid;
      else sd.group = sid;
      r.pos = end;
      continue;
    }
    // ACL: flags, then ACEs in parentheses (or NO_ACCESS_CONTROL).
    const isD = c === 'D';
    sd.control |= isD ? SE.DACL_PRESENT : SE.SACL_PRESENT;
    let nullAcl = false;
    // Case-insensitive "does the text at the cursor start with `w`" without copying the rest of
    // the string (a slice per flag made "D:PPPP..." quadratic).
    const at = (w: string) => sddl.substr(r.pos, w.length).toUpperCase() === w;
    for (;;) {
      r.skipSpace();
      if (at('NO_ACCESS_CONTROL')) {
        nullAcl = true;
        r.pos += 'NO_ACCESS_CONTROL'.length;
      } else if (at('P')) {
        sd.control |= isD ? SE.DACL_PROTECTED : SE.SACL_PROTECTED;
        r.pos += 1;
      } else if (at('AI')) {
        sd.control |= isD ? SE.DACL_AUTO_INHERITED : SE.SACL_AUTO_INHERITED;
        r.pos += 2;
      } else if (at('AR')) {
        sd.control |= isD ? SE.DACL_AUTO_INHERIT_REQ : SE.SACL_AUTO_INHERIT_REQ;
        r.pos += 2;
      } else break;
    }
    const acl: Acl = { revision: 2, aces: [] };
    for (;;) {
      r.skipSpace();
      if (sddl[r.pos] !== '(') break;
      const close = sddl.indexOf(')', r.pos);
      if (close < 0) r.fail('unterminated ACE (missing ")")');
      acl.aces.push(parseAce(sddl.slice(r.pos + 1, close), r, c as 'D' | 'S'));
      r.pos = close + 1;
    }
    if (nullAcl && acl.aces.length) r.fail('NO_ACCESS_CONTROL with ACEs');
    if (isD) sd.dacl = nullAcl ? null : acl;
    else sd.sacl = nullAcl ? null : acl;
    if (!r.done() && !/^[OGDS]:/i.test(sddl.slice(r.pos, r.pos + 2))) r.fail('unexpected text');
  }
  return sd;
}

// ---------------------------------------------------------------------------------------------
// model -> bytes

function encodeAcl(acl: Acl): Uint8Array {
  const aces = acl.aces.map((a) => {
    const sid = sidToBytes(a.sid);
    const out = new Uint8Array(8 + sid.length);
    const dv = new DataView(out.buffer);
    out[0] = a.type;
    out[1] = a.flags;
    dv.setUint16(2, out.length, true);
    dv.setUint32(4, a.mask >>> 0, true);
    out.set(sid, 8);
    return out;
  });
  const size = 8 + aces.reduce((n, a) => n + a.length, 0);
  if (size > 0xffff) throw new FormatError(`ACL of ${size} bytes exceeds the 64 KiB limit`);
  if (aces.length > 0xffff) throw new FormatError('too many ACEs');
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out[0] = acl.revision;
  dv.setUint16(2, size, true);
  dv.setUint16(4, aces.length, true);
  let at = 8;
  for (const a of aces) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Encode a descriptor model as a self-relative SECURITY_DESCRIPTOR (SACL, DACL, owner, group). */
export function encodeSecurityDescriptor(sd: SecurityDescriptor): Uint8Array {
  let control = (sd.control | SE.SELF_RELATIVE) & 0xffff;
  control = sd.dacl !== undefined ? control | SE.DACL_PRESENT : control & ~SE.DACL_PRESENT;
  control = sd.sacl !== undefined ? control | SE.SACL_PRESENT : control & ~SE.SACL_PRESENT;
  const parts: { field: number; bytes: Uint8Array }[] = [];
  // Header offsets: 4 owner, 8 group, 12 sacl, 16 dacl.
  if (sd.sacl) parts.push({ field: 12, bytes: encodeAcl(sd.sacl) });
  if (sd.dacl) parts.push({ field: 16, bytes: encodeAcl(sd.dacl) });
  if (sd.owner !== undefined) parts.push({ field: 4, bytes: sidToBytes(sd.owner) });
  if (sd.group !== undefined) parts.push({ field: 8, bytes: sidToBytes(sd.group) });
  const out = new Uint8Array(20 + parts.reduce((n, p) => n + p.bytes.length, 0));
  const dv = new DataView(out.buffer);
  out[0] = 1;
  dv.setUint16(2, control, true);
  let at = 20;
  for (const p of parts) {
    dv.setUint32(p.field, at, true);
    out.set(p.bytes, at);
    at += p.bytes.length;
  }
  return out;
}

/** SDDL -> self-relative binary SECURITY_DESCRIPTOR, laid out as Windows lays it out. */
export function sddlToSecurityDescriptor(sddl: string): Uint8Array {
  return encodeSecurityDescriptor(parseSddl(sddl));
}

// ---------------------------------------------------------------------------------------------
// bytes -> model

function decodeAcl(b: Uint8Array, offset: number): Acl {
  if (offset + 8 > b.length) throw new FormatError('ACL header runs past the end of the descriptor', offset);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const revision = b[offset]!;
  if (revision !== 2 && revision !== 4) throw new FormatError(`ACL revision ${revision} (expected 2 or 4)`, offset);
  const size = dv.getUint16(offset + 2, true);
  const count = dv.getUint16(offset + 4, true);
  if (size < 8 || offset + size > b.length) throw new FormatError(`ACL size ${size} runs past the end of the descriptor`, offset);
  const aces: Ace[] = [];
  let at = offset + 8;
  for (let i = 0; i < count; i++) {
    if (at + 8 > offset + size) throw new FormatError(`ACE ${i} runs past the end of its ACL`, at);
    const type = b[at]!;
    const aceSize = dv.getUint16(at + 2, true);
    if (aceSize < 16 || at + aceSize > offset + size) throw new FormatError(`ACE ${i} has a bad size ${aceSize}`, at);
    if (!Object.values(ACE_TYPES).includes(type)) throw new FormatError(`ACE ${i}: unsupported ACE type 0x${type.toString(16)}`, at);
    const sid = sidFromBytes(b.subarray(0, at + aceSize), at + 8);
    aces.push({ type, flags: b[at + 1]!, mask: dv.getUint32(at + 4, true), sid: sid.sid });
    at += aceSize;
  }
  return { revision, aces };
}

/** Parse a self-relative SECURITY_DESCRIPTOR. Throws FormatError on anything malformed. */
export function decodeSecurityDescriptor(bytes: Uint8Array): SecurityDescriptor {
  if (bytes.length < 20) throw new FormatError(`security descriptor of ${bytes.length} bytes (the header alone is 20)`, 0);
  if (bytes[0] !== 1) throw new FormatError(`security descriptor revision ${bytes[0]} (expected 1)`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const control = dv.getUint16(2, true);
  if ((control & SE.SELF_RELATIVE) === 0) throw new FormatError('not a self-relative security descriptor (SE_SELF_RELATIVE is clear)', 2);
  const off = (field: number, what: string) => {
    const o = dv.getUint32(field, true);
    if (o !== 0 && (o < 20 || o >= bytes.length)) throw new FormatError(`${what} offset ${o} is outside the descriptor`, field);
    return o;
  };
  const [ownerOff, groupOff, saclOff, daclOff] = [off(4, 'owner'), off(8, 'group'), off(12, 'SACL'), off(16, 'DACL')];
  const sd: SecurityDescriptor = { control };
  if (ownerOff) sd.owner = sidFromBytes(bytes, ownerOff).sid;
  if (groupOff) sd.group = sidFromBytes(bytes, groupOff).sid;
  if (control & SE.DACL_PRESENT) sd.dacl = daclOff ? decodeAcl(bytes, daclOff) : null;
  if (control & SE.SACL_PRESENT) sd.sacl = saclOff ? decodeAcl(bytes, saclOff) : null;
  return sd;
}

// ---------------------------------------------------------------------------------------------
// Access check

/** What GENERIC_READ / _WRITE / _EXECUTE / _ALL mean for one kind of object (its GENERIC_MAPPING). */
export interface GenericMapping {
  read: number;
  write: number;
  execute: number;
  all: number;
}
const NO_GENERIC: GenericMapping = { read: 0, write: 0, execute: 0, all: 0 };

/** Registry keys ("Registry Key Security and Access Rights": KEY_READ, KEY_WRITE, KEY_EXECUTE, KEY_ALL_ACCESS). */
export const KEY_GENERIC: GenericMapping = { read: 0x20019, write: 0x20006, execute: 0x20019, all: 0xf003f };

/** Service objects ("Service Security and Access Rights", learn.microsoft.com). */
export const SERVICE_GENERIC: GenericMapping = { read: 0x2008d, write: 0x20002, execute: 0x20170, all: 0xf01ff };

function mapGeneric(mask: number, g: GenericMapping): number {
  let m = mask & 0x0fffffff;
  if (mask & 0x80000000) m |= g.read;
  if (mask & 0x40000000) m |= g.write;
  if (mask & 0x20000000) m |= g.execute;
  if (mask & 0x10000000) m |= g.all;
  return m;
}

/**
 * Whether a token holding `sids` gets every bit of `mask` from `sd`'s DACL, the way Windows'
 * AccessCheck walks it (MS-DTYP 2.5.3.2, without privileges, restricted SIDs or object ACEs):
 * ACEs in order, an inherit-only ACE skipped, a denied bit not yet granted ends the walk as "no",
 * until all are granted. No DACL (or a NULL one) grants everything; an empty DACL grants nothing.
 */
export function daclGrants(sd: SecurityDescriptor, sids: readonly string[], mask: number, generic: GenericMapping = NO_GENERIC): boolean {
  if (!sd.dacl) return true;
  const mine = new Set(sids);
  let granted = 0;
  for (const ace of sd.dacl.aces) {
    if (ace.flags & 0x08 || !mine.has(ace.sid)) continue; // INHERIT_ONLY_ACE, or not for this token
    const m = mapGeneric(ace.mask, generic);
    if (ace.type === 0x01 && m & mask & ~granted) return false;
    if (ace.type === 0x00) granted |= m & mask;
    if ((granted & mask) === mask) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// model -> SDDL (what ConvertSecurityDescriptorToStringSecurityDescriptor prints)

export function formatRights(mask: number, type = 0): string {
  const m = mask >>> 0;
  if (m === 0) return '';
  if (type === ACE_TYPES.ML) {
    const label = LABEL_RIGHTS.filter(([, v]) => m & v);
    if (label.reduce((n, [, v]) => n | v, 0) === m)
      return [...label]
        .sort((a, b) => a[1] - b[1])
        .map(([n]) => n)
        .join('');
  }
  const combo = RIGHT_COMBOS.find(([, v]) => v === m);
  if (combo) return combo[0];
  let covered = 0;
  const names: string[] = [];
  for (const [n, v] of RIGHT_BITS) {
    if ((m & v) >>> 0 === v) {
      names.push(n);
      covered = (covered | v) >>> 0;
    }
  }
  return covered === m ? names.join('') : `0x${m.toString(16)}`;
}

const formatSid = (sid: string) => ALIAS_OF_SID.get(sid) ?? sid;

function formatAcl(acl: Acl | null, control: number, dacl: boolean): string {
  let s = '';
  if (control & (dacl ? SE.DACL_PROTECTED : SE.SACL_PROTECTED)) s += 'P';
  if (control & (dacl ? SE.DACL_AUTO_INHERIT_REQ : SE.SACL_AUTO_INHERIT_REQ)) s += 'AR';
  if (control & (dacl ? SE.DACL_AUTO_INHERITED : SE.SACL_AUTO_INHERITED)) s += 'AI';
  if (acl === null) return s + 'NO_ACCESS_CONTROL';
  const typeName = (t: number) => Object.entries(ACE_TYPES).find(([, v]) => v === t)![0];
  for (const a of acl.aces) {
    const flags = ACE_FLAGS.filter(([, v]) => a.flags & v)
      .map(([n]) => n)
      .join('');
    s += `(${typeName(a.type)};${flags};${formatRights(a.mask, a.type)};;;${formatSid(a.sid)})`;
  }
  return s;
}

/** Model -> SDDL, components in O G D S order. */
export function formatSddl(sd: SecurityDescriptor): string {
  let s = '';
  if (sd.owner !== undefined) s += `O:${formatSid(sd.owner)}`;
  if (sd.group !== undefined) s += `G:${formatSid(sd.group)}`;
  if (sd.dacl !== undefined) s += `D:${formatAcl(sd.dacl, sd.control, true)}`;
  if (sd.sacl !== undefined) s += `S:${formatAcl(sd.sacl, sd.control, false)}`;
  return s;
}

/** Self-relative binary SECURITY_DESCRIPTOR -> SDDL (for display and tests). */
export function securityDescriptorToSddl(bytes: Uint8Array): string {
  return formatSddl(decodeSecurityDescriptor(bytes));
}
