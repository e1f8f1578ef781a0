import type { Week } from "../course/model";
import type { KataVerdict } from "../runner/verdicts";
import { wholeWeek } from "../integrity/course-lock";
import { boundMessage, overallStatus, RESULTS_VERSION, type GradeResults, type KataEntry, type TestEntry } from "./results";
import type { TamperReport } from "./tamper";

export interface GradeInput {
  weeks: readonly Week[];
  /** Verdicts of the katas that were run (absent: not reached before the deadline). */
  verdicts: ReadonlyMap<string, KataVerdict>;
  tamper: TamperReport;
  services: readonly string[];
  startedAt: Date;
  /** Why grading could not run (completely); makes the status "error". */
  error?: string;
  /** Protected files written or found changed while the run went on: every kata scores 0. */
  runTampered?: readonly string[];
  notes: readonly string[];
}

/** Scores every kata: all its tests pass (type checks included) and its tests are untouched, or it scores 0. */
export function buildResults(input: GradeInput): GradeResults {
  const tests: TestEntry[] = [];
  const weeks = input.weeks.map((week) => {
    const katas: KataEntry[] = week.katas.map((kata) => {
      const base = { id: kata.id, title: kata.title, points: kata.points };
      if (input.runTampered && input.runTampered.length > 0) {
        const message = `protected files were changed during the run (${input.runTampered.slice(0, 3).join(", ")}): nothing of this run scores`;
        return { ...base, status: "tampered", score: 0, passed: 0, total: 0, message: boundMessage(message) } satisfies KataEntry;
      }
      const tampered = input.tamper.tests.filter((t) => t.kata === kata.key || t.kata === wholeWeek(kata.weekId));
      if (tampered.length > 0) {
        const message = tampered.map((t) => `tests ${t.change}: ${t.path}`).join("; ");
        return { ...base, status: "tampered", score: 0, passed: 0, total: 0, message: boundMessage(message) } satisfies KataEntry;
      }
      const verdict = input.verdicts.get(kata.key);
      if (!verdict) return { ...base, status: "not-run", score: 0, passed: 0, total: 0, message: "not graded: the grading run ended before this kata" } satisfies KataEntry;
      if (verdict.status === "not-run") return { ...base, status: "not-run", score: 0, passed: 0, total: 0, message: boundMessage(verdict.reason) } satisfies KataEntry;
      for (const test of verdict.tests) {
        tests.push({ week: week.id, kata: kata.id, name: test.name, status: test.status === "passed" ? "pass" : "fail", message: boundMessage(test.message), durationMs: test.durationMs });
      }
      const passed = verdict.status === "passed";
      return { ...base, status: passed ? "pass" : "fail", score: passed ? kata.points : 0, passed: verdict.passed, total: verdict.total } satisfies KataEntry;
    });
    return {
      id: week.id,
      number: week.number,
      title: week.title,
      score: katas.reduce((s, k) => s + k.score, 0),
      maxScore: katas.reduce((s, k) => s + k.points, 0),
      katas,
    };
  });
  const score = weeks.reduce((s, w) => s + w.score, 0);
  const maxScore = weeks.reduce((s, w) => s + w.maxScore, 0);
  const message = [input.error, ...input.notes].filter(Boolean).join(" · ") || undefined;
  return {
    schema: "backend-katas/grade-results",
    version: RESULTS_VERSION,
    status: overallStatus(score, maxScore, input.error),
    ...(message ? { message: boundMessage(message) } : {}),
    score,
    maxScore,
    startedAt: input.startedAt.toISOString(),
    durationMs: Date.now() - input.startedAt.getTime(),
    services: [...input.services],
    tampered: [
      ...input.tamper.tests.map((t) => ({ path: t.path, change: t.change, kata: t.kata })),
      ...(input.runTampered ?? []).map((p) => ({ path: p, change: "modified" as const })),
    ],
    weeks,
    tests,
  };
}
