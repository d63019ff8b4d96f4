// Windows\Logs\DISM\dism.log read as UpdateEvents (issue #16): one event per DISM.EXE command run
// that changes or checks the servicing state (packages, features, capabilities, component-store
// health), with its result. Pure: byte chunks in, events out.
//
// A run is what lies between "<----- Starting Dism.exe session ----->" and "<----- Ending Dism.exe
// session ----->" (DISM.EXE's own lines carry no PID; the lines of the image session it loads do).
// Its command is the "Executing command line:" line (older DISM: "Command line:"); its result comes
// from the Error lines of the run ("Failed while processing command enable-feature. -
// ...(hr:0x800f081f)", "The source files could not be found" = 0x800f081f), "Exiting with ... 0x..."
// and "Image session has been closed. Reboot required=yes" (reboot-pending).
//
// Not update events (no event at all):
// - read-only commands (/Get-*, /?, /Cleanup-Image /AnalyzeComponentStore, ...);
// - mistyped commands: "No providers were found that support the command(...)" and "Failed
//   validating command line" - DISM refused them before touching anything, so there is no attempt
//   (even when a feature was named: nothing was tried);
// - DismApi sessions of other programs (dxgiadaptercache, directxdatabaseupdater: "API: PID=..."
//   lines, no Dism.exe session) and provider-load failures ("Failed to load the provider: ...
//   (hr:0x8007007e)"), which every run writes.
import type { AttemptKind, AttemptResult, LogReadStats, UpdateEvent } from '../../model/attempts.js';
import { extractKb, hexField, parseLogTime } from './fields.js';
import { type ByteChunks, type ParseOptions, readLineBatches } from './lines.js';
import { eventText } from './reporting-events.js';

export interface DismEventOptions extends ParseOptions {
  stats?: LogReadStats;
}

/** "2023-07-05 21:36:50, Info                  DISM   DISM.EXE: ..." (the CBS.log layout). */
const DISM_LINE_RE = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d), (\w{1,20}) +(\S{1,20}) +(.*)$/;
const START_RE = /^DISM\.EXE: <-+ Starting Dism\.exe session -+>/;
const END_RE = /^DISM\.EXE: <-+ Ending Dism\.exe session -+>/;
const COMMAND_RE = /^DISM\.EXE: (?:Executing command line|Command line): ?(.*)$/;
const REFUSED_RE = /No providers were found that support the command|Failed validating command line/;
const CLOSED_RE = /Image session has been closed\. Reboot required=(yes|no)/i;
const HR_RE = /\(hr:(0x[0-9a-f]{1,8})\)|\bhr:? ?=? ?(0x[0-9a-f]{1,8})\b|HRESULT=(0x[0-9a-f]{1,8})\b/i;
const EXITING_RE = /\bExiting\b.{0,80}?\b(0x[0-9a-f]{1,8})\b/i;
const FAILED_COMMAND_RE = /Failed while processing command ([\w-]{1,60})/i;
const SOURCE_MISSING_RE = /source files could not be found/i;
const CORRUPT_RE = /component store (?:is repairable|is corrupt|corruption)|store corruption detected|The component store cannot be repaired/i;

interface Run {
  line: number;
  time?: Date;
  command?: string;
  refused?: boolean;
  /** The first Error line's code, replaced by the "Failed while processing command" one. */
  code?: string;
  codeLine?: number;
  codeTime?: Date;
  codeText?: string;
  deciding?: boolean;
  sourceMissing?: boolean;
  corruptionFound?: boolean;
  reboot?: boolean;
  closedLine?: number;
  closedTime?: Date;
  closedText?: string;
  pid?: string;
}

interface Command {
  kind: AttemptKind;
  /** What the report names it by: a feature / capability name, or the repair operation. */
  title?: string;
  package?: string;
  kb?: string;
  op: string;
  target: string;
}

/** The value of `/Name:value` or `/Name=value` (quotes dropped), among the command's tokens. */
function option(tokens: string[], names: string[]): string | undefined {
  for (const t of tokens) {
    const m = /^\/([A-Za-z-]{1,40})[:=](.*)$/.exec(t);
    if (m && names.includes(m[1]!.toLowerCase())) return m[2]!.replace(/^"|"$/g, '');
  }
  return undefined;
}

