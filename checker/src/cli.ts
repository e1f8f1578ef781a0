import { COMMANDS } from "./cli/commands";
import { renderHelp, renderUsage } from "./cli/help";
import { parseCommandLine } from "./cli/parse";
import { createContext } from "./commands/context";
import { closest } from "./course/select";
import { CheckerError, isCheckerError } from "./errors";

export function usage(): string {
  return renderUsage(COMMANDS);
}

/** Runs one command line; returns the process exit code. User mistakes are one line, bugs a stack. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...words] = argv;
  try {
    if (!name || name === "help" || name === "--help" || name === "-h") {
      const topic = name === "help" ? COMMANDS.find((c) => c.name === words[0]) : undefined;
      process.stdout.write(`${topic ? renderHelp(topic) : usage()}\n`);
      return name ? 0 : 1;
    }
    const spec = COMMANDS.find((c) => c.name === name);
    if (!spec) {
      const guess = closest(
        name,
        COMMANDS.map((c) => c.name),
      );
      throw new CheckerError(
        "E_UNKNOWN_COMMAND",
        `no command "${name}"${guess ? `; did you mean ${guess}?` : ""}`,
        "npm run course help",
      );
    }
    const outcome = parseCommandLine(spec, words);
    if (outcome.help) {
      process.stdout.write(`${renderHelp(spec)}\n`);
      return 0;
    }
    return await spec.run(createContext(), outcome.parsed);
  } catch (error) {
    if (isCheckerError(error)) {
      process.stderr.write(`error ${error.code}: ${error.message}${error.next ? ` · next: ${error.next}` : ""}\n`);
      return 1;
    }
    throw error;
  }
}
