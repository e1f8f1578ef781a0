import { existsSync } from "node:fs";
import path from "node:path";
import type { Course, Kata, Week } from "../course/model";
import { resolveKata, resolveWeek, weekLabel } from "../course/select";
import { kataProgress, readProgress, updateProgress } from "../progress/store";
import { renderCheckReport } from "../report/check-report";
import { runKatas } from "../runner/run-katas";
import { withTypeErrors, type KataVerdict } from "../runner/verdicts";
import { kataTypeErrors, typecheck } from "../verify/typecheck";
import type { CommandContext } from "./context";
import { renderOverview } from "../report/overview";

export interface CheckOptions {
  week?: string | undefined;
  kata?: string | undefined;
  /** Every failing test's message, not only the first. */
  all?: boolean;
}

/** Picks the week and, optionally, one kata of it. */
export function selectKatas(course: Course, weekArg: string, kataArg?: string): { week: Week; katas: Kata[] } {
  const week = resolveWeek(course, weekArg);
  return { week, katas: kataArg ? [resolveKata(week, kataArg)] : [...week.katas] };
}

/**
 * The one "next:" line: what the learner should type now, from the whole week's progress
 * (passing holds every kata of the course that passes, this run's included).
 */
export function nextStep(
  course: Course,
  week: Week,
  verdicts: readonly KataVerdict[],
  passing: ReadonlySet<string>,
  hintsShown: (kata: Kata) => number,
): string {
  const label = weekLabel(week);
  const failing = verdicts.find((v) => v.status === "failed");
  if (failing) {
    const first = failing.kata.buildsOn.find((id) => !passing.has(`${week.id}/${id}`));
    if (first) return `npm run check ${label} ${first}   (${failing.kata.id} builds on ${first}: do it first)`;
    const shown = hintsShown(failing.kata);
    return shown < failing.kata.hints.length
      ? `npm run hint ${label} ${failing.kata.id}   (hint ${shown + 1} of ${failing.kata.hints.length})`
      : `npm run watch ${label}   (re-runs on save; all hints shown, \`npm run compare ${label} ${failing.kata.id}\` shows the reference)`;
  }
  const blocked = verdicts.find((v) => v.status === "not-run");
  if (blocked) return `start the service ${blocked.kata.id} needs (see above), then npm run check ${label}`;
  const todo = week.katas.find((k) => !passing.has(k.key));
  if (todo) return `npm run check ${label} ${todo.id}   (${todo.title})`;
  const nextWeek = course.weeks
    .slice(course.weeks.indexOf(week) + 1)
    .find((w) => w.katas.some((k) => !passing.has(k.key)));
  if (nextWeek) return `npm run check ${weekLabel(nextWeek)}   (${label} done: on to ${nextWeek.title})`;
  const unfinished = course.weeks.find((w) => w.katas.some((k) => !passing.has(k.key)));
  return unfinished
    ? `npm run check ${weekLabel(unfinished)}   (${label} done; ${weekLabel(unfinished)} still has katas to do)`
    : "npm run check   (the course is done: well played)";
}

/** `npm run check [week] [kata]`: runs the learner's code and records progress. Returns the exit code. */
export async function checkCommand(ctx: CommandContext, options: CheckOptions): Promise<number> {
  if (options.week === undefined) {
    ctx.out(renderOverview(ctx.course, readProgress(ctx.course.root).progress, ctx.style));
    return 0;
  }
  const { week, katas } = selectKatas(ctx.course, options.week, options.kata);
  const tested = await runKatas(ctx.course, katas, {
    target: "exercises",
    log: (line) => ctx.err(ctx.style.dim(line)),
  });
  return reportRun(ctx, week, tested.verdicts, tested.notes, options.all === true);
}

/**
 * What check does with a run's verdicts (watch too, after every save): type-checks the katas
 * that passed, records progress, prints the report with the next step. Returns the exit code.
 */
export async function reportRun(
  ctx: CommandContext,
  week: Week,
  verdicts: readonly KataVerdict[],
  notes: readonly string[],
  all: boolean,
): Promise<number> {
  // Only a kata whose tests all pass can change its verdict on a type error, so only those
  // files are type-checked: a learner still working on a kata pays nothing for it.
  const passedNow = verdicts.filter((v) => v.status === "passed").map((v) => v.kata);
  const ownFiles = passedNow
    .flatMap((k) => [...k.files, ...k.tests].map((f) => path.join(week.dir, f)))
    .filter((f) => existsSync(f));
  const errors = ownFiles.length > 0 ? await typecheck(ctx.course.root, ownFiles) : { errors: [], imports: new Map() };
  const judged = verdicts.map((v) => withTypeErrors(v, kataTypeErrors(v.kata, errors)));

  const now = new Date().toISOString();
  const saved = await updateProgress(ctx.course.root, (progress) => {
    for (const verdict of judged) {
      if (verdict.status === "not-run") continue;
      const entry = kataProgress(progress, verdict.kata.key);
      entry.runs += 1;
      entry.lastRunAt = now;
      entry.status = verdict.status;
      if (verdict.status === "passed") entry.firstPassedAt ??= now;
    }
  });
  if (saved.notice) ctx.err(saved.notice);

  const passing = new Set(
    Object.entries(saved.progress.katas)
      .filter(([, entry]) => entry.status === "passed")
      .map(([key]) => key),
  );
  ctx.out(
    renderCheckReport({
      week,
      verdicts: judged,
      notes,
      next: nextStep(ctx.course, week, judged, passing, (kata) => saved.progress.katas[kata.key]?.hintsShown ?? 0),
      style: ctx.style,
      all,
      passing: new Set(week.katas.filter((k) => passing.has(k.key)).map((k) => k.id)),
    }),
  );
  return judged.every((v) => v.status === "passed") && notes.length === 0 ? 0 : 1;
}
