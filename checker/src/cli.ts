import { checkCommand } from "./commands/check";
import { compareCommand } from "./commands/compare";
import { createContext, type CommandContext } from "./commands/context";
import { gradeCommand } from "./commands/grade";
import { hintCommand } from "./commands/hint";
import { lockCommand } from "./commands/lock";
import { mergeCommand } from "./commands/merge";
import { resetCommand } from "./commands/reset";
import { starterCommand } from "./commands/starter";
import { benchCommand, mutateCommand } from "./commands/tools";
import { verifyCommand } from "./commands/verify";
import { watchCommand } from "./commands/watch";
import { closest } from "./course/select";
import { CheckerError, isCheckerError } from "./errors";

type Command = (ctx: CommandContext, args: readonly string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  check: { run: checkCommand, usage: "check [week] [kata]     run your code; no week: progress overview" },
  watch: { run: watchCommand, usage: "watch <week> [kata]     re-run on every save" },
  hint: { run: hintCommand, usage: "hint <week> [kata]      the next hint of the ladder" },
  compare: { run: compareCommand, usage: "compare <week> <kata>   your files beside the reference (--yes before it passes)" },
  reset: { run: resetCommand, usage: "reset <week> <kata>     restore the skeleton (yours is backed up first)" },
  grade: { run: gradeCommand, usage: "grade [week...]         grade the whole repository for CI (-- --out DIR --min-score 80% --time-limit S)" },
  verify: { run: verifyCommand, usage: "verify [week...]        the course's gate (maintainers)" },
  mutate: { run: mutateCommand, usage: "mutate <week>           mutation testing of a week's solutions (maintainers)" },
  bench: { run: benchCommand, usage: "bench [week...]         benchmarks against the reference solutions" },
  "merge-grades": { run: mergeCommand, usage: "merge-grades <dir>...   merge the results of several grade jobs (-- --out DIR)" },
  lock: { run: (ctx) => lockCommand(ctx), usage: "lock                    rewrite course.lock.json (maintainers)" },
  starter: { run: starterCommand, usage: "starter <dir>           write a learner's starter repository, without solutions/ (teachers)" },
};

export function usage(): string {
  return ["usage: npm run <command> [args]", "", ...Object.values(COMMANDS).map((c) => `  ${c.usage}`)].join("\n");
}

/** Runs one command line; returns the process exit code. User mistakes are one line, bugs a stack. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage() + "\n");
    return name ? 0 : 1;
  }
  try {
    const command = COMMANDS[name];
    if (!command) {
      const guess = closest(name, Object.keys(COMMANDS));
      throw new CheckerError("E_UNKNOWN_COMMAND", `no command "${name}"${guess ? `; did you mean ${guess}?` : ""}`, "npm run course help");
    }
    return await command.run(createContext(), args);
  } catch (error) {
    if (isCheckerError(error)) {
      process.stderr.write(`error ${error.code}: ${error.message}${error.next ? ` · next: ${error.next}` : ""}\n`);
      return 1;
    }
    throw error;
  }
}
