#!/usr/bin/env node
// The checker's own speed, measured the way a learner and a teacher meet it (issue 20's goals):
//   check    `npm run check week2`, cold, against a raw `vitest run` of the same test files
//   watch    the re-run after a save, beyond the tests' own time
//   verify   `npm run verify` over every week
//   grade    `npm run grade` over every week, in a fresh clone whose katas are the solutions
//   test     `npm test`
// Short cases run --runs times (default 5) interleaved and report medians; the long ones run
// once unless --long-runs says otherwise. Not part of `npm test`: it takes many minutes and
// means something only on a quiet machine.
//
//   node checker/bin/speed.mjs [--only check,watch,verify,grade,test] [--runs 5] [--long-runs 1]
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
const { values } = parseArgs({
  options: {
    only: { type: "string", default: "check,watch,verify,grade,test" },
    runs: { type: "string", default: "5" },
    "long-runs": { type: "string", default: "1" },
  },
});
const cases = new Set(values.only.split(","));
const runs = Number(values.runs);
const longRuns = Number(values["long-runs"]);
const node = process.execPath;
const course = path.join(root, "checker/bin/course.mjs");
const vitestBin = path.join(root, "node_modules/vitest/vitest.mjs");

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** Wall time of one command run to its end (its exit code is not judged: a skeleton fails). */
function timed(args, options = {}, command = node) {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "ignore", ...options });
  if (result.error) throw result.error;
  return performance.now() - started;
}

function weekTestFiles(folder) {
  const dir = path.join(root, "exercises", folder, "tests");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => path.join("exercises", folder, "tests", f));
}

const report = [];
function row(name, measured, goal) {
  report.push({ name, measured, goal });
  console.log(`${name.padEnd(44)} ${measured.padEnd(34)} goal: ${goal}`);
}

function checkCase() {
  const files = weekTestFiles("week02-async-threading");
  const ours = [];
  const raw = [];
  for (let i = 0; i < runs; i++) {
    const pair = [
      () => ours.push(timed([course, "check", "week2"])),
      () => raw.push(timed([vitestBin, "run", "--project", "course", ...files])),
    ];
    if (i % 2) pair.reverse();
    for (const run of pair) run();
  }
  const ratio = median(ours) / median(raw);
  row(
    "check week2 vs raw vitest run",
    `${seconds(median(ours))} vs ${seconds(median(raw))}: ${ratio.toFixed(2)}x`,
    "<= 1.1x",
  );
}

/** The kata's tests' own time, as vitest's JSON reporter adds them up. */
function testsOwnTime(file) {
  const out = path.join(os.tmpdir(), `speed-${process.pid}.json`);
  spawnSync(node, [vitestBin, "run", "--project", "course", "--reporter=json", `--outputFile=${out}`, file], {
    cwd: root,
    stdio: "ignore",
  });
  const json = JSON.parse(readFileSync(out, "utf8"));
  rmSync(out, { force: true });
  return json.testResults.flatMap((f) => f.assertionResults).reduce((sum, t) => sum + (t.duration ?? 0), 0);
}

async function watchCase() {
  const kata = "map-concurrent";
  const source = path.join(root, "exercises/week02-async-threading/src/map-concurrent.ts");
  const original = readFileSync(source, "utf8");
  const own = testsOwnTime("exercises/week02-async-threading/tests/map-concurrent.test.ts");
  const child = spawn(node, [course, "watch", "week2", kata], { cwd: root, stdio: ["ignore", "pipe", "ignore"] });
  let seen = 0;
  let waiter;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    seen += chunk.split("for changes").length - 1;
    waiter?.();
  });
  const nextRun = (count) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("watch did not re-run within 60 s")), 60_000);
      waiter = () => {
        if (seen >= count) {
          clearTimeout(timer);
          resolve();
        }
      };
      waiter();
    });
  const latencies = [];
  try {
    await nextRun(1);
    for (let i = 0; i < runs; i++) {
      // A learner reads the report before saving again: the session is idle for a moment.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const started = performance.now();
      // Every save changes the content: an unchanged write may be skipped by the watcher.
      writeFileSync(source, i % 2 ? original : `${original}\n`);
      await nextRun(i + 2);
      latencies.push(performance.now() - started);
    }
  } finally {
    writeFileSync(source, original);
    child.kill("SIGINT");
  }
  const beyond = median(latencies) - own;
  row(
    "watch re-run after a save",
    `${seconds(median(latencies))} (tests ${seconds(own)}): +${seconds(beyond)}`,
    "<= 0.3 s beyond the tests",
  );
}

function longCase(name, goalMs, goal, args, cwd = root, command = node) {
  const times = [];
  for (let i = 0; i < longRuns; i++) times.push(timed(args, { cwd }, command));
  row(name, `${seconds(median(times))}${median(times) > goalMs ? " (over)" : ""}`, goal);
}

/** A fresh clone whose kata files are the reference solutions: what grading a finished course costs. */
function solvedClone() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "speed-grade-"));
  spawnSync("git", ["clone", "-q", root, dir], { stdio: "inherit" });
  for (const week of readdirSync(path.join(dir, "solutions"))) {
    cpSync(path.join(dir, "solutions", week, "src"), path.join(dir, "exercises", week, "src"), { recursive: true });
  }
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
  // The grader drops to an unprivileged user when run as root: it must be able to read the clone.
  chmodSync(dir, 0o755);
  return dir;
}

if (cases.has("check")) checkCase();
if (cases.has("watch")) await watchCase();
if (cases.has("verify")) longCase("verify, every week", 120_000, "<= 120 s", [course, "verify"]);
if (cases.has("grade")) {
  const dir = solvedClone();
  try {
    longCase(
      "grade, every week, solved",
      300_000,
      "<= 5 min",
      [path.join(dir, "checker/bin/course.mjs"), "grade"],
      dir,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (cases.has("test")) longCase("npm test", 360_000, "<= 6 min", ["test"], root, "npm");
writeFileSync(path.join(os.tmpdir(), "checker-speed.json"), `${JSON.stringify(report, null, 2)}\n`);
