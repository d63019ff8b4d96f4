// `wufix explain <code...>`: what a Windows error code means, what typically causes it, the wufix repair
// or the manual step, and where that knowledge comes from - as technicians use err.exe or
// certutil -error. Pure formatting: the decoding is src/formats/errorcodes.ts. Changes nothing.
import { Command } from 'commander';
import { explainCode, splitCodeArgs, type ErrorInfo, type ExplainedCode } from '../formats/errorcodes.js';
import { isRepairId } from '../model/ids.js';
import { UsageError } from '../shared/errors.js';
import { consoleWidth, helpText } from '../shared/style.js';
import { asciiSafe, writeJson, writeOut } from './output.js';

/** The --json document's version: bump it when a field changes meaning or goes away. */
export const EXPLAIN_SCHEMA_VERSION = 1;

const WIDTH = 80;
const LABEL = 14;

/** Cut a word longer than `room` after its last '_', '\\' or '.' that fits (else at `room`). */
function cutLong(w: string, room: number): [string, string] {
  const at = Math.max(w.lastIndexOf('_', room - 1), w.lastIndexOf('\\', room - 1), w.lastIndexOf('.', room - 1));
  const n = at > room / 2 ? at + 1 : room;
  return [w.slice(0, n), w.slice(n)];
}

/** `label: text` wrapped at 80 columns, continuation lines indented under the text. */
export function field(label: string, text: string, width = WIDTH): string[] {
  const room = width - LABEL;
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let w = word;
    while (w.length > room) {
      if (cur) lines.push(cur);
      cur = '';
      const [head, rest] = cutLong(w, room);
      lines.push(head);
      w = rest;
    }
    if (!w) continue;
    if (!cur) cur = w;
    else if (cur.length + 1 + w.length <= room) cur += ' ' + w;
    else {
      lines.push(cur);
      cur = w;
    }
  }
  if (cur || lines.length === 0) lines.push(cur);
  return lines.map((l, i) => (i === 0 ? `  ${label}`.padEnd(LABEL) : ' '.repeat(LABEL)) + l);
}

/** The wufix command for the code's repairs. */
function repairCommand(info: ErrorInfo): string | undefined {
  const ids = info.repairs.filter(isRepairId);
  return ids.length ? `wufix repair --only ${ids.join(',')}` : undefined;
}

function manualStep(info: ErrorInfo): string | undefined {
  const wsus = info.repairs.includes('wsus-policy')
    ? 'wsus-policy removes only WSUS values that cannot work; a well-formed WUServer the machine cannot reach is yours to fix (Policies\\Microsoft\\Windows\\WindowsUpdate); wufix scan names it.'
    : undefined;
  const hosts = info.repairs.includes('wu-hosts')
    ? 'wu-hosts comments out only the hosts-file lines that map Windows Update names (wufix scan lists them: wu-hosts-blocked).'
    : undefined;
  return [info.hint, wsus, hosts].filter(Boolean).join(' ') || undefined;
}

function readAsText(e: ExplainedCode): string | undefined {
  if (e.readAs === 'hex') return undefined;
  if (e.readAs === 'decimal Win32 error') return `${e.input} read as decimal Win32 error ${e.info.win32?.code ?? ''} (HRESULT_FROM_WIN32)`;
  return `${e.input} read as ${e.readAs}`;
}

const fieldAt = (label: string, text: string, width: number) => field(label, text, width);

/** The text block for one code (ASCII, at most `width` columns: the console's). */
export function formatExplained(e: ExplainedCode, width = WIDTH): string[] {
  const field = (label: string, text: string) => fieldAt(label, text, width);
  const i = e.info;
  const code = `${i.code}${e.extended ? ` - ${e.extended.code}` : ''}`;
  const name = i.symbol ?? '(no symbolic name)';
  const out: string[] = code.length + 2 + name.length <= width ? [`${code}  ${name}`] : [code, ...field('name:', name)];
  const readAs = readAsText(e);
  if (readAs) out.push(...field('input:', readAs));
  out.push(...field('facility:', i.facility ?? `facility ${i.facilityCode}`));
  if (i.win32 && i.kind !== 'winhttp' && i.kind !== 'win32') out.push(...field('win32:', `${i.win32.code}${i.win32.name ? ` ${i.win32.name}` : ''}`));
  out.push(...field('meaning:', i.meaning));
  if (i.cause) out.push(...field('cause:', i.cause));
  const cmd = repairCommand(i);
  if (cmd) out.push(...field('repair:', `${cmd} (with --root or --image; wufix scan first: context decides)`));
  const manual = manualStep(i);
  if (manual) out.push(...field('manual:', manual));
  if (!cmd && !manual) out.push(...field('repair:', 'no wufix repair for this code; read the log lines around it.'));
  if (i.result) out.push(...field('outcome:', `by itself this code means ${i.result}, not a failure`));
  if (!i.known) out.push(...field('note:', 'not in the curated table: decoded from its facility and number.'));
  if (i.source) out.push(...field('source:', i.source));
  const x = e.extended;
  if (x) {
    const phase = `phase ${x.phase} ${x.phaseName}${x.phaseText ? ` (${x.phaseText})` : ''}`;
    const op = `operation 0x${x.operation.toString(16).padStart(2, '0')} ${x.operationName ?? '(not in the documented table)'}`;
    out.push(...field('extended:', `${x.code}: ${phase}, ${op}`));
    if (x.cause) out.push(...field('ext cause:', x.cause));
    if (x.hint) out.push(...field('ext manual:', x.hint));
    if (!x.cause) out.push(...field('ext note:', 'Microsoft describes no cause for this result + extended pair; the phase and operation are decoded.'));
    out.push(...field('ext source:', x.source));
  }
  return out.map(asciiSafe);
}

