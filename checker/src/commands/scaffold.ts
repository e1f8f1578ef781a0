import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { WEEK_FOLDER } from "../course/load";
import { resolveWeek, weekLabel } from "../course/select";
import { CheckerError } from "../errors";
import { computeLock, writeLock } from "../integrity/course-lock";
import { loadCourse } from "../course/load";
import type { CommandContext } from "./context";
import { kataFiles, weekFiles } from "./scaffold-templates";

// `course new` and `course new-week`: what a maintainer used to copy from another kata, with the
// conventions written down once. The result fails `verify` exactly where the author must write:
// hints are placeholders without a link, the skeleton and the solution both throw, the test is a
// stub that names what to specify.

const KATA_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

function writeNew(file: string, content: string): void {
  if (existsSync(file)) throw new CheckerError("E_USAGE", `${file} exists already; the scaffolder never overwrites`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function refreshLock(ctx: CommandContext): void {
  writeLock(ctx.course.root, computeLock(loadCourse(ctx.course.root)));
}

/** `npm run course -- new week5 leaky-bucket`. Appends the kata last: order is what learners see, and inserting renumbers. */
export async function newKataCommand(
  ctx: CommandContext,
  { week: weekArg, kata: id }: { week: string; kata: string },
): Promise<number> {
  const week = resolveWeek(ctx.course, weekArg);
  if (!KATA_ID.test(id)) throw new CheckerError("E_USAGE", `kata ids are kebab-case (token-bucket), not "${id}"`);
  if (week.katas.some((k) => k.id === id))
    throw new CheckerError("E_USAGE", `${weekLabel(week)} already has a kata ${id}`);
  const files = kataFiles(id, week.number);
  const manifestPath = path.join(week.dir, "week.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { katas: unknown[] };
  for (const { rel, content, side } of files.files)
    writeNew(path.join(side === "solution" ? week.solutionDir : week.dir, rel), content);
  manifest.katas.push(files.manifestEntry);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const readme = path.join(week.dir, "README.md");
  writeFileSync(readme, `${readFileSync(readme, "utf8").trimEnd()}\n\n${files.readmeSection}`);
  refreshLock(ctx);
  ctx.out(
    `new kata ${weekLabel(week)} ${id}: skeleton, test, solution, manifest entry and README section written; lock refreshed`,
  );
  ctx.out(`next: write the test, the solution and the hints, then npm run verify ${weekLabel(week)} ${id}`);
  return 0;
}

/** `npm run course -- new-week 13-graphql`. */
export async function newWeekCommand(ctx: CommandContext, { folder: input }: { folder: string }): Promise<number> {
  const folder = input.startsWith("week") ? input : `week${input}`;
  const match = WEEK_FOLDER.exec(folder);
  if (!match)
    throw new CheckerError(
      "E_USAGE",
      `a week folder is NN-topic (two digits, kebab-case), not "${input}"`,
      "npm run course -- new-week 13-graphql",
    );
  if (ctx.course.weeks.some((w) => w.number === Number(match[1])))
    throw new CheckerError("E_USAGE", `week ${Number(match[1])} exists already`);
  for (const { rel, content } of weekFiles(match[2]!))
    writeNew(path.join(ctx.course.root, "exercises", folder, rel), content);
  mkdirSync(path.join(ctx.course.root, "solutions", folder, "src"), { recursive: true });
  ctx.out(
    `new week ${folder}: README.md and week.json written (with no katas yet, the course skips it until the first)`,
  );
  ctx.out(`next: npm run course -- new week${Number(match[1])} <kata-id>`);
  return 0;
}
