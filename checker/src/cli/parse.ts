import { parseArgs } from "node:util";
import { CheckerError } from "../errors";
import { invocation, synopsis, type CommandSpec, type Parsed } from "./spec";

export type ParseOutcome = { help: true } | { help: false; parsed: Parsed };

/** npm keeps `--flags` before `--` for itself and passes them on as npm_config_<name>. */
function npmTwin(name: string, type: "string" | "boolean", env: NodeJS.ProcessEnv): string | boolean | undefined {
  if (name.startsWith("no-") && type === "boolean")
    return env[`npm_config_${name.slice(3).replace(/-/g, "_")}`] === "false" ? true : undefined;
  const value = env[`npm_config_${name.replace(/-/g, "_")}`];
  if (value === undefined || value === "") return undefined;
  return type === "boolean" ? value === "true" : value;
}

/** What parsing needs of a command's declaration. */
export type ParseSpec = Pick<CommandSpec, "name" | "args" | "flags" | "viaCourse">;

function usageError(spec: ParseSpec, message: string): CheckerError {
  return new CheckerError(
    "E_USAGE",
    `${spec.name}: ${message}`,
    `${invocation(spec)} --help   (usage: ${synopsis(spec)})`,
  );
}

/** Parses a command's words against its declaration; every mistake is a usage error naming the command. */
export function parseCommandLine(
  spec: ParseSpec,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParseOutcome {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, flag] of Object.entries(spec.flags))
    options[name] = { type: flag.type, ...(flag.short ? { short: flag.short } : {}) };
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    });
  } catch (error) {
    throw usageError(spec, (error as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
  if (values.help) return { help: true };

  const args: Record<string, string | undefined> = {};
  let rest: string[] = [];
  spec.args.forEach((arg, index) => {
    if (arg.variadic) rest = positionals.slice(index);
    else args[arg.name] = positionals[index];
    if (arg.required && (arg.variadic ? rest.length === 0 : args[arg.name] === undefined))
      throw usageError(spec, `name ${arg.description}`);
  });
  const accepted = spec.args.some((a) => a.variadic) ? positionals.length : spec.args.length;
  if (positionals.length > accepted) throw usageError(spec, `unexpected ${positionals.slice(accepted).join(" ")}`);

  const flags: Record<string, string | boolean | undefined> = {};
  for (const [name, flag] of Object.entries(spec.flags)) flags[name] = values[name] ?? npmTwin(name, flag.type, env);
  return { help: false, parsed: { args, rest, flags } };
}
