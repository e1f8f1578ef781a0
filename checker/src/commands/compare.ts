import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { createTwoFilesPatch } from "diff";
import { resolveKata, resolveWeek, weekLabel } from "../course/select";
import { CheckerError } from "../errors";
import { readProgress } from "../progress/store";
import type { Style } from "../report/style";
import type { CommandContext } from "./context";

/** Colours a unified diff: the learner's lines red, the reference's green. */
export function colourDiff(patch: string, style: Style): string {
  return patch
    .split("\n")
    .map((line) => {
      if (line.startsWith("+++") || line.startsWith("---")) return style.bold(line);
      if (line.startsWith("+")) return style.ok(line);
      if (line.startsWith("-")) return style.bad(line);
      if (line.startsWith("@@")) return style.dim(line);
      return line;
    })
    .join("\n");
}

async function confirmSpoiler(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** `npm run compare week5 token-bucket`: the learner's files beside the reference, as a unified diff. */
export async function compareCommand(
  ctx: CommandContext,
  { week: weekArg, kata: kataArg, yes }: { week: string; kata: string; yes: boolean },
): Promise<number> {
  const week = resolveWeek(ctx.course, weekArg);
  const kata = resolveKata(week, kataArg);
  const label = `${weekLabel(week)} ${kata.id}`;

  const passed = readProgress(ctx.course.root).progress.katas[kata.key]?.status === "passed";
  if (!passed && !yes) {
    if (!process.stdin.isTTY) {
      throw new CheckerError(
        "E_SPOILER",
        `${label} does not pass yet, and the reference is a spoiler`,
        `npm run compare ${label} --yes`,
      );
    }
    const ok = await confirmSpoiler(
      `${label} does not pass yet. The reference solution is a spoiler; show it anyway? [y/N] `,
    );
    if (!ok) {
      ctx.out(`kept it hidden. next: npm run hint ${label}`);
      return 0;
    }
  }

  if (!existsSync(week.solutionDir)) {
    throw new CheckerError(
      "E_NO_REFERENCE",
      "this copy of the course has no reference solutions: they are with your teacher",
      `npm run hint ${label}`,
    );
  }
  for (const file of kata.files) {
    const mine = path.join(week.dir, file);
    const reference = path.join(week.solutionDir, file);
    if (!existsSync(reference))
      throw new CheckerError(
        "E_USAGE",
        `the reference ${path.relative(ctx.course.root, reference)} is missing from this copy of the course`,
      );
    const left = existsSync(mine) ? readFileSync(mine, "utf8") : "";
    const right = readFileSync(reference, "utf8");
    const patch = createTwoFilesPatch(`yours/${file}`, `reference/${file}`, left, right, undefined, undefined, {
      context: 3,
    });
    ctx.out(left === right ? ctx.style.ok(`${file}: identical to the reference`) : colourDiff(patch, ctx.style));
  }
  ctx.out(`next: npm run check ${label}`);
  return 0;
}