/** Split a command line into tokens; double quotes group (DISM paths may hold spaces). */
function tokens(cmd: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"]+|"[^"]*")+/g;
  for (let m = re.exec(cmd); m && out.length < 64; m = re.exec(cmd)) out.push(m[0]);
  return out;
}

const REPAIR_OPS = ['restorehealth', 'scanhealth', 'checkhealth', 'startcomponentcleanup', 'resetbase'];

/** What a DISM command line does, or undefined when it neither changes nor checks servicing state. */
export function dismCommand(cmd: string): Command | undefined {
  const tk = tokens(cmd.length > 4000 ? cmd.slice(0, 4000) : cmd);
  const flags = tk
    .filter((t) => t.startsWith('/'))
    .map((t) =>
      t
        .slice(1)
        .replace(/[:=].*$/, '')
        .toLowerCase(),
    );
  const image = option(tk, ['image']);
  const target = image !== undefined ? `/Image:${image}` : '/Online';
  const has = (f: string) => flags.includes(f);
  const first = (fs: string[]) => fs.find(has);
  const kb = extractKb(cmd);
  let c: Command | undefined;
  if (has('add-package')) {
    const p = option(tk, ['packagepath']);
    c = { kind: 'install', op: 'Add-Package', target };
    if (p) c.package = eventText(p.replace(/^.*[\\/]/, ''), 260);
  } else if (has('remove-package')) {
    const p = option(tk, ['packagename', 'packagepath']);
    c = { kind: 'uninstall', op: 'Remove-Package', target };
    if (p) c.package = eventText(p.replace(/^.*[\\/]/, ''), 260);
  } else if (first(['enable-feature', 'disable-feature'])) {
    const op = has('enable-feature') ? 'Enable-Feature' : 'Disable-Feature';
    const name = option(tk, ['featurename', 'enable-feature', 'disable-feature']);
    c = { kind: 'feature', op, target };
    if (name) c.title = eventText(name, 200);
  } else if (first(['add-capability', 'remove-capability'])) {
    const name = option(tk, ['capabilityname', 'add-capability', 'remove-capability']);
    c = { kind: 'feature', op: has('add-capability') ? 'Add-Capability' : 'Remove-Capability', target };
    if (name) c.title = eventText(name, 200);
  } else if (has('cleanup-image')) {
    const op = first(REPAIR_OPS);
    if (!op) return undefined;
    c = { kind: 'component-repair', op: ['RestoreHealth', 'ScanHealth', 'CheckHealth', 'StartComponentCleanup', 'ResetBase'][REPAIR_OPS.indexOf(op)]!, target };
  }
  if (c && kb && c.kind !== 'component-repair') c.kb = kb;
  return c;
}

function runEvent(r: Run, file: string): UpdateEvent | undefined {
  if (!r.command || r.refused) return undefined;
  const c = dismCommand(r.command);
  if (!c) return undefined;
  let result: AttemptResult;
  let code = r.code;
  if (!code && r.sourceMissing) code = '0x800f081f';
  if (code && code !== '0x00000000' && (parseInt(code.slice(2), 16) >>> 0) & 0x80000000) result = code === '0x800704c7' ? 'cancelled' : 'failed';
  else if (r.reboot) result = 'reboot-pending';
  else if (r.closedLine !== undefined) result = 'succeeded';
  else result = 'in-progress';
  const decidedByCode = result === 'failed' || result === 'cancelled';
  const line = decidedByCode ? (r.codeLine ?? r.line) : (r.closedLine ?? r.line);
  const time = decidedByCode ? (r.codeTime ?? r.time) : (r.closedTime ?? r.time);
  const what = decidedByCode ? r.codeText : r.closedText;
  const e: UpdateEvent = {
    source: 'DISM.log',
    file,
    line,
    timeIsLocal: true,
    kind: c.kind,
    result,
    client: eventText(c.target === '/Online' ? 'DISM' : `DISM ${c.target}`, 100),
    message: eventText(`dism ${c.target} /${c.op}${c.title ? ` ${c.title}` : c.package ? ` ${c.package}` : ''}: ${what ?? r.command}`),
  };
  if (time) e.time = time;
  if (code && result !== 'succeeded') e.code = code;
  if (c.title) e.title = c.title;
  if (c.package) e.package = c.package;
  if (c.kb) e.kb = c.kb;
  if (result === 'reboot-pending') e.rebootRequired = true;
  if (c.kind === 'component-repair') {
    e.phase = c.op;
    if (r.corruptionFound) e.corruptionFound = true;
  }
  e.session = r.pid ?? `line ${r.line}`;
  return e;
}

