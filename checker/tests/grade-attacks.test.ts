import {
  chownSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCourse } from "../src/course/load";
import { gradeResultsSchema, type GradeResults } from "../src/grade/results";
import { computeLock, writeLock } from "../src/integrity/course-lock";
import { processTable } from "../vitest/process-tree";
import { runCli, type CliRun } from "./support/run-cli";
import { hostileRoot, tempCourse, type TempCourse } from "./support/temp-course";

// Learner code that attacks the grader rather than its own tests, planted through files under
// exercises/*/src only, graded as CI would: sandboxed (the checker runs as root here) and
// unsandboxed (as an unprivileged user). Every attack scores 0 with its cause named, the
// honest katas of the same run still score, and the run ends within its bound.
const WEEK = "week91-grader-attacks";
const UNPRIVILEGED = 65534;
const isRoot = process.getuid?.() === 0;
const ENV = { KATA_BLOCK_LIMIT_MS: "3000", KATA_FILE_BOUND_S: "12", KATA_RSS_MB: "600", KATA_HEAP_MB: "256" };

/** Attacks that only the sandbox can stop: without it they would freeze or outlive this test. */
const SANDBOX_ONLY = ["signal-grader", "detached-writer"];
/** Attacks on the course's files: without the sandbox they make the whole run score 0, so they are graded on their own there. */
const ON_FILES = ["rewrite-neighbour"];

