// .NET / MSI setup logs (text or HTML): failures, signature problems, final results.
import { normalizeHresult } from '../errorcodes.js';
import { detach } from './fields.js';
import { type ByteChunks, type ParseOptions, readLineBatches } from './lines.js';

export type SetupRecordKind =
  | 'errorlog-event' // dd_dotnet*.txt '***errorlog event***'
  | 'final-result' // 'Final Result: Installation failed with error code: (0x00000643) ...'
  | 'msi-return-value-3' // verbose MSI log, first failing action
  | 'custom-action-error' // 'CustomAction X returned actual error code 1603'
  | 'signature-failure' // 'Signature verification ... failed with error 0x800b010b', trust HRESULTs
  | 'msi-error' // 'Error 1603.' / 'Product: ... -- Error 1935.'
  | 'error'; // other failure lines carrying an HRESULT / error code

export interface SetupLogRecord {
  file: string;
  line: number;
  kind: SetupRecordKind;
  hresult?: string;
  /** The line (HTML stripped), trimmed. */
  message: string;
  /** msi-return-value-3 / custom-action-error: the failing action. */
  action?: string;
  /** msi-return-value-3: the lines just above (oldest first), where the cause usually is. */
  context?: string[];
  /** msi-error: the MSI error number. */
  msiError?: number;
  /** final-result: whether the installation succeeded. */
  success?: boolean;
}

export interface SetupParseOptions extends ParseOptions {
  /** Strip HTML (the .NET 4 patch logs are HTML). Default: by file extension, or on seeing <html>. */
  html?: boolean;
  /** Lines of context kept for 'Return value 3' (default 8). */
  contextLines?: number;
}

/** File names of setup logs worth reading in Windows\Temp and %TEMP% of each profile. */
export function isSetupLogName(name: string): boolean {
  const n = name.toLowerCase();
  return (
    /^dd_.*\.(?:txt|log)$/.test(n) ||
    /_msp\d*\.txt$/.test(n) ||
    /^msi.*\.log$/.test(n) ||
    /^kb\d+.*\.(?:html?|txt|log)$/.test(n) ||
    /^ndp.*\.(?:html?|txt|log)$/.test(n) ||
    /^(?:microsoft )?\.net framework.*\.(?:html?|txt|log)$/.test(n)
  );
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
/**
 * Every "<...>" replaced by a space, as /<[^>]*>/g would, in linear time: that regex rescans to the
 * end of the line for every "<" that has no ">" after it (a 600 KB line of "<td" took minutes).
 */
function stripTags(s: string): string {
  if (s.indexOf('<') < 0) return s;
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    const lt = s.indexOf('<', i);
    if (lt < 0) break;
    const gt = s.indexOf('>', lt + 1);
    if (gt < 0) break; // no ">" after it: no tag from here on
    parts.push(s.slice(i, lt), ' ');
    i = gt + 1;
  }
  parts.push(s.slice(i));
  return parts.join('');
}

/** Split an HTML line into text lines (block tags break lines), tags removed, entities decoded. */
export function htmlToText(html: string): string[] {
  return html
    .split(/<br\s*\/?>|<\/(?:tr|p|li|div|h\d|table)>/i)
    .map((p) =>
      stripTags(p)
        .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
          if (e[0] === '#') {
            const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
            return cp > 0 && cp < 0x110000 ? String.fromCodePoint(cp) : all;
          }
          return ENTITY[e.toLowerCase()] ?? all;
        })
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter((p) => p.length > 0);
}

