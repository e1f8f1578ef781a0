import type { Course } from "../course/model";
import { computeLock, diffLock, protectedFiles, readLock, wholeWeek } from "../integrity/course-lock";

export interface TamperReport {
  /** The lock is missing or unreadable: nothing can be trusted. */
  noLock: boolean;
  /** Changed or deleted machinery (checker, config, fixtures, manifests): grading refuses. */
  machinery: { path: string; change: "modified" | "deleted" }[];
  /** Changed or deleted test files, with the kata (week/kata key) each belongs to: that kata scores 0. */
  tests: { path: string; change: "modified" | "deleted"; kata: string }[];
}

/** Compares the protected files on disk with the hashes the course recorded. */
export function checkTampering(course: Course): TamperReport {
  const lock = readLock(course.root);
  if (!lock) return { noLock: true, machinery: [], tests: [] };
  const actual = computeLock(course).protected;
  const { tests: testOwners } = protectedFiles(course);
  const diff = diffLock(lock.protected, actual);
  const report: TamperReport = { noLock: false, machinery: [], tests: [] };
  const recordedTests = new Set([...Object.keys(lock.protected)].filter((p) => /^exercises\/[^/]+\/tests\//.test(p)));
  const weekOf = (p: string) => wholeWeek(p.split("/")[1]!);
  const note = (path: string, change: "modified" | "deleted") => {
    if (recordedTests.has(path)) {
      const kata = testOwners.get(path) ?? ownerFromPath(course, path) ?? weekOf(path);
      report.tests.push({ path, change, kata });
    } else {
      report.machinery.push({ path, change });
    }
  };
  for (const path of diff.changed) note(path, "modified");
  for (const path of diff.missing) note(path, "deleted");
  return report;
}

function ownerFromPath(course: Course, path: string): string | undefined {
  for (const week of course.weeks) for (const kata of week.katas) if (kata.tests.some((t) => `exercises/${week.id}/${t}` === path)) return kata.key;
  return undefined;
}
