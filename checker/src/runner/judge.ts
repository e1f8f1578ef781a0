import path from "node:path";
import { describeGuardRecord, type GuardRecord } from "./guard-records";
import { trimMessage } from "./messages";
import type { TestResult } from "./results";

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

const FORK_DIED = /Worker (forks )?(emitted error|exited unexpectedly)|Channel closed|ERR_IPC_CHANNEL_CLOSED/i;

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
}

/**
 * Turns what vitest reported into one verdict per test, with a rule that never bends:
 * anything that did not demonstrably pass has failed. A file that never reported, a crashed
 * or killed fork, an unhandled error, a process.exit: each becomes a failure with the cause.
 */
export function judge(input: JudgeInput): { tests: TestResult[]; notes: string[] } {
  const tests: TestResult[] = [];
  const notes: string[] = [];
  const byFile = new Map(input.modules.map((m) => [m.file, m]));
  const rel = (file: string) => path.relative(input.root, file);

  const guardsByFile = new Map<string, GuardRecord[]>();
  for (const record of input.guards) {
    const key = record.file ?? "";
    guardsByFile.set(key, [...(guardsByFile.get(key) ?? []), record]);
  }
  const unhandledByFile = new Map<string, UnhandledOutcome[]>();
  for (const error of input.unhandled) {
    const key = error.file && input.owners.has(error.file) ? error.file : "";
    unhandledByFile.set(key, [...(unhandledByFile.get(key) ?? []), error]);
  }

  for (const [file, owner] of input.owners) {
    const module = byFile.get(file);
    const guards = guardsByFile.get(file) ?? [];
    const unhandled = unhandledByFile.get(file) ?? [];
    const base = { week: owner.week, kata: owner.kata, file: rel(file) };
    const fileProblem = [
      ...guards.filter((g) => g.test === null || !module?.tests.some((t) => t.name.endsWith(g.test!))).map(describeGuardRecord),
      ...(module?.errors ?? []),
    ];

    if (!module || module.tests.length === 0) {
      const cause = fileProblem[0] ?? unhandled[0]?.message ?? (module ? "the test file ran no tests (it failed to load, or its process crashed)" : "the test file never reported: its process crashed or was stopped");
      tests.push({ ...base, name: `${rel(file)} (whole file)`, status: "failed", message: trimMessage(cause), durationMs: 0 });
      continue;
    }

    for (const test of module.tests) {
      const guard = guards.find((g) => g.test !== null && test.name.endsWith(g.test));
      const late = unhandled.find((u) => u.test !== undefined && test.name.endsWith(u.test));
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
          message = `did not finish: ${stopped ?? fileProblem[0] ?? "its test process crashed or was stopped before reporting"}`;
        } else if (test.state === "skipped") {
          message = fileProblem[0] ?? "this test did not run (a hook of its file failed, or it is marked skip)";
        } else {
          message = "failed without an error message";
        }
      }
      tests.push({ ...base, name: test.name, status, ...(message ? { message: trimMessage(message) } : {}), durationMs: Math.round(test.durationMs) });
    }

    // A file-level problem (an afterAll hook, an exit after the last test, an unhandled error
    // no test owns) fails the file even when every test in it passed.
    const orphanUnhandled = unhandled.filter((u) => u.test === undefined || !module.tests.some((t) => t.name.endsWith(u.test!)));
    const fileFailure = fileProblem[0] ?? orphanUnhandled[0]?.message;
    if (fileFailure && module.tests.every((t) => t.state === "passed")) {
      tests.push({ ...base, name: `${rel(file)} (whole file)`, status: "failed", message: trimMessage(fileFailure), durationMs: 0 });
    }
  }

  // A fork that died (killed by the watchdog, out of memory, a signal) surfaces as an error
  // with no file; the files it left unfinished already fail with the cause, so it is only a
  // note when no file explains it.
  const unfinished = input.modules.some((m) => m.tests.some((t) => t.state === "pending" || t.state === "queued") || m.tests.length === 0);
  for (const error of unhandledByFile.get("") ?? []) {
    if (unfinished && FORK_DIED.test(error.message)) continue;
    notes.push(trimMessage(`an error outside any test file: ${error.message}`, 300, 4));
  }
  return { tests, notes };
}
