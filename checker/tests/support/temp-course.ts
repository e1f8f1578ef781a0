import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHECKER_FOLDERS } from "../../src/integrity/course-lock";
import { inject } from "vitest";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

const COURSE_FILES = ["package.json", "vitest.config.ts", "tsconfig.json", "stryker.config.mjs"];

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
  // The checker project's global setup says which node_modules the sandbox's users can reach.
  const nodeModules = inject("nodeModules");
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
