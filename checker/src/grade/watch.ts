import { createHash } from "node:crypto";
import { existsSync, type FSWatcher, readdirSync, readFileSync, realpathSync, watch } from "node:fs";
import path from "node:path";
import type { Course } from "../course/model";
import { LOCK_FILE, protectedFiles } from "../integrity/course-lock";

// Tampering that a hash before and after the run cannot see: learner code that rewrites a
// test, a fixture, the config or the test runner in node_modules, lets the weakened copy be
// loaded, and restores the original. Every write to a protected path during the run is an
// event here, whatever was restored later; and the runner's own packages are hashed too.

/** The packages that run the tests and judge them; a learner's edit to one is an edit to the grader. */
export const RUNTIME_PACKAGES = ["vitest", "@vitest", "vite", "chai", "tinyspy"];
const ROOT_FILES = ["vitest.config.ts", "tsconfig.json", LOCK_FILE, "package.json", "package-lock.json"];

export interface ProtectedWatch {
  /** Stops watching; resolves with every protected path written during the run (relative). */
  stop(): Promise<string[]>;
}

/** Starts watching every protected path of the course, the runtime packages included. */
export function watchProtected(course: Course): ProtectedWatch {
  const root = course.root;
  const touched = new Set<string>();
  const watchers: FSWatcher[] = [];
  const { tests, machinery } = protectedFiles(course);
  const protectedRel = new Set([...tests.keys(), ...machinery, ...ROOT_FILES]);

  /** Watches `dir`; `label` names an event's path as the report shows it, or undefined to ignore it. */
  const add = (dir: string, recursive: boolean, label: (name: string) => string | undefined) => {
    if (!existsSync(dir)) return;
    try {
      const watcher = watch(dir, { recursive }, (_event, name) => {
        const rel = label(String(name ?? ""));
        if (rel !== undefined) touched.add(rel);
      });
      watcher.on("error", () => {});
      watchers.push(watcher);
    } catch {
      // No watcher on this platform or folder: the hashes after the run still apply.
    }
  };

  const under = (prefix: string) => (name: string) => `${prefix}/${name.split(path.sep).join("/")}`;
  const keep = (rel: string) => (protectedRel.has(rel) ? rel : undefined);
  add(root, false, keep);
  add(path.join(root, "checker"), true, (name) => {
    const rel = under("checker")(name);
    return rel.startsWith("checker/dist/") ? undefined : rel;
  });
  for (const week of course.weeks) {
    add(week.dir, true, (name) => {
      const rel = under(`exercises/${week.id}`)(name);
      return rel.startsWith(`exercises/${week.id}/tests/`) ? rel : keep(rel);
    });
  }
  for (const pkg of RUNTIME_PACKAGES) {
    // node_modules may be a link (a temp course): watch the real folder.
    const dir = path.join(root, "node_modules", pkg);
    if (existsSync(dir)) add(realpathSync(dir), true, under(`node_modules/${pkg}`));
  }

  return {
    stop: async () => {
      // inotify delivers asynchronously: let the last events arrive.
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const watcher of watchers) watcher.close();
      return [...touched].sort();
    },
  };
}

function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(full));
    else if (entry.isFile()) found.push(full);
  }
  return found.sort();
}

/** One hash per runtime package folder, over its files' names and contents. */
export function runtimeHashes(root: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const pkg of RUNTIME_PACKAGES) {
    const dir = path.join(root, "node_modules", pkg);
    if (!existsSync(dir)) continue;
    const hash = createHash("sha256");
    for (const file of filesUnder(realpathSync(dir))) hash.update(path.relative(dir, file)).update("\0").update(readFileSync(file));
    hashes[`node_modules/${pkg}`] = hash.digest("hex");
  }
  return hashes;
}
