import { z } from "zod";

/** The current format of .progress.json. */
export const PROGRESS_VERSION = 2;

export const kataProgressSchema = z.object({
  status: z.enum(["passed", "failed", "not-run"]),
  /** ISO time of the first run in which every test of the kata passed. */
  firstPassedAt: z.string().nullable().default(null),
  lastRunAt: z.string().nullable().default(null),
  runs: z.number().int().nonnegative().default(0),
  /** How many hints of the ladder were shown so far. */
  hintsShown: z.number().int().nonnegative().default(0),
});

export const progressSchema = z.object({
  version: z.literal(PROGRESS_VERSION),
  katas: z.record(z.string(), kataProgressSchema),
});

export type KataProgress = z.infer<typeof kataProgressSchema>;
export type Progress = z.infer<typeof progressSchema>;

export function emptyProgress(): Progress {
  return { version: PROGRESS_VERSION, katas: {} };
}

export function emptyKata(): KataProgress {
  return { status: "not-run", firstPassedAt: null, lastRunAt: null, runs: 0, hintsShown: 0 };
}

/**
 * Version 1 (the course's first release) kept a flat map of "week/kata" to "passed" or
 * "failed" and a list of hint counts. It carries over as far as it goes.
 */
const progressV1Schema = z.object({
  version: z.literal(1),
  katas: z.record(z.string(), z.enum(["passed", "failed"])),
  hints: z.record(z.string(), z.number().int().nonnegative()).default({}),
});

/** Brings any known older format up to the current one; undefined when the data is no known format. */
export function migrate(data: unknown): Progress | undefined {
  const current = progressSchema.safeParse(data);
  if (current.success) return current.data;
  const v1 = progressV1Schema.safeParse(data);
  if (v1.success) {
    const progress = emptyProgress();
    const keys = new Set([...Object.keys(v1.data.katas), ...Object.keys(v1.data.hints)]);
    for (const key of keys) {
      const status = v1.data.katas[key];
      progress.katas[key] = { ...emptyKata(), status: status ?? "not-run", hintsShown: v1.data.hints[key] ?? 0 };
    }
    return progress;
  }
  return undefined;
}
