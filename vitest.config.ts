import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { integrityPlugin } from "./checker/vitest/integrity-plugin.ts";
import { kataPool } from "./checker/vitest/kata-pool.ts";
import { numberSetting, poolSettings, setting } from "./checker/vitest/settings.ts";
import { currentTarget } from "./checker/vitest/target.ts";
import { solutionTargetPlugin } from "./checker/vitest/target-plugin.ts";

const root = fileURLToPath(new URL(".", import.meta.url));
const target = currentTarget();
// Mutation testing runs one week's suite alone (Stryker reads this config as it is).
const weekFilter = setting("KATA_WEEK_FILTER");
// ...or one kata's test files (mutation testing of one kata).
const testFiles = setting("KATA_TEST_FILES")?.split(",").filter(Boolean);
// `npm run bench` runs the weeks' bench files as tests that measure (checker/fixtures/bench.ts).
const benchFiles = setting("KATA_BENCH") === "1" ? ["exercises/*/bench/**/*.bench.ts"] : [];

// Learner code runs in forks so that a crash, a blocked loop or a runaway heap takes down
// one test file, never the runner; the pool bounds each fork's time, memory and output from
// outside it. Under Stryker (which runs vitest in worker threads and kills runaway mutants
// itself) the pool, the guards and the integrity checks stay off.
const mutating = setting("KATA_MUTATE") === "1";

/** Grading hashes every protected file as it loads; elsewhere a learner may experiment with the tests. */
function lockedFiles(): Record<string, string> | undefined {
  if (setting("KATA_LOCKED_LOADS") !== "1") return undefined;
  const lock = JSON.parse(readFileSync(new URL("./course.lock.json", import.meta.url), "utf8")) as {
    protected: Record<string, string>;
  };
  return lock.protected;
}

const course = {
  plugins: [
    ...(target === "solution" ? [solutionTargetPlugin(root)] : []),
    ...(mutating
      ? []
      : integrityPlugin({
          root,
          locked: lockedFiles(),
          canary: setting("KATA_CANARY"),
          reportDir: setting("KATA_REPORT_DIR"),
        })),
  ],
  test: {
    name: "course",
    root,
    include: [
      ...(testFiles ?? [weekFilter ? `exercises/${weekFilter}/tests/**/*.test.ts` : "exercises/*/tests/**/*.test.ts"]),
      ...benchFiles,
    ],
    pool: mutating ? ("forks" as const) : kataPool(poolSettings()),
    execArgv: mutating ? [] : [`--max-old-space-size=${numberSetting("KATA_HEAP_MB")}`],
    testTimeout: 15_000,
    hookTimeout: 20_000,
    setupFiles: mutating
      ? []
      : [
          // First, so its after-each hook runs last: failed tests' errors leave without stacks.
          "checker/vitest/setup-lean-errors.ts",
          // Before any learner module: pin what the verdict depends on.
          "checker/vitest/setup-runtime-lock.ts",
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
    globalSetup: ["checker/tests/support/global-setup.ts"],
    // Many of these tests run whole checker commands against temp courses: the bound is
    // against a hang, with room for a loaded machine.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
};

export default defineConfig({
  // Vitest orders a run's files by their last durations, slowest first; the skeletons and the
  // solutions take very different times, so each target keeps its own record.
  cacheDir: `node_modules/.vite/${target}`,
  test: {
    teardownTimeout: 5_000,
    // Vitest defaults to cores - 1, a single fork on a 2-core machine; most kata tests wait on
    // Redis, Postgres or sockets, so two files at a time use the machine better.
    maxWorkers: numberSetting("KATA_MAX_WORKERS"),
    projects: weekFilter ? [course] : [course, checker],
  },
});
