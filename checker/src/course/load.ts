import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import { CheckerError } from "../errors";
import type { BrokenWeek, Course, Kata, Week } from "./model";
import { weekManifestSchema } from "./schema";

export const WEEK_FOLDER = /^week(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$/;

function describeIssue(issue: z.core.$ZodIssue): string {
  const where =
    issue.path.length > 0
      ? issue.path
          .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
          .join("")
          .replace(/^\./, "")
      : "(root)";
  return `${where}: ${issue.message}`;
}

/** Parses one week.json into a Week; a malformed one fails with the file, the field and what was expected. */
export function parseWeek(root: string, folder: string, text: string): Week {
  const match = WEEK_FOLDER.exec(folder);
  if (!match)
    throw new CheckerError(
      "E_MANIFEST",
      `exercises/${folder}: week folders are named weekNN-topic (two digits, kebab-case)`,
    );
  const file = `exercises/${folder}/week.json`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CheckerError("E_MANIFEST", `${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = weekManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map(describeIssue).join("; ");
    throw new CheckerError("E_MANIFEST", `${file}: ${issues}`);
  }
  const manifest = parsed.data;
  const seenIds = new Set<string>();
  const testOwner = new Map<string, string>();
  for (const [index, kata] of manifest.katas.entries()) {
    if (seenIds.has(kata.id))
      throw new CheckerError("E_MANIFEST", `${file}: katas[${index}].id: "${kata.id}" is used twice in this week`);
    seenIds.add(kata.id);
    for (const test of kata.tests) {
      const owner = testOwner.get(test);
      if (owner)
        throw new CheckerError(
          "E_MANIFEST",
          `${file}: katas[${index}].tests: ${test} already belongs to kata ${owner}`,
        );
      testOwner.set(test, kata.id);
    }
  }
  const weekId = folder;
  const katas: Kata[] = manifest.katas.map((kata) => ({
    ...kata,
    weekId,
    key: `${weekId}/${kata.id}`,
  }));
  return {
    id: weekId,
    number: Number(match[1]),
    topic: match[2]!,
    title: manifest.title,
    summary: manifest.summary,
    dir: path.join(root, "exercises", folder),
    solutionDir: path.join(root, "solutions", folder),
    katas,
  };
}

/**
 * Loads every week found by listing exercises/: a new week needs no registration elsewhere.
 * A week with a broken manifest is set aside with its message, so it blocks only itself.
 */
export function loadCourse(root: string): Course {
  const exercises = path.join(root, "exercises");
  if (!existsSync(exercises)) throw new CheckerError("E_NO_COURSE", `no exercises/ folder in ${root}`);
  const folders = readdirSync(exercises, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name.startsWith("week"))
    .map((entry) => entry.name)
    .sort();
  const weeks: Week[] = [];
  const broken: BrokenWeek[] = [];
  const numbers = new Map<number, string>();
  for (const folder of folders) {
    try {
      const manifest = path.join(exercises, folder, "week.json");
      if (!existsSync(manifest))
        throw new CheckerError(
          "E_MANIFEST",
          `exercises/${folder}/week.json is missing: every week folder needs a manifest`,
        );
      const week = parseWeek(root, folder, readFileSync(manifest, "utf8"));
      const clash = numbers.get(week.number);
      if (clash)
        throw new CheckerError(
          "E_MANIFEST",
          `exercises/${folder}: week number ${week.number} is also used by ${clash}`,
        );
      numbers.set(week.number, folder);
      weeks.push(week);
    } catch (error) {
      if (!(error instanceof CheckerError)) throw error;
      broken.push({ folder, message: error.message });
    }
  }
  return { root, weeks, broken };
}
