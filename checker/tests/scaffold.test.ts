import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCourse } from "../src/course/load";
import { computeLock, readLock } from "../src/integrity/course-lock";
import { runCli, type CliRun } from "./support/run-cli";
import { repoRoot, tempCourse, type TempCourse } from "./support/temp-course";

// The scaffolder as a maintainer uses it: a new kata appended to a week, and a new week. What
// it writes fails the gate only where the author must write (the test, the solution, the hints).
const WEEK = "week05-rate-limiting";
let course: TempCourse;
let created: CliRun;
let verified: CliRun;

beforeAll(async () => {
  course = tempCourse([{ from: repoRoot, id: WEEK }]);
  created = await runCli(course.root, ["new", "week5", "leaky-bucket"]);
  verified = await runCli(course.root, ["verify", "week5", "leaky-bucket"], { timeoutMs: 150_000 });
}, 170_000);

afterAll(() => course?.remove());

describe("course new <week> <kata>", () => {
  it("writes the skeleton, the test and the solution with the course's conventions", () => {
    expect(created.code, created.stderr).toBe(0);
    const skeleton = readFileSync(path.join(course.root, "exercises", WEEK, "src", "leaky-bucket.ts"), "utf8");
    expect(skeleton.split("\n")[0]).toBe("// Kata: leaky-bucket");
    expect(skeleton).toMatch(/\/\/ TODO:/);
    expect(skeleton).toContain('throw new NotImplementedError("leaky-bucket")');
    expect(skeleton).toContain("Keep the exported names and signatures");
    expect(existsSync(path.join(course.root, "exercises", WEEK, "tests", "leaky-bucket.test.ts"))).toBe(true);
    expect(readFileSync(path.join(course.root, "solutions", WEEK, "src", "leaky-bucket.ts"), "utf8")).not.toContain(
      "// Kata:",
    );
  });

  it("appends the kata last in week.json (order is what learners see) with hint placeholders, and a README section", () => {
    const week = loadCourse(course.root).weeks.find((w) => w.id === WEEK)!;
    expect(week.katas.at(-1)).toMatchObject({
      id: "leaky-bucket",
      files: ["src/leaky-bucket.ts"],
      tests: ["tests/leaky-bucket.test.ts"],
    });
    expect(week.katas.at(-1)!.hints.length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(path.join(course.root, "exercises", WEEK, "README.md"), "utf8")).toMatch(/### leaky-bucket: /);
  });

  it("refreshes the lock", () => {
    expect(readLock(course.root)).toEqual(computeLock(loadCourse(course.root)));
  });

  it("fails verify where the author must write, and only there", () => {
    expect(verified.code).toBe(1);
    const breaches = verified.stdout.split("\n").filter((l) => l.startsWith(`  ${WEEK}`));
    expect(breaches.some((b) => /fails on the solution/.test(b))).toBe(true);
    expect(breaches.some((b) => /last hint does not link/.test(b))).toBe(true);
    expect(
      breaches.every((b) => /leaky-bucket: (fails on the solution|its last hint does not link)/.test(b)),
      breaches.join("\n"),
    ).toBe(true);
  });

  it("refuses an id that exists or is not kebab-case, and never overwrites", async () => {
    expect((await runCli(course.root, ["new", "week5", "token-bucket"])).stderr).toMatch(
      /already has a kata token-bucket/,
    );
    expect((await runCli(course.root, ["new", "week5", "Leaky_Bucket"])).stderr).toMatch(/kebab-case/);
  });
});

describe("course new-week <NN-topic>", () => {
  it("writes a README with the template's headings and a manifest verify reports as empty", async () => {
    const run = await runCli(course.root, ["new-week", "13-graphql"]);
    expect(run.code, run.stderr).toBe(0);
    const readme = readFileSync(path.join(course.root, "exercises", "week13-graphql", "README.md"), "utf8");
    expect(readme.match(/^## .*/gm)).toEqual([
      "## Why it matters",
      "## Core ideas",
      "## Trade-offs",
      "## In industry",
      "## Pitfalls",
      "## Katas",
      "## Further reading",
    ]);
    expect(loadCourse(course.root).weeks.map((w) => w.id)).toContain("week13-graphql");
    expect((await runCli(course.root, ["new-week", "13-graphql"])).stderr).toMatch(/exists already/);
  });
});
