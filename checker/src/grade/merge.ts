import { CheckerError } from "../errors";
import { overallStatus, type GradeResults } from "./results";

/**
 * Merges the results of a matrix of grading jobs (one per week) into one: weeks side by side,
 * tests concatenated, the score summed. The same week graded twice is a configuration mistake.
 */
export function mergeResults(parts: readonly GradeResults[]): GradeResults {
  if (parts.length === 0) throw new CheckerError("E_USAGE", "nothing to merge", "npm run course -- merge-grades grade-week1 grade-week2 --out grade");
  const seen = new Set<string>();
  for (const part of parts) {
    for (const week of part.weeks) {
      if (seen.has(week.id)) throw new CheckerError("E_USAGE", `${week.id} appears in two results files; each job should grade different weeks`);
      seen.add(week.id);
    }
  }
  const weeks = parts.flatMap((p) => p.weeks).sort((a, b) => a.number - b.number);
  const score = weeks.reduce((s, w) => s + w.score, 0);
  const maxScore = weeks.reduce((s, w) => s + w.maxScore, 0);
  const errors = parts.filter((p) => p.status === "error").map((p) => p.message ?? "a grading job could not run");
  const messages = parts.map((p) => p.message).filter((m): m is string => Boolean(m));
  const starts = parts.map((p) => Date.parse(p.startedAt));
  const ends = parts.map((p) => Date.parse(p.startedAt) + p.durationMs);
  const error = errors.length > 0 ? errors.join(" · ") : undefined;
  const message = messages.join(" · ").slice(0, 500) || undefined;
  return {
    schema: "backend-katas/grade-results",
    version: parts[0]!.version,
    status: overallStatus(score, maxScore, error),
    ...(message ? { message } : {}),
    score,
    maxScore,
    startedAt: new Date(Math.min(...starts)).toISOString(),
    durationMs: Math.max(...ends) - Math.min(...starts),
    services: [...new Set(parts.flatMap((p) => p.services))],
    tampered: parts.flatMap((p) => p.tampered),
    weeks,
    tests: parts.flatMap((p) => p.tests),
  };
}
