import { afterAll, beforeAll, expect, it } from "vitest";
import { runCli } from "./support/run-cli";
import { hostileRoot, tempCourse, type TempCourse } from "./support/temp-course";

let course: TempCourse;
beforeAll(() => {
  course = tempCourse([{ from: hostileRoot, id: "week90-hostile", withSolutions: false }]);
});
afterAll(() => course?.remove());

it("fails a kata whose tests pass but whose code does not type-check, as grading would", async () => {
  const run = await runCli(course.root, ["check", "week90", "type-error"]);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/✘ type-error/);
  expect(run.stdout).toContain("TS2322: Type 'number' is not assignable to type 'string'.");
});

it("still passes a kata that type-checks", async () => {
  const run = await runCli(course.root, ["check", "week90", "honest"]);
  expect(run.code, run.stdout + run.stderr).toBe(0);
});
