// ReAgent.xml (winre.md §7): parse every field, and write changes back into the original text so
// unknown elements, attribute order, formatting and the file's encoding (UTF-8 with or without BOM,
// UTF-16 LE/BE with BOM) are kept. A small tolerant scanner, not a general XML parser: ReAgent.xml is
// a flat list of empty elements under <WindowsRE>.
import { FormatError } from '../shared/errors.js';

export type ReAgentEncoding = { charset: 'utf-8' | 'utf-16le' | 'utf-16be'; bom: boolean };

export interface ReAgentLocation {
  /** Directory on that volume, e.g. "\Recovery\WindowsRE" ('' = not set). */
  path?: string;
  /** MBR disk signature as a decimal number; 0 on GPT. */
  id?: number;
  /** Partition start in bytes. */
  offset?: number;
  /** GPT disk GUID, with braces as stored. */
  guid?: string;
  /** Push-button-reset WIM index (PBR*Location only). */
  index?: number;
}

export interface ReAgentElement {
  name: string;
  attrs: Record<string, string>;
}

export interface ReAgentConfig {
  /** WindowsRE@version: "2.0" (8.1+), "1.0" (Windows 8). */
  version?: string;
  /** WinreBCD@id: the WinRE loader's BCD object id. */
  winreBcd?: string;
  winreLocation?: ReAgentLocation;
  imageLocation?: ReAgentLocation;
  pbrImageLocation?: ReAgentLocation;
  pbrCustomImageLocation?: ReAgentLocation;
  downlevelWinreLocation?: ReAgentLocation;
  /** Windows 8 (version 1.0) files. */
  osInstallLocation?: ReAgentLocation;
  installState?: number;
  osInstallAvailable?: number;
  customImageAvailable?: number;
  isAutoRepairOn?: number;
  winreStaged?: number;
  operationParam?: string;
  operationPermanent?: number;
  osBuildVersion?: string;
  oemTool?: number;
  isServer?: number;
  isWimBoot?: number;
  narratorScheduled?: number;
  scheduledOperation?: number;
  /** Every child element of <WindowsRE> in file order, attributes as stored (entities decoded). */
  elements: ReAgentElement[];
  /** Names of child elements this module has no field for (kept on write). */
  unknownElements: string[];
}

type FieldKind = 'id' | 'location' | 'state' | 'path';
type FieldKey = Exclude<keyof ReAgentConfig, 'elements' | 'unknownElements' | 'version'>;

/** Field -> element, in the order Windows writes them (used when an element must be added). */
const FIELDS: readonly [FieldKey, string, FieldKind][] = [
  ['winreBcd', 'WinreBCD', 'id'],
  ['winreLocation', 'WinreLocation', 'location'],
  ['imageLocation', 'ImageLocation', 'location'],
  ['pbrImageLocation', 'PBRImageLocation', 'location'],
  ['pbrCustomImageLocation', 'PBRCustomImageLocation', 'location'],
  ['osInstallLocation', 'OsInstallLocation', 'location'],
  ['installState', 'InstallState', 'state'],
  ['osInstallAvailable', 'OsInstallAvailable', 'state'],
  ['customImageAvailable', 'CustomImageAvailable', 'state'],
  ['isAutoRepairOn', 'IsAutoRepairOn', 'state'],
  ['winreStaged', 'WinREStaged', 'state'],
  ['operationParam', 'OperationParam', 'path'],
  ['operationPermanent', 'OperationPermanent', 'state'],
  ['osBuildVersion', 'OsBuildVersion', 'path'],
  ['oemTool', 'OemTool', 'state'],
  ['isServer', 'IsServer', 'state'],
  ['downlevelWinreLocation', 'DownlevelWinreLocation', 'location'],
  ['isWimBoot', 'IsWimBoot', 'state'],
  ['narratorScheduled', 'NarratorScheduled', 'state'],
  ['scheduledOperation', 'ScheduledOperation', 'state'],
];
const LOCATION_ATTRS = ['path', 'id', 'offset', 'guid', 'index'] as const;

