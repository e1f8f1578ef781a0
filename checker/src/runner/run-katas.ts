import { existsSync } from "node:fs";
import path from "node:path";
import type { Course, Kata } from "../course/model";
import { resolveServices, serviceEnv, type ServiceResolution } from "../services";
import type { Owner } from "./judge";
import { notRun, verdictFor, type KataVerdict } from "./verdicts";
import type { TestResult } from "./results";
import { runTests, type Target } from "./vitest-run";

export interface KatasRun {
  verdicts: KataVerdict[];
  /** Problems no kata owns (an error outside any test file); they make the run fail. */
  notes: string[];
  /** Protected files that differed from the lock as they loaded: the whole run is tampered with. */
  tampered: string[];
  durationMs: number;
}

export interface KatasRunOptions {
  target: Target;
  log?: (line: string) => void;
  onFileDone?: (file: string) => void;
  /** Already resolved services to reuse (verify runs two targets with one resolution). */
  services?: ServiceResolution;
  /** Grading: protected files hashed as they load, forks sandboxed when the checker is root. */
  grading?: { sandbox: boolean };
  /** Aborting ends the run early; what finished is judged. */
  signal?: AbortSignal;
  /** Test files run at once, when not the config's (KATA_MAX_WORKERS). */
  maxWorkers?: number;
}

/** Files of a kata's tests, absolute. */
export function testFiles(course: Course, kata: Kata): string[] {
  return kata.tests.map((t) => path.join(course.root, "exercises", kata.weekId, t));
}

/** Resolves the services the selected katas need, once, then runs every kata that can run. */
export async function runKatas(course: Course, katas: readonly Kata[], options: KatasRunOptions): Promise<KatasRun> {
  const started = performance.now();
  const ownServices = !options.services;
  const resolution = options.services ?? (await resolveServicesFor(katas, options.log));
  try {
    const verdicts = new Map<Kata, KataVerdict>();
    const runnable: Kata[] = [];
    for (const kata of katas) {
      const reason = blockedReason(kata, resolution);
      const missing = testFiles(course, kata).filter((file) => !existsSync(file));
      if (reason) verdicts.set(kata, notRun(kata, reason));
      else if (missing.length > 0) verdicts.set(kata, missingTests(course, kata, missing));
      else runnable.push(kata);
    }
    const owners = new Map<string, Owner>();
    for (const kata of runnable)
      for (const file of testFiles(course, kata)) owners.set(file, { week: kata.weekId, kata: kata.id });

    let notes: string[] = [];
    let tampered: string[] = [];
    if (owners.size > 0) {
      const singleSessionPostgres = resolution.resolved.some((s) => s.name === "postgres" && !s.concurrentSessions);
      const result = await runTests({
        root: course.root,
        target: options.target,
        owners,
        env: serviceEnv(resolution),
        onFileDone: options.onFileDone,
        // PGlite gives every connection the same session: two files at once would share a search_path.
        oneFileAtATime: singleSessionPostgres && runnable.some((k) => k.services.includes("postgres")),
        ...(options.grading ? { grading: options.grading } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.maxWorkers ? { maxWorkers: options.maxWorkers } : {}),
      });
      notes = [...result.notes];
      tampered = [...result.tampered];
      for (const kata of runnable)
        verdicts.set(kata, withRefusals(kata, verdictFor(kata, result.tests), result.refusals, katas));
    }
    return {
      verdicts: katas.map((k) => verdicts.get(k)!),
      notes,
      tampered,
      durationMs: performance.now() - started,
    };
  } finally {
    if (ownServices) await resolution.stopAll();
  }
}

/** Finds or starts the services these katas need (and only those). */
export function resolveServicesFor(katas: readonly Kata[], log?: (line: string) => void): Promise<ServiceResolution> {
  const postgresKatas = katas.filter((k) => k.services.includes("postgres"));
  return resolveServices(
    {
      redis: katas.some((k) => k.services.includes("redis")),
      postgres: postgresKatas.length > 0,
      rabbitmq: katas.some((k) => k.services.includes("rabbitmq")),
      postgresSingleSessionOk: postgresKatas.some((k) => k.postgresSingleSession),
    },
    log ? { log } : {},
  );
}

/**
 * A refused import (the test runner, the tests, the solutions) fails the katas whose files
 * made it, even when the learner's code caught the error: trying is enough. A shared file of
 * the week that no kata lists fails every kata of that week in the run.
 */
function withRefusals(
  kata: Kata,
  verdict: KataVerdict,
  refusals: readonly { file: string; message: string }[],
  all: readonly Kata[],
): KataVerdict {
  const ofWeek = refusals.filter((r) => r.file.startsWith(`exercises/${kata.weekId}/`));
  const mine = ofWeek.filter((r) => {
    const inWeek = r.file.slice(`exercises/${kata.weekId}/`.length);
    const listedBySome = all.some((k) => k.weekId === kata.weekId && k.files.includes(inWeek));
    return kata.files.includes(inWeek) || !listedBySome;
  });
  if (mine.length === 0) return verdict;
  const refused: TestResult = {
    week: kata.weekId,
    kata: kata.id,
    file: mine[0]!.file,
    name: `imports of ${mine[0]!.file}`,
    status: "failed",
    message: mine[0]!.message,
    durationMs: 0,
  };
  return { ...verdict, status: "failed", total: verdict.total + 1, tests: [...verdict.tests, refused] };
}

/** A kata whose test files are gone fails, saying which and how to get them back. */
function missingTests(course: Course, kata: Kata, missing: string[]): KataVerdict {
  const tests: TestResult[] = missing.map((file) => {
    const rel = path.relative(course.root, file);
    return {
      week: kata.weekId,
      kata: kata.id,
      file: rel,
      name: `${rel} (whole file)`,
      status: "failed",
      message: `the test file ${rel} is missing; restore it with \`git checkout -- ${rel}\``,
      durationMs: 0,
    };
  });
  return verdictFor(kata, tests);
}

export function blockedReason(kata: Kata, resolution: ServiceResolution): string | undefined {
  for (const name of kata.services) {
    const missing = resolution.unavailable.find((u) => u.name === name);
    if (missing) return missing.message;
    const found = resolution.resolved.find((s) => s.name === name);
    if (name === "postgres" && found && !found.concurrentSessions && !kata.postgresSingleSession) {
      return "this kata needs concurrent Postgres sessions, and the only Postgres to be had is the embedded one (one session at a time). Start a real one: `docker compose up -d postgres`, a local install, or set DATABASE_URL.";
    }
  }
  return undefined;
}