/** The --json form of one code. */
export function explainedJson(e: ExplainedCode) {
  const i = e.info;
  const cmd = repairCommand(i);
  const manual = manualStep(i);
  return {
    input: e.input,
    readAs: e.readAs,
    code: i.code,
    ...(e.extended ? { extendedCode: e.extended.code } : {}),
    ...(i.symbol ? { symbol: i.symbol } : {}),
    kind: i.kind,
    severity: i.severity,
    facility: i.facility ?? null,
    facilityCode: i.facilityCode,
    meaning: i.meaning,
    ...(i.cause ? { cause: i.cause } : {}),
    repairs: i.repairs,
    ...(cmd ? { repairCommand: cmd } : {}),
    ...(manual ? { manualStep: manual } : {}),
    ...(i.result ? { result: i.result } : {}),
    source: i.source ?? null,
    known: i.known,
    ...(i.win32 ? { win32: i.win32 } : {}),
    ...(i.ntstatus ? { ntstatus: i.ntstatus } : {}),
    ...(i.http !== undefined ? { http: i.http } : {}),
    ...(i.subsystem ? { subsystem: i.subsystem } : {}),
    ...(e.extended ? { extended: e.extended } : {}),
  };
}

export function explainCommand(): Command {
  return new Command('explain')
    .description('what a Windows error code means: name, facility, typical cause, the wufix repair or manual step, source')
    .argument('<code...>', 'error codes: hex (0x80070643, 80070643), decimal (1603, -2146498548), or 0xC1900101-0x4000D')
    .option('--json', `print the codes as JSON (schemaVersion ${EXPLAIN_SCHEMA_VERSION})`)
    .addHelpText(
      'after',
      helpText(`
Reads codes the way err.exe and certutil -error do: hex with or without 0x (eight digits starting 8 or 9, or any a-f digit, are hex), decimal, or negative decimal (a signed HRESULT). A decimal from 1 to 65535 is a Win32 error (HRESULT_FROM_WIN32: 1603 -> 0x80070643).

A setup result and its extended code go together: 0xC1900101-0x4000D, "0xC1900101 - 0x4000D" or "0xC1900101, 0x30018"; the extended code gives the phase (1 downlevel, 2 SafeOS, 3 first boot, 4 second boot) and the operation.

Unknown but well-formed codes are decoded by severity, facility and number. Nothing is read from a disk and nothing is changed.

Examples:
  wufix explain 0x800f0984          # PSFX_E_MATCHING_BINARY_MISSING
  wufix explain 0xD0150004          # STATUS_SXS_ASSEMBLY_NOT_FOUND (from NT)
  wufix explain 0xC1900101-0x4000D  # rollback: second boot, MIGRATE_DATA
  wufix explain 1603 -2146498548    # decimal Win32 error, signed decimal
  wufix explain 80244019            # hex without 0x, as the logs write it
  wufix explain --json 0x80070bc9   # the same facts as JSON`),
    )
    .action((codes: string[], o: { json?: boolean }) => {
      const words = splitCodeArgs(codes);
      if (words.length === 0) throw new UsageError('explain needs at least one error code');
      // Every code is parsed before anything is printed: a bad one is a one-line refusal, no partial output.
      const explained = words.map((w) => explainCode(w));
      if (o.json) {
        writeJson({ schemaVersion: EXPLAIN_SCHEMA_VERSION, codes: explained.map(explainedJson) });
        return;
      }
      writeOut(explained.map((e) => formatExplained(e, consoleWidth()).join('\n')).join('\n\n') + '\n');
    });
}
