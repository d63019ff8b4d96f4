// The update history an offline Windows left in its logs, as attempts: every source's collector
// (collect/*-source.ts) feeds typed events into one sink; the .NET/MSI setup logs are read here;
// local times become UTC with the target's own time zone; the correlation (scan/attempts.ts)
// turns the events into attempts. Every file is streamed; evidence keeps its file and line/record.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Hive } from '../../hive/hive.js';
import type { LogFileRead, TimeZoneUsed, UpdateAttempt } from '../../model/attempts.js';
import { fileSize, realDir, winRel } from '../../windows/files.js';
import { isSetupLogName, extractKb } from '../../formats/logs/index.js';
import { problemText } from '../../shared/safefs.js';
import { correlate } from '../attempts.js';
import { readSetupLogFile, MAX_SETUP_LOG_BYTES, SETUP_LOG_BUDGET } from './logs-file.js';
import { arraySink, type EventSink } from './sink.js';
import { collectCbsLogs } from './cbs-source.js';
import { describeTimeZone, localToUtc, readTimeZone } from '../../windows/timezone.js';
import { collectWindowsUpdateLogs } from './wu-source.js';
import { collectDismLogs } from './dism-source.js';
import { collectEventLogs } from './evtx-source.js';
import { collectSetupLogs } from './panther-source.js';

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

/** .NET / MSI setup logs: each failure with a code is a failed install of that package. */
async function collectInstallerLogs(root: string, sink: EventSink): Promise<void> {
  let budget = SETUP_LOG_BUDGET;
  for (const f of setupLogFiles(root)) {
    const rel = winRel(root, f);
    const kb = extractKb(path.basename(f));
    const size = fileSize(f) ?? 0;
    if (size <= MAX_SETUP_LOG_BYTES) {
      if (size > budget) {
        sink.problem(`${rel}: not read: the setup logs read so far reached ${SETUP_LOG_BUDGET} bytes, the most a scan reads of them`);
        continue;
      }
      budget -= size;
    }
    // One run per log file (session = the file): its failure lines are one attempt's evidence.
    let events = 0;
    for await (const r of readSetupLogFile(f)) {
      const failed = r.kind === 'final-result' ? r.success === false : true;
      if (!failed || !r.hresult) continue;
      events++;
      sink.event({
        source: 'setup log',
        file: rel,
        line: r.line,
        session: rel,
        timeIsLocal: true,
        kind: 'install',
        result: 'failed',
        kb: kb ?? extractKb(r.message),
        title: path.basename(f),
        code: r.hresult.toLowerCase(),
        message: r.message.replace(/\s+/g, ' ').trim().slice(0, 500),
      });
    }
    sink.file({ source: 'setup log', file: rel, bytes: size, events, understood: true, format: 'setup' });
  }
}

export interface UpdateHistory {
  attempts: UpdateAttempt[];
  logs: LogFileRead[];
  timeZone: TimeZoneUsed;
}

export async function collectUpdateHistory(
  root: string,
  hives: { system?: Hive; software?: Hive },
  problems: string[],
  progress: (m: string) => void,
): Promise<UpdateHistory> {
  const sink = arraySink(progress);
  const steps: [string, (root: string, sink: EventSink) => Promise<void>][] = [
    ['Windows Update logs', collectWindowsUpdateLogs],
    ['CBS logs', collectCbsLogs],
    ['DISM log', collectDismLogs],
    ['event logs', collectEventLogs],
    ['Windows setup logs', collectSetupLogs],
    ['installer logs', collectInstallerLogs],
  ];
  for (const [label, step] of steps) {
    try {
      await step(root, sink);
    } catch (e) {
      // A collector reports per file; what escapes is one problem line, never a failed scan.
      sink.problem(`${label}: ${problemText(e, label)}`);
    }
  }
  for (const p of sink.problems) if (!problems.includes(p)) problems.push(p);
  let tz: ReturnType<typeof readTimeZone>;
  try {
    tz = hives.system ? readTimeZone(hives.system, hives.software) : undefined;
  } catch (e) {
    problems.push(`time zone: ${problemText(e, 'SYSTEM TimeZoneInformation')}`);
  }
  const attempts = correlate(sink.events, { toUtc: tz ? (d) => localToUtc(tz, d) : undefined });
  return { attempts, logs: sink.files, timeZone: describeTimeZone(tz) };
}
