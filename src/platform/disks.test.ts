// Which /sys/block entries `disk list` shows, on a sysfs-shaped tree: whole disks and attached loop
// devices (real disks first, natural order); unused loop devices, RAM disks and zram left out.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { linuxDisks } from './disks.js';

describe('linuxDisks', () => {
  let sys = '';
  const dev = (name: string, files: Record<string, string>) => {
    for (const [f, v] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(sys, name, f)), { recursive: true });
      writeFileSync(path.join(sys, name, f), v + '\n');
    }
  };
  beforeAll(() => {
    sys = mkdtempSync(path.join(os.tmpdir(), 'wufix-sysblock-'));
    dev('sda', { size: '500118192', 'device/model': 'Samsung SSD 870  ', ro: '0', removable: '0' });
    dev('sdb', { size: '30031872', ro: '0', removable: '1' });
    dev('nvme0n1', { size: '1000215216', 'device/model': 'WDC PC SN730', ro: '0' });
    dev('loop10', { size: '6291456', 'loop/backing_file': '/srv/lab/b.img', ro: '1' });
    dev('loop2', { size: '2097152', 'loop/backing_file': '/srv/lab/a.img', ro: '0' });
    dev('loop3', { size: '0', ro: '0' }); // unused: no backing file
    dev('ram0', { size: '8192' });
    dev('zram0', { size: '8388608' });
  });
  afterAll(() => rmSync(sys, { recursive: true, force: true }));

  it('lists whole disks and attached loop devices with their facts, nothing else', () => {
    expect(linuxDisks(sys, '/dev')).toEqual([
      { path: '/dev/nvme0n1', sizeBytes: 1000215216 * 512, model: 'WDC PC SN730' },
      { path: '/dev/sda', sizeBytes: 500118192 * 512, model: 'Samsung SSD 870' },
      { path: '/dev/sdb', sizeBytes: 30031872 * 512, removable: true },
      { path: '/dev/loop2', backingFile: '/srv/lab/a.img', sizeBytes: 2097152 * 512 },
      { path: '/dev/loop10', backingFile: '/srv/lab/b.img', sizeBytes: 6291456 * 512, readOnly: true },
    ]);
  });
  it('no /sys/block: no disks', () => {
    expect(linuxDisks(path.join(sys, 'absent'))).toEqual([]);
  });
});