// ---------------------------------------------------------------------------------------------
// Encoding

export function detectEncoding(bytes: Uint8Array): ReAgentEncoding {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { charset: 'utf-8', bom: true };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { charset: 'utf-16le', bom: true };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { charset: 'utf-16be', bom: true };
  if (bytes.length >= 2 && bytes[0] === 0x3c && bytes[1] === 0x00) return { charset: 'utf-16le', bom: false };
  if (bytes.length >= 2 && bytes[0] === 0x00 && bytes[1] === 0x3c) return { charset: 'utf-16be', bom: false };
  return { charset: 'utf-8', bom: false };
}

export function decodeReAgentBytes(bytes: Uint8Array): { text: string; encoding: ReAgentEncoding } {
  const encoding = detectEncoding(bytes);
  const skip = encoding.bom ? (encoding.charset === 'utf-8' ? 3 : 2) : 0;
  const body = bytes.subarray(skip);
  let text: string;
  if (encoding.charset === 'utf-8') text = new TextDecoder('utf-8').decode(body);
  else {
    const n = body.length - (body.length % 2);
    const swapped = new Uint8Array(n);
    for (let i = 0; i < n; i += 2) {
      swapped[i] = encoding.charset === 'utf-16le' ? body[i]! : body[i + 1]!;
      swapped[i + 1] = encoding.charset === 'utf-16le' ? body[i + 1]! : body[i]!;
    }
    text = new TextDecoder('utf-16le').decode(swapped);
  }
  return { text, encoding };
}

