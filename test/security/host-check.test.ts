// The host check itself (issue #14's harness): it must see a host file written and closed after
// its marker, and must not blame wufix for a file another live process is still writing (a CI
// harness's log, `.ci/run > out/ci.log`). A check that cannot fail would prove nothing.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { attackReason, startHostCheck, DECOY_PARENT } from '../helpers/attack.js';

const reason = attackReason();
if (reason) console.warn(`skipping the host-check self-test: ${reason}`);

// Under the decoy parent: concurrent suites' host checks exclude it as another run's tree.
const PROBE_DIR = `${DECOY_PARENT}/hostcheck-probe-${process.pid}`;

describe.skipIf(!!reason)('the host check (test harness)', () => {
  it('reports a host file written after the marker, and not a file a live process still writes', async () => {
    const host = startHostCheck();
    // File times tick with the kernel's coarse clock: a write in the marker's tick is not newer.
    await new Promise((r) => setTimeout(r, 50));
    mkdirSync(PROBE_DIR, { recursive: true });
    const writer = spawn('sh', ['-c', `exec 3>>${PROBE_DIR}/held.log; echo one >&3; sleep 30`], { stdio: 'ignore' });
    try {
      writeFileSync(`${PROBE_DIR}/written.txt`, 'changed after the marker\n');
      for (let i = 0; i < 50 && !existsSync(`${PROBE_DIR}/held.log`); i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      const c = host.changed([], [PROBE_DIR]);
      expect(c.changed).toContain(`${PROBE_DIR}/written.txt`);
      expect(c.changed).not.toContain(`${PROBE_DIR}/held.log`);
      expect(c.excluded).toContain(`${PROBE_DIR}/held.log`);
      expect(host.report([], [PROBE_DIR])).toMatch(/written\.txt/);
    } finally {
      writer.kill('SIGKILL');
      rmSync(PROBE_DIR, { recursive: true, force: true });
      host.cleanup();
    }
  }, 60_000);
});
