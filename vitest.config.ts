import { defineConfig } from "vitest/config";
import "./tools/build/deps-env.ts"; // the firmware inputs `npm run deps` prepared, inherited by the test workers

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Socket-heavy suites on a 2-core machine: a little parallelism, not a stampede.
    maxWorkers: 2,
  },
});
