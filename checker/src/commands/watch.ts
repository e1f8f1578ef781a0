import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import { weekLabel } from "../course/select";
import { CheckerError } from "../errors";
import { checkCommand, selectKatas } from "./check";
import type { CommandContext } from "./context";

const DEBOUNCE_MS = 150;

/** `npm run watch week5 [kata]`: re-runs the check on every save of the week's src, until Ctrl-C. */
export async function watchCommand(
  ctx: CommandContext,
  options: { week: string; kata?: string | undefined },
): Promise<number> {
  const { week } = selectKatas(ctx.course, options.week, options.kata);
  const srcDir = path.join(week.dir, "src");
  const clear = () => process.stdout.isTTY && process.stdout.write("\u001b[2J\u001b[3J\u001b[H");

  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    clear();
    try {
      await checkCommand(ctx, options);
    } catch (error) {
      // A learner's mistake (say, a deleted test) must not end the watch; a bug still shows its stack.
      ctx.err(
        error instanceof CheckerError ? `${error.code}: ${error.message}` : String((error as Error).stack ?? error),
      );
    }
    ctx.out(ctx.style.dim(`\nwatching ${path.relative(ctx.course.root, srcDir)}/ for changes · Ctrl-C to quit`));
    running = false;
    if (again) {
      again = false;
      void run();
    }
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(srcDir, { recursive: true }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void run(), DEBOUNCE_MS);
    });
  } catch (error) {
    throw new CheckerError(
      "E_USAGE",
      `cannot watch ${srcDir}: ${(error as Error).message}`,
      `npm run check ${weekLabel(week)}`,
    );
  }
  await run();
  await new Promise<void>((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      watcher.close();
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      ctx.out("\nstopped watching.");
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
}