const CAUSES: Record<string, RegExp> = {
  "fd-flood": /expected 41 to be 42/,
  "never-settles": /did not finish within \d+ s/,
  "blind-watchdog": /blocked the event loop/,
  "signal-grader": /expected 41 to be 42/,
  "detached-writer": /expected 41 to be 42/,
  "vitest-import": /imports vitest, which is the test runner/,
  "require-vitest": /imports node:module, which is a way into the process's internals/,
  "builtin-require": /test runtime was tampered with/,
  "forge-rpc": /test runtime was tampered with|left open/,
  "forge-neighbour": /a message it may not send \(a report about a task of another test file/,
  "cancel-run": /a message it may not send \(the runner method "onCancel"\)/,
  "neuter-chai": /test runtime was tampered with/,
  "leak-guard-off": /left open: .*timer/,
  "buffer-bomb": /used \d+ MB of memory/,
  "borrow-solution": /imports .*solutions.*which is the reference solutions/,
  "ts-nocheck": /@ts-nocheck turns the type checker off.*@ts-ignore on line 3/,
  "helper-type-error": /TS2322: Type 'number' is not assignable to type 'string'/,
  "rewrite-neighbour": /expected 41 to be 42/,
};

const allKatas = (
  JSON.parse(readFileSync(path.join(hostileRoot, "exercises", WEEK, "week.json"), "utf8")) as {
    katas: { id: string }[];
  }
).katas.map((k) => k.id);

/** The attack week cut down to some katas, locked as the course ships it, owned by `owner`. */
function attackCourse(katas: readonly string[], owner?: number): TempCourse {
  const course = tempCourse([{ from: hostileRoot, id: WEEK }], { ownNodeModules: owner !== undefined });
  const manifestPath = path.join(course.root, "exercises", WEEK, "week.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { katas: { id: string; tests: string[] }[] };
  for (const kata of manifest.katas.filter((k) => !katas.includes(k.id)))
    for (const test of kata.tests) rmSync(path.join(course.root, "exercises", WEEK, test));
  manifest.katas = manifest.katas.filter((k) => katas.includes(k.id));
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  writeLock(course.root, computeLock(loadCourse(course.root)));
  if (owner !== undefined) chownTree(course.root, owner);
  return course;
}

function chownTree(dir: string, uid: number): void {
  chownSync(dir, uid, uid);
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (lstatSync(full).isSymbolicLink()) continue; // the packages stay the machine's
    if (lstatSync(full).isDirectory()) chownTree(full, uid);
    else chownSync(full, uid, uid);
  }
}

function results(root: string): GradeResults {
  return gradeResultsSchema.parse(JSON.parse(readFileSync(path.join(root, "grade", "results.json"), "utf8")));
}

const modes = [
  { name: "sandboxed, as root", sandboxed: true },
  { name: "unsandboxed, as an unprivileged user", sandboxed: false },
];

describe.runIf(isRoot).each(modes)("grading attacks on the grader, $name", ({ sandboxed }) => {
  const katas = allKatas.filter((k) => sandboxed || (!ON_FILES.includes(k) && !SANDBOX_ONLY.includes(k)));
  let course: TempCourse;
  let run: CliRun;
  let graded: GradeResults;
  let home: string;
  const kata = (id: string) => graded.weeks[0]!.katas.find((k) => k.id === id)!;
  const problems = (id: string) =>
    [
      kata(id).message ?? "",
      ...graded.tests.filter((t) => t.kata === id && t.status !== "pass").map((t) => t.message ?? ""),
    ].join("\n");

  beforeAll(async () => {
    course = attackCourse(katas, sandboxed ? undefined : UNPRIVILEGED);
    home = mkdtempSync(path.join(os.tmpdir(), "kata-home-"));
    chownSync(home, UNPRIVILEGED, UNPRIVILEGED);
    run = await runCli(course.root, ["grade"], {
      env: { ...ENV, HOME: home },
      timeoutMs: 180_000,
      ...(sandboxed ? {} : { uid: UNPRIVILEGED }),
    });
    graded = results(course.root);
  }, 200_000);

  afterAll(() => {
    course?.remove();
    rmSync(home, { recursive: true, force: true });
  });

  it("grades the run (exit 0), saying whether it is sandboxed", () => {
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stderr).toMatch(sandboxed ? /sandboxed, as unprivileged users/ : /running without the sandbox/);
  });

  it("still scores the honest katas, the one that prints a megabyte too", () => {
    expect(kata("honest")).toMatchObject({ status: "pass", score: 1 });
    expect(kata("loud-honest")).toMatchObject({ status: "pass", score: 1 });
  });

  it.each(Object.keys(CAUSES).filter((id) => katas.includes(id)))("gives %s no point, naming the cause", (id) => {
    expect(kata(id), problems(id)).toMatchObject({ status: "fail", score: 0 });
    expect(problems(id)).toMatch(CAUSES[id]!);
  });

  it("caps what learner code writes to the descriptors, per file", () => {
    expect(run.stdout.length + run.stderr.length, "40 MB of writes must not reach the terminal").toBeLessThan(200_000);
    expect(run.stdout + run.stderr).toMatch(/output of \S+fd-flood\.test\.ts passed \d+ bytes/);
  });

  it("ends within its bound although files hang, block and bomb", () => {
    expect(run.seconds).toBeLessThan(150);
  });

  it.runIf(sandboxed)("keeps the course's files out of reach: nothing was written, nothing is tampered", () => {
    expect(graded.tampered).toEqual([]);
    expect(kata("honest").score).toBe(1);
  });

  it.runIf(sandboxed)("leaves no process of the sandbox's users behind, and the results as written", async () => {
    // Other test files grade their own temporary courses, sandboxed too, at the same time:
    // a process working in another such course is theirs. Anything else is this run's.
    const elsewhere = (pid: number) => {
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`);
        return cwd.startsWith(path.join(os.tmpdir(), "kata-course-")) && !cwd.startsWith(course.root);
      } catch {
        return false;
      }
    };
    expect(processTable().filter((p) => p.uid >= 1_000_000 && !elsewhere(p.pid))).toEqual([]);
    const written = readFileSync(path.join(course.root, "grade", "results.json"), "utf8");
    // The detached writer waits 4 s after its start to rewrite the results.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(readFileSync(path.join(course.root, "grade", "results.json"), "utf8")).toBe(written);
  });
});

describe.runIf(isRoot)("grading an attack on the course's files, unsandboxed, as an unprivileged user", () => {
  let course: TempCourse;
  let run: CliRun;
  let graded: GradeResults;

  beforeAll(async () => {
    course = attackCourse(["honest", ...ON_FILES], UNPRIVILEGED);
    run = await runCli(course.root, ["grade"], { env: ENV, timeoutMs: 120_000, uid: UNPRIVILEGED });
    graded = results(course.root);
  }, 150_000);

  afterAll(() => course?.remove());

  it("sees the write although the original was restored: exit 3, and the run scores 0", () => {
    expect(run.code).toBe(3);
    expect(graded.status).toBe("error");
    expect(graded.message).toMatch(/changed during the run/);
    expect(graded.score).toBe(0);
    expect(graded.tampered.map((t) => t.path)).toContain(`exercises/${WEEK}/tests/honest.test.ts`);
    expect(
      readFileSync(path.join(course.root, "exercises", WEEK, "tests", "honest.test.ts"), "utf8"),
      "the attacker restored it",
    ).toMatch(/answers 42 deeply/);
  });
});
