// Issue #14 item 3: journals are trusted only where wufix keeps them. Planted journals on a --root
// tree (".." paths, tar entries through a symlink of the tree, an id sorting last), forged seals,
// replayed states, copied journals, tar entries that escape, journals beside an image naming another
// disk: every one refused (exit 3, one line), and a decoy tree outside the target, the target itself
// and the other disk images checked byte for byte before and after. The happy paths still undo
// byte for byte. The seal format is re-implemented here (independent writer) to forge and re-seal.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, cpSync, mkdirSync, writeFileSync, readFileSync, readdirSync, existsSync, symlinkSync, statSync, lstatSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk, withMountedNtfs } from '../helpers/winbuilder.js';
import { sharedReason, toolsReason, skipReason } from '../helpers/env.js';
import { diskToolsReason, sha256, MiB, GiB } from '../helpers/disk-images.js';
import { runCli } from '../helpers/cli.js';
import { testStateDir } from '../helpers/state-dir.js';
import { treeHashes, treeDiff } from '../helpers/tree.js';
import { dotnetWintrust } from '../scan/scenarios.js';
import { stateDirPath } from '../../src/engine/keyring.js';

/** The `code` of the error a command run with --json printed on stdout. */
const jsonErrorCode = (stdout: string | Buffer): string | undefined => (JSON.parse(stdout.toString()) as { error?: { code?: string } }).error?.code;

const reason = skipReason(sharedReason(), toolsReason('python3-hivex'));
const isRoot = process.getuid?.() === 0;
const imageReason = skipReason(
  reason,
  isRoot ? undefined : 'needs root (loop devices, ntfs-3g)',
  toolsReason('ntfs-3g', 'mcopy', 'mkntfs', 'sgdisk'),
  diskToolsReason(),
);
const PLANTED = '99991231T235959Z-ffffff'; // sorts after every real run id

// ---- An independent implementation of the seal (docs: README "repair/undo"; src/engine/journal.ts)
function digest(file: string): { size: number; digest: string } {
  const b = readFileSync(file);
  if (b.length <= 4 * MiB) return { size: b.length, digest: `sha256:${createHash('sha256').update(b).digest('hex')}` };
  const h = createHash('sha256');
  for (let at = 0; at < b.length; at += 4 * MiB) {
    const piece = b.subarray(at, Math.min(b.length, at + 4 * MiB));
    if (piece.every((x) => x === 0)) {
      const tag = Buffer.alloc(9);
      tag[0] = 0x5a;
      tag.writeBigUInt64LE(BigInt(piece.length), 1);
      h.update(tag);
    } else h.update('D').update(piece);
  }
  return { size: b.length, digest: `sha256z:${h.digest('hex')}` };
}
function sealFiles(runDir: string): Record<string, { size: number; digest: string }> {
  const out: Record<string, { size: number; digest: string }> = {};
  for (const n of ['plan.json', 'files.json', 'state.json', 'backup.tar']) if (existsSync(path.join(runDir, n))) out[n] = digest(path.join(runDir, n));
  const walk = (d: string, rel: string) => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      if (lstatSync(p).isDirectory()) walk(p, `${rel}/${n}`);
      else out[`${rel}/${n}`] = digest(p);
    }
  };
  walk(path.join(runDir, 'disk'), 'disk');
  return out;
}
function macOf(key: Buffer, runId: string, target: string, files: Record<string, { size: number; digest: string }>): string {
  const canon = JSON.stringify([
    'wufix-seal-1',
    runId,
    target,
    Object.keys(files)
      .sort()
      .map((k) => [k, files[k]!.size, files[k]!.digest]),
  ]);
  return createHmac('sha256', key).update(canon).digest('hex');
}
/** Write seal.json for the run as it is now, with `key`; with `ledger`, record it as the latest (what wufix would do). */
function reseal(runDir: string, key: Buffer, target: string, ledger?: { stateDir: string }): string {
  const runId = path.basename(runDir);
  const files = sealFiles(runDir);
  const mac = macOf(key, runId, target, files);
  writeFileSync(path.join(runDir, 'seal.json'), JSON.stringify({ format: 'wufix-seal-1', runId, target, files, mac }, null, 2));
  if (ledger) {
    const f = path.join(ledger.stateDir, 'runs', `${runId}.json`);
    const e = JSON.parse(readFileSync(f, 'utf8'));
    writeFileSync(f, JSON.stringify({ ...e, mac, pending: undefined }));
  }
  return mac;
}
const keyOf = (stateDir: string) => readFileSync(path.join(stateDir, 'journal.key'));

