// Pure planner test: wu-cache from an in-memory volume (folders, files and links), no file system.
import { describe, expect, it } from 'vitest';
import { memoryVolume } from '../engine/volume.js';
import type { ScanResult } from '../model/scan.js';
import { planCaches } from './wucache.js';

const scanOf = (caches: Partial<ScanResult['caches']>): ScanResult => ({ findings: [], caches: { bitsQueue: [], ...caches } }) as unknown as ScanResult;
const file = new Uint8Array([1, 2, 3]);

describe('wu-cache plans through the volume port', () => {
  it('keeps ReportingEvents.log, renames SoftwareDistribution, catroot2 and the BITS queue as stored', () => {
    const volume = memoryVolume({
      'Windows\\softwaredistribution\\ReportingEvents.log': file,
      'Windows\\System32\\catroot2\\edb.log': file,
      'Windows\\System32\\catroot\\x.cat': file,
      'ProgramData\\Microsoft\\Network\\Downloader\\qmgr0.dat': file,
      'ProgramData\\Microsoft\\Network\\Downloader\\qmgr1.dat': file,
    });
    const bitsQueue = ['qmgr0.dat', 'qmgr1.dat'].map((n) => ({ path: `ProgramData\\Microsoft\\Network\\Downloader\\${n}`, bytes: 3 }));
    const { steps, skippedLinks } = planCaches({ root: '/nowhere', scan: scanOf({ bitsQueue }), options: { runId: 'R1' }, volume });
    expect(skippedLinks).toEqual([]);
    expect(steps.map((s) => s.change)).toEqual([
      { kind: 'keep-copy', path: 'Windows\\softwaredistribution\\ReportingEvents.log' },
      { kind: 'rename', from: 'Windows\\softwaredistribution', to: 'Windows\\softwaredistribution.wufix-R1' },
      { kind: 'rename', from: 'Windows\\System32\\catroot2', to: 'Windows\\System32\\catroot2.wufix-R1' },
      { kind: 'rename', from: 'ProgramData\\Microsoft\\Network\\Downloader\\qmgr0.dat', to: 'ProgramData\\Microsoft\\Network\\Downloader\\qmgr0.dat.wufix-R1' },
      { kind: 'rename', from: 'ProgramData\\Microsoft\\Network\\Downloader\\qmgr1.dat', to: 'ProgramData\\Microsoft\\Network\\Downloader\\qmgr1.dat.wufix-R1' },
    ]);
  });

  it('skips a link in place of a cache folder, and one link in the BITS set keeps the whole set', () => {
    const volume = memoryVolume({
      'Windows\\SoftwareDistribution': 'link',
      'Windows\\System32\\catroot2\\edb.log': file,
      'ProgramData\\Microsoft\\Network\\Downloader\\qmgr0.dat': 'link',
      'ProgramData\\Microsoft\\Network\\Downloader\\qmgr1.dat': file,
    });
    const bitsQueue = ['qmgr0.dat', 'qmgr1.dat'].map((n) => ({ path: `ProgramData\\Microsoft\\Network\\Downloader\\${n}`, bytes: 3 }));
    const { steps, skippedLinks } = planCaches({ root: '/nowhere', scan: scanOf({ bitsQueue }), options: { runId: 'R2' }, volume });
    expect(skippedLinks).toEqual(['Windows\\SoftwareDistribution', 'ProgramData\\Microsoft\\Network\\Downloader\\qmgr0.dat']);
    expect(steps.map((s) => s.change)).toEqual([{ kind: 'rename', from: 'Windows\\System32\\catroot2', to: 'Windows\\System32\\catroot2.wufix-R2' }]);
    expect(steps[0]?.note).toMatch(/not renamed: Windows\\SoftwareDistribution, .*qmgr0\.dat are junctions or symbolic links.*left together/);
  });
});
