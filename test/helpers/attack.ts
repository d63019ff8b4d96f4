// The attack suite's harness (issue #14): a decoy tree of host-looking files outside /tmp and /work
// (what every link, device node and path trick points at), fingerprints that also cover links,
// device nodes and FIFOs (without ever opening them), a whole-host `find -newer` check, the built
// CLI run with a hang bound, a memory watchdog and raw byte output, the Windows places wufix reads
// and writes, and clean-up of the loop devices and mounts of the test's own images only.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from './cli.js';
import { IN_CI, sharedReason, toolsReason, skipReason, hiveFixture } from './env.js';
import { openHiveFile, saveHiveFile } from '../../src/hive/hivefile.js';
import { WINTRUST_KEY, type InstallSpec } from './winbuilder.js';

export const MiB = 1024 * 1024;

/** Skip reason for the attack suite: root, the fixtures, the tools, the built CLI (fails under CI=true). */
export function attackReason(...tools: string[]): string | undefined {
  const notRoot = process.getuid?.() !== 0 ? 'the attack suite needs root (mknod, loop devices, ntfs-3g)' : undefined;
  if (notRoot && IN_CI) throw new Error(`CI=true: required prerequisite missing: ${notRoot}`);
  const noCli = !existsSync(process.env.WUFIX_ATTACK_CLI ?? CLI) ? `${process.env.WUFIX_ATTACK_CLI ?? CLI} is missing: run \`npm run build\` first` : undefined;
  if (noCli && IN_CI) throw new Error(`CI=true: required prerequisite missing: ${noCli}`);
  return skipReason(notRoot, noCli, sharedReason(), toolsReason('losetup', 'mknod', 'mkfifo', 'blockdev', 'find', ...tools));
}

// ---------------------------------------------------------------------------------------------
// Fingerprints that never open anything but regular files

export interface FpOptions {
  /** Also record directories' inode and mtime (decoys: a file created or removed inside shows). */
  dirMeta?: boolean;
}

/** rel path -> description: regular files by sha256+size+mtime+inode, links by target, devices by rdev. */
export function fingerprint(root: string, opts: FpOptions = {}): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (p: string, rel: string) => {
    const st = lstatSync(p, { bigint: true });
    const meta = `ino=${st.ino} mtime=${st.mtimeNs} mode=${st.mode.toString(8)}`;
    if (st.isSymbolicLink()) out.set(rel, `link -> ${readlinkSync(p)} ${meta}`);
    else if (st.isDirectory()) {
      out.set(rel + '/', opts.dirMeta ? `dir ${meta}` : `dir mode=${st.mode.toString(8)}`);
      for (const n of readdirSync(p).sort()) visit(path.join(p, n), rel ? `${rel}/${n}` : n);
    } else if (st.isFile()) out.set(rel, `file sha256=${sha256File(p)} size=${st.size} ${meta}`);
    else if (st.isBlockDevice()) out.set(rel, `blockdev ${st.rdev} ${meta}`);
    else if (st.isCharacterDevice()) out.set(rel, `chardev ${st.rdev} ${meta}`);
    else if (st.isFIFO()) out.set(rel, `fifo ${meta}`);
    else out.set(rel, `other ${meta}`);
  };
  visit(root, '');
  return out;
}

