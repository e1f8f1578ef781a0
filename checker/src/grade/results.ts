import { z } from "zod";

/**
 * results.json, version 1: what `npm run grade` found, in the spirit of Exercism's
 * test-runner results (v3): an overall status, then every kata and every test. Documented
 * in the README ("Grading a class"); bump `version` on any breaking change.
 */
export const RESULTS_VERSION = 1;
const MESSAGE_MAX = 500;

export const testEntrySchema = z.object({
  week: z.string(),
  kata: z.string(),
  name: z.string(),
  status: z.enum(["pass", "fail", "error"]),
  message: z.string().max(MESSAGE_MAX).optional(),
  durationMs: z.number().nonnegative(),
});

export const kataEntrySchema = z.object({
  id: z.string(),
  title: z.string(),
  /** pass: every test passed · fail: some did not · not-run: a service was missing · tampered: its tests were edited. */
  status: z.enum(["pass", "fail", "not-run", "tampered"]),
  points: z.number().int().nonnegative(),
  score: z.number().int().nonnegative(),
  passed: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  message: z.string().max(MESSAGE_MAX).optional(),
});

export const weekEntrySchema = z.object({
  id: z.string(),
  number: z.number().int(),
  title: z.string(),
  score: z.number().int().nonnegative(),
  maxScore: z.number().int().nonnegative(),
  katas: z.array(kataEntrySchema),
});

export const gradeResultsSchema = z.object({
  schema: z.literal("backend-katas/grade-results"),
  version: z.literal(RESULTS_VERSION),
  /** pass: full score · fail: graded, not full · error: grading could not run (see message). */
  status: z.enum(["pass", "fail", "error"]),
  message: z.string().optional(),
  score: z.number().int().nonnegative(),
  maxScore: z.number().int().nonnegative(),
  startedAt: z.string(),
  durationMs: z.number().nonnegative(),
  services: z.array(z.string()),
  /** Protected files that differ from course.lock.json. */
  tampered: z.array(z.object({ path: z.string(), change: z.enum(["modified", "deleted"]), kata: z.string().optional() })),
  weeks: z.array(weekEntrySchema),
  tests: z.array(testEntrySchema),
});

export type GradeResults = z.infer<typeof gradeResultsSchema>;
export type WeekEntry = z.infer<typeof weekEntrySchema>;
export type KataEntry = z.infer<typeof kataEntrySchema>;
export type TestEntry = z.infer<typeof testEntrySchema>;

/** Cuts a message to the schema's bound, on a character boundary, marking the cut. */
export function boundMessage(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return text.length <= MESSAGE_MAX ? text : text.slice(0, MESSAGE_MAX - 1) + "…";
}

/** Overall status from the parts: an error anywhere wins, then anything short of full marks fails. */
export function overallStatus(score: number, maxScore: number, error: string | undefined): GradeResults["status"] {
  if (error) return "error";
  return score === maxScore && maxScore > 0 ? "pass" : "fail";
}
