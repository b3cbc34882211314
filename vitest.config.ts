import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Socket-heavy suites on a 2-core machine: a little parallelism, not a stampede.
    maxWorkers: 2,
  },
});
