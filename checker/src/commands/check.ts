import { existsSync } from "node:fs";
import path from "node:path";
import type { Course, Kata, Week } from "../course/model";
import { resolveKata, resolveWeek, weekLabel } from "../course/select";
import { CheckerError } from "../errors";
import { kataProgress, readProgress, updateProgress } from "../progress/store";
import { renderCheckReport } from "../report/check-report";
import { runKatas } from "../runner/run-katas";
import { withTypeErrors, type KataVerdict } from "../runner/verdicts";
import { kataTypeErrors, typecheck } from "../verify/typecheck";
import type { CommandContext } from "./context";
import { renderOverview } from "./overview";

/** Picks the week and, optionally, one kata of it from the command line's words. */
export function selectKatas(course: Course, args: readonly string[]): { week: Week; katas: Kata[] } {
  const [weekArg, kataArg, ...rest] = args;
  if (!weekArg) throw new CheckerError("E_USAGE", "name a week", "npm run check week1");
  if (rest.length > 0) throw new CheckerError("E_USAGE", `unexpected arguments: ${rest.join(" ")}`, "npm run check week5 token-bucket");
  const week = resolveWeek(course, weekArg);
  return { week, katas: kataArg ? [resolveKata(week, kataArg)] : [...week.katas] };
}

/** The one "next:" line: what the learner should type now. */
export function nextStep(course: Course, week: Week, verdicts: readonly KataVerdict[], hintsShown: (kata: Kata) => number): string {
  const label = weekLabel(week);
  const failing = verdicts.find((v) => v.status === "failed");
  if (failing) {
    const shown = hintsShown(failing.kata);
    return shown < failing.kata.hints.length
      ? `npm run hint ${label} ${failing.kata.id}   (hint ${shown + 1} of ${failing.kata.hints.length})`
      : `npm run watch ${label}   (re-runs on save; all hints shown, \`npm run compare ${label} ${failing.kata.id}\` shows the reference)`;
  }
  const blocked = verdicts.find((v) => v.status === "not-run");
  if (blocked) return `start the service ${blocked.kata.id} needs (see above), then npm run check ${label}`;
  const lastChecked = verdicts[verdicts.length - 1]!.kata;
  const index = week.katas.indexOf(lastChecked);
  const nextKata = week.katas[index + 1];
  if (nextKata) return `npm run check ${label} ${nextKata.id}`;
  const nextWeek = course.weeks[course.weeks.indexOf(week) + 1];
  return nextWeek ? `npm run check ${weekLabel(nextWeek)}   (${weekLabel(week)} done: on to ${nextWeek.title})` : "npm run check   (the course is done: well played)";
}

/** `npm run check [week] [kata]`: runs the learner's code and records progress. Returns the exit code. */
export async function checkCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  if (args.length === 0) {
    ctx.out(renderOverview(ctx.course, readProgress(ctx.course.root).progress, ctx.style));
    return 0;
  }
  const { week, katas } = selectKatas(ctx.course, args);
  const tested = await runKatas(ctx.course, katas, { target: "exercises", log: (line) => ctx.err(ctx.style.dim(line)) });
  // Only a kata whose tests all pass can change its verdict on a type error, so only those
  // files are type-checked: a learner still working on a kata pays nothing for it.
  const passing = tested.verdicts.filter((v) => v.status === "passed").map((v) => v.kata);
  const ownFiles = passing.flatMap((k) => [...k.files, ...k.tests].map((f) => path.join(week.dir, f))).filter((f) => existsSync(f));
  const errors = ownFiles.length > 0 ? await typecheck(ctx.course.root, ownFiles) : { errors: [], imports: new Map() };
  const run = { ...tested, verdicts: tested.verdicts.map((v) => withTypeErrors(v, kataTypeErrors(v.kata, errors))) };

  const now = new Date().toISOString();
  const saved = await updateProgress(ctx.course.root, (progress) => {
    for (const verdict of run.verdicts) {
      if (verdict.status === "not-run") continue;
      const entry = kataProgress(progress, verdict.kata.key);
      entry.runs += 1;
      entry.lastRunAt = now;
      entry.status = verdict.status;
      if (verdict.status === "passed") entry.firstPassedAt ??= now;
    }
  });
  if (saved.notice) ctx.err(saved.notice);

  ctx.out(
    renderCheckReport({
      week,
      verdicts: run.verdicts,
      notes: run.notes,
      next: nextStep(ctx.course, week, run.verdicts, (kata) => saved.progress.katas[kata.key]?.hintsShown ?? 0),
      style: ctx.style,
    }),
  );
  return run.verdicts.every((v) => v.status === "passed") && run.notes.length === 0 ? 0 : 1;
}