const SETUP_HEX_RE = /\b0x([0-9a-f]{8})\b/i;
const SETUP_CODE_RE = /error code\s*[:=]?\s*\(?\s*(0x[0-9a-f]{1,8}|\d{1,10})\b/i;
const SETUP_CODE2_RE = /(?:returned (?:actual )?error code|error status:?|exit code:?|is returning)\s*(\d{1,10})\b/i;
const TRUST_HR_RE = /\b0x(800b01[0-9a-f]{2}|8009[0-9a-f]{4})\b/i;
const SIGNATURE_RE =
  /signature verification|verify(?:ing)? (?:the )?(?:digital )?signature|failed to verify|authenticode|winverifytrust|certificate chain|trust (?:verification|check)/i;
const FAIL_RE = /fail|error|invalid|not trusted|untrusted|could not|unable/i;
const ACTION_START_RE = /Action start \d\d?:\d\d:\d\d:\s*([^.\s]+)\./i;
const ACTION_END3_RE = /Action ended \d\d?:\d\d:\d\d:\s*([^.\s]+)\.\s*Return value 3/i;
const CA_ERROR_RE = /CustomAction (\S+) returned actual error code (\d+)/i;
const MSI_ERROR_RE = /(?:^|[\s:>-])Error (\d{4,5})\s*[.:]/;

/** The HRESULT a setup-log line reports: an 8-digit 0x code, or 'error code N' (Win32/MSI). */
export function extractSetupHresult(text: string): string | undefined {
  const m = SETUP_HEX_RE.exec(text);
  if (m) {
    const h = normalizeHresult(m[1]!);
    if (h && h !== '0x00000000') return h;
  }
  const c = SETUP_CODE_RE.exec(text) ?? SETUP_CODE2_RE.exec(text);
  if (c) {
    const v = c[1]!;
    const h = /^0x/i.test(v) ? normalizeHresult(v) : normalizeHresult(Number(v));
    if (h && h !== '0x00000000') return h;
  }
  return undefined;
}

/** Classify one (HTML-stripped) setup-log line; `state` carries MSI action/context tracking. */
function classifySetupLine(text: string, file: string, line: number, state: { lastAction?: string; context: string[] }): SetupLogRecord | undefined {
  const message = text.trim();
  if (message.length === 0) return undefined;
  const rec = (kind: SetupRecordKind, extra: Partial<SetupLogRecord> = {}): SetupLogRecord => {
    const r: SetupLogRecord = { file, line, kind, message: detach(message), ...extra };
    if (!('hresult' in extra)) {
      const h = extractSetupHresult(message);
      if (h) r.hresult = h;
    }
    return r;
  };
  if (/\*\*\*\s*errorlog event\s*\*\*\*/i.test(message)) return rec('errorlog-event');
  const fin = /Final Result:\s*(.*)$/i.exec(message);
  if (fin) {
    const h = extractSetupHresult(fin[1]!);
    const failed = h !== undefined || /fail|error|cancel|abort/i.test(fin[1]!);
    return rec('final-result', h ? { hresult: h, success: !failed } : { success: !failed });
  }
  if (/Return value 3\b/i.test(message)) {
    const a = ACTION_END3_RE.exec(message);
    const action = a?.[1] ?? state.lastAction;
    const extra: Partial<SetupLogRecord> = { context: state.context.map(detach) };
    if (action) extra.action = action;
    return rec('msi-return-value-3', extra);
  }
  if (TRUST_HR_RE.test(message) || (SIGNATURE_RE.test(message) && FAIL_RE.test(message))) {
    const t = TRUST_HR_RE.exec(message);
    return t ? rec('signature-failure', { hresult: normalizeHresult(t[1]!)! }) : rec('signature-failure');
  }
  const ca = CA_ERROR_RE.exec(message);
  if (ca) {
    const h = normalizeHresult(Number(ca[2]));
    return rec('custom-action-error', h && h !== '0x00000000' ? { action: ca[1]!, hresult: h } : { action: ca[1]! });
  }
  const me = MSI_ERROR_RE.exec(message);
  if (me) {
    const n = Number(me[1]);
    const extra: Partial<SetupLogRecord> = { msiError: n };
    // MSI return codes 1601-1654 are the Win32 ERROR_INSTALL_* values; other numbers are MSI
    // message ids (Error 1935, 2203, ...) without an HRESULT equivalent.
    if (n >= 1601 && n <= 1654) extra.hresult = normalizeHresult(n)!;
    else {
      const h = extractSetupHresult(message);
      if (h) extra.hresult = h;
    }
    return rec('msi-error', extra);
  }
  if (/fail|error/i.test(message)) {
    const h = extractSetupHresult(message);
    if (h && parseInt(h.slice(2), 16) >= 0x80000000) return rec('error', { hresult: h });
  }
  return undefined;
}

/**
 * Stream a .NET/MSI setup log (dd_dotnet*.txt, *_MSP0.txt, .NET 4 HTML logs, verbose MSI logs)
 * and yield the failure evidence: errorlog events, 'Final Result' lines, the first failing MSI
 * action ('Return value 3' with the lines above it), custom-action and MSI errors, and signature
 * verification failures (0x800B010B, 0x800B010E, ...).
 */
export async function* parseSetupLog(chunks: ByteChunks, file: string, opts: SetupParseOptions = {}): AsyncGenerator<SetupLogRecord> {
  let html = opts.html ?? (/\.html?$/i.test(file) ? true : undefined);
  const keep = Math.max(0, opts.contextLines ?? 8);
  const state: { lastAction?: string; context: string[] } = { context: [] };
  for await (const b of readLineBatches(chunks, opts)) {
    const out: SetupLogRecord[] = [];
    for (let i = 0; i < b.lines.length; i++) {
      const raw = b.lines[i]!;
      const ln = b.first + i;
      if (html === undefined && /<html|<body|<table/i.test(raw)) html = true;
      const texts = html ? htmlToText(raw) : [raw];
      for (const text of texts) {
        const r = classifySetupLine(text, file, ln, state);
        if (r) out.push(r);
        const st = ACTION_START_RE.exec(text);
        if (st) state.lastAction = st[1];
        const trimmed = text.trim();
        if (keep > 0 && trimmed.length > 0) {
          state.context.push(trimmed.length > 2000 ? trimmed.slice(0, 2000) : trimmed);
          if (state.context.length > keep) state.context.shift();
        }
      }
    }
    if (state.context.length > 0) state.context = state.context.map(detach);
    if (state.lastAction) state.lastAction = detach(state.lastAction);
    yield* out;
  }
}
