import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the real bot as child processes, killed, starved of Redis, rate-limited, on the
 * simulators and a real Redis (docs/reliability.md). Slow, so kept out of `npm test`.
 * One file at a time: the files kill and start processes against timers, and two cores are not
 * enough for two of them at once without a living worker looking dead.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
