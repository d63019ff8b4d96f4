// The diskpart side of the WinRE rebuild (WinPE cannot run here): the script generated for each
// planner case is compared byte for byte with a golden file (written on first creation, then
// reviewed by hand against KB5028997's procedure), and read back to check it says what the plan
// says. The list-table parser is checked on diskpart-format samples in English and in German
// (cp850 bytes through the OEM decoder), including a volume label with a space.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RefusedError, UsageError } from '../../src/shared/errors.js';
import { gptFree, mbrFree } from '../../src/disk/layout.js';
import { gptRole, mbrRole } from '../../src/disk/roles.js';
import type { Layout, Partition } from '../../src/model/disk.js';
import { planWinreRebuild } from '../../src/winre/plan.js';
import { type WinrePlan } from '../../src/model/winre.js';
import {
  diskpartItemNumber,
  diskpartScript,
  parseDiskpartListTable,
  parseDiskpartListTables,
  parseDiskpartOutput,
  parseDiskpartSize,
} from '../../src/platform/diskpart.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const T = {
  ESP: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  MSR: 'e3c9e316-0b5c-4db8-817d-f92df00215ae',
  BASIC: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
  REC: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac',
};

type P = Pick<Partition, 'number' | 'start' | 'size' | 'type'> & Partial<Partition>;

function gptLayout(sizeBytes: number, parts: P[]): Layout {
  const sectors = sizeBytes / 512;
  const gpt = {
    firstUsableLba: 34,
    lastUsableLba: sectors - 34,
    primaryEntriesLba: 2,
    backupEntriesLba: sectors - 33,
    backupHeaderLba: sectors - 1,
    entryCount: 128,
    entrySize: 128,
    headerSize: 92,
    revision: 0x10000,
  };
  const partitions: Partition[] = parts.map((p) => ({
    name: '',
    attributes: 0n,
    guid: `00000000-0000-4000-8000-${String(p.number).padStart(12, '0')}`,
    active: false,
    role: gptRole(p.type),
    ...p,
  }));
  return { scheme: 'gpt', sectorSize: 512, sizeBytes, partitions, free: gptFree({ partitions, sectorSize: 512, gpt }), gpt };
}

function mbrLayout(sizeBytes: number, parts: (Omit<P, 'type'> & { type: number })[]): Layout {
  const partitions: Partition[] = parts.map((p) => ({
    ...p,
    type: '0x' + p.type.toString(16).padStart(2, '0'),
    role: mbrRole(p.type),
    active: !!p.active,
    ...(p.number >= 5 ? { logical: true } : {}),
  }));
  const ebrOffsets = new Map(partitions.filter((p) => p.logical).map((p) => [p.number, p.start - MiB] as [number, number]));
  const ext = partitions.find((p) => p.role === 'extended');
  const l: Layout = {
    scheme: 'mbr',
    sectorSize: 512,
    sizeBytes,
    signature: 0x1234abcd,
    partitions,
    free: [],
    mbr: { extendedNumber: ext?.number ?? 0, ebrOffsets },
  };
  l.free = mbrFree(l);
  return l;
}

const common = { winreWimBytes: 450 * MiB, osFreeBytes: 40 * GiB, bitlockerOs: false };

