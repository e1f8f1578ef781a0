import { z } from "zod";

/** Services a kata can declare; the checker finds or starts each once per run. */
export const SERVICE_NAMES = ["redis", "postgres", "rabbitmq"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const kataId = z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "a kebab-case id such as token-bucket");

const weekRelativeFile = (folder: "src" | "tests" | "bench") =>
  z
    .string()
    .regex(new RegExp(`^${folder}/[A-Za-z0-9_./-]+\\.ts$`), `a path inside the week's ${folder}/ folder ending in .ts`)
    .refine((p) => !p.split("/").includes(".."), "a path that stays inside the week (no ..)");

export const kataManifestSchema = z.strictObject({
  id: kataId,
  title: z.string().min(1),
  /** The files the learner edits, relative to the week folder (src/...). */
  files: z.array(weekRelativeFile("src")).min(1),
  /** The specification: test files relative to the week folder (tests/...). */
  tests: z.array(weekRelativeFile("tests")).min(1),
  services: z.array(z.enum(SERVICE_NAMES)).default([]),
  /**
   * The kata's Postgres use never needs two sessions at once, so an embedded Postgres
   * (PGlite, one backend) is good enough when no real server can be had.
   */
  postgresSingleSession: z.boolean().default(false),
  /** A ladder from a nudge to a near-answer; the last one links the standard or docs. */
  hints: z.array(z.string().min(1)).min(2, "at least two hints, from a nudge to a near-answer"),
  /**
   * Full names ("describe > it") of tests that pass on the skeleton on purpose: the
   * characterization tests of a refactoring kata.
   */
  keptPassing: z.array(z.string().min(1)).default([]),
  /**
   * Katas of the same week whose code this kata's tests also run (a load generator that
   * records into the histogram kata's class): until those pass, the report says to do them first.
   */
  buildsOn: z.array(kataId).default([]),
  /** Points for grading; a kata scores them when all its tests pass. */
  points: z.number().int().positive().default(1),
});

export const weekManifestSchema = z.strictObject({
  /** The manifest format; a change that old manifests cannot follow bumps it. */
  format: z.literal(1).default(1),
  title: z.string().min(1),
  summary: z.string().min(1),
  /** Empty only while a week is being written (`course new-week`): verify reports it. */
  katas: z.array(kataManifestSchema),
});

export type KataManifest = z.infer<typeof kataManifestSchema>;
export type WeekManifest = z.infer<typeof weekManifestSchema>;
