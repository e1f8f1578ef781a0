// Every environment variable the course's machinery reads, defined once: its name, its
// default and what it does. The checker sets most of them for the runs it starts; a
// maintainer may set some by hand (see CONTRIBUTING). Read them through `setting()` and
// the typed readers below, never as process.env.KATA_* elsewhere.

export interface SettingSpec {
  /** What it does, in one line (CONTRIBUTING lists these). */
  readonly about: string;
  /** The value when the variable is unset or empty. */
  readonly default?: string;
  /** Set by the checker for the runs it starts (not for a maintainer to set). */
  readonly internal?: boolean;
}

export const SETTINGS = {
  KATA_TARGET: { about: "which code the tests import: exercises (the learner's) or solution", default: "exercises" },
  KATA_COURSE_ROOT: { about: "the course's root folder; set by checker/bin/course.mjs", internal: true },
  KATA_REPORT_DIR: { about: "where the guards and the pool write their records during a run", internal: true },
  KATA_REDIS_URL: { about: "the Redis the tests use, as the checker resolved it", internal: true },
  KATA_DATABASE_URL: { about: "the Postgres the tests use, as the checker resolved it", internal: true },
  KATA_AMQP_URL: { about: "the RabbitMQ the tests use, as the checker resolved it", internal: true },
  KATA_WEEK_FILTER: { about: "run one week's tests only (mutation testing)", internal: true },
  KATA_MUTATE_FILES: { about: "comma-separated solution files Stryker mutates (one kata's)", internal: true },
  KATA_TEST_FILES: { about: "comma-separated test files the course project includes (one kata's)", internal: true },
  KATA_REPORT_NAME: { about: "the mutation report's file name (week, or week-kata)", internal: true },
  KATA_MUTATE: { about: "1 under Stryker: the fork-only pool and guards stay off", default: "0", internal: true },
  KATA_MAX_WORKERS: { about: "test files run at once", default: "2" },
  KATA_VERIFY_WORKERS: {
    about: "test files verify runs at once (the course's own code, whose slow tests mostly wait)",
    default: "3",
  },
  KATA_HEAP_MB: { about: "V8 heap cap of a test fork, in MB", default: "768" },
  KATA_RSS_MB: { about: "resident memory cap of a test fork and its children, in MB", default: "1536" },
  KATA_BLOCK_LIMIT_MS: {
    about: "how long the event loop may stay blocked before the watchdog stops the fork",
    default: "5000",
  },
  KATA_DRAIN_MS: {
    about: "at most how long the exit guard waits after a file's tests for late timers, while any are pending",
    default: "100",
  },
  KATA_LEAK_GUARD: {
    about: "0 turns off the check for connections and timers left open (maintainers only)",
    default: "1",
  },
  KATA_OUTPUT_BUDGET: { about: "bytes of stdout and stderr kept per test file", default: String(16 * 1024) },
  KATA_FILE_BOUND_S: { about: "the least time a test file may take before it is stopped", default: "60" },
  KATA_FILE_BOUND_PER_TEST_S: {
    about: "time allowed per test of a file (the bound is the larger of the two)",
    default: "5",
  },
  KATA_SANDBOX_UID_BASE: {
    about: "first uid of the grading sandbox; set only when grade runs as root",
    internal: true,
  },
  KATA_SANDBOX_DIR: { about: "where the sandboxed forks get their private TMPDIR and HOME", internal: true },
  KATA_SANDBOX_UID: { about: "the uid a sandboxed fork runs as (set in the fork's environment)", internal: true },
  KATA_LOCKED_LOADS: {
    about: "1 while grading: protected files are hashed against the lock as they load",
    internal: true,
  },
  KATA_CANARY: { about: "the name of the must-fail test the checker adds to each test file", internal: true },
  KATA_BENCH: { about: "1 while npm run bench runs: the course project includes the bench files", internal: true },
  KATA_BENCH_OUT: { about: "the file the benchmark cases append their records to", internal: true },
  KATA_NO_STACKS: {
    about:
      "1 in the checker's runs: failed tests' errors reach vitest's main process without stacks (the checker shows none)",
    internal: true,
  },
  KATA_WARM_FORK: {
    about: "1 in watch mode: the pool keeps one test fork started ahead, so a re-run skips its start-up",
    internal: true,
  },
  KATA_GRADE_TIME_LIMIT_S: { about: "grade's default --time-limit, in seconds", default: "1800" },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

/** The variable's value, or its default; undefined when neither exists. */
export function setting(name: SettingName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  if (value !== undefined && value !== "") return value;
  const spec: SettingSpec = SETTINGS[name];
  return spec.default;
}

/** A positive number setting; a malformed value falls back to the default rather than disabling a guard. */
export function numberSetting(name: SettingName, env: NodeJS.ProcessEnv = process.env): number {
  const parsed = Number(setting(name, env));
  if (Number.isFinite(parsed) && parsed > 0) return parsed;
  const spec: SettingSpec = SETTINGS[name];
  return Number(spec.default);
}

/** What the test pool enforces from outside each fork. */
export interface PoolSettings {
  outputBudgetBytes: number;
  fileBoundMinMs: number;
  fileBoundPerTestMs: number;
  rssCapBytes: number;
  /** Keep one fork started ahead of need (watch mode; never with the sandbox, whose forks differ). */
  warmSpare: boolean;
  /** Present when grading runs as root: forks start as an unprivileged uid of their own. */
  sandbox?: { uidBase: number; tmpRoot: string };
}

export function poolSettings(env: NodeJS.ProcessEnv = process.env): PoolSettings {
  const uidBase = Number(setting("KATA_SANDBOX_UID_BASE", env));
  const tmpRoot = setting("KATA_SANDBOX_DIR", env);
  return {
    outputBudgetBytes: numberSetting("KATA_OUTPUT_BUDGET", env),
    fileBoundMinMs: numberSetting("KATA_FILE_BOUND_S", env) * 1000,
    fileBoundPerTestMs: numberSetting("KATA_FILE_BOUND_PER_TEST_S", env) * 1000,
    rssCapBytes: numberSetting("KATA_RSS_MB", env) * 2 ** 20,
    warmSpare: setting("KATA_WARM_FORK", env) === "1",
    ...(Number.isInteger(uidBase) && uidBase > 0 && tmpRoot ? { sandbox: { uidBase, tmpRoot } } : {}),
  };
}
