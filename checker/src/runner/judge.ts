import path from "node:path";
import { describeGuardRecord, type GuardRecord } from "../../vitest/guard-record";
import { trimMessage } from "./messages";
import type { RunResult, TestResult } from "./results";

/** One test file as vitest reported it, reduced to what judging needs. */
export interface ModuleOutcome {
  /** Absolute path. */
  file: string;
  /** Vitest's module state: passed, failed, skipped, pending, queued. */
  state: string;
  /** Errors of the file itself: import failures, failing beforeAll/afterAll hooks. */
  errors: string[];
  tests: { name: string; state: string; message?: string; durationMs: number }[];
}

export interface UnhandledOutcome {
  message: string;
  /** Absolute path of the test file it came from, when vitest knows. */
  file?: string;
  /** The test that was running (or ran last), when vitest knows. */
  test?: string;
}

const FORK_DIED = /Worker ([\w-]+ )?(emitted error|exited unexpectedly)|Channel closed|ERR_IPC_CHANNEL_CLOSED/i;

export interface Owner {
  week: string;
  kata: string;
}

export interface JudgeInput {
  root: string;
  /** Every selected test file (absolute path) and the kata that owns it. */
  owners: Map<string, Owner>;
  modules: ModuleOutcome[];
  unhandled: UnhandledOutcome[];
  guards: GuardRecord[];
  /** Name prefix of the must-fail tests the checker added to every file. */
  canary?: string;
  /** Why files that never finished did not (the run was cut short on purpose). */
  cutShort?: string;
}

/** Records that name a file-level cause (no test of their own) or a test, by file. */
function byFile<T>(items: readonly T[], fileOf: (item: T) => string | undefined): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const key = fileOf(item) ?? "";
    map.set(key, [...(map.get(key) ?? []), item]);
  }
  return map;
}

/**
 * The checker's must-fail tests leave the results here; one that did not fail while the
 * file's own tests passed means the file's verdicts were forged from inside the fork.
 */
function splitCanaries(module: ModuleOutcome, canary: string | undefined): { module: ModuleOutcome; forged: boolean } {
  if (!canary) return { module, forged: false };
  const isCanary = (name: string) => name.startsWith(`${canary} `);
  const own = module.tests.filter((t) => !isCanary(t.name));
  const canaries = module.tests.filter((t) => isCanary(t.name));
  const forged = own.some((t) => t.state === "passed") && canaries.some((t) => t.state !== "failed");
  return { module: { ...module, tests: own }, forged };
}

/** Vitest names the test of an unhandled error by its own name or its full name ("describe > it"). */
function sameTest(fullName: string, reported: string): boolean {
  return fullName === reported || fullName.endsWith(` > ${reported}`);
}

const FORGED =
  "the test runtime was tampered with: a test the checker adds to every file, one that must fail, passed here (code that rewrites assertions or test results scores 0)";

