import path from "node:path";
import { weekLabel } from "../course/select";
import { resolveServicesFor, testFiles } from "../runner/run-katas";
import type { Owner } from "../runner/judge";
import { notRun, verdictFor, type KataVerdict } from "../runner/verdicts";
import { startWatchSession } from "../runner/watch-session";
import { serviceEnv } from "../services";
import { blockedReason } from "../runner/run-katas";
import { reportRun, selectKatas } from "./check";
import type { CommandContext } from "./context";

/**
 * `npm run watch week5 [kata]`: runs the check, then again after every save, until Ctrl-C.
 * One vitest stays up for the whole session, so a re-run costs the tests that import the
 * saved file and nothing more.
 */
export async function watchCommand(
  ctx: CommandContext,
  options: { week: string; kata?: string | undefined },
): Promise<number> {
  const { week, katas } = selectKatas(ctx.course, options.week, options.kata);
  const clear = () => process.stdout.isTTY && process.stdout.write("\u001b[2J\u001b[3J\u001b[H");
  const services = await resolveServicesFor(katas, (line) => ctx.err(ctx.style.dim(line)));
  const verdicts = new Map<string, KataVerdict>();
  const owners = new Map<string, Owner>();
  for (const kata of katas) {
    const reason = blockedReason(kata, services);
    if (reason) verdicts.set(kata.key, notRun(kata, reason));
    else for (const file of testFiles(ctx.course, kata)) owners.set(file, { week: kata.weekId, kata: kata.id });
  }
  const srcDir = path.relative(ctx.course.root, path.join(week.dir, "src"));
  const session = await startWatchSession({
    root: ctx.course.root,
    target: "exercises",
    owners,
    env: serviceEnv(services),
    onRun: async (result, files) => {
      clear();
      // A re-run covers the files that import what changed; the other katas keep their verdicts.
      const rerun = new Set(files.map((f) => owners.get(f)!.kata));
      for (const kata of katas.filter((k) => rerun.has(k.id))) verdicts.set(kata.key, verdictFor(kata, result.tests));
      const shown = katas.map((k) => verdicts.get(k.key)).filter((v): v is KataVerdict => v !== undefined);
      await reportRun(ctx, week, shown, result.notes, false);
      ctx.out(ctx.style.dim(`\nwatching ${srcDir}/ for changes · Ctrl-C to quit`));
    },
  });
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await session.close();
  await services.stopAll();
  ctx.out(`\nstopped watching ${weekLabel(week)}.`);
  return 0;
}
