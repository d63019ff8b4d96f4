// Issue #14 attack suite: SIGTERM and SIGINT while a read is under way. `scan --image` on an image
// whose CBS.log is 600 MB (real CBS lines repeated), stderr on a pseudo-terminal so the progress
// lines show; the signal is sent to the wufix process when "reading CBS.log" appears. The process
// must end within 2 s with exit code 130, and nothing of the test's image may stay attached: no
// loop device on it (`losetup -j`), none of the mounts seen from its loop devices during the run.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWindowsTree, buildDisk, withMountedNtfs } from '../helpers/winbuilder.js';
import { FIXTURES } from '../helpers/env.js';
import { createHash } from 'node:crypto';
import {
  attackReason,
  ATTACK_CLI,
  startHostCheck,
  copyImage,
  imageDigest,
  loopsOf,
  mountsFrom,
  releaseImage,
  repeatLinesToFile,
  stateEnv,
  ATTACK_SPEC,
  MiB,
  type HostCheck,
} from '../helpers/attack.js';

const reason = attackReason('ntfs-3g', 'mkntfs', 'sgdisk', 'mcopy', 'python3');
if (reason) console.warn(`skipping the signal tests: ${reason}`);

const CBS_BYTES = 600 * 1000 * 1000;

// Runs the command with stderr on a pty (stdout to a file), relays the pty to our stdout, sends the
// signal to the child's pid (not its process group: ntfs-3g children must be cleaned up by wufix,
// not by the terminal) when the pattern shows, and reports, as the last line, JSON with the exit
// status and how long the child took to exit after the signal. Kills it after 15 s.
const PTY_RUN = String.raw`
import json, os, pty, select, signal, subprocess, sys, time
sig = getattr(signal, sys.argv[1]); pattern = sys.argv[2].encode(); outfile = sys.argv[3]; cmd = sys.argv[4:]
m, s = pty.openpty()
with open(outfile, 'wb') as out:
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=s)
os.close(s)
buf = b''; sent = None; killed = False; start = time.monotonic(); exited = None
while True:
    r, _, _ = select.select([m], [], [], 0.02)
    if r:
        try:
            d = os.read(m, 65536)
        except OSError:
            d = b''
        if d:
            buf += d
            sys.stdout.buffer.write(d); sys.stdout.flush()
    if sent is None and pattern in buf:
        os.kill(p.pid, sig); sent = time.monotonic()
    rc = p.poll()
    if rc is not None:
        exited = time.monotonic(); break
    now = time.monotonic()
    if (sent is not None and now - sent > 15) or (sent is None and now - start > 180):
        p.kill(); killed = True; p.wait(); exited = time.monotonic(); rc = p.returncode; break
print('\n' + json.dumps({'pid': p.pid, 'rc': rc, 'sent': sent is not None, 'after_signal_s': None if sent is None else exited - sent, 'killed': killed, 'total_s': exited - start}))
`;

/** The real Windows 7 SP1 CBS.log of ../shared, checked against its MANIFEST (columns path, sha256). */
function realCbsLog(): Buffer {
  const rel = 'cbs/win7sp1-x86-sfc-scannow-unrepairable-plus-sp1-0x80070490-Infinito1977.log';
  const rows = readFileSync(path.join(FIXTURES, 'logs', 'MANIFEST.tsv'), 'utf8')
    .split('\n')
    .map((l) => l.split('\t'));
  const head = rows[0]!;
  const row = rows.find((r) => r[head.indexOf('path')] === rel);
  const bytes = readFileSync(path.join(FIXTURES, 'logs', rel));
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (!row || row[head.indexOf('sha256')] !== sha) throw new Error(`fixture logs/${rel} missing from MANIFEST.tsv or its sha256 ${sha} differs`);
  return bytes;
}

interface PtyResult {
  pid: number;
  rc: number;
  sent: boolean;
  after_signal_s: number | null;
  killed: boolean;
  total_s: number;
  stderr: string;
  loops: string[];
  mounts: string[];
}