function judgeFile(
  file: string,
  owner: Owner,
  module: ModuleOutcome | undefined,
  guards: GuardRecord[],
  unhandled: UnhandledOutcome[],
  input: JudgeInput,
): TestResult[] {
  const rel = path.relative(input.root, file);
  const base = { week: owner.week, kata: owner.kata, file: rel };
  const tests: TestResult[] = [];
  const names = new Set(module?.tests.map((t) => t.name) ?? []);
  const fileProblem = [
    ...guards.filter((g) => g.test === null || !names.has(g.test)).map(describeGuardRecord),
    ...(module?.errors ?? []),
  ];

  if (!module || module.tests.length === 0) {
    const cause =
      fileProblem[0] ??
      unhandled[0]?.message ??
      input.cutShort ??
      (module
        ? "the test file ran no tests (it failed to load, or its process crashed)"
        : "the test file never reported: its process crashed or was stopped");
    return [{ ...base, name: `${rel} (whole file)`, status: "failed", message: trimMessage(cause), durationMs: 0 }];
  }

  for (const test of module.tests) {
    const guard = guards.find((g) => g.test === test.name);
    const late = unhandled.find((u) => u.test !== undefined && sameTest(test.name, u.test));
    let status: TestResult["status"] = test.state === "passed" ? "passed" : "failed";
    let message = test.message;
    if (guard) {
      status = "failed";
      message = describeGuardRecord(guard);
    } else if (late && status === "passed") {
      status = "failed";
      message = `an error escaped this test (unhandled, after or outside its awaits): ${late.message}`;
    } else if (status === "failed" && !message) {
      const stopped = guards[0] ? describeGuardRecord(guards[0]) : undefined;
      if (test.state === "pending" || test.state === "queued") {
        message = `did not finish: ${stopped ?? fileProblem[0] ?? input.cutShort ?? "its test process crashed or was stopped before reporting"}`;
      } else if (test.state === "skipped") {
        message = fileProblem[0] ?? "this test did not run (a hook of its file failed, or it is marked skip)";
      } else {
        message = "failed without an error message";
      }
    }
    tests.push({
      ...base,
      name: test.name,
      status,
      ...(message ? { message: trimMessage(message) } : {}),
      durationMs: Math.round(test.durationMs),
    });
  }

  // A file-level problem (an afterAll hook, an exit after the last test, an unhandled error
  // no test owns) fails the file even when every test in it passed.
  const orphanUnhandled = unhandled.filter(
    (u) => u.test === undefined || !module.tests.some((t) => sameTest(t.name, u.test!)),
  );
  const fileFailure = fileProblem[0] ?? orphanUnhandled[0]?.message;
  if (fileFailure && module.tests.every((t) => t.state === "passed")) {
    tests.push({
      ...base,
      name: `${rel} (whole file)`,
      status: "failed",
      message: trimMessage(fileFailure),
      durationMs: 0,
    });
  }
  return tests;
}

/**
 * Turns what vitest reported into one verdict per test, with a rule that never bends:
 * anything that did not demonstrably pass has failed. A file that never reported, a crashed
 * or killed fork, an unhandled error, a process.exit, a forged result: each becomes a
 * failure with the cause.
 */
export function judge(input: JudgeInput): RunResult {
  const modules = new Map(input.modules.map((m) => [m.file, m]));
  // A fork's own exit is the least specific cause: the watchdog or the pool that ended it says more.
  const ordered = [...input.guards].sort((a, b) => Number(a.kind === "fork-exit") - Number(b.kind === "fork-exit"));
  const guards = byFile(ordered, (g) => (g.file && input.owners.has(g.file) ? g.file : undefined));
  const unhandled = byFile(input.unhandled, (u) => (u.file && input.owners.has(u.file) ? u.file : undefined));

  const tests: TestResult[] = [];
  for (const [file, owner] of input.owners) {
    const found = modules.get(file);
    const { module, forged } = found ? splitCanaries(found, input.canary) : { module: undefined, forged: false };
    const verdicts = judgeFile(file, owner, module, guards.get(file) ?? [], unhandled.get(file) ?? [], input);
    tests.push(...(forged ? verdicts.map((t) => ({ ...t, status: "failed" as const, message: FORGED })) : verdicts));
  }

  // A fork that died (killed by the watchdog or the pool, out of memory, a signal) surfaces
  // as an error with no file; the files it left unfinished already fail with the cause, so
  // it is only a note when no file explains it.
  const notes: string[] = [];
  const unfinished =
    input.modules.some(
      (m) => m.tests.some((t) => t.state === "pending" || t.state === "queued") || m.tests.length === 0,
    ) || input.modules.length < input.owners.size;
  for (const error of unhandled.get("") ?? []) {
    if (unfinished && FORK_DIED.test(error.message)) continue;
    notes.push(trimMessage(`an error outside any test file: ${error.message}`, 300, 4));
  }
  return {
    tests,
    notes,
    refusals: input.guards
      .filter((g) => g.kind === "refused-import")
      .map((g) => ({ file: g.file ?? "", message: g.message ?? "" })),
    tampered: input.guards.filter((g) => g.kind === "tampered-file").map((g) => g.file ?? ""),
  };
}
