import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { solutionTargetPlugin } from "../vitest/target-plugin";
import { currentTarget } from "../vitest/target";

const root = fileURLToPath(new URL("./fixtures/target-course/", import.meta.url));
const week = path.join(root, "exercises", "week01-demo");
const solution = path.join(root, "solutions", "week01-demo");
const testFile = path.join(week, "tests", "greet.test.ts");

function resolve(source: string, importer: string): unknown {
  const plugin = solutionTargetPlugin(root);
  const hook = plugin.resolveId as (this: unknown, source: string, importer: string | undefined) => unknown;
  return hook.call({}, source, importer);
}

describe("choosing the target", () => {
  it("runs the learner's code unless the target is the solution", () => {
    expect(currentTarget({})).toBe("exercises");
    expect(currentTarget({ KATA_TARGET: "exercises" })).toBe("exercises");
    expect(currentTarget({ KATA_TARGET: "solution" })).toBe("solution");
  });
});

describe("the solution target plugin", () => {
  it("points a test's import of a kata file at the reference solution", () => {
    expect(resolve("../src/greet", testFile)).toBe(path.join(solution, "src", "greet.ts"));
  });

  it("leaves shared files of the exercise side alone", () => {
    expect(resolve("../src/shared", testFile)).toBeNull();
  });

  it("resolves a solution's import of a shared file to the exercise side, like rootDirs", () => {
    expect(resolve("./shared", path.join(solution, "src", "greet.ts"))).toBe(path.join(week, "src", "shared.ts"));
  });

  it("fails with the missing path when a kata's solution file does not exist", () => {
    expect(() => resolve("../src/lost", path.join(week, "tests", "lost.test.ts"))).toThrow(
      /solutions\/week01-demo\/src\/lost\.ts/,
    );
  });

  it("ignores bare imports and importers outside the course folders", () => {
    expect(resolve("vitest", testFile)).toBeNull();
    expect(resolve("./x", path.join(root, "elsewhere", "a.ts"))).toBeNull();
  });
});
