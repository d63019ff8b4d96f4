// The update history an offline Windows left in its logs: install successes and failures from
// ReportingEvents.log, WindowsUpdate.log (pre-Windows 10), CBS.log, .NET/MSI setup logs and the
// System event log. Every file is streamed; each record keeps its file and line (or event record).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { resolveCI } from '../../windows/paths.js';
import { fileSize, realDir, winRel } from '../../windows/files.js';
import { readReportingEventsFile, readCbsLogFile, readWindowsUpdateLogFile, readSetupLogFile, MAX_SETUP_LOG_BYTES, SETUP_LOG_BUDGET } from './logs-file.js';
import { isSetupLogName, extractKb, type ReportingEvent } from '../../formats/logs/index.js';
import { readWindowsUpdateEvents } from './evtx-file.js';
import type { UpdateFailure } from '../../model/scan.js';
import { problemText as describeError } from '../../shared/safefs.js';

const iso = (d: Date | undefined) => (d && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined);
const lc = (code: string | undefined) => code?.toLowerCase();

function fromReport(r: ReportingEvent, source: UpdateFailure['source'], file: string): UpdateFailure | undefined {
  // Install results (182/183) and failed downloads (161); detection and other events are not updates.
  if (![161, 182, 183].includes(r.eventId) && r.status !== 'Failure') return undefined;
  const failed = r.status === 'Failure';
  return {
    source,
    file,
    line: r.line,
    time: iso(r.time),
    kb: r.kb,
    code: failed ? lc(r.hresult) : undefined,
    message: r.message,
    status: failed ? 'failure' : 'success',
  };
}

async function each<T>(it: AsyncIterable<T>, fn: (x: T) => void): Promise<void> {
  for await (const x of it) fn(x);
}

/** Setup logs live in Windows\Temp (LocalSystem) and each profile's AppData\Local\Temp. */
function setupLogFiles(root: string): string[] {
  const dirs: string[] = [];
  // Real folders only: a Temp or Users that is a link is noted by realDir and not listed.
  const wt = realDir(root, 'Windows\\Temp');
  if (wt) dirs.push(wt);
  const users = realDir(root, 'Users');
  if (users) {
    let names: string[] = [];
    try {
      names = readdirSync(users);
    } catch {
      /* unreadable */
    }
    for (const u of names) {
      // Resolved from the volume root, so a profile folder that is a link is not entered.
      const t = realDir(root, `${winRel(root, users)}\\${u}\\AppData\\Local\\Temp`);
      if (t) dirs.push(t);
    }
  }
  const out: string[] = [];
  for (const d of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (isSetupLogName(n)) out.push(path.join(d, n));
  }
  return out;
}

export async function collectUpdateHistory(root: string, problems: string[], progress: (m: string) => void): Promise<UpdateFailure[]> {
  const out: UpdateFailure[] = [];
  const guard = async (label: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      problems.push(`${label}: ${describeError(e, label)}`);
    }
  };

  const re = resolveCI(root, 'Windows\\SoftwareDistribution\\ReportingEvents.log');
  if (re) {
    const rel = winRel(root, re);
    await guard(rel, () =>
      each(readReportingEventsFile(re), (r) => {
        const u = fromReport(r, 'ReportingEvents.log', rel);
        if (u) out.push(u);
      }),
    );
  }
  const wul = resolveCI(root, 'Windows\\WindowsUpdate.log');
  if (wul) {
    const rel = winRel(root, wul);
    await guard(rel, () =>
      each(readWindowsUpdateLogFile(wul), (r) => {
        if (!r.report) return;
        const u = fromReport(r.report, 'WindowsUpdate.log', rel);
        if (u) out.push({ ...u, line: r.line });
      }),
    );
  }
  const cbs = resolveCI(root, 'Windows\\Logs\\CBS\\CBS.log');
  if (cbs) {
    const rel = winRel(root, cbs);
    progress('reading CBS.log');
    await guard(rel, () =>
      each(readCbsLogFile(cbs), (r) => {
        if (!r.hresult || !/^error$/i.test(r.level)) return;
        out.push({
          source: 'CBS.log',
          file: rel,
          line: r.line,
          time: iso(r.time),
          kb: r.kb,
          code: lc(r.hresult),
          message: r.message.split('\n')[0],
          status: 'failure',
        });
      }),
    );
  }
  let budget = SETUP_LOG_BUDGET;
  for (const f of setupLogFiles(root)) {
    const rel = winRel(root, f);
    const kb = extractKb(path.basename(f));
    const size = fileSize(f) ?? 0;
    if (size <= MAX_SETUP_LOG_BYTES) {
      if (size > budget) {
        problems.push(`${rel}: not read: the setup logs read so far reached ${SETUP_LOG_BUDGET} bytes, the most a scan reads of them`);
        continue;
      }
      budget -= size;
    }
    await guard(rel, () =>
      each(readSetupLogFile(f), (r) => {
        const failed = r.kind === 'final-result' ? r.success === false : true;
        if (!failed || !r.hresult) return;
        out.push({ source: 'setup log', file: rel, line: r.line, kb: kb ?? extractKb(r.message), code: lc(r.hresult), message: r.message, status: 'failure' });
      }),
    );
  }
  const evtx = resolveCI(root, 'Windows\\System32\\winevt\\Logs\\System.evtx');
  if (evtx) {
    const rel = winRel(root, evtx);
    progress('reading System.evtx');
    await guard(rel, async () => {
      const { events, problems: p } = await readWindowsUpdateEvents(evtx);
      for (const e of events) {
        if (e.eventId !== 19 && e.eventId !== 20) continue;
        out.push({
          source: 'System.evtx',
          file: rel,
          recordId: e.recordId.toString(),
          time: iso(e.time),
          kb: e.kb,
          title: e.title,
          code: e.eventId === 20 ? lc(e.errorCode) : undefined,
          status: e.eventId === 20 ? 'failure' : 'success',
        });
      }
      if (p.length) problems.push(`${rel}: ${p.length} damaged part(s) skipped (first: ${p[0]!.message})`);
    });
  }
  return out;
}
