import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadCourse } from "../src/course/load";
import { parseGradeArgs, meetsMinimum } from "../src/commands/grade";
import { descendants } from "../vitest/process-tree";
import { mergeResults } from "../src/grade/merge";
import { gradeResultsSchema, type GradeResults } from "../src/grade/results";
import { computeLock, writeLock } from "../src/integrity/course-lock";
import { runCli } from "./support/run-cli";
import { hostileRoot, tempCourse, type TempCourse } from "./support/temp-course";

const WEEK = "week90-hostile";
let course: TempCourse | undefined;
afterEach(() => {
  course?.remove();
  course = undefined;
});

/** A small course: the hostile week cut down to the named katas, locked as the course ships it. */
function smallCourse(katas: string[]): TempCourse {
  course = tempCourse([{ from: hostileRoot, id: WEEK, withSolutions: false }]);
  const manifestPath = path.join(course.root, "exercises", WEEK, "week.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { katas: { id: string; tests: string[] }[] };
  for (const kata of manifest.katas.filter((k) => !katas.includes(k.id))) {
    for (const test of kata.tests) rmSync(path.join(course.root, "exercises", WEEK, test));
  }
  manifest.katas = manifest.katas.filter((k) => katas.includes(k.id));
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  writeLock(course.root, computeLock(loadCourse(course.root)));
  return course;
}

function results(root: string, dir = "grade"): GradeResults {
  return gradeResultsSchema.parse(JSON.parse(readFileSync(path.join(root, dir, "results.json"), "utf8")));
}

describe("scores", () => {
  it("gives full marks and status pass when every kata passes", async () => {
    const { root } = smallCourse(["honest"]);
    const run = await runCli(root, ["grade"]);
    expect(run.code, run.stderr).toBe(0);
    expect(results(root)).toMatchObject({ status: "pass", score: 1, maxScore: 1 });
  });

  it("fails below --min-score and passes at or above it", async () => {
    const { root } = smallCourse(["honest", "swallowed-exit"]);
    expect((await runCli(root, ["grade", "--min-score", "100%"])).code).toBe(1);
    // npm keeps `--min-score` for itself unless after `--`, and hands it over as npm_config_min_score.
    expect((await runCli(root, ["grade"], { env: { npm_config_min_score: "50%" } })).code).toBe(0);
  }, 180_000);

  it("reads points and percentages for --min-score", () => {
    expect(meetsMinimum({ score: 3, maxScore: 4 }, "75%")).toBe(true);
    expect(meetsMinimum({ score: 3, maxScore: 4 }, "76%")).toBe(false);
    expect(meetsMinimum({ score: 3, maxScore: 4 }, "3")).toBe(true);
    expect(meetsMinimum({ score: 0, maxScore: 0 }, "0%")).toBe(false);
    expect(() => parseGradeArgs(["--min-score", "lots"], {})).toThrow(/points .* or a percentage/);
    expect(() => parseGradeArgs(["--bogus"], {})).toThrow(/Unknown option .--bogus./);
  });
});

describe("tamper checks", () => {
  it("scores an edited test file's kata 0, says which file, and never reports it as a pass", async () => {
    const { root } = smallCourse(["honest"]);
    appendFileSync(path.join(root, "exercises", WEEK, "tests", "honest.test.ts"), "\n// made easier\n");
    const run = await runCli(root, ["grade"]);
    expect(run.code).toBe(0);
    const graded = results(root);
    expect(graded.status).toBe("fail");
    expect(graded.score).toBe(0);
    expect(graded.weeks[0]!.katas[0]).toMatchObject({ status: "tampered", score: 0 });
    expect(graded.tampered).toEqual([
      { path: `exercises/${WEEK}/tests/honest.test.ts`, change: "modified", kata: `${WEEK}/honest` },
    ]);
    expect(readFileSync(path.join(root, "grade", "summary.md"), "utf8")).toContain(
      `tests modified: \`exercises/${WEEK}/tests/honest.test.ts\``,
    );
  });

  it("scores a deleted test file's kata 0", async () => {
    const { root } = smallCourse(["honest"]);
    rmSync(path.join(root, "exercises", WEEK, "tests", "honest.test.ts"));
    await runCli(root, ["grade"]);
    expect(results(root).weeks[0]!.katas[0]).toMatchObject({
      status: "tampered",
      message: `tests deleted: exercises/${WEEK}/tests/honest.test.ts`,
    });
  });

  it("scores every kata of the week 0 when a helper beside the tests was edited", async () => {
    const { root } = smallCourse(["honest"]);
    writeFileSync(
      path.join(root, "exercises", WEEK, "tests", "support", "expected.ts"),
      "export const DOUBLED_21 = 0;\n",
    );
    await runCli(root, ["grade"]);
    const graded = results(root);
    expect(graded.weeks[0]!.katas[0]).toMatchObject({ status: "tampered", score: 0 });
    expect(graded.tampered).toEqual([
      { path: `exercises/${WEEK}/tests/support/expected.ts`, change: "modified", kata: `${WEEK}/*` },
    ]);
  });

  it.each([
    ["the checker", "checker/src/runner/judge.ts"],
    ["a fixture", "checker/fixtures/redis.ts"],
    ["the vitest config", "vitest.config.ts"],
    ["a manifest", `exercises/${WEEK}/week.json`],
  ])("refuses to grade when %s was edited (exit 3, status error)", async (_what, file) => {
    const { root } = smallCourse(["honest"]);
    appendFileSync(path.join(root, file), file.endsWith(".json") ? " " : "\n// tampered\n");
    const run = await runCli(root, ["grade"]);
    expect(run.code).toBe(3);
    const graded = results(root);
    expect(graded.status).toBe("error");
    expect(graded.message).toContain(file);
    expect(graded.score).toBe(0);
  });

  it("refuses to grade when package.json's imports were pointed elsewhere", async () => {
    const { root } = smallCourse(["honest"]);
    const pkgPath = path.join(root, "package.json");
    const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { imports: Record<string, string> };
    pkg.imports["#fixtures/*"] = "./my-fixtures/*.ts";
    writeFileSync(pkgPath, JSON.stringify(pkg));
    expect((await runCli(root, ["grade"])).code).toBe(3);
  });

  it("lets a learner add a dependency to package.json", async () => {
    const { root } = smallCourse(["honest"]);
    const pkgPath = path.join(root, "package.json");
    const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { dependencies: Record<string, string> };
    pkg.dependencies["left-pad"] = "1.3.0";
    writeFileSync(pkgPath, JSON.stringify(pkg));
    expect((await runCli(root, ["grade"])).code).toBe(0);
  });
});

describe("the time limit", () => {
  it("stops a run that would take too long, scores what finished, writes the rest as not reached, and leaves no process behind", async () => {
    const { root } = smallCourse(["honest", "sync-loop"]);
    const run = await runCli(root, ["grade", "--time-limit", "25"], {
      env: { KATA_BLOCK_LIMIT_MS: "120000", KATA_FILE_BOUND_S: "300" },
      timeoutMs: 120_000,
    });
    expect(run.code).toBe(2);
    expect(run.seconds, "the limit, plus a moment to wind down").toBeLessThan(25 + 20);
    const graded = results(root);
    expect(graded.status).toBe("error");
    expect(graded.message).toMatch(/time limit of 25 s; what finished is scored/);
    const katas = Object.fromEntries(graded.weeks[0]!.katas.map((k) => [k.id, k]));
    expect(katas.honest, "a kata that finished before the limit keeps its score").toMatchObject({
      status: "pass",
      score: 1,
    });
    expect(katas["sync-loop"]).toMatchObject({ status: "fail", score: 0 });
    expect(graded.tests.find((t) => t.kata === "sync-loop")?.message).toMatch(/time limit before this file finished/);
    expect(descendants().filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
  });
});

describe("merging a matrix of grading jobs", () => {
  const part = (
    week: string,
    number: number,
    score: number,
    status: GradeResults["status"] = "fail",
  ): GradeResults => ({
    schema: "backend-katas/grade-results",
    version: 1,
    status,
    score,
    maxScore: 2,
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, number)).toISOString(),
    durationMs: 1000,
    services: ["redis: 127.0.0.1:6379 (env)"],
    tampered: [],
    weeks: [{ id: week, number, title: week, score, maxScore: 2, katas: [] }],
    tests: [{ week, kata: "k", name: "t", status: "pass", durationMs: 1 }],
  });

  it("sums scores, keeps weeks in order and every test", () => {
    const merged = mergeResults([part("week02-b", 2, 1), part("week01-a", 1, 2, "pass")]);
    expect(merged).toMatchObject({ score: 3, maxScore: 4, status: "fail" });
    expect(merged.weeks.map((w) => w.id)).toEqual(["week01-a", "week02-b"]);
    expect(merged.tests).toHaveLength(2);
    expect(merged.services).toEqual(["redis: 127.0.0.1:6379 (env)"]);
    expect(gradeResultsSchema.safeParse(merged).success).toBe(true);
  });

  it("passes only when every part reached full marks, and errors when any part errored", () => {
    expect(mergeResults([part("week01-a", 1, 2, "pass"), part("week02-b", 2, 2, "pass")]).status).toBe("pass");
    expect(
      mergeResults([part("week01-a", 1, 2, "pass"), { ...part("week02-b", 2, 0, "error"), message: "no redis" }])
        .status,
    ).toBe("error");
  });

  it("refuses the same week twice", () => {
    expect(() => mergeResults([part("week01-a", 1, 1), part("week01-a", 1, 1)])).toThrow(
      /appears in two results files/,
    );
  });

  it("merges results folders from the command line", async () => {
    const { root } = smallCourse(["honest"]);
    await runCli(root, ["grade", "--out", "grade-a"]);
    writeFileSync(path.join(root, "other.json"), JSON.stringify(part("week02-b", 2, 1)));
    const run = await runCli(root, ["merge-grades", "grade-a", "other.json", "--out", "merged"]);
    expect(run.code, run.stderr).toBe(0);
    expect(results(root, "merged")).toMatchObject({ score: 2, maxScore: 3 });
    expect(existsSync(path.join(root, "merged", "junit.xml"))).toBe(true);
  });
});
