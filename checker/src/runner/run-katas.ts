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
  durationMs: number;
}

export interface KatasRunOptions {
  target: Target;
  log?: (line: string) => void;
  onFileDone?: (file: string) => void;
  /** Already resolved services to reuse (verify runs two targets with one resolution). */
  services?: ServiceResolution;
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
    for (const kata of runnable) for (const file of testFiles(course, kata)) owners.set(file, { week: kata.weekId, kata: kata.id });

    let notes: string[] = [];
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
      });
      notes = [...result.notes];
      for (const kata of runnable) verdicts.set(kata, verdictFor(kata, result.tests));
    }
    return {
      verdicts: katas.map((k) => verdicts.get(k)!),
      notes,
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

/** A kata whose test files are gone fails, saying which and how to get them back. */
function missingTests(course: Course, kata: Kata, missing: string[]): KataVerdict {
  const tests: TestResult[] = missing.map((file) => {
    const rel = path.relative(course.root, file);
    return { week: kata.weekId, kata: kata.id, file: rel, name: `${rel} (whole file)`, status: "failed", message: `the test file ${rel} is missing; restore it with \`git checkout -- ${rel}\``, durationMs: 0 };
  });
  return verdictFor(kata, tests);
}

function blockedReason(kata: Kata, resolution: ServiceResolution): string | undefined {
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
