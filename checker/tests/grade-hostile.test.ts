import { readFileSync } from "node:fs";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCourse } from "../src/course/load";
import { gradeResultsSchema, type GradeResults } from "../src/grade/results";
import { computeLock, writeLock } from "../src/integrity/course-lock";
import { runCli, type CliRun } from "./support/run-cli";
import { hostileRoot, tempCourse, type TempCourse } from "./support/temp-course";

// The hostile submission set, graded as CI would grade it: every case must end as a failed
// kata whose message names the cause, within a bound, and never as a pass.
let course: TempCourse;
let run: CliRun;
let results: GradeResults;

const kata = (id: string) => results.weeks[0]!.katas.find((k) => k.id === id)!;
const problems = (id: string) =>
  [
    kata(id).message ?? "",
    ...results.tests.filter((t) => t.kata === id && t.status !== "pass").map((t) => t.message ?? ""),
  ].join("\n");

beforeAll(async () => {
  course = tempCourse([{ from: hostileRoot, id: "week90-hostile", withSolutions: false }]);
  writeLock(course.root, computeLock(loadCourse(course.root)));
  run = await runCli(course.root, ["grade"], {
    env: { KATA_BLOCK_LIMIT_MS: "3000", KATA_HEAP_MB: "128" },
    timeoutMs: 150_000,
  });
  results = gradeResultsSchema.parse(JSON.parse(readFileSync(path.join(course.root, "grade", "results.json"), "utf8")));
}, 180_000);

afterAll(() => course?.remove());

describe("grading hostile submissions", () => {
  it("grades (exit 0) and reports a failing overall status with a partial score", () => {
    expect(run.code, run.stderr).toBe(0);
    expect(results.status).toBe("fail");
    expect(results.score).toBe(1);
    expect(results.maxScore).toBe(results.weeks[0]!.katas.length);
  });

  it("still passes the honest kata beside the hostile ones", () => {
    expect(kata("honest").status).toBe("pass");
  });

  it.each([
    ["sync-loop", /blocked the event loop for \d+ ms while test "answers"/],
    ["top-level-loop", /blocked the event loop .*module top level/],
    ["swallowed-exit", /process\.exit\(0\)/],
    ["late-exit", /process\.exit\(0\) after the tests had finished/],
    ["late-rejection", /rejected after the test had finished/],
    ["leaks", /left open: .*network connection.*timer/],
    ["heap-bomb", /blocked the event loop|heap|memory|crashed|stopped/i],
    ["syntax-error", /TS1109|Expected|Unexpected|expression/i],
    ["type-error", /TS2322: Type 'number' is not assignable to type 'string'/],
    ["stdout-flood", /expected 41 to be 42/],
  ])("fails %s with a message naming the cause", (id, cause) => {
    expect(kata(id).status).toBe("fail");
    expect(kata(id).score).toBe(0);
    expect(problems(id)).toMatch(cause);
  });

  it("keeps the report readable when a submission floods stdout", () => {
    expect(run.stdout.length + run.stderr.length, "a million lines must not reach the terminal").toBeLessThan(200_000);
    expect(run.stdout).toMatch(/output of \S+stdout-flood\.test\.ts passed \d+ bytes/);
  });

  it("ends within a bound although two submissions never yield", () => {
    expect(run.seconds).toBeLessThan(120);
  });

  it("writes JUnit XML that parses, with a testsuite per kata and failures for the hostile ones", () => {
    const xml = readFileSync(path.join(course.root, "grade", "junit.xml"), "utf8");
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml) as {
      testsuites: { testsuite: { "@_name": string; "@_failures": string; "@_errors": string }[] };
    };
    const suites = doc.testsuites.testsuite;
    expect(suites.map((s) => s["@_name"])).toContain("week90-hostile/sync-loop");
    const honest = suites.find((s) => s["@_name"] === "week90-hostile/honest")!;
    expect(Number(honest["@_failures"]) + Number(honest["@_errors"])).toBe(0);
    const loop = suites.find((s) => s["@_name"] === "week90-hostile/sync-loop")!;
    expect(Number(loop["@_failures"]) + Number(loop["@_errors"])).toBeGreaterThan(0);
  });

  it("writes a Markdown summary with the score and a row per kata", () => {
    const summary = readFileSync(path.join(course.root, "grade", "summary.md"), "utf8");
    expect(summary).toMatch(/^# Grade: 1 \/ \d+/);
    expect(summary).toContain("| `honest` | ✅ pass |");
    expect(summary).toContain("| `sync-loop` | ❌ fail |");
  });

  it("keeps every message within 500 characters", () => {
    for (const test of results.tests) expect((test.message ?? "").length).toBeLessThanOrEqual(500);
  });
});
