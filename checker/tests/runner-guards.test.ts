import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCourse } from "../src/course/load";
import type { Course } from "../src/course/model";
import type { RunResult } from "../src/runner/results";
import { runTests } from "../src/runner/vitest-run";
import { hostileRoot, tempCourse, type TempCourse } from "./support/temp-course";

// Hostile learner code, run through the real runner: each case must end as a failed kata
// whose message names the cause, within a bound, and never as a pass.
let course: TempCourse;
let model: Course;
let result: RunResult;
let seconds = 0;

function kataTests(kata: string) {
  return result.tests.filter((t) => t.kata === kata);
}

beforeAll(async () => {
  course = tempCourse([{ from: hostileRoot, id: "week90-hostile", withSolutions: false }]);
  model = loadCourse(course.root);
  const owners = new Map<string, { week: string; kata: string }>();
  for (const kata of model.weeks[0]!.katas) {
    for (const test of kata.tests)
      owners.set(path.join(course.root, "exercises", kata.weekId, test), { week: kata.weekId, kata: kata.id });
  }
  const started = performance.now();
  result = await runTests({ root: course.root, target: "exercises", owners, env: { KATA_BLOCK_LIMIT_MS: "3000" } });
  seconds = (performance.now() - started) / 1000;
}, 120_000);

afterAll(() => course?.remove());

describe("hostile learner code through the runner", () => {
  it("still passes an honest kata in the same run", () => {
    expect(kataTests("honest").map((t) => t.status)).toEqual(["passed"]);
  });

  it("fails a synchronous infinite loop, naming the blocked event loop and the test", () => {
    const tests = kataTests("sync-loop");
    expect(tests.length).toBeGreaterThan(0);
    expect(tests.every((t) => t.status === "failed")).toBe(true);
    expect(tests[0]!.message).toMatch(/blocked the event loop for \d+ ms/);
    expect(tests[0]!.message).toContain("answers");
  });

  it("fails an infinite loop at module top level", () => {
    const tests = kataTests("top-level-loop");
    expect(tests.length).toBeGreaterThan(0);
    expect(tests.every((t) => t.status === "failed")).toBe(true);
    expect(tests[0]!.message).toMatch(/blocked the event loop/);
  });

  it("fails a process.exit swallowed by try/catch", () => {
    const tests = kataTests("swallowed-exit");
    expect(tests.some((t) => t.status === "failed" && /process\.exit\(0\)/.test(t.message ?? ""))).toBe(true);
    expect(tests.every((t) => t.status === "failed" || t.name.includes("whole file"))).toBe(true);
  });

  it("fails a process.exit fired from a timer after the test", () => {
    const tests = kataTests("late-exit");
    expect(tests.some((t) => t.status === "failed" && /process\.exit/.test(t.message ?? ""))).toBe(true);
  });

  it("fails an unhandled rejection fired after the test finished", () => {
    const tests = kataTests("late-rejection");
    expect(
      tests.some((t) => t.status === "failed" && /rejected after the test had finished/.test(t.message ?? "")),
    ).toBe(true);
  });

  it("ends the whole run within a bound although two files never yield", () => {
    // Two blocked forks at a 3 s limit, plus start-up: far below the 120 s hook bound.
    expect(seconds).toBeLessThan(60);
  });
});
