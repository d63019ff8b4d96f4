import { defineConfig } from 'vitest/config';

// Two tiers (docs/architecture.md): `unit` is the pure tests beside the code (src/**/*.test.ts: no
// root, no apt tool, no build; ../shared fixtures allowed), `make test-fast` runs it in seconds;
// `integration` is test/**/*.test.ts (real tools, images, the built CLI). `make test` runs both.
const shared = {
  testTimeout: 120_000,
  hookTimeout: 120_000,
  pool: 'forks' as const,
  // A temp WUFIX_STATE_DIR per test file: no test writes the host's ~/.local/state (journal key, ledger).
  setupFiles: ['./test/helpers/state-dir.ts'],
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ['src/**/*.test.ts'] } },
      { test: { ...shared, name: 'integration', include: ['test/**/*.test.ts'] } },
    ],
  },
});
