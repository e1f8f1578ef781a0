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
