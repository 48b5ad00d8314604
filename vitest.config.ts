import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // 2-core machines: two workers keep socket tests from starving each other.
    maxWorkers: 2,
    pool: 'forks',
  },
});
