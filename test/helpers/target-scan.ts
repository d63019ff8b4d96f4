// A TargetScan with nothing in it (a healthy Windows 10 22H2 volume), for the pure rule tests to
// fill in the facts they are about.
import type { TargetScan } from '../../src/model/scan.js';

export function targetScan(over: Partial<TargetScan> = {}): TargetScan {
  return {
    root: '/mnt/c',
    windowsDir: '/mnt/c/Windows',
    system: { currentBuild: 19045 },
    services: [],
    controlSets: ['ControlSet001'],
    wintrust: [],
    servicing: { rebootPending: false, packagesPending: [], sessionsPending: [], rebootRequired: false, componentsPending: [], pendingFileRenames: 0 },
    policy: {},
    certificates: [],
    winre: {},
    bitlocker: [],
    caches: { bitsQueue: [] },
    attempts: [],
    logs: [],
    problems: [],
    ...over,
  };
}
