import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hostileRoot, tempCourse, type TempCourse } from "./support/temp-course";

let course: TempCourse;
beforeAll(() => {
  course = tempCourse([{ from: hostileRoot, id: "week90-hostile", withSolutions: false }]);
});
afterAll(() => course?.remove());

it("re-runs the check on every save and quits cleanly on Ctrl-C", async () => {
  const child = spawn(
    process.execPath,
    [path.join(course.root, "checker", "bin", "course.mjs"), "watch", "week90", "honest"],
    {
      cwd: course.root,
      env: { ...process.env, NO_COLOR: "1", KATA_COURSE_ROOT: course.root },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
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

  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGINT");
  expect(await exited).toBe(0);
  expect(out).toContain("stopped watching week90.");
}, 120_000);
