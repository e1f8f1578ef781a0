import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadCourse } from "../src/course/load";
import { runtimeHashes, watchProtected } from "../src/grade/watch";

// The watch grade keeps over the protected paths while learner code runs: a write is seen
// even when the original bytes are put back before anyone hashes the file again.
let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function fakeCourse(): string {
  root = mkdtempSync(path.join(os.tmpdir(), "kata-watch-"));
  const week = path.join(root, "exercises", "week01-demo");
  for (const dir of ["src", "tests"]) mkdirSync(path.join(week, dir), { recursive: true });
  writeFileSync(
    path.join(week, "week.json"),
    JSON.stringify({
      title: "Demo",
      summary: "s",
      katas: [{ id: "a", title: "A", files: ["src/a.ts"], tests: ["tests/a.test.ts"], hints: ["x", "y"] }],
    }),
  );
  writeFileSync(path.join(week, "src", "a.ts"), "export const a = 1;\n");
  writeFileSync(path.join(week, "tests", "a.test.ts"), "// the spec\n");
  mkdirSync(path.join(root, "checker", "src"), { recursive: true });
  writeFileSync(path.join(root, "checker", "src", "cli.ts"), "// the checker\n");
  mkdirSync(path.join(root, "node_modules", "vitest", "dist"), { recursive: true });
  writeFileSync(path.join(root, "node_modules", "vitest", "dist", "index.js"), "export {};\n");
  writeFileSync(path.join(root, "vitest.config.ts"), "export default {};\n");
  return root;
}

describe("watching the protected paths during a run", () => {
  it("reports a test file and the runner's code written and restored, and not the learner's own files", async () => {
    const course = loadCourse(fakeCourse());
    const watch = watchProtected(course);
    const spec = path.join(root, "exercises", "week01-demo", "tests", "a.test.ts");
    const original = readFileSync(spec, "utf8");
    writeFileSync(spec, "// weakened\n");
    writeFileSync(spec, original);
    const runner = path.join(root, "node_modules", "vitest", "dist", "index.js");
    writeFileSync(runner, readFileSync(runner));
    writeFileSync(path.join(root, "exercises", "week01-demo", "src", "a.ts"), "export const a = 2;\n");
    writeFileSync(path.join(root, "vitest.config.ts"), "export default {};\n");
    const touched = await watch.stop();
    expect(touched).toEqual([
      "exercises/week01-demo/tests/a.test.ts",
      "node_modules/vitest/dist/index.js",
      "vitest.config.ts",
    ]);
  });

  it("reports nothing when nothing protected was written", async () => {
    const course = loadCourse(fakeCourse());
    const watch = watchProtected(course);
    writeFileSync(path.join(root, "exercises", "week01-demo", "src", "a.ts"), "export const a = 3;\n");
    expect(await watch.stop()).toEqual([]);
  });

  it("hashes the runtime packages so that a lasting edit shows after the run", () => {
    fakeCourse();
    const before = runtimeHashes(root);
    expect(Object.keys(before)).toEqual(["node_modules/vitest"]);
    writeFileSync(path.join(root, "node_modules", "vitest", "dist", "index.js"), "export const forged = true;\n");
    expect(runtimeHashes(root)["node_modules/vitest"]).not.toBe(before["node_modules/vitest"]);
  });
});