/** sha256 of every file under a directory (the decoy host tree). */
function hashTree(dir: string): Record<string, string> {
  return Object.fromEntries([...treeHashes(dir, [])]);
}

/** A tar archive written by python3's tarfile with any entry kinds (independent of node-tar). */
function craftTar(
  file: string,
  entries: { name: string; type: 'file' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo' | 'dir'; data?: string; link?: string }[],
): void {
  const py = `
import sys, json, tarfile, io
out, entries = sys.argv[1], json.loads(sys.argv[2])
T = {'file': tarfile.REGTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE, 'chardev': tarfile.CHRTYPE, 'blockdev': tarfile.BLKTYPE, 'fifo': tarfile.FIFOTYPE, 'dir': tarfile.DIRTYPE}
with tarfile.open(out, 'w', format=tarfile.USTAR_FORMAT) as t:
    for e in entries:
        ti = tarfile.TarInfo(e['name'])
        ti.type = T[e['type']]
        data = e.get('data', '').encode()
        if e['type'] == 'file': ti.size = len(data)
        if 'link' in e: ti.linkname = e['link']
        if e['type'] in ('chardev', 'blockdev'): ti.devmajor, ti.devminor = 1, 3
        t.addfile(ti, io.BytesIO(data) if e['type'] == 'file' else None)
`;
  execFileSync('python3', ['-c', py, file, JSON.stringify(entries)]);
}

const oneLine = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => /^wufix: /.test(l));

describe('the state directory is outside any target', () => {
  it('WUFIX_STATE_DIR, else XDG_STATE_HOME or ~/.local/state; Windows: %LOCALAPPDATA%, WinPE: beside the executable', () => {
    expect(stateDirPath({ WUFIX_STATE_DIR: '/srv/st', HOME: '/root' }, 'linux')).toBe('/srv/st');
    expect(stateDirPath({ XDG_STATE_HOME: '/var/xdg', HOME: '/root' }, 'linux')).toBe('/var/xdg/wufix');
    expect(stateDirPath({ XDG_STATE_HOME: 'relative', HOME: '/home/u' }, 'linux')).toBe('/home/u/.local/state/wufix');
    expect(stateDirPath({ HOME: '/home/u' }, 'linux')).toBe('/home/u/.local/state/wufix');
    expect(stateDirPath({ SystemDrive: 'X:', LOCALAPPDATA: 'X:\\Users\\Default\\AppData\\Local' }, 'win32', 'E:\\tools\\wufix.exe')).toBe(
      'E:\\tools\\wufix-state',
    );
    expect(stateDirPath({ SystemDrive: 'C:', LOCALAPPDATA: 'C:\\Users\\lab\\AppData\\Local' }, 'win32', 'E:\\wufix.exe')).toBe(
      'C:\\Users\\lab\\AppData\\Local\\wufix',
    );
  });
});

