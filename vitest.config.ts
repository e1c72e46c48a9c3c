import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report lets .ci/run print one "N passed, N failed" line.
    reporters: ["default", ["json", { outputFile: "node_modules/.cache/vitest-results.json" }]]
  }
})
