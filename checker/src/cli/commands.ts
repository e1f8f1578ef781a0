import { checkCommand } from "../commands/check";
import { compareCommand } from "../commands/compare";
import { docsCommand } from "../commands/docs";
import { gradeCommand } from "../commands/grade";
import { hintCommand } from "../commands/hint";
import { lockCommand } from "../commands/lock";
import { mergeCommand } from "../commands/merge";
import { newKataCommand, newWeekCommand } from "../commands/scaffold";
import { resetCommand } from "../commands/reset";
import { starterCommand } from "../commands/starter";
import { benchCommand } from "../commands/bench";
import { mutateCommand } from "../commands/tools";
import { verifyCommand } from "../commands/verify";
import { watchCommand } from "../commands/watch";
import { GRADE_ARGS, GRADE_FLAGS, gradeOptions } from "../grade/options";
import type { ArgSpec, CommandSpec, Parsed } from "./spec";

const WEEK: ArgSpec = { name: "week", description: "a week (5, week5, week05 or rate-limiting)" };
const KATA: ArgSpec = { name: "kata", description: "a kata of that week (its id, or its number)" };
const required = (arg: ArgSpec): ArgSpec => ({ ...arg, required: true });
const str = (parsed: Parsed, name: string) => parsed.args[name];

/** Every command of the checker, declared once, in the order `help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "check",
    summary: "run your code: a week, or one kata (no week: your progress overview)",
    audience: "learner",
    args: [WEEK, KATA],
    flags: { all: { type: "boolean", description: "show the message of every failing test, not only the first" } },
    examples: ["npm run check week5", "npm run check week5 token-bucket", "npm run check"],
    run: (ctx, p) => checkCommand(ctx, { week: str(p, "week"), kata: str(p, "kata"), all: p.flags.all === true }),
  },
  {
    name: "watch",
    summary: "re-run the check on every save; Ctrl-C to quit",
    audience: "learner",
    args: [required(WEEK), KATA],
    flags: {},
    examples: ["npm run watch week5"],
    run: (ctx, p) => watchCommand(ctx, { week: str(p, "week")!, kata: str(p, "kata") }),
  },
  {
    name: "hint",
    summary: "the next hint of the kata's ladder (and the ones shown before)",
    audience: "learner",
    args: [required(WEEK), KATA],
    flags: {},
    examples: ["npm run hint week5 token-bucket"],
    run: (ctx, p) => hintCommand(ctx, { week: str(p, "week")!, kata: str(p, "kata") }),
  },
  {
    name: "compare",
    summary: "your files beside the reference solution, as a diff (it asks first while the kata fails: a spoiler)",
    audience: "learner",
    args: [required(WEEK), required(KATA)],
    flags: { yes: { type: "boolean", short: "y", description: "do not ask before showing a spoiler" } },
    examples: ["npm run compare week5 token-bucket"],
    run: (ctx, p) => compareCommand(ctx, { week: str(p, "week")!, kata: str(p, "kata")!, yes: p.flags.yes === true }),
  },
  {
    name: "reset",
    summary: "restore the kata's skeleton; your version is saved under .backup/ first",
    audience: "learner",
    args: [required(WEEK), required(KATA)],
    flags: {},
    examples: ["npm run reset week5 token-bucket"],
    run: (ctx, p) => resetCommand(ctx, { week: str(p, "week")!, kata: str(p, "kata")! }),
  },
  {
    name: "grade",
    summary: "grade the whole repository headlessly, for CI: results.json, junit.xml, summary.md",
    audience: "teacher",
    args: GRADE_ARGS,
    flags: GRADE_FLAGS,
    examples: ["npm run grade", "npm run grade -- week1 week2 --min-score 80% --time-limit 1800"],
    run: (ctx, p) => gradeCommand(ctx, gradeOptions(p)),
  },
  {
    name: "merge-grades",
    summary: "merge the results of several grade jobs (a matrix) into one score",
    audience: "teacher",
    viaCourse: true,
    args: [{ name: "results", description: "results folders or results.json files", variadic: true, required: true }],
    flags: { out: { type: "string", value: "<dir>", description: "where the merged results go (default grade)" } },
    examples: ["npm run course -- merge-grades grade-week* --out grade"],
    run: (ctx, p) =>
      mergeCommand(ctx, { inputs: [...p.rest], out: typeof p.flags.out === "string" ? p.flags.out : "grade" }),
  },
  {
    name: "starter",
    summary: "write a learner's starter repository, without solutions/",
    audience: "teacher",
    viaCourse: true,
    args: [{ name: "dir", description: "an empty or new folder outside the course", required: true }],
    flags: {},
    examples: ["npm run course -- starter ../course-starter"],
    run: (ctx, p) => starterCommand(ctx, { dir: str(p, "dir")! }),
  },
  {
    name: "verify",
    summary: "the course's gate: every test fails on the skeleton and passes on the solution",
    audience: "maintainer",
    args: [
      {
        name: "selection",
        description: "weeks, each optionally followed by katas of it (all by default)",
        variadic: true,
      },
    ],
    flags: {},
    examples: ["npm run verify week5", "npm run verify week5 token-bucket week6"],
    run: (ctx, p) => verifyCommand(ctx, [...p.rest]),
  },
  {
    name: "mutate",
    summary: "mutation testing (Stryker) of a week's solutions, or of one kata's files",
    audience: "maintainer",
    args: [required(WEEK), KATA],
    flags: {},
    examples: ["npm run mutate week5", "npm run mutate week5 token-bucket"],
    run: (ctx, p) => mutateCommand(ctx, { week: str(p, "week")!, kata: str(p, "kata") }),
  },
  {
    name: "bench",
    summary:
      "the weeks' benchmarks: each reference solution against the library a professional would use, interleaved (docs/bench/)",
    audience: "maintainer",
    args: [{ name: "weeks", description: "weeks to benchmark (all by default)", variadic: true }],
    flags: {},
    examples: ["npm run bench week5"],
    run: (ctx, p) => benchCommand(ctx, [...p.rest]),
  },
  {
    name: "new",
    summary: "scaffold a kata: skeleton, test, solution, manifest entry with hint placeholders, README section",
    audience: "maintainer",
    viaCourse: true,
    args: [required(WEEK), { name: "kata", description: "the new kata's id, kebab-case", required: true }],
    flags: {},
    examples: ["npm run course -- new week5 leaky-bucket"],
    run: (ctx, p) => newKataCommand(ctx, { week: str(p, "week")!, kata: str(p, "kata")! }),
  },
  {
    name: "new-week",
    summary: "scaffold a week folder (README, manifest) to add katas to",
    audience: "maintainer",
    viaCourse: true,
    args: [{ name: "folder", description: "NN-topic, e.g. 13-graphql", required: true }],
    flags: {},
    examples: ["npm run course -- new-week 13-graphql"],
    run: (ctx, p) => newWeekCommand(ctx, { folder: str(p, "folder")! }),
  },
  {
    name: "docs",
    summary:
      "rewrite what README.md, CONTRIBUTING.md and the grading matrix restate of the course (weeks, commands, settings)",
    audience: "maintainer",
    viaCourse: true,
    args: [],
    flags: {},
    examples: ["npm run course -- docs"],
    run: (ctx) => docsCommand(ctx),
  },
  {
    name: "lock",
    summary: "rewrite course.lock.json after changing tests, fixtures or the checker",
    audience: "maintainer",
    viaCourse: true,
    args: [],
    flags: {},
    examples: ["npm run course -- lock"],
    run: (ctx) => lockCommand(ctx),
  },
];
