import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // A temp WUFIX_STATE_DIR per test file: no test writes the host's ~/.local/state (journal key, ledger).
    setupFiles: ['./test/helpers/state-dir.ts'],
  },
});
