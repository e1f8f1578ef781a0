/** What became of one test of a kata in one run. */
export type TestStatus = "passed" | "failed";

export interface TestResult {
  readonly week: string;
  readonly kata: string;
  /** Test file, relative to the course root. */
  readonly file: string;
  /** Full name: "describe > it". */
  readonly name: string;
  readonly status: TestStatus;
  /** The first error, trimmed and readable; absent when passed. */
  readonly message?: string;
  readonly durationMs: number;
}

export interface RunResult {
  readonly tests: readonly TestResult[];
  /** Problems no single test owns, already turned into failures of the katas they touch. */
  readonly notes: readonly string[];
  /** Imports the runner refused to learner files (exercises/<week>/src/..., relative): the katas using them score 0. */
  readonly refusals: readonly { file: string; message: string }[];
  /** Protected files that differed from the lock as they loaded (relative paths): tampering. */
  readonly tampered: readonly string[];
}
