import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Process-killing and Redis-restarting tests run on their own: `npm run test:faults`.
    exclude: ['test/faults/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start servers on ephemeral ports and use unique Redis prefixes,
    // so files can run in parallel; two cores, two forks.
    pool: 'forks',
    maxWorkers: 2,
  },
});
