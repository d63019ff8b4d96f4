// Correlation (issue #16): the typed events of every log become update attempts. One attempt = one
// update (KB, package identity, title or update id) at one time, with its result, codes, phase and
// the evidence of every source that saw it. Pure: events in, attempts out; times converted to UTC
// first (the logs that write local time are converted with the target's own time zone).
import type { AttemptKind, AttemptResult, LogSource, UpdateAttempt, UpdateEvent } from '../model/attempts.js';
import type { Evidence } from '../model/scan.js';

export interface CorrelateOptions {
  /** Local wall-clock time (fields held as UTC) -> UTC. Without it local times are taken as UTC. */
  toUtc?: (wall: Date) => Date;
}

/** Evidence lines kept per attempt (the rest is counted in `events`). */
export const MAX_EVIDENCE = 20;
/** Results of different sources about one attempt land this close together. */
const SAME_RESULT_MS = 45 * 60_000;
/** An install that started is still the same attempt when its result comes this much later. */
const RUNNING_MS = 12 * 3600_000;
/** A reboot-pending install finishes (succeeds or fails) at a later boot, within this window. */
const AFTER_REBOOT_MS = 14 * 24 * 3600_000;

/** Which kinds correlate with each other: an uninstall is never merged with an install. */
const KIND_GROUP: Record<AttemptKind, string> = {
  install: 'install',
  uninstall: 'uninstall',
  download: 'download',
  scan: 'scan',
  applicability: 'applicability',
  'component-repair': 'component-repair',
  feature: 'feature',
  'feature-update': 'feature-update',
};

/** Within one moment, the result that decides: a failure beats a reboot, a reboot beats a success. */
const RESULT_RANK: Record<AttemptResult, number> = {
  failed: 7,
  cancelled: 6,
  'reboot-pending': 5,
  succeeded: 4,
  'not-applicable': 3,
  unknown: 2,
  'in-progress': 1,
};

const isTerminal = (r: AttemptResult) => r !== 'in-progress';

interface Norm {
  e: UpdateEvent;
  /** UTC milliseconds, NaN when the event has no time. */
  t: number;
  key: string;
  seq: number;
}

const normTitle = (s: string) =>
  s
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/\(version [^)]*\)/g, '')
    .trim();

/** A CBS identity without its version: "package_for_rollupfix~31bf3856ad364e35~amd64~~". */
const packageBase = (p: string) => p.toLowerCase().replace(/~[0-9.]+$/, '~');

/** Update ids and titles that some event ties to a KB: the other events of that update get it too. */
function kbAliases(events: readonly UpdateEvent[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of events) {
    if (!e.kb) continue;
    if (e.updateId) m.set(`id:${e.updateId.toLowerCase()}`, e.kb);
    if (e.title) m.set(`title:${normTitle(e.title)}`, e.kb);
    if (e.package) m.set(`pkg:${packageBase(e.package)}`, e.kb);
  }
  return m;
}

function identity(e: UpdateEvent, aliases: Map<string, string>, seq: number): string {
  if (e.kb) return `kb:${e.kb.toUpperCase()}`;
  const candidates = [e.updateId && `id:${e.updateId.toLowerCase()}`, e.title && `title:${normTitle(e.title)}`, e.package && `pkg:${packageBase(e.package)}`];
  for (const c of candidates) {
    if (!c) continue;
    const kb = aliases.get(c);
    if (kb) return `kb:${kb.toUpperCase()}`;
  }
  for (const c of candidates) if (c) return c;
  // Nameless events: one store, one Windows setup, one scanner per machine; otherwise each alone.
  if (e.kind === 'component-repair' || e.kind === 'feature-update' || e.kind === 'scan') return `${e.kind}:${e.client ?? ''}`;
  return `single:${seq}`;
}

/** Sources that write several lines about one result (an EVTX record or a ReportingEvents line is one result). */
const MULTI_LINE: ReadonlySet<LogSource> = new Set(['CBS.log', 'CbsPersist', 'DISM.log', 'WindowsUpdate.log', 'setupact.log', 'setuperr.log', 'setup log']);
/** Lines of one multi-line source about one result are this close together. */
const SAME_SOURCE_MS = 5 * 60_000;

