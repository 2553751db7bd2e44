import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Each test file gets its own queue prefix and database, so files can run side by side.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