/**
 * Stream dism.log and yield one UpdateEvent per DISM.EXE run of a servicing command (see the
 * header): kind 'install' (/Add-Package; KB from the package path), 'uninstall' (/Remove-Package),
 * 'feature' (/Enable-Feature, /Disable-Feature, /Add-Capability, /Remove-Capability) or
 * 'component-repair' (/Cleanup-Image /RestoreHealth /ScanHealth /CheckHealth
 * /StartComponentCleanup). Times are wall-clock (timeIsLocal true). Memory: one open run.
 */
export async function* dismLogEvents(chunks: ByteChunks, file: string, opts: DismEventOptions = {}): AsyncGenerator<UpdateEvent> {
  const stats = opts.stats;
  let run: Run | undefined;
  const out: UpdateEvent[] = [];
  const close = () => {
    if (!run) return;
    const e = runEvent(run, file);
    if (e) out.push(e);
    run = undefined;
  };
  for await (const b of readLineBatches(chunks, { maxLineLength: 64 * 1024, ...opts })) {
    if (stats) stats.lines += b.lines.length;
    for (let i = 0; i < b.lines.length; i++) {
      const text = b.lines[i]!;
      if (text.length < 22 || text.charCodeAt(0) < 48 || text.charCodeAt(0) > 57 || text.charCodeAt(19) !== 44 /* , */) continue;
      const m = DISM_LINE_RE.exec(text);
      if (!m) continue;
      if (stats) {
        stats.recognized++;
        stats.format ??= 'dism';
      }
      const lineNo = b.first + i;
      const msg = m[5]!;
      if (m[4] !== 'DISM') continue;
      if (START_RE.test(msg)) {
        close();
        run = { line: lineNo };
        const t = parseLogTime(m[1]!, m[2]!)?.time;
        if (t) run.time = t;
        continue;
      }
      if (!run) continue;
      if (END_RE.test(msg)) {
        close();
        continue;
      }
      const level = m[3]!.toLowerCase();
      let x: RegExpExecArray | null;
      if (!run.command && (x = COMMAND_RE.exec(msg))) {
        run.command = x[1]!.trim();
        run.line = lineNo;
        const t = parseLogTime(m[1]!, m[2]!)?.time;
        if (t) run.time = t;
        continue;
      }
      if (REFUSED_RE.test(msg)) {
        run.refused = true;
        continue;
      }
      if (msg.startsWith('API: ') || /Failed to load the provider/.test(msg)) continue;
      if (!run.pid && (x = /^DISM Manager: PID=(\d{1,10})/.exec(msg))) run.pid = x[1]!;
      if ((x = CLOSED_RE.exec(msg))) {
        run.reboot = x[1]!.toLowerCase() === 'yes';
        run.closedLine = lineNo;
        run.closedText = msg;
        const t = parseLogTime(m[1]!, m[2]!)?.time;
        if (t) run.closedTime = t;
        continue;
      }
      if ((msg.includes('component store') || msg.includes('corruption')) && CORRUPT_RE.test(msg)) run.corruptionFound = true;
      if (level === 'error' && SOURCE_MISSING_RE.test(msg)) run.sourceMissing = true;
      const hr = level === 'error' ? HR_RE.exec(msg) : msg.startsWith('DISM.EXE:') ? EXITING_RE.exec(msg) : null;
      if (!hr) continue;
      const code = hexField(hr[1] ?? hr[2] ?? hr[3]!);
      if (!code || code === '0x00000000') continue;
      const deciding = FAILED_COMMAND_RE.test(msg) || (level !== 'error' && EXITING_RE.test(msg));
      if (run.code && (run.deciding || !deciding)) continue;
      run.code = code;
      run.codeLine = lineNo;
      run.codeText = msg;
      run.deciding = deciding;
      const t = parseLogTime(m[1]!, m[2]!)?.time;
      if (t) run.codeTime = t;
    }
    if (out.length > 0) {
      yield* out;
      out.length = 0;
    }
  }
  close();
  yield* out;
}
