import type { Kata, Week } from "../course/model";
import type { KataVerdict } from "../runner/verdicts";
import { wholeWeek } from "../integrity/course-lock";
import type { TypeError } from "../verify/typecheck";
import { boundMessage, overallStatus, RESULTS_VERSION, type GradeResults, type KataEntry, type TestEntry } from "./results";
import type { TamperReport } from "./tamper";

export interface GradeInput {
  weeks: readonly Week[];
  /** Verdicts of the katas that were run (absent: not reached before the deadline). */
  verdicts: ReadonlyMap<string, KataVerdict>;
  tamper: TamperReport;
  typeErrors: readonly TypeError[];
  services: readonly string[];
  startedAt: Date;
  /** Why grading could not run (completely); makes the status "error". */
  error?: string;
  notes: readonly string[];
}

/** Type errors that belong to a kata: in one of its files, or in one of its tests (a changed signature). */
export function kataTypeErrors(kata: Kata, errors: readonly TypeError[]): TypeError[] {
  const own = [...kata.files, ...kata.tests].map((f) => `exercises/${kata.weekId}/${f}`);
  return errors.filter((e) => own.includes(e.file));
}

/** Scores every kata: all its tests pass (and it type-checks, and its tests are untouched) or it scores 0. */
export function buildResults(input: GradeInput): GradeResults {
  const tests: TestEntry[] = [];
  const weeks = input.weeks.map((week) => {
    const katas: KataEntry[] = week.katas.map((kata) => {
      const base = { id: kata.id, title: kata.title, points: kata.points };
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
      const typeErrors = kataTypeErrors(kata, input.typeErrors);
      for (const error of typeErrors.slice(0, 5)) {
        tests.push({ week: week.id, kata: kata.id, name: `type-check ${error.file}:${error.line}`, status: "fail", message: boundMessage(error.message), durationMs: 0 });
      }
      const passed = verdict.status === "passed" && typeErrors.length === 0;
      const message = typeErrors[0] ? `type error ${typeErrors[0].file}:${typeErrors[0].line}: ${typeErrors[0].message}` : undefined;
      return {
        ...base,
        status: passed ? "pass" : "fail",
        score: passed ? kata.points : 0,
        passed: verdict.passed,
        total: verdict.total + typeErrors.length,
        ...(message ? { message: boundMessage(message) } : {}),
      } satisfies KataEntry;
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
    tampered: input.tamper.tests.map((t) => ({ path: t.path, change: t.change, kata: t.kata })),
    weeks,
    tests,
  };
}