export function encodeReAgentText(text: string, encoding: ReAgentEncoding): Uint8Array {
  if (encoding.charset === 'utf-8') {
    const body = new TextEncoder().encode(text);
    if (!encoding.bom) return body;
    const out = new Uint8Array(body.length + 3);
    out.set([0xef, 0xbb, 0xbf]);
    out.set(body, 3);
    return out;
  }
  const le = encoding.charset === 'utf-16le';
  const pre = encoding.bom ? 2 : 0;
  const out = new Uint8Array(pre + text.length * 2);
  if (encoding.bom) out.set(le ? [0xff, 0xfe] : [0xfe, 0xff]);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[pre + 2 * i] = le ? c & 0xff : c >> 8;
    out[pre + 2 * i + 1] = le ? c >> 8 : c & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scanner

interface AttrSpan {
  name: string;
  value: string;
  /** Offsets of the raw value inside the quotes. */
  valueStart: number;
  valueEnd: number;
}
interface TagSpan {
  name: string;
  start: number;
  /** Offset of the "/>" or ">" that ends the start tag. */
  closeAt: number;
  end: number;
  attrs: AttrSpan[];
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e: string) => {
    const k = e.toLowerCase();
    if (k === 'amp') return '&';
    if (k === 'lt') return '<';
    if (k === 'gt') return '>';
    if (k === 'quot') return '"';
    if (k === 'apos') return "'";
    const cp = k.startsWith('#x') ? parseInt(k.slice(2), 16) : parseInt(k.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Openers of what is masked, where the search for the closer starts, and the closer. */
const MASKED: readonly [open: string, from: number, close: string][] = [
  ['<!--', 4, '-->'],
  ['<?', 2, '?>'],
  ['<![CDATA[', 9, ']]>'],
  ['<!DOCTYPE', 9, '>'],
];

/**
 * Blank out comments, processing instructions, CDATA and a DOCTYPE (same length, so offsets stay
 * valid); DTD entities are never expanded. Linear: a closer that is not found once is not looked
 * for again (the lazy regex this replaces rescanned to the end of the text for every unterminated
 * "<!--", quadratic on a file of them).
 */
function maskNonElements(text: string): string {
  const parts: string[] = [];
  const exhausted = [false, false, false, false];
  let last = 0;
  let i = 0;
  while ((i = text.indexOf('<', i)) >= 0) {
    const k = MASKED.findIndex(([open]) => text.startsWith(open, i));
    if (k < 0 || exhausted[k]) {
      i++;
      continue;
    }
    const [, from, close] = MASKED[k]!;
    const j = text.indexOf(close, i + from);
    if (j < 0) {
      exhausted[k] = true;
      i++;
      continue;
    }
    const end = j + close.length;
    parts.push(text.slice(last, i), ' '.repeat(end - i));
    last = i = end;
  }
  if (last === 0) return text;
  parts.push(text.slice(last));
  return parts.join('');
}

/**
 * Largest ReAgent.xml read (real ones are about 1-2 KB). Bigger input is refused before any
 * decoding or scanning, so the parser's time and memory are bounded by a small multiple of this.
 */
export const MAX_REAGENT_BYTES = 1 << 20;

const TAG_RE = /<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
const ATTR_RE = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function scan(text: string): { root?: TagSpan; rootEnd?: number; children: TagSpan[] } {
  const masked = maskNonElements(text);
  const rootMatch = /<WindowsRE\b/i.exec(masked);
  if (!rootMatch) throw new FormatError('ReAgent.xml: no <WindowsRE> element');
  const children: TagSpan[] = [];
  let root: TagSpan | undefined;
  TAG_RE.lastIndex = rootMatch.index;
  let m: RegExpExecArray | null;
  while ((m = TAG_RE.exec(masked)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    const attrs: AttrSpan[] = [];
    const attrText = m[2] ?? '';
    const attrBase = start + 1 + m[1]!.length;
    ATTR_RE.lastIndex = 0;
    let a: RegExpExecArray | null;
    while ((a = ATTR_RE.exec(attrText)) !== null) {
      const raw = a[2] ?? a[3] ?? '';
      const quoteAt = attrBase + a.index + a[0].length - raw.length - 1;
      attrs.push({ name: a[1]!, value: decodeEntities(raw), valueStart: quoteAt, valueEnd: quoteAt + raw.length });
    }
    const closeAt = end - (m[3] ? 2 : 1);
    const tag: TagSpan = { name: m[1]!, start, closeAt, end, attrs };
    if (!root) {
      root = tag;
      if (m[3]) break; // <WindowsRE/>: no children
      continue;
    }
    children.push(tag);
  }
  if (!root) throw new FormatError('ReAgent.xml: unreadable <WindowsRE> start tag', rootMatch.index);
  const close = /<\/WindowsRE\s*>/i.exec(masked.slice(root.end));
  const rootEnd = close ? root.end + close.index : undefined;
  return { root, rootEnd, children: rootEnd === undefined ? children : children.filter((c) => c.start < rootEnd) };
}

function int(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return /^-?\d+$/.test(t) ? Number(t) : undefined;
}

function attrOf(tag: TagSpan, name: string): string | undefined {
  return tag.attrs.find((a) => a.name.toLowerCase() === name.toLowerCase())?.value;
}

function fieldValue(tag: TagSpan, kind: FieldKind): unknown {
  switch (kind) {
    case 'id':
      return attrOf(tag, 'id');
    case 'path':
      return attrOf(tag, 'path');
    case 'state':
      // Some hand-written files use value= instead of state= (winre.md §7): read it, write state=.
      return int(attrOf(tag, 'state') ?? attrOf(tag, 'value'));
    case 'location': {
      const loc: ReAgentLocation = {};
      const p = attrOf(tag, 'path');
      if (p !== undefined) loc.path = p;
      const id = int(attrOf(tag, 'id'));
      if (id !== undefined) loc.id = id;
      const off = int(attrOf(tag, 'offset'));
      if (off !== undefined) loc.offset = off;
      const g = attrOf(tag, 'guid');
      if (g !== undefined) loc.guid = g;
      const ix = int(attrOf(tag, 'index'));
      if (ix !== undefined) loc.index = ix;
      return loc;
    }
  }
}

/** Parse ReAgent.xml (text, or the file's bytes in any of its encodings). */
export function parseReAgentXml(input: string | Uint8Array): ReAgentConfig {
  const size = typeof input === 'string' ? input.length : input.length;
  if (size > MAX_REAGENT_BYTES) {
    throw new FormatError(
      `ReAgent.xml is ${size} ${typeof input === 'string' ? 'characters' : 'bytes'}, more than the ${MAX_REAGENT_BYTES} a real one can be (real files are about 2 KB)`,
      MAX_REAGENT_BYTES,
    );
  }
  const text = typeof input === 'string' ? input.replace(/^\uFEFF/, '') : decodeReAgentBytes(input).text;
  const { root, children } = scan(text);
  const cfg: ReAgentConfig = { elements: [], unknownElements: [] };
  const ver = root ? attrOf(root, 'version') : undefined;
  if (ver !== undefined) cfg.version = ver;
  const byName = new Map(FIELDS.map(([k, el, kind]) => [el.toLowerCase(), { k, kind }]));
  for (const tag of children) {
    cfg.elements.push({ name: tag.name, attrs: Object.fromEntries(tag.attrs.map((a) => [a.name, a.value])) });
    const f = byName.get(tag.name.toLowerCase());
    if (!f) {
      cfg.unknownElements.push(tag.name);
      continue;
    }
    if ((cfg as unknown as Record<string, unknown>)[f.k] !== undefined) continue; // first one wins
    const v = fieldValue(tag, f.kind);
    if (v !== undefined) (cfg as unknown as Record<string, unknown>)[f.k] = v;
  }
  return cfg;
}

// ---------------------------------------------------------------------------------------------
// Writer

export const ZERO_GUID_BRACED = '{00000000-0000-0000-0000-000000000000}';

/** The 2.0 skeleton of winre.md §7 with neutral values, as Windows formats the file. */
export function reagentSkeleton(): string {
  const z = ZERO_GUID_BRACED;
  return [
    "<?xml version='1.0' encoding='utf-8'?>",
    '',
    '<WindowsRE version="2.0">',
    `  <WinreBCD id="${z}"/>`,
    `  <WinreLocation path="" id="0" offset="0" guid="${z}"/>`,
    `  <ImageLocation path="" id="0" offset="0" guid="${z}"/>`,
    `  <PBRImageLocation path="" id="0" offset="0" guid="${z}" index="0"/>`,
    `  <PBRCustomImageLocation path="" id="0" offset="0" guid="${z}" index="0"/>`,
    '  <InstallState state="0"/>',
    '  <OsInstallAvailable state="0"/>',
    '  <CustomImageAvailable state="0"/>',
    '  <IsAutoRepairOn state="1"/>',
    '  <WinREStaged state="0"/>',
    '  <OperationParam path=""/>',
    '  <OperationPermanent state="0"/>',
    '  <OsBuildVersion path=""/>',
    '  <OemTool state="0"/>',
    '  <IsServer state="0"/>',
    `  <DownlevelWinreLocation path="" id="0" offset="0" guid="${z}"/>`,
    '  <IsWimBoot state="0"/>',
    '  <NarratorScheduled state="0"/>',
    '  <ScheduledOperation state="4"/>',
    '</WindowsRE>',
    '',
  ].join('\r\n');
}

function desiredAttrs(kind: FieldKind, v: unknown): [string, string][] {
  switch (kind) {
    case 'id':
      return [['id', String(v)]];
    case 'path':
      return [['path', String(v)]];
    case 'state':
      return [['state', String(v)]];
    case 'location': {
      const loc = v as ReAgentLocation;
      return LOCATION_ATTRS.filter((a) => loc[a] !== undefined).map((a) => [a, String(loc[a])]);
    }
  }
}

function sameValue(attr: string, stored: string, wanted: string): boolean {
  if (stored === wanted) return true;
  if (attr === 'guid' || attr === 'id') {
    if (stored.toLowerCase() === wanted.toLowerCase()) return true;
  }
  const a = int(stored);
  const b = int(wanted);
  return a !== undefined && b !== undefined && a === b;
}

/**
 * Apply `config` to the original text (or to the standard skeleton when there is none): every
 * field that is set and differs is rewritten in place; unknown elements, fields left undefined,
 * comments and formatting stay as they were. `elements`/`unknownElements` are ignored on write.
 */
export function renderReAgentXml(config: Partial<ReAgentConfig>, originalText?: string): string {
  const text = originalText ?? reagentSkeleton();
  const { root, rootEnd, children } = scan(text);
  if (!root) throw new FormatError('ReAgent.xml: no <WindowsRE> element');
  const edits: { at: number; end: number; text: string }[] = [];
  const setAttrs = (tag: TagSpan, wanted: [string, string][]) => {
    for (const [name, value] of wanted) {
      const a = tag.attrs.find((x) => x.name.toLowerCase() === name.toLowerCase());
      if (a) {
        if (!sameValue(name, a.value, value)) edits.push({ at: a.valueStart, end: a.valueEnd, text: escapeAttr(value) });
      } else {
        edits.push({ at: tag.closeAt, end: tag.closeAt, text: ` ${name}="${escapeAttr(value)}"` });
      }
    }
  };
  if (config.version !== undefined) setAttrs(root, [['version', config.version]]);
  const missing: string[] = [];
  for (const [k, el, kind] of FIELDS) {
    const v = config[k];
    if (v === undefined) continue;
    const tag = children.find((c) => c.name.toLowerCase() === el.toLowerCase());
    let wanted = desiredAttrs(kind, v);
    if (kind === 'state' && tag && !tag.attrs.some((a) => a.name.toLowerCase() === 'state')) {
      // A file that wrongly uses value=: fix the value in place rather than adding a second attribute.
      const valueAttr = tag.attrs.find((a) => a.name.toLowerCase() === 'value');
      // The fields' values are strings, numbers and booleans (FIELDS); never objects.
      // eslint-disable-next-line @typescript-eslint/no-base-to-string
      if (valueAttr) wanted = [['value', String(v)]];
    }
    if (tag) setAttrs(tag, wanted);
    else missing.push(`<${el}${wanted.map(([n, x]) => ` ${n}="${escapeAttr(x)}"`).join('')}/>`);
  }
  if (missing.length) {
    if (rootEnd === undefined) throw new FormatError('ReAgent.xml: <WindowsRE> is not closed; cannot add elements');
    const eol = text.includes('\r\n') ? '\r\n' : '\n';
    const last = children[children.length - 1];
    let indent = '  ';
    if (last) {
      const lineStart = text.lastIndexOf('\n', last.start) + 1;
      const lead = text.slice(lineStart, last.start);
      indent = /^[ \t]*$/.test(lead) ? lead : '';
    }
    const flat = last !== undefined && !/\n/.test(text.slice(root.end, rootEnd));
    const insertAt = last ? last.end : root.end;
    const add = missing.map((m) => (flat ? m : `${eol}${indent}${m}`)).join('');
    edits.push({ at: insertAt, end: insertAt, text: add });
  }
  edits.sort((a, b) => b.at - a.at || b.end - a.end);
  let out = text;
  for (const e of edits) out = out.slice(0, e.at) + e.text + out.slice(e.end);
  return out;
}

/**
 * Write ReAgent.xml: the changes of `config` applied to `original` (the file's bytes, whose encoding
 * and BOM are kept, or its text, written as UTF-8 unless its declaration says UTF-16), or a new
 * UTF-8 file from the standard skeleton when there is no original.
 */
export function writeReAgentXml(config: Partial<ReAgentConfig>, original?: Uint8Array | string): Uint8Array {
  if (original === undefined) return encodeReAgentText(renderReAgentXml(config), { charset: 'utf-8', bom: false });
  if (typeof original === 'string') {
    const bom = original.startsWith('\uFEFF');
    const text = original.replace(/^\uFEFF/, '');
    const utf16 = /<\?xml[^>]*encoding\s*=\s*["']utf-16/i.test(text);
    return encodeReAgentText(renderReAgentXml(config, text), utf16 ? { charset: 'utf-16le', bom: true } : { charset: 'utf-8', bom });
  }
  const { text, encoding } = decodeReAgentBytes(original);
  return encodeReAgentText(renderReAgentXml(config, text), encoding);
}
