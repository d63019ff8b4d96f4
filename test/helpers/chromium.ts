// Headless Chromium for the HTML tests: its profile and home in a temp dir that is always removed,
// so nothing of the browser lands in /root/.config or .cache (the host-check tests running beside
// these look for changed host files).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';

/** Runs `chromium --headless ... <args>`; returns its stdout (the test fails on a non-zero exit). */
export function chromium(args: string[]): string {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'wufix-chromium-'));
  try {
    const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${profile}`, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: path.join(profile, 'config'), XDG_CACHE_HOME: path.join(profile, 'cache') },
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM of a page file as Chromium parsed it. */
export const dumpDom = (file: string) => chromium(['--dump-dom', `file://${file}`]);
