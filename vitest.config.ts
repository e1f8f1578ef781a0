import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { currentTarget } from "./checker/vitest/target.ts";
import { solutionTargetPlugin } from "./checker/vitest/target-plugin.ts";

const root = fileURLToPath(new URL(".", import.meta.url));
const target = currentTarget();

// Learner code runs in forks so that a crash, a blocked loop or a runaway heap takes down
// one test file, never the runner. The heap cap keeps an unbounded allocation a failed kata.
const courseExecArgv = [`--max-old-space-size=${process.env.KATA_HEAP_MB ?? "768"}`];

export default defineConfig({
  test: {
    silent: process.env.KATA_SILENT === "1",
    projects: [
      {
        plugins: target === "solution" ? [solutionTargetPlugin(root)] : [],
        test: {
          name: "course",
          root,
          include: ["exercises/*/tests/**/*.test.ts"],
          benchmark: { include: ["exercises/*/bench/**/*.bench.ts"] },
          pool: "forks",
          execArgv: courseExecArgv,
          testTimeout: 15_000,
          hookTimeout: 20_000,
          teardownTimeout: 5_000,
          setupFiles: ["checker/vitest/setup-watchdog.ts", "checker/vitest/setup-exit-guard.ts"],
          env: { KATA_TARGET: target },
        },
      },
      {
        test: {
          name: "checker",
          root,
          include: ["checker/tests/**/*.test.ts"],
          pool: "forks",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
