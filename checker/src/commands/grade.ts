import { existsSync } from "node:fs";
import path from "node:path";
import type { Kata, Week } from "../course/model";
import { resolveWeek } from "../course/select";
import { buildResults, type GradeInput } from "../grade/build";
import { descendants, signalAll } from "../../vitest/process-tree";
import { meetsMinimum, type GradeOptions } from "../grade/options";
import type { GradeResults } from "../grade/results";
import { checkTampering } from "../grade/tamper";
import { runtimeHashes, watchProtected } from "../grade/watch";
import { writeGradeOutputs } from "../report/write";
import { computeLock, diffLock, wholeWeek } from "../integrity/course-lock";
import { renderMarkdown } from "../report/markdown";
import { fileProgress } from "../report/progress";
import { resolveServicesFor, runKatas } from "../runner/run-katas";
import { assertReadableByOthers, sandboxAvailable } from "../runner/sandbox";
import { withTypeErrors, type KataVerdict } from "../runner/verdicts";
import { kataTypeErrors, typecheck } from "../verify/typecheck";
import type { CommandContext } from "./context";

export { meetsMinimum, parseGradeArgs } from "../grade/options";

export const EXIT_BELOW_MIN = 1;
export const EXIT_COULD_NOT_GRADE = 2;
export const EXIT_TAMPERED = 3;

/** After the time limit has cancelled the run, how long it may take to wind down before it is killed. */
const WIND_DOWN_MS = 15_000;
/** Files a sandboxed fork must be able to read. */
const READABLE_SAMPLES = [
  "package.json",
  "vitest.config.ts",
  "node_modules/vitest/package.json",
  "checker/vitest/setup-runtime-lock.ts",
];

const IN_PROGRESS =
  "grading did not finish: the grader was stopped before the end (these are the katas graded until then)";

/** Whether learner code runs sandboxed; says so, or says why not, in one line. */
function chooseSandbox(ctx: CommandContext, options: GradeOptions): boolean {
  if (options.noSandbox) {
    ctx.err(ctx.style.warn("grade: --no-sandbox: learner code runs with the grader's rights"));
    return false;
  }
  if (!sandboxAvailable()) {
    ctx.err(
      ctx.style.warn(
        "grade: running without the sandbox (it needs root on Linux): learner code runs with your rights, see the README's grading section",
      ),
    );
    return false;
  }
  assertReadableByOthers(ctx.course.root, READABLE_SAMPLES);
  ctx.err(ctx.style.dim("grade: learner code runs sandboxed, as unprivileged users"));
  return true;
}

/** What the protected files and the runtime packages hash to now. */
function snapshot(ctx: CommandContext): Record<string, string> {
  return { ...computeLock(ctx.course).protected, ...runtimeHashes(ctx.course.root) };
}

/** Paths whose hash changed since `before` (an edit before the run is the lock's business, not this). */
function changedSince(ctx: CommandContext, before: Record<string, string>): string[] {
  const diff = diffLock(before, snapshot(ctx));
  return [...diff.changed, ...diff.missing];
}

/**
 * `npm run grade [weeks...]`: grades the learner's code headlessly for CI, independently of
 * .progress.json. Exit 0 when grading ran (whatever the score), 1 below --min-score, 2 when it
 * could not run (no service, time limit), 3 when protected files were modified, before or
 * during the run.
 */
