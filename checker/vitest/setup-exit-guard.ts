import { afterAll, afterEach, beforeEach, expect } from "vitest";
import { writeGuardRecord } from "./guard-record.ts";
import { resourceCounts, waitWhile } from "./loop-resources.ts";
import { numberSetting, setting } from "./settings.ts";

// Vitest turns process.exit in a test into a thrown error, so `try { process.exit(0) } catch {}`
// swallows it and the test passes. A kata that exits the process is a bug in production, so
// every call is recorded and fails the test during which it happened (or the file, when it
// came from a timer after the last test). The runner also reads the record from disk, so a
// call that lands after the file's hooks still fails the file.

interface ExitCall {
  code: unknown;
  test: string | null;
}

// Read before any learner code runs.
const reportDir = setting("KATA_REPORT_DIR");
const DRAIN_MS = numberSetting("KATA_DRAIN_MS");
const calls: ExitCall[] = [];
let currentTest: string | null = null;
const originalExit = process.exit.bind(process);

process.exit = ((code?: number | string | null) => {
  const call = { code, test: currentTest };
  calls.push(call);
  writeGuardRecord(reportDir, {
    kind: "process-exit",
    file: expect.getState().testPath ?? null,
    test: call.test,
    code: call.code ?? null,
  });
  return originalExit(code as number | undefined);
}) as typeof process.exit;

function describeCalls(found: ExitCall[]): string {
  const codes = found.map((c) => String(c.code ?? 0)).join(", ");
  return `your code called process.exit(${codes}); a library or service must never end the process it runs in, throw an error instead`;
}

beforeEach((context) => {
  currentTest = context.task.fullTestName ?? context.task.name;
});

afterEach(() => {
  const found = calls.splice(0);
  currentTest = null;
  if (found.length > 0) throw new Error(describeCalls(found));
});

// What the fork holds before any learner module loads: its IPC channel and pipes.
const idle = resourceCounts();

/** Whether anything beyond the idle fork is pending: a timer, a socket, a child process, a file operation. */
function somethingPending(): boolean {
  for (const [type, n] of resourceCounts()) if (n > (idle.get(type) ?? 0)) return true;
  return false;
}

/**
 * Registered before the test file's own hooks, so it runs after them (after-hooks run in
 * reverse order). A short drain lets a timer the learner's code left behind fire while
 * vitest is still listening: an exit or a rejection a few ms after the last test is caught
 * here instead of vanishing with the fork. It ends as soon as nothing is pending, so a file
 * that cleaned up after itself waits only for vitest's own report timer (at most 100 ms).
 */
afterAll(async () => {
  await waitWhile(somethingPending, DRAIN_MS);
  const found = calls.splice(0);
  if (found.length > 0) throw new Error(`after the tests finished, ${describeCalls(found)}`);
});