/** One plan per planner case, on the layouts Windows installs produce (64 GiB disks). */
const CASES: Record<string, () => { plan: WinrePlan; os: number }> = {
  'after-os': () => {
    const l = gptLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: T.ESP },
      { number: 2, start: 101 * MiB, size: 16 * MiB, type: T.MSR },
      { number: 3, start: 117 * MiB, size: 67998056448, type: T.BASIC },
      { number: 4, start: 68120739840, size: 570 * MiB, type: T.REC },
    ]);
    return { plan: planWinreRebuild({ layout: l, osPartition: 3, recoveryPartition: 4, ...common }), os: 3 };
  },
  'before-os': () => {
    const l = gptLayout(64 * GiB, [
      { number: 1, start: MiB, size: 529 * MiB, type: T.REC },
      { number: 2, start: 530 * MiB, size: 99 * MiB, type: T.ESP },
      { number: 3, start: 629 * MiB, size: 16 * MiB, type: T.MSR },
      { number: 4, start: 645 * MiB, size: 64 * GiB - MiB - 645 * MiB, type: T.BASIC },
    ]);
    return { plan: planWinreRebuild({ layout: l, osPartition: 4, recoveryPartition: 1, ...common }), os: 4 };
  },
  'unallocated-after-os': () => {
    const l = gptLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: T.ESP },
      { number: 2, start: 101 * MiB, size: 16 * MiB, type: T.MSR },
      { number: 3, start: 117 * MiB, size: 60 * GiB, type: T.BASIC },
    ]);
    return { plan: planWinreRebuild({ layout: l, osPartition: 3, ...common }), os: 3 };
  },
  'no-recovery': () => {
    const l = gptLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: T.ESP },
      { number: 2, start: 101 * MiB, size: 16 * MiB, type: T.MSR },
      { number: 3, start: 117 * MiB, size: 64 * GiB - MiB - 117 * MiB, type: T.BASIC },
    ]);
    return { plan: planWinreRebuild({ layout: l, osPartition: 3, ...common }), os: 3 };
  },
  'mbr-logical': () => {
    const extEnd = 64 * GiB - MiB;
    const l = mbrLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true },
      { number: 2, start: 101 * MiB, size: GiB, type: 0x07 },
      { number: 3, start: 101 * MiB + GiB, size: GiB, type: 0x0c },
      { number: 4, start: 101 * MiB + 2 * GiB, size: extEnd - 101 * MiB - 2 * GiB, type: 0x0f },
      { number: 5, start: 102 * MiB + 2 * GiB, size: extEnd - 102 * MiB - 2 * GiB, type: 0x07 },
    ]);
    return { plan: planWinreRebuild({ layout: l, osPartition: 5, ...common }), os: 5 };
  },
  'after-os-mbr': () => {
    const l = mbrLayout(64 * GiB, [
      { number: 1, start: MiB, size: 100 * MiB, type: 0x07, active: true },
      { number: 2, start: 101 * MiB, size: 64 * GiB - 101 * MiB - 550 * MiB, type: 0x07 },
      { number: 3, start: 64 * GiB - 550 * MiB, size: 550 * MiB, type: 0x27 },
    ]);
    return { plan: planWinreRebuild({ layout: l, osPartition: 2, recoveryPartition: 3, ...common }), os: 2 };
  },
};

/** The script's commands (REM lines dropped), split into words. */
const commands = (script: string) =>
  script
    .split('\r\n')
    .filter((l) => l && !/^REM /.test(l))
    .map((l) => l.split(' '));

