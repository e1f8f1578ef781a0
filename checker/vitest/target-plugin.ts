import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Plugin } from "vite";
import { weekManifestSchema } from "../src/course/schema.ts";

const SOURCE_EXTENSIONS = ["", ".ts", ".mts", ".tsx", "/index.ts"];

/** Learner-editable files per week, as the manifests list them (`src/...`, relative to the week). */
export function readKataFiles(root: string): Map<string, Set<string>> {
  const weeks = new Map<string, Set<string>>();
  const exercises = path.join(root, "exercises");
  if (!existsSync(exercises)) return weeks;
  for (const week of readdirSync(exercises)) {
    const manifest = path.join(exercises, week, "week.json");
    if (!existsSync(manifest)) continue;
    const files = new Set<string>();
    try {
      const parsed = weekManifestSchema.parse(JSON.parse(readFileSync(manifest, "utf8")));
      for (const kata of parsed.katas) for (const f of kata.files) files.add(path.normalize(f));
    } catch {
      // A malformed manifest is the course loader's to report, with file and field; here it
      // only means no redirection for that week.
    }
    weeks.set(week, files);
  }
  return weeks;
}

function firstExisting(base: string): string | undefined {
  for (const ext of SOURCE_EXTENSIONS) {
    const candidate = base + ext;
    if (existsSync(candidate) && !candidate.endsWith("/")) return candidate;
  }
  return undefined;
}

/**
 * Points the tests at the reference solutions without copying or rewriting anything:
 * an import of a kata file from `exercises/<week>/...` resolves to `solutions/<week>/...`,
 * and a solution's import of a shared file that only exists on the exercise side (a Clock
 * type, a domain type) falls back to it, mirroring tsconfig's `rootDirs`.
 */
export function solutionTargetPlugin(root: string): Plugin {
  const exercisesDir = path.join(root, "exercises") + path.sep;
  const solutionsDir = path.join(root, "solutions") + path.sep;
  const kataFiles = readKataFiles(root);

  return {
    name: "kata-solution-target",
    enforce: "pre",
    resolveId(source, importer) {
      if (!importer || !source.startsWith(".")) return null;
      const importerPath = importer.split("?")[0]!;
      const wanted = path.resolve(path.dirname(importerPath), source);

      if (importerPath.startsWith(exercisesDir)) {
        const rel = wanted.slice(exercisesDir.length); // <week>/src/...
        const [week, ...rest] = rel.split(path.sep);
        if (!week || rest.length === 0) return null;
        const inWeek = rest.join(path.sep);
        const exerciseFile = firstExisting(wanted);
        const relFile = exerciseFile ? path.relative(path.join(exercisesDir, week), exerciseFile) : inWeek + ".ts";
        if (!kataFiles.get(week)?.has(path.normalize(relFile))) return null;
        const solutionFile = path.join(solutionsDir, week, relFile);
        if (!existsSync(solutionFile)) {
          throw new Error(
            `The solution target needs ${path.relative(root, solutionFile)} (imported as "${source}" from ${path.relative(root, importerPath)}), but it does not exist.`,
          );
        }
        return solutionFile;
      }

      if (importerPath.startsWith(solutionsDir)) {
        if (firstExisting(wanted)) return null;
        const mirrored = path.join(exercisesDir, wanted.slice(solutionsDir.length));
        return firstExisting(mirrored) ?? null;
      }
      return null;
    },
  };
}
