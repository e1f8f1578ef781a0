import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeEach, expect } from "vitest";

// Vitest turns process.exit in a test into a thrown error, so `try { process.exit(0) } catch {}`
// swallows it and the test passes. A kata that exits the process is a bug in production, so
// every call is recorded and fails the test during which it happened (or the file, when it
// came from a timer after the last test). The runner also reads the record from disk, so a
// call that lands after the file's hooks still fails the file.

interface ExitCall {
  code: unknown;
  test: string | undefined;
}

const calls: ExitCall[] = [];
let currentTest: string | undefined;
const reportDir = process.env.KATA_REPORT_DIR;
const originalExit = process.exit.bind(process);

function record(call: ExitCall): void {
  if (!reportDir) return;
  try {
    mkdirSync(reportDir, { recursive: true });
    const entry = { kind: "process-exit", pid: process.pid, file: expect.getState().testPath ?? null, test: call.test ?? null, code: call.code ?? null };
    appendFileSync(path.join(reportDir, `exit-${process.pid}.jsonl`), JSON.stringify(entry) + "\n");
  } catch {
    // Reporting is best effort; the hook below still fails the test.
  }
}

process.exit = ((code?: number | string | null) => {
  const call = { code, test: currentTest };
  calls.push(call);
  record(call);
  return originalExit(code as number | undefined);
}) as typeof process.exit;

function describeCalls(found: ExitCall[]): string {
  const codes = found.map((c) => String(c.code ?? 0)).join(", ");
  return `your code called process.exit(${codes}); a library or service must never end the process it runs in, throw an error instead`;
}

beforeEach((context) => {
  currentTest = context.task.name;
});

afterEach(() => {
  const found = calls.splice(0);
  currentTest = undefined;
  if (found.length > 0) throw new Error(describeCalls(found));
});

/**
 * Registered before the test file's own hooks, so it runs after them (after-hooks run in
 * reverse order). A short drain lets a timer the learner's code left behind fire while
 * vitest is still listening: an exit or a rejection a few ms after the last test is caught
 * here instead of vanishing with the fork.
 */
const DRAIN_MS = Number(process.env.KATA_DRAIN_MS ?? 100);

afterAll(async () => {
  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
  const found = calls.splice(0);
  if (found.length > 0) throw new Error(`after the tests finished, ${describeCalls(found)}`);
});
