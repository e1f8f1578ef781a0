import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hostileRoot, tempCourse, type TempCourse } from "./support/temp-course";

/** The processes started for this course's watch session (their environment names it), with their command lines. */
function sessionProcesses(root: string, except: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === except) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, "utf8").split("\0").includes(`KATA_COURSE_ROOT=${root}`)) continue;
      found.push({ pid: Number(name), command: readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ") });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** Waits until `ready()` holds, looking every 50 ms; fails with `what` after 30 s. */
async function eventually(ready: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (!ready()) {
    if (Date.now() > until) throw new Error(`waited 30 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let course: TempCourse;
beforeAll(() => {
  course = tempCourse([{ from: hostileRoot, id: "week90-hostile", withSolutions: false }]);
});
// A failed assertion must not leave the watch session running.
let session: ChildProcess | undefined;
afterAll(() => {
  session?.kill("SIGKILL");
  course?.remove();
});

it("re-runs the check on every save and quits cleanly on Ctrl-C", async () => {
  const child = (session = spawn(
    process.execPath,
    [path.join(course.root, "checker", "bin", "course.mjs"), "watch", "week90", "honest"],
    {
      cwd: course.root,
      env: { ...process.env, NO_COLOR: "1", KATA_COURSE_ROOT: course.root },
      stdio: ["ignore", "pipe", "pipe"],
    },
  ));
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  const until = (pattern: RegExp, count: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`waited for ${count}× ${pattern}; got:\n${out}`)), 60_000);
      const check = () => {
        if ((out.match(new RegExp(pattern.source, "g")) ?? []).length >= count) {
          clearTimeout(timer);
          child.stdout.off("data", check);
          resolve();
        }
      };
      child.stdout.on("data", check);
      check();
    });

  await until(/watching .* for changes/, 1);
  expect(out).toContain("✔ honest");
  const file = path.join(course.root, "exercises", "week90-hostile", "src", "honest.ts");
  writeFileSync(file, readFileSync(file, "utf8").replace("n * 2", "n * 3"));
  await until(/watching .* for changes/, 2);
  expect(out).toContain("✘ honest");

  // An editor's save can be several writes in a row: the run that follows reports the last one.
  const fixed = readFileSync(file, "utf8").replace("n * 3", "n * 2");
  const before = out.length;
  writeFileSync(file, fixed.replace("n * 2", "n * 4"));
  writeFileSync(file, fixed);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no passing re-run after the last write; got:\n${out}`)), 60_000);
    const check = () => {
      if (/✔ honest[\s\S]*watching .* for changes/.test(out.slice(before))) {
        clearTimeout(timer);
        child.stdout.off("data", check);
        resolve();
      }
    };
    child.stdout.on("data", check);
  });

  // Between saves the session keeps one test fork started ahead, and it ends with the session.
  const linux = existsSync("/proc");
  const testForks = () =>
    sessionProcesses(course.root, child.pid!).filter((p) => p.command.includes("workers/forks.js"));
  if (linux) await eventually(() => testForks().length === 1, "the spare test fork");
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGINT");
  expect(await exited).toBe(0);
  expect(out).toContain("stopped watching week90.");
  if (linux) await eventually(() => sessionProcesses(course.root, child.pid!).length === 0, "the spare fork to end");
}, 120_000);
