import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { Course } from "../course/model";

export const LOCK_FILE = "course.lock.json";

/**
 * What the lock protects: the specification (test files, manifests), the machinery that runs
 * it (fixtures, vitest config and setup, the checker), and the skeletons as shipped (so
 * `reset` can find the original in git history).
 */
export const lockSchema = z.object({
  version: z.literal(1),
  /** Files a learner must not change, by path relative to the root. */
  protected: z.record(z.string(), z.string()),
  /** Skeleton files as the course ships them. */
  skeletons: z.record(z.string(), z.string()),
});
export type CourseLock = z.infer<typeof lockSchema>;

/** The checker's folders: what runs and judges the tests (its own tests and dist/ are not part of it). */
export const CHECKER_FOLDERS = [
  "checker/src",
  "checker/bin",
  "checker/vitest",
  "checker/fixtures",
  "checker/kata",
] as const;
const MACHINERY_FILES = ["vitest.config.ts", "tsconfig.json"];

export function sha256(content: string | Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

function listFiles(root: string, dir: string): string[] {
  const full = path.join(root, dir);
  if (!existsSync(full)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(full, { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...listFiles(root, rel));
    else found.push(rel);
  }
  return found;
}

/** The owner recorded for a file that concerns every kata of a week. */
export function wholeWeek(weekId: string): string {
  return `${weekId}/*`;
}

/** Protected files grouped by what an edit to them means. */
export function protectedFiles(course: Course): { tests: Map<string, string>; machinery: string[] } {
  const tests = new Map<string, string>(); // path -> week/kata key
  const machinery: string[] = [...MACHINERY_FILES];
  for (const dir of CHECKER_FOLDERS) machinery.push(...listFiles(course.root, dir));
  for (const week of course.weeks) {
    machinery.push(`exercises/${week.id}/week.json`);
    // Helpers beside the tests (tests/support/...) are part of the specification too; an edit
    // to one can change any kata of the week, so they belong to the whole week.
    for (const rel of listFiles(course.root, `exercises/${week.id}/tests`)) tests.set(rel, wholeWeek(week.id));
    for (const kata of week.katas) for (const test of kata.tests) tests.set(`exercises/${week.id}/${test}`, kata.key);
  }
  return { tests, machinery: machinery.sort() };
}

/**
 * package.json is the learner's to extend (a dependency they like), but its `imports` map
 * decides where `#fixtures` come from and its scripts decide what `npm run grade` runs: those
 * fields are protected, under this pseudo-path.
 */
export const PACKAGE_FIELDS_ENTRY = "package.json#imports,scripts,type";

function packageFieldsHash(root: string): string | undefined {
  const file = path.join(root, "package.json");
  if (!existsSync(file)) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    return sha256(
      JSON.stringify({ imports: pkg.imports ?? null, scripts: pkg.scripts ?? null, type: pkg.type ?? null }),
    );
  } catch {
    return sha256("unparseable package.json");
  }
}

/** Computes the lock for the course as it is on disk now. */
export function computeLock(course: Course): CourseLock {
  const { tests, machinery } = protectedFiles(course);
  const hashOf = (rel: string) => sha256(readFileSync(path.join(course.root, rel)));
  const protectedHashes: Record<string, string> = {};
  for (const rel of [...machinery, ...[...tests.keys()].sort()]) {
    if (existsSync(path.join(course.root, rel))) protectedHashes[rel] = hashOf(rel);
  }
  const fields = packageFieldsHash(course.root);
  if (fields) protectedHashes[PACKAGE_FIELDS_ENTRY] = fields;
  const skeletons: Record<string, string> = {};
  for (const week of course.weeks) {
    for (const kata of week.katas) {
      for (const file of kata.files) {
        const rel = `exercises/${week.id}/${file}`;
        if (existsSync(path.join(course.root, rel))) skeletons[rel] = hashOf(rel);
      }
    }
  }
  return { version: 1, protected: protectedHashes, skeletons };
}

export function readLock(root: string): CourseLock | undefined {
  const file = path.join(root, LOCK_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = lockSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  return parsed.success ? parsed.data : undefined;
}

export function writeLock(root: string, lock: CourseLock): void {
  writeFileSync(path.join(root, LOCK_FILE), JSON.stringify(lock, null, 2) + "\n");
}

/** The paths whose recorded hash differs from disk (edited or deleted), and those added since. */
export function diffLock(
  expected: Record<string, string>,
  actual: Record<string, string>,
): { changed: string[]; missing: string[]; added: string[] } {
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [rel, hash] of Object.entries(expected)) {
    if (!(rel in actual)) missing.push(rel);
    else if (actual[rel] !== hash) changed.push(rel);
  }
  const added = Object.keys(actual).filter((rel) => !(rel in expected));
  return { changed, missing, added };
}