export function fpDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '(absent)'} => ${b.get(k) ?? '(absent)'}`);
}

export function sha256File(p: string): string {
  const h = createHash('sha256');
  const fd = openSync(p, 'r');
  try {
    const buf = Buffer.alloc(4 * MiB);
    let pos = 0;
    for (;;) {
      const n = execReadSync(fd, buf, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}
const execReadSync = (fd: number, buf: Buffer, pos: number) => readSync(fd, buf, 0, buf.length, pos);

// ---------------------------------------------------------------------------------------------
// Decoys

/** Where every decoy tree lives: a persistent parent outside /tmp and /work (never removed, so
 * concurrent runs creating their own trees do not make each other's host check fail). */
export const DECOY_PARENT = '/var/lib/wufix-decoys';

export interface Decoys {
  dir: string;
  /** Decoy files by name (absolute paths). */
  files: {
    authorizedKeys: string;
    idRsa: string;
    passwd: string;
    diskImg: string;
    /** A real user hive with WinTrust State 0xC9: what a followed folder link would make wufix repair. */
    profileHive: string;
    profileLog1: string;
    /** A CBS.log with an error line carrying the marker (what a followed log link would report). */
    cbsLog: string;
    /** A ReAgent.xml whose WinreLocation path carries the marker. */
    reagent: string;
  };
  /** Decoy folders (absolute paths). */
  dirs: { ssh: string; etc: string; profile: string; logs: string };
  /** Every marker string; none may ever appear in wufix's output. */
  markers: string[];
  /** The decoy loop device attached (read-write) to disk.img, and its device numbers. */
  loop: { dev: string; major: number; minor: number };
  snapshot(): Map<string, string>;
  /** Differences against `before` (flushes the decoy loop device first). */
  changes(before: Map<string, string>): string[];
  /** Markers found in the given outputs. */
  leaked(...outputs: (string | Buffer)[]): string[];
  /** Put every decoy back as it was made (after an attack changed one), so the next case faces pristine decoys. */
  reset(): void;
  cleanup(): void;
}

export async function makeDecoys(): Promise<Decoys> {
  mkdirSync(DECOY_PARENT, { recursive: true });
  const dir = path.join(DECOY_PARENT, `wufix-decoy-${process.pid}-${randomBytes(4).toString('hex')}`);
  const token = randomBytes(6).toString('hex');
  const markers: string[] = [];
  const mark = (name: string) => {
    const m = `WUFIXDECOYMARK${token}${name.toUpperCase()}`;
    markers.push(m);
    return m;
  };
  const put = (rel: string, data: string | Uint8Array) => {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, data);
    return p;
  };
  const files = {
    authorizedKeys: put('home/.ssh/authorized_keys', `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${mark('authkeys')} admin@lab\n`),
    idRsa: put('home/.ssh/id_rsa', `-----BEGIN OPENSSH PRIVATE KEY-----\n${mark('idrsa')}\n-----END OPENSSH PRIVATE KEY-----\n`),
    passwd: put('etc/passwd', `root:x:0:0:${mark('passwd')}:/root:/bin/bash\n`),
    diskImg: '',
    profileHive: '',
    profileLog1: put('profile/NTUSER.DAT.LOG1', `${mark('log1')}\n`.repeat(64)),
    cbsLog: put(
      'logs/CBS.log',
      `2024-01-10 03:12:40, Error                 CBS    Failed to execute execution package: Package_for_KB5034441_${mark('cbs')}~31bf3856ad364e35~amd64~~10.0.1.0 [HRESULT = 0x80070643]\r\n`,
    ),
    reagent: put(
      'logs/ReAgent.xml',
      `<?xml version='1.0' encoding='utf-8'?>\r\n<WindowsRE version="2.0"><WinreLocation path="\\Recovery\\${mark('reagent')}" id="0" offset="1048576" guid="{00000000-0000-0000-0000-000000000000}"/><InstallState state="1"/></WindowsRE>\r\n`,
    ),
  };
  // disk.img: 4 MiB with the marker every 64 KiB (a read through the block device would show it).
  const diskMark = Buffer.from(mark('diskimg'));
  const disk = Buffer.alloc(4 * MiB, 0x5a);
  for (let off = 0; off + diskMark.length <= disk.length; off += 64 * 1024) diskMark.copy(disk, off);
  files.diskImg = put('disk.img', disk);
  // A real hive (regipy NTUSER.DAT) with the WinTrust State a repair would change.
  files.profileHive = path.join(dir, 'profile', 'NTUSER.DAT');
  copyFileSync(hiveFixture('regipy/NTUSER.DAT'), files.profileHive);
  const h = await openHiveFile(files.profileHive);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, 0xc9, true);
  h.hive.setValue(h.hive.ensureKey(WINTRUST_KEY), 'State', 4, b);
  await saveHiveFile(h);
  // Old mtimes: a write shows up even on a coarse clock.
  const old = new Date(Date.now() - 86_400_000);
  for (const f of Object.values(files)) utimesSync(f, old, old);
  const dirs = { ssh: path.join(dir, 'home', '.ssh'), etc: path.join(dir, 'etc'), profile: path.join(dir, 'profile'), logs: path.join(dir, 'logs') };
  // The pristine bytes of every decoy file, for reset().
  const pristine = new Map<string, Buffer>();
  const keep = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = path.join(d, n);
      if (lstatSync(p).isDirectory()) keep(p);
      else pristine.set(path.relative(dir, p), readFileSync(p));
    }
  };
  keep(dir);
  const attach = () => {
    const dev = execFileSync('losetup', ['--find', '--show', files.diskImg], { encoding: 'utf8' }).trim();
    const [major, minor] = readFileSync(`/sys/class/block/${path.basename(dev)}/dev`, 'utf8')
      .trim()
      .split(':')
      .map(Number) as [number, number];
    return { dev, major, minor };
  };
  const loop = attach();
  const diskIno = lstatSync(files.diskImg).ino;
  const snapshot = () => fingerprint(dir, { dirMeta: true });
  const pristineSnap = snapshot();
  const flush = () => spawnSync('blockdev', ['--flushbufs', loop.dev]);
  return {
    dir,
    files,
    dirs,
    markers,
    loop,
    snapshot,
    changes(before) {
      flush();
      return fpDiff(before, snapshot());
    },
    reset() {
      flush();
      if (fpDiff(pristineSnap, snapshot()).length === 0) return;
      const diskOk = existsSync(files.diskImg) && lstatSync(files.diskImg).ino === diskIno && lstatSync(files.diskImg).isFile();
      for (const n of readdirSync(dir)) if (!(diskOk && n === 'disk.img')) rmSync(path.join(dir, n), { recursive: true, force: true });
      for (const [rel, bytes] of pristine) {
        const p = path.join(dir, rel);
        mkdirSync(path.dirname(p), { recursive: true });
        if (rel === 'disk.img' && diskOk) {
          const fd = openSync(p, 'r+');
          try {
            writeSync(fd, bytes, 0, bytes.length, 0);
          } finally {
            closeSync(fd);
          }
        } else writeFileSync(p, bytes);
        utimesSync(p, old, old);
      }
      if (!diskOk) {
        // The loop device still holds the old inode: re-attach it (device numbers may change).
        spawnSync('losetup', ['--detach', loop.dev]);
        Object.assign(loop, attach());
      }
    },
    leaked(...outputs) {
      const all = outputs.map((o) => (typeof o === 'string' ? o : o.toString('latin1'))).join('\n');
      return markers.filter((m) => all.includes(m));
    },
    cleanup() {
      spawnSync('losetup', ['--detach', loop.dev]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The host check: nothing outside the test's own places changed since the marker

export const HOST_EXCLUDES = [
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/tmp',
  '/var/tmp',
  '/work',
  '/root/.npm',
  '/root/.cache',
  '/var/log',
  '/var/cache',
  '/var/lib/apt',
  '/var/lib/dpkg',
];

/**
 * Regular files other live processes hold open for writing: a CI harness writing its log
 * (`.ci/run > out/ci.log`, or a `tee` beside it), npm's debug log, a shell's job output. They
 * change while the tests run, and not because of wufix: the check runs after every wufix process
 * has exited, so no file listed here is one wufix has open. The decoys wufix's attacks aim at are
 * checked by their hashes regardless.
 */
function heldOpenForWriting(): string[] {
  const files = new Set<string>();
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const t = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (!t.startsWith('/') || t.startsWith('/proc/') || t.startsWith('/dev/')) continue;
        const flags = Number.parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
        if ((flags & 3) !== 0 && statSync(t).isFile()) files.add(t);
      } catch {
        /* gone, or not ours to read */
      }
    }
  }
  return [...files];
}

export interface HostCheck {
  marker: string;
  /** Paths on the root file system newer than the marker, outside the exclusions and `own` dirs. */
  changed(own: string[], watched?: string[]): { changed: string[]; excluded: string[] };
  /** A failure message listing what changed and the exclusions, or undefined. */
  report(own: string[], watched?: string[]): string | undefined;
  cleanup(): void;
}

export function startHostCheck(): HostCheck {
  const mdir = mkdtempSync(path.join(os.tmpdir(), 'wufix-hostmark-'));
  const marker = path.join(mdir, 'marker');
  writeFileSync(marker, 'host check marker\n');
  // `watched`: entries of DECOY_PARENT that are this caller's and are checked, not excluded (the
  // harness self-test's probe lives there so that concurrent suites' checks exclude it).
  const changed = (own: string[], watched: string[] = []) => {
    // Other runs' decoy trees (concurrent tests) are theirs.
    const others = existsSync(DECOY_PARENT)
      ? readdirSync(DECOY_PARENT)
          .map((n) => path.join(DECOY_PARENT, n))
          .filter((p) => !own.some((o) => o === p) && !watched.includes(p))
      : [];
    // Our own decoy tree is excluded too: its integrity is checked by its hashes (and reset() rewrites it).
    const excluded = [...HOST_EXCLUDES, ...own, ...others, ...heldOpenForWriting()];
    const prune: string[] = [];
    excluded.forEach((p, i) => prune.push(...(i ? ['-o'] : []), '-path', p));
    const r = spawnSync('find', ['/', '-xdev', '(', ...prune, ')', '-prune', '-o', '-newer', marker, '!', '-path', DECOY_PARENT, '-print'], {
      encoding: 'utf8',
      maxBuffer: 64 * MiB,
    });
    const list = (r.stdout ?? '').split('\n').filter((l) => l !== '');
    return { changed: list, excluded: [...excluded, `${DECOY_PARENT} (the directory entry itself)`] };
  };
  return {
    marker,
    changed,
    report(own, watched) {
      const c = changed(own, watched);
      if (c.changed.length === 0) return undefined;
      return `host files changed outside the target (find / -xdev -newer ${marker}):\n  ${c.changed.slice(0, 50).join('\n  ')}${c.changed.length > 50 ? `\n  ... ${c.changed.length - 50} more` : ''}\nexcluded: ${c.excluded.join(', ')}`;
    },
    cleanup: () => rmSync(mdir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// Running the CLI under a hang bound and a memory watchdog

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  ms: number;
  /** Peak resident set (VmHWM) seen while it ran, in MiB. */
  peakMiB: number;
  /** Why the harness killed it (hang, memory, output), or undefined. */
  killed?: string;
  /** Loop devices attached to `watchImage` seen while it ran, and mount points of them. */
  loops: string[];
  mounts: string[];
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Hang bound (default 60 s): past it the process is killed and `killed` says so. */
  timeoutMs?: number;
  /** Resident-set bound (default 1536 MiB): a memory blow-up is killed before it hurts the host. */
  rssLimitMiB?: number;
  /** Output bound (default 64 MiB per stream). */
  maxOutput?: number;
  /** Record the loop devices attached to this image (and their mounts) while it runs. */
  watchImage?: string;
}

function procStatusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** `losetup -j image`: the loop devices attached to this file (only ours). */
export function loopsOf(image: string): string[] {
  const r = spawnSync('losetup', ['-j', image], { encoding: 'utf8' });
  return (r.stdout ?? '')
    .split('\n')
    .map((l) => /^(\/dev\/loop\d+):/.exec(l)?.[1])
    .filter((x): x is string => !!x);
}

/** Mount points (from /proc/self/mountinfo) whose source is one of these devices. */
export function mountsFrom(devs: string[]): string[] {
  if (devs.length === 0) return [];
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    const source = f[sep + 2];
    if (source && devs.includes(source)) out.push(f[4]!.replace(/\\040/g, ' '));
  }
  return out;
}

/** Unmount and detach whatever is still attached to the test's own image (finally blocks). */
export function releaseImage(image: string): string[] {
  const left: string[] = [];
  for (let i = 0; i < 3; i++) {
    const loops = loopsOf(image);
    const mounts = mountsFrom(loops);
    if (!loops.length && !mounts.length) break;
    for (const m of mounts) {
      left.push(`mount ${m}`);
      spawnSync('umount', [m]);
      if (mountsFrom(loops).includes(m)) spawnSync('umount', ['-l', m]);
    }
    for (const l of loops) {
      left.push(`loop ${l}`);
      spawnSync('losetup', ['--detach', l]);
    }
  }
  return [...new Set(left)];
}

/** The CLI under attack: dist/wufix.js, or WUFIX_ATTACK_CLI (to show the suite fails on an older build). */
export const ATTACK_CLI = process.env.WUFIX_ATTACK_CLI ?? CLI;

export function runWufix(args: string[], o: RunOptions = {}): Promise<RunResult> {
  const cli = ATTACK_CLI;
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const timeoutMs = o.timeoutMs ?? 60_000;
  const rssLimit = (o.rssLimitMiB ?? 1536) * 1024;
  const maxOutput = o.maxOutput ?? 64 * MiB;
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outLen = 0;
  let errLen = 0;
  let killed: string | undefined;
  let peak = 0;
  const loops = new Set<string>();
  const mounts = new Set<string>();
  const kill = (why: string) => {
    if (killed) return;
    killed = why;
    child.kill('SIGKILL');
  };
  child.stdout.on('data', (d: Buffer) => {
    outLen += d.length;
    if (outLen <= maxOutput) out.push(d);
    else kill(`stdout beyond ${maxOutput} bytes`);
  });
  child.stderr.on('data', (d: Buffer) => {
    errLen += d.length;
    if (errLen <= maxOutput) err.push(d);
    else kill(`stderr beyond ${maxOutput} bytes`);
  });
  const poll = setInterval(() => {
    const pid = child.pid;
    if (!pid) return;
    peak = Math.max(peak, procStatusKb(pid, 'VmHWM'));
    if (procStatusKb(pid, 'VmRSS') > rssLimit) kill(`resident memory beyond ${rssLimit / 1024} MiB`);
    if (performance.now() - t0 > timeoutMs) kill(`no exit within ${timeoutMs / 1000} s (hang bound)`);
    if (o.watchImage) {
      const l = loopsOf(o.watchImage);
      for (const d of l) loops.add(d);
      for (const m of mountsFrom([...loops])) mounts.add(m);
    }
  }, 50);
  return new Promise((resolve, reject) => {
    child.on('error', (e) => {
      clearInterval(poll);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearInterval(poll);
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err),
        ms: performance.now() - t0,
        peakMiB: Math.round(peak / 1024),
        killed,
        loops: [...loops],
        mounts: [...mounts],
      });
    });
  });
}

/** A one-paragraph description of a run for assertion messages. */
export function describeRun(r: RunResult, what = ''): string {
  const tail = (b: Buffer) => {
    const s = b.toString('utf8');
    return JSON.stringify(s.length > 1500 ? `...${s.slice(-1500)}` : s);
  };
  return `${what}exit ${r.status}${r.signal ? ` (signal ${r.signal})` : ''} after ${(r.ms / 1000).toFixed(1)} s, peak ${r.peakMiB} MiB${r.killed ? `, KILLED by the harness: ${r.killed}` : ''}\n  stderr: ${tail(r.stderr)}\n  stdout: ${tail(r.stdout)}`;
}

/** A fresh state directory for WUFIX_STATE_DIR (keys, settings kept outside the target). */
export function stateEnv(parent: string): NodeJS.ProcessEnv {
  const d = mkdtempSync(path.join(parent, 'state-'));
  return { WUFIX_STATE_DIR: d, NO_COLOR: '1' };
}

// ---------------------------------------------------------------------------------------------
// What the output must say about a link or a special file

export const hostPath = (root: string, rel: string) => path.join(root, ...rel.split('\\'));

/** Lines of text naming `rel` (backslashes, case-insensitive) and calling it a link / not a regular file. */
export function linesNaming(lines: string[], rel: string, opts: { linkTarget?: string } = {}): string[] {
  const r = rel.toLowerCase();
  return lines.filter((l) => {
    const x = l.toLowerCase();
    if (!x.includes(r)) return false;
    if (opts.linkTarget !== undefined) return /link|junction|reparse/.test(x) && l.includes(opts.linkTarget);
    return /link|junction|reparse|not a regular file|special file|device|fifo|named pipe/.test(x);
  });
}

export function jsonProblems(stdout: Buffer): { problems: string[]; error?: string } {
  try {
    const j = JSON.parse(stdout.toString('utf8')) as { targets?: { problems?: string[]; findings?: unknown[] }[] };
    const problems = (j.targets ?? []).flatMap((t) => t.problems ?? []);
    if (!j.targets?.length) return { problems, error: 'the --json report has no target' };
    return { problems };
  } catch (e) {
    return { problems: [], error: `stdout is not JSON: ${(e as Error).message}` };
  }
}

/** Raw terminal-control bytes (ESC, BEL, C1 CSI) in an output. */
export function controlBytes(b: Buffer): string[] {
  const found: string[] = [];
  for (const [byte, name] of [
    [0x1b, 'ESC 0x1b'],
    [0x07, 'BEL 0x07'],
    [0x9b, 'CSI 0x9b'],
  ] as const) {
    const i = b.indexOf(byte);
    if (i >= 0) found.push(`${name} at byte ${i}: ${JSON.stringify(b.subarray(Math.max(0, i - 40), i + 20).toString('latin1'))}`);
  }
  return found;
}

/** The refusal the spec asks for: exit 3 and exactly one stderr line `wufix: refused: ...` naming rel. */
export function refusalProblems(r: RunResult, rel: string): string[] {
  const p: string[] = [];
  if (r.status !== 3) p.push(`exit ${r.status}, expected 3 (refused)`);
  const lines = r.stderr
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const ref = lines.filter((l) => l.startsWith('wufix: refused:'));
  if (ref.length !== 1) p.push(`expected one "wufix: refused:" line on stderr, found ${ref.length}`);
  else if (!ref[0]!.toLowerCase().includes(rel.toLowerCase())) p.push(`the refusal does not name ${rel}: ${ref[0]}`);
  if (lines.length !== 1) p.push(`stderr has ${lines.length} lines, expected one`);
  return p;
}

// ---------------------------------------------------------------------------------------------
// The places and the tree

export const ALICE_SID = 'S-1-5-21-3623811015-3361044348-30300820-1001';
export const SETUP_LOG = 'dd_dotnet_framework_4.8_20240110031240.txt';

/** One Windows tree where every place is present and every repair has something to do. */
export const ATTACK_SPEC: InstallSpec = {
  productName: 'Windows 10 Pro',
  editionId: 'Professional',
  installationType: 'Client',
  currentBuild: 19045,
  ubr: 3930,
  displayVersion: '22H2',
  serviceStart: { wuauserv: 4 },
  wintrust: { default: 0xc9, user: 0xc9 },
  pending: { rebootPending: true, pendingXml: true, components: true },
  reportingEvents: [
    {
      time: '2024-01-09 21:14:02',
      kb: 'KB5034441',
      code: '80070643',
      title: '2024-01 Security Update for Windows 10 Version 22H2 for x64-based Systems (KB5034441)',
    },
    {
      time: '2024-01-10 21:15:40',
      kb: 'KB5034765',
      code: '80240034',
      title: '2024-02 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5034765)',
    },
  ],
  windowsUpdateLog: [
    {
      time: '2024-01-11 03:04:11',
      kb: 'KB5034765',
      code: '8024a10a',
      title: '2024-02 Cumulative Update for Windows 10 Version 22H2 for x64-based Systems (KB5034765)',
    },
  ],
  cbs: [{ time: '2024-01-10 03:12:40', kb: 'KB5034441', code: '80070643', title: '' }],
  setupLog: {
    name: SETUP_LOG,
    lines: [
      '[0A3C:0B10][2024-01-10T03:12:40]i001: Burn v3.10.4.4718, Windows v10.0 (Build 19045: Service Pack 0), path: C:\\Windows\\Temp\\{8C3A1E2B}\\.be\\ndp48-x86-x64-allos-enu.exe',
      '[0A3C:0B10][2024-01-10T03:12:52]e000: Error 0x800b010b: Failed to verify signature of payload: NetFx48',
      'Final Result: Installation failed with error code: (0x80070643), "Fatal error during installation" (Elapsed time: 0 00:00:12).',
    ],
  },
  systemEvtx: true,
  caches: true,
};

export type Kind = 'file' | 'dir';
export type DecoyFile = keyof Decoys['files'];
export type DecoyDir = keyof Decoys['dirs'];

export interface Place {
  rel: string;
  kind: Kind;
  /** For a file place, the decoy a file link points at; for a folder place, the folder link's decoy. */
  file: DecoyFile;
  dir: DecoyDir;
  /** The repair that needs this place (refuse), or one that does not (may proceed). */
  repair: { only: string; needs: boolean };
  /** The same with --image (the journal goes beside the image; winre works there). */
  imageRepair?: { only: string; needs: boolean };
}

export const PLACES: Place[] = [
  { rel: 'Windows\\System32\\config\\SOFTWARE', kind: 'file', file: 'profileHive', dir: 'ssh', repair: { only: 'pending', needs: true } },
  { rel: 'Windows\\System32\\config\\SYSTEM', kind: 'file', file: 'profileHive', dir: 'ssh', repair: { only: 'services', needs: true } },
  { rel: 'Users\\Alice\\NTUSER.DAT', kind: 'file', file: 'profileHive', dir: 'ssh', repair: { only: 'wintrust', needs: true } },
  { rel: 'Users\\Alice\\NTUSER.DAT.LOG1', kind: 'file', file: 'authorizedKeys', dir: 'ssh', repair: { only: 'wintrust', needs: true } },
  { rel: 'Users\\Alice\\NTUSER.DAT.LOG2', kind: 'file', file: 'idRsa', dir: 'ssh', repair: { only: 'wintrust', needs: true } },
  { rel: 'Users\\Alice', kind: 'dir', file: 'passwd', dir: 'profile', repair: { only: 'wintrust', needs: true } },
  { rel: 'Windows\\SoftwareDistribution', kind: 'dir', file: 'passwd', dir: 'logs', repair: { only: 'wu-cache', needs: true } },
  { rel: 'Windows\\SoftwareDistribution\\ReportingEvents.log', kind: 'file', file: 'cbsLog', dir: 'ssh', repair: { only: 'wu-cache', needs: true } },
  { rel: 'Windows\\System32\\catroot2', kind: 'dir', file: 'passwd', dir: 'ssh', repair: { only: 'wu-cache', needs: true } },
  { rel: 'Windows\\System32\\config', kind: 'dir', file: 'passwd', dir: 'profile', repair: { only: 'wintrust', needs: true } },
  { rel: 'Windows\\Logs\\CBS\\CBS.log', kind: 'file', file: 'cbsLog', dir: 'ssh', repair: { only: 'wintrust', needs: false } },
  { rel: 'Windows\\WindowsUpdate.log', kind: 'file', file: 'cbsLog', dir: 'ssh', repair: { only: 'wintrust', needs: false } },
  { rel: `Windows\\Temp\\${SETUP_LOG}`, kind: 'file', file: 'passwd', dir: 'ssh', repair: { only: 'wintrust', needs: false } },
  { rel: 'Windows\\System32\\winevt\\Logs\\System.evtx', kind: 'file', file: 'diskImg', dir: 'ssh', repair: { only: 'wintrust', needs: false } },
  {
    rel: 'Windows\\System32\\Recovery',
    kind: 'dir',
    file: 'passwd',
    dir: 'logs',
    repair: { only: 'wintrust', needs: false },
    imageRepair: { only: 'winre', needs: true },
  },
  {
    rel: 'Windows\\System32\\Recovery\\ReAgent.xml',
    kind: 'file',
    file: 'reagent',
    dir: 'ssh',
    repair: { only: 'wintrust', needs: false },
    imageRepair: { only: 'winre', needs: true },
  },
  { rel: 'Windows\\System32\\drivers\\etc\\hosts', kind: 'file', file: 'passwd', dir: 'ssh', repair: { only: 'wu-hosts', needs: true } },
  // The journal folder on the volume: with --root every --yes run writes there; with --image the
  // journal goes beside the image, so the repair may proceed.
  { rel: 'wufix', kind: 'dir', file: 'passwd', dir: 'ssh', repair: { only: 'wintrust', needs: true }, imageRepair: { only: 'wintrust', needs: false } },
];

/** The read paths where device nodes and FIFOs are planted. */
export const SPECIAL_PATHS = [
  'Users\\Alice\\NTUSER.DAT',
  'Users\\Alice\\NTUSER.DAT.LOG1',
  'Windows\\Logs\\CBS\\CBS.log',
  `Windows\\Temp\\${SETUP_LOG}`,
  'Windows\\System32\\winevt\\Logs\\System.evtx',
  'Windows\\System32\\Recovery\\ReAgent.xml',
  'Windows\\System32\\drivers\\etc\\hosts',
];

export type SpecialKind = 'blockdev' | 'zero' | 'urandom' | 'fifo';
export const SPECIAL_KINDS: SpecialKind[] = ['blockdev', 'zero', 'urandom', 'fifo'];

/** Replace whatever is at rel (file or folder) by a symbolic link to target (made by the caller's file system: host or ntfs-3g). */
export function plantLink(root: string, rel: string, target: string): void {
  const p = hostPath(root, rel);
  rmSync(p, { recursive: true, force: true });
  mkdirSync(path.dirname(p), { recursive: true });
  symlinkSync(target, p);
}

/** Replace what is at rel by a device node or FIFO (mknod/mkfifo: through ntfs-3g they become Interix objects). */
export function plantSpecial(root: string, rel: string, kind: SpecialKind, decoys: Decoys): void {
  const p = hostPath(root, rel);
  rmSync(p, { recursive: true, force: true });
  mkdirSync(path.dirname(p), { recursive: true });
  if (kind === 'fifo') execFileSync('mkfifo', [p]);
  else if (kind === 'blockdev') execFileSync('mknod', [p, 'b', String(decoys.loop.major), String(decoys.loop.minor)]);
  else execFileSync('mknod', [p, 'c', '1', kind === 'zero' ? '5' : '9']);
}

/** What lstat says is at rel now (to check a link or node is still in place, untouched). */
export function whatIsAt(root: string, rel: string): string {
  try {
    const st = lstatSync(hostPath(root, rel), { bigint: true });
    if (st.isSymbolicLink()) return `link -> ${readlinkSync(hostPath(root, rel))} ino=${st.ino}`;
    if (st.isBlockDevice()) return `blockdev ${st.rdev} ino=${st.ino}`;
    if (st.isCharacterDevice()) return `chardev ${st.rdev} ino=${st.ino}`;
    if (st.isFIFO()) return `fifo ino=${st.ino}`;
    return st.isDirectory() ? 'dir' : 'file';
  } catch {
    return 'absent';
  }
}

/** cp -a of a tree (links, device nodes and FIFOs copied as themselves). */
export function copyTree(from: string, to: string): void {
  execFileSync('cp', ['-a', `${from}/.`, to]);
}

/** A sparse copy of an image. */
export function copyImage(from: string, to: string): void {
  execFileSync('cp', ['--sparse=always', from, to]);
}

/** Write a big file from real lines repeated (no allocation of the whole thing). */
export function repeatLinesToFile(file: string, lines: string[], bytes: number): void {
  const chunk = Buffer.from(lines.join('\r\n') + '\r\n');
  const block = Buffer.concat(Array.from({ length: Math.max(1, Math.floor((4 * MiB) / chunk.length)) }, () => chunk));
  const fd = openSync(file, 'w');
  try {
    for (let done = 0; done < bytes; done += block.length) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

// A byte-for-byte digest of a sparse image that reads only its data extents (SEEK_DATA/SEEK_HOLE):
// the extent map plus the bytes in it. Any write changes it (a write into a hole adds an extent).
const SPARSE_DIGEST_PY = `
import hashlib, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
h = hashlib.sha256()
pos = 0
while pos < size:
    try:
        start = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        break
    end = os.lseek(fd, start, os.SEEK_HOLE)
    h.update(b'extent %d %d\\n' % (start, end))
    os.lseek(fd, start, os.SEEK_SET)
    left = end - start
    while left > 0:
        b = os.read(fd, min(left, 8 << 20))
        if not b:
            break
        h.update(b)
        left -= len(b)
    pos = end
print(h.hexdigest(), size)
`;

export function imageDigest(file: string): string {
  return execFileSync('/usr/bin/python3', ['-c', SPARSE_DIGEST_PY, file], { encoding: 'utf8' }).trim();
}
