import type { Kata } from "../course/model";
import type { TestResult } from "../runner/results";
import type { KatasRun } from "../runner/run-katas";
import type { Breach } from "./static-checks";

/** One row of verify's table. */
export interface VerifyRow {
  week: string;
  kata: string;
  tests: number;
  failingOnSkeleton: number;
  passingOnSolution: number;
  kept: number;
  ok: boolean;
}

function byName(tests: readonly TestResult[]): Map<string, TestResult> {
  return new Map(tests.map((t) => [t.name, t]));
}

/**
 * Compares a kata's skeleton run with its solution run: every test fails on the skeleton
 * (but the ones it keeps passing on purpose) and passes on the solution.
 */
export function judgeKata(
  kata: Kata,
  skeleton: readonly TestResult[],
  solution: readonly TestResult[],
): { row: VerifyRow; breaches: Breach[] } {
  const breaches: Breach[] = [];
  const at = { week: kata.weekId, kata: kata.id };
  const skeletonByName = byName(skeleton);
  const kept = new Set(kata.keptPassing);
  let failingOnSkeleton = 0;
  let passingOnSolution = 0;
  for (const test of solution) {
    if (test.status === "passed") passingOnSolution++;
    else
      breaches.push({ ...at, message: `fails on the solution: ${test.name}: ${(test.message ?? "").split("\n")[0]}` });
    const onSkeleton = skeletonByName.get(test.name);
    const passedOnSkeleton = onSkeleton?.status === "passed";
    if (kept.has(test.name)) {
      if (!passedOnSkeleton)
        breaches.push({ ...at, message: `listed in keptPassing but fails on the skeleton: ${test.name}` });
    } else if (passedOnSkeleton) {
      breaches.push({ ...at, message: `passes on the skeleton (free points, teaches nothing): ${test.name}` });
    } else {
      failingOnSkeleton++;
    }
  }
  for (const name of kept) {
    if (!solution.some((t) => t.name === name))
      breaches.push({ ...at, message: `keptPassing names a test that does not exist: ${name}` });
  }
  if (solution.length === 0) breaches.push({ ...at, message: "no tests ran on the solution" });
  const row: VerifyRow = {
    week: kata.weekId,
    kata: kata.id,
    tests: solution.length,
    failingOnSkeleton,
    passingOnSolution,
    kept: kept.size,
    ok: breaches.length === 0,
  };
  return { row, breaches };
}

/** Turns the two runs of the selected katas into verify rows and breaches. */
export function judgeRuns(
  katas: readonly Kata[],
  skeleton: KatasRun,
  solution: KatasRun,
): { rows: VerifyRow[]; breaches: Breach[] } {
  const rows: VerifyRow[] = [];
  const breaches: Breach[] = [];
  const find = (run: KatasRun, kata: Kata) => run.verdicts.find((v) => v.kata.key === kata.key);
  for (const kata of katas) {
    const onSolution = find(solution, kata);
    const onSkeleton = find(skeleton, kata);
    if (!onSolution || onSolution.status === "not-run" || !onSkeleton || onSkeleton.status === "not-run") {
      const reason = onSolution?.reason ?? onSkeleton?.reason ?? "not selected";
      breaches.push({ week: kata.weekId, kata: kata.id, message: `not run: ${reason}` });
      rows.push({
        week: kata.weekId,
        kata: kata.id,
        tests: 0,
        failingOnSkeleton: 0,
        passingOnSolution: 0,
        kept: kata.keptPassing.length,
        ok: false,
      });
      continue;
    }
    const judged = judgeKata(kata, onSkeleton.tests, onSolution.tests);
    rows.push(judged.row);
    breaches.push(...judged.breaches);
  }
  for (const note of solution.notes) breaches.push({ week: "-", message: `solution run: ${note}` });
  return { rows, breaches };
}
