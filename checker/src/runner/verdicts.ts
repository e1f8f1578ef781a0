import type { Kata } from "../course/model";
import type { TestResult } from "./results";

export type KataStatus = "passed" | "failed" | "not-run";

export interface KataVerdict {
  readonly kata: Kata;
  readonly status: KataStatus;
  readonly passed: number;
  readonly total: number;
  readonly tests: readonly TestResult[];
  /** Why the kata did not run (a service it needs could not be had). */
  readonly reason?: string;
}

/** A kata passes when it ran tests and every one of them passed. */
export function verdictFor(kata: Kata, tests: readonly TestResult[]): KataVerdict {
  const mine = tests.filter((t) => t.week === kata.weekId && t.kata === kata.id);
  const passed = mine.filter((t) => t.status === "passed").length;
  const status: KataStatus = mine.length > 0 && passed === mine.length ? "passed" : "failed";
  return { kata, status, passed, total: mine.length, tests: mine };
}

export function notRun(kata: Kata, reason: string): KataVerdict {
  return { kata, status: "not-run", passed: 0, total: 0, tests: [], reason };
}

/**
 * Adds a kata's type errors as failed tests: vitest strips types without checking them, so a
 * kata whose code does not type-check would otherwise pass `check` and fail `grade`.
 */
export function withTypeErrors(
  verdict: KataVerdict,
  errors: readonly { file: string; line: number; message: string }[],
): KataVerdict {
  if (verdict.status === "not-run" || errors.length === 0) return verdict;
  const extra: TestResult[] = errors.slice(0, 5).map((e) => ({
    week: verdict.kata.weekId,
    kata: verdict.kata.id,
    file: e.file,
    name: `type-check ${e.file}:${e.line}`,
    status: "failed",
    message: e.message,
    durationMs: 0,
  }));
  return { ...verdict, status: "failed", total: verdict.total + extra.length, tests: [...verdict.tests, ...extra] };
}