describe.skipIf(!!reason)('journals are trusted only where wufix keeps them (--root trees)', () => {
  let tmp = '';
  let pristine = '';
  let decoy = '';
  let decoyBefore: Record<string, string> = {};
  const stateDir = testStateDir();
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-sec-journal-'));
    pristine = path.join(tmp, 'pristine');
    await buildWindowsTree(pristine, dotnetWintrust);
    // A host folder outside every target: what a planted journal would write into or delete.
    decoy = path.join(tmp, 'decoy');
    mkdirSync(path.join(decoy, '.ssh'), { recursive: true });
    writeFileSync(path.join(decoy, '.ssh', 'authorized_keys'), 'ssh-ed25519 AAAA-the-owners-key owner@host\n');
    writeFileSync(path.join(decoy, 'important.txt'), 'do not delete\n');
    decoyBefore = hashTree(decoy);
  }, 180_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const fresh = (name: string) => {
    const d = path.join(tmp, name);
    cpSync(pristine, d, { recursive: true });
    return d;
  };
  const jdir = (root: string, id: string) => path.join(root, 'wufix', 'journal', id);
  const repair = (root: string) => {
    const r = runCli(['repair', '--root', root, '--yes', '--only', 'wintrust']);
    expect(r.status, r.stderr).toBe(0);
    const id = /wufix undo (\S+)/.exec(r.stdout)![1]!;
    return id;
  };

  /** A run planted on the target as an attacker would: .. paths, a symlink of the tree, deletes, a forged seal. */
  function plant(root: string, opts: { diskApplying?: boolean } = {}): string {
    const dir = jdir(root, PLANTED);
    mkdirSync(dir, { recursive: true });
    // A folder of the tree that is a link to the host folder.
    symlinkSync(decoy, path.join(root, 'Windows', 'Helper'));
    const plan = {
      runId: PLANTED,
      root,
      createdAt: '2099-12-31T23:59:59Z',
      tool: 'wufix 0.1.0',
      steps: [
        {
          repair: 'wintrust',
          reason: 'wintrust-state',
          change: { kind: 'reg-set', hive: 'Windows\\System32\\config\\DEFAULT', key: 'X', name: 'State', value: { type: 4, data: '003c0200' }, old: null },
        },
      ],
      notFixed: [],
    };
    const evil = 'ssh-ed25519 AAAA-attacker attacker@evil\n';
    const sha = createHash('sha256').update(evil).digest('hex');
    const files = [
      { path: '..\\decoy\\.ssh\\authorized_keys', entry: '../decoy/.ssh/authorized_keys', existed: true, sha256Before: sha, size: evil.length },
      { path: 'Windows\\Helper\\.ssh\\authorized_keys', entry: 'Windows/Helper/.ssh/authorized_keys', existed: true, sha256Before: sha, size: evil.length },
      { path: 'Windows\\Helper\\important.txt', entry: 'Windows/Helper/important.txt', existed: false, sha256Before: null, size: 0 },
    ];
    writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
    writeFileSync(path.join(dir, 'files.json'), JSON.stringify(files));
    writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ phase: 'verified', done: [0], renames: [], updatedAt: '2099-12-31T23:59:59Z' }));
    craftTar(path.join(dir, 'backup.tar'), [
      { name: '../decoy/.ssh/authorized_keys', type: 'file', data: evil },
      { name: 'Windows/Helper/.ssh/authorized_keys', type: 'file', data: evil },
    ]);
    if (opts.diskApplying) {
      mkdirSync(path.join(dir, 'disk'));
      writeFileSync(
        path.join(dir, 'disk', 'state.json'),
        JSON.stringify({ phase: 'applying', done: ['backed-up', 'os-shrunk'], sectors: [], regions: [], layoutBefore: [] }),
      );
    }
    // A seal made with a key the attacker chose.
    reseal(dir, randomBytes(32), root);
    return dir;
  }

  it('a planted run sorting last: undo --last refuses (exit 3, one line); journal list marks it; the decoy and the tree are unchanged', () => {
    // This machine has sealed runs before (its state directory and key exist), just not this one.
    repair(fresh('planted-warmup'));
    const root = fresh('planted');
    plant(root);
    const before = treeHashes(root);
    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status, u.stderr).toBe(3);
    expect(oneLine(u.stderr)).toHaveLength(1);
    expect(u.stderr).toMatch(
      /^wufix: refused: none of the 1 run\(s\) in .* is authenticated \(the newest, 99991231T235959Z-ffffff: it is not in the ledger.*nothing was changed/m,
    );
    // Even told to restore files that changed (--force, as the old refusal suggested): refused.
    const f = runCli(['undo', '--last', '--root', root, '--force']);
    expect(f.status, f.stderr).toBe(3);
    expect(f.stderr).toMatch(/not authenticated|is authenticated/);
    expect(hashTree(decoy)).toEqual(decoyBefore);
    // Named explicitly: the same refusal.
    const e = runCli(['undo', PLANTED, '--root', root, '--force']);
    expect(e.status).toBe(3);
    expect(e.stderr).toMatch(/^wufix: refused: run 99991231T235959Z-ffffff in .* is not authenticated: it is not in the ledger/m);
    expect(oneLine(e.stderr)).toHaveLength(1);
    const list = runCli(['journal', 'list', '--root', root]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^99991231T235959Z-ffffff {2}UNTRUSTED .*\n {4}NOT AUTHENTICATED: it is not in the ledger/m);
    const json = JSON.parse(runCli(['journal', 'list', '--root', root, '--json']).stdout) as { runId: string; authenticated: boolean }[];
    expect(json).toEqual([expect.objectContaining({ runId: PLANTED, authenticated: false })]);
    expect(hashTree(decoy)).toEqual(decoyBefore);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('with a real run beside it, --last undoes the real one (byte for byte) and names the planted one; the decoy is unchanged', () => {
    const root = fresh('planted-and-real');
    const before = treeHashes(root);
    const id = repair(root);
    expect(existsSync(path.join(jdir(root, id), 'seal.json'))).toBe(true);
    plant(root);
    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status, u.stderr).toBe(0);
    expect(u.stdout).toMatch(new RegExp(`Undone run ${id}`));
    expect(u.stderr).toMatch(/run 99991231T235959Z-ffffff is not authenticated .*skipped/);
    const diff = treeDiff(before, treeHashes(root));
    expect(diff).toEqual(['Windows/Helper']); // the planted link itself (made by the test), nothing else
    expect(hashTree(decoy)).toEqual(decoyBefore);
  });

  it('repair ignores a planted "stopped half-way" disk run (mentioned, not acted on)', () => {
    const root = fresh('planted-unfinished');
    plant(root, { diskApplying: true });
    const r = runCli(['repair', '--root', root, '--yes', '--only', 'wintrust']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/undo it first/);
    expect(r.stderr).toMatch(
      /run 99991231T235959Z-ffffff in .* says it stopped half-way through rebuilding the WinRE partition, but it is not authenticated \(.*\); it is ignored/,
    );
    expect(hashTree(decoy)).toEqual(decoyBefore);
  });

  it('a forged seal (another key, the ledger untouched) and a tampered journal are refused (exit 3), nothing restored', () => {
    const root = fresh('forged');
    const id = repair(root);
    const after = treeHashes(root);
    const dir = jdir(root, id);
    // files.json pointed outside the volume, sealed with a key that is not this machine's.
    const files = JSON.parse(readFileSync(path.join(dir, 'files.json'), 'utf8'));
    files[0].entry = '../decoy/.ssh/authorized_keys';
    writeFileSync(path.join(dir, 'files.json'), JSON.stringify(files));
    reseal(dir, randomBytes(32), root);
    const u = runCli(['undo', id, '--root', root]);
    expect(u.status).toBe(3);
    expect(u.stderr).toMatch(/is not authenticated: its seal does not verify with this machine's journal key/);
    expect(oneLine(u.stderr)).toHaveLength(1);
    // The same change without a new seal: the files no longer match it.
    const root2 = fresh('tampered');
    const id2 = repair(root2);
    const after2 = treeHashes(root2);
    const f2 = path.join(jdir(root2, id2), 'files.json');
    writeFileSync(f2, readFileSync(f2, 'utf8').replace('"existed": true', '"existed": false'));
    const u2 = runCli(['undo', '--last', '--root', root2]);
    expect(u2.status).toBe(3);
    expect(u2.stderr).toMatch(/files\.json changed after the run sealed it/);
    // Another machine's state directory (its own key, no ledger entry).
    const other = mkdtempSync(path.join(tmp, 'other-state-'));
    const root3 = fresh('other-machine');
    const id3 = repair(root3);
    // The other machine has repaired something itself: its own key and ledger exist.
    expect(runCli(['repair', '--root', fresh('other-machine-own'), '--yes', '--only', 'wintrust'], { env: { WUFIX_STATE_DIR: other } }).status).toBe(0);
    expect(keyOf(other).equals(keyOf(stateDir))).toBe(false);
    const u3 = runCli(['undo', id3, '--root', root3], { env: { WUFIX_STATE_DIR: other } });
    expect(u3.status).toBe(3);
    expect(u3.stderr).toMatch(/not in the ledger of this machine's state directory/);
    expect(treeDiff(after, treeHashes(root))).toEqual([]);
    expect(treeDiff(after2, treeHashes(root2))).toEqual([]);
    expect(hashTree(decoy)).toEqual(decoyBefore);
  });

  it('a replayed state (a real run undone, then its earlier state.json + seal.json copied back) is refused (exit 3)', () => {
    const root = fresh('replay');
    const before = treeHashes(root);
    const id = repair(root);
    const dir = jdir(root, id);
    const saved = { state: readFileSync(path.join(dir, 'state.json')), seal: readFileSync(path.join(dir, 'seal.json')) };
    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status, u.stderr).toBe(0);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
    writeFileSync(path.join(dir, 'state.json'), saved.state);
    writeFileSync(path.join(dir, 'seal.json'), saved.seal);
    const r = runCli(['undo', id, '--root', root, '--force']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/its seal is not the latest one in this machine's ledger: an older state of the run was copied back \(replayed\)/);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it('a journal copied to another folder is refused; the same volume at another mount point is not', () => {
    const root = fresh('copied');
    const before = treeHashes(root);
    const id = repair(root);
    const after = treeHashes(root);
    const elsewhere = path.join(tmp, 'copied-journal');
    mkdirSync(elsewhere);
    cpSync(jdir(root, id), path.join(elsewhere, id), { recursive: true });
    const u = runCli(['undo', id, '--journal', elsewhere, '--root', root]);
    expect(u.status).toBe(3);
    expect(u.stderr).toMatch(/is not where wufix wrote it .*a copied journal is not trusted/);
    expect(treeDiff(after, treeHashes(root))).toEqual([]);
    if (!isRoot) return;
    // The volume itself at another path (a WinPE drive letter, another mount point): a bind mount.
    const mnt = path.join(tmp, 'copied-mnt');
    mkdirSync(mnt);
    execFileSync('mount', ['--bind', root, mnt]);
    try {
      const m = runCli(['undo', '--last', '--root', mnt]);
      expect(m.status, m.stderr).toBe(0);
    } finally {
      execFileSync('umount', [mnt]);
    }
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  it.skipIf(!isRoot)(
    'a stick holding both the state directory and the journal, mounted at another path, still undoes; a copy of the journal elsewhere on it does not',
    () => {
      const root = fresh('stick');
      const before = treeHashes(root);
      const stick = path.join(tmp, 'stick-media');
      mkdirSync(stick);
      const env = { WUFIX_STATE_DIR: path.join(stick, 'wufix-state') };
      const r = runCli(['repair', '--root', root, '--yes', '--only', 'wintrust', '--journal', path.join(stick, 'wufix-journal')], { env });
      expect(r.status, r.stderr).toBe(0);
      const id = /wufix undo (\S+)/.exec(r.stdout)![1]!;
      const after = treeHashes(root);
      const moved = path.join(tmp, 'stick-elsewhere');
      mkdirSync(moved);
      execFileSync('mount', ['--bind', stick, moved]);
      try {
        const envMoved = { WUFIX_STATE_DIR: path.join(moved, 'wufix-state') };
        // A copy beside the original on the same stick is not where wufix wrote it.
        cpSync(path.join(moved, 'wufix-journal', id), path.join(moved, 'copy', id), { recursive: true });
        const c = runCli(['undo', id, '--journal', path.join(moved, 'copy'), '--root', root], { env: envMoved });
        expect(c.status).toBe(3);
        expect(c.stderr).toMatch(/is not where wufix wrote it/);
        expect(treeDiff(after, treeHashes(root))).toEqual([]);
        const u = runCli(['undo', '--last', '--journal', path.join(moved, 'wufix-journal'), '--root', root], { env: envMoved });
        expect(u.status, u.stderr).toBe(0);
      } finally {
        execFileSync('umount', [moved]);
      }
      expect(treeDiff(before, treeHashes(root))).toEqual([]);
    },
  );

  it("a power cut between a journal file and its seal: both sides of the ledger's pending entry are accepted", () => {
    const root = fresh('pending');
    const before = treeHashes(root);
    const id = repair(root);
    const dir = jdir(root, id);
    const key = keyOf(stateDir);
    const ledgerFile = path.join(stateDir, 'runs', `${id}.json`);
    const ledger = JSON.parse(readFileSync(ledgerFile, 'utf8'));
    // wufix was about to write a new state.json: the ledger has the new MAC as pending, the file is the old one.
    const next = JSON.stringify({ phase: 'verified', done: [0, 1], renames: [], updatedAt: new Date().toISOString() });
    const files = sealFiles(dir);
    const withNext = { ...files, 'state.json': { size: Buffer.byteLength(next), digest: `sha256:${createHash('sha256').update(next).digest('hex')}` } };
    writeFileSync(ledgerFile, JSON.stringify({ ...ledger, pending: macOf(key, id, ledger.target, withNext) }));
    expect(JSON.parse(runCli(['journal', 'list', '--root', root, '--json']).stdout)[0].authenticated).toBe(true);
    // ... and the new state.json was renamed into place, seal.json not yet rewritten.
    writeFileSync(path.join(dir, 'state.json'), next);
    const u = runCli(['undo', '--last', '--root', root]);
    expect(u.status, u.stderr).toBe(0);
    expect(treeDiff(before, treeHashes(root))).toEqual([]);
  });

  describe('an authentic journal still writes only where its plan said', () => {
    const cases: {
      name: string;
      tar?: Parameters<typeof craftTar>[1];
      files?: (f: { path: string; entry: string; existed: boolean; size: number }[]) => void;
      want: RegExp;
    }[] = [
      { name: "a tar entry '../x'", tar: [{ name: '../decoy/important.txt', type: 'file', data: 'x' }], want: /unsafe name "\.\.\/decoy\/important\.txt"/ },
      { name: 'an absolute tar entry', tar: [{ name: `${'/'}tmp/wufix-abs-entry`, type: 'file', data: 'x' }], want: /unsafe name "\/tmp\/wufix-abs-entry"/ },
      {
        name: 'a symlink entry',
        tar: [{ name: 'Windows/System32/config/DEFAULT', type: 'symlink', link: '/etc/passwd' }],
        want: /a SymbolicLink entry "Windows\/System32\/config\/DEFAULT" -> "\/etc\/passwd"/,
      },
      { name: 'a hardlink entry', tar: [{ name: 'Windows/System32/config/DEFAULT', type: 'hardlink', link: '../decoy/important.txt' }], want: /a Link entry/ },
      { name: 'a character device entry', tar: [{ name: 'Windows/System32/config/DEFAULT', type: 'chardev' }], want: /a CharacterDevice entry/ },
      { name: 'a block device entry', tar: [{ name: 'Windows/System32/config/DEFAULT', type: 'blockdev' }], want: /a BlockDevice entry/ },
      { name: 'a FIFO entry', tar: [{ name: 'Windows/System32/config/DEFAULT', type: 'fifo' }], want: /a FIFO entry/ },
      { name: 'a directory entry', tar: [{ name: 'Windows/', type: 'dir' }], want: /a Directory entry/ },
      {
        name: 'an entry files.json does not list',
        tar: [{ name: 'Windows/win.ini', type: 'file', data: 'x' }],
        want: /holds "Windows\/win\.ini", which files\.json does not list/,
      },
      {
        name: "a files.json path with '..'",
        files: (f) => {
          f[0]!.path = '..\\decoy\\important.txt';
          f[0]!.entry = '../decoy/important.txt';
        },
        want: /the journal lists the path "\.\.\\decoy\\important\.txt", which its plan does not name/,
      },
      {
        name: 'a files.json path the plan does not name',
        files: (f) => {
          f[0]!.path = 'Windows\\win.ini';
          f[0]!.entry = 'Windows/win.ini';
        },
        want: /the journal lists "Windows\\win\.ini", which its plan does not name/,
      },
    ];
    for (const c of cases) {
      it(`${c.name}: exit 3, one line, nothing restored`, () => {
        const root = fresh(`tar-${c.name.replace(/\W+/g, '-')}`);
        const id = repair(root);
        const dir = jdir(root, id);
        const after = treeHashes(root);
        if (c.tar) craftTar(path.join(dir, 'backup.tar'), c.tar);
        if (c.files) {
          const f = JSON.parse(readFileSync(path.join(dir, 'files.json'), 'utf8'));
          c.files(f);
          writeFileSync(path.join(dir, 'files.json'), JSON.stringify(f));
        }
        // Sealed with this machine's key and recorded in its ledger: authentic, but wrong.
        reseal(dir, keyOf(stateDir), root, { stateDir });
        expect(JSON.parse(runCli(['journal', 'list', '--root', root, '--json']).stdout)[0].authenticated).toBe(true);
        const u = runCli(['undo', '--last', '--root', root, '--force']);
        expect(u.status, u.stderr).toBe(3);
        expect(u.stderr).toMatch(c.want);
        expect(oneLine(u.stderr)).toHaveLength(1);
        expect(treeDiff(after, treeHashes(root))).toEqual([]);
        expect(existsSync('/tmp/wufix-abs-entry')).toBe(false);
        expect(hashTree(decoy)).toEqual(decoyBefore);
      });
    }
  });

  it('a journal without a seal (written before journals were sealed) is refused, saying so', () => {
    const root = fresh('legacy');
    const id = repair(root);
    rmSync(path.join(jdir(root, id), 'seal.json'));
    rmSync(path.join(stateDir, 'runs', `${id}.json`));
    const u = runCli(['undo', id, '--root', root]);
    expect(u.status).toBe(3);
    expect(u.stderr).toMatch(/it has no seal \(seal\.json\): it was written before wufix sealed its journals/);
  });

  it('the state directory: created 0700 with a 32-byte key 0600; one inside the target or a link is refused before anything is written', () => {
    const root = fresh('state');
    repair(root);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    const key = path.join(stateDir, 'journal.key');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(key).size).toBe(32);
    const inside = fresh('state-inside');
    const before = treeHashes(inside, []);
    const r = runCli(['repair', '--root', inside, '--yes', '--only', 'wintrust', '--json'], { env: { WUFIX_STATE_DIR: path.join(inside, 'Users', 'state') } });
    expect(r.status).toBe(3);
    expect(jsonErrorCode(r.stdout)).toBe('state-dir');
    expect(r.stderr).toMatch(/^wufix: refused: the wufix state directory .* lies inside the target .*; set WUFIX_STATE_DIR \(or pass --state-dir <dir>\)/m);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(treeDiff(before, treeHashes(inside, []))).toEqual([]);
    const link = path.join(tmp, 'state-link');
    symlinkSync(mkdtempSync(path.join(tmp, 'state-real-')), link);
    const l = runCli(['repair', '--root', inside, '--yes', '--only', 'wintrust', '--state-dir', link, '--json']);
    expect(l.status).toBe(3);
    expect(jsonErrorCode(l.stdout)).toBe('state-dir');
    expect(l.stderr).toMatch(/is a symbolic link; the wufix state directory must be a real folder/);
    expect(treeDiff(before, treeHashes(inside, []))).toEqual([]);
  });

  it('a link planted as <root>/wufix (where the journal goes) is refused (exit 3, code journal-link in --json), nothing written there', () => {
    const root = fresh('journal-link');
    const elsewhere = mkdtempSync(path.join(tmp, 'journal-elsewhere-'));
    symlinkSync(elsewhere, path.join(root, 'wufix'));
    const before = treeHashes(root, []);
    const r = runCli(['repair', '--root', root, '--yes', '--only', 'wintrust', '--json']);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^wufix: refused: .*wufix on the target is a link or not a folder/);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'journal-link', exitCode: 3 } });
    expect(treeDiff(before, treeHashes(root, []))).toEqual([]);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

describe.skipIf(!!imageReason)('journals beside a disk image name only that image', () => {
  let tmp = '';
  let imgA = '';
  let imgB = '';
  let disk: ReturnType<typeof buildDisk>;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-sec-image-'));
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, dotnetWintrust);
    imgA = path.join(tmp, 'a.img');
    disk = buildDisk(imgA, tree, { size: 3 * GiB, recoverySize: 700 * MiB, recoveryFree: 400 * MiB });
    imgB = path.join(tmp, 'b.img');
    execFileSync('cp', ['--sparse=always', imgA, imgB]);
  }, 300_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const osTree = (img: string) => withMountedNtfs(img, disk.osStart, disk.recStart - disk.osStart, (m) => treeHashes(m));
  /** Loop devices attached to this file (only the test's own images are checked). */
  const loopsOf = (img: string) => execFileSync('losetup', ['-j', img], { encoding: 'utf8' }).trim();

  it('a real run on A: its journal copied beside B, or passed with --journal for B, is refused; A and B byte for byte unchanged; undo of A still works', () => {
    const treeA = osTree(imgA);
    const r = runCli(['repair', '--image', imgA, '--yes', '--only', 'wintrust']);
    expect(r.status, r.stderr).toBe(0);
    const id = /wufix undo (\S+)/.exec(r.stdout)![1]!;
    const sums = { a: sha256(imgA), b: sha256(imgB) };
    // Copied beside B, as a hostile image would ship it.
    cpSync(`${imgA}.wufix-journal`, `${imgB}.wufix-journal`, { recursive: true });
    const u1 = runCli(['undo', '--image', imgB, '--last']);
    expect(u1.status).toBe(3);
    expect(u1.stderr).toMatch(/is not where wufix wrote it|was made for/);
    expect(oneLine(u1.stderr)).toHaveLength(1);
    // A's own journal, named for B: made for A, so refused.
    const u2 = runCli(['undo', id, '--image', imgB, '--journal', `${imgA}.wufix-journal`]);
    expect(u2.status).toBe(3);
    expect(u2.stderr).toMatch(new RegExp(`it was made for ${imgA.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, not for .*b\\.img`));
    expect(oneLine(u2.stderr)).toHaveLength(1);
    expect(sha256(imgA)).toBe(sums.a);
    expect(sha256(imgB)).toBe(sums.b);
    expect(loopsOf(imgA)).toBe('');
    expect(loopsOf(imgB)).toBe('');
    // The happy path: A undone byte for byte (its files).
    const u = runCli(['undo', '--image', imgA, '--last']);
    expect(u.status, u.stderr).toBe(0);
    expect(treeDiff(treeA, osTree(imgA))).toEqual([]);
    expect(loopsOf(imgA)).toBe('');
  });

  it('a planted journal beside C whose plan names disk A (a WinRE rebuild writing at 1 MiB): refused, A byte for byte unchanged', () => {
    const imgC = path.join(tmp, 'c.img');
    writeFileSync(imgC, Buffer.alloc(0));
    execFileSync('truncate', ['-s', String(64 * MiB), imgC]);
    const dir = path.join(`${imgC}.wufix-journal`, PLANTED);
    mkdirSync(path.join(dir, 'disk'), { recursive: true });
    const step = {
      kind: 'winre-rebuild',
      disk: imgA,
      expect: [],
      winre: { os: { number: 3, start: disk.osStart, size: 1 }, shrinkOsBy: 0, ops: [] },
      source: { where: 'os', files: [] },
      reagentXml: 'Windows\\System32\\Recovery\\ReAgent.xml',
    };
    writeFileSync(
      path.join(dir, 'plan.json'),
      JSON.stringify({ runId: PLANTED, root: '/nonexistent', createdAt: '', tool: '', steps: [{ repair: 'winre', reason: '', change: step }], notFixed: [] }),
    );
    writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ phase: 'verified', done: [], renames: [], updatedAt: '' }));
    writeFileSync(path.join(dir, 'disk', 'sectors.bin'), Buffer.alloc(4096, 0xee));
    writeFileSync(
      path.join(dir, 'disk', 'state.json'),
      JSON.stringify({
        phase: 'verified',
        done: ['backed-up', 'table-written'],
        sectors: [{ offset: MiB, length: 4096, at: 0 }],
        regions: [],
        layoutBefore: [],
        layoutAfter: [],
      }),
    );
    reseal(dir, randomBytes(32), imgA);
    const sums = { a: sha256(imgA), c: sha256(imgC) };
    const u = runCli(['undo', '--image', imgC, '--last']);
    expect(u.status).toBe(3);
    expect(oneLine(u.stderr)).toHaveLength(1);
    expect(u.stderr).toMatch(/is authenticated/);
    const e = runCli(['undo', PLANTED, '--image', imgC]);
    expect(e.status).toBe(3);
    expect(e.stderr).toMatch(/not authenticated: it is not in the ledger/);
    expect(sha256(imgA)).toBe(sums.a);
    expect(sha256(imgC)).toBe(sums.c);
    expect(loopsOf(imgA)).toBe('');
    expect(loopsOf(imgC)).toBe('');
  });
});
