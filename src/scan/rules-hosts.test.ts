// wu-hosts-blocked on its own (pure): severity by what is blocked, the evidence lines, and nothing
// for a hosts file without Windows Update names (issue #19 item 2).
import { targetScan } from '../../test/helpers/target-scan.js';
import { describe, expect, it } from 'vitest';
import { deriveFindings } from './rules/index.js';
import { blockedWuLines } from '../windows/wuhosts.js';
import { parseHosts } from '../formats/hosts.js';
import { correlate } from './attempts.js';
import type { UpdateEvent } from '../model/attempts.js';

const HOSTS = 'Windows\\System32\\drivers\\etc\\hosts';
const scanOf = (text: string, events: UpdateEvent[] = []) => {
  const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
  return targetScan({ hosts: { path: HOSTS, bytes: bytes.length, blocked: blockedWuLines(parseHosts(bytes)) }, attempts: correlate(events) });
};
const hostsFindings = (text: string, events: UpdateEvent[] = []) => deriveFindings(scanOf(text, events)).filter((f) => f.id === 'wu-hosts-blocked');
const scanFailed = (code: string, day: string): UpdateEvent => ({
  source: 'ReportingEvents.log',
  file: 'Windows\\SoftwareDistribution\\ReportingEvents.log',
  time: new Date(`2024-03-${day}T08:00:00Z`),
  timeIsLocal: false,
  kind: 'scan',
  result: 'failed',
  code,
  line: Number(day),
  message: `Windows Update Client failed to detect with error ${code}.`,
});

describe('wu-hosts-blocked', () => {
  it('a core Windows Update name mapped to any address is an error, with each line and its number as evidence', () => {
    const [f, ...rest] = hostsFindings(
      '# disabler\r\n0.0.0.0 update.microsoft.com\r\n127.0.0.1 localhost\r\n13.107.4.50\tDOWNLOAD.windowsupdate.com www.example\r\n\u001b[2J0.0.0.0 x\r\n',
    );
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'error', repair: 'wu-hosts' });
    expect(f!.explanation).toMatch(
      /^The hosts file maps Windows Update's servers to fixed addresses \(update\.microsoft\.com, download\.windowsupdate\.com; 2 line\(s\)\)/,
    );
    expect(f!.evidence).toEqual([
      { file: HOSTS, line: 2, data: '0.0.0.0 update.microsoft.com' },
      { file: HOSTS, line: 4, data: '13.107.4.50\tDOWNLOAD.windowsupdate.com www.example', note: 'also maps 1 other name(s); the repair keeps them mapped' },
    ]);
  });

  it('only helper hosts (reporting, Delivery Optimization) is a warning; none, comments or go.microsoft.com is nothing', () => {
    expect(hostsFindings('0.0.0.0 wustat.windows.com\n0.0.0.0 geo.prod.do.dsp.mp.microsoft.com\n').map((f) => f.severity)).toEqual(['warning']);
    expect(hostsFindings('127.0.0.1 localhost\n#0.0.0.0 update.microsoft.com\n0.0.0.0 go.microsoft.com download.microsoft.com\n')).toEqual([]);
    expect(deriveFindings(targetScan({})).filter((f) => f.id === 'wu-hosts-blocked')).toEqual([]);
  });

  it('with a WSUS server set, the lines only cut Microsoft Update itself: a warning that says so', () => {
    const t = scanOf('0.0.0.0 update.microsoft.com\n');
    const [f] = deriveFindings({ ...t, policy: { useWUServer: 1, wuServer: 'http://wsus.corp.example:8530' } }).filter((x) => x.id === 'wu-hosts-blocked');
    expect(f).toMatchObject({ severity: 'warning', repair: 'wu-hosts' });
    expect(f!.explanation).toContain('beside the WSUS server http://wsus.corp.example:8530');
    // A WUServer without UseWUServer=1 is not in use: an error as without it.
    expect(deriveFindings({ ...t, policy: { wuServer: 'http://wsus.corp.example:8530' } }).find((x) => x.id === 'wu-hosts-blocked')!.severity).toBe('error');
  });

  it('the update failures such a line causes (cannot connect, timed out) are its error codes and evidence; others are not', () => {
    const [f] = hostsFindings('0.0.0.0 update.microsoft.com\n', [
      scanFailed('0x80072efd', '01'),
      scanFailed('0x80072ee2', '02'),
      scanFailed('0x80070643', '03'),
    ]);
    expect(f!.errorCodes).toEqual(['0x80072ee2', '0x80072efd']);
    expect(f!.evidence.map((e) => e.line)).toEqual([1, 1, 2]);
    expect(f!.evidence[1]!.data).toMatch(/^scan failed: .*0x80072efd/);
    expect(hostsFindings('0.0.0.0 update.microsoft.com\n', [scanFailed('0x80070643', '03')])[0]!.errorCodes).toBeUndefined();
  });

  it('at most 100 lines as evidence, the rest counted', () => {
    const [f] = hostsFindings('0.0.0.0 update.microsoft.com\n'.repeat(130));
    expect(f!.evidence).toHaveLength(101);
    expect(f!.evidence[99]!.line).toBe(100);
    expect(f!.evidence[100]).toEqual({ file: HOSTS, note: 'and 30 more line(s) like these' });
    expect(f!.explanation).toContain('130 line(s)');
  });

  it('a hostile line is shown as printable ASCII in the evidence, cut', () => {
    const [f] = hostsFindings(`0.0.0.0 update.microsoft.com #\u001b[2J${'\u00e9'.repeat(300)}\n`);
    expect(f!.evidence[0]!.data).toMatch(/^0\.0\.0\.0 update\.microsoft\.com #\?\[2J\?+\.\.\.$/);
    expect(f!.evidence[0]!.data!.length).toBe(160);
  });
});
