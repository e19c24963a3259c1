import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ and installs real Renovate once, before the workers start.
    globalSetup: ['test/setup/global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests start local servers and child processes; two workers match the 2-core machines.
    maxWorkers: 2,
  },
});
