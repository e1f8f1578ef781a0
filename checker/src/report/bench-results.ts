import type { BenchRecord } from "../../fixtures/bench";

/** A case as results.json keeps it: the week and when it was measured, beside the record. */
export type StoredCase = BenchRecord & { readonly week: string; readonly measuredAt: string };

/** The cases of an earlier results.json; anything unreadable is a fresh start, never an error. */
export function parseStoredCases(text: string | undefined): StoredCase[] {
  if (text === undefined) return [];
  try {
    const parsed = JSON.parse(text) as { cases?: unknown };
    return Array.isArray(parsed.cases)
      ? (parsed.cases as StoredCase[]).filter((c) => typeof c?.week === "string" && typeof c.ratio === "number")
      : [];
  } catch {
    return [];
  }
}

/**
 * What results.json holds after a run: the fresh cases replace every row of the weeks that
 * were benched (a case removed from a bench file goes too), the other weeks keep their last
 * measurement, weeks no longer in the course drop out, and rows follow the course's order.
 */
export function mergeBenchCases(
  stored: readonly StoredCase[],
  fresh: readonly StoredCase[],
  benchedWeeks: ReadonlySet<string>,
  courseWeeks: readonly string[],
): StoredCase[] {
  const order = new Map(courseWeeks.map((week, i) => [week, i]));
  return [...stored.filter((c) => !benchedWeeks.has(c.week)), ...fresh]
    .filter((c) => order.has(c.week))
    .sort((a, b) => order.get(a.week)! - order.get(b.week)!);
}
