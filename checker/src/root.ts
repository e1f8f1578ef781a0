import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setting } from "../vitest/settings";
import { CheckerError } from "./errors";

const PACKAGE_NAME = "backend-engineering-katas";

function isCourseRoot(dir: string): boolean {
  const manifest = path.join(dir, "package.json");
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The course repository that contains `start` (the checker's own files, wherever they were built to). */
export function findCourseRoot(start: string = path.dirname(fileURLToPath(import.meta.url))): string {
  const given = setting("KATA_COURSE_ROOT");
  if (given && isCourseRoot(given)) return given;
  let dir = path.resolve(start);
  for (;;) {
    if (isCourseRoot(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new CheckerError(
    "E_NO_COURSE",
    `no course repository (package.json named ${PACKAGE_NAME}) above ${start}`,
    "cd into the course folder",
  );
}
