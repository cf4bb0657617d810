import { defineConfig } from 'vitest/config';

const shared = {
  exclude: ['node_modules/**', 'data/**'],
  pool: 'forks' as const,
  testTimeout: 30_000,
  hookTimeout: 30_000,
};

// Two projects: `npm test` runs both; `npm run test:fast` only the first, for the edit loop.
export default defineConfig({
  test: {
    projects: [
      {
        // Unit and in-process HTTP tests: no browser, no server processes, no kills.
        test: {
          ...shared,
          name: 'fast',
          include: ['**/*.test.ts'],
          exclude: [...shared.exclude, 'test/e2e/**'],
        },
      },
      {
        // Real server processes, SIGKILL, headless Chromium.
        test: { ...shared, name: 'e2e', include: ['test/e2e/**/*.test.ts'] },
      },
    ],
  },
});