class Builder {
  readonly events: Norm[] = [];
  /** Time of the last event, and of the last terminal one. */
  last = NaN;
  lastTerminal = NaN;
  readonly sources = new Set<LogSource>();
  readonly startSources = new Set<LogSource>();
  readonly terminalSources = new Set<LogSource>();
  result: AttemptResult = 'in-progress';

  add(n: Norm): void {
    this.events.push(n);
    this.sources.add(n.e.source);
    if (!Number.isNaN(n.t)) this.last = Number.isNaN(this.last) ? n.t : Math.max(this.last, n.t);
    if (isTerminal(n.e.result)) {
      this.lastTerminal = n.t;
      this.terminalSources.add(n.e.source);
      this.result = n.e.result;
    } else this.startSources.add(n.e.source);
  }

  /**
   * Whether event `n` (not earlier than the others) belongs to this attempt. A second start, or a
   * second result, from a source that already reported one is a retry: a new attempt.
   */
  accepts(n: Norm): boolean {
    // Untimed lines (a setup log without timestamps) join only their own run: same file and session.
    if (n.e.session !== undefined && this.events.some((x) => x.e.session === n.e.session && x.e.file === n.e.file && x.e.source === n.e.source)) return true;
    if (Number.isNaN(n.t) || Number.isNaN(this.last)) return false;
    const src = n.e.source;
    const terminal = isTerminal(n.e.result);
    if (this.result === 'in-progress') return n.t - this.last <= RUNNING_MS && (terminal || !this.startSources.has(src));
    if (n.t - this.lastTerminal <= SAME_RESULT_MS) {
      // Another source reporting the same moment, or one more line of the same result.
      if (!terminal) return !this.sources.has(src);
      if (!this.terminalSources.has(src)) return true;
      return MULTI_LINE.has(src) && n.e.result === this.result && n.t - this.lastTerminal <= SAME_SOURCE_MS;
    }
    // The boot that finishes (or rolls back) a reboot-pending install.
    if (this.result === 'reboot-pending' && n.t - this.lastTerminal <= AFTER_REBOOT_MS) return terminal && n.e.result !== 'reboot-pending';
    return false;
  }
}

/** Turn events into attempts, oldest first. */
export function correlate(events: readonly UpdateEvent[], opts: CorrelateOptions = {}): UpdateAttempt[] {
  const aliases = kbAliases(events);
  const groups = new Map<string, Norm[]>();
  events.forEach((e, seq) => {
    let t = e.time ? e.time.getTime() : NaN;
    if (e.time && e.timeIsLocal && opts.toUtc && !Number.isNaN(t)) t = opts.toUtc(e.time).getTime();
    const key = `${KIND_GROUP[e.kind]}|${identity(e, aliases, seq)}`;
    const list = groups.get(key);
    const n: Norm = { e, t, key, seq };
    if (list) list.push(n);
    else groups.set(key, [n]);
  });
  const out: UpdateAttempt[] = [];
  for (const list of groups.values()) {
    // Time order; events without a time each stand alone (nothing to correlate them by).
    list.sort((a, b) => (Number.isNaN(a.t) ? 1 : Number.isNaN(b.t) ? -1 : a.t - b.t) || a.seq - b.seq);
    let cur: Builder | undefined;
    for (const n of list) {
      if (!cur || !cur.accepts(n)) {
        if (cur) out.push(build(cur));
        cur = new Builder();
      }
      cur.add(n);
    }
    if (cur) out.push(build(cur));
  }
  return out.sort((a, b) => (a.time ?? '\uffff').localeCompare(b.time ?? '\uffff') || a.name.localeCompare(b.name));
}

const iso = (t: number) => (Number.isNaN(t) ? undefined : new Date(t).toISOString());

/** The events that decide the result: the last terminal one and those within the same moment. */
function decidingEvents(ns: readonly Norm[]): Norm[] {
  const terminal = ns.filter((n) => isTerminal(n.e.result));
  const last = terminal[terminal.length - 1];
  if (!last) return [];
  if (Number.isNaN(last.t)) return [last];
  return terminal.filter((n) => !Number.isNaN(n.t) && last.t - n.t <= SAME_RESULT_MS);
}

