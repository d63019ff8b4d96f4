// wu-hosts-blocked on its own (pure): severity by what is blocked, the evidence lines, and nothing
// for a hosts file without Windows Update names (issue #19 item 2).
import { targetScan } from '../../test/helpers/target-scan.js';
import { describe, expect, it } from 'vitest';
import { deriveFindings } from './rules/index.js';
import { blockedWuLines } from '../windows/wuhosts.js';
import { parseHosts } from '../formats/hosts.js';

const HOSTS = 'Windows\\System32\\drivers\\etc\\hosts';
const scanOf = (text: string) => {
  const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
  return targetScan({ hosts: { path: HOSTS, bytes: bytes.length, blocked: blockedWuLines(parseHosts(bytes)) } });
};
const hostsFindings = (text: string) => deriveFindings(scanOf(text)).filter((f) => f.id === 'wu-hosts-blocked');

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

  it('a hostile line is shown as printable ASCII in the evidence, cut', () => {
    const [f] = hostsFindings(`0.0.0.0 update.microsoft.com #\u001b[2J${'\u00e9'.repeat(300)}\n`);
    expect(f!.evidence[0]!.data).toMatch(/^0\.0\.0\.0 update\.microsoft\.com #\?\[2J\?+\.\.\.$/);
    expect(f!.evidence[0]!.data!.length).toBe(160);
  });
});
