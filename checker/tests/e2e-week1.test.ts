import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCourse } from "../src/course/load";
import { computeLock, writeLock } from "../src/integrity/course-lock";
import { PROGRESS_FILE } from "../src/progress/store";
import { runCli } from "./support/run-cli";
import { repoRoot, tempCourse, type TempCourse } from "./support/temp-course";

// A learner's first steps, end to end, in a throwaway copy of the course: week 1 on the
// untouched skeleton, then with the reference solutions copied in.
const WEEK = "week01-layered-architecture";
let course: TempCourse;

function git(...args: string[]): void {
  execFileSync("git", args, { cwd: course.root, stdio: "ignore" });
}

beforeAll(() => {
  course = tempCourse([{ from: repoRoot, id: WEEK }]);
  writeLock(course.root, computeLock(loadCourse(course.root)));
  writeFileSync(path.join(course.root, ".gitignore"), "node_modules\n.progress.json*\n.backup/\nchecker/dist\n");
  git("init", "-q");
  git("add", "-A");
  git("-c", "user.email=course@example.org", "-c", "user.name=course", "commit", "-qm", "course");
});
afterAll(() => course?.remove());

const kataFiles = () => {
  const manifest = JSON.parse(readFileSync(path.join(course.root, "exercises", WEEK, "week.json"), "utf8")) as {
    katas: { id: string; files: string[] }[];
  };
  return manifest.katas;
};

describe("a learner's first run", { timeout: 240_000 }, () => {
  it("fails week 1 on the skeleton with exit 1, a line per kata and one next step", async () => {
    const run = await runCli(course.root, ["check", "week1"], { timeoutMs: 180_000 });
    expect(run.code, run.stderr).toBe(1);
    for (const kata of kataFiles()) expect(run.stdout).toContain(kata.id);
    expect(run.stdout).toMatch(/✘ order-service/);
    expect(run.stdout).toMatch(/^next: npm run hint week1 order-service/m);
    const progress = JSON.parse(readFileSync(path.join(course.root, PROGRESS_FILE), "utf8")) as {
      katas: Record<string, { status: string; runs: number }>;
    };
    expect(progress.katas[`${WEEK}/order-service`]).toMatchObject({ status: "failed", runs: 1 });
  });

  it("grades the untouched skeleton 0 with status fail, and leaves the learner's progress alone", async () => {
    const before = readFileSync(path.join(course.root, PROGRESS_FILE), "utf8");
    const run = await runCli(course.root, ["grade", "week1"], { timeoutMs: 180_000 });
    expect(run.code, run.stderr).toBe(0);
    const results = JSON.parse(readFileSync(path.join(course.root, "grade", "results.json"), "utf8")) as {
      status: string;
      score: number;
      maxScore: number;
    };
    expect(results).toMatchObject({ status: "fail", score: 0, maxScore: kataFiles().length });
    expect(
      readFileSync(path.join(course.root, PROGRESS_FILE), "utf8"),
      "grading neither reads nor writes .progress.json",
    ).toBe(before);
  });

  it("names the valid weeks and the closest one for a typo, in one line, exit 1", async () => {
    const run = await runCli(course.root, ["check", "layered-architectur"]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/E_UNKNOWN_WEEK: .*did you mean week1/);
  });

  it("gives the hints one rung at a time and remembers them", async () => {
    const first = await runCli(course.root, ["hint", "week1", "order-service"]);
    expect(first.stdout).toMatch(/hint 1\/\d+ \(new\)/);
    const second = await runCli(course.root, ["hint", "week1", "order-service"]);
    expect(second.stdout).toMatch(/hint 1\/\d+\n/);
    expect(second.stdout).toMatch(/hint 2\/\d+ \(new\)/);
  });

  it("keeps the reference hidden before the kata passes unless asked", async () => {
    const refused = await runCli(course.root, ["compare", "week1", "order-service"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/E_SPOILER/);
    const shown = await runCli(course.root, ["compare", "week1", "order-service", "--yes"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^\+\+\+ reference\//m);
  });

  it("resets a kata to its skeleton and keeps the learner's version", async () => {
    const kata = kataFiles()[0]!;
    const file = path.join(course.root, "exercises", WEEK, kata.files[0]!);
    const original = readFileSync(file, "utf8");
    writeFileSync(file, original + "\n// my attempt\n");
    const run = await runCli(course.root, ["reset", "week1", kata.id]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(original);
    const backups = path.join(course.root, ".backup", WEEK, kata.id);
    const saved = path.join(backups, readdirSync(backups)[0]!, "exercises", WEEK, kata.files[0]!);
    expect(readFileSync(saved, "utf8")).toContain("// my attempt");
  });

  it("passes week 1 with the reference solutions copied in: exit 0, progress written, full marks", async () => {
    for (const kata of kataFiles()) {
      for (const file of kata.files)
        cpSync(path.join(course.root, "solutions", WEEK, file), path.join(course.root, "exercises", WEEK, file));
    }
    const run = await runCli(course.root, ["check", "week1"], { timeoutMs: 180_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const progress = JSON.parse(readFileSync(path.join(course.root, PROGRESS_FILE), "utf8")) as {
      katas: Record<string, { status: string; firstPassedAt: string | null }>;
    };
    for (const kata of kataFiles()) {
      expect(progress.katas[`${WEEK}/${kata.id}`]?.status).toBe("passed");
      expect(progress.katas[`${WEEK}/${kata.id}`]?.firstPassedAt).not.toBeNull();
    }
    const graded = await runCli(course.root, ["grade", "week1"], { timeoutMs: 180_000 });
    expect(graded.code, graded.stderr).toBe(0);
    const results = JSON.parse(readFileSync(path.join(course.root, "grade", "results.json"), "utf8")) as {
      status: string;
      score: number;
      maxScore: number;
    };
    expect(results).toMatchObject({ status: "pass", score: kataFiles().length, maxScore: kataFiles().length });
    const overview = await runCli(course.root, ["check"]);
    expect(overview.stdout).toMatch(new RegExp(`week1 .* ${kataFiles().length}/${kataFiles().length} katas`));
    expect(existsSync(path.join(course.root, ".backup"))).toBe(true);
  });
});