function runWithSignal(sig: 'SIGTERM' | 'SIGINT', pattern: string, args: string[], img: string, dir: string, env: NodeJS.ProcessEnv): Promise<PtyResult> {
  const outFile = path.join(dir, 'stdout.txt');
  const child = spawn('/usr/bin/python3', ['-c', PTY_RUN, sig, pattern, outFile, process.execPath, ATTACK_CLI, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const loops = new Set<string>();
  const mounts = new Set<string>();
  const poll = setInterval(() => {
    for (const l of loopsOf(img)) loops.add(l);
    for (const m of mountsFrom([...loops])) mounts.add(m);
  }, 50);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      clearInterval(poll);
      const lines = text.trimEnd().split('\n');
      try {
        const j = JSON.parse(lines[lines.length - 1]!) as Omit<PtyResult, 'stderr' | 'loops' | 'mounts'>;
        resolve({ ...j, stderr: lines.slice(0, -1).join('\n'), loops: [...loops], mounts: [...mounts] });
      } catch (e) {
        reject(new Error(`pty runner output not understood: ${(e as Error).message}\n${text.slice(-2000)}`));
      }
    });
  });
}

describe.skipIf(!!reason)('SIGTERM / SIGINT while scan --image reads a 600 MB CBS.log (issue #14)', () => {
  let tmp = '';
  let base = '';
  let disk: ReturnType<typeof buildDisk>;
  let host: HostCheck;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wufix-attack-signals-'));
    const tree = path.join(tmp, 'tree');
    await buildWindowsTree(tree, ATTACK_SPEC);
    base = path.join(tmp, 'base.img');
    disk = buildDisk(base, tree, { size: 2048 * MiB, recoverySize: 100 * MiB, recoveryFree: 40 * MiB });
    rmSync(tree, { recursive: true, force: true });
    // Real CBS.log lines (Windows 7 SP1, errors included) repeated to 600 MB, written through ntfs-3g.
    const real = realCbsLog()
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .filter((l) => l !== '');
    withMountedNtfs(base, disk.osStart, disk.recStart - disk.osStart, (mnt) =>
      repeatLinesToFile(path.join(mnt, 'Windows', 'Logs', 'CBS', 'CBS.log'), real, CBS_BYTES),
    );
    host = startHostCheck();
  }, 600_000);
  afterAll(() => {
    host?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it.each([{ sig: 'SIGTERM' as const }, { sig: 'SIGINT' as const }])(
    '$sig during "reading CBS.log": ends within 2 s, exit 130, nothing left attached',
    async ({ sig }) => {
      const dir = mkdtempSync(path.join(tmp, 'case-'));
      const img = path.join(dir, 'disk.img');
      try {
        copyImage(base, img);
        const before = imageDigest(img);
        const r = await runWithSignal(sig, 'reading CBS.log', ['scan', '--image', img], img, dir, stateEnv(dir));
        const what = `${sig}: ${JSON.stringify({ ...r, stderr: r.stderr.slice(-1500) })}`;
        expect(r.sent, `the progress line "reading CBS.log" never appeared on the terminal\n${what}`).toBe(true);
        expect.soft(r.killed, `still running 15 s after ${sig}: killed\n${what}`).toBe(false);
        expect.soft(r.after_signal_s, what).toBeLessThan(2);
        expect.soft(r.rc, what).toBe(130);
        expect.soft(loopsOf(img), `loop devices still attached to the image after ${sig}`).toEqual([]);
        const mountedNow = new Set(
          readFileSync('/proc/self/mountinfo', 'utf8')
            .split('\n')
            .map((l) => l.split(' ')[4]),
        );
        expect
          .soft(
            r.mounts.filter((m) => mountedNow.has(m)),
            `mounts of the image's loop devices still there after ${sig}`,
          )
          .toEqual([]);
        expect.soft(r.loops.length, 'the run never attached the image (the read was not under way?)').toBeGreaterThan(0);
        expect.soft(imageDigest(img), 'scan --image changed the image').toBe(before);
        writeFileSync(path.join(dir, 'result.json'), JSON.stringify(r));
      } finally {
        releaseImage(img);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    300_000,
  );

  it('no host file outside the targets changed (find / -xdev -newer)', () => {
    expect(host.report([tmp])).toBeUndefined();
  });
});
