import { resolveKata, resolveWeek, weekLabel } from "../course/select";
import { kataProgress, readProgress, updateProgress } from "../progress/store";
import type { CommandContext } from "./context";

/** `npm run hint week5 token-bucket`: the next hint of the ladder, with those shown before. */
export async function hintCommand(
  ctx: CommandContext,
  { week: weekArg, kata: kataArg }: { week: string; kata?: string | undefined },
): Promise<number> {
  const week = resolveWeek(ctx.course, weekArg);
  const progressNow = readProgress(ctx.course.root).progress;
  const kata = kataArg
    ? resolveKata(week, kataArg)
    : (week.katas.find((k) => progressNow.katas[k.key]?.status !== "passed") ?? week.katas[0]!);

  let shownBefore = 0;
  let shownNow = 0;
  await updateProgress(ctx.course.root, (progress) => {
    const entry = kataProgress(progress, kata.key);
    shownBefore = entry.hintsShown;
    entry.hintsShown = Math.min(kata.hints.length, entry.hintsShown + 1);
    shownNow = entry.hintsShown;
  });

  ctx.out(ctx.style.bold(`${weekLabel(week)} · ${kata.id}: ${kata.title}`));
  kata.hints.slice(0, shownNow).forEach((hint, index) => {
    const fresh = index >= shownBefore;
    const label = `hint ${index + 1}/${kata.hints.length}`;
    ctx.out("");
    ctx.out(fresh ? ctx.style.warn(`${label} (new)`) : ctx.style.dim(label));
    ctx.out(hint);
  });
  ctx.out("");
  if (shownBefore === kata.hints.length) {
    ctx.out(`that was every hint. next: npm run compare ${weekLabel(week)} ${kata.id}   (the reference, side by side)`);
  } else if (shownNow < kata.hints.length) {
    ctx.out(
      `next: npm run check ${weekLabel(week)} ${kata.id}   (or npm run hint ${weekLabel(week)} ${kata.id} for hint ${shownNow + 1})`,
    );
  } else {
    ctx.out(`next: npm run check ${weekLabel(week)} ${kata.id}   (that was the last hint)`);
  }
  return 0;
}