describe('diskpart script per planner case (golden files)', () => {
  for (const [name, make] of Object.entries(CASES)) {
    it(`${name}: byte-identical to test/platform/golden/${name}.diskpart.txt and consistent with the plan`, () => {
      const { plan, os } = make();
      expect(`${plan.case}${plan.scheme === 'mbr' && name.endsWith('-mbr') ? '-mbr' : ''}`).toBe(name);
      const script = diskpartScript(plan, { number: 0 }, os, { letter: 'R' });
      const file = path.join(GOLDEN, `${name}.diskpart.txt`);
      if (!existsSync(file)) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, script);
      }
      expect(Buffer.from(script, 'utf8').equals(readFileSync(file))).toBe(true);

      // CRLF only, ASCII only, ends with a line end.
      expect(script).toMatch(/^[\x20-\x7e\r\n]+$/);
      expect(script.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      expect(script.endsWith('\r\n')).toBe(true);

      // Read back: the KB5028997 order and the plan's numbers.
      const c = commands(script);
      const verbs = c.map((w) => w.slice(0, 2).join(' '));
      const idx = (v: string) => verbs.indexOf(v);
      expect(c[0]).toEqual(['select', 'disk', '0']);
      if (plan.shrinkOsBy > 0) {
        const mb = String(plan.shrinkOsBy / MiB);
        const s = idx('shrink desired=' + mb);
        expect(s).toBeGreaterThan(0);
        expect(c[s]).toEqual(['shrink', `desired=${mb}`, `minimum=${mb}`]);
        expect(c[s - 1]).toEqual(['select', 'partition', String(plan.os.windowsNumber)]);
      } else {
        expect(verbs.some((v) => v.startsWith('shrink'))).toBe(false);
      }
      const del = idx('delete partition');
      if (plan.old) {
        expect(c[del]).toEqual(['delete', 'partition', 'override']);
        expect(c[del - 1]).toEqual(['select', 'partition', String(plan.old.windowsNumber)]);
      } else {
        expect(del).toBe(-1);
      }
      const cr = verbs.findIndex((v) => v.startsWith('create partition'));
      expect(cr).toBeGreaterThan(del);
      const kind = plan.newPartition.logical ? 'logical' : 'primary';
      const create = ['create', 'partition', kind, `size=${plan.newPartition.size / MiB}`, `offset=${plan.newPartition.start / 1024}`];
      if (plan.scheme === 'gpt') {
        expect(c[cr]).toEqual([...create, 'id=de94bba4-06d1-4d40-a16a-bfd50179d6ac']);
        expect(c[cr + 1]).toEqual(['gpt', 'attributes=0x8000000000000001']);
      } else if (plan.newPartition.logical) {
        expect(c[cr]).toEqual(create);
        expect(c[cr + 1]).toEqual(['set', 'id=27']);
      } else {
        expect(c[cr]).toEqual([...create, 'id=27']);
      }
      const f = cr + (plan.scheme === 'gpt' || plan.newPartition.logical ? 2 : 1);
      expect(c[f]!.join(' ')).toBe('format quick fs=ntfs label="Windows RE tools"');
      expect(c[f + 1]).toEqual(['assign', 'letter=R']);
      expect(c.length).toBe(f + 2);
    });
  }

  it('bad arguments: a plan for another OS partition, a bad letter or disk number', () => {
    const { plan } = CASES['after-os']!();
    expect(() => diskpartScript(plan, { number: 0 }, 4, { letter: 'R' })).toThrow(RefusedError);
    expect(() => diskpartScript(plan, { number: 0 }, 3, { letter: 'RE' })).toThrow(UsageError);
    expect(() => diskpartScript(plan, { number: -1 }, 3, { letter: 'R' })).toThrow(UsageError);
    expect(diskpartScript(plan, { number: 2 }, 3, { letter: 'q:' })).toMatch(/\r\nselect disk 2\r\n[\s\S]*\r\nassign letter=Q\r\n$/);
  });
});

// ---------------------------------------------------------------------------------------------
// list tables

const EN_VOLUMES = [
  '  Volume ###  Ltr  Label        Fs     Type        Size     Status     Info',
  '  ----------  ---  -----------  -----  ----------  -------  ---------  --------',
  '  Volume 0     E   CCCOMA_X64F  UDF    DVD-ROM     4656 MB  Healthy',
  '  Volume 1     C   Windows      NTFS   Partition     63 GB  Healthy',
  '  Volume 2         Windows RE   NTFS   Partition    570 MB  Healthy    Hidden',
  '  Volume 3         SYSTEM       FAT32  Partition    100 MB  Healthy    Hidden',
  '* Volume 4     X   Boot         NTFS   Partition   2048 MB  Healthy',
];

const EN_DISKPART_RUN = [
  '',
  'Microsoft DiskPart version 10.0.19041.3636',
  '',
  'Copyright (C) Microsoft Corporation.',
  'On computer: MININT-8F2KQ1',
  '',
  '  Disk ###  Status         Size     Free     Dyn  Gpt',
  '  --------  -------------  -------  -------  ---  ---',
  '* Disk 0    Online           64 GB      0 B        *',
  '  Disk 1    Online           14 GB    14 GB',
  '  Disk 2    No Media           0 B      0 B',
  '',
  'Disk 0 is now the selected disk.',
  '',
  '  Partition ###  Type              Size     Offset',
  '  -------------  ----------------  -------  -------',
  '  Partition 1    System             100 MB  1024 KB',
  '  Partition 2    Reserved            16 MB   101 MB',
  '* Partition 3    Primary             63 GB   117 MB',
  '  Partition 4    Recovery           570 MB    63 GB',
  '',
  'Leaving DiskPart...',
  '',
];

