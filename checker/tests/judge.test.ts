import { describe, expect, it } from "vitest";
import { judge, type JudgeInput, type ModuleOutcome } from "../src/runner/judge";

const root = "/course";
const file = "/course/exercises/week05-x/tests/a.test.ts";
const owners = new Map([[file, { week: "week05-x", kata: "a" }]]);

function input(modules: ModuleOutcome[], extra: Partial<JudgeInput> = {}): JudgeInput {
  return { root, owners, modules, unhandled: [], guards: [], ...extra };
}
const passing = (name: string) => ({ name, state: "passed", durationMs: 1 });

describe("judging what vitest reported", () => {
  it("passes tests that passed and fails those that failed, with their message", () => {
    const { tests } = judge(input([{ file, state: "failed", errors: [], tests: [passing("x"), { name: "y", state: "failed", message: "\u001b[31mexpected 1\u001b[39m", durationMs: 2 }] }]));
    expect(tests.map((t) => [t.name, t.status, t.message])).toEqual([
      ["x", "passed", undefined],
      ["y", "failed", "expected 1"],
    ]);
    expect(tests[0]).toMatchObject({ week: "week05-x", kata: "a", file: "exercises/week05-x/tests/a.test.ts" });
  });

  it("fails a file that never reported", () => {
    const { tests } = judge(input([]));
    expect(tests).toEqual([expect.objectContaining({ status: "failed", message: expect.stringMatching(/never reported/) })]);
  });

  it("fails a file that could not load, with the load error", () => {
    const { tests } = judge(input([{ file, state: "failed", errors: ["SyntaxError: Unexpected token"], tests: [] }]));
    expect(tests).toEqual([expect.objectContaining({ status: "failed", message: "SyntaxError: Unexpected token" })]);
  });

  it("never counts a skipped test as passed", () => {
    const { tests } = judge(input([{ file, state: "skipped", errors: ["beforeAll: Redis is not reachable"], tests: [{ name: "x", state: "skipped", durationMs: 0 }] }]));
    expect(tests).toEqual([expect.objectContaining({ status: "failed", message: "beforeAll: Redis is not reachable" })]);
  });

  it("fails the test a guard record names, even if vitest saw it pass", () => {
    const { tests } = judge(input([{ file, state: "passed", errors: [], tests: [passing("suite > x")] }], { guards: [{ kind: "process-exit", file, test: "x", code: 0 }] }));
    expect(tests[0]).toMatchObject({ status: "failed", message: expect.stringMatching(/process\.exit\(0\) during "x"/) });
  });

  it("fails a file whose tests all passed when an error escaped after them", () => {
    const { tests } = judge(input([{ file, state: "passed", errors: [], tests: [passing("x")] }], { unhandled: [{ message: "Unhandled Rejection: late", file }] }));
    expect(tests.map((t) => t.status)).toEqual(["passed", "failed"]);
    expect(tests[1]!.message).toContain("late");
  });

  it("blames an escaped error on the test vitest names", () => {
    const { tests } = judge(input([{ file, state: "passed", errors: [], tests: [passing("x"), passing("y")] }], { unhandled: [{ message: "boom", file, test: "y" }] }));
    expect(tests.map((t) => t.status)).toEqual(["passed", "failed"]);
  });

  it("explains the unfinished tests of a file the watchdog stopped", () => {
    const { tests, notes } = judge(
      input([{ file, state: "failed", errors: [], tests: [{ name: "x", state: "pending", durationMs: 0 }] }], {
        guards: [{ kind: "blocked-event-loop", file, test: "y", blockedMs: 5000, message: "your code blocked the event loop for 5000 ms" }],
        unhandled: [{ message: "Unhandled Error: [vitest-pool]: Worker forks emitted error." }],
      }),
    );
    expect(tests[0]!.message).toMatch(/did not finish: your code blocked the event loop/);
    expect(notes, "the fork's death is explained by the file; no extra note").toEqual([]);
  });

  it("keeps an error outside any file as a note", () => {
    const { notes } = judge(input([{ file, state: "passed", errors: [], tests: [passing("x")] }], { unhandled: [{ message: "something odd" }] }));
    expect(notes).toEqual([expect.stringContaining("something odd")]);
  });
});
