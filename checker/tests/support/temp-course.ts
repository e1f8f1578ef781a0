import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHECKER_FOLDERS } from "../../src/integrity/course-lock";
import { assertReadableByOthers, sandboxAvailable } from "../../src/runner/sandbox";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

const COURSE_FILES = ["package.json", "vitest.config.ts", "tsconfig.json", "stryker.config.mjs"];

let mirrored: string | undefined;

/**
 * The node_modules a temporary course links to. Grading as root runs the forks as users of
 * their own, who must reach it: in a clone inside a folder only root may enter (`mktemp -d`
 * makes one), the tests use a hard-linked copy of it in a folder everyone may enter, made once
 * per test process and removed as it exits.
 */
function reachableNodeModules(): string {
  const own = path.join(repoRoot, "node_modules");
  if (!sandboxAvailable()) return own;
  try {
    assertReadableByOthers(repoRoot, ["node_modules/vitest/package.json"]);
    return own;
  } catch {
    if (mirrored) return mirrored;
    const dir = mkdtempSync(path.join(os.tmpdir(), "kata-node-modules-"));
    chmodSync(dir, 0o755);
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    execFileSync("cp", ["-al", own, path.join(dir, "node_modules")]);
    rmSync(path.join(dir, "node_modules", ".vite"), { recursive: true, force: true });
    return (mirrored = path.join(dir, "node_modules"));
  }
}

export interface TempCourse {
  root: string;
  remove(): void;
}

/**
 * A throwaway copy of the course machinery (node_modules linked, not copied) with the given
 * week folders: real weeks from this repository, or hostile ones from checker/tests/hostile.
 */
export function tempCourse(
  weeks: { from: string; id: string; withSolutions?: boolean }[],
  options: { ownNodeModules?: boolean } = {},
): TempCourse {
  const root = mkdtempSync(path.join(os.tmpdir(), "kata-course-"));
  // Readable by others, as a clone is: grading as root runs the forks as unprivileged users.
  chmodSync(root, 0o755);
  for (const file of COURSE_FILES)
    if (existsSync(path.join(repoRoot, file))) cpSync(path.join(repoRoot, file), path.join(root, file));
  for (const dir of CHECKER_FOLDERS) cpSync(path.join(repoRoot, dir), path.join(root, dir), { recursive: true });
  const nodeModules = reachableNodeModules();
  if (options.ownNodeModules) {
    // A folder of its own whose packages link to the repository's: tools that write beside
    // the packages (vite's .vite-temp) can, as another user, without touching the repository.
    mkdirSync(path.join(root, "node_modules"));
    for (const entry of readdirSync(nodeModules)) {
      if (entry.startsWith(".vite")) continue;
      symlinkSync(path.join(nodeModules, entry), path.join(root, "node_modules", entry));
    }
  } else {
    symlinkSync(nodeModules, path.join(root, "node_modules"), "dir");
  }
  for (const week of weeks) {
    cpSync(path.join(week.from, "exercises", week.id), path.join(root, "exercises", week.id), { recursive: true });
    const solutions = path.join(week.from, "solutions", week.id);
    if (week.withSolutions !== false && existsSync(solutions))
      cpSync(solutions, path.join(root, "solutions", week.id), { recursive: true });
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export const hostileRoot = fileURLToPath(new URL("../hostile/", import.meta.url));
