import { defineConfig } from 'vitest/config';

// Test tiers by file suffix: *.unit.spec.ts (pure, no I/O), *.int.spec.ts (real PostgreSQL and
// friends through packages/testing), *.e2e.spec.ts (the started system over HTTP).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/src/**/*.unit.spec.ts', '**/test/**/*.unit.spec.ts'],
          exclude: ['**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'int',
          include: ['**/src/**/*.int.spec.ts', '**/test/**/*.int.spec.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['packages/testing/src/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['**/test/**/*.e2e.spec.ts', '**/src/**/*.e2e.spec.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
