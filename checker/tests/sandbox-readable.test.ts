import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { CheckerError } from "../src/errors";
import { assertReadableByOthers } from "../src/runner/sandbox";

// Grading as root runs the forks as users of their own, who read the course as "other".

let base: string;
beforeEach(() => {
  base = mkdtempSync(path.join(os.tmpdir(), "kata-readable-"));
  chmodSync(base, 0o755);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** A course folder with vitest's package.json under node_modules, every folder open to others. */
function course(): string {
  const root = path.join(base, "course");
  mkdirSync(path.join(root, "node_modules", "vitest"), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(root, "node_modules", "vitest", "package.json"), "{}", { mode: 0o644 });
  return root;
}

function refusal(root: string, samples: string[]): string {
  try {
    assertReadableByOthers(root, samples);
  } catch (error) {
    expect(error).toBeInstanceOf(CheckerError);
    expect((error as CheckerError).code).toBe("E_SANDBOX");
    return (error as Error).message;
  }
  throw new Error("expected the course to be refused");
}

it("accepts a course every user can read", () => {
  expect(() => assertReadableByOthers(course(), ["node_modules/vitest/package.json"])).not.toThrow();
});

it("names a folder above the course that others cannot enter", () => {
  const root = course();
  chmodSync(base, 0o700);
  expect(refusal(root, [])).toContain(`${base} (others cannot enter it)`);
});

it("names a file others cannot read", () => {
  const root = course();
  chmodSync(path.join(root, "node_modules", "vitest", "package.json"), 0o600);
  expect(refusal(root, ["node_modules/vitest/package.json"])).toContain(
    "node_modules/vitest/package.json (others cannot read it)",
  );
});

it("follows a linked node_modules to a folder others cannot enter", () => {
  const root = path.join(base, "linked");
  mkdirSync(root, { mode: 0o755 });
  const closed = path.join(base, "closed");
  mkdirSync(path.join(closed, "node_modules", "vitest"), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(closed, "node_modules", "vitest", "package.json"), "{}", { mode: 0o644 });
  chmodSync(closed, 0o700);
  symlinkSync(path.join(closed, "node_modules"), path.join(root, "node_modules"), "dir");
  expect(refusal(root, ["node_modules/vitest/package.json"])).toContain(`${closed} (others cannot enter it)`);
});

it("says nothing of a sample that does not exist", () => {
  expect(() => assertReadableByOthers(course(), ["no/such/file"])).not.toThrow();
});
