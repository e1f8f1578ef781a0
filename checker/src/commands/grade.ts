import path from "node:path";
import type { Week } from "../course/model";
import { resolveWeek } from "../course/select";
import { CheckerError } from "../errors";
import { buildResults, type GradeInput } from "../grade/build";
import { killDescendants } from "../grade/deadline";
import type { GradeResults } from "../grade/results";
import { checkTampering } from "../grade/tamper";
import { writeGradeOutputs } from "../grade/write";
import { renderMarkdown } from "../report/markdown";
import { resolveServicesFor, runKatas } from "../runner/run-katas";
import { withTypeErrors, type KataVerdict } from "../runner/verdicts";
import { kataTypeErrors, typecheck } from "../verify/typecheck";
import type { CommandContext } from "./context";

export const EXIT_BELOW_MIN = 1;
export const EXIT_COULD_NOT_GRADE = 2;
export const EXIT_TAMPERED = 3;

export interface GradeOptions {
  weeks: string[];
  out: string;
  /** "12" (points) or "80%" (of the maximum). */
  minScore?: string;
  /** Hard bound on the whole run, in seconds. */
  timeLimitS: number;
}

/** Reads grade's arguments; npm keeps `--flags` for itself unless after `--`, so its npm_config_* twins count too. */
export function parseGradeArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): GradeOptions {
  const options: GradeOptions = {
    weeks: [],
    out: env.npm_config_out || "grade",
    ...(env.npm_config_min_score ? { minScore: env.npm_config_min_score } : {}),
    timeLimitS: Number(env.npm_config_time_limit || env.KATA_GRADE_TIME_LIMIT_S || 1800),
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") ? arg.split("=", 2) : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new CheckerError("E_USAGE", `${flag} needs a value`, "npm run grade -- --min-score 80%");
      return v;
    };
    if (flag === "--out") options.out = value();
    else if (flag === "--min-score") options.minScore = value();
    else if (flag === "--time-limit") options.timeLimitS = Number(value());
    else if (arg.startsWith("-")) throw new CheckerError("E_USAGE", `unknown option ${arg}`, "npm run grade -- --out grade --min-score 80% --time-limit 1800");
    else options.weeks.push(arg);
  }
  if (!Number.isFinite(options.timeLimitS) || options.timeLimitS <= 0) throw new CheckerError("E_USAGE", "--time-limit takes a positive number of seconds", "npm run grade -- --time-limit 1800");
  if (options.minScore !== undefined && !/^\d+(\.\d+)?%?$/.test(options.minScore)) {
    throw new CheckerError("E_USAGE", `--min-score takes points (12) or a percentage (80%), not "${options.minScore}"`, "npm run grade -- --min-score 80%");
  }
  return options;
}

/** Whether a score meets `--min-score`. */
export function meetsMinimum(results: Pick<GradeResults, "score" | "maxScore">, minScore: string | undefined): boolean {
  if (minScore === undefined) return true;
  if (minScore.endsWith("%")) return results.maxScore > 0 && (100 * results.score) / results.maxScore >= Number(minScore.slice(0, -1));
  return results.score >= Number(minScore);
}

/**
 * `npm run grade [weeks...]`: grades the learner's code headlessly for CI, independently of
 * .progress.json. Exit 0 when grading ran (whatever the score), 1 below --min-score, 2 when it
 * could not run (no service, time limit), 3 when the checker, config or fixtures were modified.
 */
export async function gradeCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const options = parseGradeArgs(args);
  const outDir = path.resolve(ctx.course.root, options.out);
  const weeks: Week[] = options.weeks.length > 0 ? options.weeks.map((w) => resolveWeek(ctx.course, w)) : [...ctx.course.weeks];
  const input: GradeInput = {
    weeks,
    verdicts: new Map<string, KataVerdict>(),
    tamper: checkTampering(ctx.course),
    services: [],
    startedAt: new Date(),
    notes: [],
  };
  const finish = (results: GradeResults): void => {
    writeGradeOutputs(outDir, results);
    ctx.out(renderMarkdown(results));
    ctx.out(`results: ${path.relative(process.cwd(), outDir) || "."}/results.json, junit.xml, summary.md`);
  };

  if (input.tamper.noLock || input.tamper.machinery.length > 0) {
    const what = input.tamper.noLock ? "course.lock.json is missing" : input.tamper.machinery.map((m) => `${m.path} (${m.change})`).join(", ");
    finish(buildResults({ ...input, error: `refusing to grade: the course's protected files were changed: ${what}. Restore them from the course (git checkout upstream/main -- checker vitest.config.ts tsconfig.json course.lock.json exercises/*/tests exercises/*/week.json).` }));
    return EXIT_TAMPERED;
  }

  // The whole run is bounded: past the limit, what finished is written and everything started is killed.
  const deadline = setTimeout(() => {
    finish(buildResults({ ...input, error: `grading stopped at its time limit of ${options.timeLimitS} s; katas not reached score 0` }));
    killDescendants();
    process.exit(EXIT_COULD_NOT_GRADE);
  }, options.timeLimitS * 1000);
  deadline.unref();

  const katas = weeks.flatMap((w) => w.katas);
  const services = await resolveServicesFor(katas, (line) => ctx.err(ctx.style.dim(line)));
  try {
    input.services = services.resolved.map((s) => s.describe);
    ctx.err(ctx.style.dim("grade: type-checking…"));
    const typeErrors = await typecheck(ctx.course.root);
    const tamperedKatas = new Set(input.tamper.tests.map((t) => t.kata));
    for (const week of weeks) {
      ctx.err(ctx.style.dim(`grade: week${week.number} · ${week.title}`));
      const runnable = week.katas.filter((k) => !tamperedKatas.has(k.key));
      if (runnable.length === 0) continue;
      const run = await runKatas(ctx.course, runnable, { target: "exercises", services });
      for (const verdict of run.verdicts) {
        (input.verdicts as Map<string, KataVerdict>).set(verdict.kata.key, withTypeErrors(verdict, kataTypeErrors(verdict.kata, typeErrors)));
      }
      input.notes = [...input.notes, ...run.notes];
    }
  } finally {
    await services.stopAll();
    clearTimeout(deadline);
  }
  const missing = services.unavailable.map((u) => u.message);
  const results = buildResults({ ...input, ...(missing.length > 0 ? { error: `some katas could not run: ${missing.join(" · ")}` } : {}) });
  finish(results);
  if (results.status === "error") return EXIT_COULD_NOT_GRADE;
  if (!meetsMinimum(results, options.minScore)) {
    ctx.err(`score ${results.score}/${results.maxScore} is below the minimum ${options.minScore}`);
    return EXIT_BELOW_MIN;
  }
  return 0;
}
