import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { currentTarget } from "./checker/vitest/target.ts";
import { solutionTargetPlugin } from "./checker/vitest/target-plugin.ts";

const root = fileURLToPath(new URL(".", import.meta.url));
const target = currentTarget();
// Mutation testing runs one week's suite alone (Stryker reads this config as it is).
const weekFilter = process.env.KATA_WEEK_FILTER;

// Learner code runs in forks so that a crash, a blocked loop or a runaway heap takes down
// one test file, never the runner. The heap cap keeps an unbounded allocation a failed kata.
// Under Stryker (which runs vitest in worker threads and kills runaway mutants itself) the
// fork-only flags and guards stay off.
const mutating = process.env.KATA_MUTATE === "1";
const courseExecArgv = mutating ? [] : [`--max-old-space-size=${process.env.KATA_HEAP_MB ?? "768"}`];

const course = {
  plugins: target === "solution" ? [solutionTargetPlugin(root)] : [],
  test: {
    name: "course",
    root,
    include: [weekFilter ? `exercises/${weekFilter}/tests/**/*.test.ts` : "exercises/*/tests/**/*.test.ts"],
    benchmark: { include: ["exercises/*/bench/**/*.bench.ts"] },
    pool: "forks" as const,
    execArgv: courseExecArgv,
    testTimeout: 15_000,
    hookTimeout: 20_000,
    setupFiles: mutating ? [] : [
          "checker/vitest/setup-watchdog.ts",
          "checker/vitest/setup-output-cap.ts",
          // After-hooks run in reverse order of registration: the test file's own first, then
          // the exit guard (which drains late timers), then the leak guard, last.
          "checker/vitest/setup-leak-guard.ts",
          "checker/vitest/setup-exit-guard.ts",
        ],
    env: { KATA_TARGET: target },
  },
};

const checker = {
  test: {
    name: "checker",
    root,
    include: ["checker/tests/**/*.test.ts"],
    // Hostile submissions and fixture courses are run by the tests, not as tests.
    exclude: ["checker/tests/hostile/**", "checker/tests/fixtures/**", "**/node_modules/**"],
    pool: "forks" as const,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
};

export default defineConfig({
  test: {
    teardownTimeout: 5_000,
    // Vitest defaults to cores - 1, a single fork on a 2-core machine; most kata tests wait on
    // Redis, Postgres or sockets, so two files at a time use the machine better.
    maxWorkers: Number(process.env.KATA_MAX_WORKERS ?? 2),
    projects: weekFilter ? [course] : [course, checker],
  },
});
