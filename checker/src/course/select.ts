import { CheckerError } from "../errors";
import { WEEK_FOLDER } from "./load";
import type { Course, Kata, Week } from "./model";

/** Edit distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

export function closest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 2)) ? best : undefined;
}

/** Every way a learner may name a week folder: 5, 05, week5, week05, week05-rate-limiting, rate-limiting. */
function folderAliases(folder: string): string[] {
  const match = WEEK_FOLDER.exec(folder);
  if (!match) return [folder];
  const [, digits, topic] = match;
  return [String(Number(digits)), digits!, `week${Number(digits)}`, `week${digits}`, folder, topic!];
}

function weekAliases(week: Week): string[] {
  return folderAliases(week.id);
}

/** The week a word names, or undefined when it names none. */
export function tryResolveWeek(course: Course, input: string): Week | undefined {
  const wanted = input.trim().toLowerCase();
  return course.weeks.find((w) => weekAliases(w).includes(wanted));
}

/** Finds a week by any of its names; an unknown one names the valid ones and the closest match. */
export function resolveWeek(course: Course, input: string): Week {
  const wanted = input.trim().toLowerCase();
  const week = tryResolveWeek(course, wanted);
  if (week) return week;
  const brokenMatch = course.broken.find((b) => folderAliases(b.folder).includes(wanted));
  if (brokenMatch)
    throw new CheckerError(
      "E_MANIFEST",
      brokenMatch.message,
      "git checkout -- exercises/ (restore the course's manifests)",
    );
  const names = course.weeks.map((w) => `week${w.number} (${w.topic})`);
  const suggestion = closest(wanted, course.weeks.flatMap(weekAliases));
  const match = suggestion ? course.weeks.find((w) => weekAliases(w).includes(suggestion)) : undefined;
  throw new CheckerError(
    "E_UNKNOWN_WEEK",
    `no week "${input}"${match ? `; did you mean week${match.number} (${match.topic})?` : ""} Weeks: ${names.join(", ") || "none yet"}`,
    match ? `npm run check week${match.number}` : "npm run check",
  );
}

/** Finds a kata of a week by id (or its 1-based position); an unknown one names the valid ones. */
export function resolveKata(week: Week, input: string): Kata {
  const wanted = input.trim().toLowerCase();
  const byPosition = /^\d+$/.test(wanted) ? week.katas[Number(wanted) - 1] : undefined;
  const kata = byPosition ?? week.katas.find((k) => k.id === wanted);
  if (kata) return kata;
  const suggestion = closest(
    wanted,
    week.katas.map((k) => k.id),
  );
  throw new CheckerError(
    "E_UNKNOWN_KATA",
    `week${week.number} has no kata "${input}"${suggestion ? `; did you mean ${suggestion}?` : ""} Katas: ${week.katas.map((k) => k.id).join(", ")}`,
    `npm run check week${week.number}${suggestion ? ` ${suggestion}` : ""}`,
  );
}

/** Short label used in commands and reports: week5. */
export function weekLabel(week: Week): string {
  return `week${week.number}`;
}