export async function gradeCommand(ctx: CommandContext, options: GradeOptions): Promise<number> {
  const outDir = path.resolve(ctx.course.root, options.out);
  const weeks: Week[] =
    options.weeks.length > 0 ? options.weeks.map((w) => resolveWeek(ctx.course, w)) : [...ctx.course.weeks];
  const verdicts = new Map<string, KataVerdict>();
  const input: GradeInput = {
    weeks,
    verdicts,
    tamper: checkTampering(ctx.course),
    services: [],
    startedAt: new Date(),
    notes: [],
  };
  const write = (results: GradeResults) => writeGradeOutputs(outDir, results);
  const finish = (results: GradeResults): void => {
    write(results);
    ctx.out(renderMarkdown(results));
    ctx.out(`results: ${path.relative(process.cwd(), outDir) || "."}/results.json, junit.xml, summary.md`);
  };

  if (input.tamper.noLock || input.tamper.machinery.length > 0) {
    const what = input.tamper.noLock
      ? "course.lock.json is missing"
      : input.tamper.machinery.map((m) => `${m.path} (${m.change})`).join(", ");
    finish(
      buildResults({
        ...input,
        error: `refusing to grade: the course's protected files were changed: ${what}. Restore them from the course (git checkout upstream/main -- checker vitest.config.ts tsconfig.json course.lock.json package.json package-lock.json exercises/*/tests exercises/*/week.json).`,
      }),
    );
    return EXIT_TAMPERED;
  }
  const sandbox = chooseSandbox(ctx, options);
  // Written first and after every week: a grader killed half-way leaves what it graded, marked unfinished.
  write(buildResults({ ...input, error: IN_PROGRESS }));

  const before = snapshot(ctx);
  const watch = watchProtected(ctx.course);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeLimitS * 1000);
  timer.unref();
  // Last resort if cancelling does not end the run (vitest itself wedged): write what there is and go.
  const windDown = () => {
    const hard = setTimeout(() => {
      finish(
        buildResults({
          ...input,
          error: `grading stopped at its time limit of ${options.timeLimitS} s and did not wind down; katas not reached score 0`,
        }),
      );
      signalAll(descendants(), "SIGKILL");
      process.exit(EXIT_COULD_NOT_GRADE);
    }, WIND_DOWN_MS);
    hard.unref();
  };
  deadline.signal.addEventListener("abort", windDown, { once: true });

  const katas = weeks.flatMap((w) => w.katas);
  const services = await resolveServicesFor(katas, (line) => ctx.err(ctx.style.dim(line)));
  let loadTampered: string[] = [];
  try {
    input.services = services.resolved.map((s) => s.describe);
    // The type check is a child process of its own: it runs beside the tests. It checks the
    // graded katas' files and tests and what they import, not the locked machinery or the
    // solutions: the whole course made it the slowest step of grading a week or two.
    const kataFiles = weeks.flatMap((w) =>
      w.katas.flatMap((k) => [...k.files, ...k.tests].map((f) => path.join(w.dir, f))),
    );
    const typeErrors = typecheck(
      ctx.course.root,
      kataFiles.filter((f) => existsSync(f)),
      deadline.signal,
    );
    // Katas whose tests were edited before the run score 0 without running (a helper's edit: the whole week).
    const tamperedKeys = new Set(input.tamper.tests.map((t) => t.kata));
    const tampered = (kata: Kata) => tamperedKeys.has(kata.key) || tamperedKeys.has(wholeWeek(kata.weekId));
    for (const week of weeks) {
      if (deadline.signal.aborted) break;
      ctx.err(ctx.style.dim(`grade: week${week.number} · ${week.title}`));
      const runnable = week.katas.filter((k) => !tampered(k));
      if (runnable.length === 0) continue;
      const files = runnable.reduce((n, k) => n + k.tests.length, 0);
      const onFileDone = fileProgress(ctx, `grade: week${week.number}`, files);
      const run = await runKatas(ctx.course, runnable, {
        target: "exercises",
        services,
        grading: { sandbox },
        signal: deadline.signal,
        onFileDone,
      });
      for (const verdict of run.verdicts) verdicts.set(verdict.kata.key, verdict);
      input.notes = [...input.notes, ...run.notes];
      loadTampered = [...loadTampered, ...run.tampered];
      write(buildResults({ ...input, error: IN_PROGRESS }));
    }
    const types = await typeErrors;
    for (const [key, verdict] of verdicts)
      verdicts.set(key, withTypeErrors(verdict, kataTypeErrors(verdict.kata, types)));
  } finally {
    await services.stopAll();
    clearTimeout(timer);
  }
  const runTampered = [...new Set([...loadTampered, ...(await watch.stop()), ...changedSince(ctx, before)])].sort();
  const missing = services.unavailable.map((u) => u.message);
  const error =
    runTampered.length > 0
      ? `protected files were changed during the run: ${runTampered.slice(0, 5).join(", ")}; the run scores 0`
      : deadline.signal.aborted
        ? `grading stopped at its time limit of ${options.timeLimitS} s; what finished is scored, katas not reached score 0`
        : missing.length > 0
          ? `some katas could not run: ${missing.join(" · ")}`
          : undefined;
  const results = buildResults({
    ...input,
    ...(error ? { error } : {}),
    ...(runTampered.length > 0 ? { runTampered } : {}),
  });
  finish(results);
  if (runTampered.length > 0) return EXIT_TAMPERED;
  if (results.status === "error") return EXIT_COULD_NOT_GRADE;
  if (!meetsMinimum(results, options.minScore)) {
    ctx.err(`score ${results.score}/${results.maxScore} is below the minimum ${options.minScore}`);
    return EXIT_BELOW_MIN;
  }
  return 0;
}