function evidenceOf(n: Norm): Evidence {
  const e = n.e;
  const ev: Evidence = { file: e.file };
  if (e.line !== undefined) ev.line = e.line;
  if (!Number.isNaN(n.t)) ev.time = new Date(n.t).toISOString();
  const notes = [e.recordId !== undefined ? `event record ${e.recordId}` : undefined, e.eventId !== undefined ? `event ${e.eventId}` : undefined];
  if (e.timeIsLocal && e.time) notes.push(`logged ${e.time.toISOString().slice(0, 19).replace('T', ' ')} local`);
  const note = notes.filter(Boolean).join(', ');
  if (note) ev.note = note;
  ev.data = `${e.source}: ${e.result}${e.code ? ` ${e.code}` : ''}${e.extendedCode ? `-${e.extendedCode}` : ''}: ${e.message}`;
  return ev;
}

const first = <K extends keyof UpdateEvent>(ns: readonly Norm[], k: K): UpdateEvent[K] | undefined =>
  ns.find((n) => n.e[k] !== undefined && n.e[k] !== '')?.e[k];

function defaultName(kind: AttemptKind, client: string | undefined): string {
  if (kind === 'component-repair') return `component store${client ? ` (${client})` : ''}`;
  if (kind === 'feature-update') return 'Windows feature update';
  if (kind === 'scan') return 'update scan';
  return client ?? kind;
}

function build(b: Builder): UpdateAttempt {
  const ns = b.events;
  const deciding = decidingEvents(ns);
  // Highest-ranked result; among equals, the event with an extended code (setup's own result line
  // "[0xC1900101, 0x30018]" over the root-cause line quoting 0x80070005), else the latest.
  const decider = [...deciding].sort(
    (x, y) => RESULT_RANK[y.e.result] - RESULT_RANK[x.e.result] || Number(!!y.e.extendedCode) - Number(!!x.e.extendedCode) || y.seq - x.seq,
  )[0];
  const result: AttemptResult = decider?.e.result ?? 'in-progress';
  const kind = ns[0]!.e.kind;
  const kb = first(ns, 'kb')?.toUpperCase();
  const pkg = first(ns, 'package');
  const title = first(ns, 'title');
  const updateId = first(ns, 'updateId');
  const client = first(ns, 'client');
  const times = ns.map((n) => n.t).filter((t) => !Number.isNaN(t));
  const a: UpdateAttempt = {
    kind,
    name: kb ?? pkg ?? title ?? updateId ?? defaultName(kind, client),
    result,
    sources: [...new Set(ns.map((n) => n.e.source))],
    evidence: ns.slice(0, MAX_EVIDENCE).map(evidenceOf),
    events: ns.length,
  };
  if (kb) a.kb = kb;
  if (pkg) a.package = pkg;
  if (title) a.title = title;
  if (updateId) a.updateId = updateId;
  if (times.length) {
    a.time = iso(Math.min(...times));
    a.endTime = iso(Math.max(...times));
  }
  // The code that goes with the result: the deciding event's, else another deciding event's.
  const withCode = decider?.e.code ? decider : deciding.find((n) => n.e.result === result && n.e.code);
  if (withCode?.e.code && result !== 'succeeded') a.code = withCode.e.code;
  const ext = withCode?.e.extendedCode ?? deciding.find((n) => n.e.extendedCode)?.e.extendedCode;
  if (ext && result !== 'succeeded') a.extendedCode = ext;
  const phase = deciding.find((n) => n.e.phase)?.e.phase ?? first(ns, 'phase');
  if (phase) a.phase = phase;
  if (client) a.client = client;
  const unrepaired = [...new Set(ns.flatMap((n) => n.e.unrepaired ?? []))];
  if (unrepaired.length) a.unrepaired = unrepaired.slice(0, 50);
  if (ns.some((n) => n.e.corruptionFound)) a.corruptionFound = true;
  if (result === 'reboot-pending' || deciding.some((n) => n.e.rebootRequired)) a.rebootRequired = true;
  return a;
}

/** The attempts that count as failed update attempts (not scans, downloads or checks). */
export const UPDATE_KINDS: ReadonlySet<AttemptKind> = new Set(['install', 'uninstall', 'feature-update']);

export function failedUpdateAttempts(attempts: readonly UpdateAttempt[]): UpdateAttempt[] {
  return attempts.filter((a) => a.result === 'failed' && UPDATE_KINDS.has(a.kind));
}