const DE_OUTPUT = [
  '',
  '  Datentr\u00e4ger ###  Status         Gr\u00f6\u00dfe    Frei     Dyn  GPT',
  '  ---------------  -------------  -------  -------  ---  ---',
  '* Datentr\u00e4ger 0    Online           64 GB      0 B        *',
  '  Datentr\u00e4ger 1    Kein Medium        0 B      0 B',
  '',
  '  Volume ###  Bst  Bezeichnung  DS     Typ         Gr\u00f6\u00dfe    Status     Info',
  '  ----------  ---  -----------  -----  ----------  -------  ---------  --------',
  '  Volume 0     C   Windows      NTFS   Partition     63 GB  Fehlerfre  Startpar',
  '  Volume 1     D   Daten B\u00fcro   NTFS   Partition     20 GB  Fehlerfre',
  '  Volume 2         Windows RE   NTFS   Partition    570 MB  Fehlerfre  Versteckt',
  '  Volume 3         SYSTEM       FAT32  Partition    100 MB  Fehlerfre  System',
  '',
  '  Partition ###  Typ               Gr\u00f6\u00dfe    Offset',
  '  -------------  ----------------  -------  -------',
  '  Partition 1    Prim\u00e4r             100 MB  1024 KB',
  '  Partition 0    Erweitert         2800 MB   101 MB',
  '  Partition 2    Logisch           1500 MB   102 MB',
  '  Partition 3    Wiederherstellung   500 MB  1603 MB',
  '',
].join('\r\n');

/** cp850 bytes of the German sample (the four non-ASCII letters it uses; cp850 table, IBM). */
function cp850(s: string): Uint8Array {
  const map: Record<string, number> = { '\u00e4': 0x84, '\u00f6': 0x94, '\u00fc': 0x81, '\u00df': 0xe1 };
  return new Uint8Array(
    [...s].map((ch) => {
      const c = ch.charCodeAt(0);
      if (c < 0x80) return c;
      if (map[ch] === undefined) throw new Error(`no cp850 byte for ${ch}`);
      return map[ch];
    }),
  );
}

