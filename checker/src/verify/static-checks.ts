import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Kata, Week } from "../course/model";

/** A breach of the course's own quality gate, with where it is. */
export interface Breach {
  week: string;
  kata?: string;
  message: string;
}

function listTests(dir: string, prefix = "tests"): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) found.push(...listTests(path.join(dir, entry.name), rel));
    else if (entry.name.endsWith(".test.ts")) found.push(rel);
  }
  return found;
}

/** Headings of a README, lower-cased, to find each kata's section. */
function headings(readme: string): string[] {
  return readme
    .split("\n")
    .filter((line) => /^#{1,6}\s/.test(line))
    .map((line) => line.toLowerCase());
}

function kataBreaches(week: Week, kata: Kata, readmeHeadings: string[] | undefined): string[] {
  const problems: string[] = [];
  let hasTodo = false;
  for (const file of kata.files) {
    const skeleton = path.join(week.dir, file);
    if (!existsSync(skeleton)) problems.push(`skeleton ${file} is missing`);
    else if (/\/\/\s*TODO\b/.test(readFileSync(skeleton, "utf8"))) hasTodo = true;
    if (!existsSync(path.join(week.solutionDir, file)))
      problems.push(`solution ${file} is missing (solutions/${week.id}/${file})`);
  }
  if (!hasTodo && kata.files.some((f) => existsSync(path.join(week.dir, f))))
    problems.push("no `// TODO` in its skeleton");
  for (const test of kata.tests)
    if (!existsSync(path.join(week.dir, test))) problems.push(`test file ${test} is missing`);
  if (!/https?:\/\//.test(kata.hints[kata.hints.length - 1] ?? ""))
    problems.push("its last hint does not link the standard or docs");
  if (readmeHeadings && !readmeHeadings.some((h) => h.includes(kata.id)))
    problems.push(`README.md has no section heading naming ${kata.id}`);
  return problems;
}

/** Files, TODOs, hints, README sections, orphan tests: everything verify can see without running. */
export function staticBreaches(week: Week): Breach[] {
  const breaches: Breach[] = [];
  const readmePath = path.join(week.dir, "README.md");
  const readme = existsSync(readmePath) ? readFileSync(readmePath, "utf8") : undefined;
  if (!readme) breaches.push({ week: week.id, message: "README.md is missing" });
  const readmeHeadings = readme ? headings(readme) : undefined;
  if (week.katas.length === 0)
    breaches.push({ week: week.id, message: "the week has no katas yet (npm run course -- new <week> <kata>)" });
  for (const kata of week.katas) {
    for (const message of kataBreaches(week, kata, readmeHeadings))
      breaches.push({ week: week.id, kata: kata.id, message });
  }
  const claimed = new Set(week.katas.flatMap((k) => k.tests));
  for (const test of listTests(path.join(week.dir, "tests"))) {
    if (!claimed.has(test))
      breaches.push({ week: week.id, message: `${test} belongs to no kata (add it to a kata's "tests" in week.json)` });
  }
  return breaches;
}
