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
    const { tests } = judge(
      input([
        {
          file,
          state: "failed",
          errors: [],
          tests: [
            passing("x"),
            { name: "y", state: "failed", message: "\u001b[31mexpected 1\u001b[39m", durationMs: 2 },
          ],
        },
      ]),
    );
    expect(tests.map((t) => [t.name, t.status, t.message])).toEqual([
      ["x", "passed", undefined],
      ["y", "failed", "expected 1"],
    ]);
    expect(tests[0]).toMatchObject({ week: "week05-x", kata: "a", file: "exercises/week05-x/tests/a.test.ts" });
  });

  it("fails a file that never reported", () => {
    const { tests } = judge(input([]));
    expect(tests).toEqual([
      expect.objectContaining({ status: "failed", message: expect.stringMatching(/never reported/) }),
    ]);
  });

  it("fails a file that could not load, with the load error", () => {
    const { tests } = judge(input([{ file, state: "failed", errors: ["SyntaxError: Unexpected token"], tests: [] }]));
    expect(tests).toEqual([expect.objectContaining({ status: "failed", message: "SyntaxError: Unexpected token" })]);
  });

  it("never counts a skipped test as passed", () => {
    const { tests } = judge(
      input([
        {
          file,
          state: "skipped",
          errors: ["beforeAll: Redis is not reachable"],
          tests: [{ name: "x", state: "skipped", durationMs: 0 }],
        },
      ]),
    );
    expect(tests).toEqual([
      expect.objectContaining({ status: "failed", message: "beforeAll: Redis is not reachable" }),
    ]);
  });

  it("fails the test a guard record names, even if vitest saw it pass", () => {
    const { tests } = judge(
      input([{ file, state: "passed", errors: [], tests: [passing("suite > x")] }], {
        guards: [{ kind: "process-exit", file, test: "suite > x", code: 0 }],
      }),
    );
    expect(tests[0]).toMatchObject({
      status: "failed",
      message: expect.stringMatching(/process\.exit\(0\) during "suite > x"/),
    });
  });

  it("blames a guard record on the test of exactly that full name, not on one whose name ends the same", () => {
    const tests = [passing("limits > refuses"), passing("limits > also refuses")];
    const { tests: judged } = judge(
      input([{ file, state: "passed", errors: [], tests }], {
        guards: [{ kind: "process-exit", file, test: "limits > refuses", code: 0 }],
      }),
    );
    expect(judged.map((t) => t.status)).toEqual(["failed", "passed"]);
  });

  it("fails a file whose tests all passed when an error escaped after them", () => {
    const { tests } = judge(
      input([{ file, state: "passed", errors: [], tests: [passing("x")] }], {
        unhandled: [{ message: "Unhandled Rejection: late", file }],
      }),
    );
    expect(tests.map((t) => t.status)).toEqual(["passed", "failed"]);
    expect(tests[1]!.message).toContain("late");
  });

  it("blames an escaped error on the test vitest names", () => {
    const { tests } = judge(
      input([{ file, state: "passed", errors: [], tests: [passing("x"), passing("y")] }], {
        unhandled: [{ message: "boom", file, test: "y" }],
      }),
    );
    expect(tests.map((t) => t.status)).toEqual(["passed", "failed"]);
  });

  it("explains the unfinished tests of a file the watchdog stopped", () => {
    const { tests, notes } = judge(
      input([{ file, state: "failed", errors: [], tests: [{ name: "x", state: "pending", durationMs: 0 }] }], {
        guards: [
          {
            kind: "blocked-event-loop",
            file,
            test: "y",
            blockedMs: 5000,
            message: "your code blocked the event loop for 5000 ms",
          },
        ],
        unhandled: [{ message: "Unhandled Error: [vitest-pool]: Worker forks emitted error." }],
      }),
    );
    expect(tests[0]!.message).toMatch(/did not finish: your code blocked the event loop/);
    expect(notes, "the fork's death is explained by the file; no extra note").toEqual([]);
  });

  it("keeps an error outside any file as a note", () => {
    const { notes } = judge(
      input([{ file, state: "passed", errors: [], tests: [passing("x")] }], {
        unhandled: [{ message: "something odd" }],
      }),
    );
    expect(notes).toEqual([expect.stringContaining("something odd")]);
  });
});

describe("the must-fail canaries the checker adds to each file", () => {
  const canary = "c0ffee";
  const failing = (name: string) => ({ name, state: "failed", message: "expected 1 to be 2", durationMs: 1 });

  it("leaves them out of the results when they failed, as they must", () => {
    const { tests } = judge(
      input(
        [{ file, state: "failed", errors: [], tests: [passing("a"), failing(`${canary} 1`), failing(`${canary} 2`)] }],
        { canary },
      ),
    );
    expect(tests.map((t) => [t.name, t.status])).toEqual([["a", "passed"]]);
  });

  it("fails every test of a file where one passed: its verdicts were forged from inside the fork", () => {
    const { tests } = judge(
      input(
        [
          {
            file,
            state: "passed",
            errors: [],
            tests: [passing("a"), passing("b"), passing(`${canary} 1`), failing(`${canary} 2`)],
          },
        ],
        { canary },
      ),
    );
    expect(tests.map((t) => t.status)).toEqual(["failed", "failed"]);
    expect(tests[0]!.message).toMatch(/tampered with/);
  });

  it("treats a canary that was skipped while the file's tests passed as forged too", () => {
    const { tests } = judge(
      input(
        [
          {
            file,
            state: "passed",
            errors: [],
            tests: [passing("a"), { name: `${canary} 1`, state: "skipped", durationMs: 0 }],
          },
        ],
        { canary },
      ),
    );
    expect(tests.map((t) => t.status)).toEqual(["failed"]);
  });

  it("does not call a file forged when none of its own tests passed", () => {
    const { tests } = judge(
      input([{ file, state: "failed", errors: [], tests: [failing("a"), passing(`${canary} 1`)] }], { canary }),
    );
    expect(tests.map((t) => [t.status, t.message])).toEqual([["failed", "expected 1 to be 2"]]);
  });
});