describe('diskpart list tables', () => {
  it('English list volume: cells cut at the ruler, a label with a space, the empty letter, the selected row', () => {
    const t = parseDiskpartListTable(EN_VOLUMES.join('\r\n'))!;
    expect(t.columns.map((c) => c.header)).toEqual(['Volume ###', 'Ltr', 'Label', 'Fs', 'Type', 'Size', 'Status', 'Info']);
    expect(t.columns.map((c) => c.start)).toEqual([2, 14, 19, 32, 39, 51, 60, 71]);
    expect(t.rows).toHaveLength(5);
    expect(t.rows[0]!.cells).toEqual(['Volume 0', 'E', 'CCCOMA_X64F', 'UDF', 'DVD-ROM', '4656 MB', 'Healthy', '']);
    expect(t.rows[2]!.cells).toEqual(['Volume 2', '', 'Windows RE', 'NTFS', 'Partition', '570 MB', 'Healthy', 'Hidden']);
    expect(t.rows.map((r) => r.selected)).toEqual([false, false, false, false, true]);
    expect(t.rows[4]!.cells.slice(0, 3)).toEqual(['Volume 4', 'X', 'Boot']);
    expect(diskpartItemNumber(t.rows[4]!.cells[0]!)).toBe(4);
  });

  it('a whole diskpart /s run: banner and messages skipped, list disk and list partition found', () => {
    const tables = parseDiskpartListTables(EN_DISKPART_RUN.join('\r\n'));
    expect(tables).toHaveLength(2);
    const [disks, parts] = tables;
    expect(disks!.rows.map((r) => r.cells)).toEqual([
      ['Disk 0', 'Online', '64 GB', '0 B', '', '*'],
      ['Disk 1', 'Online', '14 GB', '14 GB', '', ''],
      ['Disk 2', 'No Media', '0 B', '0 B', '', ''],
    ]);
    expect(disks!.rows[0]!.selected).toBe(true);
    expect(parts!.rows.map((r) => [diskpartItemNumber(r.cells[0]!), r.cells[1], parseDiskpartSize(r.cells[2]!), parseDiskpartSize(r.cells[3]!)])).toEqual([
      [1, 'System', 100 * MiB, 1024 * 1024],
      [2, 'Reserved', 16 * MiB, 101 * MiB],
      [3, 'Primary', 63 * GiB, 117 * MiB],
      [4, 'Recovery', 570 * MiB, 63 * GiB],
    ]);
    // LF-only output parses the same.
    expect(parseDiskpartListTables(EN_DISKPART_RUN.join('\n'))).toEqual(tables);
  });

  it('German output in cp850 bytes, decoded with the OEM decoder: same columns, umlauts, a label with a space', () => {
    const bytes = cp850(DE_OUTPUT);
    expect(bytes.length).toBe(DE_OUTPUT.length);
    const tables = parseDiskpartOutput(bytes, 850);
    expect(tables).toHaveLength(3);
    const [disks, vols, parts] = tables;
    expect(disks!.columns.map((c) => c.header)).toEqual(['Datentr\u00e4ger ###', 'Status', 'Gr\u00f6\u00dfe', 'Frei', 'Dyn', 'GPT']);
    expect(disks!.rows.map((r) => [diskpartItemNumber(r.cells[0]!), r.cells[1], r.cells[5], r.selected])).toEqual([
      [0, 'Online', '*', true],
      [1, 'Kein Medium', '', false],
    ]);
    expect(vols!.columns.map((c) => c.header)).toEqual(['Volume ###', 'Bst', 'Bezeichnung', 'DS', 'Typ', 'Gr\u00f6\u00dfe', 'Status', 'Info']);
    expect(vols!.rows[1]!.cells).toEqual(['Volume 1', 'D', 'Daten B\u00fcro', 'NTFS', 'Partition', '20 GB', 'Fehlerfre', '']);
    expect(vols!.rows[2]!.cells[2]).toBe('Windows RE');
    // MBR numbering: the extended partition is "Partition 0"; a type wider than its column still parses.
    expect(parts!.rows.map((r) => r.cells)).toEqual([
      ['Partition 1', 'Prim\u00e4r', '100 MB', '1024 KB'],
      ['Partition 0', 'Erweitert', '2800 MB', '101 MB'],
      ['Partition 2', 'Logisch', '1500 MB', '102 MB'],
      ['Partition 3', 'Wiederherstellung', '500 MB', '1603 MB'],
    ]);
    // Decoded as the wrong code page (latin1) the umlauts differ, but the cells stay in place.
    const wrong = parseDiskpartOutput(bytes, undefined);
    expect(wrong[1]!.rows[1]!.cells[2]).not.toBe('Daten B\u00fcro');
    expect(wrong[1]!.rows[1]!.cells[3]).toBe('NTFS');
  });

  it('sizes in any unit diskpart prints (English and French units); no table in plain messages', () => {
    expect(parseDiskpartSize('0 B')).toBe(0);
    expect(parseDiskpartSize('1024 KB')).toBe(1024 * 1024);
    expect(parseDiskpartSize('  570 MB ')).toBe(570 * MiB);
    expect(parseDiskpartSize('2 TB')).toBe(2 * 1024 * GiB);
    expect(parseDiskpartSize('63 Go')).toBe(63 * GiB);
    expect(parseDiskpartSize('0 o')).toBe(0);
    expect(parseDiskpartSize('Healthy')).toBeUndefined();
    expect(parseDiskpartSize('')).toBeUndefined();
    expect(parseDiskpartListTable('DiskPart successfully deleted the selected partition.\r\n')).toBeUndefined();
    expect(parseDiskpartListTables('')).toEqual([]);
  });
});
